"""Make the synthetic teleconferencing portrait set (PP-HumanSeg14K format) used by tests and the demo."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import _bootstrap  # noqa: F401  (this checkout's humanseg, from any directory)

from humanseg.datasets.synthetic.humanseg import make_synthetic_humanseg
from humanseg.errors import HumanSegError

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT_DIR = REPO_ROOT / "data" / "synthetic_humanseg"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parses the command line.

    Args:
        argv: Arguments without the program name; ``sys.argv[1:]`` when None.

    Returns:
        The parsed arguments.
    """
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out_dir", type=Path, default=DEFAULT_OUT_DIR,
                        help=f"output directory (default: {DEFAULT_OUT_DIR})")
    parser.add_argument("--num_clips", type=int, default=30, help="number of clips (default: 30)")
    parser.add_argument("--frames_per_clip", type=int, default=10, help="frames per clip (default: 10)")
    parser.add_argument("--width", type=int, default=398, help="frame width (default: 398)")
    parser.add_argument("--height", type=int, default=224, help="frame height (default: 224)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--difficulty", choices=("standard", "hard"), default="standard",
                        help="standard (default; its bytes do not change) or hard: thin limbs and "
                             "fingers, person regions cut into pieces, skin/hair-coloured clutter "
                             "(docs/data.md, 'Hard mode')")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Generates the set and prints a summary.

    Args:
        argv: Arguments without the program name; ``sys.argv[1:]`` when None.

    Returns:
        The exit code: 0 on success, 2 on a user error (bad argument, foreign non-empty directory).
    """
    args = parse_args(argv)
    start = time.perf_counter()
    try:
        summary = make_synthetic_humanseg(args.out_dir, num_clips=args.num_clips,
                                          frames_per_clip=args.frames_per_clip,
                                          size=(args.width, args.height), seed=args.seed,
                                          difficulty=args.difficulty)
    except (HumanSegError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - start
    width, height = summary["size"]
    print(f"wrote {summary['num_images']} {summary['difficulty']} frames ({width}x{height}, seed {summary['seed']}) "
          f"to {summary['out_dir']} in {seconds:.1f} s")
    for name, counts in summary["splits"].items():
        print(f"  {name:5s}: {counts['clips']:3d} clips, {counts['frames']:4d} frames -> {name}.txt")
    print(f"  foreground (person) fraction: {summary['foreground_fraction']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
