"""pycnn.Tensor: factories, dtypes, NumPy interop (shared memory both ways), views, non-contiguous inputs
into every op, conversions, repr and seeding.
"""

import numpy as np
import pytest

import pycnn as pc
import pycnn.nn.functional as F

from helpers import distinct, gradcheck, host, randn

# ---------------------------------------------------------------- factories and dtypes ----


@pytest.mark.parametrize("factory, value", [(pc.zeros, 0.0), (pc.ones, 1.0)])
def test_zeros_ones(factory, value):
    for args in [(2, 3), ((2, 3),), ([2, 3],)]:
        t = factory(*args)
        assert t.shape == (2, 3) and t.dtype == pc.float32 and str(t.device) == "cpu"
        np.testing.assert_array_equal(np.asarray(t), np.full((2, 3), value, dtype=np.float32))
    assert factory(4, dtype=pc.float64).dtype == pc.float64
    assert factory(3, dtype=pc.int64).tolist() == [int(value)] * 3
    assert factory(()).shape == () and factory(0, 5).shape == (0, 5)


def test_full_empty_like():
    t = pc.full((2, 2), 7.5)
    assert t.dtype == pc.float32 and t.tolist() == [[7.5, 7.5], [7.5, 7.5]]
    assert pc.full((3,), 4).dtype == pc.int64  # an int fill value gives int64, as in torch
    assert pc.empty(3, 4, dtype=pc.float64).shape == (3, 4)
    x = pc.randn(2, 5, dtype=pc.float64)
    assert pc.zeros_like(x).dtype == pc.float64 and pc.zeros_like(x).shape == (2, 5)
    assert pc.ones_like(x).tolist() == [[1.0] * 5] * 2
    z = pc.zeros(3, requires_grad=True)
    assert z.requires_grad and z.is_leaf


def test_negative_size_raises():
    for factory in (pc.zeros, pc.ones, pc.empty, pc.randn):
        with pytest.raises(ValueError, match=r"^\[\w+\].*negative"):
            factory(2, -1)


def test_arange_rand_randint_randperm():
    np.testing.assert_array_equal(np.asarray(pc.arange(5)), np.arange(5))
    assert pc.arange(5).dtype == pc.int64 and pc.arange(0.0, 1.0, 0.25).dtype == pc.float32
    np.testing.assert_allclose(np.asarray(pc.arange(1, 2, 0.25)), [1.0, 1.25, 1.5, 1.75])
    r = np.asarray(pc.rand(1000))
    assert r.dtype == np.float32 and r.min() >= 0 and r.max() < 1 and 0.4 < r.mean() < 0.6
    n = np.asarray(pc.randn(10000, dtype=pc.float64))
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1) < 0.05
    i = pc.randint(3, 7, (100,))
    assert i.dtype == pc.int64 and set(i.tolist()) <= {3, 4, 5, 6}
    assert sorted(pc.randperm(10).tolist()) == list(range(10))


def test_tensor_dtype_inference():
    assert pc.tensor([1.0, 2.0]).dtype == pc.float32  # Python floats: float32, as in torch
    assert pc.tensor([1, 2]).dtype == pc.int64
    assert pc.tensor([True, False]).dtype == pc.bool
    assert pc.tensor(np.zeros(3)).dtype == pc.float64  # arrays keep their dtype
    assert pc.tensor(np.zeros(3, dtype=np.float32)).dtype == pc.float32
    assert pc.tensor(np.zeros(3, dtype=np.float16)).dtype == pc.float16
    assert pc.tensor(np.zeros(3, dtype=np.int32)).dtype == pc.int32
    assert pc.tensor([1, 2], dtype=pc.float64).dtype == pc.float64
    assert pc.tensor([1.5], dtype="float64").dtype == pc.float64
    with pytest.raises(TypeError):
        pc.tensor(["a", "b"])
    with pytest.raises(TypeError):
        pc.tensor([1, 2], dtype=np.complex64)
    with pytest.raises(TypeError):
        pc.tensor([1, 2], requires_grad=True)  # integers carry no gradient


def test_scalars_are_0d():
    """A Python or NumPy scalar, or a 0-d array, makes a 0-d tensor (np.ascontiguousarray would make it 1-d)."""
    for value in (3.0, 3, np.float64(3.0), np.float32(3.0), np.array(3.0), np.array(3)):
        t = pc.tensor(value)
        assert t.shape == () and t.ndim == 0 and t.numel() == 1, (value, t.shape)
        assert t.item() == 3
    t = pc.zeros(())
    t.copy_(np.array(5.0))
    assert t.item() == 5.0
    assert pc.from_numpy(np.array(2.0)).shape == ()


