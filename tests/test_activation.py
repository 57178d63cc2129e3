"""The nonlinearities of csrc/ops/activation.cpp: the elementwise unary family (sigmoid ... clamp), PReLU,
Swish, Maxout and the activation modules. Each op is checked against a plain NumPy reference (float32 and
float64, awkward shapes), by float64 finite-difference gradcheck, against PyTorch (values and gradients),
for overflow / NaN at |x| = 1e4, and with bad input. Ends with SELU's self-normalisation over 20 layers.
"""

import math

import numpy as np
import pytest

import pycnn as pc
import pycnn.nn.functional as F
from pycnn import nn

from helpers import check_device_matches_cpu, check_torch, distinct, gradcheck, host, randn

DTYPES = [np.float32, np.float64]
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_erf = np.vectorize(math.erf, otypes=[np.float64])


def tol(dtype):
    return {"rtol": 1e-12, "atol": 1e-12} if dtype == np.float64 else {"rtol": 2e-6, "atol": 2e-6}


def np_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def _torch():
    return pytest.importorskip("torch")


# name -> (pycnn fn, NumPy reference in float64, torch fn (lazy), domain: "any" or "positive")
UNARY = {
    "sigmoid": (F.sigmoid, np_sigmoid, lambda t: t.sigmoid, "any"),
    "tanh": (F.tanh, np.tanh, lambda t: t.tanh, "any"),
    "relu6": (F.relu6, lambda x: np.clip(x, 0, 6), lambda t: t.nn.functional.relu6, "any"),
    "leaky_relu": (
        lambda x: F.leaky_relu(x, 0.2),
        lambda x: np.where(x > 0, x, 0.2 * x),
        lambda t: lambda x: t.nn.functional.leaky_relu(x, 0.2),
        "any",
    ),
    "elu": (
        lambda x: F.elu(x, 0.7),
        lambda x: np.where(x > 0, x, 0.7 * np.expm1(np.minimum(x, 0))),
        lambda t: lambda x: t.nn.functional.elu(x, 0.7),
        "any",
    ),
    "selu": (
        F.selu,
        lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0))),
        lambda t: t.nn.functional.selu,
        "any",
    ),
    "silu": (F.silu, lambda x: x * np_sigmoid(x), lambda t: t.nn.functional.silu, "any"),
    "gelu": (F.gelu, lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))), lambda t: t.nn.functional.gelu, "any"),
    "gelu_tanh": (
        lambda x: F.gelu(x, approximate="tanh"),
        np_gelu_tanh,
        lambda t: lambda x: t.nn.functional.gelu(x, approximate="tanh"),
        "any",
    ),
    "softplus": (
        lambda x: F.softplus(x, beta=1.5, threshold=3.0),
        lambda x: np.where(1.5 * x > 3.0, x, np.log1p(np.exp(1.5 * x)) / 1.5),
        lambda t: lambda x: t.nn.functional.softplus(x, beta=1.5, threshold=3.0),
        "any",
    ),
    "softplus_default": (
        F.softplus,
        lambda x: np.where(x > 20, x, np.log1p(np.exp(np.minimum(x, 20)))),
        lambda t: t.nn.functional.softplus,
        "any",
    ),
    "hardswish": (F.hardswish, lambda x: x * np.clip(x + 3, 0, 6) / 6, lambda t: t.nn.functional.hardswish, "any"),
    "hardsigmoid": (F.hardsigmoid, lambda x: np.clip(x + 3, 0, 6) / 6, lambda t: t.nn.functional.hardsigmoid, "any"),
    "exp": (lambda x: x.exp(), np.exp, lambda t: t.exp, "any"),
    "log": (lambda x: x.log(), np.log, lambda t: t.log, "positive"),
    "sqrt": (lambda x: x.sqrt(), np.sqrt, lambda t: t.sqrt, "positive"),
    "abs": (lambda x: x.abs(), np.abs, lambda t: t.abs, "any"),
    "neg": (lambda x: -x, np.negative, lambda t: lambda x: -x, "any"),
    "pow2": (lambda x: x**2, lambda x: x**2, lambda t: lambda x: x**2, "any"),
    "pow3": (lambda x: x.pow(3), lambda x: x**3, lambda t: lambda x: x.pow(3), "any"),
    "pow_frac": (lambda x: x**1.7, lambda x: x**1.7, lambda t: lambda x: x**1.7, "positive"),
    "pow_neg": (lambda x: x**-0.5, lambda x: x**-0.5, lambda t: lambda x: x**-0.5, "positive"),
    "clamp": (
        lambda x: x.clamp(-0.5, 0.8),
        lambda x: np.clip(x, -0.5, 0.8),
        lambda t: lambda x: x.clamp(-0.5, 0.8),
        "any",
    ),
    "clamp_min": (
        lambda x: x.clamp(min=0.3),
        lambda x: np.maximum(x, 0.3),
        lambda t: lambda x: x.clamp(min=0.3),
        "any",
    ),
    "clamp_max": (
        lambda x: pc.clamp(x, max=-0.2),
        lambda x: np.minimum(x, -0.2),
        lambda t: lambda x: t.clamp(x, max=-0.2),
        "any",
    ),
    # rounding and friends (pycnn/_math_ops.py; more in tests/test_math_ops.py)
    "floor": (lambda x: x.floor(), np.floor, lambda t: t.floor, "any"),
    "ceil": (lambda x: x.ceil(), np.ceil, lambda t: t.ceil, "any"),
    "round": (lambda x: x.round(), np.round, lambda t: t.round, "any"),
    "trunc": (lambda x: x.trunc(), np.trunc, lambda t: t.trunc, "any"),
    "sign": (lambda x: x.sign(), np.sign, lambda t: t.sign, "any"),
    "reciprocal": (lambda x: x.reciprocal(), np.reciprocal, lambda t: t.reciprocal, "positive"),
    "rsqrt": (lambda x: x.rsqrt(), lambda x: 1 / np.sqrt(x), lambda t: t.rsqrt, "positive"),
    "square": (lambda x: x.square(), np.square, lambda t: t.square, "any"),
}


