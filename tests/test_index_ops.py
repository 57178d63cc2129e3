"""gather / scatter / scatter_add (csrc/ops/indexing.cpp, pycnn/_index_ops.py): against plain NumPy references
on awkward shapes (index smaller than input, non-contiguous inputs, negative dims, size-1 and empty dims),
float64 gradcheck, torch parity, determinism of repeated indices, in-place forms and bad input.
"""

import numpy as np
import pytest

import pycnn as pc

from helpers import check_torch, expect_error, gradcheck, randn

DTYPES = [np.float32, np.float64]


def arr(t):
    return np.asarray(t.detach())


def rand_index(shape, size, seed=0):
    return np.random.default_rng(seed).integers(0, size, size=shape).astype(np.int64)


def ref_gather(x, dim, index):
    """out[p] = x[p with p[dim] = index[p]]: x cut to index's extent off dim, then take_along_axis."""
    cut = tuple(slice(None) if d == dim else slice(0, s) for d, s in enumerate(index.shape))
    return np.take_along_axis(x[cut], index, axis=dim)


def ref_scatter(x, dim, index, src, reduce=None):
    """A plain loop in index order (the order pycnn promises for repeated indices)."""
    out = x.copy()
    for p in np.ndindex(*index.shape):
        q = list(p)
        q[dim] = index[p]
        q = tuple(q)
        v = src[p] if isinstance(src, np.ndarray) else src
        if reduce is None:
            out[q] = v
        elif reduce == "add":
            out[q] = out[q] + v
        else:
            out[q] = out[q] * v
    return out