def test_tensor_copies_its_data():
    a = np.arange(6.0).reshape(2, 3)
    t = pc.tensor(a)
    a[0, 0] = 100
    assert t.tolist()[0][0] == 0.0
    t2 = pc.tensor(t)
    assert t2.data_ptr() != t.data_ptr() and t2.tolist() == t.tolist()


def test_tensor_from_fortran_and_strided_arrays():
    a = np.asfortranarray(randn(3, 4, seed=1))
    np.testing.assert_array_equal(np.asarray(pc.tensor(a)), a)
    b = randn(6, 8, seed=2)[::2, 1::3]
    np.testing.assert_array_equal(np.asarray(pc.tensor(b)), b)


# ---------------------------------------------------------------- NumPy interop ----


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_from_numpy_shares_memory_both_ways(dtype):
    a = np.arange(12, dtype=dtype).reshape(3, 4)
    t = pc.from_numpy(a)
    assert t.dtype.numpy == a.dtype and t.shape == (3, 4)
    a[1, 2] = 42  # NumPy writes are seen by the tensor
    assert t.tolist()[1][2] == 42
    with pc.no_grad():
        t.fill_(7)  # tensor writes are seen by the array
    assert np.all(a == 7)
    assert np.shares_memory(np.asarray(t), a)


def test_from_numpy_strided_view_shares_memory():
    a = np.arange(24.0).reshape(4, 6)
    v = a[1:, ::2]
    t = pc.from_numpy(v)
    assert not t.is_contiguous() and t.shape == (3, 3)
    np.testing.assert_array_equal(np.asarray(t), v)
    a[2, 2] = -1
    assert np.asarray(t)[1, 1] == -1


def test_from_numpy_rejects():
    with pytest.raises(TypeError, match=r"^\[from_numpy\]"):
        pc.from_numpy([1.0, 2.0])
    with pytest.raises(TypeError, match=r"^\[from_numpy\]"):
        pc.from_numpy(np.zeros(3, dtype=np.int16))
    with pytest.raises(ValueError, match=r"^\[from_numpy\]"):
        pc.from_numpy(np.arange(5.0)[::-1])


def test_from_numpy_keeps_array_alive():
    t = pc.from_numpy(np.arange(1000.0))
    import gc

    gc.collect()
    assert t.sum().item() == sum(range(1000))


def test_asarray_is_zero_copy():
    t = pc.randn(3, 4)
    a = np.asarray(t)
    b = t.numpy()
    assert a.ctypes.data == t.data_ptr() == b.ctypes.data
    a[0, 0] = 123.0
    assert t.tolist()[0][0] == 123.0
    # a strided view comes out strided, still sharing memory
    tt = t.transpose(0, 1)
    at = np.asarray(tt)
    assert at.shape == (4, 3) and np.shares_memory(at, a)
    np.testing.assert_array_equal(at, a.T)


def test_numpy_of_requires_grad_raises():
    t = pc.randn(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"^\[numpy\]"):
        t.numpy()
    assert t.detach().numpy().shape == (2,)


def test_item_tolist():
    assert pc.tensor([[2.5]]).item() == 2.5
    assert isinstance(pc.tensor([3]).item(), int) and pc.tensor([3]).item() == 3
    assert pc.tensor(np.array([[1, 2], [3, 4]])).tolist() == [[1, 2], [3, 4]]
    assert pc.tensor(1.5).tolist() == 1.5
    assert float(pc.tensor([0.5])) == 0.5 and int(pc.tensor([7])) == 7
    with pytest.raises(ValueError, match=r"^\[item\].*\(2,\)"):
        pc.zeros(2).item()


# ---------------------------------------------------------------- conversions ----


def test_to_dtype(device):
    a = np.array([[-1.7, 0.2], [2.9, 3.5]])
    t = pc.tensor(a, dtype=pc.float32, device=device)
    d = t.to(pc.float64)
    assert d.dtype == pc.float64 and d.device == t.device
    np.testing.assert_array_equal(host(d), a.astype(np.float32).astype(np.float64))
    assert t.double().dtype == pc.float64 and d.float().dtype == pc.float32
    assert t.to("float64").dtype == pc.float64 and t.to(np.float64).dtype == pc.float64
    assert t.to(dtype=pc.float64).dtype == pc.float64
    assert host(t.long()).tolist() == [[-1, 0], [2, 3]]  # truncation toward zero, as in torch
    assert host(pc.tensor([1, 2], device=device).to(pc.float32)).tolist() == [1.0, 2.0]
    assert t.to(pc.float32) is t
    assert t.to(d).dtype == pc.float64
    if device == "cpu":
        assert t.to("cpu") is t and t.cpu() is t


