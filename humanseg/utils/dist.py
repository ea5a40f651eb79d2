"""Data-parallel helpers: the launcher's environment, collectives on NumPy arrays, SyncBN choice.

``python -m paddle.distributed.launch --nproc_per_node N tools/train.py ...`` starts N processes
and tells each its rank through ``PADDLE_TRAINER_ID`` / ``PADDLE_TRAINERS_NUM``. Everything here
is a no-op for a single process, so the same code runs with and without the launcher.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import numpy as np
import paddle


@dataclass(frozen=True)
class DistEnv:
    """Where this process stands in a data-parallel run.

    Attributes:
        rank: Global rank (0 for a single process).
        world_size: Number of processes.
        local_rank: Rank on this node (selects the GPU).
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Rank 0: the one that logs and writes files."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def env_from_launcher(environ: dict | None = None) -> DistEnv:
    """Read rank and world size from the variables ``paddle.distributed.launch`` sets."""
    environ = os.environ if environ is None else environ
    world = int(environ.get("PADDLE_TRAINERS_NUM", "1") or 1)
    rank = int(environ.get("PADDLE_TRAINER_ID", "0") or 0)
    local = int(environ.get("PADDLE_LOCAL_RANK", environ.get("PADDLE_RANK_IN_NODE", rank)) or 0)
    return DistEnv(rank=rank, world_size=world, local_rank=local)


def init_distributed(environ: dict | None = None) -> DistEnv:
    """Initialise the process group when the launcher started more than one process."""
    dist = env_from_launcher(environ)
    if dist.distributed:
        paddle.distributed.init_parallel_env()
    return dist


def all_reduce_sum(array: np.ndarray, dist: DistEnv) -> np.ndarray:
    """Element-wise sum of ``array`` over all ranks (a copy; float64/int64 kept)."""
    array = np.asarray(array)
    if not dist.distributed:
        return array.copy()
    dtype = np.float64 if array.dtype.kind == "f" else np.int64
    tensor = paddle.to_tensor(array.astype(dtype))
    paddle.distributed.all_reduce(tensor)
    return tensor.numpy().astype(array.dtype)


def all_reduce_attrs(objects, dist: DistEnv) -> None:
    """Sum every NumPy-array attribute of each object over the ranks, in place.

    Metric accumulators (``IoUMetric.cm``, ``ConnectivityMetric.total/count``) hold only additive
    arrays, so summing them gives the accumulator of the whole dataset.
    """
    if not dist.distributed:
        return
    for obj in objects:
        for name in sorted(vars(obj)):
            value = getattr(obj, name)
            if isinstance(value, np.ndarray):
                setattr(obj, name, all_reduce_sum(value, dist))


def non_trainable_state(model: paddle.nn.Layer) -> dict[str, paddle.Tensor]:
    """State-dict tensors no optimizer updates: BatchNorm running mean/variance (Paddle keeps them
    as parameters with ``stop_gradient``, not as buffers), buffers and frozen parameters."""
    return {name: t for name, t in model.state_dict().items()
            if isinstance(t, paddle.Tensor) and t.stop_gradient}


def broadcast_statistics(model: paddle.nn.Layer, dist: DistEnv) -> None:
    """Give every rank rank 0's non-trainable state (BatchNorm running statistics).

    DataParallel averages gradients but not these, so each rank's BN statistics drift apart.
    Training in train mode never reads them; evaluation does, and rank 0's are the ones its
    checkpoints hold, so evaluating with them makes the reported metrics those of the saved model.
    """
    if not dist.distributed:
        return
    for tensor in non_trainable_state(model).values():
        paddle.distributed.broadcast(tensor, src=0)


def params_digest(model: paddle.nn.Layer) -> str:
    """SHA-256 over the trainable parameters (names, shapes, bytes)."""
    h = hashlib.sha256()
    for name, p in model.named_parameters():
        if p.stop_gradient:
            continue
        h.update(name.encode())
        h.update(np.ascontiguousarray(p.numpy()).tobytes())
    return h.hexdigest()


def gather_objects(obj, dist: DistEnv) -> list:
    """``[obj of rank 0, obj of rank 1, ...]`` on every rank."""
    if not dist.distributed:
        return [obj]
    out: list = []
    paddle.distributed.all_gather_object(out, obj)
    return out


def resolve_sync_bn(setting, device: str, dist: DistEnv) -> tuple[bool, str]:
    """Decide whether to convert BatchNorm to SyncBatchNorm.

    Args:
        setting: The config's ``sync_bn`` (checked by ``cvlibs.checks.check_sync_bn``): ``auto``
            (GPU with more than one rank, as PaddleSeg), ``true`` or ``false``.
        device: 'cpu' or 'gpu'.
        dist: The run's ranks.

    Returns:
        (use it, a log line saying which BatchNorm runs and why).
    """
    if setting is False:
        return False, "BatchNorm: per-rank statistics (sync_bn: false)"
    if not dist.distributed:
        return False, "BatchNorm: plain (single process; SyncBN not needed)"
    if device != "gpu":
        return False, ("BatchNorm: per-rank statistics; SyncBN has no CPU kernel in Paddle, so it "
                       f"is used only on GPU (sync_bn: {str(setting).lower()})")
    return True, f"BatchNorm: SyncBatchNorm across {dist.world_size} ranks (sync_bn: " \
                 f"{str(setting).lower()})"


def wrap_model(model: paddle.nn.Layer, dist: DistEnv, sync_bn: bool) -> paddle.nn.Layer:
    """The layer to call in training: ``DataParallel`` (after SyncBN conversion) when
    distributed, else ``model`` itself. Keep using ``model`` for saving and evaluation."""
    if not dist.distributed:
        return model
    if sync_bn:
        model = paddle.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    return paddle.DataParallel(model)
