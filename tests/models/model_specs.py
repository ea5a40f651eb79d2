"""Registered models, how to build each small, and how many logits each returns (shared by the
model tests; import as ``from model_specs import ...``)."""
from __future__ import annotations

import numpy as np
import paddle

# name -> (config, outputs in training, outputs in evaluation). Every model in MODELS must be here.
REGISTERED = {
    "PPHumanSegLite": ({"type": "PPHumanSegLite", "num_classes": 2}, 1, 1),
    "FCN": ({"type": "FCN", "num_classes": 2, "backbone": {"type": "HRNet_W18_Small_V1"}}, 1, 1),
    "OCRNet": ({"type": "OCRNet", "num_classes": 3, "backbone_indices": [0],
                "ocr_mid_channels": 32, "ocr_key_channels": 16,
                "backbone": {"type": "HRNet_W18_Small_V1"}}, 2, 1),
    "FastSCNN": ({"type": "FastSCNN", "num_classes": 3}, 2, 2),
    # One logit per decoder stage in training (main first), the main one in evaluation.
    "PPLiteSeg": ({"type": "PPLiteSeg", "num_classes": 3, "arm_out_chs": [16, 24, 32],
                   "seg_head_inter_chs": [16], "cm_out_ch": 32,
                   "backbone": {"type": "STDC1"}}, 3, 1),
    "MobileSeg": ({"type": "MobileSeg", "num_classes": 2, "backbone_indices": [0, 1, 2, 3],
                   "arm_out_chs": [8, 16, 16, 32], "seg_head_inter_chs": [8], "cm_out_ch": 32,
                   "use_last_fuse": True, "backbone": {"type": "MobileNetV3_small_x0_35"}}, 4, 1),
}


def randomize(model: paddle.nn.Layer, seed: int) -> dict[str, np.ndarray]:
    """Give ``model`` random weights with O(1) activations: conv/linear weights ~ N(0, 1/fan_in),
    BN affine and statistics spread around identity. Returns the values set."""
    rng = np.random.default_rng(seed)
    values = {}
    for name, tensor in model.state_dict().items():
        shape = tensor.shape
        if name.endswith("_variance"):
            v = rng.uniform(0.5, 2.0, shape)
        elif name.endswith("_mean"):
            v = rng.normal(0.0, 0.1, shape)
        elif name.endswith("bias"):
            v = rng.normal(0.0, 0.1, shape)
        elif len(shape) == 1:  # BN scale
            v = rng.uniform(0.5, 1.5, shape)
        else:
            fan_in = int(np.prod(shape[1:])) if len(shape) == 4 else shape[0]
            v = rng.normal(0.0, 1.0 / np.sqrt(fan_in), shape)
        values[name] = v.astype("float32")
        tensor.set_value(values[name])
    return values
