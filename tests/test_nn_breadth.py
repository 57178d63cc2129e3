"""nn breadth (issue 14): the containers ModuleDict / ParameterList / ParameterDict, and the layers and
functionals built as composites of existing ops (Bilinear, the 1-D pools, Mish, Hardtanh, Unflatten, the 2-D
padding layers, ChannelShuffle, normalize, cosine_similarity, pairwise_distance, CosineEmbeddingLoss,
TripletMarginLoss). Each: a plain NumPy reference on awkward shapes (non-contiguous inputs, negative dims,
size-1 dims), a float64 gradcheck, parity with torch when it is installed, and bad arguments.
"""

import math
from collections import OrderedDict

import numpy as np
import pytest

import pycnn as pc
import pycnn.nn.functional as F
from pycnn import nn

from helpers import check_torch, distinct, expect_error, gradcheck, module_parity, randn


def strided(a):
    """a as a non-contiguous pycnn tensor (every last-dim stride doubled) with a's values."""
    base = pc.tensor(np.stack([a, np.full_like(a, np.nan)], axis=-1))
    view = base[..., 0]
    assert not view.is_contiguous()
    return view


def tol(dtype):
    return {"atol": 1e-5, "rtol": 1e-4} if dtype == np.float32 else {"atol": 1e-10, "rtol": 1e-9}


# ================================================================================ containers ==============
def test_module_dict_registers_in_order_like_torch():
    d = nn.ModuleDict({"b": nn.Linear(2, 3), "a": nn.Linear(3, 1)})
    d["c"] = nn.ReLU()
    d.update([("a", nn.Linear(3, 4)), ("z", nn.Linear(4, 1))])  # "a" keeps its place
    assert list(d.keys()) == ["b", "a", "c", "z"]
    assert list(d.state_dict()) == ["b.weight", "b.bias", "a.weight", "a.bias", "z.weight", "z.bias"]
    assert len(list(d.parameters())) == 6 and len(d) == 4
    assert "c" in d and "q" not in d
    assert d["a"].out_features == 4 and list(d) == list(d.keys())
    assert [k for k, _ in d.items()] == list(d.keys()) and len(list(d.values())) == 4
    relu = d.pop("c")
    assert isinstance(relu, nn.ReLU) and "c" not in d
    del d["z"]
    assert list(d.keys()) == ["b", "a"]
    d.update(nn.ModuleDict(OrderedDict(e=nn.Tanh())))
    assert list(d.keys()) == ["b", "a", "e"]
    d.clear()
    assert len(d) == 0 and list(d.parameters()) == []
    with pytest.raises(KeyError):
        d["missing"]


def test_module_dict_keys_match_torch():
    torch = pytest.importorskip("torch")
    ours = nn.ModuleDict([("conv", nn.Conv2d(1, 2, 3)), ("fc", nn.Linear(2, 2))])
    theirs = torch.nn.ModuleDict([("conv", torch.nn.Conv2d(1, 2, 3)), ("fc", torch.nn.Linear(2, 2))])
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours).replace("pycnn", "torch") == repr(theirs)


def test_module_dict_bad_updates():
    expect_error(TypeError, "ModuleDict", lambda: nn.ModuleDict(3), "int")
    expect_error(TypeError, "ModuleDict", lambda: nn.ModuleDict([3]), "#0")
    expect_error(ValueError, "ModuleDict", lambda: nn.ModuleDict([("a", nn.ReLU(), 1)]), "#0", "length 3")
    expect_error(TypeError, "ModuleDict", lambda: nn.ModuleDict({"a": 3}), "int")
    with pytest.raises(NotImplementedError, match=r"^\[ModuleDict\]"):
        nn.ModuleDict()(pc.zeros(1))


def test_parameter_list_registers_and_wraps_tensors():
    pl = nn.ParameterList([pc.zeros(2, 3), nn.Parameter(pc.ones(2))])
    pl.append(pc.ones(4))
    pl += [pc.ones(1)]
    pl.extend((pc.zeros(5),))
    assert len(pl) == 5 and all(isinstance(p, nn.Parameter) and p.requires_grad for p in pl)
    assert list(pl.state_dict()) == ["0", "1", "2", "3", "4"]
    assert [tuple(p.shape) for p in pl.parameters()] == [(2, 3), (2,), (4,), (1,), (5,)]
    assert tuple(pl[-1].shape) == (5,) and tuple(pl[1].shape) == (2,)
    assert [tuple(p.shape) for p in pl[1:3]] == [(2,), (4,)]
    shared = pc.ones(3)
    pl[0] = shared
    assert isinstance(pl[0], nn.Parameter) and tuple(pl.state_dict()["0"].shape) == (3,)
    with pytest.raises(IndexError):
        pl[5]
    expect_error(TypeError, "ParameterList", lambda: pl.extend(pc.ones(2)), "Tensor")


