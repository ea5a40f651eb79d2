"""The study's data: two synthetic portrait sets (standard and hard) with a large test split of
whole clips, and a synthetic street set, under ``--data_dir``."""
from __future__ import annotations

import os

from humanseg.errors import HumanSegError

# Clips split 50/10/40: 140 clips of 10 frames give 70 train, 14 val and 56 test clips (560
# test frames); no clip is in two splits (the generator splits by clip).
SPLITS = (0.5, 0.1, 0.4)


def make_all(args, names: set[str]) -> None:
    """Make the sets of ``names`` (folder names under --data_dir) that are missing (a set is
    there when its list files are)."""
    from humanseg.datasets.cityscapes_labels import convert_dataset
    from humanseg.datasets.synthetic.cityscapes import make_synthetic_cityscapes
    from humanseg.datasets.synthetic.humanseg import make_synthetic_humanseg
    for difficulty in ("standard", "hard"):
        if f"portrait_{difficulty}" not in names:
            continue
        out = os.path.join(args.data_dir, f"portrait_{difficulty}")
        if not os.path.isfile(os.path.join(out, "test.txt")):
            summary = make_synthetic_humanseg(out, num_clips=args.num_clips,
                                              frames_per_clip=args.frames_per_clip,
                                              splits=SPLITS, seed=0, difficulty=difficulty)
            print(f"{out}: {summary['splits']}", flush=True)
    out = os.path.join(args.data_dir, "street")
    if "street" in names and not os.path.isfile(os.path.join(out, "val.txt")):
        make_synthetic_cityscapes(out, num_train=args.street_images, num_val=args.street_images,
                                  size=(512, 256), seed=0)
        convert_dataset(out, num_workers=0, progress=False)
        print(f"{out}: {args.street_images} train + {args.street_images} val images", flush=True)


def check(args, names: set[str]) -> None:
    """A clear error when a set the runs need is missing."""
    for name in sorted(names):
        lists = ("train.txt", "val.txt")
        if not all(os.path.isfile(os.path.join(args.data_dir, name, f)) for f in lists):
            raise HumanSegError(f"{os.path.join(args.data_dir, name)} holds no data set (train.txt"
                                f" / val.txt missing); make it with --phase data "
                                f"(--data_dir {args.data_dir})")
