"""pycnn: convolutional networks on a C++ core (SIMD + OpenMP, optional CUDA) with a PyTorch-like API.

    import pycnn as pc
    x = pc.randn(8, 1, 28, 28)
    model = pc.models.lenet5()
    loss = pc.nn.CrossEntropyLoss()(model(x), pc.tensor([0, 1, 2, 3, 4, 5, 6, 7]))
    loss.backward()
"""
import numpy as _np

try:
    from . import _C
except ImportError as _e:  # the source tree, or a build that failed: say what to do
    raise ImportError(f"pycnn's compiled core (pycnn._C) was not found next to {__file__}. Install the package "
                      "(pip install .), or for development pip install -e . --no-build-isolation") from _e
from ._types import dtype, device, float32, float64, int64, float, double, long  # noqa: A004
from ._types import as_dtype as _as_dtype, as_device as _as_device
from .autograd import no_grad, enable_grad, is_grad_enabled, set_grad_enabled, Function
from .random import Generator, manual_seed, default_generator, initial_seed, _numpy_generator
from .tensor import Tensor
from . import cuda

__version__ = getattr(_C, "__version__", "0.0.0")

_default_dtype = float32


def get_default_dtype():
    return _default_dtype


def set_default_dtype(d):
    global _default_dtype
    d = _as_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"[set_default_dtype] expected a floating point dtype, got {d}")
    _default_dtype = d


def set_num_threads(n):
    """Threads used by every CPU kernel (OpenMP)."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"[set_num_threads] expected a positive int, got {n!r}")
    _C.set_num_threads(n)


def get_num_threads():
    return _C.get_num_threads()


# ---- factories ----
def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of data (array, nested lists, scalar). NumPy arrays keep their dtype;
    Python floats become float32 and ints int64, as in torch."""
    return Tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


