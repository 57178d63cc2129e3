"""NonLocalBlock2d (Wang et al. 2018): (a) output shape for every mode, with and without sub-sampling;
(b) identity at initialisation; (c) NumPy references of the embedded-Gaussian and dot-product forward;
(d) float64 finite-difference gradcheck w.r.t. the input for every mode; (e) torch parity of a
hand-written embedded-Gaussian block with copied weights; (f) bad input raises a clear error.
"""

import numpy as np
import pytest

import pycnn as pc

from helpers import gradcheck, randn

MODES = ["embedded_gaussian", "gaussian", "dot_product", "concatenation"]


def _randomise(block, seed=1, scale=0.5):
    """Random non-trivial values in every parameter (so the non-local branch is not zero)."""
    rng = np.random.default_rng(seed)
    for p in block.parameters():
        values = rng.standard_normal(p.shape) * scale
        with pc.no_grad():
            p.copy_(pc.tensor(values, dtype=p.dtype))
    return block


def _np_params(block):
    return {name: np.asarray(p.detach()).astype(np.float64) for name, p in block.named_parameters()}


def _conv1x1(x, w, b):
    """(B, C, N) -> (B, O, N) with a (O, C, 1, 1) weight."""
    y = np.einsum("oc,bcn->bon", w[:, :, 0, 0], x)
    return y if b is None else y + b[None, :, None]


def _softmax(a):
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def nonlocal_ref(x, p, mode):
    """Plain NumPy forward (no sub-sampling, no BN)."""
    b, c, h, w = x.shape
    xf = x.reshape(b, c, h * w)
    theta = _conv1x1(xf, p["theta.weight"], p["theta.bias"])
    phi = _conv1x1(xf, p["phi.weight"], p["phi.bias"])
    g = _conv1x1(xf, p["g.weight"], p["g.bias"])
    s = np.einsum("bki,bkj->bij", theta, phi)
    f = _softmax(s) if mode == "embedded_gaussian" else s / s.shape[-1]
    y = np.einsum("bij,bkj->bki", f, g)
    return _conv1x1(y, p["W_z.weight"], p["W_z.bias"]).reshape(x.shape) + x


# ---------------------------------------------------------------- shapes and initialisation ----


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("sub_sample", [False, True])
@pytest.mark.parametrize("bn_layer", [False, True])
def test_shape(mode, sub_sample, bn_layer):
    block = _randomise(pc.nn.NonLocalBlock2d(6, mode=mode, sub_sample=sub_sample, bn_layer=bn_layer))
    for shape in [(2, 6, 5, 7), (1, 6, 4, 4)]:
        x = pc.tensor(randn(*shape, dtype=np.float32))
        y = block(x)
        assert y.shape == x.shape
        assert y.dtype == pc.float32
        assert np.all(np.isfinite(np.asarray(y)))


def test_default_inter_channels():
    assert pc.nn.NonLocalBlock2d(8).inter_channels == 4
    assert pc.nn.NonLocalBlock2d(1).inter_channels == 1
    assert pc.nn.NonLocalBlock2d(8, inter_channels=3).g.weight.shape == (3, 8, 1, 1)
    assert isinstance(pc.nn.NonLocalBlock2d(4).bn, pc.nn.BatchNorm2d)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("sub_sample", [False, True])
@pytest.mark.parametrize("bn_layer", [False, True])
def test_identity_at_init(mode, sub_sample, bn_layer):
    block = pc.nn.NonLocalBlock2d(4, mode=mode, sub_sample=sub_sample, bn_layer=bn_layer)
    x = randn(2, 4, 4, 5, dtype=np.float32, seed=3)
    for training in (True, False):
        block.train(training)
        np.testing.assert_array_equal(np.asarray(block(pc.tensor(x))), x)
    if bn_layer:
        assert np.all(np.asarray(block.bn.weight) == 0) and np.all(np.asarray(block.bn.bias) == 0)


# ---------------------------------------------------------------- NumPy reference ----


