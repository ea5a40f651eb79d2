"""Validate a segmentation dataset before training: missing/unreadable files, size mismatches,
colour labels, out-of-range values, the 0/255 mask trap, duplicates, awkward paths, and a class
pixel histogram. Exit code 0: no fatal problem; 1: fatal problems found; 2: bad arguments.

  validate_dataset.py --config X.yml
  validate_dataset.py --file_list F --dataset_root D --num_classes K [--fix-to DIR]
"""
import argparse
import sys

import _bootstrap  # noqa: F401

from humanseg.cli import run_tool
from humanseg.errors import ConfigError

FATAL_EXIT = 1


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--config", help="validate the config's train_dataset and val_dataset")
    src.add_argument("--file_list", nargs="+", help="one or more file lists (one split each)")
    p.add_argument("--dataset_root", help="folder the list paths are relative to (--file_list)")
    p.add_argument("--num_classes", type=int, help="number of classes (--file_list)")
    p.add_argument("--ignore_index", type=int, default=255)
    p.add_argument("--separator", default=" ")
    p.add_argument("--opts", nargs="+", default=None, metavar="KEY=VALUE",
                   help="config overrides (--config)")
    p.add_argument("--fix-to", dest="fix_to", metavar="DIR",
                   help="write remapped copies of fixable labels (0/255 -> 0/1, grey RGB -> one "
                        "channel) and new file lists to DIR; originals are never touched")
    p.add_argument("--num_workers", type=int, default=0, help="processes reading files")
    p.add_argument("--limit", type=int, default=10, help="messages shown per kind of problem")
    return p.parse_args(argv)


@run_tool
def main(argv=None) -> int:
    args = parse_args(argv)
    from humanseg.datasets import validate as V
    if args.config:
        from humanseg.cvlibs.config import apply_opts, load_config
        splits = V.splits_from_config(apply_opts(load_config(args.config), args.opts))
    else:
        if args.dataset_root is None or args.num_classes is None:
            raise ConfigError("--file_list needs --dataset_root and --num_classes.")
        splits = [V.split_from_file_list(f, args.dataset_root, args.num_classes,
                                         args.ignore_index, args.separator)
                  for f in args.file_list]
    reports = V.validate(splits, args.num_workers, progress=sys.stderr.isatty())
    print(V.format_report(reports, args.limit))
    if args.fix_to:
        if not any(r.fixable or r.grey_rgb for r in reports):
            print(f"--fix-to: nothing fixable; nothing written to {args.fix_to}")
        else:
            for path in V.fix_to(reports, args.fix_to):
                print(f"--fix-to: wrote {path} (use it as the file list; originals untouched)")
    fatal = [r.split.name for r in reports if r.fatal]
    if fatal:
        print(f"FATAL problems in: {', '.join(fatal)}", file=sys.stderr)
        return FATAL_EXIT
    print("no fatal problems")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
