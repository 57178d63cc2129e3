"""pycnn.Tensor: a core tensor (``_C.Tensor``, the memory and numerics) plus what autograd needs
(``requires_grad``, ``grad``, ``grad_fn``, from ``autograd.TensorBase``). Differentiable methods go through
the Functions of ``pycnn.autograd_ops``; in-place initialisers and conversions work on the memory directly.
"""

import builtins

import numpy as np

from . import _C
from . import _index_ops as _iops
from . import _logical_ops as _logical
from . import _math_ops as _mops
from . import _sort_ops as _sort
from . import _tensor_ops as _tops
from . import autograd as _autograd
from . import autograd_ops as ag
from ._convert import (
    bool_arg,
    check_tensor,
    computable,
    dims_arg,
    host_array,
    impl_from_data,
    int_arg,
    number_arg,
    scalar_like,
    shape_arg,
    size_arg,
    wrap_dim,
)
from ._types import (
    _DTYPES,
    as_device,
    as_dtype,
    bool_,
    device,
    float32,
    get_default_dtype,
    int64,
    result_type,
)
from .autograd import TensorBase, check_inplace, is_grad_enabled, write_inplace
from .autograd import backward as _backward
from .autograd import register_hook as _register_hook
from .autograd import register_post_accumulate_grad_hook as _register_post_accumulate_grad_hook
from .autograd import retain_grad as _retain_grad
from .random import _numpy_generator


