"""Tensor creation, as torch's factories: ``tensor``, ``from_numpy``, ``as_tensor``, ``zeros``, ``ones``,
``full``, ``empty``, ``*_like``, ``randn``, ``rand``, ``randint``, ``randperm``, ``arange``, and the default
floating dtype they use. Random values come from pycnn's seeded generator (``pycnn.manual_seed``).
"""

import numpy as np

from . import _C
from ._convert import int_arg, number_arg, size_arg
from ._types import as_device, as_dtype, float32, int64
from .autograd import renamed_allocation_error
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
    """A tensor sharing the array's memory (float32, float64, float16, int64, int32, uint8 or bool)."""
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
        and data.dtype in (np.float32, np.float64, np.float16, np.int64, np.int32, np.uint8, np.bool_)
    ):
        return from_numpy(data).to(device=device)
    return tensor(data, dtype=dtype, device=device)


def _factory(make, args, requires_grad, op):
    """A tensor from the core's make(*args), its allocation errors named after the factory op."""
    try:
        impl = make(*args)
    except (ValueError, MemoryError) as e:
        raise renamed_allocation_error(e, op) from None
    return Tensor._make(impl).requires_grad_(requires_grad) if requires_grad else Tensor._make(impl)


def _full(size, fill_value, dtype, device, requires_grad, op):
    number_arg(fill_value, op, "fill_value")
    if isinstance(fill_value, Tensor):  # a one-element tensor fills with its value
        fill_value = fill_value.item()
    d = (
        as_dtype(dtype)
        if dtype is not None
        else (
            int64 if isinstance(fill_value, (int, np.integer)) and not isinstance(fill_value, bool) else _default_dtype
        )
    )
    # filled where it lives (fill_ runs on the GPU)
    return _factory(_C.full, (size_arg(size, op), fill_value, d.name, _device_name(device)), requires_grad, op)


def full(size, fill_value, dtype=None, device="cpu", requires_grad=False):
    """size: an int or a sequence of ints."""
    return _full((size,), fill_value, dtype, device, requires_grad, "full")


def zeros(*size, dtype=None, device="cpu", requires_grad=False):
    return _full(size, 0.0, dtype or _default_dtype, device, requires_grad, "zeros")


def ones(*size, dtype=None, device="cpu", requires_grad=False):
    return _full(size, 1.0, dtype or _default_dtype, device, requires_grad, "ones")


def empty(*size, dtype=None, device="cpu", requires_grad=False):
    d = as_dtype(dtype or _default_dtype)
    return _factory(_C.empty, (size_arg(size, "empty"), d.name, _device_name(device)), requires_grad, "empty")


def _device_name(device):
    """The core's name of a device argument ("cuda" becomes the current CUDA device)."""
    return "cpu" if device is None else str(as_device(device))


def _like(t, op):
    """The tensor a *_like factory copies the shape of (a TypeError naming op otherwise)."""
    if not isinstance(t, Tensor):
        raise TypeError(f"[{op}] expected a pycnn.Tensor, got {type(t).__name__}")
    return t


def zeros_like(t, dtype=None, device=None, requires_grad=False):
    """Zeros with t's shape, and its dtype and device unless given."""
    t = _like(t, "zeros_like")
    return zeros(t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def ones_like(t, dtype=None, device=None, requires_grad=False):
    t = _like(t, "ones_like")
    return ones(t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def full_like(t, fill_value, dtype=None, device=None, requires_grad=False):
    t = _like(t, "full_like")
    d = dtype or t.dtype
    return _full((t.shape,), fill_value, d, device or t.device, requires_grad, "full_like")


def empty_like(t, dtype=None, device=None, requires_grad=False):
    t = _like(t, "empty_like")
    return empty(t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def randn_like(t, dtype=None, device=None, requires_grad=False):
    t = _like(t, "randn_like")
    return randn(t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def rand_like(t, dtype=None, device=None, requires_grad=False):
    t = _like(t, "rand_like")
    return rand(t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def _float_dtype(dtype, op):
    d = as_dtype(dtype or _default_dtype)
    if not d.is_floating_point:
        raise TypeError(f"[{op}] expected a floating point dtype, got {d}")
    return d


def randn(*size, dtype=None, device="cpu", requires_grad=False, generator=None):
    """Standard normal samples from the seeded generator."""
    d = _float_dtype(dtype, "randn")
    values = _numpy_generator(generator).standard_normal(size_arg(size, "randn", d.itemsize))
    return tensor(values, dtype=d, device=device, requires_grad=requires_grad)


def rand(*size, dtype=None, device="cpu", requires_grad=False, generator=None):
    """Uniform [0, 1) samples from the seeded generator."""
    d = _float_dtype(dtype, "rand")
    values = _numpy_generator(generator).random(size_arg(size, "rand", d.itemsize))
    return tensor(values, dtype=d, device=device, requires_grad=requires_grad)


# Random and range values are made on the host (pycnn's generator is a NumPy one) and then moved.
def randint(low, high=None, size=(), dtype=int64, generator=None, device=None):
    """Integers uniform in [low, high) (randint(high, size=...) starts at 0), as torch.randint."""
    if high is None:
        low, high = 0, low
    low, high = int_arg(low, "low", "randint"), int_arg(high, "high", "randint")
    if low >= high:
        raise ValueError(f"[randint] expected low < high, got low {low} and high {high}")
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"[randint] expected size to be a tuple of ints, got {size!r}")
    shape = size_arg((tuple(size),), "randint", 8)
    values = _numpy_generator(generator).integers(low, high, size=tuple(shape))
    return tensor(values, dtype=dtype, device=device)


def randperm(n, generator=None, device=None):
    n = int_arg(n, "n", "randperm")
    if n < 0:
        raise ValueError(f"[randperm] expected n >= 0, got {n}")
    size_arg((n,), "randperm", 8)
    return tensor(_numpy_generator(generator).permutation(n).astype(np.int64), device=device)


def arange(start, end=None, step=1, dtype=None, device=None):
    """Values start, start + step, ... below end (above it for a negative step), as torch.arange."""
    if end is None:
        start, end = 0, start
    for name, value in (("start", start), ("end", end), ("step", step)):
        if not np.isfinite(number_arg(value, "arange", name)):
            raise ValueError(f"[arange] expected a finite {name}, got {value}")
    if step == 0 or (end - start) * step < 0:
        raise ValueError(f"[arange] step {step} cannot go from start {start} to end {end}")
    size_arg((int(np.ceil((end - start) / step)),), "arange", 8)
    values = np.arange(start, end, step)
    if dtype is None and values.dtype.kind == "f":
        dtype = _default_dtype
    return tensor(values, dtype=dtype, device=device)
