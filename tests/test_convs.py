"""The convolution family built on conv2d's kernels: F.pad (constant / reflect / replicate / circular),
conv2d's padding modes and asymmetric 'same', conv_transpose2d / ConvTranspose2d, conv1d / Conv1d and
conv_transpose1d / ConvTranspose1d. Each against a plain NumPy reference (float32 and float64), a float64
finite-difference gradcheck, PyTorch parity of forward values and gradients, and bad input.
"""

import numpy as np
import pytest

import pycnn as pc
import pycnn.nn.functional as F
from pycnn import nn

from helpers import check_device_matches_cpu, check_torch, conv2d_ref, gradcheck, host, module_parity, randn

torch = pytest.importorskip("torch")
TF = torch.nn.functional
DTYPES = [np.float32, np.float64]
NP_MODE = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def tol(dtype):
    """(rtol, atol) against a float64 reference; convolutions sum many products."""
    return {"rtol": 1e-10, "atol": 1e-10} if dtype == np.float64 else {"rtol": 1e-5, "atol": 1e-4}


def run(fn, *arrays, device="cpu"):
    """fn on pycnn tensors made from arrays (on device); the result as a NumPy array."""
    out = fn(*[pc.tensor(a, device=device) if isinstance(a, np.ndarray) else a for a in arrays])
    return host(out, device)


# ---------------------------------------------------------------- NumPy references ----


