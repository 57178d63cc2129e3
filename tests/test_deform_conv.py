"""Deformable convolution (pycnn.ops.deform_conv2d / DeformConv2d, torchvision.ops semantics): zero offsets
equal conv2d; random offsets and masks against a NumPy reference with explicit bilinear sampling (float32
and float64); float64 finite-difference gradcheck of input, offset, mask, weight and bias; determinism
across thread counts; bad input. torchvision is not installed, so there is no parity test against it.
"""

import math

import numpy as np
import pytest

import pycnn as pc
import pycnn.nn.functional as F
import pycnn.ops
from pycnn.ops import DeformConv2d, deform_conv2d

from helpers import check_device_matches_cpu, gradcheck, host, randn

DTYPES = [np.float32, np.float64]


def tol(dtype):
    return {"rtol": 1e-10, "atol": 1e-10} if dtype == np.float64 else {"rtol": 1e-5, "atol": 1e-4}


def out_size(n, k, s, p, d):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def smooth_offsets(shape, seed):
    """Offsets whose samples never land within 0.15 of an integer row or column (the bilinear kinks),
    some of them outside the image."""
    rng = np.random.default_rng(seed)
    return (rng.integers(-2, 3, size=shape) + rng.uniform(0.15, 0.85, size=shape)).astype(np.float64)


# ---------------------------------------------------------------- NumPy reference ----


def np_bilinear(im, y, x):
    """torchvision's sample: 0 outside (-1, H) x (-1, W), corners outside the image count as 0."""
    H, W = im.shape
    if y <= -1 or y >= H or x <= -1 or x >= W:
        return 0.0
    y0, x0 = math.floor(y), math.floor(x)
    total = 0.0
    for yy, wy in ((y0, 1 - (y - y0)), (y0 + 1, y - y0)):
        for xx, wx in ((x0, 1 - (x - x0)), (x0 + 1, x - x0)):
            if 0 <= yy < H and 0 <= xx < W:
                total += wy * wx * im[yy, xx]
    return total


def np_deform_conv2d(x, offset, w, b, stride, padding, dilation, mask):
    x, offset, w = (np.asarray(a, np.float64) for a in (x, offset, w))
    N, C, _H, _W = x.shape
    OC, Cg, KH, KW = w.shape
    OCg = OC // (C // Cg)
    OH, OW = offset.shape[2:]
    og = offset.shape[1] // (2 * KH * KW)
    cpg = C // og
    y = np.zeros((N, OC, OH, OW))
    for n in range(N):
        for oh in range(OH):
            for ow in range(OW):
                col = np.zeros((C, KH, KW))
                for c in range(C):
                    g = c // cpg
                    for i in range(KH):
                        for j in range(KW):
                            k = i * KW + j
                            dy = offset[n, g * 2 * KH * KW + 2 * k, oh, ow]
                            dx = offset[n, g * 2 * KH * KW + 2 * k + 1, oh, ow]
                            sy = oh * stride[0] - padding[0] + i * dilation[0] + dy
                            sx = ow * stride[1] - padding[1] + j * dilation[1] + dx
                            v = np_bilinear(x[n, c], sy, sx)
                            if mask is not None:
                                v *= mask[n, g * KH * KW + k, oh, ow]
                            col[c, i, j] = v
                for o in range(OC):
                    gi = o // OCg
                    y[n, o, oh, ow] = np.sum(w[o] * col[gi * Cg : (gi + 1) * Cg])
                    if b is not None:
                        y[n, o, oh, ow] += b[o]
    return y


# (N, C, H, W, OC, KH, KW, stride, padding, dilation, groups, offset_groups)
CASES = [
    (2, 3, 5, 6, 4, 3, 3, (1, 1), (1, 1), (1, 1), 1, 1),
    (1, 4, 7, 5, 6, 3, 2, (2, 1), (0, 1), (1, 2), 2, 2),
    (2, 2, 4, 4, 2, 1, 1, (1, 1), (0, 0), (1, 1), 2, 1),
    (1, 6, 6, 7, 3, 2, 3, (2, 2), (2, 1), (2, 1), 3, 3),
]


