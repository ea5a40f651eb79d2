"""Int8-quantize an exported model's ONNX file with onnxruntime's quantization tools.

    python tools/quantize_onnx.py --model_dir output/export --calib_dir data/synthetic_humanseg/images

static (default): QDQ, per-channel int8 weights, uint8 activations calibrated (MinMax) on
--num_calib images preprocessed exactly as deploy.yaml says; the model is converted to opset 13
first (per-channel DequantizeLinear needs it). dynamic: int8 weights only, activations quantized
at run time (ConvInteger; measured far slower than fp32 on CPU here, kept for comparison).
Writes <model_dir>/model_int8.onnx (or --save_path); deploy/python runs it with
``Predictor(..., onnx_path=...)`` or ``video.py --onnx_path`` where offered. Check the accuracy
before using it: bench/bench_video.py --int8 reports its mIoU next to the fp32 model's.
Needs ``ml_dtypes`` (imported by onnxruntime.quantization): ``pip install ml_dtypes``.
"""
import argparse
import os
import random

import _bootstrap  # noqa: F401

import numpy as np
import yaml

from humanseg.cli import run_tool
from humanseg.cvlibs.registry import TRANSFORMS, build
from humanseg.datasets.io import read_image
from humanseg.engine.predict import list_images
from humanseg.errors import ConfigError, DataError
from humanseg.transforms import Compose


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model_dir", required=True, help="exported folder (deploy.yaml with an onnx key)")
    p.add_argument("--mode", default="static", choices=["static", "dynamic"])
    p.add_argument("--calib_dir", default=None, help="images for static calibration (searched recursively)")
    p.add_argument("--num_calib", type=int, default=64, help="calibration images (a seeded sample)")
    p.add_argument("--save_path", default=None, help="default: <model_dir>/model_int8.onnx")
    return p.parse_args(argv)


def _quantization():
    try:
        from onnxruntime import quantization
    except ImportError as e:
        raise ConfigError(f"onnxruntime.quantization cannot be imported ({e}); install onnxruntime "
                          "and ml_dtypes: pip install onnxruntime ml_dtypes") from None
    return quantization


def read_deploy(model_dir: str) -> dict:
    path = os.path.join(model_dir, "deploy.yaml")
    if not os.path.isfile(path):
        raise ConfigError(f"{path} not found: --model_dir must be a folder written by tools/export.py")
    with open(path) as f:
        deploy = (yaml.safe_load(f) or {}).get("Deploy")
    if not isinstance(deploy, dict) or "onnx" not in deploy:
        raise ConfigError(f"{path}: no Deploy.onnx; export with tools/export.py --format both")
    return deploy


def calibration_inputs(deploy: dict, calib_dir: str, num: int) -> list[np.ndarray]:
    """[1, C, H, W] float32 network inputs: deploy.yaml's transforms on RGB images."""
    images = list_images(calib_dir)
    random.Random(0).shuffle(images)
    transforms = Compose(build(deploy.get("transforms", []), TRANSFORMS, "Deploy.transforms"))
    inputs = []
    for path in images[:num]:
        data = transforms({"img": read_image(path), "trans_info": [], "gt_fields": []})
        inputs.append(data["img"][None])
    return inputs


def quantize(model_dir: str, save_path: str, mode: str = "static", calib_dir: str | None = None,
             num_calib: int = 64) -> str:
    """Writes the int8 model to ``save_path``; returns it."""
    deploy = read_deploy(model_dir)
    q = _quantization()
    src = os.path.join(model_dir, deploy["onnx"])
    if mode == "dynamic":
        q.quantize_dynamic(src, save_path, weight_type=q.QuantType.QInt8)
        return save_path
    if not calib_dir:
        raise ConfigError("--mode static needs --calib_dir (a folder of images like the ones the "
                          "model will see, e.g. data/synthetic_humanseg/images)")
    inputs = calibration_inputs(deploy, calib_dir, num_calib)
    if not inputs:
        raise DataError(f"no calibration images under {calib_dir}")
    import onnx
    from onnx import version_converter
    from onnxruntime.quantization.shape_inference import quant_pre_process
    prepared = save_path + ".prep.onnx"
    try:
        quant_pre_process(src, prepared, skip_symbolic_shape=True)
        model = onnx.load(prepared)
        if max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) < 13:
            onnx.save(version_converter.convert_version(model, 13), prepared)
        name = deploy.get("input_name", "x")

        class Reader(q.CalibrationDataReader):
            def __init__(self):
                self.it = iter([{name: x} for x in inputs])

            def get_next(self):
                return next(self.it, None)

        q.quantize_static(prepared, save_path, Reader(), quant_format=q.QuantFormat.QDQ,
                          per_channel=True, activation_type=q.QuantType.QUInt8,
                          weight_type=q.QuantType.QInt8)
    finally:
        if os.path.exists(prepared):
            os.remove(prepared)
    return save_path


@run_tool
def main(argv=None):
    args = parse_args(argv)
    save_path = args.save_path or os.path.join(args.model_dir, "model_int8.onnx")
    quantize(args.model_dir, save_path, args.mode, args.calib_dir, args.num_calib)
    print(f"wrote {save_path} ({args.mode} int8, {os.path.getsize(save_path) / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
