"""DistributedSampler: each process of a data-parallel job visits its own share of a dataset (torch's rules).

Every rank draws the same permutation of the whole dataset (from seed + epoch, so no communication is
needed), pads it by repeating indices from its start until it divides evenly (or cuts the tail with
drop_last), and takes every num_replicas-th index starting at its rank. Call set_epoch(epoch) before each
epoch for a new order. pad=False (a pycnn addition, for evaluation) leaves the padding out: the shares
then differ in length by at most one and together hold every sample exactly once.
"""

import math

import numpy as np

from .. import distributed as dist
from .._convert import bool_arg, int_arg
from .sampler import Sampler, _check_sized

__all__ = ["DistributedSampler"]


def _world_default(value, name, getter):
    """num_replicas / rank as given, else the process group's; an error saying what to do without one."""
    if value is not None:
        return int_arg(value, name, "DistributedSampler")
    if not dist.is_initialized():
        raise RuntimeError(
            f"[DistributedSampler] {name} was not given and the default process group is not initialized: call "
            f"pycnn.distributed.init_process_group() first, or pass num_replicas and rank"
        )
    return getter()


class DistributedSampler(Sampler):
    """Yields the indices of `dataset` that belong to this rank, in an order shared by all ranks.

    Args:
        dataset: map-style dataset of size N.
        num_replicas (int, optional): number of ranks sharing the data. Default: the process group's world size.
        rank (int, optional): this rank, in [0, num_replicas). Default: the process group's rank.
        shuffle (bool): permute the indices, anew each epoch (set_epoch). Default: True.
        seed (int): seeds the permutation, which is drawn from seed + epoch; must be the same on every rank.
        drop_last (bool): drop the tail that does not divide evenly instead of padding. Default: False.
        pad (bool, keyword only): False takes no padding either (for evaluation: exact counts once the
            ranks' results are summed); ranks then get shares whose lengths differ by at most one.
    Each rank gets ceil(N / num_replicas) indices (floor with drop_last). Padding repeats indices from the
    start of the permutation, so with padding a few samples are seen twice per epoch (as in torch).
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False, *, pad=True):
        op = "DistributedSampler"
        self.dataset = _check_sized(dataset, op)
        self.num_replicas = _world_default(num_replicas, "num_replicas", dist.get_world_size)
        self.rank = _world_default(rank, "rank", dist.get_rank)
        if self.num_replicas < 1:
            raise ValueError(f"[{op}] num_replicas must be >= 1, got {self.num_replicas}")
        if not 0 <= self.rank < self.num_replicas:
            raise ValueError(
                f"[{op}] rank must be in [0, {self.num_replicas - 1}] (num_replicas={self.num_replicas}), got {self.rank}"
            )
        self.shuffle = bool_arg(shuffle, "shuffle", op)
        self.seed = int_arg(seed, "seed", op)
        self.drop_last = bool_arg(drop_last, "drop_last", op)
        self.pad = bool_arg(pad, "pad", op)
        if self.drop_last and not self.pad:
            raise ValueError(f"[{op}] drop_last=True and pad=False both say what to do with the tail: pass one")
        self.epoch = 0

    @property
    def total_size(self):
        """Length of the padded (or cut) permutation all ranks share out."""
        n, r = len(self.dataset), self.num_replicas
        if not self.pad:
            return n
        per_rank = n // r if self.drop_last else math.ceil(n / r)
        return per_rank * r

    @property
    def num_samples(self):
        """This rank's number of indices per epoch (the dataset's size is read each time, as torch does)."""
        if not self.pad:
            return len(range(self.rank, len(self.dataset), self.num_replicas))
        return self.total_size // self.num_replicas

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """The epoch the next pass belongs to: with shuffle, each epoch has its own order."""
        self.epoch = int_arg(epoch, "epoch", "DistributedSampler.set_epoch")

    def _index_array(self):
        n, total = len(self.dataset), self.total_size
        if self.shuffle:
            # seed + epoch may be negative; numpy's seeds may not: wrap it into 64 bits (still one per value)
            indices = np.random.default_rng((self.seed + self.epoch) % 2**64).permutation(n)
        else:
            indices = np.arange(n)
        if total > n:
            indices = np.resize(indices, total)  # repeats from the start, as often as padding needs
        return indices[self.rank : total : self.num_replicas].astype(np.int64, copy=False)

    def __iter__(self):
        return iter(self._index_array().tolist())

    def state_dict(self):
        """The epoch (the order follows from it and the seed); a resumed loader continues that epoch."""
        return {"epoch": self.epoch}

    def load_state_dict(self, state):
        if not isinstance(state, dict) or "epoch" not in state:
            raise ValueError(
                f"[DistributedSampler.load_state_dict] expected a dict with key 'epoch', got {state!r:.80}"
            )
        self.set_epoch(state["epoch"])