def test_parameter_list_trains_and_prints_like_torch():
    torch = pytest.importorskip("torch")
    pl = nn.ParameterList([pc.ones(2, 3, dtype=pc.float64), pc.ones(2, dtype=pc.float64)])
    (pl[0].sum() * 2 + (pl[1] * pl[1]).sum()).backward()
    np.testing.assert_array_equal(np.asarray(pl[0].grad), np.full((2, 3), 2.0))
    np.testing.assert_array_equal(np.asarray(pl[1].grad), np.full(2, 2.0))
    theirs = torch.nn.ParameterList([torch.ones(2, 3, dtype=torch.float64), torch.ones(2, dtype=torch.float64)])
    assert repr(pl).replace("pycnn", "torch") == repr(theirs)
    assert repr(nn.ParameterList()) == "ParameterList()"


def test_parameter_dict_is_a_dict_of_parameters():
    pd = nn.ParameterDict({"w": pc.zeros(2), "b": nn.Parameter(pc.ones(3))})
    pd["v"] = pc.ones(1)
    assert list(pd) == ["w", "b", "v"] and list(pd.state_dict()) == ["w", "b", "v"]
    assert all(isinstance(p, nn.Parameter) for p in pd.values()) and len(list(pd.parameters())) == 3
    assert "w" in pd and list(reversed(pd)) == ["v", "b", "w"]
    assert pd.get("nope") is None and pd.get("w") is pd["w"]
    assert tuple(pd.setdefault("s", pc.zeros(4)).shape) == (4,) and "s" in pd
    key, value = pd.popitem()
    assert key == "s" and tuple(value.shape) == (4,)
    assert tuple(pd.pop("w").shape) == (2,) and list(pd.keys()) == ["b", "v"]
    copy = pd.copy()
    assert copy["b"] is pd["b"]
    merged = pd | {"x": pc.zeros(1)}
    assert list(merged) == ["b", "v", "x"] and list(pd) == ["b", "v"]
    pd |= [("y", pc.zeros(2))]
    assert list(pd) == ["b", "v", "y"]
    assert list(pd.fromkeys(["p", "q"], pc.zeros(1))) == ["p", "q"]
    del pd["v"]
    assert list(pd.state_dict()) == ["b", "y"]
    pd.clear()
    assert len(pd) == 0 and list(pd.parameters()) == []
    with pytest.raises(KeyError):
        pd["b"]
    expect_error(TypeError, "ParameterDict", lambda: nn.ParameterDict({1: pc.zeros(1)}), "1")
    expect_error(TypeError, "ParameterDict", lambda: nn.ParameterDict(5), "int")


def test_parameter_dict_prints_like_torch():
    torch = pytest.importorskip("torch")
    ours = nn.ParameterDict({"a": pc.zeros(2, 3)})
    theirs = torch.nn.ParameterDict({"a": torch.zeros(2, 3)})
    assert list(ours.state_dict()) == list(theirs.state_dict())
    # torch prints the legacy type name here ("torch.FloatTensor"); ours prints the dtype
    assert repr(ours) == "ParameterDict(  (a): Parameter containing: [pycnn.float32 of size 2x3])"


# ================================================================================ Bilinear ================
def bilinear_np(x1, x2, w, b):
    y = np.einsum("...i,oij,...j->...o", x1, w, x2)
    return y if b is None else y + b


@pytest.mark.parametrize("lead", [(3,), (2, 1, 3), ()])
def test_bilinear_matches_numpy(lead):
    x1, x2 = randn(*lead, 4, seed=1), randn(*lead, 5, seed=2)
    w, b = randn(3, 4, 5, seed=3), randn(3, seed=4)
    y = F.bilinear(strided(x1), strided(x2), pc.tensor(w), pc.tensor(b))
    np.testing.assert_allclose(np.asarray(y), bilinear_np(x1, x2, w, b), rtol=1e-12, atol=1e-12)
    y = F.bilinear(pc.tensor(x1), pc.tensor(x2), pc.tensor(w))
    np.testing.assert_allclose(np.asarray(y), bilinear_np(x1, x2, w, None), rtol=1e-12, atol=1e-12)


def test_bilinear_gradcheck_and_torch():
    ins = [randn(2, 3, seed=1), randn(2, 2, seed=2), randn(4, 3, 2, seed=3), randn(4, seed=4)]
    gradcheck(F.bilinear, ins)
    torch = pytest.importorskip("torch")
    check_torch(F.bilinear, torch.nn.functional.bilinear, ins)


