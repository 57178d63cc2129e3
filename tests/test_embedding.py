"""F.embedding, nn.Embedding and F.one_hot (csrc/ops/indexing.cpp, pycnn/nn/sparse.py): the lookup and its
gradient against NumPy (padding_idx, scale_grad_by_freq, non-contiguous tables, any index shape), max_norm's
in-place renormalisation, float64 gradcheck, determinism, the module's init and from_pretrained, torch parity
and bad input.
"""

import numpy as np
import pytest

import pycnn as pc
import pycnn.nn.functional as F

from helpers import check_torch, expect_error, gradcheck, randn


def arr(t):
    return np.asarray(t.detach())


def rand_index(shape, size, seed=0):
    return np.random.default_rng(seed).integers(0, size, size=shape).astype(np.int64)


def ref_grad(dout, idx, V, padding_idx=None, scale=False):
    D = dout.shape[-1]
    flat, rows = idx.reshape(-1), dout.reshape(-1, D)
    g = np.zeros((V, D))
    np.add.at(g, flat, rows)
    if scale:
        counts = np.bincount(flat, minlength=V)
        g /= np.maximum(counts, 1)[:, None]
    if padding_idx is not None:
        g[padding_idx] = 0
    return g


@pytest.mark.parametrize("ishape", [(7,), (2, 3, 4), (), (0,), (3, 0)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_embedding_matches_numpy(ishape, dtype):
    w, idx = randn(10, 5, dtype=dtype), rand_index(ishape, 10, seed=1)
    wt = pc.tensor(w, requires_grad=True)
    out = F.embedding(pc.tensor(idx), wt)
    assert out.shape == ishape + (5,) and out.dtype.numpy == dtype
    np.testing.assert_array_equal(arr(out), w[idx])
    dout = randn(*ishape, 5, seed=2)
    out.backward(pc.tensor(dout, dtype=pc.float32 if dtype == np.float32 else pc.float64))
    np.testing.assert_allclose(arr(wt.grad), ref_grad(dout, idx, 10), rtol=1e-5, atol=1e-6)


def test_int32_indices_are_accepted():
    w, idx = randn(6, 3), rand_index((2, 4), 6, seed=11)
    out = F.embedding(pc.tensor(idx).to(pc.int32), pc.tensor(w))
    np.testing.assert_array_equal(arr(out), w[idx])


def test_noncontiguous_table_and_indices():
    w = randn(6, 9)  # the table is the (9, 6) transposed view
    idx = rand_index((5, 4), 9, seed=3)
    out = F.embedding(pc.tensor(idx).transpose(0, 1), pc.tensor(w).transpose(0, 1))
    np.testing.assert_array_equal(arr(out), w.T[idx.T])


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
@pytest.mark.parametrize("scale", [False, True])
def test_gradient_padding_and_frequency(padding_idx, scale):
    idx = np.array([[2, 0, 2, 7], [7, 7, 1, 2]])
    w = pc.tensor(randn(8, 3), requires_grad=True)
    out = F.embedding(pc.tensor(idx), w, padding_idx=padding_idx, scale_grad_by_freq=scale)
    dout = randn(2, 4, 3, seed=4)
    out.backward(pc.tensor(dout))
    pad = None if padding_idx is None else padding_idx % 8
    np.testing.assert_allclose(arr(w.grad), ref_grad(dout, idx, 8, pad, scale), rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(arr(out), arr(w)[idx])  # padding_idx only affects the gradient


def test_gradcheck():
    idx = np.array([[1, 3, 1], [0, 4, 4]])
    gradcheck(lambda w, i: F.embedding(i, w), [randn(5, 3), idx])
    # (padding_idx and scale_grad_by_freq change the gradient on purpose: checked against NumPy above)


def test_backward_is_deterministic():
    idx = rand_index((50_000,), 7, seed=5)  # many repeats of few rows
    dout = pc.tensor(randn(50_000, 16, dtype=np.float32, seed=6))
    grads = [np.asarray(pc._C.embedding_backward(dout._impl, pc.tensor(idx)._impl, 7, -1, False)) for _ in range(3)]
    assert all(np.array_equal(grads[0], g) for g in grads[1:])
    d = arr(dout)
    expect = np.stack(
        [np.cumsum(np.where((idx == v)[:, None], d, np.float32(0)), 0, dtype=np.float32)[-1] for v in range(7)]
    )
    np.testing.assert_array_equal(grads[0], expect)  # each row summed in index order


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf"), 3.0])
def test_max_norm_renormalises_looked_up_rows_in_place(norm_type):
    w = randn(6, 4) * 3
    idx = np.array([[0, 2, 2], [5, 0, 1]])
    wt = pc.tensor(w)
    out = F.embedding(pc.tensor(idx), wt, max_norm=1.5, norm_type=norm_type)
    expect = w.copy()
    for r in np.unique(idx):
        norm = np.linalg.norm(w[r], ord=norm_type)
        if norm > 1.5:
            expect[r] = w[r] * (1.5 / (norm + 1e-7))
    np.testing.assert_allclose(arr(wt), expect, rtol=1e-12)  # rows 3, 4 (not looked up) untouched
    np.testing.assert_allclose(arr(out), expect[idx], rtol=1e-12)


def test_max_norm_with_a_table_that_requires_grad():
    emb = pc.nn.Embedding(6, 4, max_norm=1.0)
    out = emb(pc.tensor([[1, 2], [2, 5]]))
    out.sum().backward()
    norms = np.linalg.norm(arr(emb.weight)[[1, 2, 5]], axis=1)
    assert np.all(norms <= 1.0 + 1e-6)
    np.testing.assert_allclose(arr(emb.weight.grad)[[0, 1, 2, 5]], [[0] * 4, [1] * 4, [2] * 4, [1] * 4])


def test_embedding_module_init_and_repr():
    pc.manual_seed(0)
    emb = pc.nn.Embedding(300, 40, padding_idx=-3)
    w = arr(emb.weight)
    assert emb.padding_idx == 297 and w.shape == (300, 40) and emb.weight.requires_grad
    assert np.all(w[297] == 0) and np.all(w[:297] != 0)
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02  # N(0, 1)
    assert repr(emb) == "Embedding(300, 40, padding_idx=297)"
    emb = pc.nn.Embedding(5, 2, max_norm=2.0, norm_type=1.0, scale_grad_by_freq=True, dtype=pc.float64)
    assert emb.weight.dtype == pc.float64
    assert repr(emb) == "Embedding(5, 2, max_norm=2.0, norm_type=1.0, scale_grad_by_freq=True)"
    assert [name for name, _ in emb.named_parameters()] == ["weight"]


def test_from_pretrained_shares_and_freezes():
    table = pc.tensor(randn(4, 3))
    emb = pc.nn.Embedding.from_pretrained(table)
    assert not emb.weight.requires_grad and emb.padding_idx is None
    np.testing.assert_array_equal(arr(emb(pc.tensor([3, 0]))), arr(table)[[3, 0]])
    with pc.no_grad():
        table.mul_(2.0)  # shared, as in torch
    np.testing.assert_array_equal(arr(emb.weight), arr(table))
    emb = pc.nn.Embedding.from_pretrained(table, freeze=False, padding_idx=1)
    assert emb.weight.requires_grad and np.all(arr(emb.weight)[1] != 0)  # the table is used as given
    emb(pc.tensor([1, 2, 1])).sum().backward()
    np.testing.assert_array_equal(arr(emb.weight.grad), [[0] * 3, [0] * 3, [1] * 3, [0] * 3])


def test_module_matches_torch():
    torch = pytest.importorskip("torch")
    pc.manual_seed(1)
    emb = pc.nn.Embedding(9, 5, padding_idx=0, scale_grad_by_freq=True, dtype=pc.float64)
    temb = torch.nn.Embedding(9, 5, padding_idx=0, scale_grad_by_freq=True, dtype=torch.float64)
    with torch.no_grad():
        temb.weight.copy_(torch.tensor(arr(emb.weight)))
    idx = rand_index((3, 6), 9, seed=7)
    out, tout = emb(pc.tensor(idx)), temb(torch.tensor(idx))
    np.testing.assert_array_equal(arr(out), tout.detach().numpy())
    g = randn(3, 6, 5, seed=8)
    out.backward(pc.tensor(g))
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(arr(emb.weight.grad), temb.weight.grad.numpy(), rtol=1e-12, atol=1e-15)
    check_torch(
        lambda w, i: F.embedding(i, w, max_norm=1.2),
        lambda w, i: torch.nn.functional.embedding(i, w, max_norm=1.2),
        [randn(7, 4) * 2, rand_index((2, 5), 7, seed=9)],
        check_grad=False,
    )
    check_torch(
        lambda i: F.one_hot(i, 6),
        lambda i: torch.nn.functional.one_hot(i, 6),
        [rand_index((2, 3), 6)],
        check_grad=False,
    )


@pytest.mark.parametrize("ishape", [(5,), (2, 3), (), (0,)])
def test_one_hot_matches_numpy(ishape):
    idx = rand_index(ishape, 4, seed=10)
    out = F.one_hot(pc.tensor(idx), 6)
    assert out.dtype == pc.int64 and out.shape == ishape + (6,)
    np.testing.assert_array_equal(arr(out), np.eye(6, dtype=np.int64)[idx])
    if idx.size:
        inferred = F.one_hot(pc.tensor(idx))
        np.testing.assert_array_equal(arr(inferred), np.eye(idx.max() + 1, dtype=np.int64)[idx])
    strided = pc.tensor(np.array([[0, 3], [2, 1]])).transpose(0, 1)
    np.testing.assert_array_equal(arr(F.one_hot(strided, 4)), np.eye(4, dtype=np.int64)[[[0, 2], [3, 1]]])


def test_bad_input():
    w = pc.randn(5, 3)
    expect_error(IndexError, "embedding", lambda: F.embedding(pc.tensor([1, 5]), w), "5", "num_embeddings 5")
    expect_error(IndexError, "embedding", lambda: F.embedding(pc.tensor([-1]), w), "-1")
    expect_error(TypeError, "embedding", lambda: F.embedding(pc.tensor([1.0]), w), "float32")
    expect_error(TypeError, "embedding", lambda: F.embedding(pc.tensor([True]), w), "bool")
    expect_error(TypeError, "embedding", lambda: F.embedding([1], w), "input")
    expect_error(ValueError, "embedding", lambda: F.embedding(pc.tensor([1]), pc.randn(5)), "(5,)")
    expect_error(ValueError, "embedding", lambda: F.embedding(pc.tensor([1]), w, padding_idx=5), "padding_idx", "5")
    with pytest.raises(NotImplementedError, match=r"^\[embedding\] sparse=True"):
        F.embedding(pc.tensor([1]), w, sparse=True)
    with pytest.raises(NotImplementedError, match=r"^\[Embedding\] sparse=True"):
        pc.nn.Embedding(5, 3, sparse=True)
    expect_error(ValueError, "Embedding", lambda: pc.nn.Embedding(5, 3, padding_idx=-6), "padding_idx", "-6")
    expect_error(ValueError, "Embedding", lambda: pc.nn.Embedding(-1, 3), "num_embeddings")
    expect_error(TypeError, "Embedding", lambda: pc.nn.Embedding(5, 2.5), "embedding_dim")
    expect_error(ValueError, "Embedding", lambda: pc.nn.Embedding(5, 3, _weight=pc.randn(4, 3)), "(4, 3)")
    expect_error(ValueError, "Embedding.from_pretrained", lambda: pc.nn.Embedding.from_pretrained(pc.randn(3)), "(3,)")
    expect_error(ValueError, "one_hot", lambda: F.one_hot(pc.tensor([0, -2]), 3), "-2")
    expect_error(ValueError, "one_hot", lambda: F.one_hot(pc.tensor([0, 3]), 3), "3", "num_classes 3")
    expect_error(ValueError, "one_hot", lambda: F.one_hot(pc.tensor(np.zeros(0, np.int64))), "empty")
    expect_error(TypeError, "one_hot", lambda: F.one_hot(pc.tensor([0.0]), 3), "int64")
    expect_error(TypeError, "one_hot", lambda: F.one_hot(pc.tensor([0]), 3.0), "num_classes")
