"""pycnn/_math_ops.py and the unary ops it adds to the core (floor ... square): NumPy references on awkward
shapes (non-contiguous inputs, negative dims, size-1 and empty dims), float64 gradchecks, torch parity where
torch is installed, error messages, and distribution checks with fixed seeds for the random draws."""

import math

import numpy as np
import pytest

import pycnn as pc

from helpers import distinct, expect_error, gradcheck, randn


def t(a, requires_grad=False):
    return pc.tensor(np.asarray(a), requires_grad=requires_grad)


def noncontig(a):
    """A transposed (non-contiguous) tensor holding a's values."""
    return t(np.ascontiguousarray(np.swapaxes(a, 0, -1))).transpose(0, -1)


def close(x, ref, **kw):
    np.testing.assert_allclose(np.asarray(x.detach()), ref, **{"rtol": 1e-12, "atol": 1e-12, **kw})


# ---- the unary ops of the core ----
UNARY = {
    "floor": np.floor,
    "ceil": np.ceil,
    "round": np.round,  # halves to even, as torch
    "trunc": np.trunc,
    "sign": np.sign,
    "reciprocal": lambda a: 1 / a,
    "rsqrt": lambda a: 1 / np.sqrt(a),
    "square": np.square,
}


@pytest.mark.parametrize("op", sorted(UNARY))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unary_forward_matches_numpy(op, dtype):
    a = randn(3, 5, seed=1) * 3
    a[0, :4] = [0.5, -2.5, 1.5, 0.0]  # halves: round goes to even; sign of 0 is 0
    if op == "rsqrt":
        a = np.abs(a) + 0.1
    a = a.astype(dtype)
    x = noncontig(a)
    y = getattr(pc, op)(x)
    assert y.dtype == x.dtype and getattr(x, op)().shape == (3, 5)
    with np.errstate(divide="ignore"):  # 1 / 0 = inf, as in the core
        close(y, UNARY[op](a).astype(dtype), rtol=1e-6)


def test_sign_of_nan_is_zero_and_rounding_functions_keep_integers():
    close(pc.sign(t([np.nan, -0.0, 3.0])), [0.0, 0.0, 1.0])  # torch's sign(nan) is 0
    i = t(np.array([-3, 0, 7]))
    for op in ("floor", "ceil", "round", "trunc"):
        assert getattr(pc, op)(i).dtype == pc.int64 and getattr(i, op)().tolist() == [-3, 0, 7]
    assert pc.sign(i).tolist() == [-1, 0, 1] and i.square().tolist() == [9, 0, 49]
    assert pc.square(t(np.array([3_000_000_001]))).tolist() == [9_000_000_006_000_000_001]  # exact
    assert i.reciprocal().dtype == pc.float32


def test_round_decimals():
    a = np.array([1.2345, -2.675, 1234.5, 0.125])
    close(pc.round(t(a), decimals=2), np.round(a * 100) / 100)
    close(pc.round(t(a), decimals=-2), np.round(a / 100) * 100)


@pytest.mark.parametrize("op", ["reciprocal", "rsqrt", "square"])
def test_unary_gradcheck(op):
    a = np.abs(randn(2, 3, seed=2)) + 0.5
    gradcheck(lambda x: getattr(x, op)(), [a])


@pytest.mark.parametrize("op", ["floor", "ceil", "round", "trunc", "sign"])
def test_rounding_has_zero_gradient(op):
    x = t(randn(2, 3, seed=3) * 4, requires_grad=True)
    getattr(x, op)().sum().backward()
    assert np.all(np.asarray(x.grad) == 0)


# ---- creation ----
def test_linspace_and_eye():
    close(pc.linspace(-1, 2, 7, dtype=pc.float64), np.linspace(-1, 2, 7))
    assert pc.linspace(0, 1, 5).dtype == pc.float32 and pc.linspace(3, 4, 1).tolist() == [3.0]
    assert pc.linspace(0, 1, 0).shape == (0,)
    close(pc.eye(3), np.eye(3))
    close(pc.eye(2, 4, dtype=pc.float64), np.eye(2, 4))
    expect_error(ValueError, "linspace", lambda: pc.linspace(0, 1, -2), "-2")
    expect_error(ValueError, "eye", lambda: pc.eye(-1), "-1")
    out = pc.empty(4, dtype=pc.float64)
    assert pc.linspace(0, 3, 4, out=out) is out and out.tolist() == [0.0, 1.0, 2.0, 3.0]