def test_to_dtype_is_differentiable(device):
    # a linear function of x: large steps are exact, and float32's rounding stays below the tolerance
    gradcheck(
        lambda x: x.to(pc.float32).to(pc.float64) * 3.0,
        [np.array([0.5, -1.25, 2.0])],
        eps=1e-2,
        atol=1e-4,
        rtol=1e-4,
        device=device,
    )
    x = pc.tensor([1.0, 2.0], dtype=pc.float64, requires_grad=True)
    y = x.float()
    y.sum().backward()
    assert x.grad.dtype == pc.float64 and x.grad.tolist() == [1.0, 1.0]


def test_clone_contiguous_detach(device):
    x = pc.randn(3, 4).to(device).requires_grad_()
    c = x.clone()
    assert c.data_ptr() != x.data_ptr() and c.grad_fn is not None
    d = x.detach()
    assert d.data_ptr() == x.data_ptr() and not d.requires_grad
    assert x.contiguous() is x
    xt = x.detach().transpose(0, 1)
    xc = xt.contiguous()
    assert xc.is_contiguous() and xc.data_ptr() != xt.data_ptr()
    np.testing.assert_array_equal(host(xc), host(xt))


def test_repr_does_not_crash():
    cases = [
        pc.randn(2, 3),
        pc.tensor(1.5),
        pc.tensor([1, 2]),
        pc.zeros(0, 3),
        pc.randn(2, dtype=pc.float64),
        pc.randn(2, requires_grad=True),
        pc.randn(2, requires_grad=True) * 2,
        pc.randn(40, 40),
        pc.randn(4, 5).transpose(0, 1),
        pc.randn(1, 3).expand(4, 3),
    ]
    for t in cases:
        s = repr(t)
        assert s.startswith("tensor(")
    assert "requires_grad=True" in repr(cases[5]) and "grad_fn" in repr(cases[6])
    assert "float64" in repr(cases[4])
    str(pc.float32), repr(pc.device("cpu")), str(pc.randn(2))


def test_properties():
    t = pc.zeros(2, 3, 4)
    assert t.ndim == 3 and t.dim() == 3 and t.numel() == 24 and len(t) == 2
    assert t.size() == (2, 3, 4) and t.size(1) == 3 and t.size(-1) == 4
    assert t.stride() == (12, 4, 1) and t.is_contiguous() and not t.is_cuda
    assert t.device == pc.device("cpu") and t.device == "cpu"
    with pytest.raises(TypeError):
        len(pc.tensor(1.0))


# ---------------------------------------------------------------- seeding ----


def test_manual_seed_reproducibility():
    pc.manual_seed(123)
    a, b, c = pc.randn(5), pc.rand(5), pc.randint(0, 100, (5,))
    w = pc.empty(3, 3).uniform_(-1, 1)
    pc.manual_seed(123)
    assert pc.randn(5).tolist() == a.tolist() and pc.rand(5).tolist() == b.tolist()
    assert pc.randint(0, 100, (5,)).tolist() == c.tolist()
    assert pc.empty(3, 3).uniform_(-1, 1).tolist() == w.tolist()
    pc.manual_seed(124)
    assert pc.randn(5).tolist() != a.tolist()
    g1, g2 = pc.Generator(7), pc.Generator().manual_seed(7)
    assert pc.randn(4, generator=g1).tolist() == pc.randn(4, generator=g2).tolist()
    assert pc.initial_seed() == 124


def test_manual_seed_reproduces_layer_init():
    pc.manual_seed(0)
    w1 = [p.detach().numpy().copy() for p in pc.nn.Conv2d(3, 4, 3).parameters()]
    pc.manual_seed(0)
    w2 = [p.detach().numpy().copy() for p in pc.nn.Conv2d(3, 4, 3).parameters()]
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- views ----


def test_view_and_reshape():
    a = np.arange(24.0).reshape(2, 3, 4)
    t = pc.from_numpy(a)
    v = t.view(6, 4)
    assert v.shape == (6, 4) and v.data_ptr() == t.data_ptr()
    np.testing.assert_array_equal(np.asarray(v), a.reshape(6, 4))
    assert t.view(-1).shape == (24,) and t.view(4, -1).shape == (4, 6) and t.view((3, 8)).shape == (3, 8)
    assert t.reshape(2, 12).data_ptr() == t.data_ptr()  # contiguous: reshape is a view
    tt = t.transpose(0, 2)
    with pytest.raises(ValueError, match=r"^\[view\]"):
        tt.view(24)
    r = tt.reshape(24)  # not contiguous: reshape copies
    np.testing.assert_array_equal(np.asarray(r), a.transpose(2, 1, 0).reshape(24))
    with pytest.raises(ValueError, match=r"^\[view\].*\(5, 5\)"):
        t.view(5, 5)
    with pytest.raises(ValueError):
        t.view(-1, -1)