def test_every_unary_op_of_the_core_is_tested_here():
    """A new line in the core's unary list (csrc/ops/ops.h) needs its reference in UNARY above (a key of
    its name, or variants such as pow2, pow3)."""
    untested = [op for op in pc._C.unary_op_names() if not any(k.startswith(op) for k in UNARY)]
    assert not untested, untested


def unary_input(domain, shape, dtype, seed=0, scale=2.5):
    # |x| >= 0.01 keeps finite differences off the kinks at 0; the kinks at +-3, 6 and the clamp bounds are
    # hit rarely enough for gradcheck's kink tolerance
    x = randn(*shape, dtype=np.float64, seed=seed, away_from_zero=0.01) * scale
    if domain == "positive":
        x = np.abs(x) + 0.2
    return np.asarray(x, dtype=dtype)  # an ndarray even for shape (): pc.tensor keeps its dtype


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_reference(name, dtype, device):
    fn, ref, _, domain = UNARY[name]
    for shape in [(3, 5, 7), (1,), (), (2, 0, 3), (1031,)]:
        x = unary_input(domain, shape, dtype)
        y = fn(pc.tensor(x, device=device))
        assert y.dtype == pc.tensor(x).dtype and y.shape == shape
        np.testing.assert_allclose(host(y), ref(x.astype(np.float64)), **tol(dtype), err_msg=name)


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_gradcheck(name, device):
    fn, _, _, domain = UNARY[name]
    gradcheck(fn, [unary_input(domain, (3, 4, 5), np.float64, seed=1)], device=device)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_torch(name, dtype):
    torch = _torch()
    fn, _, tfn, domain = UNARY[name]
    x = unary_input(domain, (4, 3, 17), dtype, seed=2)
    t = 1e-12 if dtype == np.float64 else 1e-5
    # torch's float64 hardsigmoid gradient multiplies by a float32 1/6 (relative error 3e-8); ours is exact
    gt = 1e-7 if name == "hardsigmoid" else t
    check_torch(fn, tfn(torch), [x], atol=t, rtol=t, grad_atol=gt, grad_rtol=gt)


def test_unary_non_contiguous_input():
    x = randn(4, 6, seed=3)
    t = pc.tensor(x).transpose(0, 1)
    np.testing.assert_allclose(np.asarray(F.sigmoid(t)), np_sigmoid(x.T), rtol=1e-12)


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_device_matches_cpu(name, device):
    """float32 values and gradients on the device (contiguous and strided inputs) against the CPU kernel,
    on an odd shape; on the CPU the strided input against the contiguous one."""
    fn, _, _, domain = UNARY[name]
    check_device_matches_cpu(fn, [unary_input(domain, (3, 37, 5), np.float32, seed=4)], device, rtol=1e-5, atol=1e-6)


