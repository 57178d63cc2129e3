"""Every op of csrc/ops/ops.h, three ways: (a) against a plain NumPy reference written here (loops for
conv/pool), in float32 and float64, on random non-trivial inputs; (b) float64 finite-difference gradcheck;
(c) forward and gradient parity with PyTorch when it is installed. Plus numerical stability of
log_softmax / cross_entropy at |logits| = 1e4. (a) and (b) run on every device (the `device` fixture), and
test_device_matches_cpu compares each op's float32 values and gradients on the device, with contiguous and
strided inputs, against the CPU kernels.
"""

import numpy as np
import pytest

import pycnn as pc
import pycnn.nn.functional as F

from helpers import check_device_matches_cpu, check_torch, distinct, gradcheck, host, randn

DTYPES = [np.float32, np.float64]


def tol(dtype, sums=False):
    """(rtol, atol) for comparing against a float64 reference."""
    if dtype == np.float64:
        return {"rtol": 1e-10, "atol": 1e-10}
    return {"rtol": 1e-5, "atol": 1e-4 if sums else 1e-5}


def run(fn, *arrays, device="cpu"):
    """fn applied to pycnn tensors made from arrays (on device), result back as a NumPy array."""
    tensors = [pc.tensor(a, device=device) if isinstance(a, np.ndarray) else a for a in arrays]
    out = fn(*tensors)
    outs = out if isinstance(out, tuple) else (out,)
    res = tuple(host(o, device) for o in outs)
    return res if isinstance(out, tuple) else res[0]


# ---------------------------------------------------------------- NumPy references ----


def pool_out(size, k, s, p, d, ceil_mode):
    span = size + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def max_pool2d_ref(x, k, s, p, d=(1, 1), ceil_mode=False):
    """-> (values, flat h*W+w indices of the max in each window)."""
    N, C, H, W = x.shape
    OH, OW = pool_out(H, k[0], s[0], p[0], d[0], ceil_mode), pool_out(W, k[1], s[1], p[1], d[1], ceil_mode)
    y = np.zeros((N, C, OH, OW))
    idx = np.zeros((N, C, OH, OW), dtype=np.int64)
    for i in range(OH):
        for j in range(OW):
            best = np.full((N, C), -np.inf)
            best_i = np.full((N, C), -1, dtype=np.int64)
            for a in range(k[0]):
                for b in range(k[1]):
                    h, w = i * s[0] - p[0] + a * d[0], j * s[1] - p[1] + b * d[1]
                    if 0 <= h < H and 0 <= w < W:
                        v = x[:, :, h, w]
                        better = (v > best) | np.isnan(v)  # NaN wins, as in torch
                        best = np.where(better, v, best)
                        best_i = np.where(better, h * W + w, best_i)
            y[:, :, i, j], idx[:, :, i, j] = best, best_i
    return y, idx


def avg_pool2d_ref(x, k, s, p, ceil_mode=False, count_include_pad=True, divisor_override=None):
    """PyTorch's definition: the window is clipped to the padded input for count_include_pad, to the
    input otherwise."""
    N, C, H, W = x.shape
    OH, OW = pool_out(H, k[0], s[0], p[0], 1, ceil_mode), pool_out(W, k[1], s[1], p[1], 1, ceil_mode)
    y = np.zeros((N, C, OH, OW))
    for i in range(OH):
        for j in range(OW):
            h0, w0 = i * s[0] - p[0], j * s[1] - p[1]
            h1, w1 = min(h0 + k[0], H + p[0]), min(w0 + k[1], W + p[1])
            padded_area = (h1 - h0) * (w1 - w0)
            h0, w0, h1, w1 = max(h0, 0), max(w0, 0), min(h1, H), min(w1, W)
            total = x[:, :, h0:h1, w0:w1].astype(np.float64).sum(axis=(2, 3))
            if divisor_override:
                div = divisor_override
            elif count_include_pad:
                div = padded_area
            else:
                div = (h1 - h0) * (w1 - w0)
            y[:, :, i, j] = total / div
    return y


def log_softmax_ref(x, dim):
    x = x.astype(np.float64)
    m = x.max(axis=dim, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=dim, keepdims=True))


def nll_ref(logp, t, reduction):
    losses = -logp[np.arange(len(t)), t]
    return {"none": losses, "mean": losses.mean(), "sum": losses.sum()}[reduction]