class Tensor(TensorBase):
    """An n-dimensional array with autograd. Create with ``pycnn.tensor``, ``pycnn.from_numpy``,
    ``pycnn.zeros``, ``pycnn.randn``...; ``Tensor(data)`` is ``pycnn.tensor(data)``."""

    __slots__ = ()
    __array_priority__ = 1000  # numpy_scalar * tensor dispatches to Tensor.__rmul__

    def __init__(self, data, dtype=None, requires_grad=False, device=None):
        if isinstance(data, _C.Tensor):
            impl = data
        else:
            impl = impl_from_data(data, dtype, device)
        self._impl = impl
        self.requires_grad = bool(requires_grad)
        self._grad = None
        self.grad_fn = None
        if requires_grad and not as_dtype(impl.dtype).is_floating_point:
            raise TypeError("[tensor] only floating point tensors can require gradients")

    @classmethod
    def _make(cls, impl, requires_grad=False, grad_fn=None):
        t = object.__new__(Tensor)
        t._impl = impl
        t.requires_grad = requires_grad
        t._grad = None
        t.grad_fn = grad_fn
        return t

    # ---- properties ----
    @property
    def shape(self):
        return self._impl.shape

    def size(self, dim=None):
        return self._impl.shape if dim is None else self._impl.shape[wrap_dim(dim, self.ndim, "size")]

    @property
    def ndim(self):
        return self._impl.dim()

    def dim(self):
        return self._impl.dim()

    def numel(self):
        return self._impl.numel()

    def __len__(self):
        if self._impl.dim() == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._impl.shape[0]

    @property
    def dtype(self):
        return _DTYPES[self._impl.dtype]

    @property
    def device(self):
        return device(self._impl.device)

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def is_cuda(self):
        return self._impl.device != "cpu"

    def is_contiguous(self):
        return self._impl.is_contiguous()

    def stride(self, dim=None):
        return self._impl.strides if dim is None else self._impl.strides[wrap_dim(dim, self.ndim, "stride")]

    def data_ptr(self):
        return self._impl.data_ptr

    def storage_offset(self):
        """Where this view starts in its memory, in elements."""
        return self._impl.offset

    def element_size(self):
        return self.dtype.itemsize

    @property
    def nbytes(self):
        return self._impl.numel() * self.dtype.itemsize

    # ---- new tensors like this one (its dtype and device unless given) ----
    def _new(self, op, size, value, dtype, device, requires_grad):
        d = self.dtype if dtype is None else as_dtype(dtype)
        where = self._impl.device if device is None else str(as_device(device))
        shape = size_arg(size, op)
        impl = _C.empty(shape, d.name, where) if value is None else _C.full(shape, value, d.name, where)
        return Tensor._make(impl).requires_grad_(requires_grad)

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
        value = number_arg(fill_value, "new_full", "fill_value")
        return self._new("new_full", (size,), value, dtype, device, requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        return self._new("new_zeros", size, 0.0, dtype, device, requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return self._new("new_ones", size, 1.0, dtype, device, requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return self._new("new_empty", size, None, dtype, device, requires_grad)

    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
        return Tensor(data, dtype or self.dtype, requires_grad, device or self.device)

    # ---- NumPy interop and values ----
    def _host_impl(self):
        """The core tensor itself on the CPU; a host copy of it on a GPU (the buffer protocol refuses device
        memory, so NumPy never sees a device pointer)."""
        return self._impl if self._impl.device == "cpu" else self._impl.to_device("cpu")

    def numpy(self):
        """A NumPy array sharing this tensor's memory on the CPU, a host copy for a CUDA tensor (the tensor
        must not require grad)."""
        _python_value(self, "Tensor.numpy")
        if self.requires_grad:
            raise RuntimeError("[numpy] can't call numpy() on a tensor that requires grad; use detach().numpy()")
        return np.asarray(self._numpy_impl("numpy"))

    def _numpy_impl(self, op):
        if self._impl.dtype == "bfloat16":
            raise TypeError(f"[{op}] NumPy has no bfloat16 dtype; convert first, e.g. t.float().{op}()")
        return self._host_impl()

    def _values_impl(self):
        """The host values NumPy can show: bfloat16 as float32 (repr, tolist)."""
        impl = self._host_impl()
        return impl.to_dtype("float32") if impl.dtype == "bfloat16" else impl

    def __array__(self, dtype=None, copy=None):
        _python_value(self, "Tensor.__array__")
        a = np.asarray(self._numpy_impl("__array__"))
        return a if dtype is None else a.astype(dtype, copy=False)

    def __reduce__(self):
        # pickle / deepcopy through a NumPy copy of the values (CPU) and the device to return to
        return (_rebuild_tensor, (np.array(self._impl.to_device("cpu")), self._impl.device, self.requires_grad))

    def __deepcopy__(self, memo):
        t = _rebuild_tensor(np.array(self._impl.to_device("cpu")), self._impl.device, self.requires_grad)
        if self.grad is not None:
            t.grad = self.grad.__deepcopy__(memo)
        memo[id(self)] = t
        return t

    def item(self):
        """The value of a one-element tensor as a Python number (bool for bool, int for integer dtypes)."""
        _python_value(self, "Tensor.item")
        if self._impl.numel() != 1:
            raise ValueError(f"[item] needs a tensor with one element, got shape {self.shape}")
        return np.asarray(self._values_impl()).reshape(()).item()

    def tolist(self):
        _python_value(self, "Tensor.tolist")
        return np.asarray(self._values_impl()).tolist()

    def __float__(self):
        _python_value(self, "float()")
        return float(self.item())

    def __int__(self):
        _python_value(self, "int()")
        return int(self.item())

    def __bool__(self):
        _python_value(self, "bool()")
        if self.numel() != 1:
            raise RuntimeError(f"[bool] the truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(self.item())

    def __iter__(self):
        """Iterates over dim 0 (views, as torch does)."""
        _python_value(self, "iteration")
        if self.ndim == 0:
            raise TypeError("[iter] iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __repr__(self):
        body = np.array2string(np.asarray(self._values_impl()), separator=", ", precision=4, prefix="tensor(")
        extras = []
        if self._impl.dtype not in ("float32", "int64", "bool"):
            extras.append(f"dtype={self.dtype}")
        if self._impl.device != "cpu":
            extras.append(f"device='{self._impl.device}'")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    # ---- autograd ----
    def backward(self, gradient=None, retain_graph=False):
        """Accumulates gradients into the ``.grad`` of every leaf this tensor depends on."""
        if gradient is not None:
            gradient = (
                gradient._impl
                if isinstance(gradient, Tensor)
                else impl_from_data(gradient, self.dtype, self._impl.device)  # on this tensor's device
            )
        _backward(self, gradient, retain_graph)

    def detach(self):
        """The same memory, cut out of the graph."""
        return Tensor._make(self._impl)

    def register_hook(self, hook):
        """``hook(grad)`` runs when this tensor's gradient is computed; a tensor it returns replaces the gradient.
        Returns a handle whose ``remove()`` takes the hook away."""
        return _register_hook(self, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """``hook(tensor)`` runs during backward once this leaf's ``.grad`` holds all of that backward's
        gradient. Returns a handle whose ``remove()`` takes the hook away."""
        return _register_post_accumulate_grad_hook(self, hook)

    def retain_grad(self):
        """Keeps this non-leaf tensor's gradient in ``.grad`` at backward (leaves always keep theirs)."""
        _retain_grad(self)

    def requires_grad_(self, requires_grad=True):
        requires_grad = bool_arg(requires_grad, "requires_grad", "requires_grad_")
        if requires_grad and not self.dtype.is_floating_point:
            raise TypeError(
                f"[requires_grad_] only floating point tensors can require gradients, got {self.dtype.name}"
            )
        if not self.is_leaf and not requires_grad:
            raise RuntimeError("[requires_grad_] can't change requires_grad of a non-leaf tensor; use detach()")
        self.requires_grad = requires_grad
        return self

    @property
    def data(self):
        """A detached alias of this tensor (same memory)."""
        return Tensor._make(self._impl)

    @data.setter
    def data(self, other):
        if not isinstance(other, Tensor):
            raise TypeError(f"[data] expected a pycnn.Tensor, got {type(other).__name__}")
        if tuple(other.shape) != self.shape or other.dtype != self.dtype:
            raise ValueError(
                f"[data] expected a {self.dtype.name} tensor of shape {self.shape}, got "
                f"{other.dtype.name} {tuple(other.shape)}"
            )
        self._impl = other._impl

    # ---- in-place writes (no autograd: use under no_grad, for initialisation and updates) ----
    def _check_inplace(self, op):
        check_inplace(self, op)

    def copy_(self, src):
        """Copies src (a Tensor or array broadcastable to this shape) into this tensor, converting the dtype."""
        self._check_inplace("copy_")
        src_impl = src._impl if isinstance(src, Tensor) else _C.from_numpy(host_array(src, self.dtype, "copy_"))
        if tuple(src_impl.shape) != self.shape:
            try:
                src_impl = src_impl.expand(list(self.shape))
            except ValueError:
                raise ValueError(
                    f"[copy_] a source of shape {tuple(src_impl.shape)} does not broadcast to {self.shape}"
                ) from None
        _C.copy_(self._impl, src_impl)
        return self

    def fill_(self, value):
        value = number_arg(value, "fill_")
        self._check_inplace("fill_")
        if self._impl.is_contiguous():
            _C.fill_(self._impl, value)
        else:
            _C.copy_(self._impl, scalar_like(value, self._impl).expand(list(self.shape)))
        return self

    def zero_(self):
        self._check_inplace("zero_")
        return self.fill_(0.0)

    def uniform_(self, a=0.0, b=1.0, generator=None):
        """Fills with U(a, b) from the seeded generator (``pycnn.manual_seed``)."""
        a, b = number_arg(a, "uniform_", "a"), number_arg(b, "uniform_", "b")
        if not a <= b:
            raise ValueError(f"[uniform_] expected a <= b, got a={a}, b={b}")
        self._check_inplace("uniform_")
        values = _numpy_generator(generator).uniform(a, b, size=self.shape)
        return self._write_numpy(values)

    def normal_(self, mean=0.0, std=1.0, generator=None):
        mean, std = number_arg(mean, "normal_", "mean"), number_arg(std, "normal_", "std")
        if not std >= 0:
            raise ValueError(f"[normal_] expected std >= 0, got {std}")
        self._check_inplace("normal_")
        values = _numpy_generator(generator).normal(mean, std, size=self.shape)
        return self._write_numpy(values)

    def _write_numpy(self, values):
        _C.copy_(self._impl, _C.from_numpy(np.asarray(values, dtype=self.dtype.numpy, order="C")))
        return self

    # ---- in-place arithmetic: the out-of-place op for autograd, its result written into this tensor ----
    def add_(self, other, *, alpha=1):
        return write_inplace(self, self.add(other, alpha=alpha), "add_")

    def sub_(self, other, *, alpha=1):
        return write_inplace(self, self.sub(other, alpha=alpha), "sub_")

    def mul_(self, other):
        return write_inplace(self, self * other, "mul_")

    def div_(self, other):
        return write_inplace(self, self / other, "div_")

    def clamp_(self, min=None, max=None):
        return write_inplace(self, self.clamp(min, max), "clamp_")

    def relu_(self):
        return write_inplace(self, self.relu(), "relu_")

    def detach_(self):
        """Cuts this tensor out of the graph, in place (it becomes a leaf that does not require grad)."""
        self.grad_fn, self.requires_grad = None, False
        return self

    # ---- conversions ----
    def to(self, *args, dtype=None, device=None, non_blocking=False):
        """``t.to(pycnn.float64)``, ``t.to("cuda")``, ``t.to("cuda", pycnn.float64)``, ``t.to(other_tensor)``
        (its dtype and device) or keywords. non_blocking: a copy from pinned host memory to a GPU (or from a
        GPU to the host) is queued on the current stream and not waited for."""
        for a in args:
            if isinstance(a, bool):
                non_blocking = a  # torch's positional to(device, dtype, non_blocking)
            elif isinstance(a, Tensor):
                dtype, device = a.dtype, a.device
            elif isinstance(a, str) and a not in _DTYPES:
                device = as_device(a)  # neither a dtype nor a device name: the device error says so
            elif (hasattr(a, "index") and not isinstance(a, str)) or isinstance(a, int):
                device = as_device(a)  # a device, or a CUDA ordinal as in torch (t.to(0))
            else:
                dtype = as_dtype(a)
        out = self
        if dtype is not None and as_dtype(dtype).name != self._impl.dtype:
            dtype = as_dtype(dtype)
            # casting to an integer or bool ends the graph: they carry no gradient
            out = (
                ag.CastFn.apply(out, dtype.name)
                if dtype.is_floating_point and self.dtype.is_floating_point
                else Tensor._make(out._impl.to_dtype(dtype.name))
            )
        if device is not None and str(as_device(device)) != out._impl.device:
            target = str(as_device(device))
            if out.requires_grad and is_grad_enabled():
                out = ag.ToDeviceFn.apply(out, target)  # its backward moves the gradient back
            else:
                out = Tensor._make(out._impl.to_device(target, bool(non_blocking)))
        return out

    def type_as(self, other):
        return self.to(check_tensor(other, "type_as", "other").dtype)

    def float(self):
        return self.to(float32)

    def double(self):
        return self.to(_DTYPES["float64"])

    def long(self):
        return self.to(int64)

    def int(self):
        return self.to(_DTYPES["int32"])

    def byte(self):
        return self.to(_DTYPES["uint8"])

    def bool(self):
        return self.to(bool_)

    def half(self):
        return self.to(_DTYPES["float16"])

    def bfloat16(self):
        return self.to(_DTYPES["bfloat16"])

    def is_floating_point(self):
        return self.dtype.is_floating_point

    def type(self, dtype=None):
        """Without an argument, torch's type name ("pycnn.FloatTensor", "pycnn.cuda.LongTensor"); with a dtype
        (or such a name), this tensor converted to it."""
        if dtype is None:
            where = "pycnn." if self._impl.device == "cpu" else "pycnn.cuda."
            return where + _TYPE_NAMES[self._impl.dtype]
        if isinstance(dtype, str) and dtype.endswith("Tensor"):
            names = {v: k for k, v in _TYPE_NAMES.items()}
            short = dtype.rsplit(".", 1)[-1]
            if short not in names:
                raise TypeError(f"[type] unknown tensor type {dtype!r}")
            return self.to(as_dtype(names[short]), device="cuda" if ".cuda." in dtype else None)
        return self.to(as_dtype(dtype))

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False):
        """This tensor on a GPU: the current one, or ``device`` (an index, "cuda:N" or a pycnn.device)."""
        if device is None:
            device = "cuda"
        elif isinstance(device, builtins.int) and not isinstance(device, bool):
            device = f"cuda:{device}"
        if as_device(device).type != "cuda":
            raise ValueError(f"[cuda] expected a CUDA device, got {device}")
        return self.to(device, non_blocking=non_blocking)

    def pin_memory(self):
        """A copy of this CPU tensor in page-locked host memory (copies from it to a GPU can run
        asynchronously); raises a RuntimeError without CUDA."""
        return Tensor._make(self._impl.pin_memory())

    def is_pinned(self):
        return bool(self._impl.is_pinned())

    def clone(self):
        return ag.CloneFn.apply(self)

    def contiguous(self):
        return self if self._impl.is_contiguous() else ag.CloneFn.apply(self)

    # ---- shape ----
    def view(self, *shape):
        return ag.ReshapeFn.apply(self, shape_arg(shape, "view"), True)

    def reshape(self, *shape):
        return ag.ReshapeFn.apply(self, shape_arg(shape, "reshape"), False)

    def flatten(self, start_dim=0, end_dim=-1):
        shape = self.shape
        if not shape:
            return self.reshape(1)
        s = wrap_dim(start_dim, len(shape), "flatten")
        e = wrap_dim(end_dim, len(shape), "flatten")
        if s > e:
            raise ValueError(f"[flatten] start_dim {start_dim} comes after end_dim {end_dim}")
        n = 1
        for d in shape[s : e + 1]:
            n *= d
        return self.reshape(*shape[:s], n, *shape[e + 1 :])

    def unsqueeze(self, dim):
        shape = list(self.shape)
        r = len(shape)
        if isinstance(dim, (int, np.integer)) and not isinstance(dim, bool) and not -r - 1 <= dim <= r:
            raise ValueError(
                f"[unsqueeze] dim {dim} out of range for a tensor of rank {r} (the new dim goes at {-r - 1}..{r})"
            )
        shape.insert(wrap_dim(dim, r + 1, "unsqueeze"), 1)  # a new dim: rank + 1 places
        return self.reshape(*shape)

    def squeeze(self, dim=None):
        shape = self.shape
        if dim is None:
            new = [d for d in shape if d != 1]
        else:
            dim = wrap_dim(dim, len(shape), "squeeze")
            new = [d for i, d in enumerate(shape) if i != dim or d != 1]
        return self.reshape(*new)

    def transpose(self, dim0, dim1):
        n = self.ndim
        dim0, dim1 = wrap_dim(dim0, n, "transpose"), wrap_dim(dim1, n, "transpose")
        if n == 0:
            return self
        perm = list(range(n))
        perm[dim0], perm[dim1] = perm[dim1], perm[dim0]
        return ag.PermuteFn.apply(self, perm)

    def t(self):
        if self.ndim > 2:
            raise ValueError(f"[t] expects a tensor with <= 2 dims, got shape {self.shape}")
        return self if self.ndim < 2 else self.transpose(0, 1)

    @property
    def T(self):
        return ag.PermuteFn.apply(self, list(range(self.ndim))[::-1])

    def permute(self, *dims):
        return ag.PermuteFn.apply(self, shape_arg(dims, "permute"))

    def view_as(self, other):
        return self.view(check_tensor(other, "view_as", "other").shape)

    def reshape_as(self, other):
        return self.reshape(check_tensor(other, "reshape_as", "other").shape)

    def expand_as(self, other):
        return self.expand(check_tensor(other, "expand_as", "other").shape)

    def expand(self, *shape):
        shape = shape_arg(shape)
        lead = len(shape) - self.ndim
        for i, s in enumerate(shape[:lead]):
            if s == -1:
                raise ValueError(
                    f"[expand] size -1 (keep) is not allowed in the new leading dim {i} of {tuple(shape)} "
                    f"for a tensor of shape {self.shape}"
                )
        shape = [self.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(shape)]
        return ag.ExpandFn.apply(self, shape)

    # ---- math ----
    def sum(self, dim=None, keepdim=False, *, dtype=None):
        """The sum over dim (all dims when None); integers and bool sum in int64, as torch's."""
        x = self if dtype is None else self.to(dtype)
        if not x.dtype.is_floating_point and x.dtype is not int64:
            x = x.to(int64)
        return ag.SumFn.apply(x, dims_arg(dim, "sum"), bool_arg(keepdim, "keepdim", "sum"))

    def mean(self, dim=None, keepdim=False, *, dtype=None):
        if dtype is not None:
            return self.to(dtype).mean(dim, keepdim)
        if not self.dtype.is_floating_point:
            raise TypeError(
                f"[mean] could not infer the output dtype: the input must be floating point, got {self.dtype.name} "
                "(pass dtype=pycnn.float32)"
            )
        total = ag.SumFn.apply(self, dims_arg(dim, "mean", self.ndim), bool_arg(keepdim, "keepdim", "mean"))
        # the count of summed values, from the sizes (the dims may be negative; a 0-d tensor has dim 0 too)
        count = self.numel() // total.numel() if total.numel() else 1
        return total * (1.0 / count if count else float("nan"))

    def argmax(self, dim=None, keepdim=False):
        if self.dtype is bool_:
            raise TypeError("[argmax] does not take bool tensors (as torch's)")
        x = computable(self)
        if dim is None:
            return Tensor._make(_C.argmax(x._impl.reshape([-1]), 0))
        out = Tensor._make(_C.argmax(x._impl, int_arg(dim, "dim", "argmax")))
        return out.unsqueeze(dim) if keepdim and self.ndim else out  # a 0-d input keeps 0 dims

    def relu(self):
        if self.dtype is bool_:
            raise TypeError("[relu] does not take bool tensors (as torch's)")
        if not self.dtype.is_floating_point:  # integers: no gradient, no kernel of their own
            return self if not self.dtype.is_signed else _tops.where(self > 0, self, 0)
        return ag.ReLUFn.apply(self)

    # elementwise math of the unary family (csrc/ops/activation.cpp)
    def exp(self):
        return ag.UnaryFn.apply(self._float(), "exp", 0.0, 0.0)

    def log(self):
        return ag.UnaryFn.apply(self._float(), "log", 0.0, 0.0)

    def sqrt(self):
        return ag.UnaryFn.apply(self._float(), "sqrt", 0.0, 0.0)

    def abs(self):
        if self.dtype is bool_:
            raise TypeError("[abs] is not defined for bool tensors")
        if not self.dtype.is_floating_point:  # integers: no kernel of the unary family
            return self if not self.dtype.is_signed else _tops.where(self < 0, -self, self)
        return ag.UnaryFn.apply(self, "abs", 0.0, 0.0)

    def _float(self):
        """This tensor, integers and bool converted to the default float dtype (the math that torch promotes)."""
        if self.dtype.is_floating_point:
            return self
        return self.to(get_default_dtype())

    def sigmoid(self):
        return ag.UnaryFn.apply(self._float(), "sigmoid", 0.0, 0.0)

    def tanh(self):
        return ag.UnaryFn.apply(self._float(), "tanh", 0.0, 0.0)

    def pow(self, exponent):
        """self ** exponent for a scalar exponent."""
        if isinstance(exponent, bool) or not isinstance(exponent, (builtins.int, builtins.float, np.number)):
            raise TypeError(f"[pow] expected a scalar exponent, got {type(exponent).__name__}")
        return ag.UnaryFn.apply(self._float(), "pow", float(exponent), 0.0)

    __pow__ = pow

    def clamp(self, min=None, max=None):
        """Values limited to [min, max]; either bound may be None (not both)."""
        if min is None and max is None:
            raise ValueError("[clamp] at least one of min and max must be given")
        for name, v in (("min", min), ("max", max)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, (builtins.int, builtins.float, np.number))):
                raise TypeError(f"[clamp] expected {name} to be a number or None, got {type(v).__name__}")
        lo = -float("inf") if min is None else float(min)
        hi = float("inf") if max is None else float(max)
        return ag.UnaryFn.apply(self, "clamp", lo, hi)

    clip = clamp

    def log_softmax(self, dim):
        return ag.LogSoftmaxFn.apply(self, dim)

    def softmax(self, dim):
        return ag.SoftmaxFn.apply(self, dim)

    def matmul(self, other):
        return _tops.matmul(self, _as_tensor(other, self, "matmul"))  # 2-D, batched and 1-D (pycnn/_tensor_ops.py)

    __matmul__ = matmul

    def __rmatmul__(self, other):
        return _tops.matmul(_as_tensor(other, self, "matmul"), self)

    def _binary(self, op, other, reverse=False):
        """self (op) other with torch's type promotion: the operands meet in their result dtype; / divides
        integers in the default float dtype; a subtraction with a bool operand is refused (as torch)."""
        if not isinstance(other, (Tensor, builtins.int, builtins.float, np.number)):
            other = _as_tensor(other, self, op)
        dtype = result_type(self, other)
        if op == "div" and not dtype.is_floating_point:
            dtype = get_default_dtype()
        elif op == "sub" and (
            self.dtype is bool_ or getattr(other, "dtype", None) is bool_ or isinstance(other, builtins.bool)
        ):
            raise TypeError("[sub] subtraction with a bool tensor is not supported; use logical_xor or ~ (logical_not)")
        a, b = _tops.promoted(self, other, op, dtype)
        return ag.BinaryFn.apply(b, a, op) if reverse else ag.BinaryFn.apply(a, b, op)

    def __add__(self, other):
        return self._binary("add", other)

    def add(self, other, *, alpha=1):
        """self + alpha * other."""
        return self._binary("add", other if alpha == 1 else _as_tensor(other, self, "add") * alpha)

    def sub(self, other, *, alpha=1):
        """self - alpha * other."""
        return self._binary("sub", other if alpha == 1 else _as_tensor(other, self, "sub") * alpha)

    def __radd__(self, other):
        return self._binary("add", other, True)

    def __sub__(self, other):
        return self._binary("sub", other)

    def __rsub__(self, other):
        return self._binary("sub", other, True)

    def __mul__(self, other):
        return self._binary("mul", other)

    def __rmul__(self, other):
        return self._binary("mul", other, True)

    def __truediv__(self, other):
        return self._binary("div", other)

    def __rtruediv__(self, other):
        return self._binary("div", other, True)

    def __neg__(self):
        if self.dtype is bool_:
            raise TypeError("[neg] negation of a bool tensor is not supported; use ~ (logical_not)")
        if not self.dtype.is_floating_point:
            return 0 - self
        return ag.UnaryFn.apply(self, "neg", 0.0, 0.0)

    def __pos__(self):
        return self

    mul = __mul__
    div = __truediv__

    def neg(self):
        return -self

    # == and != give bool (non-differentiable) results, like gt/lt: tensors and numbers are compared by the
    # core on the tensor's device (a CUDA tensor is never read back, nor its result made on the host);
    # anything else (None, strings, ...) goes through NumPy on a host copy, as before.
    def _compare(self, other, op, name):
        if isinstance(other, Tensor) or (
            isinstance(other, (builtins.int, builtins.float, np.number)) and not isinstance(other, builtins.bool)
        ):
            return _tops.compare(self, other, name)
        b = np.asarray(other) if isinstance(other, (list, tuple, np.ndarray)) else other
        values = np.asarray(op(np.asarray(self._values_impl()), b), dtype=np.bool_, order="C")
        impl = _C.from_numpy(values)
        return Tensor._make(impl if self._impl.device == "cpu" else impl.to_device(self._impl.device))

    def eq(self, other):
        return self._compare(other, np.equal, "eq")

    __eq__ = eq
    __hash__ = object.__hash__

    def ne(self, other):
        return self._compare(other, np.not_equal, "ne")

    __ne__ = ne

    # ---- tensor operations (pycnn/_tensor_ops.py): comparisons in the core, indexing, splitting, max/min ----
    def gt(self, other):
        return _tops.compare(self, other, "gt")

    def lt(self, other):
        return _tops.compare(self, other, "lt")

    def ge(self, other):
        return _tops.compare(self, other, "ge")

    def le(self, other):
        return _tops.compare(self, other, "le")

    __gt__, __lt__, __ge__, __le__ = gt, lt, ge, le

    def __getitem__(self, key):
        return _tops.getitem(self, key)

    def __setitem__(self, key, value):
        _tops.setitem(self, key, value)

    def narrow(self, dim, start, length):
        return _tops.narrow(self, dim, start, length)

    def split(self, split_size_or_sections, dim=0):
        return _tops.split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return _tops.chunk(self, chunks, dim)

    def index_select(self, dim, index):
        return ag.IndexSelectFn.apply(self, dim, index)

    def masked_select(self, mask):
        return ag.MaskedSelectFn.apply(self, mask)

    def max(self, dim=None, keepdim=False):
        """The maximum (no dim) or (values, indices) along dim; the gradient goes to the first maximum."""
        return _tops.minmax(self, dim, keepdim, False)

    def min(self, dim=None, keepdim=False):
        return _tops.minmax(self, dim, keepdim, True)

    def argmin(self, dim=None, keepdim=False):
        return _tops.argminmax(self, dim, keepdim, True)

    def maximum(self, other):
        return ag.MaximumFn.apply(self, _as_tensor(other, self, "maximum"), False)

    def minimum(self, other):
        return ag.MaximumFn.apply(self, _as_tensor(other, self, "minimum"), True)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=1):
        return _tops.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=1):
        return _tops.std(self, dim, unbiased, keepdim, correction=correction)

    # ---- bool results and masks (pycnn/_logical_ops.py) ----
    def all(self, dim=None, keepdim=False):
        return _logical.all(self, dim, keepdim)

    def any(self, dim=None, keepdim=False):
        return _logical.any(self, dim, keepdim)

    def isnan(self):
        return _logical.isnan(self)

    def isinf(self):
        return _logical.isinf(self)

    def isfinite(self):
        return _logical.isfinite(self)

    def logical_not(self):
        return _logical.logical_not(self)

    def logical_and(self, other):
        return _logical.logical_and(self, other)

    def logical_or(self, other):
        return _logical.logical_or(self, other)

    def logical_xor(self, other):
        return _logical.logical_xor(self, other)

    def equal(self, other):
        return _logical.equal(self, other)

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return _logical.isclose(self, other, rtol, atol, equal_nan)

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return _logical.allclose(self, other, rtol, atol, equal_nan)

    def masked_fill(self, mask, value):
        return _logical.masked_fill(self, mask, value)

    def masked_fill_(self, mask, value):
        return write_inplace(self, _logical.masked_fill(self, mask, value), "masked_fill_")

    def bincount(self, weights=None, minlength=0):
        return _logical.bincount(self, weights, minlength)

    def _bool_operand(self, other, op):
        if self.dtype is not bool_ or not isinstance(other, (Tensor, builtins.bool)):
            raise TypeError(f"[{op}] pycnn has bitwise ops for bool tensors only, got {self.dtype.name} and {other!r}")
        return other if isinstance(other, Tensor) else _logical._bool_full(self, other)

    def __invert__(self):
        if self.dtype is not bool_:
            raise TypeError(f"[bitwise_not] pycnn has ~ for bool tensors only, got {self.dtype.name}")
        return _logical.logical_not(self)

    def __and__(self, other):
        return _logical.logical_and(self, self._bool_operand(other, "bitwise_and"))

    def __or__(self, other):
        return _logical.logical_or(self, self._bool_operand(other, "bitwise_or"))

    def __xor__(self, other):
        return _logical.logical_xor(self, self._bool_operand(other, "bitwise_xor"))

    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__

    # ---- sorting, selection and scans (pycnn/_sort_ops.py) ----
    def sort(self, dim=-1, descending=False, *, stable=False):
        return _sort.sort(self, dim, descending, stable=stable)

    # ---- math and shape functions (pycnn/_math_ops.py) ----
    def mm(self, mat2):
        return _mops.mm(self, mat2)

    def bmm(self, mat2):
        return _mops.bmm(self, mat2)

    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        return _mops.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def outer(self, vec2):
        return _mops.outer(self, vec2)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        return _mops.norm(self, p, dim, keepdim, dtype=dtype)

    def dist(self, other, p=2):
        return _mops.dist(self, other, p)

    def amax(self, dim=(), keepdim=False):
        return _mops.amax(self, dim, keepdim)

    def amin(self, dim=(), keepdim=False):
        return _mops.amin(self, dim, keepdim)

    def flip(self, *dims):
        return _mops.flip(self, dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims)

    def roll(self, shifts, dims=None):
        return _mops.roll(self, shifts, dims)

    def repeat(self, *sizes):
        return _mops.repeat(self, *sizes)

    def select(self, dim, index):
        return _mops.select(self, dim, index)

    def unbind(self, dim=0):
        return _mops.unbind(self, dim)

    def unflatten(self, dim, sizes):
        return _mops.unflatten(self, dim, sizes)

    def tril(self, diagonal=0):
        return _mops.tril(self, diagonal)

    def triu(self, diagonal=0):
        return _mops.triu(self, diagonal)

    def diag(self, diagonal=0):
        return _mops.diag(self, diagonal)

    def sign(self):
        return _mops.sign(self)

    def floor(self):
        return _mops.floor(self)

    def ceil(self):
        return _mops.ceil(self)

    def round(self, *, decimals=0):
        return _mops.round(self, decimals=decimals)

    def trunc(self):
        return _mops.trunc(self)

    def square(self):
        return _mops.square(self)

    def rsqrt(self):
        return _mops.rsqrt(self)

    def reciprocal(self):
        return _mops.reciprocal(self)

    def argsort(self, dim=-1, descending=False, *, stable=False):
        return _sort.argsort(self, dim, descending, stable=stable)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        return _sort.topk(self, k, dim, largest, sorted)

    def cumsum(self, dim, *, dtype=None):
        return _sort.cumsum(self, dim, dtype=dtype)

    def cumsum_(self, dim, *, dtype=None):
        wrap_dim(dim, self.ndim, "cumsum_")  # so that a bad dim names the in-place op
        return write_inplace(self, _sort.cumsum(self, dim, dtype=dtype), "cumsum_")

    def prod(self, dim=None, keepdim=False, *, dtype=None):
        return _sort.prod(self, dim, keepdim, dtype=dtype)

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        return _sort.unique(self, sorted, return_inverse, return_counts, dim)

    def nonzero(self, *, as_tuple=False):
        return _sort.nonzero(self, as_tuple=as_tuple)

    # ---- indexing: gather / scatter along a dim (pycnn/_index_ops.py) ----
    def gather(self, dim, index, *, sparse_grad=False):
        return _iops.gather(self, dim, index, sparse_grad=sparse_grad)

    def scatter(self, dim, index, src=None, *, value=None, reduce=None):
        return _iops.scatter(self, dim, index, src, value=value, reduce=reduce)

    def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
        return _iops.scatter_(self, dim, index, src, value=value, reduce=reduce)

    def scatter_add(self, dim, index, src):
        return _iops.scatter_add(self, dim, index, src)

    def scatter_add_(self, dim, index, src):
        return _iops.scatter_add_(self, dim, index, src)

    # DLPack
    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """The tensor as a DLPack capsule, without copying (the Python array API's protocol; ``np.from_dlpack``
        and ``torch.from_dlpack`` call it). A ``"dltensor_versioned"`` capsule when ``max_version`` (the
        consumer's newest DLPack, a ``(major, minor)`` tuple) is 1.0 or later, else the legacy ``"dltensor"``;
        the capsule keeps this memory alive until its consumer is done. Non-contiguous views go out as they are.

        Args:
            stream: for a CUDA tensor, the consumer's stream (None or 1: legacy default, 2: per-thread default,
                -1: no synchronisation, else a ``cudaStream_t``); pycnn's pending work is waited for first. Must
                be None for a CPU tensor.
            dl_device: ``(device_type, device_id)`` to export to; another device than the tensor's copies
                (ValueError with ``copy=False``; BufferError for a device type pycnn does not have).
            copy: True exports a copy (flagged IS_COPIED), False never copies, None copies only when needed.
        """
        if self.requires_grad:  # as numpy(): the consumer would write around autograd
            raise RuntimeError("[__dlpack__] can't export a tensor that requires grad; use detach().__dlpack__()")
        return _C.to_dlpack(self._impl, stream, max_version, dl_device, copy)

    def __dlpack_device__(self):
        """``(device_type, device_id)`` in DLPack's terms: ``(1, 0)`` on the CPU, ``(2, index)`` on CUDA."""
        return _C.dlpack_device(self._impl)


def _python_value(t, op):
    """Refuses, while pycnn.program traces a forward, to turn a tensor that depends on the traced inputs into a
    Python value: what the program would do next could not be recorded."""
    if _autograd._tracer is not None:
        _autograd._tracer.refuse_value(t, op)


def _as_tensor(value, like, op):
    """Python scalars and arrays in arithmetic take the other operand's dtype and device, as in torch."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (builtins.int, builtins.float, np.number)):
        return Tensor._make(scalar_like(value, like._impl))
    return Tensor._make(impl_from_data(host_array(value, like.dtype, op), like.dtype, like.device))


def _rebuild_tensor(array, device, requires_grad):
    impl = _C.from_numpy(np.asarray(array, order="C"))
    if device != "cpu":
        impl = impl.to_device(device)
    return Tensor._make(impl, requires_grad)


# torch's legacy type names, for Tensor.type()
_TYPE_NAMES = {
    "float32": "FloatTensor",
    "float64": "DoubleTensor",
    "float16": "HalfTensor",
    "bfloat16": "BFloat16Tensor",
    "int64": "LongTensor",
    "int32": "IntTensor",
    "uint8": "ByteTensor",
    "bool": "BoolTensor",
}
