"""Parameters, FLOPs (Paddle's own counter, paddle.flops) and output shapes of a config's model.

The model is built without its pretrained weights (structure only, works offline). The input
size is --input_size W H, or the Resize target_size of the config's export/val transforms.
"""
import argparse
import contextlib
import io

import _bootstrap  # noqa: F401

from humanseg.cli import add_common_args, load_checked_config, run_tool, set_device
from humanseg.errors import ConfigError


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    add_common_args(p)
    p.add_argument("--input_size", nargs=2, type=int, default=None, metavar=("W", "H"),
                   help="input width and height (default: the config's Resize target_size)")
    p.add_argument("--batch_size", type=int, default=1, help="batch of the dummy input")
    return p.parse_args(argv)


def config_input_size(cfg: dict) -> tuple[int, int] | None:
    """The ``(w, h)`` of the first fixed-size Resize in export, val or train transforms."""
    for section in ("export", "val_dataset", "train_dataset"):
        for t in (cfg.get(section) or {}).get("transforms") or []:
            size = t.get("target_size") if isinstance(t, dict) and t.get("type") == "Resize" \
                else None
            if isinstance(size, (list, tuple)) and len(size) == 2:
                return int(size[0]), int(size[1])
    return None


def model_info(model, width: int, height: int, batch_size: int = 1) -> dict:
    """Count parameters and FLOPs of ``model`` on a ``[batch, 3, height, width]`` input.

    Returns:
        ``params`` (all trainable parameters), ``params_used`` (those of the layers the forward
        pass calls, as ``paddle.flops`` counts them), ``flops`` (``paddle.flops``: one
        multiply-add = one FLOP; layers only, functional ops such as ``F.interpolate`` or
        ``paddle.bmm`` are not counted), ``train_shapes`` and ``eval_shapes`` of the logits.
    """
    import numpy as np
    import paddle

    params = int(sum(np.prod(p.shape) for p in model.parameters() if not p.stop_gradient))
    model.eval()
    with contextlib.redirect_stdout(io.StringIO()) as log:
        flops = paddle.flops(model, [batch_size, 3, height, width], print_detail=False)
    used = next((int(line.rsplit(":", 1)[1]) for line in log.getvalue().splitlines()
                 if "Total Params:" in line), None)
    x = paddle.zeros([batch_size, 3, height, width])
    with paddle.no_grad():
        eval_shapes = [list(t.shape) for t in model(x)]
        model.train()
        train_shapes = [list(t.shape) for t in model(x)]
    model.eval()
    return {"params": params, "params_used": used, "flops": int(flops),
            "eval_shapes": eval_shapes, "train_shapes": train_shapes}


@run_tool
def main(argv=None):
    args = parse_args(argv)
    cfg = load_checked_config(args.config, args.opts, required=("model",))
    size = tuple(args.input_size) if args.input_size else config_input_size(cfg)
    if size is None:
        raise ConfigError(f"{args.config}: no Resize target_size in export/val_dataset/"
                          f"train_dataset transforms; pass --input_size W H")
    width, height = size
    if width <= 0 or height <= 0 or args.batch_size <= 0:
        raise ConfigError(f"--input_size and --batch_size must be positive, got "
                          f"{width}x{height}, batch {args.batch_size}")
    set_device(args.device)
    from humanseg.cvlibs.builder import build_model
    model = build_model(cfg, pretrained=False)
    info = model_info(model, width, height, args.batch_size)
    name = cfg["model"]["type"]
    backbone = (cfg["model"].get("backbone") or {}).get("type")
    print(f"model:        {name}" + (f" + {backbone}" if backbone else ""))
    print(f"input:        {args.batch_size}x3x{height}x{width} (N x C x H x W)")
    print(f"params:       {info['params']:,} ({info['params'] / 1e6:.3f} M)")
    if info["params_used"] is not None and info["params_used"] != info["params"]:
        print(f"params used:  {info['params_used']:,} (parameters of the layers forward calls)")
    print(f"FLOPs:        {info['flops']:,} ({info['flops'] / 1e9:.3f} G, paddle.flops)")
    print(f"eval outputs: {info['eval_shapes']}")
    print(f"train outputs:{' '}{info['train_shapes']}")
    return info


if __name__ == "__main__":
    main()
