"""Depthwise convolution (groups == in_channels, channel multiplier 1 or 2) and depthwise transposed
convolution, which take the direct kernels of csrc/ops/cpu/simd/depthwise_kernel.cpp: forward, input
gradient and weight gradient against a float64 NumPy reference over every stride 1..3, padding 0..3,
dilation 1..2, kernel 1x1 / 3x3 / 5x5 / 3x5 and output width 1..37 (every remainder of 8- and 16-lane
vectors), on every SIMD kernel set; float64 gradcheck; PyTorch parity; the same bits for 1 and 2 threads.
"""

import numpy as np
import pytest

import pycnn as pc
import pycnn.nn.functional as F

from helpers import check_torch, conv2d_ref, expect_error, gradcheck, randn

KERNELS = [(1, 1), (3, 3), (5, 5), (3, 5)]


def grads_ref(x, w, dout, stride, padding, dilation):
    """float64 dx and dw of a depthwise conv2d: x (N, C, H, W), w (C*m, 1, KH, KW), dout (N, C*m, OH, OW)."""
    x, w, dout = (a.astype(np.float64) for a in (x, w, dout))
    N, C, H, W = x.shape
    OC, _, KH, KW = w.shape
    m = OC // C
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    OH, OW = dout.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    dxp = np.zeros_like(xp)
    dwr = np.zeros((C, m, KH, KW))
    d5 = dout.reshape(N, C, m, OH, OW)
    w4 = w.reshape(C, m, KH, KW)
    for kh in range(KH):
        for kw in range(KW):
            rows = slice(kh * dh, kh * dh + sh * (OH - 1) + 1, sh)
            cols = slice(kw * dw, kw * dw + sw * (OW - 1) + 1, sw)
            dwr[:, :, kh, kw] = np.einsum("ncmij,ncij->cm", d5, xp[:, :, rows, cols])
            dxp[:, :, rows, cols] += np.einsum("ncmij,cm->ncij", d5, w4[:, :, kh, kw])
    return dxp[:, :, ph : ph + H, pw : pw + W], dwr.reshape(w.shape)


