"""Samplers: which dataset indices a DataLoader visits and in what order (torch.utils.data names).

A sampler yields indices; BatchSampler groups them into batches. A sampler that can give a whole pass at
once also defines `_index_array()`, so the loader slices batches out of one array instead of looping in
Python. Random samplers draw from a pc.Generator (passed in, or a private one) and have state_dict /
load_state_dict, so a resumed run draws the same orders.
"""

import numpy as np

from ..nn._arguments import positive_int
from .dataset import _numpy_rng

__all__ = [
    "BatchSampler",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
]


def _check_sized(data_source, name):
    """data_source, when it has a len() (a map-style dataset or a sequence); a TypeError naming name otherwise."""
    if not hasattr(type(data_source), "__len__"):
        raise TypeError(f"[{name}] expected data_source to be a dataset with a len(), got {type(data_source).__name__}")
    return data_source


class Sampler:
    """Base class: iterating a sampler yields dataset indices."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        name = type(self).__name__
        raise NotImplementedError(f"[{name}] {name} must define __iter__")

    def _index_array(self):
        """All indices of one pass as an int64 array, or None when the sampler cannot produce one."""
        return


class SequentialSampler(Sampler):
    """Yields 0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = _check_sized(data_source, "SequentialSampler")

    def __len__(self):
        return len(self.data_source)

    def _index_array(self):
        return np.arange(len(self.data_source), dtype=np.int64)

    def __iter__(self):
        return iter(range(len(self.data_source)))


class _RandomStream(Sampler):
    """Shared by the random samplers: the stream they draw from, and its state for checkpoints.

    With `generator` the sampler draws from it (its state advances every pass and is looked up each pass,
    so re-seeding it later takes effect). Otherwise it owns a private stream seeded by `seed`; when that is
    None too, the seed is drawn once, here, from pc.default_generator() (reproducible after pc.manual_seed).
    """

    def _init_stream(self, generator, seed):
        if generator is not None and seed is not None:
            raise ValueError(f"[{type(self).__name__}] pass either generator or seed, not both")
        self.generator = generator
        self._rng = None
        if generator is None:
            if seed is None:
                seed = int(_numpy_rng(None).integers(0, 2**63 - 1))
            self._rng = np.random.default_rng(seed)
        else:
            _numpy_rng(generator, type(self).__name__)  # type check

    def _stream(self):
        return self._rng if self.generator is None else _numpy_rng(self.generator, type(self).__name__)

    def state_dict(self):
        """The stream's state (JSON-serialisable: NumPy's bit_generator.state dict)."""
        return {"rng": self._stream().bit_generator.state}

    def load_state_dict(self, state):
        """Restore what state_dict returned: the next pass draws what it would have drawn then."""
        if not isinstance(state, dict) or "rng" not in state:
            raise ValueError(
                f"[{type(self).__name__}.load_state_dict] expected a dict with key 'rng', got {state!r:.80}"
            )
        self._stream().bit_generator.state = state["rng"]

    def __iter__(self):
        return iter(self._index_array().tolist())


