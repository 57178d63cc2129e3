"""Python values to what the core takes: core tensors (``_C.Tensor``), with torch's dtype rules (NumPy arrays
keep their dtype, Python floats become float32 and ints int64), and shape / dim arguments as lists of ints.
Used by the Tensor constructor and methods, the factories, and ops that accept scalars or array-likes.
"""

import numpy as np

from . import _C
from ._types import LOW_PRECISION, as_device, as_dtype, get_default_dtype
from .autograd import TensorBase


def impl_from_data(data, dtype=None, device=None):
    """A new core tensor holding a copy of data (array, list, scalar or Tensor)."""
    if isinstance(data, TensorBase):
        impl = data._impl.clone()
        if dtype is not None and as_dtype(dtype).name != impl.dtype:
            impl = impl.to_dtype(as_dtype(dtype).name)
    else:
        is_array = isinstance(data, np.ndarray)
        try:
            arr = np.array(data)
        except ValueError as e:  # NumPy's "inhomogeneous shape": a ragged nested list
            raise ValueError(f"[tensor] can't make a tensor from ragged nested sequences ({e})") from None
        target = as_dtype(dtype) if dtype is not None else _dtype_of_values(arr, is_array)
        # bfloat16, which NumPy lacks, is converted by the core from float32
        arr = arr.astype(target.numpy or np.float32, copy=False)
        impl = _C.from_numpy(np.asarray(arr, order="C"))  # arr is our own copy: sharing it is safe
        if target.numpy is None:
            impl = impl.to_dtype(target.name)
    if device is not None and str(as_device(device)) != "cpu":
        impl = impl.to_device(str(as_device(device)))
    return impl


def _dtype_of_values(arr, is_array):
    """torch's dtype for data without one: arrays keep theirs where pycnn has it (other integers become int64,
    other floats float32); Python floats become the default float dtype, ints int64 and bools bool."""
    kind = arr.dtype.kind
    if kind == "b":
        return as_dtype("bool")
    if kind in "iu":
        return as_dtype(arr.dtype) if arr.dtype in (np.int32, np.uint8) else as_dtype("int64")
    if kind != "f":
        raise TypeError(f"[tensor] can't make a tensor from data of dtype {arr.dtype}")
    if is_array and arr.dtype in (np.float16, np.float32, np.float64):
        return as_dtype(arr.dtype)
    return get_default_dtype()


def computable(x):
    """x itself, or x converted to float32 when its dtype is stored only (float16, bfloat16): for the ops that call
    the core directly rather than through a Function (Function.apply converts by itself)."""
    return x.to("float32") if x._impl.dtype in LOW_PRECISION else x


def is_int(value):
    """A Python or NumPy integer, not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_int64(value, name, op):
    """value, an int the core can take: one past int64 would fail in the bindings with pybind11's
    'incompatible function arguments' instead of naming the op."""
    if not -(2**63) <= value < 2**63:
        raise ValueError(f"[{op}] {name} {value} is too large: more than 64 bits")
    return value


def int_arg(value, name, op):
    """value as an int within int64 (a Python or NumPy integer, not a bool); a TypeError or ValueError naming op
    and the value otherwise."""
    if not is_int(value):
        raise TypeError(f"[{op}] expected {name} to be an int, got {value!r}")
    return check_int64(int(value), name, op)


def shape_arg(shape, op="shape"):
    """torch's two spellings of a shape, ``f(2, 3)`` and ``f((2, 3))``: the arguments tuple as a list of ints."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return [int_arg(s, "each size", op) for s in shape]


def size_arg(size, op, itemsize=None):
    """A factory's size arguments as a list of non-negative ints; with itemsize, also refuses a size whose bytes
    overflow (the factories that make their values in NumPy first, which would say only "array is too big")."""
    size = shape_arg(size, op)
    if any(s < 0 for s in size):
        raise ValueError(f"[{op}] negative dimension in size {tuple(size)}")
    if itemsize is not None and 0 not in size and np.prod([float(s) for s in size]) * itemsize >= 2.0**63:
        raise ValueError(f"[{op}] size {tuple(size)} is too large: more than 2^63 - 1 bytes")
    return size


def dims_arg(dim, op="dim", rank=None):
    """A dim argument (None for all dims, an int, or a sequence of ints) as a list of ints ([] for all); with
    rank, also checked in range and unrepeated, so that a composite (mean) names itself."""
    if dim is None:
        return []
    if isinstance(dim, (tuple, list)):
        dims = [int_arg(d, "each dim", op) for d in dim]
    elif is_int(dim):
        dims = [int_arg(dim, "dim", op)]
    else:
        raise TypeError(f"[{op}] expected dim to be None, an int or a sequence of ints, got {dim!r}")
    if rank is not None and len({wrap_dim(d, rank, op) for d in dims}) != len(dims):
        raise ValueError(f"[{op}] repeated dim in {tuple(dims)}")
    return dims


def wrap_dim(dim, rank, op):
    """dim in [-rank, rank) (a scalar counts as rank 1, as in torch) as its non-negative index; the same rule and
    message as the core's wrap_dim."""
    if not is_int(dim):
        raise TypeError(f"[{op}] dim must be an int, got {dim!r}")
    r = max(rank, 1)
    if not -r <= dim < r:
        raise ValueError(f"[{op}] dim {dim} out of range for a tensor of rank {rank}")
    return int(dim) % r


def scalar_like(value, like):
    """A 0-d core tensor holding value, with the dtype and device of the core tensor ``like``."""
    return _C.full([], float(value), like.dtype, like.device)


def number_arg(value, op, name="value"):
    """A Python/NumPy number, a bool or a one-element tensor as a float; a TypeError naming op otherwise."""
    if isinstance(value, TensorBase) and value._impl.numel() == 1:
        return value._impl.item()
    if isinstance(value, (bool, int, float, np.number)):
        return float(value)
    raise TypeError(f"[{op}] expected {name} to be a number, got {type(value).__name__} {value!r}")


def host_array(value, dtype, op):
    """value (array, list, number) as a C-contiguous NumPy array of ``dtype`` (a pycnn dtype); a TypeError
    naming op for what is no array of numbers (None, strings, ragged lists)."""
    if value is None or isinstance(value, (str, bytes)):
        raise TypeError(f"[{op}] expected a tensor, a number or an array, got {type(value).__name__} {value!r}")
    try:
        return np.asarray(value, dtype=dtype.numpy or np.float32, order="C")
    except (TypeError, ValueError) as e:
        raise TypeError(f"[{op}] can't convert {type(value).__name__} {value!r} to a {dtype.name} array: {e}") from None


def bool_arg(value, name, op):
    """A flag: a bool (or NumPy bool, or the ints 0 and 1); a TypeError naming op otherwise (a string is truthy)."""
    if isinstance(value, (bool, np.bool_)) or (is_int(value) and value in (0, 1)):
        return bool(value)
    raise TypeError(f"[{op}] expected {name} to be a bool, got {type(value).__name__} {value!r}")


def check_tensor(value, op, name="input"):
    """value itself when it is a pycnn Tensor; a TypeError naming op otherwise."""
    if not isinstance(value, TensorBase):
        raise TypeError(f"[{op}] expected {name} to be a pycnn.Tensor, got {type(value).__name__}")
    return value