# ---------------------------------------------------------------- linear / matmul ----


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
def test_linear_reference(dtype, bias, device):
    x, w, b = randn(5, 7, dtype=dtype, seed=1), randn(3, 7, dtype=dtype, seed=2), randn(3, dtype=dtype, seed=3)
    ref = x.astype(np.float64) @ w.astype(np.float64).T + (b if bias else 0)
    y = run(lambda x, w, b: F.linear(x, w, b if bias else None), x, w, b, device=device)
    assert y.dtype == dtype
    np.testing.assert_allclose(y, ref, **tol(dtype))


def test_linear_batched_input(device):
    x, w, b = randn(2, 3, 7, seed=1), randn(4, 7, seed=2), randn(4, seed=3)
    y = run(F.linear, x, w, b, device=device)
    np.testing.assert_allclose(y, x @ w.T + b, rtol=1e-12)
    gradcheck(F.linear, [x, w, b], device=device)


@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradcheck(bias, device):
    x, w, b = randn(4, 5, seed=1), randn(3, 5, seed=2), randn(3, seed=3)
    if bias:
        gradcheck(F.linear, [x, w, b], device=device)
    else:
        gradcheck(lambda x, w: F.linear(x, w), [x, w], device=device)


@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_torch(dtype):
    torch = pytest.importorskip("torch")
    x, w, b = randn(6, 9, dtype=dtype, seed=1), randn(4, 9, dtype=dtype, seed=2), randn(4, dtype=dtype, seed=3)
    check_torch(F.linear, torch.nn.functional.linear, [x, w, b], **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1, 1), (3, 4, 5), (17, 33, 9), (64, 70, 65)])
def test_matmul_reference(dtype, shape, device):
    M, K, N = shape
    a, b = randn(M, K, dtype=dtype, seed=1), randn(K, N, dtype=dtype, seed=2)
    y = run(pc.matmul, a, b, device=device)
    assert y.dtype == dtype
    np.testing.assert_allclose(y, a.astype(np.float64) @ b.astype(np.float64), **tol(dtype, sums=True))


def test_matmul_gradcheck(device):
    gradcheck(pc.matmul, [randn(3, 4, seed=1), randn(4, 5, seed=2)], device=device)
    gradcheck(lambda a, b: a @ b, [randn(1, 6, seed=3), randn(6, 1, seed=4)], device=device)


@pytest.mark.parametrize("dtype", DTYPES)
def test_matmul_torch(dtype):
    torch = pytest.importorskip("torch")
    check_torch(
        pc.matmul,
        torch.matmul,
        [randn(7, 12, dtype=dtype, seed=1), randn(12, 5, dtype=dtype, seed=2)],
        **tol(dtype, sums=True),
    )


# ---------------------------------------------------------------- max_pool2d ----

# (x shape, kernel, stride, padding, dilation, ceil_mode)
MAXPOOL_CASES = [
    ((2, 3, 8, 8), (2, 2), (2, 2), (0, 0), (1, 1), False),
    ((2, 2, 7, 9), (3, 3), (2, 2), (1, 1), (1, 1), False),  # overlapping windows, padding
    ((1, 2, 7, 7), (3, 2), (2, 1), (1, 0), (1, 1), True),  # ceil_mode, rectangular
    ((2, 1, 9, 8), (2, 3), (3, 2), (0, 1), (2, 1), False),  # dilation
    ((1, 2, 6, 6), (3, 3), (2, 2), (0, 0), (1, 1), True),  # ceil_mode adds a partial window
    ((1, 1, 5, 5), (4, 4), (3, 3), (2, 2), (1, 1), True),  # ceil_mode window that starts in the padding
    ((2, 3, 5, 5), (5, 5), (1, 1), (0, 0), (1, 1), False),  # global
    ((1, 2, 2, 2), (3, 3), (3, 3), (0, 0), (1, 1), True),  # kernel > input: only ceil_mode gives an output
    ((2, 3, 6, 36), (2, 2), (2, 2), (0, 0), (1, 1), False),  # 2x2 wide rows: SIMD blocks of 8 + a tail
    ((1, 2, 5, 35), (2, 2), (2, 2), (0, 0), (1, 1), False),  # odd height and width: the last row/col unused
]
MAXPOOL_IDS = [
    "2x2",
    "3x3_pad",
    "ceil_rect",
    "dilation",
    "ceil_partial",
    "ceil_padding",
    "global",
    "ceil_tiny",
    "2x2_wide",
    "2x2_odd",
]


