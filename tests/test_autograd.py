"""The autograd engine (pycnn/autograd.py): chain rule, accumulation, shared subexpressions, grad modes,
detach, graph freeing, non-scalar outputs, deep graphs and broadcasting reductions.
"""

import threading

import numpy as np
import pytest

import pycnn as pc
import pycnn.nn.functional as F

from helpers import gradcheck, host, randn


def leaf(a, requires_grad=True, device="cpu"):
    return pc.tensor(np.asarray(a, dtype=np.float64), device=device, requires_grad=requires_grad)


def grad(t):
    """t's gradient on the host, whatever its device."""
    return host(t.grad)


def test_chain_rule_small_graph(device):
    """y = sum(relu(x @ w + b) * c) / 2, checked by hand and by finite differences."""
    x, w, b, c = randn(3, 4, seed=1), randn(4, 2, seed=2), randn(2, seed=3), randn(3, 2, seed=4)
    tx, tw, tb, tc = leaf(x, device=device), leaf(w, device=device), leaf(b, device=device), leaf(c, device=device)
    y = ((tx @ tw + tb).relu() * tc).sum() / 2.0
    y.backward()
    h = x @ w + b
    mask = (h > 0).astype(np.float64)
    dh = mask * c / 2
    np.testing.assert_allclose(y.item(), (np.maximum(h, 0) * c).sum() / 2, rtol=1e-12)
    np.testing.assert_allclose(grad(tx), dh @ w.T, rtol=1e-12)
    np.testing.assert_allclose(grad(tw), x.T @ dh, rtol=1e-12)
    np.testing.assert_allclose(grad(tb), dh.sum(0), rtol=1e-12)
    np.testing.assert_allclose(grad(tc), np.maximum(h, 0) / 2, rtol=1e-12)
    gradcheck(lambda x, w, b, c: ((x @ w + b).relu() * c).sum() / 2.0, [x, w, b, c], device=device)


def test_gradient_accumulates_across_backward_calls(device):
    x = leaf([1.0, 2.0, 3.0], device=device)
    (x * 2.0).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(grad(x), 2.0 + 2 * np.array([1.0, 2.0, 3.0]))
    x.grad = None
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(grad(x), [3.0, 3.0, 3.0])


def test_leaf_grad_is_not_aliased(device):
    """A gradient that passes straight through (y = x + 0) must not alias the caller's tensor or another
    leaf's grad: later accumulation would write into it."""
    a, b = leaf([1.0, 2.0], device=device), leaf([3.0, 4.0], device=device)
    g = pc.tensor(np.array([1.0, 1.0]), device=device)
    (a + b).backward(g)
    (a + b).backward(g)
    np.testing.assert_array_equal(grad(a), [2.0, 2.0])
    np.testing.assert_array_equal(grad(b), [2.0, 2.0])
    np.testing.assert_array_equal(host(g), [1.0, 1.0])
    x = leaf([5.0], device=device)
    x.backward(pc.tensor(np.array([1.0]), device=device))
    assert grad(x).tolist() == [1.0]


def test_shared_subexpression(device):
    """x used twice and an intermediate used twice: the gradients from both paths add up."""
    x = leaf([0.5, -1.5, 2.0], device=device)
    y = x * x + x  # dy/dx = 2x + 1
    z = (y * y).sum()  # dz/dx = 2y (2x + 1)
    z.backward()
    xv = np.array([0.5, -1.5, 2.0])
    np.testing.assert_allclose(grad(x), 2 * (xv * xv + xv) * (2 * xv + 1), rtol=1e-12)
    gradcheck(lambda x: (x * x + x) * (x * x + x), [xv], device=device)


def test_diamond_graph_visits_each_node_once(device):
    x = leaf(randn(3, seed=1), device=device)
    h = x * 2.0
    a, b = h + 1.0, h * 3.0
    (a * b).sum().backward()
    xv = randn(3, seed=1)
    np.testing.assert_allclose(grad(x), 2 * (3 * 2 * xv + 2 * 3 * xv + 3), rtol=1e-12)  # d/dx (2x+1)(6x)


def test_no_grad():
    x = leaf([1.0, 2.0])
    with pc.no_grad():
        y = x * 2.0
        assert not pc.is_grad_enabled()
    assert pc.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None

    @pc.no_grad()
    def f(t):
        return t * 3.0

    assert not f(x).requires_grad
    with pc.no_grad(), pc.enable_grad():
        assert (x * 2.0).requires_grad
    pc.set_grad_enabled(False)
    try:
        assert not (x + 1.0).requires_grad
    finally:
        pc.set_grad_enabled(True)
    with pytest.raises(RuntimeError, match=r"^\[backward\]"):
        y.sum().backward()


def test_no_grad_is_per_thread():
    seen = []
    with pc.no_grad():
        t = threading.Thread(target=lambda: seen.append(pc.is_grad_enabled()))
        t.start()
        t.join()
    assert seen == [True]


def test_detach():
    x = leaf([1.0, 2.0])
    y = x * 2.0
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and d.data_ptr() == y.data_ptr()
    z = (d * x).sum()  # d is a constant
    z.backward()
    np.testing.assert_allclose(grad(x), [2.0, 4.0])


def test_requires_grad_():
    x = pc.tensor(np.array([1.0, 2.0]))
    assert not x.requires_grad
    assert x.requires_grad_() is x and x.requires_grad
    (x * 2.0).sum().backward()
    np.testing.assert_allclose(grad(x), [2.0, 2.0])
    x.requires_grad_(False)
    assert not (x * 2.0).requires_grad
    with pytest.raises(TypeError, match=r"^\[requires_grad_\]"):
        pc.tensor([1, 2]).requires_grad_()
    y = leaf([1.0]) * 2.0
    with pytest.raises(RuntimeError, match=r"^\[requires_grad_\]"):
        y.requires_grad_(False)


