"""What the training loop needs to run data-parallel: who this rank is, sums and agreements over the ranks,
and the checks on the loaders' samplers.

All of it is a no-op in one process: `active()` is False unless a process group of more than one rank is
initialized, and the Trainer calls nothing else then. Every function that communicates must be called by
every rank at the same point of the loop, which is why decisions (stop, skip a step) go through `agree`.
"""

import numpy as np

from .. import distributed as dist
from ..creation import from_numpy
from ..data import DistributedSampler


def active():
    """True inside a process group of more than one rank."""
    return dist.is_initialized() and dist.get_world_size() > 1


def is_main_process():
    """Rank 0 of a process group, or the only process: the one that prints and writes files."""
    return not dist.is_initialized() or dist.get_rank() == 0


def _reduced(values, op, dtype=np.float64):
    array = np.array(values, dtype=dtype)
    dist.all_reduce(from_numpy(array), op=op)  # in place, on the array's memory
    return array


def sum_over_ranks(values):
    """The element-wise sums over the ranks of a list of numbers (float64: counts stay exact below 2**53)."""
    return _reduced(values, dist.ReduceOp.SUM).tolist()


def max_over_ranks(values):
    return _reduced(values, dist.ReduceOp.MAX).tolist()


def sum_array_over_ranks(array):
    """An int64 NumPy array (a confusion matrix) summed over the ranks."""
    return _reduced(array, dist.ReduceOp.SUM, np.int64)


def agree(flags):
    """Each flag True on every rank when it is True on any rank (one small all_reduce)."""
    return [bool(v) for v in _reduced([bool(f) for f in flags], dist.ReduceOp.MAX, np.int64)]


def first_reason(reason):
    """The first non-None of the ranks' reasons, in rank order (every rank gets the same text)."""
    reasons = [None] * dist.get_world_size()
    dist.all_gather_object(reasons, reason)
    return next((r for r in reasons if r is not None), None)


def sampler_of(loader):
    """The sampler choosing a loader's samples: DataLoader.sampler, or its batch_sampler's sampler."""
    sampler = getattr(loader, "sampler", None)
    if not isinstance(sampler, DistributedSampler):
        sampler = getattr(getattr(loader, "batch_sampler", None), "sampler", sampler)
    return sampler


def check_train_sampler(loader, op):
    """In a process group, the train loader must give each rank its own equal share of the data."""
    sampler = sampler_of(loader)
    rank, size = dist.get_rank(), dist.get_world_size()
    if not isinstance(sampler, DistributedSampler):
        raise ValueError(
            f"[{op}] distributed training ({size} ranks) needs a train loader that gives each rank its own "
            "share of the data: DataLoader(train_set, batch_size=..., sampler=pycnn.data.DistributedSampler("
            f"train_set)); got a loader with sampler {type(sampler).__name__}"
        )
    if (sampler.num_replicas, sampler.rank) != (size, rank):
        raise ValueError(
            f"[{op}] the train loader's DistributedSampler has num_replicas={sampler.num_replicas}, "
            f"rank={sampler.rank}, but this process is rank {rank} of {size}"
        )
    if not sampler.pad and len(sampler.dataset) % size:
        raise ValueError(
            f"[{op}] the train loader's DistributedSampler has pad=False, so the ranks get different numbers of "
            f"batches ({len(sampler.dataset)} samples over {size} ranks) and would wait for each other's "
            "gradients: use pad=True (the default) or drop_last=True for training"
        )


def set_epoch(loader, epoch):
    """Tell a DistributedSampler which epoch starts, so each epoch has its own order (the same on all ranks)."""
    sampler = sampler_of(loader)
    if isinstance(sampler, DistributedSampler):
        sampler.set_epoch(epoch)
