"""Data-loading benchmark: our Cityscapes training pipeline against PaddleSeg 2.8.0's, in one process.

Both read the same synthetic Cityscapes files (made here at 2048x1024, the Cityscapes size, and
converted to trainIds) and run the transforms of the Cityscapes configs — ResizeStepScaling
0.5-2.0 step 0.25, RandomPaddingCrop 1024x512, RandomHorizontalFlip, RandomDistort 0.4/0.4/0.4,
Normalize — then batch them (batch 4), with 0 and 2 loader workers. Ours: Cityscapes +
humanseg.datasets.loader.build_train_loader (what tools/train.py uses); PaddleSeg: its Cityscapes
+ DistributedBatchSampler + DataLoader as in paddleseg/core/train.py.

Usage: python bench/bench_data.py [--samples N] [--rounds N] [--images N] [--epoch_samples N]
                                  [--batch_size N] [--workers 0 2] [--data_dir DIR] [--crop W H]

Rounds alternate the order (ours first, then PaddleSeg first, ...), each builds both loaders
afresh, warms them up with one batch (workers started) and times ``--samples`` samples; the ratio
ours / PaddleSeg (>1: ours is faster) is taken per round and the median is printed with the
min-max spread over the rounds, so load from other processes on a shared machine hits both alike.
Rows:
  dataset        decode + transforms only, no loader, alternating sample by sample (blocks of 8).
  N workers      the loaders within an epoch: the file list is repeated so that one epoch holds
                 ``--epoch_samples`` samples (Cityscapes' train split has 2975) and the timed
                 window does not reach an epoch boundary.
  N short        the loaders over epochs of ``--images`` samples, i.e. an epoch boundary every
                 few batches: what each loader does between epochs (PaddleSeg's DataLoader starts
                 its workers again; ours keeps one iterator over all epochs).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
warnings.filterwarnings("ignore")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--samples", type=int, default=48, help="samples timed per run (after 1 batch warm-up)")
    p.add_argument("--rounds", type=int, default=5, help="rounds per row (ours and PaddleSeg each)")
    p.add_argument("--images", type=int, default=8, help="synthetic train images")
    p.add_argument("--epoch_samples", type=int, default=2975,
                   help="samples per epoch in the within-epoch rows (the file list repeated)")
    p.add_argument("--batch_size", type=int, default=4)
    p.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    p.add_argument("--short", type=int, nargs="*", default=[2],
                   help="worker counts for the short-epoch rows (none: skip them)")
    p.add_argument("--crop", type=int, nargs=2, default=[1024, 512], metavar=("W", "H"))
    p.add_argument("--size", type=int, nargs=2, default=[2048, 1024], metavar=("W", "H"),
                   help="synthetic image size (default: Cityscapes' 2048x1024)")
    p.add_argument("--data_dir", default=None, help="reuse/make the synthetic set here (default: a temp dir)")
    return p.parse_args(argv)


def transform_cfg(crop: list[int]) -> list[dict]:
    return [{"type": "ResizeStepScaling", "min_scale_factor": 0.5, "max_scale_factor": 2.0,
             "scale_step_size": 0.25},
            {"type": "RandomPaddingCrop", "crop_size": list(crop)},
            {"type": "RandomHorizontalFlip"},
            {"type": "RandomDistort", "brightness_range": 0.4, "contrast_range": 0.4,
             "saturation_range": 0.4},
            {"type": "Normalize"}]


def repeat_list(ds, epoch_samples: int | None):
    """Repeat the dataset's file list to ``epoch_samples`` entries (both datasets keep one)."""
    if epoch_samples:
        n = len(ds.file_list)
        ds.file_list = [ds.file_list[i % n] for i in range(max(epoch_samples, n))]
    return ds


def ours_loader(root: str, crop: list[int], batch_size: int, workers: int,
                epoch_samples: int | None = None):
    from humanseg.cvlibs.registry import DATASETS, build
    from humanseg.datasets.loader import build_train_loader
    ds = build({"type": "Cityscapes", "dataset_root": root, "mode": "train",
                "transforms": transform_cfg(crop)}, DATASETS)
    sampler, loader = build_train_loader(repeat_list(ds, epoch_samples), batch_size, seed=0,
                                         num_workers=workers)
    return sampler, loader


def paddleseg_loader(root: str, crop: list[int], batch_size: int, workers: int,
                     epoch_samples: int | None = None):
    import paddle
    import paddleseg.transforms as PT
    from paddleseg.datasets import Cityscapes
    from paddleseg.utils import worker_init_fn
    ops = []
    for t in transform_cfg(crop):
        t = dict(t)
        ops.append(getattr(PT, t.pop("type"))(**t))
    ds = repeat_list(Cityscapes(transforms=ops, dataset_root=root, mode="train"), epoch_samples)
    sampler = paddle.io.DistributedBatchSampler(ds, batch_size=batch_size, shuffle=True,
                                                drop_last=True)
    loader = paddle.io.DataLoader(ds, batch_sampler=sampler, num_workers=workers,
                                  return_list=True, worker_init_fn=worker_init_fn)
    return sampler, loader