@pytest.mark.parametrize("kernel", [2, 3])
def test_max_pool2d_nan_wins_like_torch(kernel, device):
    """A NaN in a window is the window's max, with its index (torch's rule), in the SIMD and scalar paths
    and on every device."""
    torch = pytest.importorskip("torch")
    x = randn(2, 3, 8, 40, seed=11)
    x[0, 0, 1, 3] = x[1, 2, 4, 17] = x[1, 1, 6, 30] = np.nan
    y, idx = (host(t) for t in F.max_pool2d(pc.tensor(x, device=device), kernel, return_indices=True))
    ty, tidx = torch.nn.functional.max_pool2d(torch.from_numpy(x), kernel, return_indices=True)
    np.testing.assert_array_equal(y, ty.numpy())  # NaN positions compare equal here
    np.testing.assert_array_equal(idx, tidx.numpy())


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool2d_2x2_every_kernel_set(simd_level, dtype):
    """The vectorised 2x2 row kernel of each kernel set, on every width remainder of 8 and 16 lanes, with
    ties (first maximum wins) and NaNs (last NaN wins), against the reference."""
    for width in range(2, 70, 3):
        x = np.round(randn(2, 3, 6, width, dtype=dtype, seed=width) * 2)  # rounding makes ties
        x[0, 1, 2, width // 2] = x[1, 2, 5, width - 1] = np.nan
        y, idx = run(maxpool_call(2, 2, 0, 1, False, True), x)
        ref_y, ref_idx = max_pool2d_ref(x, (2, 2), (2, 2), (0, 0), (1, 1), False)
        np.testing.assert_array_equal(y, ref_y.astype(dtype))
        np.testing.assert_array_equal(idx, ref_idx)


def maxpool_call(kernel, stride, padding, dilation, ceil_mode, return_indices=False):
    return lambda x: F.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode, return_indices)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", MAXPOOL_CASES, ids=MAXPOOL_IDS)
def test_max_pool2d_reference(case, dtype, device):
    xs, k, s, p, d, ceil_mode = case
    x = distinct(*xs, dtype=dtype, seed=1)
    y, idx = run(maxpool_call(k, s, p, d, ceil_mode, True), x, device=device)
    ref_y, ref_idx = max_pool2d_ref(x, k, s, p, d, ceil_mode)
    assert y.dtype == dtype and idx.dtype == np.int64
    np.testing.assert_array_equal(y, ref_y.astype(dtype))
    np.testing.assert_array_equal(idx, ref_idx)


def test_max_pool2d_defaults_and_unbatched(device):
    x = distinct(3, 6, 6, seed=2)
    y = run(lambda x: F.max_pool2d(x, 2), x, device=device)
    np.testing.assert_array_equal(y, max_pool2d_ref(x[None], (2, 2), (2, 2), (0, 0))[0][0])


@pytest.mark.parametrize("case", MAXPOOL_CASES, ids=MAXPOOL_IDS)
def test_max_pool2d_gradcheck(case, device):
    xs, k, s, p, d, ceil_mode = case
    gradcheck(maxpool_call(k, s, p, d, ceil_mode), [distinct(*xs, seed=3)], max_kink_fraction=0.0, device=device)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", MAXPOOL_CASES, ids=MAXPOOL_IDS)
def test_max_pool2d_torch(case, dtype):
    torch = pytest.importorskip("torch")
    xs, k, s, p, d, ceil_mode = case

    def tfn(x):
        return torch.nn.functional.max_pool2d(x, k, s, p, d, ceil_mode=ceil_mode, return_indices=True)

    check_torch(maxpool_call(k, s, p, d, ceil_mode, True), tfn, [randn(*xs, dtype=dtype, seed=4)], rtol=0, atol=0)


# ---------------------------------------------------------------- avg_pool2d ----