class RandomSampler(_RandomStream):
    """Yields the indices of `data_source` in a random order, fresh on every pass.

    Args:
        data_source: dataset of size N.
        replacement: draw `num_samples` indices independently (with repeats) instead of permuting.
        num_samples: indices per pass (default N); without replacement a value above N yields whole
            permutations one after another, then the start of one more (as torch).
        generator: pc.Generator the orders are drawn from.
        seed: int seeding a private stream instead (keyword only; a pycnn addition).
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None, *, seed=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"[RandomSampler] replacement must be a bool, got {replacement!r}")
        if num_samples is not None:
            positive_int(num_samples, "num_samples", "RandomSampler")
        self.data_source = _check_sized(data_source, "RandomSampler")
        self.replacement = replacement
        self._num_samples = num_samples
        self._init_stream(generator, seed)

    @property
    def num_samples(self):
        # Read the dataset's size each time: a dataset may change size after the sampler is built.
        return len(self.data_source) if self._num_samples is None else int(self._num_samples)

    def __len__(self):
        return self.num_samples

    def _index_array(self):
        n, rng = len(self.data_source), self._stream()
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        if self.replacement:
            return rng.integers(0, n, size=self.num_samples, dtype=np.int64)
        full, rest = divmod(self.num_samples, n)
        parts = [rng.permutation(n) for _ in range(full)]
        if rest:
            parts.append(rng.permutation(n)[:rest])
        return np.concatenate(parts).astype(np.int64, copy=False)


class SubsetRandomSampler(_RandomStream):
    """Yields the given indices in a random order, fresh on every pass (no replacement).

    Args:
        indices: sequence of dataset indices (e.g. the training part of a split).
        generator: pc.Generator the orders are drawn from.
        seed: int seeding a private stream instead (keyword only).
    """

    def __init__(self, indices, generator=None, *, seed=None):
        idx = np.asarray(indices) if hasattr(type(indices), "__len__") else None
        if idx is None or idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
            raise TypeError(
                f"[SubsetRandomSampler] expected indices to be a sequence of ints, got {type(indices).__name__} "
                f"{indices!r:.80}"
            )
        self.indices = indices
        self._indices = idx.astype(np.int64, copy=False)
        self._init_stream(generator, seed)

    def __len__(self):
        return len(self._indices)

    def _index_array(self):
        return self._indices[self._stream().permutation(len(self._indices))]


class WeightedRandomSampler(_RandomStream):
    """Yields indices in [0, len(weights)) drawn with probability proportional to `weights`.

    Args:
        weights: sequence of N non-negative, finite weights (not necessarily summing to 1).
        num_samples: indices per pass.
        replacement: with repeats (default); without, every index appears at most once, so num_samples
            may not exceed the number of non-zero weights.
        generator: pc.Generator the draws come from.
        seed: int seeding a private stream instead (keyword only).
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None, *, seed=None):
        name = "WeightedRandomSampler"
        num_samples = int(positive_int(num_samples, "num_samples", name))
        if not isinstance(replacement, bool):
            raise TypeError(f"[{name}] replacement must be a bool, got {replacement!r}")
        try:
            w = np.asarray(weights, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"[{name}] weights must be a sequence of numbers, got {weights!r:.80}") from None
        if w.ndim != 1 or w.size == 0:
            raise ValueError(f"[{name}] weights must be a non-empty 1-D sequence, got shape {w.shape}")
        bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
        if bad.size:
            raise ValueError(f"[{name}] weights must be finite and non-negative, got {w[bad[0]]} at index {bad[0]}")
        if w.sum() <= 0:
            raise ValueError(f"[{name}] weights must not be all zero")
        if not replacement and num_samples > np.count_nonzero(w):
            raise ValueError(
                f"[{name}] num_samples={num_samples} without replacement needs at least that "
                f"many non-zero weights, got {np.count_nonzero(w)}"
            )
        self.weights = w
        self.num_samples = num_samples
        self.replacement = replacement
        self._p = w / w.sum()
        self._init_stream(generator, seed)

    def __len__(self):
        return self.num_samples

    def _index_array(self):
        draws = self._stream().choice(len(self._p), size=self.num_samples, replace=self.replacement, p=self._p)
        return draws.astype(np.int64, copy=False)


class BatchSampler(Sampler):
    """Groups the indices of `sampler` into lists of `batch_size`.

    Args:
        sampler: Sampler or iterable of indices.
        batch_size: positive int.
        drop_last: drop the last batch when it is smaller than batch_size.
    """

    def __init__(self, sampler, batch_size, drop_last=False):
        positive_int(batch_size, "batch_size", "BatchSampler")
        if not isinstance(drop_last, bool):
            raise ValueError(f"[BatchSampler] drop_last must be a bool, got {drop_last!r}")
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def state_dict(self):
        """The wrapped sampler's state ({} when it has none)."""
        inner = getattr(self.sampler, "state_dict", None)
        return {"sampler": inner()} if callable(inner) else {}

    def load_state_dict(self, state):
        if "sampler" in state:
            self.sampler.load_state_dict(state["sampler"])

    def _iter_arrays(self):
        """An iterator over the batches as int64 arrays. The sampler's random draw for the pass happens
        now, not at the first next(), so the loader can record the stream state around it."""
        indices = self.sampler._index_array() if isinstance(self.sampler, Sampler) else None
        if indices is None:
            return (np.asarray(batch, dtype=np.int64) for batch in self)
        stop = len(indices) - len(indices) % self.batch_size if self.drop_last else len(indices)
        return (indices[lo : lo + self.batch_size] for lo in range(0, stop, self.batch_size))

    def __iter__(self):
        batch = []
        for i in self.sampler:
            batch.append(i)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch
