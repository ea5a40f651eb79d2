"""Build the legacy (Paddle 2.x) inference folders of tests/data/legacy_inference/.

Runs in a Paddle 2.6.2 venv, NOT the project's Paddle 3 venv. Exact commands used:

    python3.11 -m venv /tmp/pd26
    /tmp/pd26/bin/pip install paddlepaddle==2.6.2 "numpy<2" "opencv-python-headless<4.11" \
        pyyaml tqdm filelock scipy prettytable six scikit-learn requests
    /tmp/pd26/bin/pip install --no-deps paddleseg==2.8.0
    cd tests/data/legacy_inference
    LD_PRELOAD=/lib/x86_64-linux-gnu/libz.so.1 /tmp/pd26/bin/python make_fixtures.py

(resolved: paddlepaddle 2.6.2, paddleseg 2.8.0, numpy 1.26.4, opencv-python-headless 4.10.0.84,
protobuf 7.36.2.) LD_PRELOAD: Paddle 2.6's libpaddle.so carries its own zlib symbols, and Python's
zlib then fails ("Error -2 while decompressing data", or SIGSEGV in inflateReset2) as soon as
scipy/sklearn (imported by paddleseg) decompress anything; preloading the system libz fixes it.

Each folder is written the way PaddleSeg 2.8's tools/export.py writes it: the model wrapped in
paddleseg.deploy.export.WrappedModel (unless output_op is none), paddle.jit.to_static with
InputSpec([None, 3, None, None], 'float32'), paddle.jit.save(model, DIR/model), and deploy.yaml =
yaml.dump({'Deploy': {model: model.pdmodel, params: model.pdiparams, transforms: <val_dataset
transforms>, input_shape: [None, 3, None, None], output_op, output_dtype}}).

Weights: seeded random (He-initialised convs), rounded to a few levels per tensor so the
.pdiparams files compress well in git; BN statistics are seeded too. The op attribute
`op_callstack` (Python stack traces with this machine's paths) is removed from model.pdmodel
afterwards; nothing else in the program is changed.

Paddle 2.6's own Paddle Inference (default CPU config, as PaddleSeg's deploy/python/infer.py
without --enable_mkldnn) is run on the fixed test image image.png; reference.npz per folder holds
  x        the network input (PaddleSeg 2.8 transforms of image.png), float32 [1, 3, h, w]
  out      the network output of Paddle 2.6 Inference for x (int32 labels [1, h, w] for argmax,
           float32 probabilities [1, 2, h, w] for softmax)
  out_dy   the same from the dygraph model (a check of the export)
  label    int32 [H, W] labels at the image's size (PaddleSeg 2.8's reverse_transform, nearest)
"""
import os
import sys

import numpy as np
import yaml

import cv2
import paddle
import paddle.inference as pi
from paddleseg import transforms as T
from paddleseg.core.infer import reverse_transform
from paddleseg.deploy.export import WrappedModel
from paddleseg.models import MobileSeg, PPHumanSegLite
from paddleseg.models.backbones import MobileNetV3_large_x1_0

HERE = os.path.dirname(os.path.abspath(__file__))
NORMALIZE = {"type": "Normalize", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}
MODELS = {
    # PaddleSeg contrib/PP-HumanSeg/configs/portrait_pp_humansegv1_lite.yml (val transforms)
    "v1_lite": ([{"type": "Resize", "target_size": [398, 224]}, NORMALIZE],
                lambda: PPHumanSegLite(num_classes=2)),
    # portrait_pp_humansegv2_lite.yml
    "v2_lite": ([{"type": "Resize", "target_size": [256, 144]}, NORMALIZE],
                lambda: MobileSeg(num_classes=2, backbone=MobileNetV3_large_x1_0(),
                                  cm_bin_sizes=[1, 2, 4], cm_out_ch=128,
                                  arm_out_chs=[32, 64, 128], seg_head_inter_chs=[32, 32, 32])),
}
FOLDERS = [("v1_lite", "softmax"), ("v1_lite", "argmax"), ("v2_lite", "softmax"),
           ("v2_lite", "argmax")]


def test_image():
    """A 360x300 (WxH) BGR image: textured background, a 'person' (ellipse + head)."""
    h, w = 300, 360
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([80 + 60 * np.sin(xx / 17.0), 90 + 50 * np.cos(yy / 13.0),
                    100 + 40 * np.sin((xx + yy) / 29.0)], -1).astype(np.uint8)
    cv2.ellipse(img, (170, 200), (60, 110), 0, 0, 360, (40, 90, 200), -1)
    cv2.circle(img, (170, 70), 38, (120, 160, 220), -1)
    cv2.rectangle(img, (250, 40), (330, 120), (230, 230, 230), -1)
    return img


