"""Build an exported model folder for the deploy tests (a stand-in until tools/export.py is used).

Run in a subprocess: ``python make_export.py SAVE_DIR W H OUTPUT_OP [--onnx]``. It saves a
randomly initialised (seeded) PP-HumanSeg-Lite wrapped with ``output_op`` as a Paddle 3 inference
model, optionally converts it with paddle2onnx (``optimize_tool='None'``), and writes deploy.yaml
per the contract in docs/deploy.md.
"""
import os
import sys

import paddle
import yaml

from humanseg.models import PPHumanSegLite


class Wrapped(paddle.nn.Layer):
    def __init__(self, net, output_op):
        super().__init__()
        self.net = net
        self.output_op = output_op

    def forward(self, x):
        logit = self.net(x)[0]
        if self.output_op == "softmax":
            return paddle.nn.functional.softmax(logit, axis=1)
        if self.output_op == "argmax":
            return paddle.argmax(logit, axis=1, keepdim=True).astype("int32")
        return logit


def main(save_dir, w, h, output_op, onnx):
    paddle.seed(7)
    net = PPHumanSegLite(num_classes=2)
    # Random BN statistics so the untrained net gives non-trivial, image-dependent outputs.
    for name, p in net.named_parameters():
        value = paddle.randn(p.shape, dtype=p.dtype) * 0.3
        p.set_value(value.abs() + 0.5 if "variance" in name else value)
    net.eval()
    model = Wrapped(net, output_op)
    model.eval()
    os.makedirs(save_dir, exist_ok=True)
    spec = [paddle.static.InputSpec([None, 3, None, None], "float32", "x")]
    paddle.jit.save(paddle.jit.to_static(model, input_spec=spec, full_graph=True),
                    os.path.join(save_dir, "model"))
    deploy = {
        "model": "model.json", "params": "model.pdiparams", "input_name": "x",
        "input_shape": [-1, 3, -1, -1], "output_op": output_op, "color_order": "RGB",
        "transforms": [{"type": "Resize", "target_size": [w, h], "keep_ratio": False,
                        "size_divisor": None, "interp": "LINEAR"},
                       {"type": "Normalize", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}],
        "num_classes": 2, "class_names": ["background", "person"],
        "palette": [[0, 0, 0], [128, 0, 0]],
    }
    if onnx:
        import paddle2onnx
        paddle2onnx.export(os.path.join(save_dir, "model.json"),
                           os.path.join(save_dir, "model.pdiparams"),
                           os.path.join(save_dir, "model.onnx"), opset_version=11,
                           optimize_tool="None")
        deploy["onnx"] = "model.onnx"
    with open(os.path.join(save_dir, "deploy.yaml"), "w") as f:
        yaml.safe_dump({"Deploy": deploy}, f, sort_keys=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], "--onnx" in sys.argv)
