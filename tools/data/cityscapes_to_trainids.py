"""Convert Cityscapes gtFine *_labelIds.png into *_labelTrainIds.png (19 classes, others 255) and
write train.txt / val.txt / test.txt file lists."""
import argparse
import os
import time

import _bootstrap  # noqa: F401

from humanseg.cli import run_tool
from humanseg.datasets.cityscapes_labels import convert_dataset
from humanseg.errors import DataError


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--dataset_root", required=True,
                   help="Cityscapes folder holding leftImg8bit/ and gtFine/")
    p.add_argument("--num_workers", type=int, default=os.cpu_count() or 1,
                   help="worker processes (default: all cores)")
    p.add_argument("--overwrite", action="store_true",
                   help="rewrite trainIds PNGs that are newer than their labelIds")
    return p.parse_args(argv)


@run_tool
def main(argv=None) -> int:
    args = parse_args(argv)
    if args.num_workers < 0:
        raise DataError(f"--num_workers must be >= 0, got {args.num_workers}")
    start = time.perf_counter()
    result = convert_dataset(args.dataset_root, args.num_workers, args.overwrite)
    print(f"converted {result['converted']} label(s) in {time.perf_counter() - start:.1f} s")
    for split, (path, n) in result["lists"].items():
        print(f"  {split:5s}: {n:5d} pairs -> {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