def make_inputs(case, dtype, seed=0, with_mask=True, with_bias=True):
    N, C, H, W, OC, KH, KW, stride, padding, dilation, groups, og = case
    OH, OW = out_size(H, KH, stride[0], padding[0], dilation[0]), out_size(W, KW, stride[1], padding[1], dilation[1])
    x = randn(N, C, H, W, dtype=dtype, seed=seed)
    offset = smooth_offsets((N, 2 * og * KH * KW, OH, OW), seed + 1).astype(dtype)
    mask = np.random.default_rng(seed + 2).uniform(0.1, 1.0, (N, og * KH * KW, OH, OW)).astype(dtype)
    w = randn(OC, C // groups, KH, KW, dtype=dtype, seed=seed + 3)
    b = randn(OC, dtype=dtype, seed=seed + 4)
    return x, offset, (mask if with_mask else None), w, (b if with_bias else None)


def call(x, offset, mask, w, b, case, device="cpu"):
    """deform_conv2d of the arrays (tensors made on device); the result as a NumPy array."""
    stride, padding, dilation = case[7], case[8], case[9]
    t = lambda a: None if a is None else pc.tensor(a, device=device)
    y = deform_conv2d(t(x), t(offset), t(w), t(b), stride=stride, padding=padding, dilation=dilation, mask=t(mask))
    return host(y, device)


# ---------------------------------------------------------------- forward ----


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES)
def test_zero_offsets_equal_conv2d(case, dtype, device):
    x, offset, _, w, b = make_inputs(case, dtype)
    offset = np.zeros_like(offset)
    stride, padding, dilation, groups = case[7], case[8], case[9], case[10]
    got = call(x, offset, None, w, b, case, device)
    want = F.conv2d(
        pc.tensor(x), pc.tensor(w), pc.tensor(b), stride=stride, padding=padding, dilation=dilation, groups=groups
    ).numpy()
    assert got.dtype == dtype
    np.testing.assert_allclose(got, want, **tol(dtype))
    # a mask of ones is v1
    ones = np.ones((x.shape[0], offset.shape[1] // 2) + offset.shape[2:], dtype)
    np.testing.assert_allclose(call(x, offset, ones, w, b, case, device), want, **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("with_mask", [False, True])
@pytest.mark.parametrize("case", CASES)
def test_forward_matches_numpy(case, with_mask, dtype, device):
    x, offset, mask, w, b = make_inputs(case, dtype, seed=5, with_mask=with_mask)
    got = call(x, offset, mask, w, b, case, device)
    want = np_deform_conv2d(x, offset, w, b, case[7], case[8], case[9], mask)
    np.testing.assert_allclose(got, want, **tol(dtype))
    if dtype == np.float32:  # every input's gradient, and strided inputs, against the CPU kernels
        stride, padding, dilation = case[7], case[8], case[9]
        if with_mask:
            fn = lambda x_, o_, m_, w_, b_: deform_conv2d(x_, o_, w_, b_, stride, padding, dilation, mask=m_)
            inputs = [x, offset, mask, w, b]
        else:
            fn = lambda x_, o_, w_, b_: deform_conv2d(x_, o_, w_, b_, stride, padding, dilation)
            inputs = [x, offset, w, b]
        check_device_matches_cpu(fn, inputs, device, rtol=1e-4, atol=1e-5)


def test_samples_outside_the_image_are_zero(device):
    x = np.ones((1, 1, 3, 3))
    w = np.ones((1, 1, 1, 1))
    offset = np.zeros((1, 2, 3, 3))
    offset[0, 0] = -5.0  # every sample 5 rows up: outside
    assert np.all(call(x, offset, None, w, None, CASES[2][:7] + ((1, 1), (0, 0), (1, 1), 1, 1), device) == 0)
    offset[0, 0] = -0.5  # half a row up: row 0 blends with the zero row above it
    got = call(x, offset, None, w, None, CASES[2][:7] + ((1, 1), (0, 0), (1, 1), 1, 1), device)[0, 0]
    np.testing.assert_allclose(got, [[0.5] * 3, [1.0] * 3, [1.0] * 3])


# ---------------------------------------------------------------- gradients ----


@pytest.mark.parametrize("with_mask", [False, True])
@pytest.mark.parametrize("case", CASES)
def test_gradcheck(case, with_mask, device):
    x, offset, mask, w, b = make_inputs(case, np.float64, seed=11, with_mask=with_mask)
    stride, padding, dilation = case[7], case[8], case[9]
    if with_mask:
        gradcheck(
            lambda x_, o_, m_, w_, b_: deform_conv2d(x_, o_, w_, b_, stride, padding, dilation, mask=m_),
            [x, offset, mask, w, b],
            device=device,
        )
    else:
        gradcheck(
            lambda x_, o_, w_, b_: deform_conv2d(x_, o_, w_, b_, stride, padding, dilation),
            [x, offset, w, b],
            device=device,
        )


def test_gradients_only_where_asked_and_deterministic_across_threads():
    case = CASES[1]
    x, offset, mask, w, b = make_inputs(case, np.float32, seed=3)
    results = []
    old = pc.get_num_threads()
    try:
        for threads in (1, 2):
            pc.set_num_threads(threads)
            ts = [pc.tensor(a, requires_grad=True) for a in (x, offset, mask, w, b)]
            y = deform_conv2d(ts[0], ts[1], ts[3], ts[4], case[7], case[8], case[9], mask=ts[2])
            (y * pc.tensor(randn(*y.shape, dtype=np.float32, seed=9))).sum().backward()
            results.append([y.detach().numpy()] + [t.grad.numpy() for t in ts])
    finally:
        pc.set_num_threads(old)
    for a, b_ in zip(*results):
        np.testing.assert_array_equal(a, b_)
    xt = pc.tensor(x, requires_grad=True)
    y = deform_conv2d(xt, pc.tensor(offset), pc.tensor(w), None, case[7], case[8], case[9])
    y.sum().backward()
    assert xt.grad is not None and xt.grad.shape == x.shape


# ---------------------------------------------------------------- module ----


def test_module_parameters_init_and_forward():
    pc.manual_seed(0)
    m = DeformConv2d(4, 6, 3, stride=1, padding=1, groups=2)
    assert tuple(m.weight.shape) == (6, 2, 3, 3) and tuple(m.bias.shape) == (6,)
    assert [n for n, _ in m.named_parameters()] == ["weight", "bias"]
    bound = 1 / math.sqrt(2 * 9)  # kaiming_uniform(a=sqrt(5)) and the bias bound are both 1/sqrt(fan_in)
    assert np.abs(m.weight.detach().numpy()).max() <= bound and np.abs(m.bias.detach().numpy()).max() <= bound
    x = pc.randn(2, 4, 5, 5)
    offset = pc.zeros(2, 18, 5, 5)
    want = F.conv2d(x, m.weight, m.bias, padding=1, groups=2)
    np.testing.assert_allclose(m(x, offset).detach().numpy(), want.detach().numpy(), rtol=1e-5, atol=1e-5)
    mask = pc.ones(2, 9, 5, 5)
    np.testing.assert_allclose(m(x, offset, mask).detach().numpy(), want.detach().numpy(), rtol=1e-5, atol=1e-5)
    assert DeformConv2d(2, 2, (1, 2), bias=False).bias is None
    assert "DeformConv2d" in repr(m)
    assert pycnn.ops.deform_conv2d is deform_conv2d


# ---------------------------------------------------------------- bad input ----


def good():
    x = pc.randn(1, 4, 5, 5)
    offset = pc.zeros(1, 18, 3, 3)
    w = pc.randn(2, 4, 3, 3)
    return x, offset, w


@pytest.mark.parametrize(
    "mutate, exc, text",
    [
        (lambda x, o, w: (x.reshape(4, 5, 5), o, w, {}), ValueError, "input of shape"),
        (lambda x, o, w: (x, pc.zeros(1, 17, 3, 3), w, {}), ValueError, "offset of shape"),
        (lambda x, o, w: (x, pc.zeros(1, 18, 4, 3), w, {}), ValueError, "offset of shape"),
        (lambda x, o, w: (x, pc.zeros(1, 18 * 3, 3, 3), w, {}), ValueError, "offset_groups"),
        (lambda x, o, w: (x, o, pc.randn(2, 3, 3, 3), {}), ValueError, "multiple of weight"),
        (lambda x, o, w: (x, o, pc.randn(3, 2, 3, 3), {}), ValueError, "divisible by groups"),
        (lambda x, o, w: (x, o, w, {"mask": pc.ones(1, 8, 3, 3)}), ValueError, "mask of shape"),
        (lambda x, o, w: (x, o, w, {"bias": pc.randn(3)}), ValueError, "bias of shape"),
        (lambda x, o, w: (x, o, w, {"stride": 0}), ValueError, "stride"),
        (lambda x, o, w: (x, o, w, {"padding": -1}), ValueError, "padding"),
        (lambda x, o, w: (x, o, pc.randn(2, 4, 7, 7), {}), ValueError, "larger than the padded input"),
        (lambda x, o, w: (x, o.double(), w, {}), TypeError, "offset is float64"),
        (lambda x, o, w: (pc.zeros(1, 4, 5, 5, dtype=pc.int64), o, w, {}), TypeError, "float32 or float64"),
        (lambda x, o, w: (x.numpy(), o, w, {}), TypeError, "pycnn.Tensor"),
    ],
)
def test_bad_input(mutate, exc, text):
    x, o, w, kw = mutate(*good())
    bias = kw.pop("bias", None)
    with pytest.raises(exc, match=text):
        deform_conv2d(x, o, w, bias, **kw)


def test_module_bad_groups():
    with pytest.raises(ValueError, match="divisible by groups"):
        DeformConv2d(3, 4, 3, groups=2)
