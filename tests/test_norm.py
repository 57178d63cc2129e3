"""Normalisation ops and layers (batch, layer, group, instance, local response norm) and nn.utils:
(a) plain NumPy references in float32 and float64 on awkward shapes; (b) float64 finite-difference
gradcheck; (c) torch parity of outputs, gradients, running statistics over several steps, eval mode and
state_dict keys; (d) bad input raises a clear error.
"""

import math

import numpy as np
import pytest

import pycnn as pc
import pycnn.nn.functional as F

from helpers import check_device_matches_cpu, check_module_device_matches_cpu, check_torch, gradcheck, host, randn

DTYPES = [np.float32, np.float64]


def tol(dtype):
    return {"rtol": 1e-10, "atol": 1e-10} if dtype == np.float64 else {"rtol": 1e-4, "atol": 1e-5}


def pc_dtype(dtype):
    return pc.float64 if dtype == np.float64 else pc.float32


# ---------------------------------------------------------------- NumPy references ----


def batch_norm_ref(x, w=None, b=None, eps=1e-5):
    x = x.astype(np.float64)
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    if w is not None:
        y = y * w.reshape(shape) + b.reshape(shape)
    return y, mean, var


def group_norm_ref(x, groups, w=None, b=None, eps=1e-5):
    x = x.astype(np.float64)
    N, C = x.shape[:2]
    g = x.reshape(N, groups, -1)
    y = ((g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + eps)).reshape(x.shape)
    if w is not None:
        shape = (1, C) + (1,) * (x.ndim - 2)
        y = y * w.reshape(shape) + b.reshape(shape)
    return y


def layer_norm_ref(x, nd, w=None, b=None, eps=1e-5):
    x = x.astype(np.float64)
    axes = tuple(range(x.ndim - nd, x.ndim))
    y = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    if w is not None:
        y = y * w + b
    return y


