"""The network as deployed: the model's main output followed by the output op, converted with
``paddle.jit.to_static`` and saved in Paddle 3's format (``model.json`` + ``model.pdiparams``)."""
from __future__ import annotations

import os
from typing import Sequence

import numpy as np
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
        logits_layer: The name of a direct sublayer of ``model`` whose output the head returns
            instead of the model's (see ``final_resize_source``): the logits before the model's
            final upsample to the input size. The upsample is then dead code and
            ``paddle.jit.save`` prunes it from the exported graph. Call ``remove_hook`` when done.
    """

    def __init__(self, model: nn.Layer, output_op: str = "softmax",
                 logits_layer: str | None = None):
        super().__init__()
        if output_op not in OUTPUT_OPS:
            raise ConfigError(f"output_op must be one of {', '.join(OUTPUT_OPS)}; got "
                              f"{output_op!r}")
        self.model = model
        self.output_op = output_op
        self.logits_layer = logits_layer
        self._captured: list = []
        self._hook = None
        if logits_layer is not None:
            self._hook = getattr(model, logits_layer).register_forward_post_hook(
                lambda layer, inputs, output: self._captured.append(_first(output)))

    def remove_hook(self) -> None:
        """Detach the capture hook from ``model`` (a no-op without ``logits_layer``)."""
        if self._hook is not None:
            self._hook.remove()
            self._hook = None

    def forward(self, x):  # the argument must be named x: InputSpec matching uses the name
        self._captured.clear()
        logits = self.model(x)[0]
        if self.logits_layer is not None:
            logits = self._captured[-1]
        if self.output_op == "softmax":
            return F.softmax(logits, axis=1)
        if self.output_op == "argmax":
            return paddle.argmax(logits, axis=1, keepdim=True).astype("int32")
        return logits


def _first(output):
    """A layer's output tensor (the first one when it returns a list or tuple)."""
    return output[0] if isinstance(output, (list, tuple)) else output


def final_resize_source(model: nn.Layer, num_classes: int, img_channels: int = 3,
                        probe_hw: tuple[int, int] = (96, 160)) -> tuple[str, int]:
    """The direct sublayer of ``model`` whose output the model upsamples to the input size.

    Found by running ``model`` once on a random probe input and checking the last direct
    sublayer that ran: its output must have ``num_classes`` channels, a smaller size than the
    input, and bilinearly resized to the input size (``align_corners`` as the model's) it must
    equal the model's main logits. So the answer is verified, not assumed.

    Returns:
        ``(name, stride)``: the sublayer's name and input height / its output height (rounded).

    Raises:
        ConfigError: the model does not end with such a final upsample (nothing to skip).
    """
    calls: list[tuple[str, object]] = []
    hooks = [layer.register_forward_post_hook(
        lambda layer, inputs, output, name=name: calls.append((name, _first(output))))
        for name, layer in model.named_children()]
    was_training = model.training
    model.eval()
    try:
        x = paddle.to_tensor(np.random.default_rng(0).standard_normal(
            (1, img_channels) + tuple(probe_hw)).astype("float32"))
        with paddle.no_grad():
            main = _first(model(x))
    finally:
        for h in hooks:
            h.remove()
        if was_training:
            model.train()
    why = None
    if not calls:
        why = "it has no sublayers"
    else:
        name, out = calls[-1]
        if not isinstance(out, paddle.Tensor) or out.ndim != 4 or out.shape[1] != num_classes:
            why = (f"its last sublayer ({name!r}) does not output {num_classes}-channel logits")
        elif tuple(out.shape[2:]) == tuple(probe_hw):
            why = f"its last sublayer ({name!r}) already outputs the input size"
        else:
            up = F.interpolate(out, size=list(probe_hw), mode="bilinear",
                               align_corners=bool(getattr(model, "align_corners", False)))
            tol = 1e-4 * float(main.abs().max()) + 1e-12  # relative: random-init logits are tiny
            if tuple(up.shape) != tuple(main.shape) or float((up - main).abs().max()) > tol:
                why = (f"its output is not a bilinear upsample of its last sublayer's ({name!r}) "
                       f"output")
    if why is not None:
        raise ConfigError(f"--skip_final_resize: {type(model).__name__} does not end with an "
                          f"upsample of its logits to the input size ({why}); export it without "
                          f"--skip_final_resize.")
    return name, max(1, int(round(probe_hw[0] / out.shape[2])))


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
