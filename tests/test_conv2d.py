"""conv2d, where a newcomer looks for it: F.conv2d against a plain NumPy reference (float32 and float64, on
every device) on each kernel path (plain, strided, padded, dilated, grouped, depthwise, 1x1), float64
finite-difference gradcheck, PyTorch parity of values and gradients; 'same' / 'valid' padding and the
padding modes; nn.Conv2d; bad input. The kernels: csrc/ops/conv2d.cpp (entry point) and
csrc/ops/cpu/conv2d.cpp; docs/architecture.md traces the whole path.
"""

import numpy as np
import pytest

import pycnn as pc
import pycnn.nn.functional as F
from pycnn import nn

from helpers import (
    check_device_matches_cpu,
    check_torch,
    conv2d_ref,
    expect_error,
    gradcheck,
    host,
    module_parity,
    randn,
)

DTYPES = [np.float32, np.float64]


def tol(dtype):
    """(rtol, atol) against a float64 reference; convolutions sum many products."""
    return {"rtol": 1e-10, "atol": 1e-10} if dtype == np.float64 else {"rtol": 1e-5, "atol": 1e-4}


def run(fn, *arrays, device="cpu"):
    """fn on pycnn tensors made from arrays (on device); the result as a NumPy array."""
    out = fn(*[pc.tensor(a, device=device) if isinstance(a, np.ndarray) else a for a in arrays])
    return host(out, device)


def t(*shape, dtype=np.float32):
    return pc.tensor(np.random.default_rng(0).standard_normal(shape).astype(dtype) + 0.5)


def _np(x):
    return np.asarray(x.detach())


# ---------------------------------------------------------------- F.conv2d: reference, gradcheck, torch ----

# (x shape, w shape, stride, padding, dilation, groups, bias)
CONV_CASES = [
    ((2, 3, 7, 7), (4, 3, 3, 3), (1, 1), (0, 0), (1, 1), 1, True),
    ((2, 3, 8, 9), (5, 3, 3, 3), (2, 2), (1, 1), (1, 1), 1, True),  # stride > 1, padding
    ((1, 2, 9, 8), (3, 2, 3, 2), (2, 3), (2, 1), (1, 1), 1, False),  # batch 1, uneven everything, no bias
    ((2, 2, 9, 9), (2, 2, 3, 3), (1, 1), (2, 2), (2, 2), 1, True),  # dilation
    ((2, 4, 6, 5), (6, 2, 3, 3), (1, 1), (1, 1), (1, 1), 2, True),  # groups
    ((2, 3, 7, 6), (3, 1, 3, 3), (1, 2), (1, 1), (1, 1), 3, True),  # depthwise
    ((2, 3, 5, 5), (6, 1, 3, 3), (1, 1), (1, 1), (1, 1), 3, False),  # depthwise, channel multiplier 2
    ((3, 4, 5, 7), (2, 4, 1, 1), (1, 1), (0, 0), (1, 1), 1, True),  # 1x1 pointwise
    ((2, 4, 5, 7), (3, 4, 1, 1), (2, 2), (1, 1), (1, 1), 1, False),  # 1x1 with stride and padding
    ((1, 1, 5, 5), (1, 1, 5, 5), (1, 1), (0, 0), (1, 1), 1, True),  # kernel == input: 1x1 output
    ((2, 3, 11, 13), (4, 3, 5, 3), (3, 2), (2, 0), (1, 2), 1, True),  # odd sizes
]
CONV_IDS = [
    "basic",
    "stride_pad",
    "batch1_nobias",
    "dilation",
    "groups",
    "depthwise",
    "depthwise_mult",
    "pointwise",
    "pointwise_strided",
    "full_kernel",
    "odd",
]


def conv_call(stride, padding, dilation, groups):
    return lambda x, w, b=None: F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONV_CASES, ids=CONV_IDS)