def lrn_ref(x, size, alpha=1e-4, beta=0.75, k=1.0):
    x = x.astype(np.float64)
    C = x.shape[1]
    div = np.zeros_like(x)
    for c in range(C):
        for j in range(c - size // 2, c + (size - 1) // 2 + 1):
            if 0 <= j < C:
                div[:, c] += x[:, j] ** 2
    return x / (k + alpha / size * div) ** beta


# ---------------------------------------------------------------- forward vs NumPy ----


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 7), (3, 5, 6, 7), (2, 17, 3, 5)])
def test_batch_norm_training_matches_numpy(dtype, shape, device):
    x = randn(*shape, dtype=dtype, seed=1) * 3 + 2
    w, b = randn(shape[1], dtype=dtype, seed=2), randn(shape[1], dtype=dtype, seed=3)
    rm = pc.zeros(shape[1], dtype=pc_dtype(dtype), device=device)
    rv = pc.ones(shape[1], dtype=pc_dtype(dtype), device=device)
    y = F.batch_norm(
        pc.tensor(x, device=device),
        rm,
        rv,
        pc.tensor(w, device=device),
        pc.tensor(b, device=device),
        training=True,
        momentum=0.25,
    )
    ref, mean, var = batch_norm_ref(x, w, b)
    np.testing.assert_allclose(host(y), ref, **tol(dtype))
    M = x.size // shape[1]
    np.testing.assert_allclose(host(rm), 0.25 * mean, **tol(dtype))
    np.testing.assert_allclose(host(rv), 0.75 + 0.25 * var * M / (M - 1), **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_norm_and_relu_every_kernel_set(simd_level, dtype):
    """The kernel set's span kernels (sums, affine passes, ReLU) on plane sizes that leave every remainder
    of 4, 8 and 16 lanes and of the 256-element sum blocks: forward and input gradient against NumPy."""
    for spatial in [(1, 1), (1, 7), (3, 13), (16, 17), (19, 29)]:
        shape = (3, 4) + spatial
        x = randn(*shape, dtype=dtype, seed=1) * 3 + 2
        w, b = randn(4, dtype=dtype, seed=2), randn(4, dtype=dtype, seed=3)
        g = randn(*shape, dtype=dtype, seed=4)
        xt = pc.tensor(x, requires_grad=True)
        y = F.relu(F.batch_norm(xt, None, None, pc.tensor(w), pc.tensor(b), training=True))
        y.backward(pc.tensor(g))
        bn, mean, var = batch_norm_ref(x, w, b)
        np.testing.assert_allclose(host(y), np.maximum(bn, 0), **tol(dtype))
        # dx of relu(bn(x)): the batch-norm backward of dy = g where bn > 0
        dy = np.where(bn > 0, g.astype(np.float64), 0.0)
        axes, bshape = (0, 2, 3), (1, -1, 1, 1)
        xhat = (x - mean.reshape(bshape)) / np.sqrt(var.reshape(bshape) + 1e-5)
        dxhat = dy * w.reshape(bshape)
        dx = (dxhat - dxhat.mean(axis=axes, keepdims=True) - xhat * (dxhat * xhat).mean(axis=axes, keepdims=True)) / (
            np.sqrt(var.reshape(bshape) + 1e-5)
        )
        np.testing.assert_allclose(host(xt.grad), dx, rtol=tol(dtype)["rtol"] * 10, atol=tol(dtype)["atol"] * 10)


@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_norm_eval_uses_running_stats(dtype, device):
    x = randn(3, 4, 5, 2, dtype=dtype, seed=4)
    rm, rv = randn(4, dtype=dtype, seed=5), np.abs(randn(4, dtype=dtype, seed=6)) + 0.5
    w, b = randn(4, dtype=dtype, seed=7), randn(4, dtype=dtype, seed=8)
    y = F.batch_norm(
        pc.tensor(x, device=device),
        pc.tensor(rm, device=device),
        pc.tensor(rv, device=device),
        pc.tensor(w, device=device),
        pc.tensor(b, device=device),
        training=False,
    )
    s = (1, 4, 1, 1)
    ref = (x.astype(np.float64) - rm.reshape(s)) / np.sqrt(rv.reshape(s) + 1e-5) * w.reshape(s) + b.reshape(s)
    np.testing.assert_allclose(host(y), ref, **tol(dtype))


def test_batch_norm_large_offset_is_stable(device):
    # mean 1e4, std 1: a naive E[x^2] - E[x]^2 in float32 would lose every digit
    x = (randn(8, 2, 16, 16, dtype=np.float64, seed=9) + 1e4).astype(np.float32)
    y = F.batch_norm(pc.tensor(x, device=device), None, None, training=True)
    np.testing.assert_allclose(host(y), batch_norm_ref(x)[0], rtol=1e-3, atol=2e-3)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,groups", [((3, 6, 5, 4), 3), ((2, 4, 7), 1), ((2, 5, 3, 3), 5), ((4, 6), 2)])
def test_group_norm_matches_numpy(dtype, shape, groups, device):
    x = randn(*shape, dtype=dtype, seed=10) * 2 - 1
    w, b = randn(shape[1], dtype=dtype, seed=11), randn(shape[1], dtype=dtype, seed=12)
    y = F.group_norm(pc.tensor(x, device=device), groups, pc.tensor(w, device=device), pc.tensor(b, device=device))
    np.testing.assert_allclose(host(y), group_norm_ref(x, groups, w, b), **tol(dtype))
    y = F.group_norm(pc.tensor(x, device=device), groups)
    np.testing.assert_allclose(host(y), group_norm_ref(x, groups), **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,nd", [((3, 7), 1), ((2, 3, 5, 4), 2), ((4, 3, 5), 3)])
def test_layer_norm_matches_numpy(dtype, shape, nd, device):
    x = randn(*shape, dtype=dtype, seed=13) + 0.5
    w, b = randn(*shape[-nd:], dtype=dtype, seed=14), randn(*shape[-nd:], dtype=dtype, seed=15)
    y = F.layer_norm(pc.tensor(x, device=device), shape[-nd:], pc.tensor(w, device=device), pc.tensor(b, device=device))
    np.testing.assert_allclose(host(y), layer_norm_ref(x, nd, w, b), **tol(dtype))
    y = F.layer_norm(pc.tensor(x, device=device), shape[-nd:])
    np.testing.assert_allclose(host(y), layer_norm_ref(x, nd), **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_instance_norm_matches_numpy(dtype, device):
    x = randn(3, 4, 5, 6, dtype=dtype, seed=16)
    y = pc.nn.InstanceNorm2d(4, dtype=pc_dtype(dtype)).to(device)(pc.tensor(x, device=device))
    np.testing.assert_allclose(host(y), group_norm_ref(x, 4), **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", [1, 2, 3, 5])
def test_local_response_norm_matches_numpy(dtype, size, device):
    x = randn(2, 6, 3, 4, dtype=dtype, seed=17) * 3
    y = F.local_response_norm(pc.tensor(x, device=device), size, alpha=0.5, beta=0.6, k=1.5)
    np.testing.assert_allclose(host(y), lrn_ref(x, size, 0.5, 0.6, 1.5), **tol(dtype))


# ---------------------------------------------------------------- the device vs the CPU ----


def _f32(*shape, seed=0):
    return randn(*shape, dtype=np.float32, seed=seed) * 2 + 0.5


# name -> (fn, float32 inputs): odd sizes (channel / row lengths that are not a block multiple), every option
NORM_DEVICE_CASES = {
    "batch_norm_train": (
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True, eps=1e-3),
        [_f32(3, 5, 7, 9, seed=1), _f32(5, seed=2), _f32(5, seed=3)],
    ),
    "batch_norm_train_1d": (lambda x: F.batch_norm(x, None, None, training=True), [_f32(37, 3, seed=1)]),
    "group_norm": (
        lambda x, w, b: F.group_norm(x, 3, w, b),
        [_f32(2, 6, 5, 7, seed=4), _f32(6, seed=5), _f32(6, seed=6)],
    ),
    "group_norm_plain": (lambda x: F.group_norm(x, 1), [_f32(3, 4, 33, seed=4)]),
    "instance_norm": (lambda x: F.instance_norm(x), [_f32(2, 3, 9, 11, seed=7)]),
    "layer_norm": (
        lambda x, w, b: F.layer_norm(x, (3, 37), w, b),
        [_f32(5, 3, 37, seed=8), _f32(3, 37, seed=9), _f32(3, 37, seed=10)],
    ),
    "layer_norm_long_rows": (lambda x: F.layer_norm(x, 1031), [_f32(3, 1031, seed=11)]),
    "local_response_norm": (
        lambda x: F.local_response_norm(x, 3, alpha=0.5, beta=0.6, k=1.5),
        [_f32(2, 7, 3, 5, seed=12)],
    ),
}


@pytest.mark.parametrize("name", list(NORM_DEVICE_CASES))
def test_norms_device_matches_cpu(name, device):
    """float32 values and every input's gradient on the device (contiguous and strided inputs) against the
    CPU kernels (on the CPU: strided against contiguous). Tolerance: one-pass statistics over <= 1031 values."""
    fn, inputs = NORM_DEVICE_CASES[name]
    check_device_matches_cpu(fn, inputs, device, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "cls,shape", [("BatchNorm2d", (4, 3, 5, 7)), ("BatchNorm1d", (9, 5)), ("GroupNorm", (2, 6, 3))]
)
def test_norm_modules_device_matches_cpu(cls, shape, device):
    """A module copied to the device: output, gradients and the running statistics after a training step."""
    m = pc.nn.GroupNorm(3, shape[1]) if cls == "GroupNorm" else getattr(pc.nn, cls)(shape[1], momentum=0.3)
    pc.nn.init.normal_(m.weight)
    pc.nn.init.normal_(m.bias)
    check_module_device_matches_cpu(m, _f32(*shape, seed=13), device, rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------- gradcheck ----


@pytest.mark.parametrize("shape", [(5, 3), (3, 2, 4), (2, 3, 3, 2)])
def test_batch_norm_gradcheck_training(shape, device):
    gradcheck(
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
        [randn(*shape, seed=20), randn(shape[1], seed=21), randn(shape[1], seed=22)],
        device=device,
    )


def test_batch_norm_gradcheck_eval(device):
    rm, rv = pc.tensor(randn(3, seed=23), dtype=pc.float64), pc.tensor(np.abs(randn(3, seed=24)) + 1)
    rv = rv.double()
    gradcheck(
        lambda x, w, b: F.batch_norm(x, rm.to(x.device), rv.to(x.device), w, b, training=False),
        [randn(2, 3, 2, 2, seed=25), randn(3, seed=26), randn(3, seed=27)],
        device=device,
    )


def test_group_and_instance_norm_gradcheck(device):
    gradcheck(
        lambda x, w, b: F.group_norm(x, 2, w, b),
        [randn(2, 4, 3, 2, seed=28), randn(4, seed=29), randn(4, seed=30)],
        device=device,
    )
    gradcheck(lambda x: F.instance_norm(x), [randn(2, 3, 2, 3, seed=31)], device=device)


def test_layer_norm_gradcheck(device):
    gradcheck(
        lambda x, w, b: F.layer_norm(x, (3, 4), w, b),
        [randn(2, 3, 4, seed=32), randn(3, 4, seed=33), randn(3, 4, seed=34)],
        device=device,
    )
    gradcheck(lambda x: F.layer_norm(x, 5), [randn(3, 5, seed=35)], device=device)


def test_local_response_norm_gradcheck(device):
    gradcheck(
        lambda x: F.local_response_norm(x, 3, alpha=0.3, beta=0.75, k=1.0), [randn(2, 5, 2, 3, seed=36)], device=device
    )
    gradcheck(
        lambda x: F.local_response_norm(x, 2, alpha=0.5, beta=0.5, k=2.0), [randn(1, 4, 3, seed=37)], device=device
    )


# ---------------------------------------------------------------- torch parity ----


@pytest.mark.parametrize("dtype", DTYPES)
def test_functional_norms_match_torch(dtype):
    torch = pytest.importorskip("torch")
    tF = torch.nn.functional
    t = {"atol": 1e-5, "rtol": 1e-4} if dtype == np.float32 else {"atol": 1e-10, "rtol": 1e-9}
    x, w, b = (
        randn(3, 4, 5, 6, dtype=dtype, seed=40) * 2 + 1,
        randn(4, dtype=dtype, seed=41),
        randn(4, dtype=dtype, seed=42),
    )
    check_torch(
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
        lambda x, w, b: tF.batch_norm(x, None, None, w, b, training=True),
        [x, w, b],
        **t,
    )
    check_torch(lambda x, w, b: F.group_norm(x, 2, w, b), lambda x, w, b: tF.group_norm(x, 2, w, b), [x, w, b], **t)
    check_torch(
        lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
        lambda x, w, b: tF.instance_norm(x, weight=w, bias=b),
        [x, w, b],
        **t,
    )
    lw, lb = randn(5, 6, dtype=dtype, seed=43), randn(5, 6, dtype=dtype, seed=44)
    check_torch(
        lambda x, w, b: F.layer_norm(x, (5, 6), w, b), lambda x, w, b: tF.layer_norm(x, (5, 6), w, b), [x, lw, lb], **t
    )
    check_torch(
        lambda x: F.local_response_norm(x, 3, 0.1, 0.75, 1.0),
        lambda x: tF.local_response_norm(x, 3, 0.1, 0.75, 1.0),
        [x],
        **t,
    )


def _copy_params(p_mod, t_mod):
    torch = pytest.importorskip("torch")
    with torch.no_grad():
        for name, p in p_mod.named_parameters():
            dict(t_mod.named_parameters())[name].copy_(torch.tensor(np.asarray(p.detach())))


@pytest.mark.parametrize(
    "cls,shape,momentum",
    [
        ("BatchNorm2d", (4, 3, 5, 5), 0.1),
        ("BatchNorm2d", (2, 3, 4, 3), None),
        ("BatchNorm1d", (6, 5), 0.3),
        ("BatchNorm1d", (3, 4, 7), 0.1),
    ],
)
def test_batch_norm_module_matches_torch_over_steps(cls, shape, momentum, device):
    torch = pytest.importorskip("torch")
    p_mod = getattr(pc.nn, cls)(shape[1], momentum=momentum)
    t_mod = getattr(torch.nn, cls)(shape[1], momentum=momentum)
    pc.nn.init.normal_(p_mod.weight)
    pc.nn.init.normal_(p_mod.bias)
    _copy_params(p_mod, t_mod)
    p_mod.to(device)
    assert list(p_mod.state_dict().keys()) == list(t_mod.state_dict().keys())
    for step in range(4):
        x = randn(*shape, dtype=np.float32, seed=50 + step) * (step + 1) + step
        g = randn(*shape, dtype=np.float32, seed=60 + step)
        xp, xt = pc.tensor(x, requires_grad=True, device=device), torch.tensor(x, requires_grad=True)
        yp, yt = p_mod(xp), t_mod(xt)
        yp.backward(pc.tensor(g, device=device))
        yt.backward(torch.tensor(g))
        np.testing.assert_allclose(host(yp.detach()), yt.detach().numpy(), atol=1e-5, rtol=1e-4)
        np.testing.assert_allclose(host(xp.grad), xt.grad.numpy(), atol=1e-5, rtol=1e-4)
    np.testing.assert_allclose(host(p_mod.weight.grad), t_mod.weight.grad.numpy(), atol=1e-4, rtol=1e-4)
    np.testing.assert_allclose(host(p_mod.bias.grad), t_mod.bias.grad.numpy(), atol=1e-4, rtol=1e-4)
    sd_p, sd_t = p_mod.state_dict(), t_mod.state_dict()
    for k in ("running_mean", "running_var"):
        np.testing.assert_allclose(host(sd_p[k]), sd_t[k].numpy(), atol=1e-5, rtol=1e-5)
    assert int(sd_p["num_batches_tracked"].item()) == int(sd_t["num_batches_tracked"]) == 4
    p_mod.eval()
    t_mod.eval()
    x = randn(*shape, dtype=np.float32, seed=70)
    np.testing.assert_allclose(
        host(p_mod(pc.tensor(x, device=device)).detach()), t_mod(torch.tensor(x)).detach().numpy(), atol=1e-5, rtol=1e-4
    )


def test_batch_norm_without_running_stats_and_affine():
    torch = pytest.importorskip("torch")
    p_mod, t_mod = (
        pc.nn.BatchNorm2d(3, affine=False, track_running_stats=False),
        torch.nn.BatchNorm2d(3, affine=False, track_running_stats=False),
    )
    assert list(p_mod.state_dict().keys()) == list(t_mod.state_dict().keys()) == []
    p_mod.eval()
    t_mod.eval()
    x = randn(2, 3, 4, 4, dtype=np.float32, seed=71)
    np.testing.assert_allclose(np.asarray(p_mod(pc.tensor(x))), t_mod(torch.tensor(x)).numpy(), atol=1e-5)


def test_instance_norm_running_stats_match_torch(device):
    torch = pytest.importorskip("torch")
    p_mod = pc.nn.InstanceNorm2d(3, affine=True, track_running_stats=True)
    t_mod = torch.nn.InstanceNorm2d(3, affine=True, track_running_stats=True)
    p_mod.to(device)
    assert list(p_mod.state_dict().keys()) == list(t_mod.state_dict().keys())
    for step in range(3):
        x = randn(2, 3, 4, 5, dtype=np.float32, seed=80 + step) + step
        np.testing.assert_allclose(
            host(p_mod(pc.tensor(x, device=device))), t_mod(torch.tensor(x)).detach().numpy(), atol=1e-5, rtol=1e-4
        )
    np.testing.assert_allclose(host(p_mod.running_mean), t_mod.running_mean.numpy(), atol=1e-6)
    np.testing.assert_allclose(host(p_mod.running_var), t_mod.running_var.numpy(), atol=1e-5)
    p_mod.eval()
    t_mod.eval()
    x = randn(2, 3, 4, 5, dtype=np.float32, seed=90)
    np.testing.assert_allclose(
        host(p_mod(pc.tensor(x, device=device)).detach()), t_mod(torch.tensor(x)).detach().numpy(), atol=1e-5, rtol=1e-4
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda nn: nn.LayerNorm((4, 5)),
        lambda nn: nn.GroupNorm(2, 4),
        lambda nn: nn.InstanceNorm2d(4),
        lambda nn: nn.LocalResponseNorm(3),
        lambda nn: nn.BatchNorm1d(4),
        lambda nn: nn.LayerNorm(5, elementwise_affine=False),
    ],
)
def test_module_state_dict_keys_and_shapes_match_torch(make):
    torch = pytest.importorskip("torch")
    sd_p, sd_t = make(pc.nn).state_dict(), make(torch.nn).state_dict()
    assert list(sd_p.keys()) == list(sd_t.keys())
    for k in sd_p:
        assert tuple(sd_p[k].shape) == tuple(sd_t[k].shape)
        np.testing.assert_array_equal(np.asarray(sd_p[k]), sd_t[k].numpy())


def test_same_result_for_1_and_2_threads():
    x = pc.tensor(randn(8, 16, 12, 12, dtype=np.float32, seed=95), requires_grad=True)
    results = []
    old = pc.get_num_threads()
    try:
        for n in (1, 2):
            pc.set_num_threads(n)
            x.grad = None
            y = F.batch_norm(x, None, None, training=True) + F.group_norm(x, 4)
            y.backward(pc.tensor(randn(8, 16, 12, 12, dtype=np.float32, seed=96)))
            results.append((np.asarray(y.detach()), np.asarray(x.grad)))
    finally:
        pc.set_num_threads(old)
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


# ---------------------------------------------------------------- nn.utils ----


def test_clip_grad_norm_matches_torch(device):
    torch = pytest.importorskip("torch")
    for norm_type in (2.0, 1.0, math.inf, 3.0):
        grads = [randn(3, 4, seed=100), randn(5, seed=101)]
        p_params = [pc.tensor(np.zeros_like(g), requires_grad=True, device=device) for g in grads]
        t_params = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
        for pp, tp, g in zip(p_params, t_params, grads):
            pp.grad = pc.tensor(g, device=device)
            tp.grad = torch.tensor(g)
        total_p = pc.nn.utils.clip_grad_norm_(p_params, 0.5, norm_type)
        total_t = torch.nn.utils.clip_grad_norm_(t_params, 0.5, norm_type)
        assert abs(float(total_p) - float(total_t)) < 1e-10
        for pp, tp in zip(p_params, t_params):
            np.testing.assert_allclose(host(pp.grad), tp.grad.numpy(), rtol=1e-10, atol=1e-12)
    p = pc.tensor(np.zeros(2), requires_grad=True, device=device)
    p.grad = pc.tensor(np.array([0.1, 0.2]), device=device)
    pc.nn.utils.clip_grad_norm_([p], 10.0)  # under the limit: unchanged
    np.testing.assert_array_equal(host(p.grad), [0.1, 0.2])
    p.grad = pc.tensor(np.array([np.inf, 1.0]), device=device)
    with pytest.raises(RuntimeError, match="non-finite"):
        pc.nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


def test_clip_grad_value(device):
    p = pc.tensor(np.zeros((2, 3), dtype=np.float32), requires_grad=True, device=device)
    g = randn(2, 3, dtype=np.float32, seed=102) * 3
    p.grad = pc.tensor(g, device=device)
    pc.nn.utils.clip_grad_value_([p], 1.0)
    np.testing.assert_array_equal(host(p.grad), np.clip(g, -1, 1))
    with pytest.raises(ValueError):
        pc.nn.utils.clip_grad_value_([p], -1.0)


def test_weight_penalties_exclude_biases_and_norms_by_default():
    model = pc.nn.Sequential(pc.nn.Conv2d(2, 3, 3), pc.nn.BatchNorm2d(3), pc.nn.Flatten(), pc.nn.Linear(12, 2))
    conv_w, lin_w = np.asarray(model[0].weight.detach()), np.asarray(model[3].weight.detach())
    l1, l2 = pc.nn.utils.l1_penalty(model), pc.nn.utils.l2_penalty(model)
    np.testing.assert_allclose(float(l1), np.abs(conv_w).sum() + np.abs(lin_w).sum(), rtol=1e-5)
    np.testing.assert_allclose(float(l2), (conv_w**2).sum() + (lin_w**2).sum(), rtol=1e-5)
    (l1 + l2).backward()
    np.testing.assert_allclose(np.asarray(model[0].weight.grad), np.sign(conv_w) + 2 * conv_w, rtol=1e-5)
    assert model[0].bias.grad is None and model[1].weight.grad is None
    everything = sum(float((np.asarray(p.detach()) ** 2).sum()) for p in model.parameters())
    np.testing.assert_allclose(float(pc.nn.utils.l2_penalty(model, include_all=True)), everything, rtol=1e-5)


def test_lp_penalty_gradcheck(device):
    from pycnn import autograd_ops as ag

    gradcheck(lambda w: ag.LpSumFn.apply(w, 2.0), [randn(3, 4, seed=103)], device=device)
    gradcheck(lambda w: ag.LpSumFn.apply(w, 1.0), [randn(3, 4, seed=104, away_from_zero=0.1)], device=device)


# ---------------------------------------------------------------- bad input ----


def test_bad_input():
    x = pc.randn(2, 3, 4, 4)
    with pytest.raises(ValueError, match="batch_norm"):
        F.batch_norm(x, pc.zeros(4), pc.ones(4), training=True)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(pc.randn(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match="eval mode needs"):
        F.batch_norm(x, None, None, training=False)
    with pytest.raises(TypeError, match="batch_norm"):
        F.batch_norm(x, None, None, pc.ones(3, dtype=pc.float64), training=True)
    with pytest.raises(ValueError, match="BatchNorm2d"):
        pc.nn.BatchNorm2d(3)(pc.randn(2, 3))
    with pytest.raises(ValueError, match="divisible"):
        F.group_norm(x, 2)
    with pytest.raises(ValueError, match="divisible"):
        pc.nn.GroupNorm(2, 3)
    with pytest.raises(ValueError, match="layer_norm"):
        F.layer_norm(x, (5,))
    with pytest.raises(ValueError, match="local_response_norm"):
        F.local_response_norm(pc.randn(3, 4), 2)
    with pytest.raises(TypeError, match="group_norm"):
        F.group_norm(pc.tensor(np.ones((2, 2, 2), dtype=np.int64)), 1)
    with pytest.raises(ValueError):
        pc.nn.BatchNorm1d(0)