def from_numpy(array):
    """A tensor sharing the array's memory (float32, float64 or int64)."""
    if not isinstance(array, _np.ndarray):
        raise TypeError(f"[from_numpy] expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor._make(_C.from_numpy(array))


def as_tensor(data, dtype=None):
    if isinstance(data, Tensor) and (dtype is None or _as_dtype(dtype) == data.dtype):
        return data
    if isinstance(data, _np.ndarray) and (dtype is None or _as_dtype(dtype).numpy == data.dtype) \
            and data.dtype in (_np.float32, _np.float64, _np.int64):
        return from_numpy(data)
    return tensor(data, dtype=dtype)


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    size = [int(s) for s in size]
    if any(s < 0 for s in size):
        raise ValueError(f"[factory] negative dimension in size {tuple(size)}")
    return size


def _factory(impl, requires_grad):
    return Tensor._make(impl).requires_grad_(requires_grad) if requires_grad else Tensor._make(impl)


def full(size, fill_value, dtype=None, device="cpu", requires_grad=False):
    d = _as_dtype(dtype) if dtype is not None else (int64 if isinstance(fill_value, int) and
                                                     not isinstance(fill_value, bool) else _default_dtype)
    impl = _C.full(_size((size,) if isinstance(size, int) else (size,)), fill_value, d.name, "cpu")
    if str(_as_device(device)) != "cpu":
        impl = impl.to_device(str(_as_device(device)))
    return _factory(impl, requires_grad)


def zeros(*size, dtype=None, device="cpu", requires_grad=False):
    return full(_size(size), 0.0, dtype or _default_dtype, device, requires_grad)


def ones(*size, dtype=None, device="cpu", requires_grad=False):
    return full(_size(size), 1.0, dtype or _default_dtype, device, requires_grad)


def empty(*size, dtype=None, device="cpu", requires_grad=False):
    d = _as_dtype(dtype or _default_dtype)
    impl = _C.empty(_size(size), d.name, "cpu")
    if str(_as_device(device)) != "cpu":
        impl = impl.to_device(str(_as_device(device)))
    return _factory(impl, requires_grad)


def zeros_like(t, dtype=None, requires_grad=False):
    return zeros(t.shape, dtype=dtype or t.dtype, device=t.device, requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    return ones(t.shape, dtype=dtype or t.dtype, device=t.device, requires_grad=requires_grad)


def randn(*size, dtype=None, device="cpu", requires_grad=False, generator=None):
    """Standard normal samples from the seeded generator."""
    d = _as_dtype(dtype or _default_dtype)
    values = _numpy_generator(generator).standard_normal(_size(size))
    return tensor(values.astype(d.numpy), device=device, requires_grad=requires_grad)


def rand(*size, dtype=None, device="cpu", requires_grad=False, generator=None):
    """Uniform [0, 1) samples from the seeded generator."""
    d = _as_dtype(dtype or _default_dtype)
    values = _numpy_generator(generator).random(_size(size))
    return tensor(values.astype(d.numpy), device=device, requires_grad=requires_grad)


def randint(low, high=None, size=(), dtype=int64, generator=None):
    if high is None:
        low, high = 0, low
    return tensor(_numpy_generator(generator).integers(low, high, size=tuple(size)), dtype=dtype)


def randperm(n, generator=None):
    return tensor(_numpy_generator(generator).permutation(n).astype(_np.int64))


def arange(start, end=None, step=1, dtype=None):
    if end is None:
        start, end = 0, start
    values = _np.arange(start, end, step)
    if dtype is None and values.dtype.kind == "f":
        dtype = _default_dtype
    return tensor(values, dtype=dtype)


def matmul(a, b):
    """(M, K) @ (K, N) -> (M, N); also batched (..., M, K) @ (..., K, N) with broadcasting and 1-D operands."""
    return a.matmul(b)


def sum(x, dim=None, keepdim=False):  # noqa: A001
    return x.sum(dim, keepdim)


def mean(x, dim=None, keepdim=False):
    return x.mean(dim, keepdim)


def argmax(x, dim=None, keepdim=False):
    return x.argmax(dim, keepdim)


# tensor operations (pycnn/_tensor_ops.py)
from ._tensor_ops import cat, stack, split, chunk, narrow, where  # noqa: E402


def concat(tensors, dim=0):
    return cat(tensors, dim)


def max(x, dim=None, keepdim=False):  # noqa: A001
    return x.max(dim, keepdim)


def min(x, dim=None, keepdim=False):  # noqa: A001
    return x.min(dim, keepdim)


def argmin(x, dim=None, keepdim=False):
    return x.argmin(dim, keepdim)


def index_select(x, dim, index):
    return x.index_select(dim, index)


def masked_select(x, mask):
    return x.masked_select(mask)


def maximum(input, other):  # noqa: A002
    return input.maximum(other)


def minimum(input, other):  # noqa: A002
    return input.minimum(other)


def var(x, dim=None, unbiased=None, keepdim=False, *, correction=1):
    return x.var(dim, unbiased, keepdim, correction=correction)


def std(x, dim=None, unbiased=None, keepdim=False, *, correction=1):
    return x.std(dim, unbiased, keepdim, correction=correction)


def relu(x):
    return x.relu()


def exp(x):
    return x.exp()


def log(x):
    return x.log()


def sqrt(x):
    return x.sqrt()


def abs(x):  # noqa: A001
    return x.abs()


def clamp(x, min=None, max=None):  # noqa: A002
    return x.clamp(min, max)


def sigmoid(x):
    return x.sigmoid()


def tanh(x):
    return x.tanh()


def flatten(x, start_dim=0, end_dim=-1):
    return x.flatten(start_dim, end_dim)


from . import nn, optim, data, datasets, models, metrics, train  # noqa: E402  (they build on the names above)
from . import ops  # noqa: E402
from .serialization import save, load  # noqa: E402
from .summary import summary  # noqa: E402