def init_weights(net, seed):
    paddle.seed(seed)
    rng = np.random.RandomState(seed)
    for name, p in net.named_parameters():
        shape = list(p.shape)
        if len(shape) == 4:  # conv: He std, rounded to quarter-std levels in [-2.5, 2.5] std
            std = (2.0 / int(np.prod(shape[1:]))) ** 0.5
            v = np.clip(np.round(rng.randn(*shape) * 4) / 4, -2.5, 2.5) * std
        elif len(shape) == 2:  # linear (SE blocks are convs here; kept for completeness)
            v = np.clip(np.round(rng.randn(*shape) * 4) / 4, -2.5, 2.5) * (1.0 / shape[0]) ** .5
        elif "_mean" in name:  # BN running statistics (non-trainable parameters)
            v = np.round(rng.randn(*shape) * 4) / 40
        elif "_variance" in name:
            v = 1.0 + np.round(rng.rand(*shape) * 4) / 8
        elif "weight" in name:  # BN scale
            v = 1.0 + np.round(rng.randn(*shape) * 4) / 40
        else:  # biases
            v = np.round(rng.randn(*shape) * 8) / 80
        p.set_value(v.astype("float32"))


def strip_callstack(path):
    """Remove the `op_callstack` attribute of every op of a saved .pdmodel."""
    with open(path, "rb") as f:
        desc = paddle.base.core.ProgramDesc(f.read())
    n = 0
    for b in range(desc.num_blocks()):
        block = desc.block(b)
        for i in range(block.op_size()):
            op = block.op(i)
            if op.has_attr("op_callstack"):
                op.remove_attr("op_callstack")
                n += 1
    with open(path, "wb") as f:
        f.write(desc.serialize_to_string())
    return n


def export(kind, output_op, save_dir):
    transforms, build = MODELS[kind]
    model = build()
    init_weights(model, seed=2026)
    dy = model
    dy.eval()
    if output_op != "none":
        model = WrappedModel(model, output_op)
    shape = [None, 3, None, None]  # a copy goes to InputSpec: 2.6 turns its Nones into -1
    model.eval()
    # full_graph=True: the AST translation that paddle.jit.to_static used by default before
    # Paddle 2.6 (PaddleSeg 2.8's era); 2.6's default SOT mode ignores input_spec.
    static = paddle.jit.to_static(model, input_spec=[paddle.static.InputSpec(shape=list(shape),
                                                                             dtype="float32")],
                                  full_graph=True)
    paddle.jit.save(static, os.path.join(save_dir, "model"))
    deploy_info = {"Deploy": {"model": "model.pdmodel", "params": "model.pdiparams",
                              "transforms": transforms, "input_shape": shape,
                              "output_op": output_op,
                              "output_dtype": "int32" if output_op == "argmax" else "float32"}}
    with open(os.path.join(save_dir, "deploy.yaml"), "w") as f:
        yaml.dump(deploy_info, f)
    n = strip_callstack(os.path.join(save_dir, "model.pdmodel"))
    return model, transforms, n, dy


def main():
    img = test_image()
    cv2.imwrite(os.path.join(HERE, "image.png"), img)
    img = cv2.imread(os.path.join(HERE, "image.png"))
    for kind, output_op in FOLDERS:
        name = f"{kind}_{output_op}"
        save_dir = os.path.join(HERE, name)
        os.makedirs(save_dir, exist_ok=True)
        transforms = MODELS[kind][0]
        comp = T.Compose([getattr(T, t["type"])(**{k: v for k, v in t.items() if k != "type"})
                          for t in transforms])
        data = comp({"img": os.path.join(HERE, "image.png")})
        x = data["img"][None].astype("float32")
        transforms, build = MODELS[kind]
        net = build()
        init_weights(net, seed=2026)
        net.eval()
        with paddle.no_grad():
            logits = net(paddle.to_tensor(x))[0]
            out_dy = (paddle.argmax(logits, axis=1, dtype="int32") if output_op == "argmax"
                      else paddle.nn.functional.softmax(logits, axis=1)).numpy()
        _, _, n, _ = export(kind, output_op, save_dir)
        cfg = pi.Config(os.path.join(save_dir, "model.pdmodel"),
                        os.path.join(save_dir, "model.pdiparams"))
        cfg.disable_gpu()
        cfg.disable_glog_info()
        pred = pi.create_predictor(cfg)
        h = pred.get_input_handle(pred.get_input_names()[0])
        h.reshape(list(x.shape))
        h.copy_from_cpu(x)
        pred.run()
        out = pred.get_output_handle(pred.get_output_names()[0]).copy_to_cpu()
        if output_op == "argmax":
            lab = paddle.to_tensor(out[:, None].astype("float32"))
        else:
            lab = paddle.to_tensor(out.argmax(1)[:, None].astype("float32"))
        label = reverse_transform(lab, data["trans_info"], mode="nearest")
        label = label.numpy()[0, 0].astype("int32")
        np.savez_compressed(os.path.join(save_dir, "..", f"{name}_reference.npz"), x=x,
                            out=out, out_dy=out_dy, label=label)
        diff = (np.abs(out.astype(float) - out_dy).max() if output_op == "softmax"
                else float((out != out_dy).mean()))
        fg = float((label == 1).mean())
        print(f"{name}: x {x.shape}, out {out.shape} {out.dtype}, callstacks removed {n}, "
              f"inference vs dygraph {diff:.3g}, foreground {fg:.3f}", flush=True)
    print("paddle", paddle.__version__, file=sys.stderr)


if __name__ == "__main__":
    main()
