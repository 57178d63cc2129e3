"""Map-style datasets: Dataset, TensorDataset, Subset and random_split (PyTorch names and semantics).

Samples are stored as NumPy arrays. Besides per-sample `__getitem__`, a dataset may define
`__getitems__(indices)`, which returns a whole batch already gathered: a tuple holding one batched array
(or pc.Tensor) per field. DataLoader uses it so a batch costs one NumPy fancy-index per field.
"""
import math
from numbers import Integral

import numpy as np

import pycnn as pc  # attributes are looked up at call time, so importing inside pycnn's own init is fine
from .collate import _to_tensor, default_collate

__all__ = ["Dataset", "TensorDataset", "Subset", "random_split"]


class Dataset:
    """Base class of map-style datasets: subclasses define `__getitem__(i)` and `__len__()`."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


def _as_array(x, what):
    """A NumPy view of a pc.Tensor or array-like (no copy where the memory allows it)."""
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, pc.Tensor):
        detach = getattr(x, "detach", None)  # .numpy() of a tensor that requires grad may refuse
        return (detach() if detach is not None and getattr(x, "requires_grad", False) else x).numpy()
    if isinstance(x, (list, tuple)):
        return np.asarray(x)
    raise TypeError(f"[{what}] expected pc.Tensor or numpy.ndarray, got {type(x).__name__}")


class TensorDataset(Dataset):
    """Dataset wrapping tensors or arrays that share their first dimension.

    Sample i is `tuple(t[i] for t in tensors)`.

    Args:
        *tensors: pc.Tensor or numpy.ndarray, each of shape (N, ...); kept without copying.

    `ds[i]` returns pc.Tensors for fields given as pc.Tensor and NumPy values for fields given as arrays;
    `ds.__getitems__(idx)` gathers a batch as a tuple of NumPy arrays, one fancy-index per field.
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("[TensorDataset] needs at least one tensor")
        self.arrays = tuple(_as_array(t, "TensorDataset") for t in tensors)
        self._is_tensor = tuple(isinstance(t, pc.Tensor) for t in tensors)
        for a in self.arrays:
            if a.ndim == 0:
                raise ValueError("[TensorDataset] tensors need a first (sample) dimension, got a scalar")
        sizes = [a.shape[0] for a in self.arrays]
        if any(s != sizes[0] for s in sizes):
            raise ValueError(f"[TensorDataset] size mismatch between tensors: first dimensions {sizes}")

    @property
    def tensors(self):
        """The fields as pc.Tensors (views of the stored arrays where the dtype allows it)."""
        return tuple(_to_tensor(a) for a in self.arrays)

    def __len__(self):
        return self.arrays[0].shape[0]

    def __getitem__(self, index):
        return tuple(pc.tensor(np.asarray(a[index])) if is_t else a[index]
                     for a, is_t in zip(self.arrays, self._is_tensor))

    def __getitems__(self, indices):
        """Gather a batch: a tuple of arrays of shape (len(indices), ...), one per field."""
        idx = np.asarray(indices, dtype=np.int64)
        return tuple(a[idx] for a in self.arrays)


class Subset(Dataset):
    """The samples of `dataset` at positions `indices`, in that order.

    Args:
        dataset: any map-style dataset.
        indices: sequence of ints (list or 1-D integer array).
    """

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices
        self._idx = np.asarray(indices, dtype=np.int64).reshape(-1)

    def __len__(self):
        return len(self._idx)

    def __getitem__(self, index):
        if isinstance(index, list):  # torch allows a list of indices here
            return [self.dataset[int(self._idx[i])] for i in index]
        return self.dataset[int(self._idx[index])]

    def __getitems__(self, indices):
        """Gather a batch through the wrapped dataset's `__getitems__`, or sample by sample otherwise."""
        mapped = self._idx[np.asarray(indices, dtype=np.int64)]
        if hasattr(self.dataset, "__getitems__"):
            return self.dataset.__getitems__(mapped)
        return default_collate([self.dataset[int(i)] for i in mapped])


def _numpy_rng(generator):
    """The numpy.random.Generator behind a pc.Generator (or the default one when None)."""
    if generator is None:
        generator = pc.default_generator()
    rng = getattr(generator, "numpy", None)
    if rng is None and isinstance(generator, np.random.Generator):
        rng = generator
    if rng is None:
        raise TypeError(f"expected a pc.Generator, got {type(generator).__name__}")
    return rng


def random_split(dataset, lengths, generator=None):
    """Split `dataset` at random into non-overlapping Subsets of the given lengths.

    Args:
        dataset: map-style dataset of size N.
        lengths: ints summing to N, or fractions summing to 1 (each floor(N * f), the remainder handed
            out one by one from the first subset on, as PyTorch does).
        generator: pc.Generator drawing the permutation; default: pc.default_generator().

    Returns:
        list of Subset, one per length.
    """
    n = len(dataset)
    lengths = list(lengths)
    if not lengths:
        raise ValueError("[random_split] lengths is empty")
    if all(isinstance(x, Integral) for x in lengths):
        lengths = [int(x) for x in lengths]
    elif math.isclose(sum(lengths), 1.0) and all(0 <= x <= 1 for x in lengths):
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    else:
        raise ValueError(f"[random_split] lengths must be ints summing to {n} or fractions summing to 1, "
                         f"got {lengths}")
    if any(x < 0 for x in lengths):
        raise ValueError(f"[random_split] lengths must be non-negative, got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"[random_split] lengths sum to {sum(lengths)}, the dataset has {n} samples")
    perm = _numpy_rng(generator).permutation(n)
    bounds = np.cumsum([0] + lengths)
    return [Subset(dataset, perm[lo:hi]) for lo, hi in zip(bounds[:-1], bounds[1:])]