STABLE = [
    "sigmoid",
    "tanh",
    "softplus",
    "softplus_default",
    "silu",
    "elu",
    "selu",
    "gelu",
    "gelu_tanh",
    "leaky_relu",
    "hardswish",
    "hardsigmoid",
    "relu6",
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", STABLE)
def test_unary_stable_at_large_inputs(name, dtype, device):
    """|x| = 1e4 (and 1e30): finite values and gradients, equal to torch's where torch's are finite (its
    float32 tanh-GELU gradient is NaN at 1e30, where x^3 overflows)."""
    torch = _torch()
    fn, _, tfn, _ = UNARY[name]
    x = np.array([-1e30, -1e4, -1e3, -88.0, -30.0, -1.0, 1.0, 30.0, 88.0, 1e3, 1e4, 1e30], dtype=dtype)
    p = pc.tensor(x, device=device, requires_grad=True)
    y = fn(p)
    y.sum().backward()
    assert np.all(np.isfinite(host(y))), name
    assert np.all(np.isfinite(host(p.grad))), name
    tx = torch.tensor(x, requires_grad=True)
    ty = tfn(torch)(tx)
    ty.sum().backward()
    np.testing.assert_allclose(host(y), ty.detach().numpy(), rtol=1e-6, atol=1e-30)
    tg = tx.grad.numpy()
    ok = np.isfinite(tg)
    assert ok[1:-1].all(), "torch is finite for |x| <= 1e4"
    np.testing.assert_allclose(host(p.grad)[ok], tg[ok], rtol=1e-6, atol=1e-30)


@pytest.mark.parametrize("dtype", DTYPES)
def test_unary_nan_propagates_like_torch(dtype, device):
    torch = _torch()
    x = np.array([np.nan, -1.0, 2.0], dtype=dtype)
    for name in ["sigmoid", "relu6", "clamp", "hardswish", "gelu", "softplus_default", "silu"]:
        fn, _, tfn, _ = UNARY[name]
        np.testing.assert_array_equal(
            np.isnan(host(fn(pc.tensor(x, device=device)))), np.isnan(tfn(torch)(torch.tensor(x)).numpy()), err_msg=name
        )


def test_unary_kinks_match_torch_gradients(device):
    """The gradient exactly at the kinks (0, 6, +-3, clamp bounds) is torch's choice (on another device: the
    CPU's, exactly)."""
    torch = _torch()
    x = np.array([-3.0, 0.0, 3.0, 6.0, -0.5, 0.8, 0.3, -0.2], dtype=np.float64)
    for name in [
        "relu6",
        "leaky_relu",
        "elu",
        "selu",
        "hardswish",
        "hardsigmoid",
        "abs",
        "clamp",
        "clamp_min",
        "clamp_max",
        "pow2",
        "pow3",
    ]:
        fn, _, tfn, _ = UNARY[name]
        if device != "cpu":
            check_device_matches_cpu(fn, [x], device, rtol=1e-12, atol=1e-12, noncontiguous=False)
            continue
        gt = 1e-7 if name == "hardsigmoid" else 1e-12  # torch's float32 1/6, see test_unary_torch
        check_torch(fn, tfn(torch), [x], atol=1e-12, rtol=1e-12, grad_atol=gt, grad_rtol=gt)


def test_pow_special_exponents_match_torch():
    _torch()
    x = np.array([0.0, 1.5, -2.0, 3.0])
    for p in [0, 0.0, 1, 2, -1, -2.0]:
        check_torch(lambda t, p=p: t**p, lambda t, p=p: t**p, [x], atol=1e-12, rtol=1e-12)


def test_tensor_methods_and_top_level_functions():
    x = unary_input("positive", (2, 3), np.float64, seed=4)
    t = pc.tensor(x)
    for method, ref in [
        ("exp", np.exp),
        ("log", np.log),
        ("sqrt", np.sqrt),
        ("abs", np.abs),
        ("sigmoid", np_sigmoid),
        ("tanh", np.tanh),
    ]:
        np.testing.assert_allclose(np.asarray(getattr(t, method)()), ref(x), rtol=1e-12)
        np.testing.assert_allclose(np.asarray(getattr(pc, method)(t)), ref(x), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(pc.clamp(t, 0.5, 1.0)), np.clip(x, 0.5, 1.0))
    np.testing.assert_allclose(np.asarray(t.clamp(min=1.0, max=0.5)), np.full_like(x, 0.5))  # torch: max wins
    np.testing.assert_allclose(np.asarray(t.pow(2.5)), x**2.5, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(t ** np.float64(2)), x**2, rtol=1e-12)


def test_unary_chain_gradcheck(device):
    """Several ops in one graph: the saved x / y of each are the right ones."""
    x = unary_input("any", (5, 3), np.float64, seed=5)
    gradcheck(lambda t: F.softplus(F.gelu(t).sigmoid() * t.tanh()).exp() + F.elu(t) ** 2, [x], device=device)


# ---------------------------------------------------------------- PReLU ----


def prelu_ref(x, w):
    if w.size == 1:
        return np.where(x > 0, x, w.reshape(()) * x)
    shape = [1, -1] + [1] * (x.ndim - 2)
    return np.where(x > 0, x, w.reshape(shape) * x)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,num", [((2, 3, 4, 5), 3), ((2, 3, 4, 5), 1), ((7, 4), 4), ((6,), 1), ((2, 5, 9), 5)])
def test_prelu_reference(shape, num, dtype, device):
    x = randn(*shape, dtype=dtype, seed=6, away_from_zero=0.01)
    w = randn(num, dtype=dtype, seed=7)
    y = F.prelu(pc.tensor(x, device=device), pc.tensor(w, device=device))
    np.testing.assert_allclose(host(y), prelu_ref(x.astype(np.float64), w.astype(np.float64)), **tol(dtype))


@pytest.mark.parametrize("shape,num", [((2, 3, 4, 5), 3), ((2, 3, 4, 5), 1), ((7, 4), 4)])
def test_prelu_gradcheck(shape, num, device):
    x = randn(*shape, seed=8, away_from_zero=0.01)
    gradcheck(F.prelu, [x, randn(num, seed=9)], device=device)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,num", [((4, 3, 6, 5), 3), ((3, 2, 5), 1), ((9, 4), 4)])
def test_prelu_torch(shape, num, dtype):
    torch = _torch()
    x = randn(*shape, dtype=dtype, seed=10, away_from_zero=0.01)
    t = 1e-12 if dtype == np.float64 else 1e-5
    check_torch(F.prelu, torch.nn.functional.prelu, [x, randn(num, dtype=dtype, seed=11)], atol=t, rtol=t)


def test_prelu_module_matches_torch_and_learns():
    torch = _torch()
    m = nn.PReLU(num_parameters=3, init=0.1)
    assert tuple(m.weight.shape) == (3,) and np.allclose(np.asarray(m.weight.detach()), 0.1)
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    tm = torch.nn.PReLU(3, init=0.1)
    x = randn(2, 3, 4, 4, dtype=np.float32, seed=12)
    y = m(pc.tensor(x))
    ty = tm(torch.tensor(x))
    np.testing.assert_allclose(np.asarray(y.detach()), ty.detach().numpy(), rtol=1e-6)
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(np.asarray(m.weight.grad), tm.weight.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert "num_parameters=3" in repr(m)


def test_prelu_weight_gradient_is_thread_count_independent():
    x = pc.tensor(randn(64, 3, 32, 32, dtype=np.float32, seed=13))
    grads = []
    old = pc.get_num_threads()
    try:
        for threads in (1, 2):
            pc.set_num_threads(threads)
            w = pc.tensor(np.array([0.2, 0.3, 0.4], dtype=np.float32), requires_grad=True)
            F.prelu(x, w).sum().backward()
            grads.append(np.asarray(w.grad).copy())
    finally:
        pc.set_num_threads(old)
    np.testing.assert_array_equal(grads[0], grads[1])


# ---------------------------------------------------------------- Swish ----


def test_swish_fixed_beta():
    x = randn(3, 4, seed=14)
    np.testing.assert_allclose(np.asarray(nn.Swish()(pc.tensor(x))), x * np_sigmoid(x), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(nn.Swish(beta=2.0)(pc.tensor(x))), x * np_sigmoid(2 * x), rtol=1e-12)
    assert list(nn.Swish(2.0).parameters()) == []


def test_swish_learnable_beta_gradient(device):
    m = nn.Swish(beta=1.3, learnable=True, dtype=pc.float64)
    assert [n for n, _ in m.named_parameters()] == ["beta"]
    x = randn(4, 5, seed=15)
    cot = randn(4, 5, seed=16)
    y = m(pc.tensor(x, requires_grad=True))
    np.testing.assert_allclose(np.asarray(y.detach()), x * np_sigmoid(1.3 * x), rtol=1e-12)
    y.backward(pc.tensor(cot))
    s = np_sigmoid(1.3 * x)
    np.testing.assert_allclose(np.asarray(m.beta.grad), [np.sum(cot * x * x * s * (1 - s))], rtol=1e-10)
    gradcheck(lambda t, b: t * F.sigmoid(t * b), [x, np.array([1.3])], device=device)


# ---------------------------------------------------------------- Maxout ----


def maxout_ref(x, k):
    N, Ck = x.shape[:2]
    g = x.reshape(N, Ck // k, k, *x.shape[2:])
    return g.max(axis=2), g.argmax(axis=2)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,k", [((2, 6, 5, 7), 3), ((5, 8), 2), ((5, 8), 8), ((3, 4, 9), 1), ((1, 10, 3, 3), 5)])
def test_maxout_reference(shape, k, dtype, device):
    x = distinct(*shape, dtype=dtype, seed=17)
    y, idx = F.maxout(pc.tensor(x, device=device), k, return_indices=True)
    ry, ridx = maxout_ref(x, k)
    np.testing.assert_array_equal(host(y), ry)
    np.testing.assert_array_equal(host(idx), ridx)


@pytest.mark.parametrize("shape,k", [((2, 6, 3, 4), 3), ((4, 6), 2)])
def test_maxout_gradcheck(shape, k, device):
    gradcheck(lambda t: F.maxout(t, k), [distinct(*shape, seed=18)], device=device)


def test_maxout_backward_scatters_to_the_argmax(device):
    x = np.array([[1.0, 5.0, 2.0, 7.0, 7.0, -1.0]])  # groups of 3: max 5 at 1; tie 7, 7: the first wins
    t = pc.tensor(x, device=device, requires_grad=True)
    F.maxout(t, 3).backward(pc.tensor(np.array([[10.0, 20.0]]), device=device))
    np.testing.assert_array_equal(host(t.grad), [[0, 10, 0, 20, 0, 0]])


def test_maxout_nan_wins(device):
    y = F.maxout(pc.tensor(np.array([[1.0, np.nan, 3.0, 2.0]]), device=device), 4)
    assert np.isnan(host(y)).all()


def test_maxout_module_conv_and_linear_features():
    m = nn.Maxout(2)
    assert m(pc.randn(2, 8, 5, 5)).shape == (2, 4, 5, 5)
    assert m(pc.randn(3, 10)).shape == (3, 5)
    assert "pieces=2" in repr(m)


# ---------------------------------------------------------------- modules ----

MODULES = [
    (lambda: nn.Sigmoid(), "Sigmoid", {}),
    (lambda: nn.Tanh(), "Tanh", {}),
    (lambda: nn.ReLU6(), "ReLU6", {}),
    (lambda: nn.LeakyReLU(0.3), "LeakyReLU", {"negative_slope": 0.3}),
    (lambda: nn.ELU(alpha=0.5), "ELU", {"alpha": 0.5}),
    (lambda: nn.SELU(), "SELU", {}),
    (lambda: nn.SiLU(), "SiLU", {}),
    (lambda: nn.GELU(), "GELU", {}),
    (lambda: nn.GELU(approximate="tanh"), "GELU", {"approximate": "tanh"}),
    (lambda: nn.Softplus(beta=2.0, threshold=5.0), "Softplus", {"beta": 2.0, "threshold": 5.0}),
    (lambda: nn.Hardswish(), "Hardswish", {}),
    (lambda: nn.Hardsigmoid(), "Hardsigmoid", {}),
    (lambda: nn.Softmax(dim=1), "Softmax", {"dim": 1}),
    (lambda: nn.LogSoftmax(dim=-1), "LogSoftmax", {"dim": -1}),
    (lambda: nn.Softmax(), "Softmax", {}),
]


@pytest.mark.parametrize("make,tname,kwargs", MODULES, ids=[f"{m[1]}{i}" for i, m in enumerate(MODULES)])
def test_modules_match_torch(make, tname, kwargs):
    torch = _torch()
    m, tm = make(), getattr(torch.nn, tname)(**kwargs)
    if tname == "Softmax" and not kwargs:
        tm = torch.nn.Softmax(dim=1)  # torch's implicit dim for a 2-d input, without its warning
    x = randn(5, 7, dtype=np.float32, seed=19) * 3
    check_torch(m, tm, [x], atol=1e-5, rtol=1e-5)
    assert list(m.parameters()) == []


def test_selu_keeps_activations_normalised_through_20_layers():
    """Self-normalisation (Klambauer et al.): lecun_normal_ weights + SELU keep mean ~ 0 and variance ~ 1."""
    pc.manual_seed(0)
    layers = []
    for _ in range(20):
        lin = nn.Linear(256, 256, bias=False)
        nn.init.lecun_normal_(lin.weight)
        layers += [lin, nn.SELU()]
    model = nn.Sequential(*layers)
    x = pc.randn(2048, 256)
    with pc.no_grad():
        h = x
        for i, layer in enumerate(model):
            h = layer(h)
            if i % 2 == 1:
                a = np.asarray(h)
                assert abs(a.mean()) < 0.1 and abs(a.var() - 1) < 0.15, (i // 2, a.mean(), a.var())


# ---------------------------------------------------------------- bad input ----


def test_bad_input():
    ints = pc.tensor(np.arange(6).reshape(2, 3))
    with pytest.raises(TypeError, match=r"\[sigmoid\]"):
        F.sigmoid(ints)
    with pytest.raises(TypeError, match=r"\[gelu\]"):
        F.gelu(np.ones(3))
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(pc.randn(3), approximate="fast")
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU(approximate="erf")
    with pytest.raises(ValueError, match=r"\[softplus\] beta"):
        F.softplus(pc.randn(3), beta=0.0)
    with pytest.raises(ValueError, match=r"\[clamp\]"):
        pc.randn(3).clamp()
    with pytest.raises(TypeError, match=r"\[clamp\]"):
        pc.randn(3).clamp(pc.randn(3))
    with pytest.raises(ValueError, match=r"\[clamp\]"):
        pc.randn(3).clamp(float("nan"))
    with pytest.raises(TypeError, match=r"\[pow\]"):
        pc.randn(3) ** pc.randn(3)
    with pytest.raises(ValueError, match=r"\[prelu\].*\(4,\).*\(2, 3, 5\)"):
        F.prelu(pc.randn(2, 3, 5), pc.randn(4))
    with pytest.raises(ValueError, match=r"\[prelu\] expected weight"):
        F.prelu(pc.randn(2, 3, 5), pc.randn(3, 1))
    with pytest.raises(TypeError, match=r"\[prelu\]"):
        F.prelu(pc.randn(2, 3), pc.randn(3, dtype=pc.float64))
    with pytest.raises(ValueError, match=r"\[PReLU\]"):
        nn.PReLU(0)
    with pytest.raises(ValueError, match=r"\[maxout\].*\(2, 7, 3\)"):
        F.maxout(pc.randn(2, 7, 3), 2)
    with pytest.raises(ValueError, match=r"\[maxout\]"):
        F.maxout(pc.randn(6), 2)
    with pytest.raises(ValueError, match=r"\[maxout\] pieces"):
        F.maxout(pc.randn(2, 6), 0)
    with pytest.raises(ValueError, match=r"\[Maxout\]"):
        nn.Maxout(-1)


def test_bad_input_core():
    from pycnn import _C

    x = pc.randn(2, 4)._impl
    with pytest.raises(ValueError, match=r"\[unary\] unknown op"):
        _C.unary_forward("cosh", x, 0.0, 0.0)
    with pytest.raises(ValueError, match=r"\[sigmoid_backward\] output is missing"):
        _C.unary_backward("sigmoid", x, x, None, 0.0, 0.0)
    with pytest.raises(ValueError, match=r"\[gelu_backward\] grad_output \(2, 4\) does not match input \(4, 2\)"):
        _C.unary_backward("gelu", x, pc.randn(4, 2)._impl, None, 0.0, 0.0)
    with pytest.raises(TypeError, match=r"\[elu_backward\]"):
        _C.unary_backward("elu", x, pc.randn(2, 4, dtype=pc.float64)._impl, None, 1.0, 0.0)
    _, idx = _C.maxout_forward(x, 2)
    bad = pc.tensor(np.array([[0, 5]], dtype=np.int64))._impl
    with pytest.raises(ValueError, match=r"\[maxout_backward\] index 5"):
        _C.maxout_backward(pc.randn(1, 2)._impl, bad, 2)
    with pytest.raises(ValueError, match=r"\[maxout_backward\]"):
        _C.maxout_backward(pc.randn(2, 3)._impl, idx, 2)
