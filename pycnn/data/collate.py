"""Turning samples into batches: default_collate, and the NumPy-to-tensor conversion both the datasets'
batch gathering and the DataLoader use.
"""

import collections.abc
from numbers import Integral, Real

import numpy as np

from ..creation import from_numpy
from ..tensor import Tensor

__all__ = ["default_collate"]


def _to_tensor(a):
    """Tensor from a gathered NumPy batch: integers/bools -> int64, float16 -> float32, else kept.

    Shares memory with `a` when it is already contiguous and of a supported dtype (the usual case: the
    result of a fancy-index), otherwise copies once.
    """
    if isinstance(a, Tensor):
        return a
    a = np.asarray(a)
    if a.dtype.kind in "biu":
        a = a.astype(np.int64, copy=False)
    elif a.dtype.kind == "f" and a.dtype not in (np.float32, np.float64):
        a = a.astype(np.float32)
    elif a.dtype.kind not in "f":
        raise TypeError(f"[collate] cannot make a Tensor from an array of dtype {a.dtype}")
    return from_numpy(np.asarray(a, order="C"))


def default_collate(batch):
    """Stack a list of samples into a batch.

    pc.Tensors and NumPy arrays of shape S become one Tensor of shape (B, *S); Python ints become int64
    and floats float32 tensors of shape (B,); integer arrays become int64. Tuples, lists, namedtuples and
    dicts are collated field by field; strings are returned as a list.
    """
    if not isinstance(batch, collections.abc.Sequence) or len(batch) == 0:
        raise TypeError("[default_collate] expects a non-empty list of samples")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _to_tensor(_stack([_plain(t) for t in batch]))
    if isinstance(elem, (np.ndarray, np.generic)):
        return _to_tensor(_stack([np.asarray(a) for a in batch]))
    if isinstance(elem, (bool, Integral)):
        return _to_tensor(np.asarray(batch, dtype=np.int64))
    if isinstance(elem, Real):
        return _to_tensor(np.asarray(batch, dtype=np.float32))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in elem}
    if isinstance(elem, collections.abc.Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError("[default_collate] every sample in a batch needs the same number of fields")
        fields = [default_collate(list(column)) for column in zip(*batch)]
        if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
            return type(elem)(*fields)
        return tuple(fields) if isinstance(elem, tuple) else fields
    raise TypeError(f"[default_collate] cannot collate samples of type {type(elem).__name__}")


def _stack(arrays):
    """np.stack, with an error that names the first sample whose shape differs from the first one's."""
    for i, a in enumerate(arrays):
        if a.shape != arrays[0].shape:
            raise ValueError(
                f"[default_collate] every sample in a batch needs the same shape: sample 0 has shape "
                f"{arrays[0].shape}, sample {i} {a.shape}"
            )
    return np.stack(arrays)


def _plain(t):
    """NumPy view of a Tensor, detached from autograd if it requires grad (pycnn.data's one helper)."""
    if getattr(t, "requires_grad", False) and hasattr(t, "detach"):
        t = t.detach()
    return t.numpy()