@pytest.mark.parametrize("mode", ["embedded_gaussian", "dot_product"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_numpy(mode, dtype):
    block = pc.nn.NonLocalBlock2d(5, inter_channels=3, mode=mode, bn_layer=False)
    if dtype == np.float64:
        block = block.double()
    _randomise(block, seed=2)
    x = randn(2, 5, 3, 4, dtype=dtype, seed=4)
    y = np.asarray(block(pc.tensor(x)))
    assert y.dtype == dtype
    ref = nonlocal_ref(x.astype(np.float64), _np_params(block), mode)
    tol = {"rtol": 1e-10, "atol": 1e-10} if dtype == np.float64 else {"rtol": 1e-4, "atol": 1e-5}
    np.testing.assert_allclose(y, ref, **tol)


# ---------------------------------------------------------------- gradients ----


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("sub_sample", [False, True])
def test_gradcheck(mode, sub_sample):
    block = _randomise(pc.nn.NonLocalBlock2d(4, mode=mode, sub_sample=sub_sample, bn_layer=False).double(), seed=5)
    shape = (1, 4, 4, 4) if sub_sample else (1, 4, 3, 3)
    gradcheck(block, [randn(*shape, seed=6)])


@pytest.mark.parametrize("mode", MODES)
def test_gradcheck_with_bn(mode):
    block = _randomise(pc.nn.NonLocalBlock2d(4, mode=mode, bn_layer=True).double(), seed=7)
    gradcheck(block, [randn(2, 4, 3, 3, seed=8)])


# ---------------------------------------------------------------- torch parity ----


@pytest.mark.parametrize("sub_sample", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_torch_embedded_gaussian(sub_sample, dtype):
    torch = pytest.importorskip("torch")
    tF = torch.nn.functional
    block = pc.nn.NonLocalBlock2d(6, inter_channels=3, sub_sample=sub_sample, bn_layer=True)
    if dtype == np.float64:
        block = block.double()
    _randomise(block, seed=9)
    tp = {k: torch.tensor(np.asarray(v.detach()), requires_grad=True) for k, v in block.named_parameters()}
    x = randn(2, 6, 4, 6, dtype=dtype, seed=10)

    def torch_block(t):
        b, _c, h, w = t.shape
        theta = tF.conv2d(t, tp["theta.weight"], tp["theta.bias"]).reshape(b, 3, -1).permute(0, 2, 1)
        phi = tF.conv2d(t, tp["phi.weight"], tp["phi.bias"])
        g = tF.conv2d(t, tp["g.weight"], tp["g.bias"])
        if sub_sample:
            phi, g = tF.max_pool2d(phi, 2), tF.max_pool2d(g, 2)
        f = torch.softmax(theta @ phi.reshape(b, 3, -1), dim=-1)
        y = (f @ g.reshape(b, 3, -1).permute(0, 2, 1)).permute(0, 2, 1).reshape(b, 3, h, w)
        wy = tF.conv2d(y, tp["W_z.weight"], tp["W_z.bias"])
        wy = tF.batch_norm(wy, None, None, tp["bn.weight"], tp["bn.bias"], training=True, eps=1e-5)
        return wy + t

    xp = pc.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    yp, yt = block(xp), torch_block(xt)
    tol = {"rtol": 1e-10, "atol": 1e-10} if dtype == np.float64 else {"rtol": 1e-4, "atol": 1e-4}
    np.testing.assert_allclose(np.asarray(yp.detach()), yt.detach().numpy(), **tol)
    cot = randn(*x.shape, dtype=dtype, seed=11)
    yp.backward(pc.tensor(cot))
    yt.backward(torch.tensor(cot))
    np.testing.assert_allclose(np.asarray(xp.grad), xt.grad.numpy(), **tol)
    # parameter gradients too: the whole graph is connected
    for name in ("theta.weight", "phi.bias", "g.weight", "W_z.weight", "bn.weight"):
        np.testing.assert_allclose(
            np.asarray(dict(block.named_parameters())[name].grad), tp[name].grad.numpy(), err_msg=name, **tol
        )


# ---------------------------------------------------------------- bad input ----


def test_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        pc.nn.NonLocalBlock2d(4, mode="softmax")
    with pytest.raises(ValueError, match="in_channels"):
        pc.nn.NonLocalBlock2d(0)
    with pytest.raises(ValueError, match="inter_channels"):
        pc.nn.NonLocalBlock2d(4, inter_channels=0)


def test_bad_input():
    block = pc.nn.NonLocalBlock2d(4, sub_sample=True)
    with pytest.raises(ValueError, match=r"\(B, 4, H, W\)"):
        block(pc.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"\(B, 4, H, W\)"):
        block(pc.randn(4, 4, 4))
    with pytest.raises(ValueError, match="sub_sample"):
        block(pc.randn(1, 4, 1, 4))
