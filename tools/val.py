"""Evaluate trained weights on the config's val_dataset: mIoU, per-class IoU, precision, recall,
Acc, Kappa, Dice, boundary F-score and connectivity, and for video datasets (dataset key
``video: true``; automatic for the synthetic clips) temporal flicker between consecutive frames,
printed as a table and saved as JSON.

The inference mode is the config's ``test_config`` (PaddleSeg's keys), which these flags override:
--is_slide --crop_size W H --stride W H (sliding window), --aug_eval --scales S [S ...]
--flip_horizontal --flip_vertical (flips and scales averaged)."""
import argparse
import json
import os

import _bootstrap  # noqa: F401

from humanseg.cli import add_common_args, ensure_dir, load_checked_config, run_tool, set_device
from humanseg.cvlibs.checks import EVAL_KEYS, check_test_config
from humanseg.cvlibs.builder import SegBuilder
from humanseg.engine.evaluate import evaluate, format_metrics
from humanseg.metrics.boundary import DEFAULT_TOLERANCE
from humanseg.errors import ConfigError
from humanseg.utils.download import resolve_weights_path
from humanseg.utils.logger import setup_logging


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    add_common_args(p)
    p.add_argument("--model_path", default=None,
                   help="weights: a .pdparams file, a folder holding model.pdparams, an "
                        "archive, a URL or zoo:NAME (tools/model_zoo.py lists the names)")
    p.add_argument("--save_dir", default=None,
                   help="where metrics.json goes (default: next to the weights)")
    p.add_argument("--num_workers", type=int, default=0)
    p.add_argument("--save_json", default=None,
                   help="write the metrics here (default: SAVE_DIR/metrics.json)")
    p.add_argument("--boundary_tolerance", type=float, default=DEFAULT_TOLERANCE,
                   help="boundary F-score tolerance: pixels (>= 1), or a fraction of the image "
                        "diagonal (< 1); default 3 px")
    g = p.add_argument_group("test_config overrides (PaddleSeg's val.py flags)")
    g.add_argument("--aug_eval", action="store_true", help="average over scales and flips")
    g.add_argument("--scales", type=float, nargs="+", default=None, help="scales for --aug_eval")
    g.add_argument("--flip_horizontal", action="store_true", help="with --aug_eval")
    g.add_argument("--flip_vertical", action="store_true", help="with --aug_eval")
    g.add_argument("--is_slide", action="store_true", help="sliding-window inference")
    g.add_argument("--crop_size", type=int, nargs=2, default=None, metavar=("W", "H"),
                   help="window size for --is_slide")
    g.add_argument("--stride", type=int, nargs=2, default=None, metavar=("W", "H"),
                   help="window stride for --is_slide")
    return p.parse_args(argv)


def merge_test_config(test_config: dict | None, args) -> dict:
    """The config's ``test_config`` with the command line's flags on top (as PaddleSeg's val.py:
    ``--aug_eval`` replaces the aug keys, ``--is_slide`` the slide keys), checked."""
    tc = dict(test_config or {})
    if args.aug_eval:
        tc.update(aug_eval=True, flip_horizontal=args.flip_horizontal,
                  flip_vertical=args.flip_vertical)
        if args.scales is not None:
            tc["scales"] = args.scales
    elif args.scales is not None or args.flip_horizontal or args.flip_vertical:
        raise ConfigError("--scales, --flip_horizontal and --flip_vertical need --aug_eval.")
    if args.is_slide:
        tc["is_slide"] = True
        for key in ("crop_size", "stride"):
            if getattr(args, key) is not None:
                tc[key] = getattr(args, key)
    elif args.crop_size is not None or args.stride is not None:
        raise ConfigError("--crop_size and --stride need --is_slide.")
    return check_test_config(tc)


@run_tool
def main(argv=None):
    args = parse_args(argv)
    if not args.model_path:
        raise ConfigError("--model_path is required: evaluating random weights means nothing. "
                          "Give the .pdparams of a trained model (e.g. output/best_model).")
    cfg = load_checked_config(args.config, args.opts, required=EVAL_KEYS)
    test_config = merge_test_config(cfg.get("test_config"), args)
    tolerance = args.boundary_tolerance
    if tolerance < 0 or 1 <= tolerance != int(tolerance):
        raise ConfigError(f"--boundary_tolerance must be whole pixels (>= 1) or a fraction of the "
                          f"diagonal (< 1), got {tolerance}.")
    tolerance = int(tolerance) if tolerance >= 1 or tolerance == 0 else tolerance
    setup_logging()
    set_device(args.device)
    builder = SegBuilder(cfg, weights=args.model_path)
    model = builder.model
    dataset = builder.val_dataset
    result = evaluate(model, dataset, args.num_workers, test_config=test_config,
                      boundary_tolerance=tolerance)
    print(format_metrics(result))
    # a URL or zoo: name is in the download cache by now: "next to the weights" is there
    weights_dir = args.model_path if os.path.isdir(args.model_path) else os.path.dirname(
        os.path.abspath(resolve_weights_path(args.model_path)))
    if args.save_json:
        out = os.path.abspath(args.save_json)
        ensure_dir(os.path.dirname(out))
    else:
        out = os.path.join(ensure_dir(os.path.abspath(args.save_dir or weights_dir)),
                           "metrics.json")
    with open(out, "w") as f:
        json.dump({"config": os.path.abspath(args.config), "model_path": args.model_path,
                   **result}, f, indent=2)
    print(f"metrics written to {out}")


if __name__ == "__main__":
    main()
