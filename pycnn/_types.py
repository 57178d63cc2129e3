"""dtype and device objects, as in torch: ``pycnn.float32``, ``pycnn.device("cpu")``.

The core names dtypes and devices with strings ("float32", "cuda:0"); these small classes map those
strings to objects users can compare, print and pass around.
"""

import numpy as np


class dtype:
    """An element type: pycnn.float32 (float), float64 (double), float16 (half), bfloat16, int64 (long),
    int32 (int), uint8 and bool, as torch's. ``numpy`` is the NumPy dtype of its values (bfloat16, which NumPy
    lacks, has None; its bits read as uint16)."""

    __slots__ = ("_category", "is_floating_point", "is_signed", "itemsize", "name", "numpy")

    def __init__(self, name, np_type, itemsize, category):
        self.name = name
        self.numpy = None if np_type is None else np.dtype(np_type)
        self.itemsize = itemsize
        self._category = category  # 0 bool, 1 integer, 2 floating: the order of type promotion
        self.is_floating_point = category == 2
        self.is_signed = name != "bool" and name != "uint8"

    def __repr__(self):
        return f"pycnn.{self.name}"

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))


float32 = dtype("float32", np.float32, 4, 2)
float64 = dtype("float64", np.float64, 8, 2)
float16 = dtype("float16", np.float16, 2, 2)
bfloat16 = dtype("bfloat16", None, 2, 2)
int64 = dtype("int64", np.int64, 8, 1)
int32 = dtype("int32", np.int32, 4, 1)
uint8 = dtype("uint8", np.uint8, 1, 1)
bool_ = dtype("bool", np.bool_, 1, 0)

_DTYPES = {d.name: d for d in (float32, float64, float16, bfloat16, int64, int32, uint8, bool_)}
# torch's other names (float16 is half, int32 is int); the module exports them as pycnn.half etc.
_ALIASES = {"float": float32, "double": float64, "half": float16, "long": int64, "int": int32}
LOW_PRECISION = ("float16", "bfloat16")  # stored, computed in float32


def _dtype_by_name(name):
    return _DTYPES[name]


def as_dtype(d):
    """Accepts a pycnn dtype, a NumPy dtype/type or a name; returns the pycnn dtype (TypeError otherwise)."""
    if isinstance(d, dtype):
        return d
    if isinstance(d, str) and d in _ALIASES:
        return _ALIASES[d]
    if d is bool:
        return bool_
    try:
        name = np.dtype(d).name
    except TypeError:
        name = str(d)
    if name not in _DTYPES:
        raise TypeError(
            f"[dtype] unsupported dtype {d!r} (pycnn has float32, float64, float16, bfloat16, int64, int32, "
            "uint8 and bool)"
        )
    return _DTYPES[name]


def promote_types(a, b):
    """torch.promote_types: the smallest dtype both convert to without losing their kind (bool < integers <
    floating point; float16 with bfloat16 gives float32)."""
    a, b = as_dtype(a), as_dtype(b)
    if a is b:
        return a
    if a._category != b._category:
        return a if a._category > b._category else b
    if a.itemsize == b.itemsize:  # float16 and bfloat16: neither holds the other
        return float32
    return a if a.itemsize > b.itemsize else b


def can_cast(from_, to):
    """torch.can_cast: whether an in-place result of dtype from_ may be written into a tensor of dtype to
    (never to a lower kind: float into an integer, an integer into bool)."""
    return as_dtype(from_)._category <= as_dtype(to)._category


def _combine_categories(higher, lower):
    # torch's rule: a lower-priority operand (a 0-d tensor, a Python number) changes the result only when it
    # is of a higher kind (a float scalar with an int tensor), and then only to the default of that kind.
    if higher is None:
        return lower
    if lower is None or higher.is_floating_point:
        return higher
    if higher is bool_ or lower.is_floating_point:
        return promote_types(higher, lower)
    return higher


def result_type(*operands):
    """torch.result_type for tensors (``.dtype`` and ``.ndim``) and Python numbers: tensors with dims decide,
    then 0-d tensors, then numbers (an int is int64, a float the default float dtype, a bool bool), each of
    the later ones only when it is of a higher kind."""
    from .creation import get_default_dtype  # creation sits above this module

    dim_result = zero_result = number_result = None
    for x in operands:
        if hasattr(x, "_impl"):
            d = as_dtype(x._impl.dtype)
            if x._impl.dim():
                dim_result = d if dim_result is None else promote_types(dim_result, d)
            else:
                zero_result = d if zero_result is None else promote_types(zero_result, d)
            continue
        if isinstance(x, (bool, np.bool_)):
            d = bool_
        elif isinstance(x, (int, np.integer)):
            d = int64
        elif isinstance(x, (float, np.floating)):
            d = get_default_dtype()
        else:
            raise TypeError(f"[result_type] expected tensors or numbers, got {type(x).__name__}")
        number_result = d if number_result is None else promote_types(number_result, d)
    return _combine_categories(dim_result, _combine_categories(zero_result, number_result))


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
