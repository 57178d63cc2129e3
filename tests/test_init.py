"""pycnn.nn.init: every initialiser's measured mean / variance on a large tensor matches its formula,
orthogonal_ gives W W^T = gain^2 I, eye_ / dirac_ are exact, calculate_gain matches torch, and all are
reproducible under pc.manual_seed.
"""

import math

import numpy as np
import pytest

import pycnn as pc
from pycnn.nn import init

SHAPE = (256, 64, 3, 3)  # fan_in = 576, fan_out = 2304, 147456 values
FAN_IN, FAN_OUT = 64 * 9, 256 * 9


def fresh(shape=SHAPE, dtype=pc.float32):
    return pc.zeros(*shape, dtype=dtype)


def stats(t):
    a = np.asarray(t).astype(np.float64)
    return a.mean(), a.var(), a.min(), a.max()


def assert_variance(t, var, mean=0.0, rel=0.03):
    m, v, _, _ = stats(t)
    assert abs(m - mean) < 5 * math.sqrt(var / t.numel()) + 1e-12, (m, mean)
    assert v == pytest.approx(var, rel=rel), (v, var)


@pytest.mark.parametrize("dtype", [pc.float32, pc.float64])
def test_uniform_normal_constant(dtype):
    pc.manual_seed(0)
    t = init.uniform_(fresh(dtype=dtype), -2.0, 3.0)
    assert t.dtype == dtype
    assert_variance(t, 25 / 12, mean=0.5)
    _, _, lo, hi = stats(t)
    assert -2.0 <= lo and hi <= 3.0
    assert_variance(init.normal_(fresh(dtype=dtype), 1.5, 0.7), 0.49, mean=1.5)
    np.testing.assert_array_equal(np.asarray(init.constant_(fresh((3, 4), dtype), 2.5)), np.full((3, 4), 2.5))
    np.testing.assert_array_equal(np.asarray(init.ones_(fresh((3, 4), dtype))), np.ones((3, 4)))
    np.testing.assert_array_equal(np.asarray(init.zeros_(init.ones_(fresh((3, 4), dtype)))), np.zeros((3, 4)))


@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_xavier_variance(gain):
    pc.manual_seed(1)
    var = gain**2 * 2.0 / (FAN_IN + FAN_OUT)
    t = init.xavier_uniform_(fresh(), gain=gain)
    assert_variance(t, var)
    assert np.abs(np.asarray(t)).max() <= math.sqrt(3 * var) * (1 + 1e-6)
    assert_variance(init.xavier_normal_(fresh(), gain=gain), var)


@pytest.mark.parametrize("mode,fan", [("fan_in", FAN_IN), ("fan_out", FAN_OUT)])
@pytest.mark.parametrize(
    "nonlinearity,a",
    [("relu", 0), ("leaky_relu", 0), ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("tanh", 0), ("selu", 0)],
)
def test_kaiming_variance(mode, fan, nonlinearity, a):
    pc.manual_seed(2)
    var = init.calculate_gain(nonlinearity, a) ** 2 / fan
    t = init.kaiming_uniform_(fresh(), a=a, mode=mode, nonlinearity=nonlinearity)
    assert_variance(t, var)
    assert np.abs(np.asarray(t)).max() <= math.sqrt(3 * var) * (1 + 1e-6)
    assert_variance(init.kaiming_normal_(fresh(), a=a, mode=mode, nonlinearity=nonlinearity), var)


def test_lecun_variance():
    pc.manual_seed(3)
    t = init.lecun_uniform_(fresh())
    assert_variance(t, 1.0 / FAN_IN)
    assert np.abs(np.asarray(t)).max() <= math.sqrt(3.0 / FAN_IN) * (1 + 1e-6)
    assert_variance(init.lecun_normal_(fresh()), 1.0 / FAN_IN)


@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1.0, -2.0, 2.0), (0.5, 0.2, 0.3, 1.0), (0.0, 0.02, -0.04, 0.04)])
def test_trunc_normal_moments_and_bounds(mean, std, a, b):
    pc.manual_seed(4)
    t = init.trunc_normal_(fresh(dtype=pc.float64), mean=mean, std=std, a=a, b=b)
    # moments of the truncated normal, from the standard normal pdf phi and cdf Phi
    alpha, beta = (a - mean) / std, (b - mean) / std
    phi = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    Phi = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))
    Z = Phi(beta) - Phi(alpha)
    tmean = mean + std * (phi(alpha) - phi(beta)) / Z
    tvar = std**2 * (1 + (alpha * phi(alpha) - beta * phi(beta)) / Z - ((phi(alpha) - phi(beta)) / Z) ** 2)
    assert_variance(t, tvar, mean=tmean)
    _, _, lo, hi = stats(t)
    assert a <= lo and hi <= b
    with pytest.raises(ValueError):
        init.trunc_normal_(fresh((3,)), a=1.0, b=-1.0)


