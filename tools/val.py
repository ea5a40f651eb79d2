"""Evaluate trained weights on the config's val_dataset (mIoU, per-class IoU, Acc, Kappa, Dice)."""
import argparse
import json
import os

import _bootstrap  # noqa: F401

from humanseg.cli import add_common_args, ensure_dir, load_checked_config, run_tool, set_device
from humanseg.cvlibs.checks import EVAL_KEYS
from humanseg.cvlibs.builder import SegBuilder
from humanseg.engine.evaluate import evaluate, format_metrics
from humanseg.errors import ConfigError
from humanseg.utils.logger import setup_logging
from humanseg.utils.weights import load_pretrained


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    add_common_args(p)
    p.add_argument("--model_path", default=None,
                   help="weights: a .pdparams file, or a folder holding model.pdparams")
    p.add_argument("--save_dir", default=None,
                   help="where metrics.json goes (default: next to the weights)")
    p.add_argument("--num_workers", type=int, default=0)
    return p.parse_args(argv)


@run_tool
def main(argv=None):
    args = parse_args(argv)
    if not args.model_path:
        raise ConfigError("--model_path is required: evaluating random weights means nothing. "
                          "Give the .pdparams of a trained model (e.g. output/best_model).")
    cfg = load_checked_config(args.config, args.opts, required=EVAL_KEYS)
    setup_logging()
    set_device(args.device)
    builder = SegBuilder(cfg)
    model = builder.model
    load_pretrained(model, args.model_path)
    dataset = builder.val_dataset
    result = evaluate(model, dataset, args.num_workers)
    print(format_metrics(result))
    weights_dir = args.model_path if os.path.isdir(args.model_path) else os.path.dirname(
        os.path.abspath(args.model_path))
    save_dir = ensure_dir(os.path.abspath(args.save_dir or weights_dir))
    out = os.path.join(save_dir, "metrics.json")
    with open(out, "w") as f:
        json.dump({"config": os.path.abspath(args.config), "model_path": args.model_path,
                   **result}, f, indent=2)
    print(f"metrics written to {out}")


if __name__ == "__main__":
    main()