# (x shape, kernel, stride, padding, ceil_mode)
AVGPOOL_CASES = [
    ((2, 3, 8, 8), (2, 2), (2, 2), (0, 0), False),
    ((2, 2, 7, 9), (3, 3), (2, 2), (1, 1), False),
    ((1, 2, 7, 7), (3, 2), (2, 1), (1, 1), True),
    ((1, 2, 6, 6), (3, 3), (2, 2), (0, 0), True),
    ((1, 1, 5, 5), (4, 4), (3, 3), (2, 2), True),
    ((2, 1, 5, 6), (2, 3), (1, 2), (1, 1), False),
    ((1, 2, 2, 2), (3, 3), (3, 3), (0, 0), True),  # kernel > input: only ceil_mode gives an output
]
AVGPOOL_IDS = ["2x2", "3x3_pad", "ceil_rect", "ceil_partial", "ceil_padding", "overlap", "ceil_tiny"]


def avgpool_call(k, s, p, ceil_mode, count_include_pad, divisor_override):
    return lambda x: F.avg_pool2d(x, k, s, p, ceil_mode, count_include_pad, divisor_override)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("divisor_override", [None, 5])
@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("case", AVGPOOL_CASES, ids=AVGPOOL_IDS)
def test_avg_pool2d_reference(case, count_include_pad, divisor_override, dtype, device):
    xs, k, s, p, ceil_mode = case
    x = randn(*xs, dtype=dtype, seed=1)
    y = run(avgpool_call(k, s, p, ceil_mode, count_include_pad, divisor_override), x, device=device)
    assert y.dtype == dtype
    np.testing.assert_allclose(
        y, avg_pool2d_ref(x, k, s, p, ceil_mode, count_include_pad, divisor_override), **tol(dtype)
    )


@pytest.mark.parametrize("divisor_override", [None, 3])
@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("case", AVGPOOL_CASES, ids=AVGPOOL_IDS)
def test_avg_pool2d_gradcheck(case, count_include_pad, divisor_override, device):
    xs, k, s, p, ceil_mode = case
    gradcheck(
        avgpool_call(k, s, p, ceil_mode, count_include_pad, divisor_override), [randn(*xs, seed=2)], device=device
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("divisor_override", [None, 5])
@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("case", AVGPOOL_CASES, ids=AVGPOOL_IDS)
def test_avg_pool2d_torch(case, count_include_pad, divisor_override, dtype):
    torch = pytest.importorskip("torch")
    xs, k, s, p, ceil_mode = case

    def tfn(x):
        return torch.nn.functional.avg_pool2d(x, k, s, p, ceil_mode, count_include_pad, divisor_override)

    check_torch(
        avgpool_call(k, s, p, ceil_mode, count_include_pad, divisor_override),
        tfn,
        [randn(*xs, dtype=dtype, seed=3)],
        **tol(dtype),
    )


# ---------------------------------------------------------------- relu ----


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_reference(dtype, device):
    x = randn(4, 5, 6, dtype=dtype, seed=1, away_from_zero=0.01)
    y = run(F.relu, x, device=device)  # a missing CUDA kernel is reported as a skip (conftest.py)
    assert y.dtype == dtype
    np.testing.assert_array_equal(y, np.maximum(x, 0))
    np.testing.assert_array_equal(run(lambda t: t.relu(), x, device=device), np.maximum(x, 0))


def test_relu_gradcheck(device):
    gradcheck(F.relu, [randn(3, 4, 5, seed=2, away_from_zero=0.01)], max_kink_fraction=0.0, device=device)


def test_relu_gradient_at_zero_is_zero():
    """At exactly 0 the subgradient is 0, as in torch."""
    x = pc.tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    x.relu().sum().backward()
    np.testing.assert_array_equal(np.asarray(x.grad), [0.0, 0.0, 1.0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_torch(dtype):
    torch = pytest.importorskip("torch")
    check_torch(F.relu, torch.relu, [randn(3, 7, dtype=dtype, seed=3, away_from_zero=0.01)], rtol=0, atol=0)


# ---------------------------------------------------------------- add / sub / mul / div ----

BINARY_SHAPES = [
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),
    ((2, 1, 4), (3, 1)),
    ((), (2, 3)),
    ((2, 3), ()),
    ((5, 1, 3), (1, 4, 1)),
    ((1,), (2, 2, 2)),
    ((4, 1), (1, 1)),
]
BINARY_OPS = {
    "add": (lambda a, b: a + b, np.add),
    "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
    "div": (lambda a, b: a / b, np.divide),
}


def binary_inputs(sa, sb, dtype=np.float64, seed=0):
    a = randn(*sa, dtype=dtype, seed=seed)
    b = randn(*sb, dtype=dtype, seed=seed + 1, away_from_zero=0.5)  # a divisor away from zero
    return a, b


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=str)
@pytest.mark.parametrize("op", list(BINARY_OPS))
def test_binary_reference(op, shapes, dtype, device):
    fn, ref = BINARY_OPS[op]
    a, b = binary_inputs(*shapes, dtype=dtype, seed=1)
    y = run(fn, a, b, device=device)
    expected = ref(a.astype(np.float64), b.astype(np.float64))
    assert y.shape == expected.shape and y.dtype == dtype
    np.testing.assert_allclose(y, expected, rtol=1e-6 if dtype == np.float32 else 1e-14, atol=0)


@pytest.mark.parametrize("op", list(BINARY_OPS))
def test_binary_methods_and_scalars(op):
    a = randn(2, 3, seed=1)
    method = getattr(pc.tensor(a), op)
    ref = BINARY_OPS[op][1]
    np.testing.assert_allclose(np.asarray(method(pc.tensor(np.full((3,), 2.5)))), ref(a, 2.5), rtol=1e-14)
    np.testing.assert_allclose(np.asarray(BINARY_OPS[op][0](pc.tensor(a), 2.5)), ref(a, 2.5), rtol=1e-14)
    np.testing.assert_allclose(np.asarray(BINARY_OPS[op][0](2.5, pc.tensor(a))), ref(2.5, a), rtol=1e-14)
    np.testing.assert_allclose(np.asarray(-pc.tensor(a)), -a)


@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=str)
@pytest.mark.parametrize("op", list(BINARY_OPS))
def test_binary_gradcheck(op, shapes, device):
    gradcheck(BINARY_OPS[op][0], list(binary_inputs(*shapes, seed=2)), device=device)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=str)
