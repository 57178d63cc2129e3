"""Tensor operations (csrc/ops/tensor_ops.cpp, pycnn/_tensor_ops.py): cat/stack, split/chunk/narrow,
indexing (basic views, integer arrays, masks, assignment), max/min with indices, comparisons and where.
Each against NumPy in float32 and float64, float64 gradcheck, torch parity, and bad input.
"""

import numpy as np
import pytest

import pycnn as pc

from helpers import check_device_matches_cpu, check_torch, distinct, gradcheck, randn

DTYPES = [np.float32, np.float64]


def arr(t):
    """A tensor's values on the host, whatever its device."""
    return np.asarray(t.detach().cpu())


# ---------------------------------------------------------------- cat / stack ----


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_matches_numpy(dtype, dim, device):
    a, b, c = randn(3, 4, 5, dtype=dtype), randn(3, 4, 5, dtype=dtype, seed=1), randn(3, 4, 5, dtype=dtype, seed=2)
    b = np.take(b, range(2), axis=dim)  # a different size along dim
    out = pc.cat([pc.tensor(a, device=device), pc.tensor(b, device=device), pc.tensor(c, device=device)], dim)
    np.testing.assert_array_equal(arr(out), np.concatenate([a, b, c], axis=dim))
    assert out.dtype.numpy == dtype


def test_cat_int64_and_noncontiguous(device):
    a, b = np.arange(12).reshape(3, 4), np.arange(8).reshape(4, 2)
    out = pc.cat(
        [pc.tensor(a, device=device), pc.tensor(b, device=device).t()], 0
    )  # a transposed (non-contiguous) view
    np.testing.assert_array_equal(arr(out), np.concatenate([a, b.T], 0))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 2, -1])
def test_stack_matches_numpy(dtype, dim, device):
    xs = [randn(2, 3, dtype=dtype, seed=s) for s in range(3)]
    np.testing.assert_array_equal(arr(pc.stack([pc.tensor(x, device=device) for x in xs], dim)), np.stack(xs, axis=dim))


def test_cat_stack_gradcheck(device):
    gradcheck(lambda a, b: pc.cat([a, b, a], 1), [randn(2, 3), randn(2, 1, seed=1)], device=device)
    gradcheck(lambda a, b: pc.stack([a, b], 1), [randn(2, 3), randn(2, 3, seed=1)], device=device)


def test_cat_stack_torch():
    check_torch(
        lambda a, b: pc.cat([a, b], -1),
        lambda a, b: __import__("torch").cat([a, b], -1),
        [randn(2, 3, 4), randn(2, 3, 2, seed=1)],
    )
    check_torch(
        lambda a, b: pc.stack([a, b], 1),
        lambda a, b: __import__("torch").stack([a, b], 1),
        [randn(2, 3, 4, dtype=np.float32), randn(2, 3, 4, dtype=np.float32, seed=1)],
    )


def test_cat_stack_bad_input():
    a, b = pc.zeros(2, 3), pc.zeros(3, 3)
    with pytest.raises(ValueError, match=r"\[cat\] sizes must match"):
        pc.cat([a, b], 1)
    with pytest.raises(TypeError, match=r"\[cat\]"):
        pc.cat([a, pc.zeros(2, 3, dtype=pc.float64)])
    with pytest.raises(ValueError, match=r"\[cat\] expected a non-empty"):
        pc.cat([])
    with pytest.raises(TypeError, match=r"\[cat\] expected a list"):
        pc.cat(a)
    with pytest.raises(ValueError, match=r"\[stack\] expects each tensor to be equal size"):
        pc.stack([a, b])
    with pytest.raises((ValueError, IndexError), match=r"\[cat\]"):
        pc.cat([a, a], 2)


# ---------------------------------------------------------------- split / chunk / narrow ----


@pytest.mark.parametrize("dtype", DTYPES)
def test_split_chunk_match_numpy(dtype, device):
    x = randn(7, 5, dtype=dtype)
    t = pc.tensor(x, device=device)
    for got, want in zip(t.split(3), [x[0:3], x[3:6], x[6:7]]):
        np.testing.assert_array_equal(arr(got), want)
    for got, want in zip(pc.split(t, [1, 4], dim=1), [x[:, :1], x[:, 1:]]):
        np.testing.assert_array_equal(arr(got), want)
    assert [p.shape for p in t.chunk(3, 1)] == [(7, 2), (7, 2), (7, 1)]
    assert [p.shape for p in pc.chunk(t, 4)] == [(2, 5), (2, 5), (2, 5), (1, 5)]
    np.testing.assert_array_equal(arr(t.narrow(1, -3, 2)), x[:, 2:4])
    assert t.split(3)[1].data_ptr() == t.data_ptr() + 3 * 5 * x.itemsize  # views, not copies


