"""Dropout, Dropout2d and AlphaDropout: the drop rate and the preserved mean/variance, identity in eval,
reproducibility under pc.manual_seed, independence from the thread count, the backward reusing the
forward's mask (checked against a NumPy reference built from the forward's output), and bad input.
"""

import numpy as np
import pytest

import pycnn as pc
import pycnn.nn.functional as F

from helpers import gradcheck, host, randn

DTYPES = [np.float32, np.float64]
SELU_ALPHA = 1.7580993408473766  # torch's alpha' = SELU scale * SELU alpha


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_rate_and_mean(dtype, p, device):
    pc.manual_seed(0)
    x = np.ones((400, 500), dtype=dtype)
    y = host(F.dropout(pc.tensor(x, device=device), p))
    dropped = y == 0
    assert abs(dropped.mean() - p) < 0.01
    np.testing.assert_allclose(y[~dropped], 1 / (1 - p), rtol=1e-6)
    assert abs(y.mean() - 1.0) < 0.02


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_backward_reuses_mask(dtype, device):
    pc.manual_seed(1)
    x = randn(7, 13, 5, dtype=dtype, seed=1, away_from_zero=0.1)
    g = randn(7, 13, 5, dtype=dtype, seed=2)
    xt = pc.tensor(x, device=device, requires_grad=True)
    y = F.dropout(xt, 0.4)
    y.backward(pc.tensor(g, device=device))
    kept = host(y.detach()) != 0
    np.testing.assert_allclose(host(xt.grad), np.where(kept, g / 0.6, 0.0), rtol=1e-6)
    np.testing.assert_allclose(host(y.detach()), np.where(kept, x / 0.6, 0.0), rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout2d_drops_whole_channels(dtype, device):
    pc.manual_seed(2)
    x = np.abs(randn(20, 30, 4, 5, dtype=dtype, seed=3)) + 0.1
    g = randn(20, 30, 4, 5, dtype=dtype, seed=4)
    xt = pc.tensor(x, device=device, requires_grad=True)
    y = F.dropout2d(xt, 0.3)
    y.backward(pc.tensor(g, device=device))
    y = host(y.detach())
    dropped = (y == 0).reshape(20, 30, -1)
    assert np.all(dropped.all(-1) == dropped.any(-1)), "a channel was dropped only in part"
    assert abs(dropped.all(-1).mean() - 0.3) < 0.05
    kept = ~dropped.all(-1)[:, :, None, None]
    np.testing.assert_allclose(y, np.where(kept, x / 0.7, 0), rtol=1e-6)
    np.testing.assert_allclose(host(xt.grad), np.where(kept, g / 0.7, 0), rtol=1e-6)
    assert pc.nn.Dropout2d(0.5)(pc.randn(2, 3, 5).to(device)).shape == (2, 3, 5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_alpha_dropout_keeps_selu_moments_and_formula(dtype, device):
    pc.manual_seed(3)
    p = 0.2
    x = randn(500, 400, dtype=dtype, seed=5)
    g = randn(500, 400, dtype=dtype, seed=6)
    xt = pc.tensor(x, device=device, requires_grad=True)
    y = F.alpha_dropout(xt, p, training=True)
    y.backward(pc.tensor(g, device=device))
    y = host(y.detach()).astype(np.float64)
    assert abs(y.mean()) < 0.01 and abs(y.std() - 1) < 0.01
    a = 1 / np.sqrt((SELU_ALPHA**2 * p + 1) * (1 - p))
    b = SELU_ALPHA * a * p
    dropped_value = -SELU_ALPHA * a + b
    dropped = np.isclose(y, dropped_value, rtol=0, atol=1e-6) & ~np.isclose(a * x + b, dropped_value, atol=1e-3)
    assert abs(dropped.mean() - p) < 0.01
    kept = ~np.isclose(y, dropped_value, rtol=0, atol=1e-6)
    np.testing.assert_allclose(y[kept], (a * x + b)[kept], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(host(xt.grad)[kept], (a * g)[kept], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(host(xt.grad)[dropped], 0)


@pytest.mark.parametrize("cls", ["Dropout", "Dropout2d", "AlphaDropout"])
def test_identity_in_eval_and_p_zero(cls, device):
    x = pc.randn(3, 4, 5, 6).to(device)
    m = getattr(pc.nn, cls)(0.5)
    m.eval()
    np.testing.assert_array_equal(host(m(x)), host(x))
    m.train()
    assert not np.array_equal(host(m(x)), host(x))
    np.testing.assert_array_equal(host(getattr(pc.nn, cls)(0.0)(x)), host(x))
    assert list(m.state_dict().keys()) == []


def test_p_one_zeroes_everything(device):
    x = pc.randn(4, 5).to(device)
    np.testing.assert_array_equal(host(F.dropout(x, 1.0)), 0)
    np.testing.assert_array_equal(host(F.alpha_dropout(x, 1.0, training=True)), 0)


@pytest.mark.parametrize(
    "fn", [lambda x: F.dropout(x, 0.5), lambda x: F.dropout2d(x, 0.5), lambda x: F.alpha_dropout(x, 0.5, True)]
)
def test_reproducible_with_manual_seed_and_thread_count(fn, device):
    """The same seed gives the same mask (on the CPU whatever the thread count); the CUDA generator is not the
    CPU's, so only reproducibility is compared there, never the masks across devices."""
    x = pc.randn(16, 32, 9, 9).to(device)
    outs = []
    old = pc.get_num_threads()
    try:
        for threads in (1, 2, 1) if device == "cpu" else (1, 1, 1):
            pc.set_num_threads(threads)
            pc.manual_seed(1234)
            outs.append(host(fn(x)))
    finally:
        pc.set_num_threads(old)
    np.testing.assert_array_equal(outs[0], outs[1])
    np.testing.assert_array_equal(outs[0], outs[2])
    pc.manual_seed(1234)
    fn(x)
    assert not np.array_equal(host(fn(x)), outs[0]), "consecutive calls must draw new masks"


def test_gradcheck_with_fixed_seed(device):
    # the objective re-runs the forward: the same seed each time gives the same mask
    def run(fn):
        def f(x):
            pc.manual_seed(7)
            return fn(x)

        return f

    gradcheck(run(lambda x: F.dropout(x, 0.3)), [randn(4, 5, seed=8)], device=device)
    gradcheck(run(lambda x: F.dropout2d(x, 0.3)), [randn(2, 3, 2, 2, seed=9)], device=device)
    gradcheck(run(lambda x: F.alpha_dropout(x, 0.3, True)), [randn(4, 5, seed=10)], device=device)


def test_bad_input():
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(pc.randn(3), 1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        pc.nn.Dropout(-0.1)
    with pytest.raises(ValueError, match="dropout2d"):
        F.dropout2d(pc.randn(3, 4), 0.5)
    with pytest.raises(TypeError, match="dropout"):
        F.dropout(pc.tensor(np.ones(3, dtype=np.int64)), 0.5)
    with pytest.raises(TypeError):
        F.dropout(np.ones(3), 0.5)