def test_only_inputs_that_require_grad_get_one(device):
    a, b = leaf([1.0, 2.0], device=device), leaf([3.0, 4.0], requires_grad=False, device=device)
    (a * b).sum().backward()
    assert b.grad is None
    np.testing.assert_allclose(grad(a), [3.0, 4.0])


def test_backward_twice_raises_without_retain_graph():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(grad(x), [4.0, 8.0])
    with pytest.raises(RuntimeError, match=r"^\[backward\].*second time"):
        y.backward()
    # a new graph built on top of a freed one
    h = x * x
    h.sum().backward()
    with pytest.raises(RuntimeError, match=r"^\[backward\].*second time"):
        (h * 2.0).sum().backward()
    # every op, not only mul: the freed graph must not be silently reused
    z = F.log_softmax(x.unsqueeze(0), 1).sum()
    z.backward()
    with pytest.raises(RuntimeError, match=r"^\[backward\].*second time"):
        z.backward()


def test_non_scalar_backward_needs_gradient():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2.0
    with pytest.raises(RuntimeError, match=r"^\[backward\].*\(3,\)"):
        y.backward()
    with pytest.raises(ValueError, match=r"^\[backward\].*\(2,\).*\(3,\)"):
        y.backward(pc.tensor(np.array([1.0, 1.0])))
    y.backward(pc.tensor(np.array([1.0, 0.5, -1.0])))
    np.testing.assert_allclose(grad(x), [2.0, 1.0, -2.0])
    z = x * 3.0
    z.backward(np.array([1.0, 1.0, 1.0]))  # an array is accepted as the gradient
    np.testing.assert_allclose(grad(x), [5.0, 4.0, 1.0])


def test_backward_of_one_element_nonscalar():
    x = leaf([[2.0]])
    (x * x).backward()
    assert grad(x).tolist() == [[4.0]]


def test_backward_on_leaf_and_non_grad_tensor():
    x = leaf([1.0, 2.0])
    x.backward(pc.tensor(np.array([3.0, 4.0])))
    assert grad(x).tolist() == [3.0, 4.0]
    with pytest.raises(RuntimeError, match=r"^\[backward\]"):
        pc.tensor([1.0]).backward()


def test_deep_graph_has_no_recursion_limit():
    """5000 chained ops: the topological walk is iterative and nothing recurses per node."""
    x = leaf([1.0, -2.0])
    y = x
    for _ in range(5000):
        y = y * 1.0001 + 0.0
    y.sum().backward()
    np.testing.assert_allclose(grad(x), [1.0001**5000] * 2, rtol=1e-10)


def test_deep_graph_freed_without_recursion():
    """Dropping a 20000-node graph must not overflow the stack in the destructors either."""
    x = leaf([1.0])
    y = x
    for _ in range(20000):
        y = y + 1.0
    del y


@pytest.mark.parametrize(
    "shape_a, shape_b",
    [((3, 4), (4,)), ((2, 3, 4), (3, 1)), ((3, 1), (1, 4)), ((2, 3), ()), ((1, 1), (2, 3)), ((5, 1, 3), (1, 4, 1))],
)
def test_broadcast_gradients_reduced_to_input_shape(shape_a, shape_b, device):
    a, b = randn(*shape_a, seed=1), randn(*shape_b, seed=2, away_from_zero=0.5)
    ta, tb = leaf(a, device=device), leaf(b, device=device)
    out = ta * tb + ta / tb - tb
    out.backward(pc.ones_like(out.detach()))
    assert ta.grad.shape == shape_a and tb.grad.shape == shape_b
    full = np.broadcast_shapes(shape_a, shape_b)
    da = np.broadcast_to(b + 1 / b, full)
    db = np.broadcast_to(a - a / b**2, full) - 1
    sum_to = lambda g, s: (
        g.sum(axis=tuple(range(g.ndim - len(s))))
        .sum(axis=tuple(i for i, d in enumerate(s) if d == 1), keepdims=True)
        .reshape(s)
    )
    np.testing.assert_allclose(grad(ta), sum_to(da, shape_a), rtol=1e-12)
    np.testing.assert_allclose(grad(tb), sum_to(db, shape_b), rtol=1e-12)


def test_grad_dtype_and_shape_match_the_leaf():
    for dtype in (pc.float32, pc.float64):
        x = pc.randn(2, 3, dtype=dtype, requires_grad=True)
        (x * 2.0).mean().backward()
        assert x.grad.dtype == dtype and x.grad.shape == (2, 3) and not x.grad.requires_grad


def test_intermediate_tensors_have_no_grad_and_are_not_leaves():
    x = leaf([1.0])
    y = x * 2.0
    assert x.is_leaf and not y.is_leaf and y.grad_fn is not None and "Backward" in repr(y.grad_fn)
    y.sum().backward()
    assert y.grad is None


def test_custom_function(device):
    class Cube(pc.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return pc._C.binary("mul", pc._C.binary("mul", x, x), x)

        @staticmethod
        def backward(ctx, dout):
            (x,) = ctx.saved_tensors
            return pc._C.binary(
                "mul", dout, pc._C.binary("mul", pc._C.binary("mul", x, x), pc._C.full([], 3.0, x.dtype, x.device))
            )

    gradcheck(Cube.apply, [randn(4, seed=3)], device=device)


def test_inplace_on_leaf_requiring_grad_raises():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"^\[fill_\]"):
        x.fill_(0.0)
    with pc.no_grad():
        x.fill_(0.0)
    assert x.tolist() == [0.0, 0.0]
