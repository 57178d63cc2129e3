"""sort, argsort, topk, cumsum, prod, unique, nonzero (pycnn/_sort_ops.py, csrc/ops/sort.cpp): NumPy references
on awkward shapes (non-contiguous, negative dims, size-1, empty and 0-d), float64 gradcheck, torch parity, bad
input. The references are written plainly with NumPy and Python's own (stable) sorted."""

import math

import numpy as np
import pytest

import pycnn as pc

from helpers import check_torch, distinct, expect_error, gradcheck, randn

DTYPES = [np.float32, np.float64, np.int64]


def make(a, transpose=False):
    """A pycnn tensor of a (a transposed view of a copy when transpose: non-contiguous memory)."""
    if transpose:
        return pc.tensor(np.ascontiguousarray(np.swapaxes(a, 0, -1))).transpose(0, -1)
    return pc.tensor(a)


def values_with_ties(shape, dtype, seed=0):
    """Small integers (many ties) in dtype; float inputs also get a NaN and a -0.0 where there is room."""
    a = np.random.default_rng(seed).integers(-3, 4, size=shape).astype(dtype)
    if a.dtype.kind == "f" and a.size >= 4:
        a.reshape(-1)[1] = np.nan
        a.reshape(-1)[-2] = -0.0
    return a


def nan_last_key(v, descending):
    """Python sort key of one value: NaN above everything (torch's order)."""
    if isinstance(v, float) and math.isnan(v):
        return (1, 0) if not descending else (0, 0)
    return (0, v) if not descending else (1, -v)


def sort_ref(a, dim, descending):
    """(values, indices) of a stable sort along dim, NaN the largest."""
    moved = np.moveaxis(a, dim, -1)
    idx = np.empty(moved.shape, dtype=np.int64)
    for pos in np.ndindex(moved.shape[:-1]):
        row = moved[pos].tolist()
        idx[pos] = sorted(range(len(row)), key=lambda i: nan_last_key(row[i], descending))
    idx = np.moveaxis(idx, -1, dim)
    return np.take_along_axis(a, idx, dim), idx


CASES = [  # shape, dim
    ((7,), 0),
    ((3, 9), -1),
    ((3, 9), 0),
    ((2, 5, 4), 1),
    ((4, 1, 3), -2),
    ((1, 6), 1),
    ((0, 3), 0),
    ((3, 0), -1),
    ((2, 0, 3), -1),
]


# ---------------------------------------------------------------------------------------------- sort ----
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,dim", CASES)
@pytest.mark.parametrize("descending", [False, True])
def test_sort_matches_reference(dtype, shape, dim, descending):
    a = values_with_ties(shape, dtype)
    for transpose in (False, True) if len(shape) > 1 else (False,):
        values, indices = pc.sort(make(a, transpose), dim, descending)
        ref_v, ref_i = sort_ref(a, dim, descending)
        assert values.dtype == pc.tensor(a).dtype and indices.dtype == pc.int64
        np.testing.assert_array_equal(np.asarray(indices), ref_i)
        np.testing.assert_array_equal(np.asarray(values), ref_v)


def test_sort_result_is_a_named_tuple_and_method_matches():
    x = pc.tensor(randn(3, 5))
    out = x.sort(dim=0, descending=True)
    values, indices = out
    assert out.values is values and out.indices is indices
    np.testing.assert_array_equal(np.asarray(pc.argsort(x, 0, True)), np.asarray(indices))
    np.testing.assert_array_equal(np.asarray(x.argsort(dim=0, descending=True, stable=True)), np.asarray(indices))
    assert not pc.argsort(pc.tensor(randn(4), requires_grad=True)).requires_grad


def test_sort_of_a_0d_tensor_is_itself():
    values, indices = pc.sort(pc.tensor(2.5), 0)
    assert values.shape == () and indices.shape == () and values.item() == 2.5 and indices.item() == 0


def test_sort_large_rows_in_parallel():
    """Many rows and long rows (several threads, chunks of rows) agree with NumPy's stable sort."""
    a = np.random.default_rng(1).integers(-50, 50, size=(300, 257)).astype(np.float64)
    for dim in (0, 1):
        values, indices = pc.sort(pc.tensor(a), dim)
        np.testing.assert_array_equal(np.asarray(indices), np.argsort(a, axis=dim, kind="stable"))
        np.testing.assert_array_equal(np.asarray(values), np.sort(a, axis=dim))


