"""Winograd F(4x4, 3x3) convolution on the CPU (csrc/ops/cpu/winograd.cpp): the forward and the input
gradient of stride-1 3x3 float32 layers, against a float64 reference (the GEMM path in float64).

The error bound. Each output is its bias plus a sum of products over its 3x3 x C window; let S be the
largest |b| + sum of |x| |w| over the outputs (sum of |dout| |w| for the input gradient, sum of |dout| |x|
over the batch and image for the weight gradient). Both algorithms' float32 error is at most k * eps32 * S.
The GEMM path's k is about 1 (measured <= 1.7 on the shapes below). Winograd's transforms scale values by up
to 8 and 1/24 and cancel large terms (the rows of B^T sum to 10 in absolute value, those of A^T to 19), so
its error is about ten times larger: measured k <= 13.6 for the forward and input gradient, <= 18.4 for the
weight gradient; the tests use k = 40. A weight perturbed by 1e-3 of its size
breaks this bound (test_bound_catches_a_wrong_weight), so it is tight enough to catch a wrong transform. Float64 always takes the GEMM path, so gradcheck (float64) does not apply here;
the float64 GEMM path is the reference instead.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

import pycnn as pc
import pycnn.nn.functional as F

from helpers import SUBPROCESS_CWD

EPS32 = float(np.finfo(np.float32).eps)
K_BOUND = 40.0

# (N, C, H, W, OC, padding): the ResNet-18 3x3 layers with batch 1, then awkward ones.
RESNET = [(1, 64, 32, 32, 64, 1), (1, 128, 16, 16, 128, 1), (1, 256, 8, 8, 256, 1), (2, 512, 4, 4, 512, 1)]
AWKWARD = [
    (3, 3, 7, 9, 5, 1),
    (2, 17, 9, 11, 33, 0),
    (1, 1, 1, 1, 5, 1),
    (2, 3, 2, 2, 5, 2),
    (1, 17, 5, 7, 33, 2),
    (3, 17, 13, 6, 5, 1),
    (1, 33, 6, 6, 17, 0),
    (2, 5, 19, 23, 5, 2),
]


@pytest.fixture
def algorithm():
    """Sets the conv2d algorithm for one test; the previous one comes back after."""
    before = pc._C._conv2d_algorithm()
    yield pc._C._set_conv2d_algorithm
    pc._C._set_conv2d_algorithm(before)


def arrays(n, c, h, w, oc, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w))
    wt = rng.standard_normal((oc, c, 3, 3)) / np.sqrt(9 * c)
    b = rng.standard_normal(oc)
    return x, wt, b


def random_dout(shape, padding):
    """A gradient of conv2d's output for input shape (N, C, H, W, OC) with a 3x3 kernel and this padding."""
    n, _, h, w, oc = shape
    return np.random.default_rng(1).standard_normal((n, oc, h + 2 * padding - 2, w + 2 * padding - 2))


def conv(x, w, b, padding, need_dx=False, dout=None):
    """y = conv2d(x, w, b) in x's dtype, and dx for dout when asked."""
    xt = pc.from_numpy(x)
    if dout is None:
        with pc.no_grad():
            return F.conv2d(xt, pc.from_numpy(w), None if b is None else pc.from_numpy(b), padding=padding).numpy()
    xt.requires_grad_()
    F.conv2d(xt, pc.from_numpy(w), None if b is None else pc.from_numpy(b), padding=padding).backward(
        pc.from_numpy(dout)
    )
    return xt.grad.numpy()


def reference(x, w, b, padding, dout=None):
    """(float64 result, S) on the GEMM path: S is the largest |b| + sum of |x||w| (or sum of |dout||w|) of an
    output."""
    pc._C._set_conv2d_algorithm("gemm")
    exact = conv(x, w, b, padding, dout=dout)
    if dout is None:
        scale = conv(np.abs(x), np.abs(w), None if b is None else np.abs(b), padding)
    else:
        scale = conv(x, np.abs(w), None, padding, dout=np.abs(dout))
    return exact, float(scale.max())


def assert_within_bound(got, exact, scale, k=K_BOUND):
    err = float(np.abs(got.astype(np.float64) - exact).max())
    assert err <= k * EPS32 * scale, (
        f"max error {err:.3g} > {k} eps32 * {scale:.3g} ({err / (EPS32 * scale):.2f} eps32 S)"
    )


def taken(shape, padding, pass_="forward", dtype="float32"):
    n, c, h, w, oc = shape
    return pc._C._conv2d_algorithm_for([n, c, h, w], [oc, c, 3, 3], (1, 1), (padding, padding), (1, 1), 1, dtype, pass_)


@pytest.mark.parametrize("algo", ["gemm", "winograd"])
@pytest.mark.parametrize("case", RESNET + AWKWARD)
def test_forward_matches_float64(case, algo, algorithm):
    *shape, p = case
    x, w, b = arrays(*shape)
    exact, scale = reference(x, w, b, p)
    algorithm(algo)
    assert taken(shape, p) == algo
    got = conv(x.astype(np.float32), w.astype(np.float32), b.astype(np.float32), p)
    assert_within_bound(got, exact, scale)


