"""In-place writes and autograd (issue 11): version counters make a gradient that would use overwritten values
an error at backward; an in-place write to a leaf that requires grad is refused while recording; ``inplace=True``
writes into the input's memory and still differentiates correctly; copy_ refuses a destination whose elements
share memory and reads an overlapping source as a whole first.
"""

import numpy as np
import pytest

import pycnn as pc
import pycnn.nn.functional as F
from pycnn import nn

from helpers import expect_error, gradcheck, host, randn


def leaf(*shape, device="cpu", seed=0):
    return pc.tensor(randn(*shape, seed=seed, away_from_zero=0.1), device=device, requires_grad=True)


def expect_stale(fn, node):
    with pytest.raises(RuntimeError) as info:
        fn()
    msg = str(info.value)
    assert msg.startswith("[backward]") and node in msg and "in-place" in msg and "version" in msg, msg


# ---------------------------------------------------------------- version counters ----

# Each writes in place into t; every one of them must move t's version.
WRITES = {
    "zero_": lambda t: t.zero_(),
    "fill_": lambda t: t.fill_(0.5),
    "copy_": lambda t: t.copy_(t.detach() * 2.0),
    "setitem": lambda t: t.__setitem__(0, 3.0),
    "uniform_": lambda t: t.uniform_(0, 1),
    "normal_": lambda t: t.normal_(0, 1),
    "relu inplace": lambda t: F.relu(t, inplace=True),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_a_saved_output_changed_in_place_is_an_error_at_backward(write, device):
    # the case: exp saves its output, which is then overwritten; x.grad would silently be zeros
    x = leaf(3, device=device)
    y = (x * 1.0).exp()
    z = y.sum()
    with pc.no_grad():  # (also under no_grad: the values are gone either way)
        WRITES[write](y)
    expect_stale(z.backward, "<ExpBackward>")
    assert x.grad is None


@pytest.mark.parametrize("write", list(WRITES))
def test_a_saved_input_changed_in_place_is_an_error_at_backward(write, device):
    x = leaf(2, 3, device=device)
    h = x + 1.0
    w = h * h  # mul saves both operands
    WRITES[write](h)
    expect_stale(w.sum().backward, "<MulBackward>")


def test_views_share_the_version_and_unsaved_tensors_may_change(device):
    x = leaf(2, 3, device=device)
    h = x * 2.0
    y = h.exp()  # saves its output y, not h
    v0 = y._impl._version
    view = y[1]
    assert view._impl._version == v0
    h.zero_()  # h is saved by nobody: changing it is fine
    view.zero_()  # ... but y is, through its view
    assert y._impl._version == v0 + 1
    expect_stale(y.sum().backward, "<ExpBackward>")


def test_the_same_graph_without_a_write_differentiates(device):
    x = leaf(3, device=device)
    y = (x * 1.0).exp()
    y.sum().backward()
    np.testing.assert_allclose(host(x.grad), np.exp(host(x.detach())), rtol=1e-6)


def test_a_write_after_backward_is_fine():
    x = leaf(3)
    y = (x * 1.0).exp()
    y.sum().backward()
    y.zero_()
    assert np.all(host(y) == 0)


def test_an_optimizer_step_between_forward_and_backward_is_an_error():
    # torch raises here too: the weights the loss was computed with are gone after step()
    model = nn.Linear(3, 2).double()
    opt = pc.optim.SGD(model.parameters(), lr=0.1)
    x = pc.tensor(randn(4, 3))
    loss = model(x).pow(2).sum()
    v = model.weight._impl._version
    with pc.no_grad():
        model.weight.grad = model.weight * 0.0 + 1.0
        model.bias.grad = model.bias * 0.0 + 1.0
    opt.step()
    assert model.weight._impl._version == v + 1
    with pytest.raises(RuntimeError, match=r"^\[backward\].*in-place"):
        loss.backward()


def test_batch_norm_running_statistics_move_their_version():
    bn = nn.BatchNorm2d(3)
    v = bn.running_mean._impl._version
    bn(pc.tensor(randn(2, 3, 4, 4, dtype=np.float32)))
    assert bn.running_mean._impl._version == v + 1 and bn.running_var._impl._version > 0
    bn.eval()
    bn(pc.tensor(randn(2, 3, 4, 4, dtype=np.float32)))
    assert bn.running_mean._impl._version == v + 1  # eval mode only reads them


def test_a_training_loop_with_retain_graph_still_works():
    x = leaf(4)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(host(x.grad), 4 * host(x.detach()), rtol=1e-12)


# ---------------------------------------------------------------- leaves ----


@pytest.mark.parametrize("write", list(WRITES))
def test_in_place_on_a_leaf_that_requires_grad_is_refused_while_recording(write, device):
    x = leaf(2, 3, device=device)
    before = host(x.detach()).copy()
    with pytest.raises(RuntimeError, match=r"^\[\w+\] a leaf tensor that requires grad"):
        WRITES[write](x)
    np.testing.assert_array_equal(host(x.detach()), before)
    with pc.no_grad():  # initialisers and optimizers write there
        out = WRITES[write](x)
    assert out is None or out is x
    assert not np.array_equal(host(x.detach()), before)
    assert x.requires_grad and x.is_leaf


# ---------------------------------------------------------------- inplace=True ----

INPLACE = {
    "relu": lambda x, inplace: F.relu(x, inplace=inplace),
    "relu6": lambda x, inplace: F.relu6(x, inplace=inplace),
    "leaky_relu": lambda x, inplace: F.leaky_relu(x, 0.2, inplace),
    "elu": lambda x, inplace: F.elu(x, 0.7, inplace),
    "selu": lambda x, inplace: F.selu(x, inplace=inplace),
    "silu": lambda x, inplace: F.silu(x, inplace=inplace),
    "hardswish": lambda x, inplace: F.hardswish(x, inplace=inplace),
    "hardsigmoid": lambda x, inplace: F.hardsigmoid(x, inplace=inplace),
}
SCALE = {"relu6": 4.0, "hardswish": 4.0, "hardsigmoid": 4.0}  # inputs that reach every piece of the function


def seeded(fn, seed=5):
    pc.manual_seed(seed)
    return fn()


DROPOUTS = {
    "dropout": lambda x, inplace: F.dropout(x, 0.4, True, inplace),
    "dropout2d": lambda x, inplace: F.dropout2d(x, 0.4, True, inplace),
    "alpha_dropout": lambda x, inplace: F.alpha_dropout(x, 0.4, True, inplace),
}


@pytest.mark.parametrize("name", list(INPLACE) + list(DROPOUTS))
def test_inplace_true_writes_into_the_input(name, device):
    fn = {**INPLACE, **DROPOUTS}[name]
    a = randn(2, 3, 4, 5, dtype=np.float32, away_from_zero=0.05) * SCALE.get(name, 1.0)
    x = pc.tensor(a, device=device)
    expected = host(seeded(lambda: fn(x, False)))
    version, ptr = x._impl._version, x.data_ptr()
    out = seeded(lambda: fn(x, True))
    assert out is x and x.data_ptr() == ptr and x._impl._version == version + 1
    np.testing.assert_array_equal(host(out), expected)


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_true_differentiates_like_the_out_of_place_op(name, device):
    fn, scale = INPLACE[name], SCALE.get(name, 1.0)
    gradcheck(lambda x: fn(x * scale, True), [randn(3, 5, seed=1, away_from_zero=0.05)], device=device)
    # the result feeds another op, and the tensor overwritten had another consumer before the write
    x1, x2 = leaf(3, 4, device=device, seed=2), leaf(3, 4, device=device, seed=2)
    h1, h2 = x1 * scale, x2 * scale
    s1, s2 = h1 + 0.0, h2 + 0.0  # add keeps no values: h may change after it
    out1, out2 = fn(h1, True), fn(h2, False)
    assert out1 is h1 and h1.grad_fn is not None
    ((out1 * out1).sum() + s1.sum()).backward()
    ((out2 * out2).sum() + s2.sum()).backward()
    np.testing.assert_allclose(host(x1.grad), host(x2.grad), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", list(DROPOUTS))
def test_inplace_dropout_differentiates_like_the_out_of_place_op(name):
    x1, x2 = leaf(2, 3, 4, 4), leaf(2, 3, 4, 4)
    out1 = seeded(lambda: DROPOUTS[name](x1 * 1.0, True))
    out2 = seeded(lambda: DROPOUTS[name](x2 * 1.0, False))
    (out1 * out1).sum().backward()
    (out2 * out2).sum().backward()
    np.testing.assert_allclose(host(x1.grad), host(x2.grad), rtol=1e-12)


def test_inplace_on_a_leaf_that_requires_grad_is_refused():
    x = leaf(4)
    expect_error(RuntimeError, "relu_", lambda: F.relu(x, inplace=True), "leaf")
    expect_error(RuntimeError, "dropout_", lambda: F.dropout(x, 0.5, True, inplace=True), "leaf")
    with pc.no_grad():
        assert F.relu(x, inplace=True) is x
    assert np.all(host(x.detach()) >= 0)


def test_inplace_after_an_op_that_saved_the_values_is_an_error_at_backward():
    x = leaf(5)
    h = x * 2.0
    w = h * 3.0  # saves h
    F.relu(h, inplace=True)
    expect_stale(w.sum().backward, "<MulBackward>")


def test_inplace_on_a_view_while_recording_is_refused():
    x = leaf(2, 3)
    h = x * 1.0
    expect_error(RuntimeError, "relu_", lambda: F.relu(h[0], inplace=True), "view")
    with pc.no_grad():
        F.relu(h[0], inplace=True)  # nothing is recorded: a plain write
    assert np.all(host(h.detach())[0] >= 0)


def test_modules_with_inplace_write_into_their_input():
    for module in (nn.ReLU(inplace=True), nn.LeakyReLU(0.1, inplace=True), nn.ELU(inplace=True), nn.SiLU(True)):
        x = pc.tensor(randn(2, 3, dtype=np.float32))
        assert module(x) is x, module
    x = pc.tensor(randn(2, 3, dtype=np.float32))
    assert nn.Dropout(0.3, inplace=True)(x) is x
    assert nn.ReLU()(x) is not x


def test_inplace_relu_gradients_match_torch():
    torch = pytest.importorskip("torch")
    a = randn(3, 4, seed=3)
    x = pc.tensor(a, requires_grad=True)
    y = F.relu(x * 2.0, inplace=True)
    (y * y).sum().backward()
    tx = torch.tensor(a, requires_grad=True)
    ty = torch.nn.functional.relu(tx * 2.0, inplace=True)
    (ty * ty).sum().backward()
    np.testing.assert_allclose(host(x.grad), tx.grad.numpy(), rtol=1e-12)


# ---------------------------------------------------------------- copy_ and overlap ----


def test_copy_into_elements_that_share_memory_is_refused(device):
    # the case: four values into one cell
    dst = pc.zeros(1, device=device).expand(4)
    expect_error(ValueError, "copy_", lambda: dst.copy_(pc.arange(4.0, device=device)), "(4,)", "(0,)")
    expect_error(ValueError, "copy_", lambda: pc.zeros(3, 1).expand(3, 2).copy_(pc.ones(3, 2)), "(3, 2)")
    # an empty one has no elements to share: nothing to write (found by the setitem property)
    pc.zeros(1, 2, device=device)[:0].expand(0, 2).copy_(pc.ones(0, 2, device=device))
    pc.zeros(1, device=device).expand(3)[:0].copy_(pc.ones(0, device=device))
    # a strided, non-overlapping destination is fine
    base = pc.zeros(4, 6, device=device)
    base[:, ::2].copy_(pc.ones(4, 3, device=device))
    assert host(base).sum() == 12


def test_copy_from_an_overlapping_source_reads_it_whole_first(device):
    a = np.arange(8.0, dtype=np.float32)
    x = pc.tensor(a, device=device)
    x[1:].copy_(x[:-1])
    expected = a.copy()
    expected[1:] = a[:-1].copy()
    np.testing.assert_array_equal(host(x), expected)
    y = pc.tensor(np.arange(12.0, dtype=np.float32).reshape(3, 4), device=device)
    y.copy_(y.t().reshape(3, 4))
    np.testing.assert_array_equal(host(y), np.arange(12.0).reshape(3, 4).T.reshape(3, 4))


# ---------------------------------------------------------------- in-place tensor methods ----

METHODS = {
    # name: (pycnn call, NumPy reference of the new values)
    "add_": (lambda t, o: t.add_(o), lambda a, b: a + b),
    "add_ alpha": (lambda t, o: t.add_(o, alpha=-2.5), lambda a, b: a - 2.5 * b),
    "sub_": (lambda t, o: t.sub_(o), lambda a, b: a - b),
    "sub_ alpha": (lambda t, o: t.sub_(o, alpha=0.5), lambda a, b: a - 0.5 * b),
    "mul_": (lambda t, o: t.mul_(o), lambda a, b: a * b),
    "div_": (lambda t, o: t.div_(o), lambda a, b: a / b),
    "clamp_": (lambda t, o: t.clamp_(-0.3, 0.4), lambda a, b: np.clip(a, -0.3, 0.4)),
    "relu_": (lambda t, o: t.relu_(), lambda a, b: np.maximum(a, 0)),
}


@pytest.mark.parametrize("name", list(METHODS))
def test_in_place_methods_write_the_values_and_differentiate(name, device):
    call, ref = METHODS[name]
    a, b = randn(3, 4, seed=7, away_from_zero=0.1), randn(4, seed=8, away_from_zero=0.5)
    t = pc.tensor(a, device=device)
    ptr, version = t.data_ptr(), t._impl._version
    assert call(t, pc.tensor(b, device=device)) is t
    assert t.data_ptr() == ptr and t._impl._version == version + 1
    np.testing.assert_allclose(host(t), ref(a, b), rtol=1e-12)
    # gradients through the in-place form on a non-leaf
    if name in ("clamp_", "relu_"):
        gradcheck(lambda x: call(x * 1.0, None), [a], device=device)
    else:
        gradcheck(lambda x, y: call(x * 1.0, y), [a, b], device=device)


def test_in_place_methods_refuse_a_leaf_and_may_pull_a_tensor_into_the_graph():
    x = leaf(3)
    expect_error(RuntimeError, "add_", lambda: x.add_(1.0), "leaf")
    expect_error(RuntimeError, "mul_", lambda: x.mul_(2.0), "leaf")
    buf = pc.zeros(3, dtype=pc.float64)
    buf.add_(x, alpha=2.0)  # torch: buf now depends on x
    assert buf.requires_grad and buf.grad_fn is not None
    buf.sum().backward()
    np.testing.assert_allclose(host(x.grad), [2.0] * 3)


def test_detach_in_place_cuts_the_graph():
    x = leaf(3)
    h = x * 2.0
    assert h.detach_() is h and h.grad_fn is None and not h.requires_grad and h.is_leaf


def test_like_and_new_methods():
    x = pc.tensor(randn(2, 6, dtype=np.float32))
    assert x.view_as(pc.zeros(3, 4)).shape == (3, 4)
    assert x.reshape_as(pc.zeros(12)).shape == (12,)
    assert pc.ones(1, 6).expand_as(x).shape == (2, 6)
    assert pc.ones(2, dtype=pc.int64).type_as(x).dtype == pc.float32
    assert x.new_zeros(2, 3).dtype == pc.float32 and host(x.new_zeros((2, 3))).sum() == 0
    assert host(x.new_ones(4)).sum() == 4 and x.new_empty(5).shape == (5,)
    assert host(x.new_full((2,), 7)).tolist() == [7.0, 7.0] and x.new_full((2,), 7).dtype == pc.float32
    assert x.new_tensor([1, 2]).dtype == pc.float32 and x.new_tensor([1, 2], dtype=pc.int64).dtype == pc.int64
    assert x.element_size() == 4 and x.nbytes == 48 and x[1].storage_offset() == 6
    assert pc.zeros(3, dtype=pc.float64).element_size() == 8
    pred, target = pc.tensor([[1], [0], [2]]), pc.tensor([1, 2, 2])
    assert host(pred.eq(target.view_as(pred))).ravel().tolist() == [1, 0, 1]
