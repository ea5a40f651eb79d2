"""Convert one Paddle inference model to ONNX with paddle2onnx: the child process of
onnx_conversion.py (paddle2onnx aborts its whole process on ops it cannot convert).

    python paddle_to_onnx.py MODEL PARAMS OUT.onnx [--static_shape 1,3,H,W] [--opset 11]

MODEL is a legacy Paddle 2.x ``.pdmodel`` or a Paddle 3 ``.json`` program. With ``--static_shape``
a legacy program's input gets that shape and every op's output shape is inferred again before
the conversion: paddle2onnx converts adaptive pooling (MobileSeg, PP-LiteSeg) only on a static
input shape. The inputs are read, never written; scratch files go to a temporary folder.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile

OPSET = 11


def parse_shape(text: str) -> list[int]:
    shape = [int(v) for v in text.split(",")]
    if len(shape) != 4 or min(shape) < 1:
        raise SystemExit(f"--static_shape must be N,C,H,W of positive ints; got {text!r}")
    return shape


def legacy_with_static_shape(model: str, params: str, shape: list[int], work_dir: str):
    """A copy of the legacy program in ``work_dir`` whose feed has ``shape``, with every op's
    output shape inferred again. Returns (model, params) of the copy."""
    import paddle
    paddle.enable_static()
    src = os.path.join(work_dir, "src")
    os.makedirs(src)
    shutil.copyfile(model, os.path.join(src, "model.pdmodel"))
    shutil.copyfile(params, os.path.join(src, "model.pdiparams"))
    exe = paddle.static.Executor(paddle.CPUPlace())
    with paddle.pir_utils.OldIrGuard():
        program, feeds, fetches = paddle.static.load_inference_model(
            os.path.join(src, "model"), exe)
        if len(feeds) != 1:
            raise SystemExit(f"{model}: expected one input, found {feeds}")
        block = program.global_block()
        feed = block.var(feeds[0])
        feed.desc.set_shape(shape)
        for op in block.ops:
            if op.type not in ("feed", "fetch"):
                op.desc.infer_shape(block.desc)
        out = os.path.join(work_dir, "static", "model")
        paddle.static.save_inference_model(out, [feed], fetches, exe, program=program)
    return out + ".pdmodel", out + ".pdiparams"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model")
    p.add_argument("params")
    p.add_argument("out")
    p.add_argument("--static_shape", type=parse_shape, default=None)
    p.add_argument("--opset", type=int, default=OPSET)
    args = p.parse_args(argv)
    os.environ.setdefault("POLYGRAPHY_AUTOINSTALL_DEPS", "0")  # no pip install at run time
    import paddle2onnx
    with tempfile.TemporaryDirectory(prefix="humanseg-p2o-") as work_dir:
        model, params = args.model, args.params
        if args.static_shape and model.endswith(".pdmodel"):
            model, params = legacy_with_static_shape(model, params, args.static_shape, work_dir)
        # 'None': the default optimizer (polygraphy) pip-installs onnx_graphsurgeon at run time
        paddle2onnx.export(model, params, args.out, opset_version=args.opset,
                           optimize_tool="None")
    return 0 if os.path.isfile(args.out) else 1


if __name__ == "__main__":
    sys.exit(main())