def time_loader(sampler, loader, samples: int, batch_size: int) -> float:
    """Samples per second over ``samples`` samples, after one warm-up batch (workers started)."""
    from humanseg.datasets.loader import close_iterator
    epoch, seen, start = 0, -batch_size, None
    while seen < samples:
        sampler.set_epoch(epoch)
        batches = iter(loader)
        for batch in batches:
            img = batch["img"] if isinstance(batch, dict) else batch[0]
            assert list(img.shape[:1]) == [batch_size]
            seen += batch_size
            if start is None:
                start, seen = time.perf_counter(), 0
            if seen >= samples:
                break
        epoch += 1
    rate = seen / (time.perf_counter() - start)
    close_iterator(batches)  # an iterator left mid-epoch keeps its thread and workers otherwise
    return rate


def dataset_rates(root: str, crop: list[int], samples: int, block: int = 8) -> list[tuple]:
    """(ours, PaddleSeg) samples/s of the two datasets alone (decode + transforms, no loader) per
    block of ``block`` samples, alternating sample by sample with the same seeds (and which one
    goes first) so that load from other processes hits both alike."""
    import random

    import numpy as np
    ours = ours_loader(root, crop, 1, 0)[1].dataset.dataset
    theirs = paddleseg_loader(root, crop, 1, 0)[1].dataset
    blocks = []
    for first in range(0, samples, block):
        spent = {"ours": 0.0, "paddleseg": 0.0}
        for i in range(first, min(first + block, samples)):
            pair = [("ours", ours), ("paddleseg", theirs)]
            for name, ds in (pair if i % 2 == 0 else pair[::-1]):
                random.seed(i)
                np.random.seed(i)
                start = time.perf_counter()
                ds[i % len(ds)]
                spent[name] += time.perf_counter() - start
        n = min(first + block, samples) - first
        blocks.append((n / spent["ours"], n / spent["paddleseg"]))
    return blocks


def rounds_of_loaders(root: str, args, workers: int, epoch_samples: int | None) -> list[tuple]:
    """(ours, PaddleSeg) samples/s per round; the order alternates round by round."""
    out = []
    for r in range(args.rounds):
        makers = [("ours", ours_loader), ("paddleseg", paddleseg_loader)]
        rates = {}
        for name, make in (makers if r % 2 == 0 else makers[::-1]):
            sampler, loader = make(root, args.crop, args.batch_size, workers, epoch_samples)
            rates[name] = time_loader(sampler, loader, args.samples, args.batch_size)
            del sampler, loader
        out.append((rates["ours"], rates["paddleseg"]))
    return out


def summary(label: str, pairs: list[tuple], note: str = "") -> tuple:
    """Print one row: median rates, median ratio and the min-max of the per-round ratios."""
    ratios = [o / p for o, p in pairs]
    ours = statistics.median(o for o, _ in pairs)
    theirs = statistics.median(p for _, p in pairs)
    mid = statistics.median(ratios)
    print(f"{label:>9} {ours:15.2f} {theirs:20.2f} {mid:6.3f}x  {min(ratios):.3f}-{max(ratios):.3f}"
          f"  {len(pairs):3d}  {note}", flush=True)
    return label, ours, theirs, mid, min(ratios), max(ratios)


def make_data(data_dir: str, images: int, size: list[int]) -> str:
    from humanseg.datasets.cityscapes_labels import convert_dataset
    from humanseg.datasets.synthetic.cityscapes import make_synthetic_cityscapes
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
          f"{args.crop[0]}x{args.crop[1]}, batch {args.batch_size}, {args.samples} samples timed "
          f"per run, {args.rounds} rounds, {os.cpu_count()} CPU(s), load average "
          f"{os.getloadavg()[0]:.2f}")
    print(f"{'row':>9} {'ours samples/s':>15} {'PaddleSeg samples/s':>20} {'ratio':>7}  "
          f"{'spread':>11}  {'n':>3}")
    began = time.perf_counter()
    summary("dataset", dataset_rates(root, args.crop, args.samples * 2 // 3),
            "decode + transforms only, blocks of 8 samples")
    for workers in args.workers:
        summary(f"{workers} wrk", rounds_of_loaders(root, args, workers, args.epoch_samples),
                f"within an epoch of {args.epoch_samples}")
    for workers in args.short:
        summary(f"{workers} short", rounds_of_loaders(root, args, workers, None),
                f"epochs of {args.images} samples")
    print(f"took {time.perf_counter() - began:.0f} s; load average now "
          f"{os.getloadavg()[0]:.2f}")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
