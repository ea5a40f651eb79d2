"""Data-loading benchmark: our Cityscapes training pipeline against PaddleSeg 2.8.0's, in one process.

Both read the same synthetic Cityscapes files (made here at 2048x1024, the Cityscapes size, and
converted to trainIds) and run the transforms of the Cityscapes configs — ResizeStepScaling
0.5-2.0 step 0.25, RandomPaddingCrop 1024x512, RandomHorizontalFlip, RandomDistort 0.4/0.4/0.4,
Normalize — then batch them (batch 4), with 0 and 2 loader workers. Ours: Cityscapes +
humanseg.datasets.loader.build_train_loader (what tools/train.py uses); PaddleSeg: its Cityscapes
+ DistributedBatchSampler + DataLoader as in paddleseg/core/train.py.

Usage: python bench/bench_data.py [--samples N] [--images N] [--batch_size N] [--workers 0 2]
                                  [--data_dir DIR] [--crop W H]
Prints samples/s for each and the ratio ours / PaddleSeg (>1: ours is faster); the first row times
the datasets alone (decode + transforms, alternating sample by sample), the others the loaders.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
warnings.filterwarnings("ignore")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--samples", type=int, default=32, help="samples timed per run (after 1 batch warm-up)")
    p.add_argument("--images", type=int, default=8, help="synthetic train images")
    p.add_argument("--batch_size", type=int, default=4)
    p.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    p.add_argument("--crop", type=int, nargs=2, default=[1024, 512], metavar=("W", "H"))
    p.add_argument("--size", type=int, nargs=2, default=[2048, 1024], metavar=("W", "H"),
                   help="synthetic image size (default: Cityscapes' 2048x1024)")
    p.add_argument("--data_dir", default=None, help="reuse/make the synthetic set here (default: a temp dir)")
    p.add_argument("--repeats", type=int, default=2,
                   help="runs per setting, ours and PaddleSeg alternating; the best is kept")
    return p.parse_args(argv)


def transform_cfg(crop: list[int]) -> list[dict]:
    return [{"type": "ResizeStepScaling", "min_scale_factor": 0.5, "max_scale_factor": 2.0,
             "scale_step_size": 0.25},
            {"type": "RandomPaddingCrop", "crop_size": list(crop)},
            {"type": "RandomHorizontalFlip"},
            {"type": "RandomDistort", "brightness_range": 0.4, "contrast_range": 0.4,
             "saturation_range": 0.4},
            {"type": "Normalize"}]


def ours_loader(root: str, crop: list[int], batch_size: int, workers: int):
    from humanseg.cvlibs.registry import DATASETS, build
    from humanseg.datasets.loader import build_train_loader
    ds = build({"type": "Cityscapes", "dataset_root": root, "mode": "train",
                "transforms": transform_cfg(crop)}, DATASETS)
    sampler, loader = build_train_loader(ds, batch_size, seed=0, num_workers=workers)
    return sampler, loader


def paddleseg_loader(root: str, crop: list[int], batch_size: int, workers: int):
    import paddle
    import paddleseg.transforms as PT
    from paddleseg.datasets import Cityscapes
    from paddleseg.utils import worker_init_fn
    ops = []
    for t in transform_cfg(crop):
        t = dict(t)
        ops.append(getattr(PT, t.pop("type"))(**t))
    ds = Cityscapes(transforms=ops, dataset_root=root, mode="train")
    sampler = paddle.io.DistributedBatchSampler(ds, batch_size=batch_size, shuffle=True,
                                                drop_last=True)
    loader = paddle.io.DataLoader(ds, batch_sampler=sampler, num_workers=workers,
                                  return_list=True, worker_init_fn=worker_init_fn)
    return sampler, loader


def time_loader(sampler, loader, samples: int, batch_size: int) -> float:
    """Samples per second over ``samples`` samples, after one warm-up batch (workers started)."""
    epoch, seen, start = 0, -batch_size, None
    while seen < samples:
        sampler.set_epoch(epoch)
        for batch in loader:
            img = batch["img"] if isinstance(batch, dict) else batch[0]
            assert list(img.shape[:1]) == [batch_size]
            seen += batch_size
            if start is None:
                start, seen = time.perf_counter(), 0
            if seen >= samples:
                break
        epoch += 1
    return seen / (time.perf_counter() - start)


def dataset_rates(root: str, crop: list[int], samples: int) -> tuple[float, float]:
    """Samples/s of the two datasets alone (decode + transforms, no loader), alternating sample by
    sample with the same seeds so that load from other processes hits both alike."""
    import random

    import numpy as np
    ours = ours_loader(root, crop, 1, 0)[1].dataset.dataset
    theirs = paddleseg_loader(root, crop, 1, 0)[1].dataset
    spent = {"ours": 0.0, "paddleseg": 0.0}
    for i in range(samples):
        for name, ds in (("ours", ours), ("paddleseg", theirs)):
            random.seed(i)
            np.random.seed(i)
            start = time.perf_counter()
            ds[i % len(ds)]
            spent[name] += time.perf_counter() - start
    return samples / spent["ours"], samples / spent["paddleseg"]


def make_data(data_dir: str, images: int, size: list[int]) -> str:
    from humanseg.datasets.cityscapes_labels import convert_dataset
    from humanseg.datasets.synthetic_cityscapes import make_synthetic_cityscapes
    meta = os.path.join(data_dir, "meta.json")
    if not os.path.isfile(meta) or not os.path.isfile(os.path.join(data_dir, "train.txt")):
        make_synthetic_cityscapes(data_dir, num_train=images, num_val=1, size=tuple(size),
                                  seed=0, progress=False)
        convert_dataset(data_dir, num_workers=2, progress=False)
    return data_dir


def main(argv=None) -> int:
    args = parse_args(argv)
    tmp = None
    if args.data_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench_data_")
        args.data_dir = tmp.name
    root = make_data(args.data_dir, args.images, args.size)
    import paddle
    paddle.set_device("cpu")
    print(f"{args.images} synthetic Cityscapes images {args.size[0]}x{args.size[1]}, crop "
          f"{args.crop[0]}x{args.crop[1]}, batch {args.batch_size}, {args.samples} samples timed, "
          f"best of {args.repeats}, {os.cpu_count()} CPU(s)")
    print(f"{'workers':>7} {'ours samples/s':>15} {'PaddleSeg samples/s':>20} {'ratio':>6}")
    rows = []
    ours_ds, ps_ds = dataset_rates(root, args.crop, args.samples)
    print(f"{'dataset':>7} {ours_ds:15.2f} {ps_ds:20.2f} {ours_ds / ps_ds:5.2f}x   "
          f"(decode + transforms only, no loader)", flush=True)
    for workers in args.workers:
        rates = {"ours": 0.0, "paddleseg": 0.0}
        for _ in range(args.repeats):  # alternate, so load from other processes hits both alike
            for name, make in (("ours", ours_loader), ("paddleseg", paddleseg_loader)):
                sampler, loader = make(root, args.crop, args.batch_size, workers)
                rate = time_loader(sampler, loader, args.samples, args.batch_size)
                rates[name] = max(rates[name], rate)
                del loader
        ratio = rates["ours"] / rates["paddleseg"]
        rows.append((workers, rates["ours"], rates["paddleseg"], ratio))
        print(f"{workers:7d} {rates['ours']:15.2f} {rates['paddleseg']:20.2f} {ratio:5.2f}x",
              flush=True)
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