def test_split_chunk_gradcheck_and_torch():
    gradcheck(lambda x: pc.cat([p * (i + 1.0) for i, p in enumerate(x.split(2, 1))], 1), [randn(3, 5)])
    gradcheck(lambda x: x.chunk(3, 0)[1] * 2.0, [randn(7, 2)])
    torch = pytest.importorskip("torch")
    check_torch(lambda x: x.split([1, 3], 1)[1], lambda x: x.split([1, 3], 1)[1], [randn(2, 4, 3)])
    check_torch(lambda x: x.chunk(3, -1)[2], lambda x: x.chunk(3, -1)[2], [randn(2, 8)])
    assert torch is not None


def test_split_bad_input():
    t = pc.zeros(4, 3)
    with pytest.raises(ValueError, match=r"\[split\] split sizes"):
        t.split([1, 2])
    with pytest.raises(ValueError, match=r"\[chunk\] chunks must be positive"):
        t.chunk(0)
    with pytest.raises(IndexError, match=r"\[narrow\]"):
        t.narrow(0, 3, 2)


# ---------------------------------------------------------------- indexing ----

BASIC_KEYS = [
    1,
    -1,
    (slice(None), 2),
    (slice(1, None, 2), slice(None, None, 3)),
    (Ellipsis, -2),
    (None, 0, Ellipsis, None),
    (slice(-3, -1), None, slice(None, None, 2)),
    (0, 1, 2),
    (slice(5, 2),),
    (Ellipsis,),
    (slice(None, None, -1 + 3), 1, slice(-100, 100)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("key", BASIC_KEYS)
def test_basic_indexing_matches_numpy(dtype, key, device):
    x = randn(4, 5, 6, dtype=dtype)
    np.testing.assert_array_equal(arr(pc.tensor(x, device=device)[key]), x[key])


def test_basic_indexing_is_a_view_and_differentiable(device):
    t = pc.tensor(np.arange(24.0).reshape(4, 6))
    v = t[1:, ::2]
    assert v.data_ptr() == t.data_ptr() + 6 * 8 and v.stride() == (6, 2)
    gradcheck(lambda x: x[1:, ::2] * x[:3, 1::2], [randn(4, 6)], device=device)
    gradcheck(lambda x: x[None, -1, ..., 1:3], [randn(3, 4, 5)], device=device)
    check_torch(lambda x: x[:, None, 1::3, -2], lambda x: x[:, None, 1::3, -2], [randn(2, 7, 3)])


@pytest.mark.parametrize("dtype", DTYPES)
def test_integer_array_indexing(dtype, device):
    x = randn(4, 5, 3, dtype=dtype)
    t = pc.tensor(x, device=device)
    np.testing.assert_array_equal(arr(t[[3, 0, 3, -1]]), x[[3, 0, 3, -1]])
    np.testing.assert_array_equal(arr(t[:, pc.tensor([4, 1], device=device)]), x[:, [4, 1]])
    idx = np.array([[0, 2], [2, 2]])
    np.testing.assert_array_equal(arr(t[1:, idx]), x[1:, idx])
    np.testing.assert_array_equal(arr(t[..., pc.tensor(idx, device=device)]), x[..., idx])
    np.testing.assert_array_equal(arr(t.index_select(1, pc.tensor([2, 2, 0], device=device))), x[:, [2, 2, 0]])


def test_integer_array_indexing_grad_accumulates_repeats(device):
    idx = np.array([2, 0, 2, 2, -1])
    gradcheck(lambda x: x[:, idx], [randn(3, 4)], device=device)
    check_torch(lambda x: x[pc.tensor(idx)], lambda x: x[__import__("torch").tensor(idx)], [randn(5, 2)])
    check_torch(lambda x: x[:, [[1, 0], [1, 1]]], lambda x: x[:, [[1, 0], [1, 1]]], [randn(2, 3, 2)])


@pytest.mark.parametrize("dtype", DTYPES)
def test_mask_indexing(dtype, device):
    x = randn(3, 4, dtype=dtype)
    t = pc.tensor(x)
    np.testing.assert_array_equal(arr(t[t > 0.2]), x[x > 0.2])
    np.testing.assert_array_equal(arr(t[x < 0]), x[x < 0])
    gradcheck(lambda a: a[a.detach() > 0] * 3.0, [randn(3, 4)], device=device)
    torch = pytest.importorskip("torch")
    check_torch(lambda a: a[a.detach() > 0], lambda a: a[a.detach() > 0], [randn(2, 5)])
    assert torch is not None


def test_setitem():
    x = np.zeros((3, 4))
    t = pc.tensor(x)
    t[1] = 5.0
    x[1] = 5.0
    t[:, ::2] = pc.tensor(np.array([1.0, 2.0]))
    x[:, ::2] = [1.0, 2.0]
    t[[0, 2], 1] = 7.0
    x[[0, 2], 1] = 7.0
    t[t > 6] = -1.0
    x[x > 6] = -1.0
    np.testing.assert_array_equal(arr(t), x)
    leaf = pc.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"\[setitem\]"):
        leaf[0] = 1.0


def test_indexing_bad_input():
    t = pc.zeros(3, 4)
    with pytest.raises(IndexError, match=r"\[index\] index 3 is out of bounds for dim 0 with size 3"):
        t[3]
    with pytest.raises(IndexError, match=r"\[index\] too many indices"):
        t[0, 0, 0]
    with pytest.raises(IndexError, match=r"\[index\] an index can only have a single ellipsis"):
        t[..., ...]
    with pytest.raises(ValueError, match=r"\[index\] slice step must be positive"):
        t[::-1]
    with pytest.raises(ValueError, match=r"\[index_select\] index 4 is out of bounds"):
        t[:, [0, 4]]
    with pytest.raises(TypeError, match=r"\[index\] tensors used as indices must be integer or bool"):
        t[pc.zeros(2)]
    with pytest.raises(IndexError, match=r"\[index\] the mask of shape"):
        t[np.array([True, False])]
    with pytest.raises(IndexError, match=r"\[index\] only one integer-array"):
        t[[0, 1], [0, 1]]
    assert [tuple(r.shape) for r in pc.zeros(2, 3)] == [(3,), (3,)]  # iteration stops at the end


# ---------------------------------------------------------------- max / min ----


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim,keepdim", [(0, False), (1, True), (-1, False)])
def test_max_min_dim_match_numpy(dtype, dim, keepdim, device):
    x = distinct(3, 4, 5, dtype=dtype)
    x[1, 2, 3] = x[1, 2, 0]  # a tie along the last dim: the first occurrence wins
    t = pc.tensor(x, device=device)
    for method, ref, arg in ((t.max, np.max, np.argmax), (t.min, np.min, np.argmin)):
        values, indices = method(dim, keepdim=keepdim)
        out = method(dim, keepdim)
        np.testing.assert_array_equal(arr(out.values), arr(values))
        np.testing.assert_array_equal(arr(values), ref(x, axis=dim, keepdims=keepdim))
        np.testing.assert_array_equal(arr(indices), arg(x, axis=dim, keepdims=keepdim))
        assert indices.dtype == pc.int64
    assert float(t.max()) == x.max() and float(pc.min(t)) == x.min()
    assert int(t.argmin()) == np.argmin(x)
    np.testing.assert_array_equal(arr(pc.argmin(t, 1, keepdim=True)), np.argmin(x, 1, keepdims=True))


def test_max_min_nan_wins(device):
    t = pc.tensor([[1.0, float("nan"), 3.0]], device=device)
    v, i = t.max(1)
    assert np.isnan(arr(v)[0]) and int(i[0]) == 1
    assert np.isnan(float(t.min()))


def test_max_min_gradients(device):
    gradcheck(lambda x: x.max(1)[0], [distinct(3, 4)], device=device)
    gradcheck(lambda x: x.min(0, keepdim=True).values, [distinct(3, 4, 2)], device=device)
    gradcheck(lambda x: x.max() * x.min(), [distinct(2, 3)], device=device)
    torch = pytest.importorskip("torch")
    check_torch(lambda x: x.max(-1), lambda x: x.max(-1), [distinct(2, 3, 4)])
    check_torch(
        lambda x: x.min(1, keepdim=True), lambda x: x.min(1, keepdim=True), [distinct(2, 3, 4, dtype=np.float32)]
    )
    check_torch(lambda x: x.max(), lambda x: x.max(), [distinct(3, 5)])
    check_torch(lambda x: x.argmin(0), lambda x: x.argmin(0), [distinct(3, 5)], check_grad=False)
    assert torch is not None


def test_max_bad_input():
    with pytest.raises(ValueError, match=r"\[max\] cannot reduce over dim 0 of size 0"):
        pc.zeros(0, 3).max(0)
    with pytest.raises((ValueError, IndexError), match=r"\[min\]"):
        pc.zeros(2, 3).min(2)
    with pytest.raises(TypeError, match=r"\[max\] expected dim to be an int"):
        pc.tensor([1, 2]).max("a")


# ---------------------------------------------------------------- comparisons / where ----


@pytest.mark.parametrize("dtype", DTYPES + [np.int64])
def test_comparisons_match_numpy(dtype, device):
    a = (randn(3, 4, seed=0) * 3).astype(dtype)
    b = (randn(4, seed=1) * 3).astype(dtype)
    a[0, :] = b  # equal values
    ta, tb = pc.tensor(a, device=device), pc.tensor(b, device=device)
    for got, want in (
        (ta > tb, a > b),
        (ta < tb, a < b),
        (ta >= tb, a >= b),
        (ta <= tb, a <= b),
        (ta > 0.5, a > 0.5),
        (ta <= 1, a <= 1),
        (ta.ge(tb), a >= b),
    ):
        assert got.dtype == pc.bool
        np.testing.assert_array_equal(arr(got), want)


@pytest.mark.parametrize("dtype", DTYPES)
def test_where_matches_numpy(dtype, device):
    a, b = randn(3, 1, 4, dtype=dtype), randn(5, 1, dtype=dtype, seed=1)
    cond = randn(5, 4, seed=2) > 0
    out = pc.where(pc.tensor(cond, device=device), pc.tensor(a, device=device), pc.tensor(b, device=device))
    np.testing.assert_array_equal(arr(out), np.where(cond != 0, a, b))
    x = pc.tensor(a, device=device)
    np.testing.assert_array_equal(arr(pc.where(x > 0, x, 0.0)), np.where(a > 0, a, 0))


def test_where_gradients(device):
    cond = randn(5, 4, seed=2) > 0
    gradcheck(
        lambda a, b: pc.where(pc.tensor(cond, device=a.device), a, b),
        [randn(3, 1, 4), randn(5, 1, seed=1)],
        device=device,
    )
    torch = pytest.importorskip("torch")
    check_torch(
        lambda c, a, b: pc.where(c, a, b),
        lambda c, a, b: torch.where(c.bool(), a, b),
        [cond, randn(3, 1, 4), randn(4, seed=1)],
    )


def test_where_bad_input():
    a = pc.zeros(2, 3)
    with pytest.raises(TypeError, match=r"\[where\] condition must be a bool tensor"):
        pc.where(a, a, a)
    with pytest.raises(ValueError, match=r"\[where\]"):
        pc.where(pc.tensor([True, False]), a, pc.zeros(3, 2))
    assert pc.where(a > 0, a, pc.zeros(2, 3, dtype=pc.float64)).dtype is pc.float64  # promoted, as torch
    with pytest.raises(ValueError, match=r"\[compare\]"):
        _ = pc.zeros(2) > pc.zeros(3)


# ---------------------------------------------------------------- var / std ----


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim,keepdim,correction", [(None, False, 1), (1, True, 0), ((0, 2), False, 1), (-1, False, 2)])
def test_var_std_match_numpy(dtype, dim, keepdim, correction, device):
    x = randn(3, 4, 5, dtype=dtype)
    t = pc.tensor(x, device=device)
    axis = tuple(dim) if isinstance(dim, tuple) else dim
    want = np.var(x.astype(np.float64), axis=axis, ddof=correction, keepdims=keepdim)
    rtol = 1e-10 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(arr(t.var(dim, keepdim=keepdim, correction=correction)), want, rtol=rtol)
    np.testing.assert_allclose(arr(pc.std(t, dim, keepdim=keepdim, correction=correction)), np.sqrt(want), rtol=rtol)
    assert t.var(dim, keepdim=keepdim).dtype.numpy == dtype


def test_var_std_gradients(device):
    gradcheck(lambda x: x.var(1), [randn(3, 4)], device=device)
    gradcheck(lambda x: x.std((0, 2), keepdim=True, correction=0), [randn(3, 2, 4)], device=device)
    torch = pytest.importorskip("torch")
    check_torch(lambda x: x.var(-1, keepdim=True), lambda x: x.var(-1, keepdim=True), [randn(2, 3, 5)])
    check_torch(lambda x: x.std(), lambda x: x.std(), [randn(4, 5, dtype=np.float32)])
    check_torch(lambda x: x.var(0, unbiased=False), lambda x: x.var(0, unbiased=False), [randn(6, 2)])
    assert torch is not None


def test_var_bad_input():
    with pytest.raises(TypeError, match=r"\[var\] expected a float32 or float64"):
        pc.tensor([1, 2]).var()
    with pytest.raises((ValueError, IndexError), match=r"\[var\] dim 2 out of range"):
        pc.zeros(2, 3).var(2)


# ---------------------------------------------------------------- batched matmul ----

MATMUL_SHAPES = [
    ((2, 3, 4), (2, 4, 5)),
    ((3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((4,), (2, 4, 3)),
    ((2, 3, 4), (4,)),
    ((4,), (4,)),
    ((3,), (3, 2)),
    ((2, 3), (3,)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_batched_matches_numpy(dtype, sa, sb, device):
    a, b = randn(*sa, dtype=dtype), randn(*sb, dtype=dtype, seed=1)
    out = pc.tensor(a, device=device) @ pc.tensor(b, device=device)
    rtol = 1e-10 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(arr(out), np.matmul(a.astype(np.float64), b), rtol=rtol, atol=rtol)
    assert out.shape == np.matmul(a, b).shape and out.dtype.numpy == dtype


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_batched_gradients(sa, sb, device):
    gradcheck(lambda a, b: pc.matmul(a, b), [randn(*sa), randn(*sb, seed=1)], device=device)
    torch = pytest.importorskip("torch")
    check_torch(lambda a, b: a @ b, lambda a, b: a @ b, [randn(*sa), randn(*sb, seed=1)])
    assert torch is not None


def test_matmul_batched_bad_input():
    with pytest.raises(ValueError, match=r"\[matmul\] shapes \(2, 3, 4\) and \(2, 5, 6\) cannot be multiplied"):
        pc.zeros(2, 3, 4) @ pc.zeros(2, 5, 6)
    with pytest.raises(ValueError, match=r"\[matmul\]"):
        pc.zeros(2, 3, 4) @ pc.zeros(3, 4, 5)  # batch dims 2 and 3 don't broadcast
    with pytest.raises(TypeError, match=r"\[matmul\] input is float32 but other is float64"):
        pc.zeros(2, 3, 4) @ pc.zeros(4, 2, dtype=pc.float64)
    with pytest.raises(ValueError, match=r"\[matmul\] both arguments need at least 1 dim"):
        pc.matmul(pc.zeros(()), pc.zeros(3))


# ---------------------------------------------------------------- maximum / minimum ----


@pytest.mark.parametrize("dtype", DTYPES)
def test_maximum_minimum_match_numpy(dtype, device):
    a, b = randn(3, 1, 4, dtype=dtype), randn(5, 4, dtype=dtype, seed=1)
    a[0, 0, 0] = np.nan
    ta, tb = pc.tensor(a, device=device), pc.tensor(b, device=device)
    np.testing.assert_array_equal(arr(pc.maximum(ta, tb)), np.maximum(a, b))
    np.testing.assert_array_equal(arr(ta.minimum(tb)), np.minimum(a, b))
    np.testing.assert_array_equal(arr(ta.maximum(0.0)), np.maximum(a, 0))


def test_maximum_minimum_gradients(device):
    gradcheck(lambda a, b: pc.maximum(a, b), [distinct(3, 1, 4), distinct(5, 4, seed=1) + 0.01], device=device)
    gradcheck(lambda a, b: pc.minimum(a, b), [distinct(2, 3), distinct(3, seed=1) + 0.01], device=device)
    torch = pytest.importorskip("torch")
    a = randn(2, 3)
    b = a.copy()
    b[0] += 1.0  # row 1 ties: each input gets half the gradient
    check_torch(lambda x, y: pc.maximum(x, y), lambda x, y: torch.maximum(x, y), [a, b])
    check_torch(lambda x, y: pc.minimum(x, y), lambda x, y: torch.minimum(x, y), [randn(3, 4), randn(4, seed=1)])


def test_maximum_bad_input():
    with pytest.raises(ValueError, match=r"\[maximum\]"):
        pc.maximum(pc.zeros(2), pc.zeros(3))
    with pytest.raises(TypeError, match=r"\[minimum\] expected input to be float32 or float64"):
        pc.minimum(pc.tensor([1, 2]), pc.tensor([1, 2]))


# ---------------------------------------------------------------- the device vs the CPU ----


def _f32(*shape, seed=0):
    return randn(*shape, dtype=np.float32, seed=seed)


# name -> (fn, inputs, (rtol, atol)): float32, odd sizes; floating inputs also go in as strided views
TENSOR_OPS_DEVICE_CASES = {
    "cat": (lambda a, b: pc.cat([a, b, a], 1), [_f32(3, 5, 7), _f32(3, 2, 7, seed=1)], (0, 0)),
    "stack": (lambda a, b: pc.stack([a, b], -1), [_f32(5, 33), _f32(5, 33, seed=1)], (0, 0)),
    "split": (lambda a: pc.cat([p * (i + 1.0) for i, p in enumerate(a.split(3, 1))], 1), [_f32(4, 11)], (0, 0)),
    "index_select": (
        lambda a, i: a.index_select(1, i),
        [_f32(3, 37, 2), np.array([5, 0, 36, 5, 5, 2])],
        (0, 1e-6),
    ),  # repeats add up
    "getitem_slices": (lambda a: a[1:, ::3, None, -1], [_f32(5, 37, 3)], (0, 0)),
    "max_dim": (lambda a: a.max(1), [distinct(5, 37, 3, dtype=np.float32, seed=2)], (0, 0)),
    "min_all": (lambda a: a.min(), [distinct(7, 9, dtype=np.float32, seed=3)], (0, 0)),
    "argmin": (lambda a: a.argmin(-1), [distinct(7, 33, dtype=np.float32, seed=4)], (0, 0)),
    "var": (lambda a: a.var(1), [_f32(4, 1031, 3, seed=5)], (1e-5, 1e-6)),
    "std_dims": (lambda a: a.std((0, 2), keepdim=True, correction=0), [_f32(9, 5, 33, seed=6)], (1e-5, 1e-6)),
    "where": (
        lambda c, a, b: pc.where(c, a, b),
        [randn(5, 4, seed=7) > 0, _f32(3, 1, 4, seed=8), _f32(5, 1, seed=9)],
        (1e-6, 1e-6),  # broadcast inputs' gradients are sums
    ),
    "compare": (lambda a, b: a > b, [_f32(3, 37), _f32(37, seed=1)], (0, 0)),
    "compare_scalar": (lambda a: a <= 0.25, [_f32(5, 33)], (0, 0)),
    "maximum": (
        lambda a, b: pc.maximum(a, b),
        [distinct(3, 1, 4, dtype=np.float32), _f32(5, 4, seed=1) + 0.01],
        (1e-6, 1e-6),
    ),
    "minimum_scalar": (lambda a: a.minimum(0.1), [distinct(5, 7, dtype=np.float32, seed=2)], (0, 0)),
    "matmul_batched": (pc.matmul, [_f32(2, 3, 17, 9), _f32(3, 9, 33, seed=1)], (1e-5, 1e-5)),
}


@pytest.mark.parametrize("name", list(TENSOR_OPS_DEVICE_CASES))
def test_tensor_ops_device_matches_cpu(name, device):
    """Values (integer results exactly) and input gradients on the device, with contiguous and strided inputs,
    against the CPU (on the CPU: strided against contiguous)."""
    fn, inputs, (rtol, atol) = TENSOR_OPS_DEVICE_CASES[name]
    check_device_matches_cpu(fn, inputs, device, rtol=rtol, atol=atol)


@pytest.mark.parametrize(
    "shape, expand_to, permute",
    [
        ((1,), (300000,), None),  # a scalar broadcast to one long run (a sum's gradient)
        ((1, 1, 1), (4, 70, 33), None),
        ((5, 1, 7), (5, 3, 7), None),
        ((1, 6, 1), (2, 6, 9), (2, 0, 1)),  # broadcast, then transposed
        ((3, 4, 5), (3, 4, 5), (1, 0, 2)),  # merge-able inner dims under a transpose
        ((2, 1, 3, 1), (2, 5, 3, 4), (0, 2, 1, 3)),
    ],
)
def test_contiguous_copy_of_broadcast_and_permuted_views(shape, expand_to, permute):
    """copy_ merges the dims every view steps over exactly: the result must be NumPy's for any mix of
    broadcast (stride 0), size-1 and transposed dims."""
    a = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    t = pc.tensor(a).expand(*expand_to)
    ref = np.broadcast_to(a, expand_to)
    if permute:
        t, ref = t.permute(*permute), ref.transpose(permute)
    np.testing.assert_array_equal(np.asarray(t.contiguous()), np.ascontiguousarray(ref))