# (input shape, dim, index shape): index smaller than input off dim, larger along dim, size-1 and 0-size dims
GATHER_CASES = [
    ((5, 7), 0, (3, 7)),
    ((5, 7), 1, (4, 9)),
    ((5, 7), -1, (2, 3)),
    ((3, 4, 6), 1, (3, 8, 2)),
    ((3, 4, 6), -3, (1, 4, 6)),
    ((2, 1, 5), 2, (2, 1, 3)),
    ((4, 3), 0, (0, 3)),
    ((4, 0), 0, (2, 0)),
    ((6,), 0, (10,)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,dim,ishape", GATHER_CASES)
def test_gather_matches_numpy(dtype, shape, dim, ishape):
    x = randn(*shape, dtype=dtype)
    d = dim % len(shape)
    index = rand_index(ishape, shape[d], seed=1)
    out = pc.gather(pc.tensor(x), dim, pc.tensor(index))
    np.testing.assert_array_equal(arr(out), ref_gather(x, d, index))
    assert out.dtype.numpy == dtype and out.shape == ishape


def test_gather_noncontiguous_input_and_index_and_method():
    x = randn(6, 5)
    index = rand_index((4, 6), 5, seed=2)
    xt, it = pc.tensor(x).transpose(0, 1), pc.tensor(index).transpose(0, 1)  # (5, 6) and (6, 4) views
    out = xt.gather(0, it)
    np.testing.assert_array_equal(arr(out), ref_gather(x.T, 0, index.T))


def test_gather_long_lines_are_split_between_threads():
    x = randn(3, 50_000, dtype=np.float32)
    index = rand_index((2, 300_000), 50_000, seed=9)
    np.testing.assert_array_equal(arr(pc.tensor(x).gather(-1, pc.tensor(index))), ref_gather(x, 1, index))


def test_gather_int64_and_scalars():
    x = np.arange(24).reshape(2, 3, 4)
    index = rand_index((2, 3, 5), 4, seed=3)
    np.testing.assert_array_equal(arr(pc.gather(pc.tensor(x), 2, pc.tensor(index))), ref_gather(x, 2, index))
    s = pc.tensor(5.0)
    assert pc.gather(s, 0, pc.tensor(0)).item() == 5.0
    np.testing.assert_array_equal(arr(pc.gather(s, -1, pc.tensor([0, 0]))), [5.0, 5.0])


@pytest.mark.parametrize("dtype", ["int32", "uint8", "bool", "float16", "bfloat16"])
def test_other_dtypes(dtype):
    """Integers and bool run in the core; float16 / bfloat16 in float32 between casts (and stay themselves)."""
    x = np.arange(12).reshape(3, 4) % 3
    index = np.array([[2, 0, 1], [1, 1, 3]])
    t = pc.tensor(x).to(getattr(pc, dtype))
    out = t.gather(1, pc.tensor(index))
    assert out.dtype == t.dtype
    np.testing.assert_array_equal(arr(out.to(pc.int64)), ref_gather(x.astype(bool) if dtype == "bool" else x, 1, index))
    src = pc.tensor(np.ones((2, 3), np.int64)).to(t.dtype)
    out = t.scatter_add(1, pc.tensor(index), src)
    expect = x.copy()
    np.add.at(expect, (np.array([[0] * 3, [1] * 3]), index), 1)
    assert out.dtype == t.dtype
    np.testing.assert_array_equal(arr(out.to(pc.int64)), expect.astype(bool) if dtype == "bool" else expect)


def test_gather_gradient_scatter_adds_repeated_indices():
    x = pc.tensor(randn(3, 4), requires_grad=True)
    index = np.array([[0, 0, 3], [1, 1, 1]])
    out = pc.gather(x, 1, pc.tensor(index))
    g = randn(2, 3, seed=4)
    out.backward(pc.tensor(g))
    expect = np.zeros((3, 4))
    np.add.at(expect, (np.array([[0, 0, 0], [1, 1, 1]]), index), g)
    np.testing.assert_allclose(arr(x.grad), expect, rtol=1e-12)


@pytest.mark.parametrize("shape,dim,ishape", [((4, 5), 1, (3, 7)), ((3, 4, 2), 0, (5, 2, 2)), ((5,), -1, (8,))])
def test_gather_gradcheck(shape, dim, ishape):
    index = rand_index(ishape, shape[dim], seed=5)
    gradcheck(lambda x, i: pc.gather(x, dim, i), [randn(*shape), index])


SCATTER_CASES = [
    ((5, 7), 0, (3, 7), (3, 7)),
    ((5, 7), 1, (4, 9), (5, 9)),
    ((5, 7), -1, (2, 3), (4, 6)),
    ((3, 4, 6), 1, (3, 8, 2), (3, 8, 3)),
    ((2, 1, 5), -1, (2, 1, 3), (2, 1, 3)),
    ((4, 3), 0, (0, 3), (0, 3)),
    ((6,), 0, (10,), (12,)),
]


@pytest.mark.parametrize("reduce", [None, "add", "multiply"])
@pytest.mark.parametrize("shape,dim,ishape,sshape", SCATTER_CASES)
def test_scatter_matches_numpy(shape, dim, ishape, sshape, reduce):
    x, src = randn(*shape), randn(*sshape, seed=1)
    d = dim % len(shape)
    index = rand_index(ishape, shape[d], seed=2)
    out = pc.scatter(pc.tensor(x), dim, pc.tensor(index), pc.tensor(src), reduce=reduce)
    np.testing.assert_allclose(arr(out), ref_scatter(x, d, index, src, reduce), rtol=1e-14)
    out = pc.tensor(x).scatter(dim, pc.tensor(index), value=1.5, reduce=reduce)
    np.testing.assert_allclose(arr(out), ref_scatter(x, d, index, 1.5, reduce), rtol=1e-14)


@pytest.mark.parametrize("dtype", DTYPES)
def test_scatter_add_matches_numpy_noncontiguous(dtype):
    x, src = randn(7, 5, dtype=dtype), randn(6, 4, dtype=dtype, seed=1)
    index = rand_index((4, 3), 5, seed=3)  # many repeats along dim 0 of the (5, 7) view
    xt, st, it = pc.tensor(x).transpose(0, 1), pc.tensor(src).transpose(0, 1), pc.tensor(index)
    out = pc.scatter_add(xt, 0, it, st)
    expect = x.T.copy()
    np.add.at(expect, (index, np.arange(3)[None, :]), src.T[:4, :3])
    np.testing.assert_allclose(arr(out), expect, rtol=1e-6 if dtype == np.float32 else 1e-14)
    np.testing.assert_array_equal(arr(xt.scatter_add(0, it, st)), arr(out))


def test_scatter_integers_and_number_in_src_place():
    x = np.arange(12).reshape(3, 4)
    index = np.array([[2, 0, 1, 2]])
    out = pc.tensor(x).scatter(0, pc.tensor(index), 7)
    np.testing.assert_array_equal(arr(out), ref_scatter(x, 0, index, 7))
    out = pc.tensor(x).scatter_add(1, pc.tensor([[3, 3], [0, 1]]), pc.tensor([[1, 2], [3, 4]]))
    np.testing.assert_array_equal(arr(out), [[0, 1, 2, 6], [7, 9, 6, 7], [8, 9, 10, 11]])


def test_repeated_indices_last_write_wins_and_sums_are_deterministic():
    n = 200_000  # large enough that the lines are split between threads
    src = randn(4, n, dtype=np.float32, seed=6)
    index = rand_index((4, n), 3, seed=7)
    x = pc.zeros(4, 3)
    sums = [arr(pc.scatter_add(x, 1, pc.tensor(index), pc.tensor(src))) for _ in range(3)]
    assert all(np.array_equal(sums[0], s) for s in sums[1:])
    expect = np.zeros((4, 3), np.float32)
    for k in range(3):  # float32 sums in index order: the same rounding as a sequential loop
        expect[:, k] = [
            np.cumsum(np.where(index[r] == k, src[r], np.float32(0)), dtype=np.float32)[-1] for r in range(4)
        ]
    np.testing.assert_array_equal(sums[0], expect)
    small = np.array([[1, 1, 1, 0]])
    out = pc.zeros(2, 4).scatter(1, pc.tensor(np.repeat(small, 2, 0)), pc.tensor([[1.0, 2, 3, 4], [5, 6, 7, 8]]))
    np.testing.assert_array_equal(arr(out), [[4, 3, 0, 0], [8, 7, 0, 0]])


def test_scatter_gradcheck():
    index = np.array([[0, 3, 1], [2, 1, 4]])  # dim 1 of (3, 5): distinct within each row, so src all lands
    gradcheck(lambda x, i, s: pc.scatter(x, 1, i, s), [randn(3, 5), index, randn(2, 4, seed=1)])
    gradcheck(lambda x, i, s: pc.scatter_add(x, 1, i, s), [randn(3, 5), index, randn(2, 4, seed=1)])
    gradcheck(lambda x, i, s: pc.scatter(x, 1, i, s, reduce="add"), [randn(3, 5), index, randn(2, 3, seed=1)])
    gradcheck(lambda x, i: pc.scatter(x, 0, i, value=2.5), [randn(3, 5), rand_index((2, 5), 3)])
    gradcheck(lambda x, i: x.scatter(0, i, 1.5, reduce="multiply"), [randn(3, 5), rand_index((4, 5), 3)])
    s = pc.tensor(randn(4, 5, seed=2))  # multiply: the gradient of input only
    gradcheck(lambda x, i: pc.scatter(x, 0, i, s, reduce="multiply"), [randn(3, 5), rand_index((4, 5), 3)])


def test_scatter_multiply_src_gradient_is_not_implemented():
    x, s = pc.randn(3, 4), pc.randn(2, 4, requires_grad=True)
    out = pc.scatter(x, 0, pc.tensor([[0, 1, 2, 0], [1, 1, 1, 1]]), s, reduce="multiply")
    with pytest.raises(NotImplementedError, match=r"^\[scatter\]"):
        out.sum().backward()


def test_inplace_forms():
    x = pc.tensor(randn(3, 4))
    index = pc.tensor([[2, 0, 1, 1]])
    src = pc.tensor(randn(1, 4, seed=1))
    expect = arr(pc.scatter(x, 0, index, src))
    assert x.scatter_(0, index, src) is x
    np.testing.assert_array_equal(arr(x), expect)
    expect = arr(pc.scatter_add(x, 0, index, src))
    assert x.scatter_add_(0, index, src) is x
    np.testing.assert_array_equal(arr(x), expect)
    x.scatter_(1, pc.tensor([[0], [3]]), 2.0, reduce="multiply")
    # a non-leaf: the in-place op joins the graph (input's gradient masked where src was written)
    leaf = pc.tensor(randn(3, 4), requires_grad=True)
    y = leaf * 1.0
    y.scatter_(0, index, src)
    y.sum().backward()
    np.testing.assert_array_equal(arr(leaf.grad), ref_scatter(np.ones((3, 4)), 0, arr(index), 0.0))
    expect_error(RuntimeError, "scatter_", lambda: leaf.scatter_(0, index, src), "leaf")


def test_out_argument():
    x, index = pc.tensor(randn(3, 4)), pc.tensor([[0, 2], [1, 1]])
    out = pc.empty(2, 2, dtype=pc.float64)
    assert pc.gather(x, 1, index, out=out) is out
    np.testing.assert_array_equal(arr(out), arr(pc.gather(x, 1, index)))
    expect_error(ValueError, "gather", lambda: pc.gather(x, 1, index, out=pc.empty(3)), "(3,)")


def test_bad_input():
    x = pc.randn(3, 4)
    idx = pc.tensor([[0, 1], [2, 3]])
    expect_error(IndexError, "gather", lambda: pc.gather(x, 1, pc.tensor([[0, 4]])), "4", "size 4")
    expect_error(IndexError, "gather", lambda: pc.gather(x, 0, pc.tensor([[-1]])), "-1", "size 3")
    expect_error(IndexError, "scatter", lambda: x.scatter(0, pc.tensor([[3]]), 1.0), "3", "size 3")
    expect_error(IndexError, "scatter_add", lambda: x.scatter_add(1, pc.tensor([[7]]), x), "7", "size 4")
    expect_error(TypeError, "gather", lambda: pc.gather(x, 1, pc.tensor([[0.0]])), "int64")
    expect_error(TypeError, "gather", lambda: pc.gather(x, 1, [[0]]), "index")
    expect_error(ValueError, "gather", lambda: pc.gather(x, 0, pc.tensor([0])), "(1,)", "(3, 4)")
    expect_error(ValueError, "gather", lambda: pc.gather(x, 0, pc.tensor([[0] * 5])), "(1, 5)", "(3, 4)")
    expect_error(ValueError, "gather", lambda: pc.gather(x, 2, idx), "dim 2")
    expect_error(TypeError, "scatter", lambda: x.scatter(0, idx, pc.randn(2, 2, dtype=pc.float64)), "float64")
    expect_error(ValueError, "scatter", lambda: x.scatter(1, idx, pc.randn(1, 2)), "src", "(1, 2)")
    expect_error(ValueError, "scatter", lambda: x.scatter(1, idx, x, reduce="sub"), "'sub'")
    expect_error(TypeError, "scatter", lambda: x.scatter(1, idx), "src")
    expect_error(TypeError, "scatter", lambda: x.scatter(1, idx, x, value=1.0), "not both")
    expect_error(TypeError, "scatter_add", lambda: x.scatter_add(1, idx, 1.0), "src")
    with pytest.raises(NotImplementedError, match=r"^\[gather\] sparse_grad"):
        pc.gather(x, 1, idx, sparse_grad=True)


@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter:UserWarning")
def test_matches_torch():
    torch = pytest.importorskip("torch")
    index = rand_index((3, 4, 2), 5, seed=8)
    check_torch(
        lambda x, i: pc.gather(x, 1, i), lambda x, i: torch.gather(x, 1, i), [randn(3, 5, 2), index], atol=0, rtol=0
    )
    uniq = np.stack([np.random.default_rng(s).permutation(5)[:3] for s in range(4)], 1)  # (3, 4), no repeats
    check_torch(
        lambda x, i, s: pc.scatter(x, 0, i, s),
        lambda x, i, s: torch.scatter(x, 0, i, s),
        [randn(5, 4), uniq, randn(3, 4, seed=1)],
    )
    check_torch(
        lambda x, i, s: x.scatter_add(-1, i, s),
        lambda x, i, s: x.scatter_add(-1, i, s),
        [randn(4, 6), rand_index((4, 9), 6), randn(4, 9, seed=2)],
    )
    for reduce in ("add", "multiply"):
        check_torch(
            lambda x, i, s, r=reduce: pc.scatter(x, 1, i, s, reduce=r),
            lambda x, i, s, r=reduce: torch.scatter(x, 1, i, s, reduce=r),
            [randn(4, 6), rand_index((4, 9), 6), randn(4, 9, seed=2)],
            check_grad=False,
        )
    check_torch(
        lambda x, i: x.scatter(1, i, -2.0),
        lambda x, i: x.scatter(1, i, -2.0),
        [randn(4, 6), rand_index((4, 3), 6)],
    )


@pytest.mark.cuda
def test_cuda_tensors_are_refused_until_there_is_a_kernel():
    """The indexing ops are CPU-only for now (docs/cuda-status.md): a GPU tensor gets a clear error."""
    x, index = pc.randn(3, 4, device="cuda"), pc.tensor([[0, 1]], device="cuda")
    expect_error(RuntimeError, "gather", lambda: pc.gather(x, 1, index), "no CUDA kernel yet")
    expect_error(RuntimeError, "scatter", lambda: x.scatter(1, index, 1.0), "no CUDA kernel yet")
    expect_error(RuntimeError, "embedding", lambda: pc.nn.functional.embedding(index, x), "no CUDA kernel yet")
