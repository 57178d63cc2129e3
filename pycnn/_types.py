"""dtype and device objects, as in torch: ``pycnn.float32``, ``pycnn.device("cpu")``.

The core names dtypes and devices with strings ("float32", "cuda:0"); these small classes map those
strings to objects users can compare, print and pass around.
"""

import numpy as np


class dtype:
    """An element type. Instances: pycnn.float32, pycnn.float64, pycnn.int64."""

    __slots__ = ("is_floating_point", "itemsize", "name", "numpy")

    def __init__(self, name, np_type):
        self.name = name
        self.numpy = np.dtype(np_type)
        self.itemsize = self.numpy.itemsize
        self.is_floating_point = self.numpy.kind == "f"

    def __repr__(self):
        return f"pycnn.{self.name}"

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))


float32 = dtype("float32", np.float32)
float64 = dtype("float64", np.float64)
int64 = dtype("int64", np.int64)
float = float32
double = float64
long = int64

_DTYPES = {"float32": float32, "float64": float64, "int64": int64}


def _dtype_by_name(name):
    return _DTYPES[name]


def as_dtype(d):
    """Accepts a pycnn dtype, a NumPy dtype/type or a name; returns the pycnn dtype (TypeError otherwise)."""
    if isinstance(d, dtype):
        return d
    try:
        name = np.dtype(d).name
    except TypeError:
        name = str(d)
    if name not in _DTYPES:
        raise TypeError(f"[dtype] unsupported dtype {d!r} (pycnn has float32, float64 and int64)")
    return _DTYPES[name]


# The CUDA device "cuda" without an index means (pycnn.cuda.set_device changes it).
_current_cuda_index = 0


def current_cuda_index():
    return _current_cuda_index


def set_current_cuda_index(index):
    global _current_cuda_index
    _current_cuda_index = int(index)


class device:
    """Where a tensor lives: ``device("cpu")``, ``device("cuda")``, ``device("cuda", 1)``, ``device("cuda:1")``,
    or a CUDA device ordinal ``device(1)`` as in torch. "cuda" without an index takes the current CUDA device
    (``pycnn.cuda.set_device``) when it is made."""

    __slots__ = ("index", "type")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, int) and not isinstance(type, bool):
            type, index = "cuda", type
        elif not isinstance(type, str):
            raise TypeError(f"[device] expected a device name, a device or a CUDA ordinal, got {type!r}")
        elif ":" in type:
            type, idx = type.split(":", 1)
            index = int(idx)
        if type not in ("cpu", "cuda"):
            raise ValueError(f"[device] expected 'cpu' or 'cuda', got {type!r}")
        if type == "cuda" and index is not None and int(index) < 0:
            raise ValueError(f"[device] a CUDA device index must be non-negative, got {index}")
        self.type = type
        self.index = (_current_cuda_index if index is None else int(index)) if type == "cuda" else None

    def __str__(self):
        return self.type if self.type == "cpu" else f"cuda:{self.index}"

    def __repr__(self):
        return f"device(type='{self.type}'" + ("" if self.index is None else f", index={self.index}") + ")"

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))


def as_device(d):
    return d if isinstance(d, device) else device(d)
