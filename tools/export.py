"""Export a model for deployment: the Paddle 3 inference model (model.json + model.pdiparams),
optionally model.onnx (paddle2onnx, checked with onnxruntime right after export), and deploy.yaml
(preprocessing, input shape, output op, class names, palette) that deploy/python reads."""
import argparse
import os
import sys

import _bootstrap  # noqa: F401

from humanseg.cli import add_common_args, load_checked_config, run_tool, set_device
from humanseg.cvlibs.builder import SegBuilder
from humanseg.export.deploy_config import deploy_transforms
from humanseg.export.exporter import OUTPUT_OPS, parse_input_shape
from humanseg.export.onnx_export import onnx_available, require_onnx
from humanseg.export.run import FORMATS, export_model


def parse_args(argv=None):
    default_format = "both" if onnx_available() else "paddle"
    p = argparse.ArgumentParser(description=__doc__)
    add_common_args(p)
    p.add_argument("--model_path", default=None,
                   help="trained weights (.pdparams, a folder holding model.pdparams, an "
                        "archive, a URL or zoo:NAME); without it the untrained weights are exported (a warning)")
    p.add_argument("--save_dir", required=True, help="output folder of the exported model")
    p.add_argument("--input_shape", nargs="+", default=None, metavar="N C H W",
                   help="network input shape; -1 = dynamic (default: -1 C -1 -1, i.e. any batch "
                        "and image size). Models with adaptive pooling (Fast-SCNN) need a fixed "
                        "H W for ONNX, e.g. --input_shape 1 3 224 398")
    p.add_argument("--output_op", default="softmax", choices=OUTPUT_OPS,
                   help="appended to the network: softmax (default here: float32 probabilities, "
                        "which the deploy app needs for a soft alpha and temporal smoothing), "
                        "argmax (int32 labels; PaddleSeg's default) or none (logits)")
    p.add_argument("--format", default=default_format, choices=FORMATS,
                   help="paddle (model.json + model.pdiparams), onnx (adds model.onnx, needs "
                        "paddle2onnx + onnxruntime) or both. Default: both when paddle2onnx and "
                        f"onnxruntime are importable, else paddle (here: {default_format})")
    p.add_argument("--skip_final_resize", action="store_true",
                   help="export the logits before the model's final bilinear upsample to the "
                        "input size (PP-HumanSeg-Lite: 1/2 of it); the output op runs at that "
                        "size and deploy/python resizes the output to the image in one step. "
                        "Faster (no full-size upsample and softmax in the network); refused for "
                        "models that do not end with such an upsample")
    return p.parse_args(argv)


@run_tool
def main(argv=None):
    args = parse_args(argv)
    cfg = load_checked_config(args.config, args.opts, required=("model",))
    builder = SegBuilder(cfg, weights=args.model_path)
    input_shape = parse_input_shape(args.input_shape, builder.img_channels)
    if args.format in ("onnx", "both"):
        require_onnx()
    deploy_transforms(cfg, builder.img_channels)  # transform mistakes before the slow steps
    set_device(args.device)
    model = builder.model  # every tensor from --model_path: pretrained is never read
    if not args.model_path:
        print("warning: no --model_path: exporting the untrained weights the config builds "
              "(pretrained backbone or random); its predictions are meaningless", file=sys.stderr)
    result = export_model(model, cfg, args.save_dir, input_shape, args.output_op, args.format,
                          skip_final_resize=args.skip_final_resize)
    for path in result.files:
        print(f"wrote {path}")
    check = result.onnx_check
    if check is not None:
        extra = (f", labels agree on {check['label_agreement']:.4%}"
                 if "label_agreement" in check else "")
        print(f"ONNX check (onnxruntime vs Paddle dygraph, random input {check['input_shape']}): "
              f"max abs diff {check['max_abs_diff']:.3g}{extra} - passed")
        if check["constant_output"]:
            print("note: the network output is constant on that input (untrained weights?), so "
                  "the ONNX check says little; it is meaningful with trained weights")
    secs = ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())
    print(f"exported {os.path.basename(os.path.abspath(args.config))} ({args.format}, "
          f"output_op {args.output_op}, input_shape {input_shape}"
          f"{', final resize skipped' if args.skip_final_resize else ''}) to {result.save_dir} [{secs}]")


if __name__ == "__main__":
    main()
