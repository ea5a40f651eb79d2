"""Make a small synthetic street-scene set in the Cityscapes layout (labelIds PNGs, city folders,
train/val) so the Cityscapes pipeline runs offline. Convert it with cityscapes_to_trainids.py."""
import argparse
import os
import time

import _bootstrap  # noqa: F401

from humanseg.cli import run_tool
from humanseg.datasets.synthetic.cityscapes import make_synthetic_cityscapes
from humanseg.errors import DataError

DEFAULT_OUT = os.path.join(_bootstrap.ROOT, "data", "synthetic_cityscapes")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out_dir", default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    p.add_argument("--num_train", type=int, default=8, help="train images (default: 8)")
    p.add_argument("--num_val", type=int, default=4, help="val images (default: 4)")
    p.add_argument("--width", type=int, default=1024, help="image width (default: 1024)")
    p.add_argument("--height", type=int, default=512, help="image height (default: 512)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--trainids", action="store_true",
                   help="also write *_labelTrainIds.png and the file lists (as the converter does)")
    return p.parse_args(argv)


@run_tool
def main(argv=None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    try:
        summary = make_synthetic_cityscapes(args.out_dir, args.num_train, args.num_val,
                                            (args.width, args.height), args.seed)
    except ValueError as e:
        raise DataError(str(e)) from None
    print(f"wrote {args.num_train} train + {args.num_val} val images ({args.width}x{args.height}, "
          f"seed {args.seed}) to {summary['out_dir']} in {time.perf_counter() - start:.1f} s")
    if args.trainids:
        from humanseg.datasets.cityscapes_labels import convert_dataset
        convert_dataset(args.out_dir, num_workers=0, progress=False)
        print("  wrote *_gtFine_labelTrainIds.png and train.txt / val.txt")
    else:
        print(f"  next: python tools/data/cityscapes_to_trainids.py --dataset_root {args.out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
