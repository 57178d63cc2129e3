"""DataLoader and samplers (PyTorch names and argument order); default_collate lives in collate.py.

Indices flow sampler -> BatchSampler -> dataset -> collate. When the dataset has `__getitems__` and no
collate_fn is given, a batch is one NumPy fancy-index per field wrapped with pc.from_numpy (no per-sample
Python), so loading never limits training speed. Shuffling is reproducible: see DataLoader.
"""
from numbers import Integral

import numpy as np

from .collate import _to_tensor, default_collate
from .dataset import _numpy_rng

__all__ = ["DataLoader", "Sampler", "SequentialSampler", "RandomSampler", "BatchSampler",
           "default_collate"]


# ---------------------------------------------------------------------------------------------- samplers

class Sampler:
    """Base class: iterating a sampler yields dataset indices."""

    def __iter__(self):
        raise NotImplementedError

    def _index_array(self):
        """All indices of one pass as an int64 array, or None when the sampler cannot produce one."""
        return None


class SequentialSampler(Sampler):
    """Yields 0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __len__(self):
        return len(self.data_source)

    def _index_array(self):
        return np.arange(len(self.data_source), dtype=np.int64)

    def __iter__(self):
        return iter(range(len(self.data_source)))


class RandomSampler(Sampler):
    """Yields a fresh random permutation of range(len(data_source)) on every pass.

    Args:
        data_source: dataset of size N.
        generator: pc.Generator the permutations are drawn from (its state advances every pass).
        seed: int seeding a private generator instead; when both are None a seed is drawn once, here,
            from pc.default_generator(), so the order is reproducible after pc.manual_seed.
    """

    def __init__(self, data_source, generator=None, seed=None):
        if generator is not None and seed is not None:
            raise ValueError("[RandomSampler] pass either generator or seed, not both")
        self.data_source = data_source
        self.generator = generator
        self._rng = None
        if generator is None:
            if seed is None:
                seed = int(_numpy_rng(None).integers(0, 2**63 - 1))
            self._rng = np.random.default_rng(seed)

    def __len__(self):
        return len(self.data_source)

    def _index_array(self):
        # Look the generator's stream up on every pass: re-seeding it later must take effect.
        rng = self._rng if self.generator is None else _numpy_rng(self.generator)
        return rng.permutation(len(self.data_source)).astype(np.int64, copy=False)

    def __iter__(self):
        return iter(self._index_array().tolist())


class BatchSampler(Sampler):
    """Groups the indices of `sampler` into lists of `batch_size`.

    Args:
        sampler: Sampler or iterable of indices.
        batch_size: positive int.
        drop_last: drop the last batch when it is smaller than batch_size.
    """

    def __init__(self, sampler, batch_size, drop_last=False):
        if isinstance(batch_size, bool) or not isinstance(batch_size, Integral) or batch_size <= 0:
            raise ValueError(f"[BatchSampler] batch_size must be a positive int, got {batch_size!r}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"[BatchSampler] drop_last must be a bool, got {drop_last!r}")
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _iter_arrays(self):
        """Yields each batch as an int64 array; slices one index array when the sampler has one."""
        indices = self.sampler._index_array() if isinstance(self.sampler, Sampler) else None
        if indices is None:
            for batch in self:
                yield np.asarray(batch, dtype=np.int64)
            return
        stop = len(indices) - len(indices) % self.batch_size if self.drop_last else len(indices)
        for lo in range(0, stop, self.batch_size):
            yield indices[lo:lo + self.batch_size]

    def __iter__(self):
        batch = []
        for i in self.sampler:
            batch.append(i)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch


# ---------------------------------------------------------------------------------------------- loader

class DataLoader:
    """Iterates over a dataset in batches.

    Args:
        dataset: map-style dataset (defines __getitem__ and __len__; __getitems__ makes it fast).
        batch_size: samples per batch (positive int).
        shuffle: reshuffle the order on every epoch (every call to iter()).
        sampler: Sampler or iterable of indices giving the order; excludes shuffle.
        batch_sampler: yields lists of indices; excludes batch_size, shuffle, sampler and drop_last.
        num_workers: only 0 for now (loading runs in the main process).
        collate_fn: turns a list of samples into a batch (default: default_collate).
        pin_memory: accepted for PyTorch compatibility; a no-op (CPU tensors are used directly).
        drop_last: drop the last batch if it is smaller than batch_size.
        generator: pc.Generator that shuffling draws its per-epoch permutations from.
        seed: int seeding the shuffle instead of generator. With neither, a seed is drawn once from
            pc.default_generator() when the loader is built: pc.manual_seed(s) first makes it reproducible.

    Yields:
        batches as returned by collate_fn; for a TensorDataset of (N, ...) tensors, a tuple of
        pc.Tensors of shape (B, ...).
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, generator=None,
                 seed=None):
        if isinstance(num_workers, bool) or not isinstance(num_workers, Integral) or num_workers < 0:
            raise ValueError(f"[DataLoader] num_workers must be an int >= 0, got {num_workers!r}")
        if num_workers > 0:
            raise NotImplementedError(
                f"[DataLoader] num_workers={num_workers}: worker processes are not implemented yet; use "
                "num_workers=0 (batches of in-memory datasets are one NumPy gather, workers would not help)")
        if not isinstance(shuffle, bool):
            raise ValueError(f"[DataLoader] shuffle must be a bool, got {shuffle!r}")
        if sampler is not None and shuffle:
            raise ValueError("[DataLoader] sampler and shuffle=True are mutually exclusive")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"[DataLoader] collate_fn must be callable, got {type(collate_fn).__name__}")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("[DataLoader] batch_sampler is mutually exclusive with batch_size, "
                                 "shuffle, sampler and drop_last")
            batch_size, drop_last = None, False
        else:
            if sampler is None:
                sampler = (RandomSampler(dataset, generator=generator, seed=seed) if shuffle
                           else SequentialSampler(dataset))
            # BatchSampler validates batch_size and drop_last.
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.collate_fn = collate_fn
        self.pin_memory = pin_memory
        self.generator = generator

    def __len__(self):
        """Number of batches per epoch."""
        return len(self.batch_sampler)

    def _batches_of_indices(self):
        if isinstance(self.batch_sampler, BatchSampler):
            return self.batch_sampler._iter_arrays()
        return self.batch_sampler

    def __iter__(self):
        fast = self.collate_fn is None and hasattr(self.dataset, "__getitems__")
        collate = self.collate_fn or default_collate
        for indices in self._batches_of_indices():
            if fast:
                # One gather per field; the gathered arrays are fresh and contiguous, so from_numpy
                # wraps them without another copy.
                fields = self.dataset.__getitems__(indices)
                if isinstance(fields, (tuple, list)):
                    yield type(fields)(_to_tensor(f) for f in fields)
                else:
                    yield _to_tensor(fields)
            else:
                yield collate([self.dataset[int(i)] for i in indices])
