"""The network as deployed: the model's main output followed by the output op, converted with
``paddle.jit.to_static`` and saved in Paddle 3's format (``model.json`` + ``model.pdiparams``)."""
from __future__ import annotations

import os
from typing import Sequence

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from humanseg.errors import ConfigError

OUTPUT_OPS = ("softmax", "argmax", "none")
INPUT_NAME = "x"
MODEL_FILENAME = "model.json"
PARAMS_FILENAME = "model.pdiparams"


class InferenceHead(nn.Layer):
    """``model``'s main logits [N, C, H, W] followed by ``output_op``.

    Args:
        model: A segmentation model returning a list of logits, the main one first.
        output_op: 'softmax' (float32 probabilities), 'argmax' (int32 labels [N, 1, H, W]) or
            'none' (float32 logits).
    """

    def __init__(self, model: nn.Layer, output_op: str = "softmax"):
        super().__init__()
        if output_op not in OUTPUT_OPS:
            raise ConfigError(f"output_op must be one of {', '.join(OUTPUT_OPS)}; got "
                              f"{output_op!r}")
        self.model = model
        self.output_op = output_op

    def forward(self, x):  # the argument must be named x: InputSpec matching uses the name
        logits = self.model(x)[0]
        if self.output_op == "softmax":
            return F.softmax(logits, axis=1)
        if self.output_op == "argmax":
            return paddle.argmax(logits, axis=1, keepdim=True).astype("int32")
        return logits


def parse_input_shape(values: Sequence[str] | None, img_channels: int = 3) -> list[int]:
    """``--input_shape N C H W`` as ints (-1 = dynamic); the default is ``[-1, C, -1, -1]``.

    Raises:
        ConfigError: not four integers, a size below -1 or 0, or C unlike the model's channels.
    """
    if values is None:
        return [-1, img_channels, -1, -1]
    example = f"e.g. --input_shape 1 {img_channels} 224 398 (or -1 for a dynamic N, H or W)"
    try:
        shape = [int(v) for v in values]
    except (TypeError, ValueError):
        raise ConfigError(f"--input_shape needs four integers N C H W; got "
                          f"{' '.join(map(str, values))!r}; {example}") from None
    if len(shape) != 4 or any(v == 0 or v < -1 for v in shape):
        raise ConfigError(f"--input_shape needs four integers N C H W, each positive or -1 "
                          f"(dynamic); got {' '.join(map(str, values))!r}; {example}")
    if shape[1] != img_channels:
        raise ConfigError(f"--input_shape C={shape[1]} but the model takes {img_channels}-channel "
                          f"images (img_channels); {example}")
    return shape


def save_inference_model(head: InferenceHead, save_dir: str, input_shape: Sequence[int]) -> str:
    """Convert ``head`` with ``to_static`` (full graph) and save it under ``save_dir``.

    Returns:
        The path prefix (``save_dir/model``); the files are ``model.json`` and ``model.pdiparams``.
    """
    head.eval()
    spec = [paddle.static.InputSpec([None if v == -1 else int(v) for v in input_shape],
                                    "float32", INPUT_NAME)]
    static = paddle.jit.to_static(head, input_spec=spec, full_graph=True)
    prefix = os.path.join(save_dir, "model")
    paddle.jit.save(static, prefix)
    for name in (MODEL_FILENAME, PARAMS_FILENAME):
        if not os.path.isfile(os.path.join(save_dir, name)):
            raise RuntimeError(f"paddle.jit.save did not write {name} in {save_dir}")
    return prefix
