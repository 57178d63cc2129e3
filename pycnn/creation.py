"""Tensor creation, as torch's factories: ``tensor``, ``from_numpy``, ``as_tensor``, ``zeros``, ``ones``,
``full``, ``empty``, ``*_like``, ``randn``, ``rand``, ``randint``, ``randperm``, ``arange``, and the default
floating dtype they use. Random values come from pycnn's seeded generator (``pycnn.manual_seed``).
"""

import numpy as np

from . import _C
from ._convert import shape_arg
from ._types import as_device, as_dtype, float32, int64
from .random import _numpy_generator
from .tensor import Tensor

_default_dtype = float32


def get_default_dtype():
    return _default_dtype


def set_default_dtype(d):
    global _default_dtype
    d = as_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"[set_default_dtype] expected a floating point dtype, got {d}")
    _default_dtype = d


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of data (array, nested lists, scalar). NumPy arrays keep their dtype;
    Python floats become float32 and ints int64, as in torch."""
    return Tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


def from_numpy(array):
    """A tensor sharing the array's memory (float32, float64 or int64)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"[from_numpy] expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor._make(_C.from_numpy(array))


def as_tensor(data, dtype=None, device=None):
    """data itself when it already is a tensor of that dtype and device; shares a NumPy array's memory when
    it can (CPU, same dtype); a copy otherwise."""
    if isinstance(data, Tensor):
        return data.to(dtype=dtype, device=device)
    if (
        isinstance(data, np.ndarray)
        and (dtype is None or as_dtype(dtype).numpy == data.dtype)
        and data.dtype in (np.float32, np.float64, np.int64)
    ):
        return from_numpy(data).to(device=device)
    return tensor(data, dtype=dtype, device=device)


def _size(size):
    size = shape_arg(size)
    if any(s < 0 for s in size):
        raise ValueError(f"[factory] negative dimension in size {tuple(size)}")
    return size


def _factory(impl, requires_grad):
    return Tensor._make(impl).requires_grad_(requires_grad) if requires_grad else Tensor._make(impl)


def full(size, fill_value, dtype=None, device="cpu", requires_grad=False):
    d = (
        as_dtype(dtype)
        if dtype is not None
        else (int64 if isinstance(fill_value, int) and not isinstance(fill_value, bool) else _default_dtype)
    )
    # size: an int or a sequence of ints; filled where it lives (fill_ runs on the GPU)
    impl = _C.full(_size((size,)), fill_value, d.name, _device_name(device))
    return _factory(impl, requires_grad)


def zeros(*size, dtype=None, device="cpu", requires_grad=False):
    return full(_size(size), 0.0, dtype or _default_dtype, device, requires_grad)


def ones(*size, dtype=None, device="cpu", requires_grad=False):
    return full(_size(size), 1.0, dtype or _default_dtype, device, requires_grad)


def empty(*size, dtype=None, device="cpu", requires_grad=False):
    d = as_dtype(dtype or _default_dtype)
    return _factory(_C.empty(_size(size), d.name, _device_name(device)), requires_grad)


def _device_name(device):
    """The core's name of a device argument ("cuda" becomes the current CUDA device)."""
    return "cpu" if device is None else str(as_device(device))


def zeros_like(t, dtype=None, device=None, requires_grad=False):
    """Zeros with t's shape, and its dtype and device unless given."""
    return zeros(t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def ones_like(t, dtype=None, device=None, requires_grad=False):
    return ones(t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def full_like(t, fill_value, dtype=None, device=None, requires_grad=False):
    return full(t.shape, fill_value, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def empty_like(t, dtype=None, device=None, requires_grad=False):
    return empty(t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def randn_like(t, dtype=None, device=None, requires_grad=False):
    return randn(t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def rand_like(t, dtype=None, device=None, requires_grad=False):
    return rand(t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def randn(*size, dtype=None, device="cpu", requires_grad=False, generator=None):
    """Standard normal samples from the seeded generator."""
    d = as_dtype(dtype or _default_dtype)
    values = _numpy_generator(generator).standard_normal(_size(size))
    return tensor(values.astype(d.numpy), device=device, requires_grad=requires_grad)


def rand(*size, dtype=None, device="cpu", requires_grad=False, generator=None):
    """Uniform [0, 1) samples from the seeded generator."""
    d = as_dtype(dtype or _default_dtype)
    values = _numpy_generator(generator).random(_size(size))
    return tensor(values.astype(d.numpy), device=device, requires_grad=requires_grad)


# Random and range values are made on the host (pycnn's generator is a NumPy one) and then moved.
def randint(low, high=None, size=(), dtype=int64, generator=None, device=None):
    if high is None:
        low, high = 0, low
    return tensor(_numpy_generator(generator).integers(low, high, size=tuple(size)), dtype=dtype, device=device)


def randperm(n, generator=None, device=None):
    return tensor(_numpy_generator(generator).permutation(n).astype(np.int64), device=device)


def arange(start, end=None, step=1, dtype=None, device=None):
    if end is None:
        start, end = 0, start
    values = np.arange(start, end, step)
    if dtype is None and values.dtype.kind == "f":
        dtype = _default_dtype
    return tensor(values, dtype=dtype, device=device)