def test_conv2d_reference(case, dtype, device, simd_level):
    xs, ws, stride, padding, dilation, groups, bias = case
    x, w, b = randn(*xs, dtype=dtype, seed=1), randn(*ws, dtype=dtype, seed=2), randn(ws[0], dtype=dtype, seed=3)
    fn = conv_call(stride, padding, dilation, groups)
    y = run(fn, x, w, b, device=device) if bias else run(fn, x, w, device=device)
    assert y.dtype == dtype
    np.testing.assert_allclose(
        y, conv2d_ref(x, w, b if bias else None, stride, padding, dilation, groups), **tol(dtype)
    )


def _conv_and_input_grad(x, w, dout, padding):
    xt = pc.tensor(x, requires_grad=True)
    y = F.conv2d(xt, pc.tensor(w), padding=padding)
    y.backward(pc.tensor(dout))
    return np.asarray(y.detach()), np.asarray(xt.grad)


def _narrow_outputs_match_one_image_at_a_time(n, c, size, padding):
    x, w = randn(n, c, size, size, seed=1), randn(7, c, 3, 3, seed=2)
    out = size + 2 * padding - 2
    dout = randn(n, 7, out, out, seed=3)
    before = pc._C._conv2d_algorithm()
    pc._C._set_conv2d_algorithm("gemm")  # the whole-batch GEMM is a GEMM path: Winograd would take the big case
    try:
        y, dx = _conv_and_input_grad(x, w, dout, padding)
        for i in sorted({0, 1, n // 2, n - 1}):
            yi, dxi = _conv_and_input_grad(x[i : i + 1], w, dout[i : i + 1], padding)
            np.testing.assert_allclose(y[i : i + 1], yi, rtol=1e-5, atol=1e-4)
            np.testing.assert_allclose(dx[i : i + 1], dxi, rtol=1e-5, atol=1e-4)
    finally:
        pc._C._set_conv2d_algorithm(before)


@pytest.mark.parametrize("n, c, size, padding", [(5, 8, 4, 0), (3, 6, 3, 1)], ids=["2x2_out", "3x3_out_padded"])
def test_conv2d_narrow_outputs_match_one_image_at_a_time(n, c, size, padding, simd_level):
    """Outputs narrower than a register tile take the whole-batch GEMM; one image at a time takes the
    per-image path. Forward and input gradient agree, on every kernel set."""
    _narrow_outputs_match_one_image_at_a_time(n, c, size, padding)


def test_conv2d_narrow_outputs_in_blocks_of_images():
    """460 images of 512 x 3 x 3 x 2 x 2 fill more than one 32 MB column block of the whole-batch GEMM (the
    default kernel set only: the portable ones would take seconds)."""
    _narrow_outputs_match_one_image_at_a_time(460, 512, 4, 0)


def test_conv2d_unbatched_input(device):
    x, w, b = randn(3, 6, 6, seed=1), randn(2, 3, 3, 3, seed=2), randn(2, seed=3)
    y = run(lambda x, w, b: F.conv2d(x, w, b, padding=1), x, w, b, device=device)
    assert y.shape == (2, 6, 6)
    np.testing.assert_allclose(y, conv2d_ref(x[None], w, b, padding=(1, 1))[0], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("padding", ["same", "valid"])
def test_conv2d_padding_strings(padding, device):
    x, w = randn(1, 2, 6, 7, seed=1), randn(3, 2, 3, 5, seed=2)
    y = run(lambda x, w: F.conv2d(x, w, padding=padding), x, w, device=device)
    ref = conv2d_ref(x, w, padding=(1, 2) if padding == "same" else (0, 0))
    np.testing.assert_allclose(y, ref, rtol=1e-10, atol=1e-12)
    if padding == "same":
        assert y.shape[2:] == x.shape[2:]


@pytest.mark.parametrize("case", CONV_CASES, ids=CONV_IDS)
def test_conv2d_gradcheck(case, device):
    xs, ws, stride, padding, dilation, groups, bias = case
    xs = (min(xs[0], 2),) + xs[1:]
    x, w, b = randn(*xs, seed=1), randn(*ws, seed=2), randn(ws[0], seed=3)
    fn = conv_call(stride, padding, dilation, groups)
    gradcheck(fn, [x, w, b] if bias else [x, w], device=device)


@pytest.mark.parametrize("case", CONV_CASES, ids=CONV_IDS)
def test_conv2d_device_matches_cpu(case, device):
    """float32 values and gradients of x, w, b on the device (contiguous and strided inputs) against the CPU
    kernels; on the CPU the strided inputs against the contiguous ones. Tolerance: sums of C*KH*KW products."""
    xs, ws, stride, padding, dilation, groups, bias = case
    x, w, b = (
        randn(*xs, dtype=np.float32, seed=4),
        randn(*ws, dtype=np.float32, seed=5),
        randn(ws[0], dtype=np.float32, seed=6),
    )
    fn = conv_call(stride, padding, dilation, groups)
    check_device_matches_cpu(fn, [x, w, b] if bias else [x, w], device, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONV_CASES, ids=CONV_IDS)
def test_conv2d_torch(case, dtype):
    torch = pytest.importorskip("torch")
    xs, ws, stride, padding, dilation, groups, bias = case
    x, w, b = randn(*xs, dtype=dtype, seed=1), randn(*ws, dtype=dtype, seed=2), randn(ws[0], dtype=dtype, seed=3)

    def tfn(x, w, b=None):
        return torch.nn.functional.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)

    check_torch(conv_call(stride, padding, dilation, groups), tfn, [x, w, b] if bias else [x, w], **tol(dtype))


def test_conv2d_larger_torch(device):
    """A LeNet/ResNet-sized layer, large enough that the GEMM blocking and threading paths are exercised
    (on another device: its tiled kernels, against the CPU)."""
    x, w, b = (
        randn(4, 16, 20, 20, dtype=np.float32, seed=1),
        randn(32, 16, 3, 3, dtype=np.float32, seed=2),
        randn(32, dtype=np.float32, seed=3),
    )
    if device != "cpu":
        fn = conv_call((1, 1), (1, 1), (1, 1), 1)
        check_device_matches_cpu(fn, [x, w, b], device, rtol=1e-4, atol=1e-4)
        return
    torch = pytest.importorskip("torch")
    # GEMM within 1e-4; this layer's auto choice is Winograd F(4x4, 3x3), whose float32 error is bounded by
    # 32 eps32 sum|x||w| (tests/test_winograd.py), about 5e-4 here: its own tolerance.
    before = pc._C._conv2d_algorithm()
    try:
        for algorithm, atol in [("gemm", 1e-4), ("winograd", 1e-3)]:
            pc._C._set_conv2d_algorithm(algorithm)
            check_torch(
                lambda x, w, b: F.conv2d(x, w, b, padding=1),
                lambda x, w, b: torch.nn.functional.conv2d(x, w, b, padding=1),
                [x, w, b],
                rtol=1e-4,
                atol=atol,
            )
    finally:
        pc._C._set_conv2d_algorithm(before)


def test_conv2d_gradients_of_some_inputs_only(device):
    """Only the inputs that require grad get one (need_dx / need_dw / need_db)."""
    x = pc.tensor(randn(1, 2, 5, 5, seed=1), device=device)
    w = pc.tensor(randn(3, 2, 3, 3, seed=2), device=device, requires_grad=True)
    b = pc.tensor(randn(3, seed=3), device=device)
    F.conv2d(x, w, b).sum().backward()
    assert x.grad is None and b.grad is None and w.grad is not None
    x.requires_grad_()
    w.grad = None
    F.conv2d(x, w.detach(), b).sum().backward()
    assert x.grad is not None and w.grad is None


# ---------------------------------------------------------------- padding strings and modes ----


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # torch's note on its own zero-padded copy
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kernel,dilation", [((2, 4), (1, 1)), ((3, 2), (2, 3)), ((4, 5), (1, 2))])
def test_conv2d_same_even_kernels(kernel, dilation, dtype, device):
    torch = pytest.importorskip("torch")
    x = randn(2, 4, 7, 6, dtype=dtype, seed=1)
    w, b = randn(6, 2, *kernel, dtype=dtype, seed=2), randn(6, dtype=dtype, seed=3)
    total = [d * (k - 1) for k, d in zip(kernel, dilation)]
    xp = np.pad(
        x, ((0, 0), (0, 0), (total[0] // 2, total[0] - total[0] // 2), (total[1] // 2, total[1] - total[1] // 2))
    )
    ref = conv2d_ref(xp, w, b, dilation=dilation, groups=2)
    y = run(lambda x, w, b: F.conv2d(x, w, b, padding="same", dilation=dilation, groups=2), x, w, b, device=device)
    assert y.shape == (2, 6, 7, 6)
    np.testing.assert_allclose(y, ref, **tol(dtype))
    if device != "cpu":
        return
    check_torch(
        lambda x, w, b: F.conv2d(x, w, b, padding="same", dilation=dilation, groups=2),
        lambda x, w, b: torch.nn.functional.conv2d(x, w, b, padding="same", dilation=dilation, groups=2),
        [x, w, b],
        **tol(dtype),
    )


def test_conv2d_same_even_gradcheck_unbatched(device):
    gradcheck(
        lambda x, w, b: F.conv2d(x, w, b, padding="same"),
        [randn(2, 5, 4, seed=1), randn(3, 2, 2, 3, seed=2), randn(3, seed=3)],
        device=device,
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular", "zeros"])
@pytest.mark.parametrize(
    "kw",
    [
        {"kernel_size": 3, "padding": 1},
        {"kernel_size": (3, 2), "padding": (2, 1), "stride": 2},
        {"kernel_size": (2, 4), "padding": "same", "dilation": (2, 1), "groups": 2},
        {"kernel_size": 3, "padding": "valid"},
    ],
)
def test_conv2d_padding_modes_module(mode, kw, dtype, device):
    torch = pytest.importorskip("torch")
    tdtype = torch.float64 if dtype == np.float64 else torch.float32
    pdtype = pc.float64 if dtype == np.float64 else pc.float32
    ours = nn.Conv2d(4, 6, padding_mode=mode, dtype=pdtype, **kw)
    theirs = torch.nn.Conv2d(4, 6, padding_mode=mode, dtype=tdtype, **kw)
    assert ours.padding == theirs.padding
    module_parity(ours, theirs, randn(2, 4, 7, 6, dtype=dtype, seed=1), **tol(dtype), device=device)


def test_conv2d_padding_mode_reference_and_gradcheck(device):
    conv = nn.Conv2d(2, 3, (3, 2), padding=(2, 1), padding_mode="reflect", dtype=pc.float64)
    x = randn(1, 2, 5, 4, seed=1)
    w, b = np.asarray(conv.weight.detach()), np.asarray(conv.bias.detach())
    ref = conv2d_ref(np.pad(x, ((0, 0), (0, 0), (2, 2), (1, 1)), mode="reflect"), w, b)
    np.testing.assert_allclose(run(conv.to(device), x, device=device), ref, rtol=1e-10, atol=1e-10)
    gradcheck(lambda x, w, b: F.conv2d(F.pad(x, [1, 1, 2, 2], "circular"), w, b), [x, w, b], device=device)


# ---------------------------------------------------------------- nn.Conv2d ----


@pytest.mark.parametrize("stride, padding, dilation, groups", [(1, 0, 1, 1), (2, 1, 1, 1), (1, 2, 2, 2)])
def test_conv2d_layer_matches_numpy(stride, padding, dilation, groups):
    pc.manual_seed(0)
    layer = nn.Conv2d(4, 6, 3, stride=stride, padding=padding, dilation=dilation, groups=groups).double()
    x = np.random.default_rng(0).standard_normal((2, 4, 9, 8))
    y = layer(pc.tensor(x))
    ref = conv2d_ref(
        x, _np(layer.weight), _np(layer.bias), (stride, stride), (padding, padding), (dilation, dilation), groups
    )
    assert y.shape == ref.shape
    np.testing.assert_allclose(_np(y), ref, rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------- bad input ----


def test_conv2d_wrong_ranks():
    expect_error(ValueError, "conv2d", lambda: F.conv2d(t(3, 8), t(4, 3, 3, 3)), "(3, 8)")
    expect_error(ValueError, "conv2d", lambda: F.conv2d(t(1, 1, 3, 8, 8), t(4, 3, 3, 3)), "(1, 1, 3, 8, 8)")
    expect_error(ValueError, "conv2d", lambda: F.conv2d(t(1, 3, 8, 8), t(4, 3, 3)), "(4, 3, 3)")


def test_conv2d_mismatched_channels():
    expect_error(ValueError, "conv2d", lambda: F.conv2d(t(1, 3, 8, 8), t(4, 2, 3, 3)), "(1, 3, 8, 8)", "(4, 2, 3, 3)")
    expect_error(ValueError, "conv2d", lambda: F.conv2d(t(1, 4, 8, 8), t(4, 2, 3, 3), groups=3), "groups")
    expect_error(ValueError, "conv2d", lambda: F.conv2d(t(1, 4, 8, 8), t(3, 2, 3, 3), groups=2), "3", "groups 2")


def test_conv2d_bad_bias():
    expect_error(ValueError, "conv2d", lambda: F.conv2d(t(1, 3, 8, 8), t(4, 3, 3, 3), t(3)), "(3,)")
    expect_error(ValueError, "conv2d", lambda: F.conv2d(t(1, 3, 8, 8), t(4, 3, 3, 3), t(4, 1)), "(4, 1)")


def test_conv2d_kernel_larger_than_input():
    expect_error(ValueError, "conv2d", lambda: F.conv2d(t(1, 1, 2, 2), t(1, 1, 3, 3)), "(1, 1, 2, 2)", "3x3")
    expect_error(ValueError, "conv2d", lambda: F.conv2d(t(1, 1, 5, 5), t(1, 1, 3, 3), dilation=3), "7x7")


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"stride": 0}, "stride"),
        ({"stride": (1, -2)}, "stride"),
        ({"padding": -1}, "padding"),
        ({"dilation": 0}, "dilation"),
        ({"groups": 0}, "groups"),
        ({"groups": -1}, "groups"),
    ],
)
def test_conv2d_nonpositive_arguments(kwargs, needle):
    expect_error(ValueError, "conv2d", lambda: F.conv2d(t(1, 2, 6, 6), t(2, 2, 3, 3), **kwargs), needle)


def test_conv2d_zero_sized_kernel():
    expect_error(ValueError, "conv2d", lambda: F.conv2d(t(1, 2, 6, 6), t(2, 2, 0, 3)), "(2, 2, 0, 3)")


def test_conv2d_bad_padding_strings():
    expect_error(ValueError, "conv2d", lambda: F.conv2d(t(1, 2, 6, 6), t(2, 2, 3, 3), padding="full"), "'full'")
    expect_error(ValueError, "conv2d", lambda: F.conv2d(t(1, 2, 6, 6), t(2, 2, 3, 3), padding="SAME"), "'SAME'")
    expect_error(ValueError, "conv2d", lambda: F.conv2d(t(1, 2, 6, 6), t(2, 2, 3, 3), padding="same", stride=2), "same")
    expect_error(ValueError, "conv2d", lambda: F.conv2d(t(1, 2, 6, 6), t(2, 2, 3, 3), padding=(1, 2, 3)), "padding")


def test_conv2d_wrong_dtypes():
    expect_error(TypeError, "conv2d", lambda: F.conv2d(pc.ones(1, 2, 6, 6, dtype=pc.int64), t(2, 2, 3, 3)), "int64")
    expect_error(
        TypeError, "conv2d", lambda: F.conv2d(t(1, 2, 6, 6), t(2, 2, 3, 3, dtype=np.float64)), "float32", "float64"
    )
    expect_error(TypeError, "conv2d", lambda: F.conv2d(t(1, 2, 6, 6), t(2, 2, 3, 3), t(2, dtype=np.float64)), "bias")
    expect_error(TypeError, "conv2d", lambda: F.conv2d(np.zeros((1, 2, 6, 6)), t(2, 2, 3, 3)), "ndarray")