def test_is_tensor_and_numel():
    assert pc.is_tensor(pc.ones(2)) and not pc.is_tensor(np.ones(2))
    assert pc.numel(pc.ones(2, 0, 3)) == 0 and pc.numel(pc.ones(2, 3)) == 6


# ---- matrix products ----
def test_mm_bmm_addmm_outer_values():
    a, b = randn(4, 3, seed=1), randn(3, 5, seed=2)
    close(pc.mm(noncontig(a), t(b)), a @ b)
    close(noncontig(a).mm(t(b)), a @ b)
    A, B = randn(2, 4, 3, seed=3), randn(2, 3, 5, seed=4)
    close(pc.bmm(t(A), t(B)), A @ B)
    close(t(A).bmm(t(B)), A @ B)
    c = randn(5, seed=5)
    close(pc.addmm(t(c), t(a), t(b), beta=0.5, alpha=2.0), 0.5 * c + 2 * (a @ b))
    close(t(c).addmm(t(a), t(b), alpha=-1.0), c - a @ b)
    nan = np.full((4, 5), np.nan)
    close(pc.addmm(t(nan), t(a), t(b), beta=0), a @ b)  # beta = 0 ignores input
    close(pc.outer(t(c), t(a[:, 0])), np.outer(c, a[:, 0]))


def test_matrix_product_errors():
    expect_error(ValueError, "mm", lambda: pc.mm(pc.ones(2, 3), pc.ones(2, 3)), "(2, 3)")
    expect_error(ValueError, "mm", lambda: pc.mm(pc.ones(3), pc.ones(3, 2)), "(3,)")
    expect_error(ValueError, "bmm", lambda: pc.bmm(pc.ones(2, 2, 3), pc.ones(3, 3, 2)), "(3, 3, 2)")
    expect_error(ValueError, "addmm", lambda: pc.addmm(pc.ones(3), pc.ones(2, 3), pc.ones(3, 2)), "(3,)")
    expect_error(TypeError, "mm", lambda: pc.mm(pc.ones(2, 2), np.ones((2, 2))), "ndarray")


def test_out_arguments():
    a, b = randn(2, 3, seed=1), randn(3, 2, seed=2)
    out = pc.empty(2, 2, dtype=pc.float64)
    assert pc.mm(t(a), t(b), out=out) is out
    close(out, a @ b)
    assert pc.triu(t(a), out=pc.empty(2, 3, dtype=pc.float64)).tolist() == np.triu(a).tolist()
    expect_error(ValueError, "mm", lambda: pc.mm(t(a), t(b), out=pc.empty(3, dtype=pc.float64)), "(3,)")
    with pytest.raises(RuntimeError, match=r"^\[mm\] out= does not support automatic differentiation"):
        pc.mm(t(a, requires_grad=True), t(b), out=out)


def test_matrix_product_gradcheck():
    gradcheck(lambda c, a, b: pc.addmm(c, a, b, beta=0.5, alpha=-2.0), [randn(1, 4), randn(3, 2), randn(2, 4)])
    gradcheck(pc.bmm, [randn(2, 3, 2, seed=1), randn(2, 2, 3, seed=2)])
    gradcheck(pc.outer, [randn(3, seed=1), randn(2, seed=2)])


