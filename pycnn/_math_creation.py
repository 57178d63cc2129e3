"""torch's factories and random draws of the math family: ``linspace``, ``eye``, ``multinomial``,
``bernoulli``, ``normal``. Values are made on the host in NumPy (random ones from pycnn's seeded generators,
``pycnn.manual_seed``, as creation.py does) and then moved to the device. This module sits above tensor.py.
"""

import builtins

import numpy as np

from ._convert import bool_arg, check_tensor, int_arg, number_arg, size_arg
from ._math_ops import _floating, _write_out
from ._types import as_dtype
from .autograd import TensorBase
from .creation import get_default_dtype, tensor
from .random import _numpy_generator


def _dtype_or_default(dtype, out=None):
    """dtype, else out's (torch's factories with out= take its dtype), else the default one."""
    if dtype is None and isinstance(out, TensorBase):
        return out.dtype
    return get_default_dtype() if dtype is None else as_dtype(dtype)


# ---- factories ----
def linspace(start, end, steps, *, out=None, dtype=None, device=None, requires_grad=False):
    """steps values evenly spaced from start to end, both included (torch.linspace)."""
    start, end = number_arg(start, "linspace", "start"), number_arg(end, "linspace", "end")
    steps = int_arg(steps, "steps", "linspace")
    if steps < 0:
        raise ValueError(f"[linspace] number of steps must be non-negative, got {steps}")
    d = _dtype_or_default(dtype, out)
    # torch's halves: start + i * step up to the middle, end - (steps - 1 - i) * step after it, so both ends
    # are exact
    i = np.arange(steps, dtype=np.float64)
    step = (end - start) / builtins.max(steps - 1, 1)
    values = np.where(i < steps // 2, start + i * step, end - (steps - 1 - i) * step) if steps > 1 else i + start
    return _write_out(out, tensor(values.astype(d.numpy), device=device, requires_grad=requires_grad), "linspace")


def eye(n, m=None, *, out=None, dtype=None, device=None, requires_grad=False):
    """The (n, m) identity matrix (m defaults to n)."""
    n = int_arg(n, "n", "eye")
    m = n if m is None else int_arg(m, "m", "eye")
    if n < 0 or m < 0:
        raise ValueError(f"[eye] n and m must be non-negative, got n={n}, m={m}")
    values = np.eye(n, m, dtype=_dtype_or_default(dtype, out).numpy)
    return _write_out(out, tensor(values, device=device, requires_grad=requires_grad), "eye")


# ---- random draws ----
def _probabilities(values, op, name):
    if not np.isfinite(values).all():
        raise ValueError(f"[{op}] {name} must be finite, got inf or nan")


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """num_samples category indices per row of input (1-D (n,) or 2-D (rows, n) non-negative weights), drawn
    with or without replacement; int64 (num_samples,) or (rows, num_samples)."""
    check_tensor(input, "multinomial")
    if input.ndim not in (1, 2):
        raise ValueError(f"[multinomial] expected a 1-D or 2-D tensor of weights, got shape {input.shape}")
    k = int_arg(num_samples, "num_samples", "multinomial")
    replacement = bool_arg(replacement, "replacement", "multinomial")
    w = np.asarray(input.detach()._host_impl(), dtype=np.float64).reshape(-1, input.shape[-1])
    rows, n = w.shape
    if k <= 0:
        raise ValueError(f"[multinomial] num_samples must be positive, got {k}")
    if n == 0:
        raise ValueError("[multinomial] the weights have no categories")
    _probabilities(w, "multinomial", "weights")
    if (w < 0).any():
        raise ValueError("[multinomial] weights must be non-negative")
    if (w.sum(1) == 0).any():
        raise ValueError("[multinomial] every row of weights needs a positive sum")
    rng = _numpy_generator(generator)
    if replacement:
        # inverse CDF, every row at once: row r's CDF is shifted to [r, r + 1] so one searchsorted serves all
        cdf = np.cumsum(w, axis=1)
        cdf = cdf / cdf[:, -1:] + np.arange(rows)[:, None]
        cdf[:, -1] = np.arange(1, rows + 1)  # the last edge exactly r + 1
        u = rng.random((rows, k)) + np.arange(rows)[:, None]
        idx = np.searchsorted(cdf.ravel(), u.ravel(), side="right").reshape(rows, k) - np.arange(rows)[:, None] * n
    else:
        if k > n or ((w > 0).sum(1) < k).any():
            raise ValueError(
                f"[multinomial] cannot draw {k} samples without replacement from rows with fewer positive weights"
            )
        # Efraimidis-Spirakis: the k smallest E / w (E ~ Exp(1)) are a draw without replacement in draw order
        with np.errstate(divide="ignore"):
            keys = rng.standard_exponential((rows, n)) / w
        idx = np.argsort(keys, axis=1, kind="stable")[:, :k]
    idx = np.minimum(idx, n - 1).astype(np.int64)
    shape = (k,) if input.ndim == 1 else (rows, k)
    return _write_out(out, tensor(idx.reshape(shape), device=input.device), "multinomial")


def bernoulli(input, p=None, *, generator=None, out=None):
    """0/1 draws (input's dtype and shape), 1 with probability input (or p when given)."""
    check_tensor(input, "bernoulli")
    if p is None:
        probs = np.asarray(input.detach()._host_impl(), dtype=np.float64)
        what = "input"
    else:
        probs = np.full(input.shape, number_arg(p, "bernoulli", "p"))
        what = "p"
    if not ((probs >= 0) & (probs <= 1)).all():  # also refuses NaN
        raise ValueError(f"[bernoulli] {what} must hold probabilities in [0, 1]")
    draws = (_numpy_generator(generator).random(probs.shape) < probs).astype(input.dtype.numpy)
    return _write_out(out, tensor(draws, device=input.device), "bernoulli")


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, device=None, requires_grad=False):
    """Normal samples: mean and std tensors (broadcast) or numbers; with two numbers, size gives the shape."""
    mt, st = isinstance(mean, TensorBase), isinstance(std, TensorBase)
    if not mt:
        number_arg(mean, "normal", "mean")
    if not st:
        number_arg(std, "normal", "std")
    if mt or st:
        if size is not None:
            raise ValueError("[normal] size is only taken with a number mean and a number std")
        like = mean if mt else std
        _floating(like, "normal")
        m = np.asarray(mean.detach()._host_impl(), np.float64) if mt else float(mean)
        s = np.asarray(std.detach()._host_impl(), np.float64) if st else float(std)
        try:
            shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        except ValueError:
            raise ValueError(f"[normal] mean {np.shape(m)} and std {np.shape(s)} do not broadcast") from None
        npdtype, device = like.dtype.numpy, like.device
    else:
        if size is None:
            raise ValueError("[normal] give size with a number mean and std (or pass tensors)")
        shape = tuple(size_arg((size,), "normal"))
        m, s = float(mean), float(std)
        npdtype = _dtype_or_default(dtype).numpy
    if not (np.asarray(s) >= 0).all():
        raise ValueError("[normal] std must be non-negative")
    z = _numpy_generator(generator).standard_normal(shape)
    result = tensor((m + s * z).astype(npdtype), device=device, requires_grad=requires_grad)
    return _write_out(out, result, "normal")