@pytest.mark.parametrize("shape", [(8, 8), (5, 12), (12, 5), (6, 3, 2, 2)])
@pytest.mark.parametrize("gain", [1.0, 1.7])
def test_orthogonal(shape, gain):
    pc.manual_seed(5)
    w = np.asarray(init.orthogonal_(fresh(shape, pc.float64), gain=gain)).reshape(shape[0], -1)
    rows, cols = w.shape
    if rows <= cols:
        np.testing.assert_allclose(w @ w.T, gain**2 * np.eye(rows), atol=1e-12)
    else:
        np.testing.assert_allclose(w.T @ w, gain**2 * np.eye(cols), atol=1e-12)
    with pytest.raises(ValueError):
        init.orthogonal_(fresh((4,)))


def test_eye_and_dirac_are_exact():
    np.testing.assert_array_equal(np.asarray(init.eye_(fresh((3, 5)))), np.eye(3, 5))
    w = np.asarray(init.dirac_(fresh((4, 3, 3, 3))))
    ref = np.zeros((4, 3, 3, 3))
    for d in range(3):
        ref[d, d, 1, 1] = 1
    np.testing.assert_array_equal(w, ref)
    w = np.asarray(init.dirac_(fresh((6, 2, 3)), groups=2))  # 3 out channels per group, 2 inputs
    ref = np.zeros((6, 2, 3))
    for g in range(2):
        for d in range(2):
            ref[g * 3 + d, d, 1] = 1
    np.testing.assert_array_equal(w, ref)
    # a dirac-initialised convolution is the identity on its input
    x = pc.randn(2, 3, 5, 5)
    np.testing.assert_allclose(
        np.asarray(pc.nn.functional.conv2d(x, init.dirac_(fresh((3, 3, 3, 3))), padding=1)), np.asarray(x), atol=1e-6
    )
    with pytest.raises(ValueError):
        init.eye_(fresh((2, 2, 2)))
    with pytest.raises(ValueError):
        init.dirac_(fresh((3, 3)))
    with pytest.raises(ValueError):
        init.dirac_(fresh((5, 3, 3)), groups=2)


def test_calculate_gain_matches_torch():
    torch = pytest.importorskip("torch")
    names = [
        "linear",
        "conv1d",
        "conv2d",
        "conv3d",
        "conv_transpose1d",
        "conv_transpose2d",
        "conv_transpose3d",
        "sigmoid",
        "tanh",
        "relu",
        "leaky_relu",
        "selu",
    ]
    for name in names:
        assert init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name))
    assert init.calculate_gain("leaky_relu", 0.3) == pytest.approx(torch.nn.init.calculate_gain("leaky_relu", 0.3))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError):
        init.calculate_gain("swish")
    with pytest.raises(ValueError):
        init.calculate_gain("leaky_relu", "x")


@pytest.mark.parametrize(
    "fn",
    [
        init.uniform_,
        init.normal_,
        init.xavier_uniform_,
        init.xavier_normal_,
        init.kaiming_uniform_,
        init.kaiming_normal_,
        init.lecun_uniform_,
        init.lecun_normal_,
        init.orthogonal_,
        init.trunc_normal_,
    ],
)
def test_reproducible_under_manual_seed(fn):
    pc.manual_seed(42)
    a = np.asarray(fn(fresh((16, 8, 3))))
    pc.manual_seed(42)
    b = np.asarray(fn(fresh((16, 8, 3))))
    np.testing.assert_array_equal(a, b)
    assert np.asarray(fn(fresh((16, 8, 3)))).tolist() != a.tolist()  # the stream moves on


def test_fan_errors():
    with pytest.raises(ValueError):
        init.xavier_uniform_(fresh((5,)))
    with pytest.raises(ValueError):
        init.kaiming_normal_(fresh((4, 4)), mode="fan_avg")


def test_init_on_a_parameter_keeps_it_a_leaf():
    lin = pc.nn.Linear(8, 4)
    init.orthogonal_(lin.weight)
    init.zeros_(lin.bias)
    assert lin.weight.requires_grad and lin.weight.grad_fn is None
    np.testing.assert_array_equal(np.asarray(lin.bias.detach()), np.zeros(4))