def test_results_do_not_depend_on_the_thread_count():
    a = np.random.default_rng(12).integers(-20, 20, size=(64, 700)).astype(np.float64)
    a[a == 0] = np.nan
    x = pc.tensor(a)
    calls = [
        lambda: pc.sort(x, 0, True),
        lambda: pc.topk(x, 5, 1),
        lambda: (pc.cumsum(x, 0), pc.cumsum(x, 1)),
        lambda: (pc.prod(x / 20, 0), pc.prod(x / 20, 1)),
        lambda: pc.nonzero(x > 3),
    ]
    threads = pc.get_num_threads()
    try:
        pc.set_num_threads(1)
        serial = [[np.asarray(t) for t in call()] for call in calls]
        pc.set_num_threads(max(threads, 2))
        parallel = [[np.asarray(t) for t in call()] for call in calls]
    finally:
        pc.set_num_threads(threads)
    for one, many in zip(serial, parallel):
        for s_out, p_out in zip(one, many):
            np.testing.assert_array_equal(s_out, p_out)


def test_sort_gradient():
    gradcheck(lambda x: pc.sort(x, 1)[0], [distinct(3, 5)])
    gradcheck(lambda x: pc.sort(x.transpose(0, 2), -2, descending=True).values, [distinct(2, 4, 3, seed=1)])


