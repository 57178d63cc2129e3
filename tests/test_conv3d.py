"""conv3d: F.conv3d against a plain NumPy reference (float32 and float64; stride, padding, dilation, groups,
no bias, non-contiguous input, unbatched, empty batch), float64 finite-difference gradcheck, PyTorch parity of
values and gradients, 'same' / 'valid' padding; nn.Conv3d (parameters, init, torch parity); bad input. The
kernels: csrc/ops/conv3d.cpp and csrc/ops/cpu/conv3d.cpp (vol2col through conv2d's im2col, then GEMM).
"""

import numpy as np
import pytest

import pycnn as pc
import pycnn.nn.functional as F
from pycnn import nn

from helpers import check_torch, expect_error, gradcheck, module_parity, randn


def conv3d_ref(x, w, b=None, stride=(1, 1, 1), padding=(0, 0, 0), dilation=(1, 1, 1), groups=1):
    """Direct 3-D convolution in float64: x (N, C, D, H, W), w (OC, C/groups, KD, KH, KW)."""
    x, w = x.astype(np.float64), w.astype(np.float64)
    N, _, D, H, W = x.shape
    OC, Cg, KD, KH, KW = w.shape
    xp = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in padding])
    out = [
        (n + 2 * p - d * (k - 1) - 1) // s + 1
        for n, k, s, p, d in zip((D, H, W), (KD, KH, KW), stride, padding, dilation)
    ]
    OCg = OC // groups
    y = np.zeros((N, OC, *out))
    for g in range(groups):
        xs, ws = xp[:, g * Cg : (g + 1) * Cg], w[g * OCg : (g + 1) * OCg]
        for kd in range(KD):
            for kh in range(KH):
                for kw in range(KW):
                    d0, h0, w0 = kd * dilation[0], kh * dilation[1], kw * dilation[2]
                    patch = xs[
                        :,
                        :,
                        d0 : d0 + stride[0] * (out[0] - 1) + 1 : stride[0],
                        h0 : h0 + stride[1] * (out[1] - 1) + 1 : stride[1],
                        w0 : w0 + stride[2] * (out[2] - 1) + 1 : stride[2],
                    ]
                    y[:, g * OCg : (g + 1) * OCg] += np.einsum("ncdhw,oc->nodhw", patch, ws[:, :, kd, kh, kw])
    if b is not None:
        y += b.astype(np.float64)[None, :, None, None, None]
    return y


# (x shape, w shape, stride, padding, dilation, groups, bias)
CASES = {
    "basic": ((2, 3, 5, 6, 7), (4, 3, 3, 3, 3), (1, 1, 1), (0, 0, 0), (1, 1, 1), 1, True),
    "stride_pad": ((2, 2, 7, 6, 8), (3, 2, 3, 2, 3), (2, 1, 3), (1, 0, 2), (1, 1, 1), 1, True),
    "dilation": ((1, 2, 7, 7, 6), (2, 2, 2, 3, 2), (1, 2, 1), (2, 1, 1), (3, 2, 2), 1, False),
    "groups": ((2, 4, 4, 5, 5), (6, 2, 2, 3, 3), (1, 1, 2), (1, 1, 1), (1, 1, 1), 2, True),
    "depthwise": ((1, 3, 4, 5, 6), (3, 1, 3, 3, 3), (1, 1, 1), (1, 1, 1), (1, 1, 1), 3, True),
    "pointwise": ((3, 4, 3, 4, 5), (2, 4, 1, 1, 1), (1, 1, 1), (0, 0, 0), (1, 1, 1), 1, True),
    "size1_dims": ((2, 3, 1, 5, 1), (2, 3, 1, 3, 1), (1, 1, 1), (0, 1, 0), (1, 1, 1), 1, True),
    "depth_pad_only": ((1, 2, 2, 3, 3), (2, 2, 3, 1, 1), (2, 1, 1), (2, 0, 0), (1, 1, 1), 1, False),
}


def _inputs(xs, ws, bias, dtype, seed=0):
    x = randn(*xs, dtype=dtype, seed=seed)
    w = randn(*ws, dtype=dtype, seed=seed + 1)
    b = randn(ws[0], dtype=dtype, seed=seed + 2) if bias else None
    return x, w, b


def _tol(dtype):
    return {"rtol": 1e-10, "atol": 1e-10} if dtype == np.float64 else {"rtol": 1e-5, "atol": 1e-4}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", list(CASES))
def test_conv3d_matches_reference(case, dtype):
    xs, ws, s, p, d, g, bias = CASES[case]
    x, w, b = _inputs(xs, ws, bias, dtype)
    y = F.conv3d(pc.tensor(x), pc.tensor(w), None if b is None else pc.tensor(b), s, p, d, g)
    assert y.dtype == (pc.float32 if dtype == np.float32 else pc.float64)
    np.testing.assert_allclose(np.asarray(y), conv3d_ref(x, w, b, s, p, d, g), **_tol(dtype))