def test_transpose_permute_T():
    a = np.arange(24.0).reshape(2, 3, 4)
    t = pc.from_numpy(a)
    np.testing.assert_array_equal(np.asarray(t.transpose(0, 2)), a.transpose(2, 1, 0))
    np.testing.assert_array_equal(np.asarray(t.transpose(-1, -2)), a.swapaxes(-1, -2))
    np.testing.assert_array_equal(np.asarray(t.permute(1, 2, 0)), a.transpose(1, 2, 0))
    np.testing.assert_array_equal(np.asarray(t.permute([2, 0, 1])), a.transpose(2, 0, 1))
    np.testing.assert_array_equal(np.asarray(t.T), a.T)
    m = pc.from_numpy(a[0].copy())
    np.testing.assert_array_equal(np.asarray(m.t()), a[0].T)
    assert t.permute(1, 2, 0).data_ptr() == t.data_ptr()
    with pytest.raises(ValueError, match=r"^\[permute\]"):
        t.permute(0, 0, 1)
    with pytest.raises(ValueError, match=r"^\[permute\]"):
        t.permute(0, 1)


def test_expand():
    a = np.array([[1.0], [2.0], [3.0]])
    t = pc.from_numpy(a)
    e = t.expand(2, 3, 4)
    assert e.shape == (2, 3, 4) and e.data_ptr() == t.data_ptr()
    np.testing.assert_array_equal(np.asarray(e), np.broadcast_to(a, (2, 3, 4)))
    assert t.expand(-1, 5).shape == (3, 5)
    with pytest.raises(ValueError, match=r"^\[expand\]"):
        t.expand(4, 4)


def test_flatten_unsqueeze_squeeze():
    a = np.arange(24.0).reshape(2, 3, 1, 4)
    t = pc.from_numpy(a)
    assert t.flatten().shape == (24,)
    assert t.flatten(1).shape == (2, 12) and pc.flatten(t, 1).shape == (2, 12) and F.flatten(t, 1).shape == (2, 12)
    assert t.flatten(1, 2).shape == (2, 3, 4) and t.flatten(-2, -1).shape == (2, 3, 4)
    np.testing.assert_array_equal(np.asarray(t.flatten(1)), a.reshape(2, 12))
    assert t.unsqueeze(0).shape == (1, 2, 3, 1, 4) and t.unsqueeze(-1).shape == (2, 3, 1, 4, 1)
    assert t.unsqueeze(2).shape == (2, 3, 1, 1, 4)
    assert t.squeeze().shape == (2, 3, 4) and t.squeeze(2).shape == (2, 3, 4) and t.squeeze(0).shape == (2, 3, 1, 4)
    assert t.squeeze(-2).shape == (2, 3, 4)
    assert pc.tensor(2.0).flatten().shape == (1,)
    with pytest.raises(ValueError, match=r"^\[flatten\]"):
        t.flatten(2, 1)


def test_view_gradients(device):
    x = randn(2, 3, 4, seed=1)
    gradcheck(lambda t: t.view(6, 4) * 2.0, [x], device=device)
    gradcheck(lambda t: t.transpose(0, 2).reshape(4, 6), [x], device=device)
    gradcheck(lambda t: t.permute(2, 0, 1).flatten(1).unsqueeze(0).squeeze(0), [x], device=device)
    gradcheck(lambda t: t.T * 1.5, [x], device=device)
    gradcheck(lambda t: t.unsqueeze(1).expand(2, 5, 3, 4), [x], device=device)
    gradcheck(lambda t: t.expand(3, 2, 3, 4) * t, [x], device=device)


# ---------------------------------------------------------------- non-contiguous inputs into every op ----


def _reversed_view(t):
    return t.permute(*reversed(range(t.ndim)))


def _noncontig(arr, device="cpu"):
    """A non-contiguous tensor with arr's values: a column-major copy of arr viewed with reversed axes."""
    t = _reversed_view(pc.tensor(np.ascontiguousarray(arr.T), device=device))
    assert not t.is_contiguous() and t.shape == arr.shape
    return t


def _expanded(arr, device="cpu"):
    """arr (with a leading dim of 1 removed from the storage) as a stride-0 broadcast view."""
    t = pc.tensor(arr[:1], device=device).expand(*arr.shape)
    assert t.stride(0) == 0
    return t