@pytest.mark.parametrize("algo", ["gemm", "winograd"])
@pytest.mark.parametrize("case", RESNET + AWKWARD)
def test_input_grad_matches_float64(case, algo, algorithm):
    *shape, p = case
    x, w, _ = arrays(*shape)
    dout = random_dout(shape, p)
    exact, scale = reference(x, w, None, p, dout=dout)
    algorithm(algo)
    assert taken(shape, p, "input_grad") == algo
    got = conv(x.astype(np.float32), w.astype(np.float32), None, p, dout=dout.astype(np.float32))
    assert_within_bound(got, exact, scale)


def weight_grad(x, w, padding, dout):
    """dw of conv2d(x, w) for the output gradient dout, in x's dtype."""
    wt = pc.from_numpy(w).requires_grad_()
    F.conv2d(pc.from_numpy(x), wt, padding=padding).backward(pc.from_numpy(dout))
    return wt.grad.numpy()


@pytest.mark.parametrize("algo", ["gemm", "winograd"])
@pytest.mark.parametrize("case", RESNET + AWKWARD)
def test_weight_grad_matches_float64(case, algo, algorithm):
    # Each dw element sums dout * x over the batch and the image: S is the largest such sum of |dout||x|.
    *shape, p = case
    x, w, _ = arrays(*shape)
    dout = random_dout(shape, p)
    algorithm("gemm")
    exact, scale = weight_grad(x, w, p, dout), float(weight_grad(np.abs(x), w, p, np.abs(dout)).max())
    algorithm(algo)
    assert taken(shape, p, "weight_grad") == algo
    got = weight_grad(x.astype(np.float32), w.astype(np.float32), p, dout.astype(np.float32))
    assert_within_bound(got, exact, scale)


def test_every_kernel_set(simd_level, algorithm):
    x, w, b = arrays(2, 17, 11, 9, 33)
    exact, scale = reference(x, w, b, 1)
    algorithm("winograd")
    assert_within_bound(conv(x.astype(np.float32), w.astype(np.float32), b.astype(np.float32), 1), exact, scale)


def test_bound_catches_a_wrong_weight(algorithm):
    # The bound must be tight enough to see a small mistake: one weight off by 1e-3 of the weights' size.
    x, w, b = arrays(1, 64, 16, 16, 64)
    exact, scale = reference(x, w, b, 1)
    algorithm("winograd")
    wrong = w.copy()
    wrong[5, 7, 1, 2] += 1e-3 * np.abs(w).max()
    got = conv(x.astype(np.float32), wrong.astype(np.float32), b.astype(np.float32), 1)
    with pytest.raises(AssertionError):
        assert_within_bound(got, exact, scale)


def test_algorithm_choice(algorithm):
    algorithm("winograd")  # forced: wherever it applies, whatever the size
    assert taken((1, 3, 5, 5, 4), 1) == "winograd"
    assert taken((1, 3, 5, 5, 4), 1, dtype="float64") == "gemm"
    assert taken((1, 3, 5, 5, 4), 3) == "winograd"
    assert taken((1, 3, 5, 5, 4), 3, "input_grad") == "gemm"  # dout would need padding -1
    assert taken((1, 3, 5, 5, 4), 3, "weight_grad") == "winograd"
    x_shape, w_shape = [1, 4, 9, 9], [4, 4, 3, 3]
    for stride, dilation, groups, w in [(2, 1, 1, w_shape), (1, 2, 1, w_shape), (1, 1, 2, [4, 2, 3, 3])]:
        got = pc._C._conv2d_algorithm_for(x_shape, w, (stride, stride), (1, 1), (dilation, dilation), groups, "float32")
        assert got == "gemm"
    assert pc._C._conv2d_algorithm_for(x_shape, [4, 4, 5, 5], (1, 1), (1, 1), (1, 1), 1, "float32") == "gemm"
    algorithm("auto")  # the size rule: ResNet layers yes; few channels or few output pixels no
    for shape in [(32, 64, 32, 32, 64), (32, 512, 4, 4, 512), (1, 64, 16, 16, 64)]:
        assert all(taken(shape, 1, pass_) == "winograd" for pass_ in ["forward", "input_grad", "weight_grad"])
    for shape in [(64, 6, 12, 12, 16), (32, 3, 32, 32, 64), (1, 256, 8, 8, 256)]:
        assert taken(shape, 0) == "gemm"
    assert taken((32, 64, 32, 32, 4), 1) == "gemm" and taken((32, 4, 32, 32, 64), 1, "input_grad") == "gemm"
    algorithm("gemm")
    assert taken((32, 64, 32, 32, 64), 1) == "gemm"
    with pytest.raises(ValueError, match=r"\[conv2d\] unknown algorithm 'fast'"):
        pc._C._set_conv2d_algorithm("fast")
    with pytest.raises(ValueError, match=r"\[conv2d\] unknown pass 'backward'"):
        taken((1, 3, 5, 5, 4), 1, "backward")
    with pytest.raises(ValueError, match=r"\[conv2d\] expected 4-d input and weight shapes"):
        pc._C._conv2d_algorithm_for([1, 3, 5], [4, 3, 3, 3], (1, 1), (1, 1), (1, 1), 1, "float32")
    with pytest.raises(ValueError, match=r"\[conv2d\] stride, dilation and groups must be positive"):
        pc._C._conv2d_algorithm_for([1, 3, 5, 5], [4, 3, 3, 3], (0, 1), (1, 1), (1, 1), 1, "float32")