def test_bilinear_module():
    torch = pytest.importorskip("torch")
    pc.manual_seed(0)
    ours = nn.Bilinear(4, 3, 2)
    bound = 1 / math.sqrt(4)
    assert np.abs(np.asarray(ours.weight.detach())).max() <= bound
    assert np.abs(np.asarray(ours.bias.detach())).max() <= bound
    assert repr(ours) == repr(torch.nn.Bilinear(4, 3, 2))
    theirs = torch.nn.Bilinear(4, 3, 2)
    theirs.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in ours.state_dict().items()})
    x1, x2 = randn(5, 4, dtype=np.float32, seed=1), randn(5, 3, dtype=np.float32, seed=2)
    p1, p2 = pc.tensor(x1, requires_grad=True), pc.tensor(x2, requires_grad=True)
    t1, t2 = torch.tensor(x1, requires_grad=True), torch.tensor(x2, requires_grad=True)
    yp, yt = ours(p1, p2), theirs(t1, t2)
    np.testing.assert_allclose(np.asarray(yp.detach()), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    yp.sum().backward()
    yt.sum().backward()
    for a, b in ((p1.grad, t1.grad), (p2.grad, t2.grad), (ours.weight.grad, theirs.weight.grad)):
        np.testing.assert_allclose(np.asarray(a), b.numpy(), rtol=1e-5, atol=1e-6)
    assert nn.Bilinear(2, 2, 3, bias=False).bias is None


def test_bilinear_bad_input():
    w = pc.zeros(3, 4, 5)
    expect_error(ValueError, "bilinear", lambda: F.bilinear(pc.zeros(2, 4), pc.zeros(2, 6), w), "(2, 6)", "(3, 4, 5)")
    expect_error(ValueError, "bilinear", lambda: F.bilinear(pc.zeros(2, 4), pc.zeros(3, 5), w), "(3, 5)")
    expect_error(ValueError, "bilinear", lambda: F.bilinear(pc.zeros(2, 4), pc.zeros(2, 5), pc.zeros(3, 4)), "(3, 4)")
    expect_error(ValueError, "bilinear", lambda: F.bilinear(pc.zeros(4), pc.zeros(5), w, pc.zeros(2)), "(2,)")
    expect_error(TypeError, "Bilinear", lambda: nn.Bilinear(2, 2.0, 3), "2.0")
    expect_error(ValueError, "Bilinear", lambda: nn.Bilinear(2, 2, -3), "-3")


# ================================================================================ 1-D pooling =============
def pool1d_np(x, k, s, p, d, ceil, kind, count_include_pad=True):
    """Direct 1-D pooling over the last dim: (values, indices) for max, values for avg (torch's sizes)."""
    L = x.shape[-1]
    span = L + 2 * p - d * (k - 1) - 1
    n = (-(-span // s) if ceil else span // s) + 1
    if ceil and (n - 1) * s >= L + p:
        n -= 1
    vals, idxs = [], []
    for i in range(n):
        pos = i * s - p + d * np.arange(k)
        ok = (pos >= 0) & (pos < L)
        window = x[..., pos[ok]]
        if kind == "max":
            j = window.argmax(-1)
            vals.append(window.max(-1))
            idxs.append(pos[ok][j])
        else:
            end = min(i * s - p + k, L + p)
            div = end - (i * s - p) if count_include_pad else ok.sum()
            vals.append(window.sum(-1) / div)
    out = np.stack(vals, -1)
    return (out, np.stack(idxs, -1)) if kind == "max" else out


MAX_CASES = [
    {"kernel_size": 3},
    {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2, "ceil_mode": True},
    {"kernel_size": 4, "stride": 3, "ceil_mode": True},
    {"kernel_size": (2,), "stride": (1,), "padding": (1,)},
]


@pytest.mark.parametrize("kw", MAX_CASES)
def test_max_pool1d_matches_numpy_and_torch(kw):
    x = distinct(2, 3, 11)
    k = kw["kernel_size"] if isinstance(kw["kernel_size"], int) else kw["kernel_size"][0]
    s = kw.get("stride", k)
    s = s[0] if isinstance(s, tuple) else s
    p = kw.get("padding", 0)
    p = p[0] if isinstance(p, tuple) else p
    ref, ref_idx = pool1d_np(x, k, s, p, kw.get("dilation", 1), kw.get("ceil_mode", False), "max")
    y, idx = F.max_pool1d(strided(x), return_indices=True, **kw)
    np.testing.assert_array_equal(np.asarray(y), ref)
    np.testing.assert_array_equal(np.asarray(idx), ref_idx)
    assert idx.dtype == pc.int64
    y2 = F.max_pool1d(pc.tensor(x[0]), **kw)  # unbatched (C, L)
    np.testing.assert_array_equal(np.asarray(y2), ref[0])
    torch = pytest.importorskip("torch")
    check_torch(
        lambda t: F.max_pool1d(t, return_indices=True, **kw),
        lambda t: torch.nn.functional.max_pool1d(t, return_indices=True, **kw),
        [x],
    )


@pytest.mark.parametrize(
    "kw",
    [
        {"kernel_size": 3},
        {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
        {"kernel_size": 4, "stride": 3, "padding": 2, "ceil_mode": True},
        {"kernel_size": 1},
    ],
)
def test_avg_pool1d_matches_numpy_and_torch(kw):
    x = randn(2, 3, 10)
    k, s, p = kw["kernel_size"], kw.get("stride", kw["kernel_size"]), kw.get("padding", 0)
    ref = pool1d_np(x, k, s, p, 1, kw.get("ceil_mode", False), "avg", kw.get("count_include_pad", True))
    np.testing.assert_allclose(np.asarray(F.avg_pool1d(strided(x), **kw)), ref, rtol=1e-12, atol=1e-12)
    torch = pytest.importorskip("torch")
    check_torch(lambda t: F.avg_pool1d(t, **kw), lambda t: torch.nn.functional.avg_pool1d(t, **kw), [x])


@pytest.mark.parametrize("n", [1, 3, 4, 7])
def test_adaptive_avg_pool1d_matches_numpy_and_torch(n):
    x = randn(2, 3, 7)
    L = x.shape[-1]
    ref = np.stack(
        [x[..., (i * L) // n : -(-((i + 1) * L) // n)].mean(-1) for i in range(n)],
        -1,
    )
    np.testing.assert_allclose(np.asarray(F.adaptive_avg_pool1d(strided(x), n)), ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.asarray(F.adaptive_avg_pool1d(pc.tensor(x[1]), (n,))), ref[1], rtol=1e-12)
    torch = pytest.importorskip("torch")
    check_torch(lambda t: F.adaptive_avg_pool1d(t, n), lambda t: torch.nn.functional.adaptive_avg_pool1d(t, n), [x])


def test_pool1d_gradcheck():
    gradcheck(lambda t: F.max_pool1d(t, 3, 2, padding=1, dilation=1, ceil_mode=True), [distinct(2, 2, 7)])
    gradcheck(lambda t: F.avg_pool1d(t, 3, 2, padding=1, count_include_pad=False), [randn(2, 2, 7)])
    gradcheck(lambda t: F.adaptive_avg_pool1d(t, 3), [randn(2, 2, 7)])


def test_pool1d_modules():
    torch = pytest.importorskip("torch")
    x = distinct(2, 3, 9, dtype=np.float32)
    for ours, theirs in (
        (nn.MaxPool1d(3, 2, 1), torch.nn.MaxPool1d(3, 2, 1)),
        (nn.MaxPool1d(2, dilation=2, ceil_mode=True), torch.nn.MaxPool1d(2, dilation=2, ceil_mode=True)),
        (nn.AvgPool1d(3, 2, 1, count_include_pad=False), torch.nn.AvgPool1d(3, 2, 1, count_include_pad=False)),
        (nn.AdaptiveAvgPool1d(4), torch.nn.AdaptiveAvgPool1d(4)),
    ):
        assert repr(ours) == repr(theirs)
        module_parity(ours, theirs, x, rtol=1e-5, atol=1e-6)
    y, idx = nn.MaxPool1d(3, return_indices=True)(pc.tensor(x))
    assert tuple(y.shape) == tuple(idx.shape) == (2, 3, 3)


def test_pool1d_bad_input():
    x = pc.zeros(1, 2, 5)
    expect_error(ValueError, "max_pool1d", lambda: F.max_pool1d(pc.zeros(1, 1, 2, 5), 2), "(1, 1, 2, 5)")
    expect_error(ValueError, "max_pool1d", lambda: F.max_pool1d(x, 2, padding=2), "padding=2")
    expect_error(ValueError, "max_pool1d", lambda: F.max_pool1d(x, 7), "(1, 2, 5)", "kernel_size=7")
    expect_error(ValueError, "max_pool1d", lambda: F.max_pool1d(x, 0), "kernel_size")
    expect_error(ValueError, "avg_pool1d", lambda: F.avg_pool1d(x, 3, padding=2), "padding=2")
    expect_error(TypeError, "avg_pool1d", lambda: F.avg_pool1d(x, 2.5), "2.5")
    expect_error(ValueError, "adaptive_avg_pool1d", lambda: F.adaptive_avg_pool1d(x, 0), "0")
    expect_error(ValueError, "adaptive_avg_pool1d", lambda: F.adaptive_avg_pool1d(pc.zeros(5), 2), "(5,)")
    expect_error(ValueError, "adaptive_avg_pool1d", lambda: F.adaptive_avg_pool1d(pc.zeros(1, 2, 0), 2), "(1, 2, 0)")
    expect_error(ValueError, "MaxPool1d", lambda: nn.MaxPool1d(2, stride=0), "stride")
    expect_error(ValueError, "AvgPool1d", lambda: nn.AvgPool1d(2, padding=-1), "padding")
    expect_error(ValueError, "AdaptiveAvgPool1d", lambda: nn.AdaptiveAvgPool1d(-2), "-2")


# ================================================================================ Mish, Hardtanh ==========
def mish_np(x):
    return x * np.tanh(np.log1p(np.exp(x)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mish_and_hardtanh_match_numpy(dtype):
    x = randn(3, 1, 4, dtype=dtype) * 3
    np.testing.assert_allclose(np.asarray(F.mish(strided(x))), mish_np(x), **tol(dtype))
    np.testing.assert_array_equal(np.asarray(F.hardtanh(strided(x))), np.clip(x, -1, 1))
    np.testing.assert_array_equal(np.asarray(F.hardtanh(pc.tensor(x), -0.5, 2.0)), np.clip(x, -0.5, 2.0))
    assert F.mish(pc.tensor(x)).dtype == pc.tensor(x).dtype


def test_mish_and_hardtanh_gradcheck_and_torch():
    x = randn(2, 5, away_from_zero=0.05) * 2
    x = np.where(np.abs(np.abs(x) - 1) < 0.05, x + 0.2, x)  # away from hardtanh's kinks
    gradcheck(F.mish, [x])
    gradcheck(F.hardtanh, [x])
    gradcheck(lambda t: F.hardtanh(t, -0.3, 0.6), [x])
    torch = pytest.importorskip("torch")
    check_torch(F.mish, torch.nn.functional.mish, [x])
    check_torch(lambda t: F.hardtanh(t, -0.3, 0.6), lambda t: torch.nn.functional.hardtanh(t, -0.3, 0.6), [x])
    for ours, theirs in ((nn.Mish(), torch.nn.Mish()), (nn.Hardtanh(-2.0, 0.5), torch.nn.Hardtanh(-2.0, 0.5))):
        assert repr(ours) == repr(theirs)
        module_parity(ours, theirs, x.astype(np.float32), rtol=1e-5, atol=1e-6)
    assert repr(nn.Hardtanh(inplace=True)) == repr(torch.nn.Hardtanh(inplace=True))
    assert repr(nn.Mish(inplace=True)) == repr(torch.nn.Mish(inplace=True))


def test_mish_and_hardtanh_inplace():
    x = randn(2, 3) * 2
    for fn, ref in ((F.mish, mish_np(x)), (F.hardtanh, np.clip(x, -1, 1))):
        leaf = pc.tensor(x, requires_grad=True)
        y = leaf * 1.0
        out = fn(y, inplace=True)
        assert out is y
        np.testing.assert_allclose(np.asarray(y.detach()), ref, rtol=1e-12)
        out.sum().backward()
        assert leaf.grad is not None
        with pytest.raises(RuntimeError, match="leaf"):
            fn(pc.tensor(x, requires_grad=True), inplace=True)


def test_mish_and_hardtanh_bad_input():
    expect_error(TypeError, "mish", lambda: F.mish(pc.tensor([1, 2])), "int64")
    expect_error(TypeError, "hardtanh", lambda: F.hardtanh([1.0]), "list")
    expect_error(ValueError, "hardtanh", lambda: F.hardtanh(pc.zeros(2), 1.0, -1.0), "1.0", "-1.0")
    expect_error(ValueError, "Hardtanh", lambda: nn.Hardtanh(1.0, 1.0), "max_val")
    expect_error(TypeError, "Hardtanh", lambda: nn.Hardtanh("a"), "'a'")


# ================================================================================ Unflatten ===============
@pytest.mark.parametrize(
    "dim, sizes, shape",
    [(1, (2, 3), (4, 6, 5)), (-1, [5, 1], (4, 6, 5)), (1, (2, -1), (4, 6, 5)), (0, (1, 4, 1), (4, 6, 5))],
)
def test_unflatten_matches_numpy_and_torch(dim, sizes, shape):
    x = randn(*shape)
    y = nn.Unflatten(dim, sizes)(strided(x))
    d = dim % x.ndim
    want = list(sizes)
    if -1 in want:
        want[want.index(-1)] = x.shape[d] // -math.prod(want)
    np.testing.assert_array_equal(np.asarray(y), x.reshape(*x.shape[:d], *want, *x.shape[d + 1 :]))
    torch = pytest.importorskip("torch")
    assert repr(nn.Unflatten(dim, sizes)) == repr(torch.nn.Unflatten(dim, sizes))
    module_parity(nn.Unflatten(dim, sizes), torch.nn.Unflatten(dim, sizes), x, rtol=1e-12, atol=0)


def test_unflatten_bad_input():
    expect_error(ValueError, "unflatten", lambda: nn.Unflatten(1, (4, 2))(pc.zeros(2, 6)), "(4, 2)", "6")
    expect_error(ValueError, "unflatten", lambda: nn.Unflatten(1, (4, -1))(pc.zeros(2, 6)), "(4, -1)")
    expect_error(ValueError, "unflatten", lambda: nn.Unflatten(3, (2, 3))(pc.zeros(2, 6)), "3")
    expect_error(TypeError, "Unflatten", lambda: nn.Unflatten(1, 6), "6")
    expect_error(TypeError, "Unflatten", lambda: nn.Unflatten(1, (2, 3.0)), "3.0")
    expect_error(TypeError, "Unflatten", lambda: nn.Unflatten("1", (2, 3)), "'1'")
    expect_error(ValueError, "Unflatten", lambda: nn.Unflatten(1, (-1, -1)), "(-1, -1)")


# ================================================================================ padding layers ==========
PADS = [
    (nn.ZeroPad2d, {}, "constant", {}),
    (nn.ConstantPad2d, {"value": 2.5}, "constant", {"constant_values": 2.5}),
    (nn.ReflectionPad2d, {}, "reflect", {}),
    (nn.ReplicationPad2d, {}, "edge", {}),
]


@pytest.mark.parametrize("cls, kwargs, np_mode, np_kwargs", PADS)
@pytest.mark.parametrize("padding", [1, (1, 2, 0, 3)])
def test_padding_layers_match_numpy_and_torch(cls, kwargs, np_mode, np_kwargs, padding):
    x = randn(2, 3, 4, 5)
    pl, pr, pt, pb = (padding,) * 4 if isinstance(padding, int) else padding
    width = ((0, 0), (0, 0), (pt, pb), (pl, pr))
    layer = cls(padding, **kwargs)
    np.testing.assert_array_equal(np.asarray(layer(strided(x))), np.pad(x, width, np_mode, **np_kwargs))
    np.testing.assert_array_equal(np.asarray(layer(pc.tensor(x[0]))), np.pad(x[0], width[1:], np_mode, **np_kwargs))
    gradcheck(layer, [x[:1, :2]])
    torch = pytest.importorskip("torch")
    theirs = getattr(torch.nn, cls.__name__)(padding, **kwargs)
    assert repr(layer) == repr(theirs) and layer.padding == theirs.padding
    module_parity(layer, theirs, x.astype(np.float32), rtol=1e-6, atol=0)


def test_padding_layers_crop_and_bad_input():
    x = randn(1, 1, 4, 5)
    np.testing.assert_array_equal(np.asarray(nn.ZeroPad2d((-1, 0, 0, -2))(pc.tensor(x))), x[..., :2, 1:])
    expect_error(ValueError, "ZeroPad2d", lambda: nn.ZeroPad2d((1, 2)), "(1, 2)")
    expect_error(TypeError, "ReflectionPad2d", lambda: nn.ReflectionPad2d(1.5), "1.5")
    expect_error(TypeError, "ConstantPad2d", lambda: nn.ConstantPad2d(1, "a"), "'a'")
    expect_error(ValueError, "pad", lambda: nn.ReflectionPad2d(4)(pc.tensor(x)), "4")


# ================================================================================ ChannelShuffle ==========
@pytest.mark.parametrize("shape, groups", [((2, 6, 3, 2), 3), ((1, 4, 5), 2), ((3, 6, 1, 1, 2), 6), ((2, 4, 3), 1)])
def test_channel_shuffle_matches_numpy_and_torch(shape, groups):
    x = randn(*shape)
    n, c = shape[:2]
    ref = x.reshape(n, groups, c // groups, *shape[2:]).swapaxes(1, 2).reshape(shape)
    np.testing.assert_array_equal(np.asarray(F.channel_shuffle(strided(x), groups)), ref)
    np.testing.assert_array_equal(np.asarray(nn.ChannelShuffle(groups)(pc.tensor(x))), ref)
    gradcheck(lambda t: F.channel_shuffle(t, groups), [x])
    torch = pytest.importorskip("torch")
    assert repr(nn.ChannelShuffle(groups)) == repr(torch.nn.ChannelShuffle(groups))
    module_parity(nn.ChannelShuffle(groups), torch.nn.ChannelShuffle(groups), x, rtol=0, atol=0)


def test_channel_shuffle_bad_input():
    expect_error(ValueError, "channel_shuffle", lambda: F.channel_shuffle(pc.zeros(2, 6, 3), 4), "6", "4")
    expect_error(ValueError, "channel_shuffle", lambda: F.channel_shuffle(pc.zeros(2, 6), 2), "(2, 6)")
    expect_error(ValueError, "ChannelShuffle", lambda: nn.ChannelShuffle(0), "groups")
    expect_error(TypeError, "ChannelShuffle", lambda: nn.ChannelShuffle(1.5), "1.5")


# ================================================================================ norms and distances =====
def pnorm_np(x, p, axis, keepdims=False):
    a = np.abs(x)
    if p == math.inf:
        return a.max(axis=axis, keepdims=keepdims)
    return (a**p).sum(axis=axis, keepdims=keepdims) ** (1.0 / p)


@pytest.mark.parametrize("p, dim", [(2.0, 1), (1, -1), (3, 0), (math.inf, -2)])
def test_normalize_matches_numpy_gradcheck_torch(p, dim):
    x = randn(3, 4, 2)
    ref = x / np.maximum(pnorm_np(x, p, dim, True), 1e-12)
    np.testing.assert_allclose(np.asarray(F.normalize(strided(x), p, dim)), ref, rtol=1e-12, atol=1e-14)
    gradcheck(lambda t: F.normalize(t, p, dim), [x], max_kink_fraction=0.0 if p != math.inf else 0.1)
    torch = pytest.importorskip("torch")
    check_torch(lambda t: F.normalize(t, p, dim), lambda t: torch.nn.functional.normalize(t, p, dim), [x])


def test_normalize_zero_vectors_and_out():
    x = randn(3, 4)
    x[1] = 0.0
    t = pc.tensor(x, requires_grad=True)
    y = F.normalize(t)
    y.sum().backward()
    assert np.all(np.asarray(y.detach())[1] == 0) and np.all(np.isfinite(np.asarray(t.grad)))
    torch = pytest.importorskip("torch")
    tt = torch.tensor(x, requires_grad=True)
    torch.nn.functional.normalize(tt).sum().backward()
    np.testing.assert_allclose(np.asarray(t.grad), tt.grad.numpy(), rtol=1e-9, atol=1e-12)
    out = pc.zeros(3, 4, dtype=pc.float64)
    assert F.normalize(pc.tensor(x), dim=0, out=out) is out
    np.testing.assert_allclose(np.asarray(out), x / np.linalg.norm(x, axis=0, keepdims=True), rtol=1e-12)


@pytest.mark.parametrize("s1, s2, dim", [((4, 3), (4, 3), 1), ((2, 3, 4), (3, 1), -1), ((5, 1, 3), (5, 2, 3), 0)])
def test_cosine_similarity_matches_numpy_gradcheck_torch(s1, s2, dim):
    x1, x2 = randn(*s1, seed=1), randn(*s2, seed=2)
    a, b = np.broadcast_arrays(x1, x2)
    ref = (a * b).sum(dim) / (
        np.maximum(np.linalg.norm(a, axis=dim), 1e-8) * np.maximum(np.linalg.norm(b, axis=dim), 1e-8)
    )
    np.testing.assert_allclose(np.asarray(F.cosine_similarity(strided(x1), pc.tensor(x2), dim)), ref, rtol=1e-12)
    gradcheck(lambda u, v: F.cosine_similarity(u, v, dim), [x1, x2])
    torch = pytest.importorskip("torch")
    check_torch(
        lambda u, v: F.cosine_similarity(u, v, dim),
        lambda u, v: torch.nn.functional.cosine_similarity(u, v, dim),
        [x1, x2],
    )


def test_cosine_similarity_of_a_zero_vector_has_torch_gradient():
    torch = pytest.importorskip("torch")
    x1, x2 = randn(3, 4, seed=1), randn(3, 4, seed=2)
    x1[0] = 0.0
    check_torch(F.cosine_similarity, torch.nn.functional.cosine_similarity, [x1, x2])


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("s1, s2", [((4, 3), (4, 3)), ((4, 3), (1, 3)), ((3,), (3,))])
def test_pairwise_distance_matches_numpy_gradcheck_torch(p, s1, s2):
    x1, x2 = randn(*s1, seed=1), randn(*s2, seed=2)
    ref = pnorm_np(x1 - x2 + 1e-6, p, -1)
    np.testing.assert_allclose(np.asarray(F.pairwise_distance(strided(x1), pc.tensor(x2), p)), ref, rtol=1e-12)
    keep = F.pairwise_distance(pc.tensor(x1), pc.tensor(x2), p, keepdim=True)
    assert tuple(keep.shape) == ref.shape + (1,)
    gradcheck(lambda u, v: F.pairwise_distance(u, v, p), [x1, x2])
    torch = pytest.importorskip("torch")
    check_torch(
        lambda u, v: F.pairwise_distance(u, v, p), lambda u, v: torch.nn.functional.pairwise_distance(u, v, p), [x1, x2]
    )


def test_norms_bad_input():
    x = pc.zeros(2, 3)
    expect_error(ValueError, "normalize", lambda: F.normalize(x, p=0), "0")
    expect_error(ValueError, "normalize", lambda: F.normalize(x, dim=2), "dim 2")
    expect_error(TypeError, "normalize", lambda: F.normalize(pc.tensor([1, 2])), "int64")
    expect_error(ValueError, "normalize", lambda: F.normalize(x, out=pc.zeros(3)), "(3,)")
    expect_error(ValueError, "cosine_similarity", lambda: F.cosine_similarity(x, pc.zeros(4)), "(2, 3)", "(4,)")
    expect_error(TypeError, "cosine_similarity", lambda: F.cosine_similarity(x, [1.0]), "list")
    expect_error(ValueError, "pairwise_distance", lambda: F.pairwise_distance(x, x, p=-1), "-1")
    expect_error(TypeError, "pairwise_distance", lambda: F.pairwise_distance(x, x, eps="a"), "'a'")


# ================================================================================ losses ==================
def reduce_np(per, reduction):
    return per if reduction == "none" else per.mean() if reduction == "mean" else per.sum()


def cosine_embedding_np(x1, x2, y, margin, reduction):
    d = y.ndim
    cos = (x1 * x2).sum(d) / np.sqrt(((x1 * x1).sum(d) + 1e-12) * ((x2 * x2).sum(d) + 1e-12))
    per = np.where(y == 1, 1 - cos, 0.0) + np.where(y == -1, np.maximum(cos - margin, 0.0), 0.0)
    return reduce_np(per, reduction)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("margin", [0.0, 0.3, -0.2])
def test_cosine_embedding_loss(reduction, margin):
    x1, x2 = randn(6, 4, seed=1), randn(6, 4, seed=2)
    y = np.array([1.0, -1.0, 1.0, -1.0, -1.0, 1.0])
    ref = cosine_embedding_np(x1, x2, y, margin, reduction)
    out = F.cosine_embedding_loss(strided(x1), pc.tensor(x2), pc.tensor(y), margin, reduction=reduction)
    np.testing.assert_allclose(np.asarray(out), ref, rtol=1e-12, atol=1e-14)
    fn = lambda a, b, t: F.cosine_embedding_loss(a, b, t, margin, reduction=reduction)
    gradcheck(lambda a, b: fn(a, b, pc.tensor(y)), [x1, x2])
    unbatched = F.cosine_embedding_loss(pc.tensor(x1[1]), pc.tensor(x2[1]), pc.tensor(-1), margin, reduction=reduction)
    np.testing.assert_allclose(np.asarray(unbatched), cosine_embedding_np(x1[1], x2[1], np.array(-1), margin, "sum"))
    torch = pytest.importorskip("torch")
    yi = y.astype(np.int64)  # integer targets, as torch also takes them
    check_torch(fn, lambda a, b, t: torch.nn.functional.cosine_embedding_loss(a, b, t, margin, reduction=reduction),
                [x1, x2, yi])  # fmt: skip
    ours, theirs = (
        nn.CosineEmbeddingLoss(margin, reduction=reduction),
        torch.nn.CosineEmbeddingLoss(margin, reduction=reduction),
    )
    assert repr(ours) == repr(theirs)
    check_torch(ours, theirs, [x1, x2, yi])


def triplet_np(a, p, n, margin, pn, eps, swap, reduction):
    dp, dn = pnorm_np(a - p + eps, pn, -1), pnorm_np(a - n + eps, pn, -1)
    if swap:
        dn = np.minimum(dn, pnorm_np(p - n + eps, pn, -1))
    return reduce_np(np.maximum(margin + dp - dn, 0.0), reduction)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("margin, p, swap", [(1.0, 2, False), (0.5, 1, True), (2.0, 3, True)])
def test_triplet_margin_loss(reduction, margin, p, swap):
    a, pos, neg = randn(5, 3, seed=1), randn(5, 3, seed=2), randn(5, 3, seed=3)
    ref = triplet_np(a, pos, neg, margin, p, 1e-6, swap, reduction)
    fn = lambda x, y, z: F.triplet_margin_loss(x, y, z, margin, p, swap=swap, reduction=reduction)
    np.testing.assert_allclose(np.asarray(fn(strided(a), pc.tensor(pos), pc.tensor(neg))), ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        np.asarray(fn(pc.tensor(a[0]), pc.tensor(pos[0]), pc.tensor(neg[0]))),
        triplet_np(a[0], pos[0], neg[0], margin, p, 1e-6, swap, reduction),
        rtol=1e-12,
    )
    gradcheck(fn, [a, pos, neg])
    torch = pytest.importorskip("torch")
    tfn = lambda x, y, z: torch.nn.functional.triplet_margin_loss(x, y, z, margin, p, swap=swap, reduction=reduction)
    check_torch(fn, tfn, [a, pos, neg])
    ours = nn.TripletMarginLoss(margin, p, swap=swap, reduction=reduction)
    theirs = torch.nn.TripletMarginLoss(margin, p, swap=swap, reduction=reduction)
    assert repr(ours) == repr(theirs)
    check_torch(ours, theirs, [a, pos, neg])


def test_losses_bad_input():
    x = pc.zeros(3, 4)
    expect_error(ValueError, "cosine_embedding_loss", lambda: F.cosine_embedding_loss(x, x, pc.zeros(3, 1)), "(3, 1)")
    expect_error(ValueError, "cosine_embedding_loss", lambda: F.cosine_embedding_loss(x, x, pc.zeros(())), "(3, 4)")
    expect_error(ValueError, "cosine_embedding_loss", lambda: F.cosine_embedding_loss(x, x, pc.zeros(2)), "(2,)")
    expect_error(
        ValueError,
        "cosine_embedding_loss",
        lambda: F.cosine_embedding_loss(x, x, pc.zeros(3), reduction="avg"),
        "'avg'",
    )
    expect_error(ValueError, "triplet_margin_loss", lambda: F.triplet_margin_loss(x, x, x, margin=0), "0")
    expect_error(ValueError, "triplet_margin_loss", lambda: F.triplet_margin_loss(x, x, pc.zeros(4)), "(4,)")
    expect_error(TypeError, "triplet_margin_loss", lambda: F.triplet_margin_loss(x, x, x, swap="yes"), "'yes'")
    expect_error(ValueError, "TripletMarginLoss", lambda: nn.TripletMarginLoss(margin=-1), "-1")
    expect_error(ValueError, "TripletMarginLoss", lambda: nn.TripletMarginLoss(p=0), "0")
    expect_error(TypeError, "CosineEmbeddingLoss", lambda: nn.CosineEmbeddingLoss(margin="a"), "'a'")
    expect_error(ValueError, "CosineEmbeddingLoss", lambda: nn.CosineEmbeddingLoss(reduction="x"), "'x'")


def test_containers_round_trip_state_dicts_and_train():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.heads = nn.ModuleDict({"a": nn.Linear(3, 2), "b": nn.Linear(3, 1)})
            self.scales = nn.ParameterList([pc.ones(2), pc.ones(1)])
            self.shifts = nn.ParameterDict({"a": pc.zeros(2), "b": pc.zeros(1)})

        def forward(self, x):
            return [self.heads[k](x) * self.scales[i] + self.shifts[k] for i, k in enumerate(("a", "b"))]

    pc.manual_seed(0)
    net, other = Net(), Net()
    keys = list(net.state_dict())
    assert keys == ["heads.a.weight", "heads.a.bias", "heads.b.weight", "heads.b.bias", "scales.0", "scales.1",
                    "shifts.a", "shifts.b"]  # fmt: skip
    opt = pc.optim.SGD(net.parameters(), lr=0.1)
    x = pc.tensor(randn(4, 3, dtype=np.float32))
    before = np.asarray(net.shifts["b"].detach()).copy()
    sum(y.sum() for y in net(x)).backward()
    opt.step()
    assert not np.array_equal(np.asarray(net.shifts["b"].detach()), before)
    other.load_state_dict(net.state_dict())
    for (k, a), (_, b) in zip(net.state_dict().items(), other.state_dict().items()):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=k)
    net.double()
    assert all(p.dtype == pc.float64 for p in net.parameters())