def sweep_case(width):
    """One case per output width 1..37, cycling through the other options so that each one meets many
    widths: (x shape, w shape, stride, padding, dilation, bias, dtype)."""
    kh, kw = KERNELS[width % 4]
    s = (1 + width % 3, 1 + (width // 3) % 3)
    p = (width % 4, (width // 2) % 4)
    d = (1 + (width // 4) % 2, 1 + width % 2)
    m = 1 + (width // 2) % 2
    oh = 1 + width % 6
    # The input size that gives this output size (plus a remainder row/column the stride skips).
    h = max(1, (oh - 1) * s[0] + (kh - 1) * d[0] + 1 - 2 * p[0] + width % s[0])
    w = max(1, (width - 1) * s[1] + (kw - 1) * d[1] + 1 - 2 * p[1] + (width // 2) % s[1])
    C = 2 + width % 2
    dtype = np.float64 if width % 5 == 0 else np.float32
    return (2, C, h, w), (C * m, 1, kh, kw), s, p, d, width % 3 != 0, dtype


def run_depthwise(x, w, b, stride, padding, dilation, dout):
    """pycnn's y, dx, dw, db for one depthwise conv2d."""
    px, pw = pc.tensor(x, requires_grad=True), pc.tensor(w, requires_grad=True)
    pb = None if b is None else pc.tensor(b, requires_grad=True)
    y = F.conv2d(px, pw, pb, stride=stride, padding=padding, dilation=dilation, groups=x.shape[1])
    y.backward(pc.tensor(dout))
    return [np.asarray(t) for t in (y.detach(), px.grad, pw.grad)] + ([] if b is None else [np.asarray(pb.grad)])


@pytest.mark.parametrize("width", range(1, 38))
def test_depthwise_reference_sweep(width, simd_level):
    xs, ws, s, p, d, bias, dtype = sweep_case(width)
    x, w = randn(*xs, dtype=dtype, seed=width), randn(*ws, dtype=dtype, seed=100 + width)
    b = randn(ws[0], dtype=dtype, seed=200 + width) if bias else None
    y_ref = conv2d_ref(x, w, b, s, p, d, groups=xs[1])
    assert y_ref.shape[3] == width
    dout = randn(*y_ref.shape, dtype=dtype, seed=300 + width)
    dx_ref, dw_ref = grads_ref(x, w, dout, s, p, d)
    got = run_depthwise(x, w, b, s, p, d, dout)
    tol = {"rtol": 1e-10, "atol": 1e-10} if dtype == np.float64 else {"rtol": 1e-5, "atol": 1e-4}
    for name, g, r in zip(["y", "dx", "dw", "db"], got, [y_ref, dx_ref, dw_ref, dout.sum((0, 2, 3))]):
        assert g.dtype == dtype and g.shape == r.shape, name
        np.testing.assert_allclose(g, r, err_msg=f"{name} {(xs, ws, s, p, d)}", **tol)


# MobileNetV2's depthwise layers at CIFAR sizes (3x3, padding 1, stride 1 and 2). Planes of a few pixels take
# the channel-blocked kernels: 70 channels there (a block of 64 and a rest), 11 images (runs of 8 and a rest).
@pytest.mark.parametrize(
    "hw, stride", [(32, 1), (32, 2), (16, 2), (8, 1), (8, 2), (4, 1), (4, 2), (2, 1), (2, 2), (1, 1)]
)
def test_depthwise_mobilenet_shapes(hw, stride, simd_level):
    n, c = (11, 70) if (hw // stride) ** 2 <= 16 else (3, 5)
    x, w, b = randn(n, c, hw, hw, dtype=np.float32), randn(c, 1, 3, 3, dtype=np.float32, seed=1), randn(c, seed=3)
    y_ref = conv2d_ref(x, w, b, (stride, stride), (1, 1), (1, 1), groups=c)
    dout = randn(*y_ref.shape, dtype=np.float32, seed=2)
    dx_ref, dw_ref = grads_ref(x, w, dout, (stride, stride), (1, 1), (1, 1))
    y, dx, dw, _ = run_depthwise(x, w, b.astype(np.float32), stride, 1, 1, dout)
    for g, r in [(y, y_ref), (dx, dx_ref), (dw, dw_ref)]:
        np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-4)


# (x shape, w shape, stride, padding, dilation)
GRADCHECK_CASES = [
    ((2, 2, 5, 6), (2, 1, 3, 3), 1, 1, 1),
    ((1, 2, 7, 5), (4, 1, 3, 2), (2, 1), (1, 0), 1),
    ((2, 1, 6, 7), (2, 1, 2, 3), 2, 2, (1, 2)),
]


@pytest.mark.parametrize("case", GRADCHECK_CASES)
def test_depthwise_gradcheck(case):
    xs, ws, s, p, d = case
    inputs = [randn(*xs, seed=1), randn(*ws, seed=2), randn(ws[0], seed=3)]
    gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=s, padding=p, dilation=d, groups=xs[1]), inputs)


@pytest.mark.parametrize("case", GRADCHECK_CASES)
def test_depthwise_transposed_gradcheck(case):
    xs, ws, s, p, d = case
    if ws[0] != xs[1]:  # a transposed depthwise conv maps C -> C (w is (C, 1, KH, KW))
        ws = (xs[1],) + ws[1:]
    inputs = [randn(*xs, seed=1), randn(*ws, seed=2), randn(ws[0], seed=3)]
    gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, stride=s, padding=p, dilation=d, groups=xs[1]), inputs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", GRADCHECK_CASES + [((4, 24, 16, 16), (48, 1, 3, 3), 2, 1, 1)])
def test_depthwise_torch(case, dtype):
    xs, ws, s, p, d = case
    inputs = [randn(*xs, dtype=dtype, seed=1), randn(*ws, dtype=dtype, seed=2), randn(ws[0], dtype=dtype, seed=3)]
    tol = {"atol": 1e-4, "rtol": 1e-4} if dtype == np.float32 else {}

    def conv(lib):
        return lambda x, w, b: lib.conv2d(x, w, b, stride=s, padding=p, dilation=d, groups=xs[1])

    torch = pytest.importorskip("torch")
    check_torch(conv(F), conv(torch.nn.functional), inputs, **tol)


@pytest.mark.parametrize("stride, padding, output_padding", [(1, 1, 0), (2, 1, 1), (2, 0, 0), (3, 2, 1)])
def test_depthwise_transposed_reference(stride, padding, output_padding, simd_level):
    # conv_transpose2d(x, w) is conv2d's input gradient for dout = x; the reference's dx, with the output
    # padding as extra rows/columns that no tap reaches (zero, plus the bias).
    x, w, b = randn(2, 4, 5, 7, dtype=np.float32), randn(4, 1, 3, 3, dtype=np.float32, seed=1), randn(4, seed=2)
    y = F.conv_transpose2d(
        pc.tensor(x), pc.tensor(w), pc.tensor(b.astype(np.float32)), stride, padding, output_padding, groups=4
    )
    H, W = ((np.array(x.shape[2:]) - 1) * stride - 2 * padding + 3 + output_padding).tolist()
    ref, _ = grads_ref(np.zeros((2, 4, H, W)), w, x, (stride,) * 2, (padding,) * 2, (1, 1))
    np.testing.assert_allclose(np.asarray(y), ref + b[None, :, None, None], rtol=1e-5, atol=1e-4)


def test_depthwise_same_bits_for_one_and_two_threads():
    x, w, b = randn(5, 6, 13, 11, dtype=np.float32), randn(12, 1, 3, 3, dtype=np.float32, seed=1), None
    dout = randn(5, 12, 7, 6, dtype=np.float32, seed=2)
    old = pc.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            pc.set_num_threads(threads)
            results.append(run_depthwise(x, w, b, 2, 1, 1, dout))
    finally:
        pc.set_num_threads(old)
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize("stride", [1, 2])
def test_depthwise_runs_of_images(stride):
    # 37 images of 16x16 make several runs per channel (a short one last): each run reuses the zero padding the
    # previous one left in the thread's scratch, and the weight gradient adds the runs up in order.
    x, w, b = randn(37, 3, 16, 16, dtype=np.float32), randn(3, 1, 3, 3, dtype=np.float32, seed=1), None
    y_ref = conv2d_ref(x, w, b, (stride, stride), (1, 1), (1, 1), groups=3)
    dout = randn(*y_ref.shape, dtype=np.float32, seed=2)
    dx_ref, dw_ref = grads_ref(x, w, dout, (stride, stride), (1, 1), (1, 1))
    old = pc.get_num_threads()
    try:
        for threads in (1, 2):
            pc.set_num_threads(threads)
            for g, r in zip(run_depthwise(x, w, b, stride, 1, 1, dout), [y_ref, dx_ref, dw_ref]):
                np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-4)
    finally:
        pc.set_num_threads(old)


def test_depthwise_empty_batch():
    y, dx, dw = run_depthwise(
        np.zeros((0, 3, 5, 5), np.float32),
        randn(3, 1, 3, 3, dtype=np.float32),
        None,
        1,
        1,
        1,
        np.zeros((0, 3, 5, 5), np.float32),
    )
    assert y.shape == (0, 3, 5, 5) and dx.shape == (0, 3, 5, 5)
    np.testing.assert_array_equal(dw, np.zeros((3, 1, 3, 3), np.float32))


def test_depthwise_bad_input():
    x, w = pc.tensor(randn(1, 4, 5, 5, dtype=np.float32)), pc.tensor(randn(4, 2, 3, 3, dtype=np.float32))
    expect_error(ValueError, "conv2d", lambda: F.conv2d(x, w, groups=4), "groups=4")
