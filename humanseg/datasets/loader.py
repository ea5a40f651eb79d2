"""Data loading: a seeded batch sampler and per-sample seeding that make augmentation reproducible,
and loader workers tuned for large images (see ``init_worker``)."""
from __future__ import annotations

import ctypes
import threading
import random

import numpy as np
import paddle

from humanseg import errors
from humanseg.errors import ConfigError, HumanSegError


class SeededBatchSampler(paddle.io.Sampler):
    """Yields batches of ``(index, sample_seed)`` keys, shuffled per epoch from ``seed``.

    Each sample's augmentation is seeded by its key, so results do not depend on the number of
    loader workers, and a run resumed at (epoch, position) sees exactly the same batches.
    Ranks take interleaved slices of each epoch's order (data parallel).

    Args:
        length: Dataset size.
        batch_size: Samples per batch on this rank.
        shuffle: Shuffle each epoch.
        drop_last: Drop the last incomplete batch.
        seed: Base seed.
        rank, world_size: This process's rank and the number of ranks.
        endless: Iterate epoch after epoch without end (from ``set_epoch``'s position), so that
            one loader iterator, and its workers, serve the whole training: no worker restart
            and no empty prefetch queue at epoch boundaries. The consumer counts epochs with
            ``batches_per_epoch()`` (the Trainer does). ``len()`` is then one epoch's remainder.
    """

    def __init__(self, length: int, batch_size: int, shuffle: bool = True, drop_last: bool = True,
                 seed: int = 0, rank: int = 0, world_size: int = 1, endless: bool = False):
        self.length, self.batch_size = length, batch_size
        self.shuffle, self.drop_last, self.seed = shuffle, drop_last, seed
        self.rank, self.world_size = rank, world_size
        self.endless = endless
        self.epoch = 0
        self.start_batch = 0

    def set_epoch(self, epoch: int, start_batch: int = 0) -> None:
        self.epoch, self.start_batch = epoch, start_batch

    def _order(self, epoch: int) -> np.ndarray:
        if not self.shuffle:
            return np.arange(self.length)
        return np.random.default_rng([self.seed, epoch]).permutation(self.length)

    def batches_per_epoch(self) -> int:
        if self.drop_last:
            return (self.length // self.world_size) // self.batch_size
        per_rank = -(-self.length // self.world_size)
        return -(-per_rank // self.batch_size)

    def epoch_batches(self, epoch: int, start_batch: int = 0):
        """The batches of ``epoch`` from ``start_batch`` on, as ``(index, sample_seed)`` keys."""
        order = self._order(epoch)
        per_rank = self.length // self.world_size if self.drop_last else len(order)
        mine = order[self.rank::self.world_size][:per_rank]
        base = (self.seed * 1_000_003 + epoch * 7_919) % (2 ** 31)
        for b in range(start_batch, self.batches_per_epoch()):
            idx = mine[b * self.batch_size:(b + 1) * self.batch_size]
            yield [(int(i), (base + int(i)) % (2 ** 31)) for i in idx]

    def __iter__(self):
        epoch, start = self.epoch, self.start_batch
        while True:
            yield from self.epoch_batches(epoch, start)
            if not self.endless:
                return
            epoch, start = epoch + 1, 0

    def __len__(self) -> int:
        return max(self.batches_per_epoch() - self.start_batch, 0)


class SeededSamples(paddle.io.Dataset):
    """Wraps a dataset so that ``ds[(index, seed)]`` seeds ``random`` and NumPy before loading
    (``ds[index]`` when ``seeded`` is False), and a user error becomes data.

    A HumanSegError raised while loading (a corrupt image, a bad label) is returned as
    ``{'error': ...}`` so that it crosses from a loader worker to the main process intact, where
    ``raise_if_error`` raises it again: the user sees one message, not a worker traceback.
    """

    def __init__(self, dataset: paddle.io.Dataset, seeded: bool = True):
        self.dataset, self.seeded = dataset, seeded

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key):
        idx = key
        if self.seeded:
            idx, seed = key
            random.seed(seed)
            np.random.seed(seed)
        try:
            return self.dataset[idx]
        except HumanSegError as e:
            return {"error": [type(e).__name__, str(e)]}


def raise_if_error(batch: dict) -> dict:
    """Raise the user error a loader worker returned in ``batch`` (see SeededSamples)."""
    if "error" in batch:
        kind, message = batch["error"]
        raise getattr(errors, kind, errors.DataError)(message)
    return batch


def collate(samples: list[dict]) -> dict:
    """Stack images and labels as NumPy arrays (the loader makes tensors of them, through shared
    memory from workers); keep per-sample metadata (trans_info, paths) as lists."""
    failed = [s["error"] for s in samples if "error" in s]
    if failed:  # a batch with no array at all trips Paddle's worker transfer, hence "img"
        return {"error": failed[0], "img": np.zeros(1, dtype="float32")}
    out = {"img": np.stack([s["img"] for s in samples])}
    if all("label" in s for s in samples):
        out["label"] = np.stack([s["label"] for s in samples])
    for key in ("trans_info", "img_path"):
        if key in samples[0]:
            out[key] = [s[key] for s in samples]
    return out


_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4  # glibc mallopt parameters (malloc.h)


def tune_worker_memory() -> bool:
    """Make glibc keep freed memory for reuse instead of returning it to the system.

    A 2048x1024 sample makes float32 arrays of 25-100 MB (decode, a 2x rescale). glibc serves
    blocks over 32 MB with a fresh mmap and unmaps them on free, so every sample pays the page
    faults of touching new memory again: measured, ``astype(float32)`` of a 2048x1024x3 image
    25 -> 4 ms and a 2x ``cv2.resize`` 143 -> 26 ms once blocks are reused. Only for loader
    worker processes (short-lived, one job); returns False where it is not glibc.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(_M_MMAP_MAX, 0) and libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30))
    except (OSError, AttributeError):
        return False


def init_worker(worker_id: int) -> None:
    """The loaders' ``worker_init_fn``: ``tune_worker_memory``. Sample seeds come from the
    sampler, so workers need no seeding. (``cv2.setNumThreads`` here was tried and deadlocks the
    forked worker once the parent process has used OpenCV's thread pool.)"""
    tune_worker_memory()


def build_train_loader(dataset, batch_size: int, seed: int = 0, num_workers: int = 0,
                       rank: int = 0, world_size: int = 1, prefetch_factor: int = 2):
    """Return (sampler, loader) for training.

    The sampler is endless (see SeededBatchSampler): ``sampler.set_epoch(epoch, batch)`` then
    one ``iter(loader)`` yields every later batch; the consumer counts epochs with
    ``sampler.batches_per_epoch()`` (the Trainer does), so workers start once per run.
    """
    if len(dataset) < batch_size * world_size:
        raise ConfigError(f"train_dataset has {len(dataset)} samples, fewer than batch_size "
                          f"{batch_size} x {world_size} rank(s); lower batch_size.")
    sampler = SeededBatchSampler(len(dataset), batch_size, shuffle=True, drop_last=True, seed=seed,
                                 rank=rank, world_size=world_size, endless=True)
    loader = paddle.io.DataLoader(SeededSamples(dataset), batch_sampler=sampler,
                                  collate_fn=collate, num_workers=num_workers,
                                  return_list=True, use_shared_memory=True,
                                  prefetch_factor=prefetch_factor,
                                  worker_init_fn=init_worker if num_workers else None)
    return sampler, loader


def close_iterator(batches) -> None:
    """Stop a loader iterator's prefetch thread and worker processes now.

    Paddle's prefetch thread holds a reference to its iterator, so an iterator dropped before its
    end is never collected and keeps its thread (and workers) alive; an endless one never ends.
    """
    thread = getattr(batches, "_thread", None)
    if not hasattr(batches, "_workers") and isinstance(thread, threading.Thread):
        # single process: Paddle's own shutdown polls the thread once a second; stop it first
        batches._thread_done_event.set()
        if batches._blocking_queue is not None:
            batches._blocking_queue.close()
        thread.join(timeout=5)
    shutdown = getattr(batches, "_try_shutdown_all", None)
    if shutdown is not None:
        shutdown()


def build_eval_loader(dataset, num_workers: int = 0):
    """A loader over ``dataset`` in order, one sample per batch (labels keep their own sizes)."""
    return paddle.io.DataLoader(SeededSamples(dataset, seeded=False), batch_size=1, shuffle=False,
                                collate_fn=collate, num_workers=num_workers, return_list=True,
                                use_shared_memory=True,
                                worker_init_fn=init_worker if num_workers else None)