def _algorithm_in_subprocess(value):
    env = dict(os.environ, PYCNN_CONV2D_ALGO=value)
    code = "import pycnn; print(pycnn._C._conv2d_algorithm())"
    return subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=SUBPROCESS_CWD, capture_output=True, text=True, check=False
    )


def test_environment_override():
    # the last line: an editable install may print its rebuild first
    assert _algorithm_in_subprocess("winograd").stdout.strip().splitlines()[-1] == "winograd"
    bad = _algorithm_in_subprocess("fastest")
    assert bad.returncode != 0 and "[conv2d] unknown algorithm 'fastest'" in bad.stderr


@pytest.mark.parametrize("case", [(3, 64, 32, 32, 64, 1), (1, 48, 8, 8, 40, 1), (2, 17, 9, 11, 33, 0)])
def test_deterministic_across_runs_and_threads(case, algorithm):
    # The first case has many tile blocks (threads take whole blocks), the others few (threads split each
    # block's phases): either way every output's arithmetic is fixed.
    *shape, p = case
    x, w, b = (a.astype(np.float32) for a in arrays(*shape))
    dout = random_dout(shape, p).astype(np.float32)
    algorithm("winograd")
    threads = pc.get_num_threads()
    results = []
    try:
        for t in [1, 2, 2]:
            pc.set_num_threads(t)
            results.append((conv(x, w, b, p), conv(x, w, b, p, dout=dout), weight_grad(x, w, p, dout)))
    finally:
        pc.set_num_threads(threads)
    for result in results[1:]:
        assert all(np.array_equal(a, b) for a, b in zip(result, results[0]))


def test_model_backward_matches_gemm(algorithm):
    # A two-layer block, trained end to end: every gradient through the Winograd layers matches the GEMM
    # path within the bound (float32 both; the scale is the gradients' own).
    rng = np.random.default_rng(3)
    x_np = rng.standard_normal((2, 16, 12, 10)).astype(np.float32)

    def grads(algo):
        algorithm(algo)
        pc.manual_seed(0)
        model = pc.nn.Sequential(pc.nn.Conv2d(16, 32, 3, padding=1), pc.nn.ReLU(), pc.nn.Conv2d(32, 24, 3, padding=1))
        x = pc.from_numpy(x_np).requires_grad_()
        (model(x) ** 2).sum().backward()
        return [x.grad.numpy()] + [p.grad.numpy() for p in model.parameters()]

    for g_wino, g_gemm in zip(grads("winograd"), grads("gemm")):
        scale = float(np.abs(g_gemm).max())
        assert np.abs(g_wino - g_gemm).max() <= 1e-4 * scale


def test_conv_transpose_stride_one(algorithm):
    # conv_transpose2d's forward is conv2d's input gradient, so a stride-1 3x3 one runs the Winograd path.
    x, w, _ = arrays(2, 9, 7, 6, 5)
    w = np.swapaxes(w, 0, 1).copy()  # (in_channels 9, out_channels 5, 3, 3)

    def run(x, w):
        with pc.no_grad():
            return F.conv_transpose2d(pc.from_numpy(x), pc.from_numpy(w), padding=1).numpy()

    algorithm("gemm")
    exact, scale = run(x, w), float(run(np.abs(x), np.abs(w)).max())
    algorithm("winograd")
    assert_within_bound(run(x.astype(np.float32), w.astype(np.float32)), exact, scale)


def test_torch_parity(algorithm):
    torch = pytest.importorskip("torch")
    x, w, b = (a.astype(np.float32) for a in arrays(2, 32, 13, 10, 40))
    dout = np.random.default_rng(1).standard_normal((2, 40, 13, 10)).astype(np.float32)
    algorithm("winograd")
    y, dx = conv(x, w, b, 1), conv(x, w, b, 1, dout=dout)
    tx = torch.from_numpy(x).requires_grad_()
    ty = torch.nn.functional.conv2d(tx, torch.from_numpy(w), torch.from_numpy(b), padding=1)
    ty.backward(torch.from_numpy(dout))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-4, atol=1e-4)
