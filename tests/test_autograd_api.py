"""pc.autograd.grad, pc.autograd.gradcheck, Tensor.register_hook and retain_grad, against NumPy derivatives
and torch when installed."""

import numpy as np
import pytest

import pycnn as pc
import pycnn.nn.functional as F

from helpers import host, randn


def leaf(*shape, seed=0, device="cpu"):
    return pc.tensor(randn(*shape, seed=seed, away_from_zero=0.1), device=device, requires_grad=True)


def test_grad_returns_gradients_without_touching_dot_grad(device):
    x, w = leaf(3, 4, device=device), leaf(4, 2, seed=1, device=device)
    h = (x @ w).tanh()
    y = (h * h).sum()
    gx, gw, gh = pc.autograd.grad(y, [x, w, h])
    assert x.grad is None and w.grad is None
    hv = np.tanh(host(x.detach()) @ host(w.detach()))
    dpre = 2 * hv * (1 - hv**2)
    np.testing.assert_allclose(host(gh), 2 * hv, rtol=1e-12)
    np.testing.assert_allclose(host(gx), dpre @ host(w.detach()).T, rtol=1e-12)
    np.testing.assert_allclose(host(gw), host(x.detach()).T @ dpre, rtol=1e-12)


def test_grad_with_grad_outputs_and_several_outputs():
    x = leaf(5)
    a, b = x * 2.0, x.exp()
    ga, gb = randn(5, seed=3), randn(5, seed=4)
    (gx,) = pc.autograd.grad([a, b], x, [pc.tensor(ga), pc.tensor(gb)])
    np.testing.assert_allclose(host(gx), 2 * ga + np.exp(host(x.detach())) * gb, rtol=1e-12)


def test_grad_unused_inputs_and_errors():
    x, z = leaf(3), leaf(3, seed=2)
    y = (x * 3.0).sum()
    with pytest.raises(RuntimeError, match=r"^\[grad\] input 1 is not used"):
        pc.autograd.grad(y, [x, z], retain_graph=True)
    gx, gz = pc.autograd.grad(y, [x, z], allow_unused=True)
    assert gz is None and np.all(host(gx) == 3.0)
    with pytest.raises(RuntimeError, match=r"^\[grad\] input 0 is not a tensor that requires grad"):
        pc.autograd.grad((x * 2.0).sum(), [pc.ones(3)])
    with pytest.raises(NotImplementedError, match=r"^\[grad\] create_graph"):
        pc.autograd.grad((x * 2.0).sum(), [x], create_graph=True)
    with pytest.raises(RuntimeError, match=r"^\[grad\] grad can be implicitly created only for scalar"):
        pc.autograd.grad(x * 2.0, [x])


def test_grad_matches_torch():
    torch = pytest.importorskip("torch")
    a = randn(2, 3, 5, 5, seed=5)
    w = randn(4, 3, 3, 3, seed=6)
    x, tx = pc.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y = F.conv2d(x, pc.tensor(w), padding=1).relu().sum()
    ty = torch.nn.functional.conv2d(tx, torch.tensor(w), padding=1).relu().sum()
    np.testing.assert_allclose(host(pc.autograd.grad(y, x)[0]), torch.autograd.grad(ty, tx)[0].numpy(), rtol=1e-10)


