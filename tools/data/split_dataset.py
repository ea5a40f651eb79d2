"""Write train/val/test file lists from image and label folders, keeping all frames of one video
(one folder, or one name prefix) in the same split. Deterministic with --seed."""
import argparse
import sys

import _bootstrap  # noqa: F401

from humanseg.cli import run_tool
from humanseg.datasets.splitting import DEFAULT_PATTERN, write_split_lists


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--image_dir", required=True)
    p.add_argument("--label_dir", required=True)
    p.add_argument("--out_dir", required=True, help="where train.txt / val.txt / test.txt go")
    p.add_argument("--dataset_root", default=None,
                   help="list paths are relative to this folder (default: --out_dir)")
    p.add_argument("--ratios", type=float, nargs="+", default=[0.8, 0.1, 0.1],
                   help="train val [test] fractions (default: 0.8 0.1 0.1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--group_by", default="auto", choices=["auto", "folder", "pattern", "none"],
                   help="what keeps frames together: a video per folder, a name pattern, nothing; "
                        "auto = folder if images are in sub-folders, else pattern")
    p.add_argument("--pattern", default=DEFAULT_PATTERN,
                   help=f"regex on the relative path without extension; group 1 (or the match) is "
                        f"the video (default: {DEFAULT_PATTERN!r}, 'clip7_0012' -> 'clip7')")
    p.add_argument("--label_suffix", default="", help="label name = image stem + this + --label_ext")
    p.add_argument("--label_ext", default=".png")
    return p.parse_args(argv)


@run_tool
def main(argv=None) -> int:
    args = parse_args(argv)
    result = write_split_lists(args.image_dir, args.label_dir, args.out_dir, args.dataset_root,
                               tuple(args.ratios), args.seed, args.group_by, args.pattern,
                               args.label_suffix, args.label_ext)
    print(f"grouped by {result.pop('group_by')}")
    for name, r in result.items():
        print(f"  {name:5s}: {r['samples']:6d} samples in {r['groups']:4d} group(s) -> {r['path']}")
    empty = [name for name, r in result.items() if r["samples"] == 0]
    if empty:
        print(f"warning: {', '.join(empty)} got no samples: too few groups. If the images are "
              f"independent, use --group_by none; else check --pattern.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