def test_conv3d_threads_and_batch_agree():
    # Many images (one per thread) and one image (threads inside it) are two code paths: same values.
    x, w, b = _inputs((5, 4, 6, 7, 8), (6, 2, 3, 3, 3), True, np.float64)
    y = F.conv3d(pc.tensor(x), pc.tensor(w), pc.tensor(b), (1, 2, 1), 1, 1, 2)
    ref = conv3d_ref(x, w, b, (1, 2, 1), (1, 1, 1), (1, 1, 1), 2)
    np.testing.assert_allclose(np.asarray(y), ref, rtol=1e-10, atol=1e-10)
    y1 = F.conv3d(pc.tensor(x[2:3]), pc.tensor(w), pc.tensor(b), (1, 2, 1), 1, 1, 2)
    np.testing.assert_allclose(np.asarray(y1), ref[2:3], rtol=1e-10, atol=1e-10)


def test_conv3d_non_contiguous_input_and_weight():
    x, w, b = _inputs((2, 3, 5, 4, 6), (4, 3, 2, 3, 2), True, np.float64)
    # x as a transposed view of (N, C, W, H, D) data; w as every other element of a doubled array
    xt = pc.tensor(np.ascontiguousarray(x.transpose(0, 1, 4, 3, 2))).permute(0, 1, 4, 3, 2)
    wt = pc.tensor(np.stack([w, w + 100], axis=-1))[..., 0]
    assert not xt.is_contiguous() and not wt.is_contiguous()
    y = F.conv3d(xt, wt, pc.tensor(b), padding=(1, 0, 1))
    np.testing.assert_allclose(np.asarray(y), conv3d_ref(x, w, b, padding=(1, 0, 1)), rtol=1e-10, atol=1e-10)


def test_conv3d_unbatched_and_empty_batch():
    x, w, b = _inputs((2, 3, 4, 5), (3, 2, 2, 2, 2), True, np.float64)
    y = F.conv3d(pc.tensor(x), pc.tensor(w), pc.tensor(b))
    np.testing.assert_allclose(np.asarray(y), conv3d_ref(x[None], w, b)[0], rtol=1e-10, atol=1e-10)
    xe = pc.zeros(0, 2, 3, 4, 5, dtype=pc.float64, requires_grad=True)
    we = pc.tensor(w, requires_grad=True)
    ye = F.conv3d(xe, we)
    assert tuple(ye.shape) == (0, 3, 2, 3, 4)
    ye.sum().backward()
    assert tuple(xe.grad.shape) == (0, 2, 3, 4, 5)
    np.testing.assert_array_equal(np.asarray(we.grad), 0)


@pytest.mark.parametrize("case", ["stride_pad", "dilation", "groups", "size1_dims", "depth_pad_only"])
def test_conv3d_gradcheck(case):
    xs, ws, s, p, d, g, bias = CASES[case]
    x, w, b = _inputs(xs, ws, bias, np.float64, seed=3)
    if bias:
        gradcheck(lambda x, w, b: F.conv3d(x, w, b, s, p, d, g), [x, w, b])
    else:
        gradcheck(lambda x, w: F.conv3d(x, w, None, s, p, d, g), [x, w])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", ["basic", "stride_pad", "dilation", "groups", "depthwise"])
def test_conv3d_matches_torch(case, dtype):
    torch = pytest.importorskip("torch")
    xs, ws, s, p, d, g, bias = CASES[case]
    x, w, b = _inputs(xs, ws, bias, dtype, seed=5)
    ins = [x, w] + ([b] if bias else [])
    tol = {"atol": 1e-4, "rtol": 1e-4} if dtype == np.float32 else {"atol": 1e-10, "rtol": 1e-10}
    check_torch(
        lambda x, w, b=None: F.conv3d(x, w, b, s, p, d, g),
        lambda x, w, b=None: torch.nn.functional.conv3d(x, w, b, s, p, d, g),
        ins,
        **tol,
    )


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # torch's note on its own padded copy
@pytest.mark.parametrize("padding", ["same", "valid"])
def test_conv3d_string_padding_matches_torch(padding):
    torch = pytest.importorskip("torch")
    # even kernel and dilation: 'same' pads an odd total, the extra voxel after (as torch)
    x, w, b = _inputs((2, 2, 5, 6, 4), (3, 2, 2, 3, 4), True, np.float64, seed=7)
    check_torch(
        lambda x, w, b: F.conv3d(x, w, b, padding=padding, dilation=(1, 2, 1)),
        lambda x, w, b: torch.nn.functional.conv3d(x, w, b, padding=padding, dilation=(1, 2, 1)),
        [x, w, b],
        atol=1e-10,
        rtol=1e-10,
    )


