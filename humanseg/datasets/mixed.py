"""Several datasets sampled by ratio as one (``MixedDataset``)."""
from __future__ import annotations

import numpy as np
import paddle

from humanseg.cvlibs.registry import DATASETS
from humanseg.errors import ConfigError


@DATASETS.register
class MixedDataset(paddle.io.Dataset):
    """Draws ``length`` samples per epoch from ``datasets`` in proportion to ``ratios``.

    The mix is fixed at construction from ``seed``: dataset ``k`` contributes
    ``round(ratios[k] / sum(ratios) * length)`` indices (largest remainders), taken from shuffled
    passes over it, so a small set is repeated and a large one subsampled. The loader's sampler
    shuffles the mixed indices as usual. Every dataset keeps its own transforms; they must agree on
    ``num_classes``, ``ignore_index`` and ``mode``.

    PaddleSeg 2.8 has no dataset of this kind; the name follows the issue that asked for it.

    Args:
        datasets: Built datasets (config: a list of dataset mappings with ``type``).
        ratios: One non-negative weight per dataset (default: their sizes, i.e. concatenation).
        length: Samples per epoch (default: the sum of the dataset sizes).
        seed: Seed of the mix.
        num_classes: Optional; checked against the datasets (lets config checks see it).
    """

    NUM_CLASSES: int | None = None
    IGNORE_INDEX = 255

    def __init__(self, datasets: list, ratios: list[float] | None = None, length: int | None = None,
                 seed: int = 0, num_classes: int | None = None):
        if not isinstance(datasets, (list, tuple)) or not datasets:
            raise ConfigError("MixedDataset: datasets must be a non-empty list of datasets.")
        for i, ds in enumerate(datasets):
            if isinstance(ds, dict) or not hasattr(ds, "__getitem__"):
                raise ConfigError(f"MixedDataset: datasets[{i}] is not a dataset (give a mapping "
                                  f"with a registered `type`).")
        for attr in ("num_classes", "ignore_index", "mode"):
            values = {getattr(ds, attr, None) for ds in datasets}
            if len(values) > 1:
                raise ConfigError(f"MixedDataset: the datasets differ in {attr}: {sorted(map(str, values))}.")
        self.datasets = list(datasets)
        self.num_classes = datasets[0].num_classes
        self.ignore_index = datasets[0].ignore_index
        self.mode = datasets[0].mode
        if num_classes is not None and num_classes != self.num_classes:
            raise ConfigError(f"MixedDataset: num_classes {num_classes} differs from the datasets' "
                              f"{self.num_classes}.")
        sizes = [len(ds) for ds in datasets]
        ratios = list(sizes) if ratios is None else list(ratios)
        if len(ratios) != len(datasets) or min(ratios) < 0 or sum(ratios) <= 0:
            raise ConfigError(f"MixedDataset: ratios must be {len(datasets)} non-negative numbers "
                              f"with a positive sum, got {ratios}.")
        length = sum(sizes) if length is None else int(length)
        if length <= 0:
            raise ConfigError(f"MixedDataset: length must be positive, got {length}.")
        self.ratios, self.seed = ratios, seed
        self.counts = _apportion(np.asarray(ratios, float) / sum(ratios) * length)
        self._index = []
        for k, (count, size) in enumerate(zip(self.counts, sizes)):
            rng = np.random.default_rng([seed, k])
            passes = -(-count // size) if count else 0
            order = np.concatenate([rng.permutation(size) for _ in range(passes)] or [[]])
            self._index += [(k, int(j)) for j in order[:count]]

    def __len__(self) -> int:
        return len(self._index)

    def locate(self, idx: int) -> tuple[int, int]:
        """(dataset number, index in it) of mixed sample ``idx``."""
        return self._index[idx]

    def __getitem__(self, idx: int) -> dict:
        k, j = self._index[idx]
        return self.datasets[k][j]


def _apportion(shares: np.ndarray) -> list[int]:
    """Integers summing to round(sum(shares)), each the floor or ceiling of its share."""
    floors = np.floor(shares).astype(int)
    rest = int(round(shares.sum())) - int(floors.sum())
    for k in np.argsort(-(shares - floors), kind="stable")[:rest]:
        floors[k] += 1
    return floors.tolist()