# name -> (fn on pycnn tensors, input arrays); every input goes in non-contiguous
NONCONTIG_OPS = {
    "linear": (lambda x, w, b: F.linear(x, w, b), [randn(5, 7, seed=1), randn(3, 7, seed=2), randn(1, 3, seed=3)[0]]),
    "matmul": (lambda a, b: a @ b, [randn(4, 6, seed=1), randn(6, 5, seed=2)]),
    "conv2d": (
        lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
        [randn(2, 3, 7, 8, seed=1), randn(4, 3, 3, 3, seed=2), randn(1, 4, seed=3)[0]],
    ),
    "conv2d_pointwise": (lambda x, w: F.conv2d(x, w), [randn(2, 3, 5, 6, seed=1), randn(4, 3, 1, 1, seed=2)]),
    "conv2d_depthwise": (
        lambda x, w: F.conv2d(x, w, padding=1, groups=3),
        [randn(2, 3, 5, 6, seed=1), randn(3, 1, 3, 3, seed=2)],
    ),
    "max_pool2d": (lambda x: F.max_pool2d(x, 2), [distinct(2, 3, 6, 8, seed=1)]),
    "avg_pool2d": (lambda x: F.avg_pool2d(x, 3, 2, 1), [randn(2, 3, 7, 6, seed=1)]),
    "relu": (F.relu, [randn(3, 4, 5, seed=1, away_from_zero=0.01)]),
    "add": (lambda a, b: a + b, [randn(3, 4, seed=1), randn(3, 4, seed=2)]),
    "sub": (lambda a, b: a - b, [randn(3, 4, seed=1), randn(3, 4, seed=2)]),
    "mul": (lambda a, b: a * b, [randn(3, 4, seed=1), randn(3, 4, seed=2)]),
    "div": (lambda a, b: a / b, [randn(3, 4, seed=1), randn(3, 4, seed=2, away_from_zero=0.5)]),
    "sum": (lambda x: x.sum(1), [randn(3, 4, 5, seed=1)]),
    "sum_all": (lambda x: x.sum(), [randn(3, 4, 5, seed=1)]),
    "mean": (lambda x: x.mean((0, 2), keepdim=True), [randn(3, 4, 5, seed=1)]),
    "log_softmax": (lambda x: F.log_softmax(x, 1), [randn(3, 4, 5, seed=1)]),
    "softmax": (lambda x: F.softmax(x, -1), [randn(3, 4, 5, seed=1)]),
    "cross_entropy": (lambda x: F.cross_entropy(x, pc.tensor([0, 2, 1, 2], device=x.device)), [randn(4, 3, seed=1)]),
    "nll_loss": (
        lambda x: F.nll_loss(x, pc.tensor([0, 2, 1, 2], device=x.device), reduction="sum"),
        [randn(4, 3, seed=1)],
    ),
}


@pytest.mark.parametrize("make", [_noncontig, _expanded], ids=["transposed", "expanded"])
@pytest.mark.parametrize("name", list(NONCONTIG_OPS))
def test_noncontiguous_inputs(name, make, device):
    fn, arrays = NONCONTIG_OPS[name]
    if make is _expanded:
        arrays = [np.broadcast_to(a[:1], a.shape).copy() if a.ndim >= 2 else a for a in arrays]
    contiguous = [pc.tensor(a, device=device) for a in arrays]
    strided = [make(a, device) if a.ndim >= 2 else pc.tensor(a, device=device) for a in arrays]
    expected = host(fn(*contiguous))
    got = host(fn(*strided))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    # and the gradients flow back through the strided views
    if make is _noncontig:
        gradcheck(
            lambda *ts: fn(*[_reversed_view(_reversed_view(t).contiguous()) if t.ndim >= 2 else t for t in ts]),
            arrays,
            device=device,
        )


def test_noncontiguous_target(device):
    """Class indices that come from a strided int64 array work like contiguous ones."""
    data = np.array([0, 9, 2, 9, 1, 9, 1, 9], dtype=np.int64)
    # on the CPU a strided NumPy view shared as is; on another device a strided slice of a device tensor
    strided = pc.from_numpy(data[::2]) if device == "cpu" else pc.tensor(data, device=device)[::2]
    assert not strided.is_contiguous()
    x = pc.tensor(randn(4, 3, seed=5), device=device)
    for op in (F.cross_entropy, F.nll_loss):
        np.testing.assert_array_equal(
            host(op(x, strided, reduction="none")),
            host(op(x, pc.tensor([0, 2, 1, 1], device=device), reduction="none")),
        )
