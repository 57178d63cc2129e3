"""Behaviour tests for census names pycnn had before issue 14 but no test exercised in the form torch users
write (tests/test_census.py found them): pc.max/var/index_select/relu, the dtype aliases and the default
dtype, Tensor.lt/le/gt/matmul, nn.Identity. NumPy references; torch parity when installed."""

import numpy as np
import pytest

import pycnn as pc
from pycnn import nn


def _x(seed=0):
    # (3, 5, 4), non-contiguous (a transposed view), values far from ties
    rng = np.random.default_rng(seed)
    return (rng.permutation(60).reshape(3, 4, 5) * 0.37 - 10.0).transpose(0, 2, 1)


@pytest.mark.parametrize("dim", [0, -1, 1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_function_forms(dim, keepdim):
    x = _x()
    t = pc.tensor(x).transpose(1, 2).transpose(1, 2)  # a strided view as input
    assert pc.max(t).item() == x.max()
    values, indices = pc.max(t, dim, keepdim=keepdim)
    np.testing.assert_array_equal(np.asarray(values), x.max(axis=dim, keepdims=keepdim))
    np.testing.assert_array_equal(np.asarray(indices), np.expand_dims(x.argmax(dim), dim) if keepdim else x.argmax(dim))
    assert pc.max(t, dim=dim).values.shape == x.max(axis=dim).shape


def test_max_of_two_tensors():
    # torch.max(input, other) is torch.maximum, broadcasting
    x = _x()
    np.testing.assert_array_equal(np.asarray(pc.max(pc.tensor(x), pc.tensor(-x[:1]))), np.maximum(x, -x[:1]))


def test_max_gradient_goes_to_the_winner():
    x = _x()
    t = pc.tensor(x, requires_grad=True)
    pc.max(t, 1).values.sum().backward()
    expected = np.zeros_like(x)
    np.put_along_axis(expected, x.argmax(1)[:, None, :], 1.0, axis=1)
    np.testing.assert_array_equal(np.asarray(t.grad), expected)


@pytest.mark.parametrize("dim", [None, 0, -1, (0, 2)])
@pytest.mark.parametrize("correction", [0, 1])
def test_var_function_form(dim, correction):
    x = _x(1)
    y = pc.var(pc.tensor(x), dim, correction=correction)
    axis = tuple(dim) if isinstance(dim, tuple) else dim
    np.testing.assert_allclose(np.asarray(y), np.var(x, axis=axis, ddof=correction), rtol=1e-12)
    y = pc.var(pc.tensor(x), dim=-1, keepdim=True)
    np.testing.assert_allclose(np.asarray(y), np.var(x, axis=-1, ddof=1, keepdims=True), rtol=1e-12)


def test_index_select_function_form():
    x = _x(2)
    index = np.array([4, 0, 0, 2])
    t = pc.tensor(x, requires_grad=True)
    y = pc.index_select(t, -2, pc.tensor(index))
    np.testing.assert_array_equal(np.asarray(y.detach()), x[:, index, :])
    y.sum().backward()
    counts = np.bincount(index, minlength=5).astype(np.float64)
    np.testing.assert_array_equal(np.asarray(t.grad), np.broadcast_to(counts[None, :, None], x.shape))


def test_relu_function_form():
    x = _x(3)
    t = pc.tensor(x, requires_grad=True)
    y = pc.relu(t)
    np.testing.assert_array_equal(np.asarray(y.detach()), np.maximum(x, 0))
    y.sum().backward()
    np.testing.assert_array_equal(np.asarray(t.grad), (x > 0).astype(np.float64))


def test_dtype_aliases_and_the_default_dtype():
    assert pc.float is pc.float32 and pc.double is pc.float64 and pc.long is pc.int64
    assert pc.zeros(2, dtype=pc.double).dtype == pc.float64
    assert pc.tensor([1, 2]).to(pc.float).dtype == pc.float32
    assert pc.tensor([1.5]).to(pc.long).tolist() == [1]
    assert pc.get_default_dtype() == pc.float32
    try:
        pc.set_default_dtype(pc.float64)
        assert pc.get_default_dtype() == pc.float64
        assert pc.randn(2).dtype == pc.float64 and pc.zeros(2).dtype == pc.float64
    finally:
        pc.set_default_dtype(pc.float32)
    assert pc.randn(2).dtype == pc.float32


def test_tensor_of_python_floats_follows_the_default_dtype():
    # torch.tensor([0.5]) is float64 under set_default_dtype(torch.float64); NumPy arrays keep their dtype
    try:
        pc.set_default_dtype(pc.float64)
        assert pc.tensor([0.5]).dtype == pc.float64 and pc.tensor(0.5).dtype == pc.float64
        assert pc.tensor(np.zeros(2, np.float32)).dtype == pc.float32
    finally:
        pc.set_default_dtype(pc.float32)
    assert pc.tensor([0.5]).dtype == pc.float32


@pytest.mark.parametrize("op, ref", [("lt", np.less), ("le", np.less_equal), ("gt", np.greater)])
def test_ordering_comparison_methods(op, ref):
    x = np.round(_x(4))  # rounding makes ties
    y = np.round(_x(5)[:1])  # broadcast over the first dim
    t = pc.tensor(x)
    got = getattr(t, op)(pc.tensor(y))
    np.testing.assert_array_equal(np.asarray(got).astype(bool), ref(x, y))
    np.testing.assert_array_equal(np.asarray(getattr(t, op)(0.0)).astype(bool), ref(x, 0.0))
    assert np.asarray(t.lt(pc.tensor(y))).astype(bool).tolist() == np.less(x, y).tolist()
    assert np.asarray(t.le(0.0)).astype(bool).sum() + np.asarray(t.gt(0.0)).astype(bool).sum() == x.size


@pytest.mark.parametrize("shapes", [((5,), (5,)), ((3, 5), (5,)), ((2, 1, 3, 5), (4, 5, 2))])
def test_matmul_method(shapes):
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    ta, tb = pc.tensor(a, requires_grad=True), pc.tensor(b, requires_grad=True)
    y = ta.matmul(tb)
    np.testing.assert_allclose(np.asarray(y.detach()), np.matmul(a, b), rtol=1e-12)
    y.sum().backward()
    # d(sum(a @ b))/da = ones @ b^T, summed over broadcast dims: checked against the function form
    ga, gb = pc.tensor(a, requires_grad=True), pc.tensor(b, requires_grad=True)
    pc.matmul(ga, gb).sum().backward()
    np.testing.assert_allclose(np.asarray(ta.grad), np.asarray(ga.grad), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(tb.grad), np.asarray(gb.grad), rtol=1e-12)


def test_identity_module():
    t = pc.tensor(_x())
    m = nn.Identity(54, unused_argument=0.1)  # torch's Identity takes and ignores any arguments
    assert m(t) is t and list(m.parameters()) == []


def test_function_forms_match_torch():
    torch = pytest.importorskip("torch")
    x = _x(6)
    tx = torch.from_numpy(x.copy())
    np.testing.assert_array_equal(np.asarray(pc.max(pc.tensor(x), 1).indices), torch.max(tx, 1).indices.numpy())
    np.testing.assert_allclose(np.asarray(pc.var(pc.tensor(x), 0)), torch.var(tx, 0).numpy(), rtol=1e-12)
    index = torch.tensor([3, 1])
    np.testing.assert_array_equal(
        np.asarray(pc.index_select(pc.tensor(x), 2, pc.tensor([3, 1]))), torch.index_select(tx, 2, index).numpy()
    )
    np.testing.assert_array_equal(
        np.asarray(pc.tensor(x).gt(0.5)).astype(bool), tx.gt(0.5).numpy()
    )  # torch returns bool
    assert torch.get_default_dtype() == torch.float32 and pc.get_default_dtype() == pc.float32