def np_pad_width(ndim, pads):
    """torch's pad tuple (last dim first, may be negative) -> (np.pad widths >= 0, crop slices)."""
    width, crop = [(0, 0)] * ndim, [slice(None)] * ndim
    for i in range(len(pads) // 2):
        d, lo, hi = ndim - 1 - i, pads[2 * i], pads[2 * i + 1]
        width[d] = (max(lo, 0), max(hi, 0))
        crop[d] = slice(max(-lo, 0), None if hi >= 0 else hi)
    return width, tuple(crop)


def pad_ref(x, pads, mode="constant", value=0.0):
    width, crop = np_pad_width(x.ndim, pads)
    x = x.astype(np.float64)[crop]
    if mode == "constant":
        return np.pad(x, width, constant_values=value)
    return np.pad(x, width, mode=NP_MODE[mode])


def pad_backward_ref(dout, x_shape, pads, mode):
    """The adjoint of pad: pad the flat index of every input element, then scatter-add dout through it."""
    idx = np.arange(int(np.prod(x_shape))).reshape(x_shape)
    if mode == "constant":  # padded positions point at a dump slot past the end
        width, crop = np_pad_width(len(x_shape), pads)
        src = np.pad(idx[crop], width, constant_values=idx.size)
    else:
        src = pad_ref(idx, pads, mode).astype(np.int64)
    return np.bincount(src.ravel(), weights=dout.astype(np.float64).ravel(), minlength=idx.size + 1)[
        : idx.size
    ].reshape(x_shape)


def conv_transpose2d_ref(x, w, b=None, stride=(1, 1), padding=(0, 0), output_padding=(0, 0), dilation=(1, 1), groups=1):
    """Scatter form: every input pixel adds its weighted kernel into the (uncropped) output, then crop."""
    x, w = x.astype(np.float64), w.astype(np.float64)
    N, C, H, W = x.shape
    _, OCg, KH, KW = w.shape
    (sh, sw), (ph, pw), (oph, opw), (dh, dw) = stride, padding, output_padding, dilation
    Cg = C // groups
    OH = (H - 1) * sh - 2 * ph + dh * (KH - 1) + oph + 1
    OW = (W - 1) * sw - 2 * pw + dw * (KW - 1) + opw + 1
    full = np.zeros((N, OCg * groups, OH + 2 * ph + sh + dh * KH, OW + 2 * pw + sw + dw * KW))
    for g in range(groups):
        for c in range(g * Cg, (g + 1) * Cg):
            for i in range(H):
                for j in range(W):
                    for kh in range(KH):
                        for kw in range(KW):
                            full[:, g * OCg : (g + 1) * OCg, i * sh + kh * dh, j * sw + kw * dw] += (
                                x[:, c, i, j, None] * w[c, :, kh, kw][None]
                            )
    y = full[:, :, ph : ph + OH, pw : pw + OW]
    if b is not None:
        y = y + b.astype(np.float64)[None, :, None, None]
    return y


def conv1d_ref(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    return conv2d_ref(x[:, :, None], w[:, :, None], b, (1, stride), (0, padding), (1, dilation), groups)[:, :, 0]


# ---------------------------------------------------------------- pad ----

# (input shape, pads, mode)
PAD_CASES = [
    ((2, 3, 4, 5), [1, 2], "constant"),
    ((2, 3, 4, 5), [2, 0, 1, 3], "constant"),
    ((2, 3, 4, 5), [1, 1, 0, 2, 1, 0], "constant"),  # three dims
    ((2, 3, 4, 5), [-1, 2, 1, -2], "constant"),  # negative pads crop
    ((3, 7), [3, -4], "constant"),
    ((3, 7), [2, 3], "reflect"),
    ((2, 3, 7), [6, 1], "reflect"),  # pad up to size - 1
    ((2, 3, 4, 5), [2, 1, 3, 0], "reflect"),
    ((1, 2, 5, 3), [2, 2, 4, 1], "reflect"),
    ((3, 4, 5), [1, 0, 2, 3], "reflect"),  # unbatched 2-D
    ((2, 3, 7), [3, 5], "replicate"),
    ((2, 3, 4, 5), [4, 1, 0, 6], "replicate"),
    ((1, 1, 1, 1), [2, 3, 1, 2], "replicate"),
    ((2, 3, 7), [7, 2], "circular"),  # pad up to size
    ((2, 3, 4, 5), [5, 2, 1, 4], "circular"),
    ((1, 2, 3, 3), [0, 3, 3, 0], "circular"),
]
PAD_IDS = [f"{m}-{'x'.join(map(str, s))}-{'_'.join(map(str, p))}" for s, p, m in PAD_CASES]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", PAD_CASES, ids=PAD_IDS)
def test_pad_reference(case, dtype, device):
    shape, pads, mode = case
    x = randn(*shape, dtype=dtype, seed=1)
    xt = pc.tensor(x, device=device, requires_grad=True)
    y = F.pad(xt, pads, mode=mode, value=0.0 if mode != "constant" else 1.5)
    ref = pad_ref(x, pads, mode, 1.5)
    assert y.shape == ref.shape and y.dtype == xt.dtype
    np.testing.assert_array_equal(host(y), ref.astype(dtype))
    dout = randn(*ref.shape, dtype=dtype, seed=2)
    y.backward(pc.tensor(dout, device=device))
    np.testing.assert_allclose(host(xt.grad), pad_backward_ref(dout, shape, pads, mode), **tol(dtype))
    if len(shape) >= 2:  # and a strided input (the gradient of a strided view too) gives the same
        check_device_matches_cpu(lambda t: F.pad(t, pads, mode=mode), [x], device, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("case", PAD_CASES[::2], ids=PAD_IDS[::2])
def test_pad_gradcheck(case, device):
    shape, pads, mode = case
    gradcheck(lambda x: F.pad(x, pads, mode), [randn(*shape, seed=3)], device=device)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", PAD_CASES, ids=PAD_IDS)
def test_pad_torch(case, dtype):
    shape, pads, mode = case
    value = -2.0 if mode == "constant" else None
    check_torch(
        lambda x: F.pad(x, pads, mode, value),
        lambda x: TF.pad(x, pads, mode, value),
        [randn(*shape, dtype=dtype, seed=4)],
        **tol(dtype),
    )


def test_pad_same_result_for_one_and_two_threads():
    x = randn(8, 3, 17, 19, seed=5)
    dout = randn(8, 3, 17 + 9, 19 + 12, seed=6)
    grads = []
    old = pc.get_num_threads()
    try:
        for n in (1, 2):
            pc.set_num_threads(n)
            xt = pc.tensor(x, requires_grad=True)
            F.pad(xt, [6, 6, 4, 5], "circular").backward(pc.tensor(dout))
            grads.append(np.asarray(xt.grad))
    finally:
        pc.set_num_threads(old)
    np.testing.assert_array_equal(grads[0], grads[1])


def test_pad_bad_input():
    x = pc.tensor(randn(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"^\[pad\] reflect padding .* smaller than dim 3 of size 5"):
        F.pad(x, [5, 0, 0, 0], "reflect")
    with pytest.raises(ValueError, match=r"^\[pad\] circular padding .* must not exceed dim 2 of size 4"):
        F.pad(x, [0, 0, 5, 0], "circular")
    with pytest.raises(ValueError, match=r"^\[pad\] mode 'replicate' with a pad of length 2 expects a 2-D or 3-D"):
        F.pad(x, [1, 1], "replicate")
    with pytest.raises(ValueError, match=r"^\[pad\] mode 'reflect' needs non-negative pads"):
        F.pad(x, [-1, 1, 0, 0], "reflect")
    with pytest.raises(ValueError, match=r"^\[pad\] pad must have an even"):
        F.pad(x, [1, 1, 1])
    with pytest.raises(ValueError, match=r"^\[pad\] pad of length 10 pads 5 dims but the input \(2, 3, 4, 5\)"):
        F.pad(x, [1] * 10)
    with pytest.raises(ValueError, match=r"^\[pad\] padding \(-4, -3\) leaves dim 3 .* negative size"):
        F.pad(x, [-4, -3])
    with pytest.raises(ValueError, match=r"^\[pad\] mode must be"):
        F.pad(x, [1, 1], "mirror")
    with pytest.raises(ValueError, match=r"^\[pad\] padding value"):
        F.pad(pc.tensor(randn(3, 4)), [1, 1], "reflect", value=2.0)
    with pytest.raises(TypeError, match=r"^\[pad\]"):
        F.pad(np.zeros((2, 2)), [1, 1])


# ---------------------------------------------------------------- conv_transpose2d ----

# (x shape, w shape, stride, padding, output_padding, dilation, groups, bias)
CT_CASES = [
    ((2, 3, 4, 5), (3, 2, 3, 3), (1, 1), (0, 0), (0, 0), (1, 1), 1, True),
    ((1, 4, 5, 3), (4, 3, 3, 2), (2, 3), (1, 0), (1, 2), (1, 1), 1, True),
    ((2, 4, 3, 4), (4, 2, 2, 3), (2, 2), (1, 1), (0, 1), (1, 2), 2, False),
    ((3, 6, 4, 4), (6, 1, 3, 3), (3, 1), (2, 1), (2, 0), (2, 1), 3, True),  # groups, output_padding 2 < stride 3
    ((1, 4, 3, 3), (4, 3, 2, 2), (1, 1), (0, 0), (2, 1), (3, 2), 2, True),  # output_padding < dilation only
    ((2, 2, 1, 1), (2, 5, 4, 1), (2, 1), (0, 0), (1, 0), (1, 1), 1, True),  # 1x1 input
    ((2, 8, 5, 5), (8, 1, 3, 3), (2, 2), (1, 1), (1, 1), (1, 1), 8, True),  # depthwise
    ((1, 3, 6, 7), (3, 4, 1, 1), (1, 1), (0, 0), (0, 0), (1, 1), 1, True),  # pointwise
]
CT_IDS = [
    f"x{'x'.join(map(str, c[0]))}-w{'x'.join(map(str, c[1]))}-s{c[2][0]}{c[2][1]}-p{c[3][0]}{c[3][1]}"
    f"-op{c[4][0]}{c[4][1]}-d{c[5][0]}{c[5][1]}-g{c[6]}"
    for c in CT_CASES
]


def ct_call(stride, padding, output_padding, dilation, groups):
    return lambda x, w, b=None: F.conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CT_CASES, ids=CT_IDS)
def test_conv_transpose2d_reference(case, dtype, device):
    xs, ws, stride, padding, op, dilation, groups, bias = case
    x, w = randn(*xs, dtype=dtype, seed=1), randn(*ws, dtype=dtype, seed=2)
    b = randn(ws[1] * groups, dtype=dtype, seed=3) if bias else None
    y = run(ct_call(stride, padding, op, dilation, groups), x, w, *([b] if bias else []), device=device)
    ref = conv_transpose2d_ref(x, w, b, stride, padding, op, dilation, groups)
    assert y.shape == ref.shape and y.dtype == dtype
    np.testing.assert_allclose(y, ref, **tol(dtype))
    if dtype == np.float32:  # gradients too, and strided inputs, against the CPU kernels
        fn = ct_call(stride, padding, op, dilation, groups)
        check_device_matches_cpu(fn, [x, w] + ([b] if bias else []), device, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", CT_CASES, ids=CT_IDS)
def test_conv_transpose2d_gradcheck(case, device):
    xs, ws, stride, padding, op, dilation, groups, bias = case
    xs = (1,) + xs[1:]
    inputs = [randn(*xs, seed=1), randn(*ws, seed=2)] + ([randn(ws[1] * groups, seed=3)] if bias else [])
    gradcheck(ct_call(stride, padding, op, dilation, groups), inputs, device=device)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CT_CASES, ids=CT_IDS)
def test_conv_transpose2d_torch(case, dtype):
    xs, ws, stride, padding, op, dilation, groups, bias = case
    inputs = [randn(*xs, dtype=dtype, seed=1), randn(*ws, dtype=dtype, seed=2)]
    inputs += [randn(ws[1] * groups, dtype=dtype, seed=3)] if bias else []

    def tfn(x, w, b=None):
        return TF.conv_transpose2d(x, w, b, stride, padding, op, groups, dilation)

    check_torch(ct_call(stride, padding, op, dilation, groups), tfn, inputs, **tol(dtype))


def test_conv_transpose2d_unbatched_and_gradients_of_some_inputs():
    x, w = randn(3, 4, 5, seed=1), randn(3, 2, 3, 3, seed=2)
    check_torch(
        lambda x, w: F.conv_transpose2d(x, w, stride=2),
        lambda x, w: TF.conv_transpose2d(x, w, stride=2),
        [x, w],
        rtol=1e-10,
        atol=1e-10,
    )
    xt, wt = pc.tensor(randn(2, 3, 4, 5, seed=1), requires_grad=True), pc.tensor(w)
    F.conv_transpose2d(xt, wt, pc.tensor(randn(2, seed=3)), stride=2).sum().backward()
    assert xt.grad is not None and wt.grad is None


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"stride": 2, "padding": 1, "output_padding": 1},
        {"stride": (3, 2), "padding": (1, 0), "groups": 2, "dilation": (1, 2), "bias": False},
    ],
)
def test_conv_transpose2d_module(kw, dtype, device):
    tdtype = torch.float64 if dtype == np.float64 else torch.float32
    pdtype = pc.float64 if dtype == np.float64 else pc.float32
    ours = nn.ConvTranspose2d(4, 6, (3, 2), dtype=pdtype, **kw)
    theirs = torch.nn.ConvTranspose2d(4, 6, (3, 2), dtype=tdtype, **kw)
    assert ours.weight.shape == theirs.weight.shape == (4, 6 // kw.get("groups", 1), 3, 2)
    module_parity(ours, theirs, randn(2, 4, 5, 4, dtype=dtype, seed=1), **tol(dtype), device=device)


@pytest.mark.parametrize("output_size", [(13, 7), [2, 6, 14, 8], (15, 8)])
def test_conv_transpose2d_output_size(output_size, device):
    ours = nn.ConvTranspose2d(4, 6, 3, stride=(3, 2), padding=1, dtype=pc.float64)
    theirs = torch.nn.ConvTranspose2d(4, 6, 3, stride=(3, 2), padding=1, dtype=torch.float64)
    module_parity(ours, theirs, randn(2, 4, 5, 4, seed=1), **tol(np.float64), output_size=output_size, device=device)
    with pytest.raises(
        ValueError,
        match=r"^\[ConvTranspose2d\] requested an output size of \[16, 8\], but valid "
        r"sizes range from 13 to 15",
    ):
        ours(pc.tensor(randn(2, 4, 5, 4)), output_size=[16, 8])
    with pytest.raises(ValueError, match=r"^\[ConvTranspose2d\] output_size must have 2 or 4"):
        ours(pc.tensor(randn(2, 4, 5, 4)), output_size=[11])


def test_conv_transpose2d_bad_input():
    x, w = pc.tensor(randn(2, 4, 5, 5)), pc.tensor(randn(4, 3, 3, 3))
    with pytest.raises(
        ValueError,
        match=r"^\[conv_transpose2d\] output_padding \(2, 2\) must be smaller than "
        r"either stride or dilation",
    ):
        F.conv_transpose2d(x, w, stride=2, output_padding=2)
    with pytest.raises(ValueError, match=r"^\[conv_transpose2d\] expected input of shape \(N, C, H, W\) with C=4"):
        F.conv_transpose2d(pc.tensor(randn(2, 3, 5, 5)), w)
    with pytest.raises(ValueError, match=r"^\[conv_transpose2d\] in_channels 4 is not divisible by groups 3"):
        F.conv_transpose2d(x, w, groups=3)
    with pytest.raises(ValueError, match=r"^\[conv_transpose2d\] expected bias of shape \(6,\)"):
        F.conv_transpose2d(x, w, pc.tensor(randn(3)), groups=2)
    with pytest.raises(ValueError, match=r"^\[conv_transpose2d\] .* non-positive output size"):
        F.conv_transpose2d(x, w, padding=4)
    with pytest.raises(ValueError, match=r"^\[conv_transpose2d\] stride must be positive"):
        F.conv_transpose2d(x, w, stride=0)
    with pytest.raises(ValueError, match=r"^\[conv_transpose2d\] padding must be non-negative"):
        F.conv_transpose2d(x, w, padding=-1)
    with pytest.raises(
        ValueError,
        match=r"^\[conv_transpose2d\] expected weight of shape \(in_channels, out_channels/groups, kH, kW\), got \(4, 3, 3\)",
    ):
        F.conv_transpose2d(x, pc.tensor(randn(4, 3, 3)))
    with pytest.raises(TypeError, match=r"^\[conv_transpose2d\]"):
        F.conv_transpose2d(x, pc.tensor(randn(4, 3, 3, 3).astype(np.float32)))
    with pytest.raises(ValueError, match=r"^\[ConvTranspose2d\] output_padding"):
        nn.ConvTranspose2d(4, 6, 3, stride=2, output_padding=2)
    with pytest.raises(ValueError, match=r'^\[ConvTranspose2d\] Only "zeros" padding mode'):
        nn.ConvTranspose2d(4, 6, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match=r"^\[ConvTranspose2d\] out_channels must be divisible by groups"):
        nn.ConvTranspose2d(4, 6, 3, groups=4)


# ---------------------------------------------------------------- conv1d / conv_transpose1d ----

# (x shape, w shape, stride, padding, dilation, groups, bias)
C1_CASES = [
    ((2, 3, 9), (4, 3, 3), 1, 0, 1, 1, True),
    ((1, 4, 10), (6, 2, 4), 2, 3, 1, 2, False),
    ((3, 4, 7), (4, 1, 3), 3, 1, 2, 4, True),
    ((2, 2, 5), (3, 2, 2), 1, "same", 3, 1, True),
    ((2, 2, 5), (3, 2, 4), 1, "valid", 1, 1, True),
]


def c1_call(stride, padding, dilation, groups):
    return lambda x, w, b=None: F.conv1d(x, w, b, stride, padding, dilation, groups)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", C1_CASES)
def test_conv1d_reference_and_torch(case, dtype, device):
    xs, ws, stride, padding, dilation, groups, bias = case
    x, w = randn(*xs, dtype=dtype, seed=1), randn(*ws, dtype=dtype, seed=2)
    b = randn(ws[0], dtype=dtype, seed=3) if bias else None
    if padding == "same":
        total = dilation * (ws[2] - 1)
        ref = conv1d_ref(np.pad(x, ((0, 0), (0, 0), (total // 2, total - total // 2))), w, b, 1, 0, dilation, groups)
    else:
        ref = conv1d_ref(x, w, b, stride, 0 if padding == "valid" else padding, dilation, groups)
    fn = c1_call(stride, padding, dilation, groups)
    y = run(fn, x, w, *([b] if bias else []), device=device)
    assert y.shape == ref.shape
    np.testing.assert_allclose(y, ref, **tol(dtype))
    if device != "cpu":
        check_device_matches_cpu(fn, [x, w] + ([b] if bias else []), device, rtol=1e-5, atol=1e-5)
        return
    check_torch(
        fn,
        lambda x, w, b=None: TF.conv1d(x, w, b, stride, padding, dilation, groups),
        [x, w] + ([b] if bias else []),
        **tol(dtype),
    )


@pytest.mark.parametrize("case", C1_CASES)
def test_conv1d_gradcheck(case, device):
    xs, ws, stride, padding, dilation, groups, bias = case
    gradcheck(
        c1_call(stride, padding, dilation, groups),
        [randn(*xs, seed=1), randn(*ws, seed=2)] + ([randn(ws[0], seed=3)] if bias else []),
        device=device,
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize(
    "kw",
    [
        {"kernel_size": 3, "padding": 1},
        {"kernel_size": 4, "padding": "same", "dilation": 2},
        {"kernel_size": 2, "stride": 2, "padding": 2, "groups": 2, "bias": False},
    ],
)
def test_conv1d_module(mode, kw, dtype, device):
    tdtype = torch.float64 if dtype == np.float64 else torch.float32
    pdtype = pc.float64 if dtype == np.float64 else pc.float32
    ours = nn.Conv1d(4, 6, padding_mode=mode, dtype=pdtype, **kw)
    theirs = torch.nn.Conv1d(4, 6, padding_mode=mode, dtype=tdtype, **kw)
    assert ours.padding == theirs.padding and ours.kernel_size == theirs.kernel_size
    module_parity(ours, theirs, randn(2, 4, 9, dtype=dtype, seed=1), **tol(dtype), device=device)
    y = ours(pc.tensor(randn(4, 9, dtype=dtype, seed=1)))  # unbatched
    assert y.shape == tuple(theirs(torch.tensor(randn(4, 9, dtype=dtype, seed=1))).shape)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", [{}, {"stride": 3, "padding": 1, "output_padding": 2, "groups": 2, "dilation": 2}])
def test_conv_transpose1d(kw, dtype, device):
    tdtype = torch.float64 if dtype == np.float64 else torch.float32
    pdtype = pc.float64 if dtype == np.float64 else pc.float32
    ours = nn.ConvTranspose1d(4, 6, 3, dtype=pdtype, **kw)
    theirs = torch.nn.ConvTranspose1d(4, 6, 3, dtype=tdtype, **kw)
    module_parity(ours, theirs, randn(2, 4, 7, dtype=dtype, seed=1), **tol(dtype), device=device)
    gradcheck(
        lambda x, w, b: F.conv_transpose1d(
            x,
            w,
            b,
            kw.get("stride", 1),
            kw.get("padding", 0),
            kw.get("output_padding", 0),
            kw.get("groups", 1),
            kw.get("dilation", 1),
        ),
        [randn(1, 4, 5, seed=1), randn(4, 6 // kw.get("groups", 1), 3, seed=2), randn(6, seed=3)],
        device=device,
    )


def test_conv1d_bad_input():
    with pytest.raises(ValueError, match=r"^\[conv1d\] expected input of shape \(N, C, L\) or \(C, L\)"):
        F.conv1d(pc.tensor(randn(1, 2, 3, 4)), pc.tensor(randn(2, 2, 3)))
    with pytest.raises(ValueError, match=r"^\[conv1d\] expected a 3-D weight"):
        F.conv1d(pc.tensor(randn(1, 2, 6)), pc.tensor(randn(2, 2, 3, 3)))
    with pytest.raises(ValueError, match=r"^\[conv2d\] padding='same' is not supported for strided"):
        F.conv1d(pc.tensor(randn(1, 2, 6)), pc.tensor(randn(2, 2, 3)), stride=2, padding="same")
    with pytest.raises(ValueError, match=r"^\[Conv1d\] padding='same' is not supported for strided"):
        nn.Conv1d(2, 2, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match=r"^\[Conv1d\] kernel_size must be an int or 1 ints"):
        nn.Conv1d(2, 2, (3, 3))
    with pytest.raises(ValueError, match=r"^\[Conv1d\] padding_mode must be one of"):
        nn.Conv1d(2, 2, 3, padding_mode="mirror")


def test_state_dicts_match_torch():
    for ours, theirs in [
        (nn.Conv1d(4, 6, 3, groups=2), torch.nn.Conv1d(4, 6, 3, groups=2)),
        (nn.Conv2d(4, 6, (3, 2), bias=False), torch.nn.Conv2d(4, 6, (3, 2), bias=False)),
        (nn.ConvTranspose2d(4, 6, (3, 2), groups=2), torch.nn.ConvTranspose2d(4, 6, (3, 2), groups=2)),
        (nn.ConvTranspose1d(4, 6, 5), torch.nn.ConvTranspose1d(4, 6, 5)),
    ]:
        sd, tsd = ours.state_dict(), theirs.state_dict()
        assert list(sd.keys()) == list(tsd.keys())
        assert [tuple(v.shape) for v in sd.values()] == [tuple(v.shape) for v in tsd.values()]