@pytest.mark.parametrize("op", list(BINARY_OPS))
def test_binary_torch(op, shapes, dtype):
    pytest.importorskip("torch")
    fn = BINARY_OPS[op][0]
    check_torch(fn, fn, list(binary_inputs(*shapes, dtype=dtype, seed=3)), **tol(dtype))


# ---------------------------------------------------------------- sum / mean ----

REDUCE_DIMS = [None, 0, 1, -1, (0, 2), (1, 2), (0, 1, 2), (2, 0)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", REDUCE_DIMS, ids=str)
@pytest.mark.parametrize("op", ["sum", "mean"])
def test_reduce_reference(op, dim, keepdim, dtype, device):
    x = randn(3, 4, 5, dtype=dtype, seed=1)
    y = run(lambda t: getattr(t, op)(dim, keepdim), x, device=device)
    ref = getattr(np, op)(
        x.astype(np.float64), axis=dim if dim is None or isinstance(dim, int) else tuple(dim), keepdims=keepdim
    )
    assert y.dtype == dtype
    np.testing.assert_allclose(y, ref, **tol(dtype))
    assert y.shape == np.shape(ref)
    # the module-level functions agree with the methods
    np.testing.assert_array_equal(run(lambda t: getattr(pc, op)(t, dim, keepdim), x, device=device), y)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", REDUCE_DIMS, ids=str)
@pytest.mark.parametrize("op", ["sum", "mean"])
def test_reduce_gradcheck(op, dim, keepdim, device):
    gradcheck(lambda t: getattr(t, op)(dim, keepdim), [randn(3, 4, 5, seed=2)], device=device)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, -1, (0, 2)], ids=str)
@pytest.mark.parametrize("op", ["sum", "mean"])
def test_reduce_torch(op, dim, keepdim, dtype):
    pytest.importorskip("torch")
    check_torch(
        lambda t: getattr(t, op)(dim, keepdim),
        lambda t: getattr(t, op)(dim, keepdim),
        [randn(3, 4, 5, dtype=dtype, seed=3)],
        **tol(dtype),
    )


def test_sum_long_rows_float32_accuracy(device):
    """A float32 sum of 1e5 values is accurate to float32 rounding of the exact result."""
    x = randn(100_000, dtype=np.float32, seed=4) + np.float32(1.0)
    np.testing.assert_allclose(run(lambda t: t.sum(), x, device=device), x.astype(np.float64).sum(), rtol=1e-6)