# ---------------------------------------------------------------------------------------------- topk ----
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,dim", CASES)
@pytest.mark.parametrize("largest", [True, False])
def test_topk_matches_reference(dtype, shape, dim, largest):
    a = distinct(*shape, gap=2.0).astype(dtype)  # distinct (odd) integers: torch leaves the order of ties open
    n = shape[dim]
    for k in sorted({0, min(1, n), n // 2, n}):
        values, indices = pc.topk(make(a, len(shape) > 1), k, dim, largest)
        ref_v, ref_i = sort_ref(a, dim, largest)
        np.testing.assert_array_equal(np.asarray(indices), np.take(ref_i, range(k), axis=dim))
        np.testing.assert_array_equal(np.asarray(values), np.take(ref_v, range(k), axis=dim))


def test_topk_nan_is_the_largest_and_method_and_defaults():
    x = pc.tensor([1.0, np.nan, 3.0, 2.0])
    out = x.topk(2)
    np.testing.assert_array_equal(np.asarray(out.values), [np.nan, 3.0])
    np.testing.assert_array_equal(np.asarray(out.indices), [1, 2])
    out = pc.topk(x, 2, largest=False, sorted=False)
    np.testing.assert_array_equal(np.asarray(out.indices), [0, 3])
    np.testing.assert_array_equal(np.asarray(pc.topk(pc.tensor(randn(2, 6)), 3, dim=None).indices).shape, (2, 3))


def test_topk_gradient():
    gradcheck(lambda x: pc.topk(x, 2, 0).values, [distinct(5, 3)])
    gradcheck(lambda x: pc.topk(x.transpose(0, 1), 3, -1, largest=False)[0], [distinct(6, 2, seed=2)])


# -------------------------------------------------------------------------------------------- cumsum ----
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,dim", CASES + [((2, 3, 300), 1), ((0,), 0)])
def test_cumsum_matches_reference(dtype, shape, dim):
    a = (randn(*shape) * 4).astype(dtype)
    for transpose in (False, True) if len(shape) > 1 else (False,):
        out = pc.cumsum(make(a, transpose), dim)
        assert out.dtype == pc.tensor(a).dtype
        np.testing.assert_allclose(np.asarray(out), np.cumsum(a, axis=dim), rtol=1e-6, atol=1e-5)


def test_cumsum_dtypes_method_and_0d():
    ints = pc.tensor([[1, 2], [3, 4]])
    assert ints.cumsum(0).dtype == pc.int64
    out = ints.cumsum(dim=1, dtype=pc.float64)
    assert out.dtype == pc.float64
    np.testing.assert_array_equal(np.asarray(out), [[1.0, 3.0], [3.0, 7.0]])
    assert pc.cumsum(pc.tensor(2.5), 0).item() == 2.5
    big = pc.tensor([2**62, 2**62])  # int64 sums wrap, as torch's do (no undefined overflow)
    assert pc.cumsum(big, 0).tolist() == [2**62, -(2**63)]


def test_cumsum_gradient():
    gradcheck(lambda x: pc.cumsum(x, 1), [randn(3, 5)])
    gradcheck(lambda x: pc.cumsum(x.transpose(0, 2), -3), [randn(2, 3, 4, seed=1)])


def test_cumsum_inplace():
    x = pc.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert x.cumsum_(0) is x
    np.testing.assert_array_equal(np.asarray(x), [[1.0, 2.0], [4.0, 6.0]])
    leaf = pc.tensor([1.0, 2.0], requires_grad=True)
    expect_error(RuntimeError, "cumsum_", lambda: leaf.cumsum_(0), "leaf")
    y = leaf * 1.0
    y.cumsum_(0).sum().backward()  # a non-leaf records the in-place op
    np.testing.assert_array_equal(np.asarray(leaf.grad), [2.0, 1.0])


# ---------------------------------------------------------------------------------------------- prod ----
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,dim", CASES + [((2, 3, 300), 1), ((2, 3, 300), 0)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_prod_matches_reference(dtype, shape, dim, keepdim):
    a = (randn(*shape, seed=3) + 1.5).astype(dtype) if dtype != np.int64 else values_with_ties(shape, dtype)
    for transpose in (False, True) if len(shape) > 1 else (False,):
        out = pc.prod(make(a, transpose), dim, keepdim)
        assert out.dtype == pc.tensor(a).dtype
        np.testing.assert_allclose(np.asarray(out), np.prod(a, axis=dim, keepdims=keepdim), rtol=1e-5)


def test_prod_of_everything_dtypes_and_0d():
    a = randn(3, 4, seed=4) + 1.0
    out = pc.tensor(a).prod()
    assert out.shape == ()
    np.testing.assert_allclose(out.item(), np.prod(a), rtol=1e-12)
    assert pc.prod(pc.tensor(a), keepdim=True).shape == (1, 1)
    ints = pc.tensor([[2, 3], [4, 5]])
    assert ints.prod().dtype == pc.int64 and ints.prod().item() == 120
    assert pc.prod(ints, 1, dtype=pc.float32).dtype == pc.float32
    assert pc.prod(pc.zeros(0)).item() == 1.0
    assert pc.prod(pc.tensor(3.0), 0).item() == 3.0


def prod_grad_ref(a, dim):
    """d prod / d a written plainly: the product of the other elements of the slice (no division)."""
    moved = np.moveaxis(a, dim, -1)
    g = np.empty_like(moved)
    for pos in np.ndindex(moved.shape):
        row, i = moved[pos[:-1]], pos[-1]
        g[pos] = np.prod(np.delete(row, i))
    return np.moveaxis(g, -1, dim)


def test_prod_gradient_with_zeros():
    a = randn(4, 5, seed=5)
    a[0, 1] = 0.0  # one zero in a row
    a[1, 2] = a[1, 4] = 0.0  # two zeros in a row: every gradient of that row is 0
    a[3, :] = 0.0
    for dim in (1, 0, -1):
        x = pc.tensor(a, requires_grad=True)
        pc.prod(x, dim).sum().backward()
        np.testing.assert_allclose(np.asarray(x.grad), prod_grad_ref(a, dim), rtol=1e-12, atol=0)
    gradcheck(lambda x: pc.prod(x, 1, keepdim=True), [a])
    gradcheck(lambda x: x.transpose(0, 1).prod(-2), [a])
    gradcheck(lambda x: pc.prod(x), [np.array([[1.5, 0.0], [-2.0, 0.7]])])


# -------------------------------------------------------------------------------------------- unique ----
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(9,), (3, 7), (2, 1, 5), (0,), (2, 0)])
def test_unique_flattened_matches_numpy(dtype, shape):
    a = np.random.default_rng(6).integers(-3, 4, size=shape).astype(dtype)
    values, inverse, counts = pc.unique(make(a, len(shape) > 1), return_inverse=True, return_counts=True)
    ref_v, ref_inv, ref_c = np.unique(a, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(np.asarray(values), ref_v)
    np.testing.assert_array_equal(np.asarray(inverse), ref_inv.reshape(shape))
    np.testing.assert_array_equal(np.asarray(counts), ref_c)
    assert values.dtype == pc.tensor(a).dtype and inverse.dtype == counts.dtype == pc.int64


@pytest.mark.parametrize("shape,dim", [((6, 3), 0), ((3, 6), 1), ((2, 5, 2), -2), ((0, 3), 0), ((4, 1), 0)])
def test_unique_dim_matches_numpy(shape, dim):
    a = np.random.default_rng(7).integers(0, 2, size=shape).astype(np.float64)
    values, inverse, counts = pc.tensor(a).unique(return_inverse=True, return_counts=True, dim=dim)
    ref_v, ref_inv, ref_c = np.unique(a, return_inverse=True, return_counts=True, axis=dim)
    np.testing.assert_array_equal(np.asarray(values), ref_v)
    np.testing.assert_array_equal(np.asarray(inverse), ref_inv.reshape(-1))
    np.testing.assert_array_equal(np.asarray(counts), ref_c)


def test_unique_return_forms_and_nan():
    x = pc.tensor([3.0, np.nan, 1.0, np.nan, 3.0])
    only = x.unique()
    np.testing.assert_array_equal(np.asarray(only), [1.0, 3.0, np.nan, np.nan])  # each NaN is its own value
    values, counts = pc.unique(x, sorted=False, return_counts=True)
    np.testing.assert_array_equal(np.asarray(counts), [1, 2, 1, 1])
    values, inverse = pc.unique(x, return_inverse=True)
    np.testing.assert_array_equal(np.asarray(inverse), [1, 2, 0, 3, 1])
    values, inverse, counts = pc.unique(pc.tensor(5), return_inverse=True, return_counts=True)
    assert values.tolist() == [5] and inverse.shape == () and counts.tolist() == [1]
    assert not pc.unique(pc.tensor([1.0, 1.0], requires_grad=True)).requires_grad


# ------------------------------------------------------------------------------------------- nonzero ----
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(9,), (3, 7), (2, 3, 4), (1, 1), (0, 3), (40000,), (3, 200, 70)])
def test_nonzero_matches_numpy(dtype, shape):
    rng = np.random.default_rng(8)
    a = (rng.integers(0, 3, size=shape) * rng.integers(1, 3, size=shape)).astype(dtype)
    for transpose in (False, True) if len(shape) > 1 else (False,):
        out = pc.nonzero(make(a, transpose))
        assert out.dtype == pc.int64 and out.shape == (np.count_nonzero(a), len(shape))
        np.testing.assert_array_equal(np.asarray(out), np.argwhere(a))
        cols = make(a, transpose).nonzero(as_tuple=True)
        assert isinstance(cols, tuple) and len(cols) == len(shape)
        for got, want in zip(cols, np.nonzero(a)):
            np.testing.assert_array_equal(np.asarray(got), want)


