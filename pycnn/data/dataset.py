"""Datasets: Dataset, IterableDataset, TensorDataset, Subset, ConcatDataset, random_split and
stratified_split (PyTorch names and semantics; stratified_split is a pycnn addition).

Samples are stored as NumPy arrays. Besides per-sample `__getitem__`, a dataset may define
`__getitems__(indices)`, which returns a whole batch already gathered: a tuple holding one batched array
(or Tensor) per field. DataLoader uses it so a batch costs one NumPy fancy-index per field.
"""

import bisect
import math
from numbers import Integral

import numpy as np

from ..creation import tensor as make_tensor
from ..random import default_generator
from ..tensor import Tensor
from .collate import _plain, _to_tensor, default_collate

__all__ = ["ConcatDataset", "Dataset", "IterableDataset", "Subset", "TensorDataset", "random_split", "stratified_split"]


class Dataset:
    """Base class of map-style datasets: subclasses define `__getitem__(i)` and `__len__()`.

    `a + b` is ConcatDataset([a, b]).
    """

    def __getitem__(self, index):
        name = type(self).__name__
        raise NotImplementedError(f"[{name}] {name} must define __getitem__")

    def __len__(self):
        name = type(self).__name__
        raise NotImplementedError(f"[{name}] {name} must define __len__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """Base class of datasets read as a stream: subclasses define `__iter__()` (and optionally __len__).

    The DataLoader batches what `iter(dataset)` yields. With num_workers > 0 every worker iterates its own
    copy of the dataset, so each would yield everything: split the stream in `__iter__` with
    `pycnn.data.get_worker_info()` (None in the main process; else .id and .num_workers), e.g. keep the
    items whose position % num_workers == id. Batches then arrive from the workers in turn.
    """

    def __iter__(self):
        name = type(self).__name__
        raise NotImplementedError(f"[{name}] {name} must define __iter__")

    def __getitem__(self, index):
        raise TypeError(f"[{type(self).__name__}] an IterableDataset is read by iterating, not by index")

    def __add__(self, other):
        raise TypeError("[IterableDataset] ConcatDataset needs map-style datasets; chain iterables instead")


def _as_array(x, what):
    """A NumPy view of a Tensor or array-like (no copy where the memory allows it)."""
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, Tensor):
        return _plain(x)
    if isinstance(x, (list, tuple)):
        return np.asarray(x)
    raise TypeError(f"[{what}] expected Tensor or numpy.ndarray, got {type(x).__name__}")


class TensorDataset(Dataset):
    """Dataset wrapping tensors or arrays that share their first dimension.

    Sample i is `tuple(t[i] for t in tensors)`.

    Args:
        *tensors: Tensor or numpy.ndarray, each of shape (N, ...); kept without copying.

    `ds[i]` returns pc.Tensors for fields given as Tensor and NumPy values for fields given as arrays;
    `ds.__getitems__(idx)` gathers a batch as a tuple of NumPy arrays, one fancy-index per field.
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("[TensorDataset] needs at least one tensor")
        for t in tensors:
            if not isinstance(t, (Tensor, np.ndarray)):
                raise TypeError(f"[TensorDataset] expected Tensor or numpy.ndarray, got {type(t).__name__}")
        self.arrays = tuple(_as_array(t, "TensorDataset") for t in tensors)
        self._is_tensor = tuple(isinstance(t, Tensor) for t in tensors)
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
        return tuple(
            make_tensor(np.asarray(a[index])) if is_t else a[index] for a, is_t in zip(self.arrays, self._is_tensor)
        )

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
        idx = np.asarray(indices)
        if idx.size and idx.dtype.kind not in "iu":
            raise TypeError(f"[Subset] indices must be ints, got {indices!r:.80}")
        self.dataset = dataset
        self.indices = indices
        self._idx = idx.astype(np.int64, copy=False).reshape(-1)
        try:
            n = len(dataset)
        except (TypeError, NotImplementedError):  # a dataset without a size: its own __getitem__ checks
            return
        if self._idx.size and (self._idx.min() < -n or self._idx.max() >= n):
            bad = int(self._idx[(self._idx < -n) | (self._idx >= n)][0])
            raise IndexError(f"[Subset] index {bad} out of range for a dataset of {n} samples")

    def __len__(self):
        return len(self._idx)

    def _position(self, i):
        n = len(self._idx)
        if not -n <= i < n:
            raise IndexError(f"[Subset] index {i} out of range for a Subset of {n} samples")
        return int(self._idx[i])

    def __getitem__(self, index):
        if isinstance(index, list):  # torch allows a list of indices here
            return [self.dataset[self._position(int(i))] for i in index]
        return self.dataset[self._position(int(index))]

    def __getitems__(self, indices):
        """Gather a batch through the wrapped dataset's `__getitems__`, or sample by sample otherwise."""
        mapped = self._idx[np.asarray(indices, dtype=np.int64)]
        if hasattr(self.dataset, "__getitems__"):
            return self.dataset.__getitems__(mapped)
        return default_collate([self.dataset[int(i)] for i in mapped])


class ConcatDataset(Dataset):
    """The samples of several map-style datasets one after another.

    Args:
        datasets: non-empty sequence of map-style datasets.

    Attributes:
        datasets: the list of parts. cumulative_sizes: running totals of their lengths (torch's name).

    `__getitems__` gathers a batch part by part with the parts' own `__getitems__` when every part has
    one (the loader's fast path), and sample by sample otherwise.
    """

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("[ConcatDataset] needs at least one dataset")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("[ConcatDataset] does not take an IterableDataset")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self):
        return self.cumulative_sizes[-1]

    def _locate(self, index):
        """(part number, index inside that part) of a global index; negative indices count from the end."""
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"[ConcatDataset] index {index} out of range for {n} samples")
        index = index + n if index < 0 else index
        part = bisect.bisect_right(self.cumulative_sizes, index)
        return part, index - (self.cumulative_sizes[part - 1] if part else 0)

    def __getitem__(self, index):
        part, local = self._locate(int(index))
        return self.datasets[part][local]

    def __getitems__(self, indices):
        """Gather a batch: a tuple of arrays of shape (len(indices), ...), one per field."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = len(self)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(f"[ConcatDataset] indices out of range for {n} samples")
        idx = np.where(idx < 0, idx + n, idx)
        if not all(hasattr(d, "__getitems__") for d in self.datasets):
            return default_collate([self[int(i)] for i in idx])
        parts = np.searchsorted(self.cumulative_sizes, idx, side="right")
        starts = np.concatenate([[0], self.cumulative_sizes[:-1]])
        pieces = []  # (positions in the batch, that part's gathered fields)
        for p in np.unique(parts):
            where = np.flatnonzero(parts == p)
            fields = self.datasets[p].__getitems__(idx[where] - starts[p])
            pieces.append((where, fields))
        if len(pieces) == 1:
            return pieces[0][1]
        single = not isinstance(pieces[0][1], (tuple, list))
        columns = [
            [_as_array(f, "ConcatDataset")] if single else [_as_array(x, "ConcatDataset") for x in f] for _, f in pieces
        ]
        if any(len(c) != len(columns[0]) for c in columns):
            raise RuntimeError("[ConcatDataset] the parts' batches have different numbers of fields")
        out = []
        for k in range(len(columns[0])):
            first = columns[0][k]
            dtype = np.result_type(*[c[k].dtype for c in columns])
            field = np.empty((len(idx),) + first.shape[1:], dtype=dtype)
            for (where, _), c in zip(pieces, columns):
                field[where] = c[k]
            out.append(field)
        return out[0] if single else tuple(out)


def _numpy_rng(generator, op="generator"):
    """The numpy.random.Generator behind a Generator (or the default one when None); a TypeError naming op
    for anything else."""
    if generator is None:
        generator = default_generator()
    rng = getattr(generator, "numpy", None)
    if rng is None and isinstance(generator, np.random.Generator):
        rng = generator
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"[{op}] expected generator to be a pycnn.Generator, got {generator!r:.80}")
    return rng


def random_split(dataset, lengths, generator=None):
    """Split `dataset` at random into non-overlapping Subsets of the given lengths.

    Args:
        dataset: map-style dataset of size N.
        lengths: ints summing to N, or fractions summing to 1 (each floor(N * f), the remainder handed
            out one by one from the first subset on, as PyTorch does).
        generator: Generator drawing the permutation; default: default_generator().

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
        raise ValueError(f"[random_split] lengths must be ints summing to {n} or fractions summing to 1, got {lengths}")
    if any(x < 0 for x in lengths):
        raise ValueError(f"[random_split] lengths must be non-negative, got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"[random_split] lengths sum to {sum(lengths)}, the dataset has {n} samples")
    perm = _numpy_rng(generator, "random_split").permutation(n)
    bounds = np.cumsum([0] + lengths)
    return [Subset(dataset, perm[lo:hi]) for lo, hi in zip(bounds[:-1], bounds[1:])]


def _labels_of(dataset, name):
    """Class labels of every sample as an int64 array: dataset.targets, a Subset's view of its parent's
    targets, or else the second field of each sample."""
    targets = getattr(dataset, "targets", None)
    if targets is not None:
        return _as_array(targets, name).reshape(-1)
    if isinstance(dataset, Subset):
        parent = getattr(dataset.dataset, "targets", None)
        if parent is not None:
            return _as_array(parent, name).reshape(-1)[dataset._idx]
    labels = []
    for i in range(len(dataset)):
        sample = dataset[i]
        if not isinstance(sample, (tuple, list)) or len(sample) < 2:
            raise ValueError(
                f"[{name}] cannot find labels: the dataset has no `targets` and its samples are "
                "not (input, label, ...) tuples; pass labels="
            )
        label = sample[1]
        labels.append(_as_array(label, name) if isinstance(label, Tensor) else np.asarray(label))
    return np.asarray(labels).reshape(-1)


def stratified_split(dataset, val_fraction, generator=None, labels=None):
    """Split `dataset` at random into (train, validation) Subsets with the same class proportions.

    Each class c with n_c samples sends floor(n_c * val_fraction) samples to validation; the
    round(N * val_fraction) - sum(floors) samples still owed go one each to the classes with the largest
    remainders n_c * val_fraction - floor(...) (ties: the smaller label first). So every class holds
    floor or ceil of its share, and the validation set has round(N * val_fraction) samples.

    Args:
        dataset: map-style dataset of size N.
        val_fraction: fraction of the samples for validation, 0 < val_fraction < 1.
        generator: Generator choosing which samples of each class go to validation;
            default default_generator().
        labels: N class labels; default: dataset.targets when it exists (also through a Subset),
            else the second field of every sample (reads the whole dataset once).

    Returns:
        (train Subset, validation Subset), each with its indices in increasing order.
    """
    name = "stratified_split"
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, (int, float)) or not 0 < val_fraction < 1:
        raise ValueError(f"[{name}] val_fraction must be a number in (0, 1), got {val_fraction!r}")
    n = len(dataset)
    y = _labels_of(dataset, name) if labels is None else _as_array(labels, name).reshape(-1)
    if len(y) != n:
        raise ValueError(f"[{name}] got {len(y)} labels for a dataset of {n} samples")
    classes, y_codes = np.unique(y, return_inverse=True)
    counts = np.bincount(y_codes, minlength=len(classes))
    share = counts * float(val_fraction)
    n_val = np.floor(share).astype(np.int64)
    owed = int(round(n * float(val_fraction))) - int(n_val.sum())
    # Largest remainders first; a stable sort keeps the smaller label first among ties.
    order = np.argsort(-(share - n_val), kind="stable")
    n_val[order[:owed]] += 1

    rng = _numpy_rng(generator, name)
    val_idx = []
    for c in range(len(classes)):
        members = np.flatnonzero(y_codes == c)
        val_idx.append(rng.permutation(members)[: n_val[c]])
    val_idx = np.sort(np.concatenate(val_idx)).astype(np.int64)
    is_val = np.zeros(n, dtype=bool)
    is_val[val_idx] = True
    return Subset(dataset, np.flatnonzero(~is_val)), Subset(dataset, val_idx)