def test_conv3d_same_padding_gradcheck():
    x, w = _inputs((1, 2, 3, 4, 3), (2, 2, 2, 3, 2), False, np.float64, seed=8)[:2]
    gradcheck(lambda x, w: F.conv3d(x, w, padding="same"), [x, w])


# ---------------------------------------------------------------- nn.Conv3d ----


def test_conv3d_module_parameters_and_init():
    m = nn.Conv3d(4, 6, (2, 3, 1), groups=2)
    assert tuple(m.weight.shape) == (6, 2, 2, 3, 1) and tuple(m.bias.shape) == (6,)
    assert [n for n, _ in m.named_parameters()] == ["weight", "bias"]
    bound = 1 / np.sqrt(2 * 2 * 3 * 1)  # torch's default: kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(fan_in), ...)
    wv, bv = np.asarray(m.weight.detach()), np.asarray(m.bias.detach())
    assert np.abs(wv).max() <= bound and np.abs(bv).max() <= bound and np.abs(wv).max() > bound / 2
    assert m.kernel_size == (2, 3, 1) and m.stride == (1, 1, 1) and m.padding == (0, 0, 0)
    assert nn.Conv3d(2, 2, 3, bias=False).bias is None
    assert repr(nn.Conv3d(2, 4, 3, stride=2, padding=1)) == (
        "Conv3d(2, 4, kernel_size=(3, 3, 3), stride=(2, 2, 2), padding=(1, 1, 1))"
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kernel_size": 3, "stride": (2, 1, 1), "padding": 1},
        {"kernel_size": (1, 3, 2), "padding": "same", "dilation": (1, 1, 2)},
        {"kernel_size": 2, "groups": 2, "bias": False},
    ],
)
def test_conv3d_module_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    ours = nn.Conv3d(4, 6, dtype=pc.float64, **kwargs)
    theirs = torch.nn.Conv3d(4, 6, dtype=torch.float64, **kwargs)
    assert repr(ours) == repr(theirs)
    module_parity(ours, theirs, randn(2, 4, 4, 5, 6, seed=11), rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------- bad input ----


def test_conv3d_bad_input():
    x = pc.tensor(randn(1, 2, 4, 4, 4))
    w = pc.tensor(randn(3, 2, 2, 2, 2))
    expect_error(ValueError, "conv3d", lambda: F.conv3d(pc.tensor(randn(2, 4, 4, 4)).unsqueeze(0).unsqueeze(0), w),
                 "(N, C, D, H, W)")  # fmt: skip
    expect_error(ValueError, "conv3d", lambda: F.conv3d(x, pc.tensor(randn(3, 2, 2, 2))), "weight")
    expect_error(ValueError, "conv3d", lambda: F.conv3d(x, pc.tensor(randn(3, 1, 2, 2, 2))), "C=1")
    expect_error(ValueError, "conv3d", lambda: F.conv3d(x, w, stride=0), "stride must be positive")
    expect_error(ValueError, "conv3d", lambda: F.conv3d(x, w, padding=-1), "padding", "-1")
    expect_error(ValueError, "conv3d", lambda: F.conv3d(x, w, dilation=(1, 0, 1)), "dilation must be positive")
    expect_error(ValueError, "conv3d", lambda: F.conv3d(x, w, groups=0), "groups must be positive")
    expect_error(ValueError, "conv3d", lambda: F.conv3d(x, pc.tensor(randn(3, 2, 5, 2, 2))), "smaller than the kernel")
    expect_error(ValueError, "conv3d", lambda: F.conv3d(x, w, pc.tensor(randn(2))), "bias", "(3,)")
    expect_error(ValueError, "conv3d", lambda: F.conv3d(x, w, stride=2, padding="same"), "strided")
    expect_error(ValueError, "conv3d", lambda: F.conv3d(x, w, padding="full"), "full")
    expect_error(ValueError, "conv3d", lambda: F.conv3d(x, w, stride=(1, 2)), "stride", "3 ints")
    expect_error(TypeError, "conv3d", lambda: F.conv3d(x.numpy(), w), "pycnn.Tensor")
    expect_error(TypeError, "conv3d", lambda: F.conv3d(x, w.to(pc.float32)), "float32")
    expect_error(TypeError, "conv3d", lambda: F.conv3d(x.to(pc.int64), w.to(pc.int64)), "int64")
    expect_error(ValueError, "Conv3d", lambda: nn.Conv3d(3, 4, 3, groups=2), "groups")
    expect_error(ValueError, "Conv3d", lambda: nn.Conv3d(2, 4, 3, padding_mode="reflect"), "reflect", "zeros")
    expect_error(ValueError, "Conv3d", lambda: nn.Conv3d(2, 4, (3, 3)), "kernel_size")