# ---------------------------------------------------------------- softmax / log_softmax ----


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
@pytest.mark.parametrize("op", ["log_softmax", "softmax"])
def test_softmax_reference(op, dim, dtype, device):
    x = randn(3, 4, 5, dtype=dtype, seed=1) * 3
    ref = log_softmax_ref(x, dim)
    if op == "softmax":
        ref = np.exp(ref)
    y = run(lambda t: getattr(F, op)(t, dim), x, device=device)
    assert y.dtype == dtype
    np.testing.assert_allclose(y, ref, **tol(dtype))
    np.testing.assert_allclose(run(lambda t: getattr(t, op)(dim), x, device=device), y, rtol=0, atol=0)


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
@pytest.mark.parametrize("op", ["log_softmax", "softmax"])
def test_softmax_gradcheck(op, dim, device):
    gradcheck(lambda t: getattr(F, op)(t, dim), [randn(3, 4, 5, seed=2)], device=device)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("op", ["log_softmax", "softmax"])
def test_softmax_torch(op, dim, dtype):
    torch = pytest.importorskip("torch")
    check_torch(
        lambda t: getattr(F, op)(t, dim),
        lambda t: getattr(torch.nn.functional, op)(t, dim),
        [randn(4, 6, 3, dtype=dtype, seed=3) * 3],
        **tol(dtype),
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", ["log_softmax", "softmax"])
def test_softmax_extreme_logits(op, dtype):
    """|logits| = 1e4: no overflow to inf/nan, and the values match torch (and the exact reference)."""
    x = (np.sign(randn(5, 7, seed=4)) * 1e4 + randn(5, 7, seed=5)).astype(dtype)
    x[0] = 1e4  # a row of all-equal huge logits
    x[1] = -1e4
    pt = pc.tensor(x, requires_grad=True)
    y = getattr(F, op)(pt, 1)
    yv = np.asarray(y.detach())
    assert np.all(np.isfinite(yv)), yv
    ref = log_softmax_ref(x, 1)
    np.testing.assert_allclose(yv, np.exp(ref) if op == "softmax" else ref, rtol=1e-6, atol=1e-6)
    y.backward(pc.tensor(randn(5, 7, dtype=dtype, seed=6)))
    assert np.all(np.isfinite(np.asarray(pt.grad)))
    torch = pytest.importorskip("torch")
    check_torch(
        lambda t: getattr(F, op)(t, 1), lambda t: getattr(torch.nn.functional, op)(t, 1), [x], rtol=1e-6, atol=1e-5
    )


# ---------------------------------------------------------------- cross_entropy / nll_loss ----

REDUCTIONS = ["none", "mean", "sum"]


def targets(n, c, seed=0):
    return np.random.default_rng(seed).integers(0, c, size=n).astype(np.int64)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_reference(reduction, dtype, device):
    x, t = randn(6, 5, dtype=dtype, seed=1) * 2, targets(6, 5, seed=1)
    y = run(lambda x, t: F.cross_entropy(x, t, reduction=reduction), x, t, device=device)
    ref = nll_ref(log_softmax_ref(x, 1), t, reduction)
    assert y.dtype == dtype and y.shape == np.shape(ref)
    np.testing.assert_allclose(y, ref, **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_reference(reduction, dtype, device):
    lp, t = log_softmax_ref(randn(6, 5, seed=2), 1).astype(dtype), targets(6, 5, seed=2)
    y = run(lambda x, t: F.nll_loss(x, t, reduction=reduction), lp, t, device=device)
    ref = nll_ref(lp.astype(np.float64), t, reduction)
    assert y.dtype == dtype and y.shape == np.shape(ref)
    np.testing.assert_allclose(y, ref, **tol(dtype))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("op", ["cross_entropy", "nll_loss"])
def test_loss_gradcheck(op, reduction, device):
    x, t = randn(5, 4, seed=3), targets(5, 4, seed=3)
    gradcheck(lambda x, t: getattr(F, op)(x, t, reduction=reduction), [x, t], device=device)


def test_nll_of_log_softmax_equals_cross_entropy(device):
    x, t = randn(7, 3, seed=4), targets(7, 3, seed=4)
    a = run(lambda x, t: F.nll_loss(F.log_softmax(x, 1), t), x, t, device=device)
    b = run(F.cross_entropy, x, t, device=device)
    np.testing.assert_allclose(a, b, rtol=1e-14)
    gradcheck(lambda x, t: F.nll_loss(F.log_softmax(x, 1), t), [x, t], device=device)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("op", ["cross_entropy", "nll_loss"])
def test_loss_torch(op, reduction, dtype):
    torch = pytest.importorskip("torch")
    x, t = randn(8, 6, dtype=dtype, seed=5), targets(8, 6, seed=5)
    check_torch(
        lambda x, t: getattr(F, op)(x, t, reduction=reduction),
        lambda x, t: getattr(torch.nn.functional, op)(x, t, reduction=reduction),
        [x, t],
        **tol(dtype),
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_extreme_logits(reduction, dtype):
    """|logits| = 1e4, with the target both at the winning and at a hugely losing class: finite losses
    (up to ~2e4) and gradients, equal to torch's."""
    x = (np.sign(randn(6, 5, seed=6)) * 1e4 + randn(6, 5, seed=7)).astype(dtype)
    t = np.array([int(np.argmax(r)) if i % 2 else int(np.argmin(r)) for i, r in enumerate(x)], dtype=np.int64)
    pt = pc.tensor(x, requires_grad=True)
    loss = F.cross_entropy(pt, pc.tensor(t), reduction=reduction)
    lv = np.asarray(loss.detach())
    assert np.all(np.isfinite(lv))
    np.testing.assert_allclose(lv, nll_ref(log_softmax_ref(x, 1), t, reduction), rtol=1e-6, atol=1e-6)
    loss.backward(pc.ones_like(loss.detach()) if reduction == "none" else None)
    assert np.all(np.isfinite(np.asarray(pt.grad)))
    torch = pytest.importorskip("torch")
    check_torch(
        lambda x, t: F.cross_entropy(x, t, reduction=reduction),
        lambda x, t: torch.nn.functional.cross_entropy(x, t, reduction=reduction),
        [x, t],
        rtol=1e-6,
        atol=1e-6,
    )


# ---------------------------------------------------------------- argmax ----


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [None, 0, 1, 2, -1])
def test_argmax_reference(dim, dtype, device):
    x = distinct(3, 4, 5, dtype=dtype, seed=1)
    y = run(lambda t: t.argmax(dim), x, device=device)
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y, np.argmax(x, axis=dim))
    np.testing.assert_array_equal(run(lambda t: pc.argmax(t, dim), x, device=device), y)


def test_argmax_keepdim_and_ties(device):
    x = np.array([[1.0, 3.0, 3.0, 0.5], [2.0, 2.0, 2.0, 2.0]])
    np.testing.assert_array_equal(
        run(lambda t: t.argmax(1), x, device=device), [1, 0]
    )  # first maximum wins, as in torch
    assert run(lambda t: t.argmax(1, keepdim=True), x, device=device).shape == (2, 1)
    assert run(lambda t: t.argmax(), x, device=device) == 1


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_argmax_torch(dim):
    torch = pytest.importorskip("torch")
    x = randn(6, 7, dtype=np.float32, seed=2)
    np.testing.assert_array_equal(run(lambda t: t.argmax(dim), x), torch.tensor(x).argmax(dim).numpy())


def test_argmax_has_no_gradient():
    x = pc.tensor(randn(3, 4, seed=3), requires_grad=True)
    i = x.argmax(1)
    assert i.dtype == pc.int64 and not i.requires_grad


# ---------------------------------------------------------------- every op on the device vs the CPU ----


def _f32(*shape, seed=0, **kw):
    return randn(*shape, dtype=np.float32, seed=seed, **kw)


# name -> (fn, float32 inputs, (rtol, atol)): odd sizes, broadcasting and every option; check_device_matches_cpu
# also feeds each floating input as a strided view. Sums of many products get a looser float32 tolerance.
SUMS = (1e-5, 1e-4)
EXACT = (0.0, 0.0)
DEVICE_CASES = {
    "linear": (F.linear, [_f32(2, 5, 37, seed=1), _f32(9, 37, seed=2), _f32(9, seed=3)], SUMS),
    "linear_nobias": (lambda x, w: F.linear(x, w), [_f32(13, 37, seed=1), _f32(9, 37, seed=2)], SUMS),
    "matmul": (pc.matmul, [_f32(33, 65, seed=1), _f32(65, 17, seed=2)], SUMS),
    "matmul_vec": (pc.matmul, [_f32(65, seed=1), _f32(65, 17, seed=2)], SUMS),
    "matmul_batched": (pc.matmul, [_f32(3, 1, 7, 9, seed=1), _f32(2, 9, 5, seed=2)], SUMS),
    "relu": (F.relu, [_f32(3, 17, 5, seed=1, away_from_zero=0.01)], EXACT),
    "max_pool2d": (
        lambda x: F.max_pool2d(x, (3, 2), (2, 1), (1, 0), (1, 2), True, True),
        [distinct(2, 3, 9, 11, dtype=np.float32, seed=1)],
        (1e-6, 1e-6),  # overlapping windows: an input's gradient sums several (order may differ)
    ),
    "avg_pool2d": (
        lambda x: F.avg_pool2d(x, 3, 2, 1, True, False, None),
        [_f32(2, 3, 9, 8, seed=1)],
        (1e-6, 1e-6),
    ),
    "avg_pool2d_divisor": (
        lambda x: F.avg_pool2d(x, (2, 3), (1, 2), (1, 1), False, True, 5),
        [_f32(1, 5, 7, 10, seed=1)],
        (1e-6, 1e-6),
    ),
    "softmax": (lambda x: F.softmax(x, 1), [_f32(3, 37, 5, seed=1) * 3], (1e-6, 1e-7)),
    "log_softmax": (lambda x: F.log_softmax(x, -1), [_f32(7, 5, 129, seed=1) * 3], (1e-6, 1e-6)),
    "log_softmax_dim0": (lambda x: F.log_softmax(x, 0), [_f32(11, 6, seed=1) * 3], (1e-6, 1e-6)),
    "sum_all": (lambda x: x.sum(), [_f32(7, 33, 65, seed=1)], SUMS),
    "sum_dims": (lambda x: x.sum((0, 2), True), [_f32(7, 33, 65, seed=1)], SUMS),
    "mean_last": (lambda x: x.mean(-1), [_f32(5, 3, 1025, seed=1)], SUMS),
    "argmax": (lambda x: x.argmax(1), [distinct(5, 37, 3, dtype=np.float32, seed=1)], EXACT),
    "argmax_all": (lambda x: x.argmax(), [distinct(5, 37, 3, dtype=np.float32, seed=1)], EXACT),
    "cross_entropy": (
        lambda x, t: F.cross_entropy(x, t),
        [_f32(37, 11, seed=1) * 2, np.random.default_rng(1).integers(0, 11, 37)],
        (1e-6, 1e-6),
    ),
    "cross_entropy_none": (
        lambda x, t: F.cross_entropy(x, t, reduction="none"),
        [_f32(37, 11, seed=2) * 2, np.random.default_rng(2).integers(0, 11, 37)],
        (1e-6, 1e-6),
    ),
    "nll_loss_sum": (
        lambda x, t: F.nll_loss(x, t, reduction="sum"),
        [_f32(13, 5, seed=3), np.random.default_rng(3).integers(0, 5, 13)],
        (1e-6, 1e-6),
    ),
}
for _op, (_fn, _) in BINARY_OPS.items():
    for _sa, _sb in [((3, 37, 5), (37, 1)), ((1, 33), (7, 1))]:
        DEVICE_CASES[f"{_op}_{_sa}_{_sb}"] = (
            _fn,
            list(binary_inputs(_sa, _sb, dtype=np.float32, seed=5)),
            (1e-6, 1e-6),
        )


@pytest.mark.parametrize("name", list(DEVICE_CASES))
def test_device_matches_cpu(name, device):
    """float32 values and input gradients on the device, contiguous and strided, against the CPU kernels
    (on the CPU: the strided inputs against the contiguous ones)."""
    fn, inputs, (rtol, atol) = DEVICE_CASES[name]
    check_device_matches_cpu(fn, inputs, device, rtol=rtol, atol=atol)


EMPTY_CASES = {
    "sum_over_empty": lambda t: t.sum(1),  # zeros
    "mean_over_empty": lambda t: t.mean(1),  # NaN, as in torch
    "sum_all": lambda t: t.sum(),
    "relu": F.relu,
    "mul": lambda t: t * 2.0,
    "softmax": lambda t: F.softmax(t, 2),
}


@pytest.mark.parametrize("name", list(EMPTY_CASES))
def test_empty_tensors_device_matches_cpu(name, device):
    """Zero-size inputs (a launch with no blocks, a reduction over nothing) give the CPU's results and
    gradients on the device."""
    check_device_matches_cpu(EMPTY_CASES[name], [np.zeros((3, 0, 4), np.float32)], device, rtol=0, atol=0)