def test_nonzero_nan_negative_zero_and_0d():
    x = pc.tensor([0.0, -0.0, np.nan, 2.0])
    assert x.nonzero().tolist() == [[2], [3]]
    assert pc.nonzero(pc.tensor(5.0)).shape == (1, 0)
    assert pc.nonzero(pc.tensor(0.0)).shape == (0, 0)
    (col,) = pc.nonzero(pc.tensor(5.0), as_tuple=True)
    assert col.tolist() == [0]


# -------------------------------------------------------------------------------------------- errors ----
def test_bad_input():
    x = pc.tensor(randn(2, 3))
    dim_errors = (ValueError, IndexError)  # wrap_dim's type: IndexError in torch
    for op, call in [
        ("sort", lambda: pc.sort(x, 2)),
        ("argsort", lambda: x.argsort(-3)),
        ("topk", lambda: x.topk(1, 2)),
        ("cumsum", lambda: x.cumsum(5)),
        ("prod", lambda: x.prod(-3)),
        ("unique", lambda: x.unique(dim=2)),
        ("unique", lambda: pc.unique(pc.tensor(1.0), dim=0)),
    ]:
        expect_error(dim_errors, op, call, "out of range")
    expect_error(ValueError, "topk", lambda: pc.topk(x, 4), "4", "size 3")
    expect_error(ValueError, "topk", lambda: x.topk(-1, 0), "-1", "size 2")
    expect_error(TypeError, "topk", lambda: x.topk(1.5), "1.5")
    expect_error(TypeError, "sort", lambda: pc.sort(np.zeros(3)), "ndarray")
    expect_error(TypeError, "sort", lambda: pc.sort(x, 0.5), "0.5")
    expect_error(TypeError, "sort", lambda: x.sort(descending="yes"), "yes")
    expect_error(TypeError, "argsort", lambda: x.argsort(stable="no"), "no")
    expect_error(TypeError, "cumsum", lambda: pc.cumsum([1, 2], 0), "list")
    expect_error(TypeError, "dtype", lambda: x.cumsum(0, dtype="complex64"), "complex64")
    expect_error(TypeError, "prod", lambda: x.prod(keepdim=None), "None")
    expect_error(TypeError, "unique", lambda: x.unique(return_counts="yes"), "yes")
    expect_error(TypeError, "nonzero", lambda: x.nonzero(as_tuple=2), "2")
    expect_error(ValueError, "unique", lambda: pc.unique(pc.zeros(2, 0), dim=0), "(2, 0)")


