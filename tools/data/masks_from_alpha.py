"""Turn matting alpha mattes (grey PNGs or RGBA images) into 0/1 person masks with a threshold."""
import argparse

import _bootstrap  # noqa: F401

from humanseg.cli import run_tool
from humanseg.datasets.alpha import convert_folder


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--alpha_dir", required=True, help="folder of alpha mattes (searched recursively)")
    p.add_argument("--out_dir", required=True, help="where the 0/1 PNG masks go (same relative paths)")
    p.add_argument("--threshold", type=float, default=0.5,
                   help="alpha >= threshold x full scale is person (default: 0.5)")
    return p.parse_args(argv)


@run_tool
def main(argv=None) -> int:
    args = parse_args(argv)
    result = convert_folder(args.alpha_dir, args.out_dir, args.threshold)
    print(f"wrote {result['written']} mask(s) to {args.out_dir} "
          f"(person pixels: {100 * result['foreground']:.1f}%)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