# ---- einsum ----
EINSUM = [
    ("ij,jk->ik", [(3, 4), (4, 2)]),
    ("ij,jk", [(3, 4), (4, 2)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 2)]),
    ("ii->i", [(3, 3)]),  # diagonals
    ("ii", [(3, 3)]),
    ("iij,jk->ki", [(2, 2, 3), (3, 4)]),
    ("bjij->bi", [(2, 3, 4, 3)]),
    ("iii->i", [(2, 2, 2)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(3,), (2,)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    ("b...,b...->b", [(2, 3, 4), (2, 3, 4)]),
    ("ijk,kj,il->l", [(2, 3, 4), (4, 3), (2, 5)]),
    ("Ab,bc", [(2, 3), (3, 4)]),
    ("i,i,i->i", [(1,), (3,), (3,)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUM)
def test_einsum_matches_numpy_and_gradcheck(eq, shapes):
    arrays = [randn(*s, seed=i) for i, s in enumerate(shapes)]
    ref = np.einsum(eq.replace("b...", "bxy"), *arrays)  # NumPy cannot sum over '...' itself
    close(pc.einsum(eq, *[t(a) for a in arrays]), ref, rtol=1e-10, atol=1e-12)
    close(pc.einsum(eq, [t(a) for a in arrays]), ref, rtol=1e-10, atol=1e-12)
    gradcheck(lambda *xs: pc.einsum(eq, *xs), arrays)


def test_einsum_errors():
    expect_error(ValueError, "einsum", lambda: pc.einsum("ii->i", pc.ones(2, 3)), "'i'", "[2, 3]")
    expect_error(ValueError, "einsum", lambda: pc.einsum("ij,jk", pc.ones(2, 3)), "2 operands")
    expect_error(ValueError, "einsum", lambda: pc.einsum("ij->k", pc.ones(2, 3)), "'k'")
    expect_error(ValueError, "einsum", lambda: pc.einsum("ijk", pc.ones(2, 3)), "3 labels")
    expect_error(ValueError, "einsum", lambda: pc.einsum("ij,jk", pc.ones(2, 3), pc.ones(4, 2)), "'j'")
    expect_error(ValueError, "einsum", lambda: pc.einsum("i1", pc.ones(2, 3)), "'1'")


# ---- shape functions ----
def test_shape_functions():
    a = randn(2, 3, 4, seed=1)
    x = noncontig(a)
    close(pc.reshape(x, (4, 6)), a.reshape(4, 6))
    close(pc.transpose(x, 0, -1), a.transpose(2, 1, 0))
    close(pc.permute(x, (1, 2, 0)), a.transpose(1, 2, 0))
    one = t(randn(1, 3, 1))
    assert pc.squeeze(one).shape == (3,) and pc.squeeze(one, -1).shape == (1, 3)
    assert pc.squeeze(one, (0, 1)).shape == (3, 1) and pc.unsqueeze(x, -1).shape == (2, 3, 4, 1)
    close(pc.softmax(x, -1), np.exp(a) / np.exp(a).sum(-1, keepdims=True))
    close(pc.log_softmax(x, 1, dtype=pc.float32), (a - np.log(np.exp(a).sum(1, keepdims=True))), rtol=1e-5)
    close(x.select(-2, 1), a[:, 1])
    close(x.select(0, -1), a[-1])
    assert [p.shape for p in x.unbind(-1)] == [(2, 3)] * 4
    parts = pc.unbind(x, 1)
    assert len(parts) == 3 and all(p.shape == (2, 4) for p in parts)
    close(parts[2], a[:, 2])
    close(x.unflatten(-1, (2, -1)), a.reshape(2, 3, 2, 2))
    close(x.repeat(2, 1, 1, 3), np.tile(a, (2, 1, 1, 3)))
    assert x.repeat(1, 0, 2).shape == (2, 0, 8)
    expect_error(IndexError, "select", lambda: x.select(1, 3), "3")
    expect_error(ValueError, "unflatten", lambda: x.unflatten(1, (2, 2)), "(2, 2)")
    expect_error(ValueError, "repeat", lambda: x.repeat(2, 2), "2 repeat sizes")


@pytest.mark.parametrize("shifts,dims", [(2, None), (-1, 0), ((1, -2), (-1, 0)), (7, 1), ((1, 1), (1, 1))])
def test_roll_matches_numpy(shifts, dims):
    a = randn(3, 4, seed=2)
    close(pc.roll(noncontig(a), shifts, dims), np.roll(a, shifts, dims))


def test_flip_roll_gradcheck_and_empty():
    a = randn(3, 4, seed=3)
    close(noncontig(a).flip(0, -1), a[::-1, ::-1])
    close(pc.flip(t(a), [1]), a[:, ::-1])
    assert pc.flip(pc.ones(0, 3), (0, 1)).shape == (0, 3) and pc.roll(pc.ones(0, 3), 2, 0).shape == (0, 3)
    gradcheck(lambda x: pc.roll(x, (1, -1), (0, 1)) * pc.flip(x, (0,)), [a])
    gradcheck(lambda x: x.repeat(2, 1, 2).unflatten(0, (1, 2)), [randn(2, 2)])
    expect_error(ValueError, "flip", lambda: pc.flip(t(a), (0, 0)), "repeated")
    expect_error(ValueError, "roll", lambda: pc.roll(t(a), (1, 2), 0), "differ")


def test_broadcast_tensors_and_meshgrid():
    a, b = t(randn(3, 1)), t(randn(4))
    x, y = pc.broadcast_tensors(a, b)
    assert x.shape == y.shape == (3, 4)
    expect_error(ValueError, "broadcast_tensors", lambda: pc.broadcast_tensors(pc.ones(3), pc.ones(4)), "(3,)")
    u, v, w = np.arange(3.0), np.arange(4.0), np.arange(2.0)
    for indexing in ("ij", "xy"):
        got = pc.meshgrid(t(u), t(v), t(w), indexing=indexing)
        for g, ref in zip(got, np.meshgrid(u, v, w, indexing=indexing)):
            close(g, ref)
    assert [g.shape for g in pc.meshgrid([t(u), t(v)])] == [(3, 4), (3, 4)]
    expect_error(ValueError, "meshgrid", lambda: pc.meshgrid(t(u), indexing="yx"), "'yx'")


# ---- triangles and diagonals ----
@pytest.mark.parametrize("k", [-2, 0, 1, 5])
def test_tril_triu_diag(k):
    a = randn(2, 3, 4, seed=4)
    close(pc.tril(noncontig(a), k), np.tril(a, k))
    close(noncontig(a).triu(k), np.triu(a, k))
    m = a[0]
    close(pc.diag(noncontig(m), k), np.diag(m, k))
    v = randn(3, seed=5)
    close(t(v).diag(k), np.diag(v, k))


def test_triangle_diag_gradcheck_and_errors():
    gradcheck(lambda x: pc.tril(x, -1) + pc.triu(x, 1), [randn(3, 4)])
    gradcheck(lambda x: pc.diag(x, 1), [randn(3, 4)])
    gradcheck(lambda v: pc.diag(v, -2), [randn(3)])
    inf = np.array([[1.0, np.inf], [np.inf, 2.0]])
    close(pc.tril(t(inf)), [[1.0, 0.0], [np.inf, 2.0]])  # zeros, never inf * 0
    expect_error(ValueError, "tril", lambda: pc.tril(pc.ones(3)), "(3,)")
    expect_error(ValueError, "diag", lambda: pc.diag(pc.ones(2, 2, 2)), "(2, 2, 2)")


# ---- amax / amin ----
@pytest.mark.parametrize("dim,keepdim", [((), False), (-1, True), ((0, 2), False), ([1, -1], True), (None, False)])
def test_amax_amin_match_numpy(dim, keepdim):
    a = randn(2, 3, 4, seed=6)
    axis = None if dim in ((), None) else dim if isinstance(dim, int) else tuple(dim)
    close(pc.amax(noncontig(a), dim, keepdim), a.max(axis=axis, keepdims=keepdim))
    close(noncontig(a).amin(dim, keepdim), a.min(axis=axis, keepdims=keepdim))


def test_amax_amin_of_integers():
    i = t(np.array([[3, -7, 5], [0, 2, 2]]))
    assert pc.amax(i, 1).tolist() == [5, 2] and i.amin().tolist() == -7 and i.amax().dtype == pc.int64


def test_amax_gradient_is_shared_between_ties():
    x = t(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]), requires_grad=True)
    pc.amax(x, 1).sum().backward()
    close(x.grad, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    gradcheck(lambda x: pc.amin(x, (0, -1), keepdim=True), [distinct(2, 3, 2)])
    expect_error(ValueError, "amax", lambda: pc.amax(pc.ones(2, 0), 1), "size 0")
    expect_error(ValueError, "amax", lambda: pc.amax(pc.ones(2, 3), (1, -1)), "repeated")


# ---- norms and distances ----
NORMS = [("fro", None), (2, -1), (1, (0, 1)), (float("inf"), 0), (-float("inf"), None), (0, 1), (3, -1), (0.5, 0)]


@pytest.mark.parametrize("p,dim", NORMS)
def test_norm_matches_numpy(p, dim):
    a = randn(3, 4, seed=7)
    a[0, 0] = 0.0
    axis = dim if dim is not None else None
    b = np.abs(a)
    if p == "fro" or p == 2:
        ref = np.sqrt((a**2).sum(axis))
    elif math.isinf(p):
        ref = b.max(axis) if p > 0 else b.min(axis)
    elif p == 0:
        ref = (b != 0).sum(axis).astype(float)
    else:
        ref = (b**p).sum(axis) ** (1 / p)
    close(pc.norm(noncontig(a), p, dim), ref)
    y = noncontig(a).norm(p, dim, keepdim=True)
    assert y.ndim == 2


@pytest.mark.parametrize("p", ["fro", 1, 3, float("inf")])
def test_norm_gradcheck(p):
    gradcheck(lambda x: pc.norm(x, p, dim=1), [randn(3, 4, seed=12)])  # no ties of |x|: inf has no kink


def test_norm_gradient_is_zero_at_a_zero_norm():
    x = t(np.zeros((2, 3)), requires_grad=True)
    pc.norm(x, dim=1).sum().backward()
    assert np.all(np.asarray(x.grad) == 0)
    expect_error(ValueError, "norm", lambda: pc.norm(x, "nuc"), "'nuc'")
    expect_error(TypeError, "norm", lambda: pc.norm(pc.ones(2, dtype=pc.int64)), "int64")


def test_dist_and_cdist():
    a, b = randn(2, 3, 4, seed=8), randn(2, 5, 4, seed=9)
    close(pc.dist(t(a[0]), t(b[0, :3]), 3), (np.abs(a[0] - b[0, :3]) ** 3).sum() ** (1 / 3))
    close(t(a[0]).dist(t(b[0, :1])), np.sqrt(((a[0] - b[0, :1]) ** 2).sum()))
    for p in (1.0, 2.0, float("inf")):
        d = np.abs(a[:, :, None, :] - b[:, None, :, :])
        ref = d.max(-1) if math.isinf(p) else (d**p).sum(-1) ** (1 / p)
        close(pc.cdist(t(a), t(b), p), ref, rtol=1e-10)
    gradcheck(lambda x, y: pc.cdist(x, y), [a[0], b[0]])
    assert pc.cdist(pc.ones(0, 4), pc.ones(3, 4)).shape == (0, 3)
    expect_error(ValueError, "cdist", lambda: pc.cdist(pc.ones(2, 3), pc.ones(2, 4)), "(2, 4)")
    expect_error(ValueError, "cdist", lambda: pc.cdist(pc.ones(2, 3), pc.ones(2, 3), p=-1), "-1")


# ---- random draws ----
def test_multinomial_with_replacement_follows_the_weights():
    w = np.array([[1.0, 0.0, 3.0, 4.0], [0.0, 0.0, 5.0, 0.0]])
    s = pc.multinomial(t(w), 20000, replacement=True, generator=pc.Generator(0))
    assert s.dtype == pc.int64 and s.shape == (2, 20000)
    counts = np.stack([np.bincount(r, minlength=4) for r in np.asarray(s)])
    p = w[0] / w[0].sum()
    # each frequency within 5 binomial standard deviations of its probability
    assert np.all(np.abs(counts[0] / 20000 - p) <= 5 * np.sqrt(p * (1 - p) / 20000))
    assert counts[1].tolist() == [0, 0, 20000, 0]


def test_multinomial_without_replacement():
    w = t(np.array([1.0, 2.0, 0.0, 7.0]))
    pc.manual_seed(3)
    first = pc.multinomial(w, 3)
    pc.manual_seed(3)
    assert pc.multinomial(w, 3).tolist() == first.tolist()  # reproducible
    draws = np.asarray(pc.multinomial(t(np.tile([1.0, 2.0, 0.0, 7.0], (20000, 1))), 2, generator=pc.Generator(1)))
    assert np.all(draws[:, 0] != draws[:, 1]) and not np.any(draws == 2)
    # the first draw is proportional to the weights
    freq = np.bincount(draws[:, 0], minlength=4) / 20000
    p = np.array([0.1, 0.2, 0.0, 0.7])
    assert np.all(np.abs(freq - p) <= 5 * np.sqrt(p * (1 - p) / 20000) + 1e-12)
    expect_error(ValueError, "multinomial", lambda: pc.multinomial(w, 4), "4 samples")
    expect_error(ValueError, "multinomial", lambda: pc.multinomial(t([1.0, -1.0]), 1), "non-negative")
    expect_error(ValueError, "multinomial", lambda: pc.multinomial(pc.ones(2, 2, 2), 1), "(2, 2, 2)")


def test_bernoulli_and_normal_statistics():
    p = np.linspace(0.1, 0.9, 5)
    x = pc.bernoulli(t(np.tile(p, (20000, 1))), generator=pc.Generator(2))
    assert x.dtype == pc.float64 and set(np.unique(np.asarray(x))) <= {0.0, 1.0}
    assert np.all(np.abs(np.asarray(x).mean(0) - p) <= 5 * np.sqrt(p * (1 - p) / 20000))
    y = pc.bernoulli(pc.zeros(10000), 0.25, generator=pc.Generator(3))
    assert abs(float(y.mean()) - 0.25) <= 5 * math.sqrt(0.25 * 0.75 / 10000)
    expect_error(ValueError, "bernoulli", lambda: pc.bernoulli(t([0.5, 1.5])), "[0, 1]")
    n = 40000
    z = np.asarray(pc.normal(2.0, 3.0, (n,), generator=pc.Generator(4)))
    # mean within 5 standard errors, std within 5 standard errors of the sample std (sigma / sqrt(2n))
    assert abs(z.mean() - 2.0) <= 5 * 3 / math.sqrt(n) and abs(z.std() - 3.0) <= 5 * 3 / math.sqrt(2 * n)
    mean, std = t(np.array([0.0, 10.0])), t(np.array([1.0, 0.0]))
    w = pc.normal(mean, std)
    assert w.shape == (2,) and float(w[1]) == 10.0
    assert pc.normal(mean, 2.0).shape == (2,) and pc.normal(1.0, t(np.ones((2, 3)))).shape == (2, 3)
    pc.manual_seed(5)
    a = pc.normal(0.0, 1.0, (3,))
    pc.manual_seed(5)
    assert pc.normal(0.0, 1.0, (3,)).tolist() == a.tolist()
    expect_error(ValueError, "normal", lambda: pc.normal(mean, t(np.array([1.0, -1.0]))), "non-negative")


# ---- torch parity ----
def test_torch_parity():
    torch = pytest.importorskip("torch")
    a, b = randn(3, 4, seed=10), randn(4, 2, seed=11)

    def same(x, y, **kw):
        np.testing.assert_allclose(np.asarray(x.detach()), y.detach().numpy(), **{"rtol": 1e-10, "atol": 1e-12, **kw})

    ta, tb = torch.tensor(a), torch.tensor(b)
    same(pc.einsum("ij,jk->ki", t(a), t(b)), torch.einsum("ij,jk->ki", ta, tb))
    same(pc.einsum("...j,jk", t(a), t(b)), torch.einsum("...j,jk", ta, tb))
    for p in ("fro", 1, 3, float("inf"), 0):
        same(pc.norm(t(a), p, 1), torch.norm(ta, p, 1))
    same(pc.cdist(t(a), t(b.T)), torch.cdist(ta, tb.T))
    same(pc.linspace(-3, 5, 9), torch.linspace(-3, 5, 9))
    for k in (-1, 0, 2):
        same(pc.diag(t(a), k), torch.diag(ta, k))
        same(pc.triu(t(a), k), torch.triu(ta, k))
    same(pc.roll(t(a), (1, -3), (0, 1)), torch.roll(ta, (1, -3), (0, 1)))
    same(t(a).repeat(2, 1, 2), ta.repeat(2, 1, 2))
    half = np.array([0.5, 1.5, 2.5, -0.5, -1.5, 2.675])
    same(pc.round(t(half)), torch.round(torch.tensor(half)))
    same(pc.round(t(half), decimals=2), torch.round(torch.tensor(half), decimals=2))
    for op in ("floor", "ceil", "trunc", "sign", "square"):
        same(getattr(pc, op)(t(a)), getattr(torch, op)(ta))
    same(t(np.abs(a)).rsqrt(), ta.abs().rsqrt())
    ties = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    x, tx = t(ties, requires_grad=True), torch.tensor(ties, requires_grad=True)
    (pc.amax(x, 1) * t([1.0, 2.0])).sum().backward()
    (torch.amax(tx, 1) * torch.tensor([1.0, 2.0], dtype=torch.float64)).sum().backward()
    same(x.grad, tx.grad)
    zeros = np.array([[1.0, 0.0, -3.0], [0.0, 0.0, 0.0]])  # a zero element and a zero norm
    for p in (2, 0.5, 3, 1, float("inf")):
        z, tz = t(zeros, requires_grad=True), torch.tensor(zeros, requires_grad=True)
        pc.norm(z, p, 1).sum().backward()
        torch.norm(tz, p, 1).sum().backward()
        same(z.grad, tz.grad)