@pytest.mark.cuda
def test_no_cuda_kernel_yet():
    x = pc.tensor(randn(2, 3)).cuda()
    for op, call in [
        ("sort", lambda: x.sort()),
        ("topk", lambda: x.topk(1)),
        ("cumsum", lambda: x.cumsum(0)),
        ("prod", lambda: x.prod()),
        ("unique", lambda: x.unique()),
        ("nonzero", lambda: x.nonzero()),
    ]:
        expect_error(RuntimeError, op, call, "no CUDA kernel yet")


# --------------------------------------------------------------------------------------------- torch ----
def test_torch_parity():
    torch = pytest.importorskip("torch")
    a = values_with_ties((4, 6), np.float64, seed=9)
    x, t = pc.tensor(a), torch.tensor(a)

    def same(ours, theirs):
        ours = ours if isinstance(ours, tuple) else (ours,)
        theirs = theirs if isinstance(theirs, tuple) else (theirs,)
        assert len(ours) == len(theirs)
        for o, th in zip(ours, theirs):
            assert o.shape == tuple(th.shape)
            np.testing.assert_allclose(np.asarray(o), th.numpy(), rtol=1e-12, equal_nan=True)

    for dim in (0, -1):
        for desc in (False, True):
            same(tuple(pc.sort(x, dim, desc)), tuple(torch.sort(t, stable=True, dim=dim, descending=desc)))
            same(x.argsort(dim, desc, stable=True), t.argsort(stable=True, dim=dim, descending=desc))
        same(pc.cumsum(x, dim), torch.cumsum(t, dim))
        same(pc.prod(x, dim, True), torch.prod(t, dim, True))
        same(x.nonzero(), t.nonzero())
        same(x.nonzero(as_tuple=True), t.nonzero(as_tuple=True))
    same(
        pc.unique(x, return_inverse=True, return_counts=True), torch.unique(t, return_inverse=True, return_counts=True)
    )
    ints = np.array([[1, 2], [1, 2], [0, 5], [1, 2]])
    same(
        pc.unique(pc.tensor(ints), dim=0, return_inverse=True, return_counts=True),
        torch.unique(torch.tensor(ints), dim=0, return_inverse=True, return_counts=True),
    )
    assert pc.cumsum(pc.tensor(ints), 0).dtype == pc.int64 and pc.prod(pc.tensor(ints)).item() == 0
    d = distinct(3, 5, seed=10)
    same(tuple(pc.topk(pc.tensor(d), 2, 1)), tuple(torch.topk(torch.tensor(d), 2, 1)))
    same(tuple(pc.topk(pc.tensor(d), 2, 0, False)), tuple(torch.topk(torch.tensor(d), 2, 0, False)))


def test_torch_parity_gradients():
    torch = pytest.importorskip("torch")
    d = distinct(3, 5, seed=11)
    check_torch(lambda x: tuple(pc.sort(x, 0, True)), lambda x: tuple(torch.sort(x, 0, True)), [d])
    check_torch(lambda x: tuple(pc.topk(x, 3, -1)), lambda x: tuple(torch.topk(x, 3, -1)), [d])
    check_torch(lambda x: pc.cumsum(x, 0), lambda x: torch.cumsum(x, 0), [d])
    z = d.copy()
    z[1, 3] = 0.0
    check_torch(lambda x: pc.prod(x, 1), lambda x: torch.prod(x, 1), [z])
