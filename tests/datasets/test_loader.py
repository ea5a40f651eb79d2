"""The seeded batch sampler: epochs, ranks, resume position and reproducible augmentation."""
import numpy as np

from humanseg.datasets.loader import SeededBatchSampler, SeededSamples


def keys(sampler):
    return [k for batch in sampler for k in batch]


def test_each_epoch_is_a_permutation_that_changes():
    s = SeededBatchSampler(10, 3, seed=5, drop_last=False)
    e0 = [i for i, _ in keys(s)]
    s.set_epoch(1)
    e1 = [i for i, _ in keys(s)]
    assert sorted(e0) == sorted(e1) == list(range(10)) and e0 != e1
    assert len(s) == 4 and s.batches_per_epoch() == 4
    s.set_epoch(0)
    assert [i for i, _ in keys(s)] == e0


def test_drop_last_and_resume_position():
    s = SeededBatchSampler(10, 3, seed=1)
    full = list(s)
    assert len(full) == 3 and all(len(b) == 3 for b in full)
    s.set_epoch(0, start_batch=2)
    assert list(s) == full[2:] and len(s) == 1


def test_ranks_get_disjoint_equal_shards():
    shards = [keys(SeededBatchSampler(11, 2, seed=0, rank=r, world_size=2)) for r in (0, 1)]
    a, b = ({i for i, _ in s} for s in shards)
    assert not a & b and len(shards[0]) == len(shards[1]) == 4


def test_sample_seeds_make_augmentation_independent_of_order():
    class Draw:
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return i, np.random.rand()

    ds = SeededSamples(Draw())
    batch = list(SeededBatchSampler(4, 4, seed=2))[0]
    forward = [ds[k] for k in batch]
    backward = [ds[k] for k in reversed(batch)][::-1]
    assert forward == backward
