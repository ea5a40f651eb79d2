"""The endless training loader: one iterator over all epochs, same batches as epoch by epoch,
workers stopped on close, and the Trainer's epoch counting (exact resume positions)."""
import multiprocessing

import numpy as np

from humanseg.datasets.loader import (SeededBatchSampler, build_train_loader, close_iterator,
                                      tune_worker_memory)


def test_endless_sampler_chains_the_epochs_from_the_resume_position():
    finite = SeededBatchSampler(10, 3, seed=4)
    epochs = []
    for e in range(3):
        finite.set_epoch(e)
        epochs.append(list(finite))
    endless = SeededBatchSampler(10, 3, seed=4, endless=True)
    endless.set_epoch(0, start_batch=1)
    it = iter(endless)
    assert [next(it) for _ in range(7)] == epochs[0][1:] + epochs[1] + epochs[2][:2]
    endless.set_epoch(1, start_batch=3)  # resumed right after the last batch of epoch 1
    assert next(iter(endless)) == epochs[2][0]


class Tiny:
    """Each sample's image holds its index and one draw from the seeded NumPy generator."""

    def __len__(self):
        return 6

    def __getitem__(self, i):
        img = np.full((3, 4, 4), i, dtype="float32")
        img[0, 0, 0] = np.random.rand()
        return {"img": img, "label": np.zeros((4, 4), dtype="int64")}


def batches(workers, count):
    sampler, loader = build_train_loader(Tiny(), 2, seed=3, num_workers=workers)
    sampler.set_epoch(0)
    it = iter(loader)
    out = [next(it)["img"].numpy() for _ in range(count)]
    close_iterator(it)
    return out


def test_workers_give_the_same_batches_across_epochs_and_stop_on_close():
    serial = batches(0, 7)  # 3 batches per epoch: crosses two epoch boundaries
    parallel = batches(2, 7)
    for a, b in zip(serial, parallel):
        np.testing.assert_array_equal(a, b)
    assert sorted({int(v) for b in serial[:3] for v in b[:, 1, 0, 0]}) == list(range(6))
    assert not [p for p in multiprocessing.active_children() if p.is_alive()]


def test_worker_memory_tuning_applies_on_glibc():
    # in a child process: it is meant for loader workers, not for the test process
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.apply(tune_worker_memory) is True