def test_gradcheck_passes_on_correct_ops_and_catches_a_wrong_one():
    x = leaf(2, 3)
    w = leaf(3, 2, seed=1)
    assert pc.autograd.gradcheck(lambda a, b: (a @ b).sigmoid(), (x, w))
    assert pc.autograd.gradcheck(lambda a: F.log_softmax(a, 1), x)

    class WrongSquare(pc.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return pc._C.binary("mul", a, a)

        @staticmethod
        def backward(ctx, dout):
            return pc._C.binary("mul", dout, ctx.saved[0])  # misses the factor 2

    with pytest.raises(pc.autograd.GradcheckError, match=r"^\[gradcheck\] Jacobian mismatch for input 0"):
        pc.autograd.gradcheck(WrongSquare.apply, (x,))
    assert pc.autograd.gradcheck(WrongSquare.apply, (x,), raise_exception=False) is False
    np.testing.assert_array_equal(host(x.detach()), randn(2, 3, seed=0, away_from_zero=0.1))  # restored
    with pytest.raises(ValueError, match=r"^\[gradcheck\] input 0 is float32"):
        pc.autograd.gradcheck(lambda a: a * 2.0, (pc.randn(3, requires_grad=True),))


def test_hooks_see_and_replace_gradients(device):
    x = leaf(4, device=device)
    h = x * 2.0
    seen = []
    handle = h.register_hook(lambda g: seen.append(host(g)))
    x.register_hook(lambda g: g * 10.0)  # a leaf's hook changes what lands in .grad
    (h * h).sum().backward()
    np.testing.assert_allclose(seen[0], 2 * host(h.detach()), rtol=1e-12)
    np.testing.assert_allclose(host(x.grad), 10 * 4 * host(h.detach()), rtol=1e-12)
    handle.remove()
    (x * 2.0).sum().backward()
    assert len(seen) == 1
    with pytest.raises(RuntimeError, match=r"^\[register_hook\]"):
        pc.ones(2).register_hook(lambda g: g)


def test_a_hook_returning_the_wrong_shape_is_an_error():
    x = leaf(3)
    y = x * 1.0
    y.register_hook(lambda g: pc.ones(4, dtype=pc.float64))
    with pytest.raises(RuntimeError, match=r"^\[register_hook\] a hook returned a gradient of shape \(4,\)"):
        y.sum().backward()


def test_retain_grad_keeps_a_non_leaf_gradient():
    x = leaf(3)
    h = x.exp()
    h.retain_grad()
    k = x * 1.0  # not retained
    (h * 3.0 + k).sum().backward(retain_graph=True)
    np.testing.assert_allclose(host(h.grad), [3.0] * 3)
    assert k.grad is None
    x.retain_grad()  # a no-op on a leaf
    np.testing.assert_allclose(host(x.grad), 3 * np.exp(host(x.detach())) + 1, rtol=1e-12)


# ---- what DistributedDataParallel builds on: post-accumulate-grad hooks and queue_callback ----
def test_post_accumulate_hook_runs_once_with_the_whole_gradient(device):
    w, b = leaf(3, device=device), leaf(3, seed=1, device=device)
    w.grad = pc.ones(3, dtype=pc.float64, device=device)  # earlier accumulation stays in
    seen = []
    handle = w.register_post_accumulate_grad_hook(lambda t: seen.append(("w", host(t.grad))))
    b.register_post_accumulate_grad_hook(lambda t: seen.append(("b", host(t.grad))))
    # w reaches the loss through three paths, so three gradients are summed into w.grad before its hook
    y = (w * 2.0 + w * w + b).sum() + (w * 3.0).sum()
    y.backward()
    wv = host(w.detach())
    assert [name for name, _ in seen] == ["b", "w"]
    np.testing.assert_allclose(seen[1][1], 1 + 2 + 2 * wv + 3, rtol=1e-12)
    np.testing.assert_allclose(seen[0][1], np.ones(3), rtol=1e-12)
    handle.remove()
    (w * 1.0).sum().backward()
    assert len(seen) == 2


def test_post_accumulate_hook_skips_grad_and_unreached_leaves():
    x, unused = leaf(2), leaf(2, seed=2)
    calls = []
    x.register_post_accumulate_grad_hook(lambda t: calls.append("x"))
    unused.register_post_accumulate_grad_hook(lambda t: calls.append("unused"))
    pc.autograd.grad((x * x).sum(), [x])  # autograd.grad accumulates nothing: no hook (as torch)
    assert calls == []
    (x * x).sum().backward()
    assert calls == ["x"]
    x.sum().backward()  # a leaf that is itself the root
    assert calls == ["x", "x"]


def test_post_accumulate_hook_refuses_non_leaves_and_non_callables():
    x = leaf(2)
    with pytest.raises(RuntimeError, match=r"^\[register_post_accumulate_grad_hook\] only a leaf"):
        (x * 2.0).register_post_accumulate_grad_hook(print)
    with pytest.raises(RuntimeError, match=r"^\[register_post_accumulate_grad_hook\]"):
        pc.ones(2).register_post_accumulate_grad_hook(print)
    with pytest.raises(TypeError, match=r"^\[register_post_accumulate_grad_hook\] expected a callable"):
        x.register_post_accumulate_grad_hook(3)


def test_queued_callbacks_run_after_backward_in_order():
    x = leaf(3)
    order = []

    def hook(t):
        order.append("hook")
        pc.autograd.queue_callback(lambda: order.append(("first", t.grad is not None)))
        pc.autograd.queue_callback(lambda: pc.autograd.queue_callback(lambda: order.append("queued by a callback")))

    x.register_post_accumulate_grad_hook(hook)
    (x * x).sum().backward()
    assert order == ["hook", ("first", True), "queued by a callback"]
    with pytest.raises(RuntimeError, match=r"^\[queue_callback\] can only be called during a backward"):
        pc.autograd.queue_callback(print)
