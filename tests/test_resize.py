"""Pooling variants and resampling: adaptive avg/max pooling, pixel (un)shuffle, interpolate / Upsample
(nearest, nearest-exact, bilinear with and without align_corners) and max unpooling. Each op three ways:
(a) a plain NumPy reference written here, float32 and float64, awkward shapes; (b) float64
finite-difference gradcheck; (c) forward and gradient parity with PyTorch. Plus bad input and threading.
"""

import numpy as np
import pytest

import pycnn as pc
import pycnn.nn.functional as F
from pycnn import nn

from helpers import check_device_matches_cpu, check_torch, distinct, expect_error, gradcheck, host, randn

DTYPES = [np.float32, np.float64]


def tol(dtype):
    return {"rtol": 1e-10, "atol": 1e-10} if dtype == np.float64 else {"rtol": 1e-5, "atol": 1e-5}


def run(fn, *arrays, device="cpu"):
    """fn on pycnn tensors made from arrays (on device); the result(s) as NumPy arrays."""
    out = fn(*[pc.tensor(a, device=device) if isinstance(a, np.ndarray) else a for a in arrays])
    return tuple(host(o, device) for o in out) if isinstance(out, tuple) else host(out, device)


# ---------------------------------------------------------------- NumPy references ----


def adaptive_bounds(i, out, size):
    return (i * size) // out, -(-((i + 1) * size) // out)


def adaptive_pool_ref(x, out_hw, kind):
    """kind 'avg' -> values; 'max' -> (values, flat h*W+w index of the first max)."""
    H, W = x.shape[-2:]
    OH, OW = out_hw
    y = np.zeros(x.shape[:-2] + (OH, OW))
    idx = np.zeros(x.shape[:-2] + (OH, OW), dtype=np.int64)
    for i in range(OH):
        h0, h1 = adaptive_bounds(i, OH, H)
        for j in range(OW):
            w0, w1 = adaptive_bounds(j, OW, W)
            win = x[..., h0:h1, w0:w1].astype(np.float64)
            if kind == "avg":
                y[..., i, j] = win.mean(axis=(-2, -1))
            else:
                flat = win.reshape(win.shape[:-2] + (-1,))
                k = flat.argmax(axis=-1)
                y[..., i, j] = flat.max(axis=-1)
                idx[..., i, j] = (h0 + k // (w1 - w0)) * W + w0 + k % (w1 - w0)
    return y if kind == "avg" else (y, idx)


def pixel_shuffle_ref(x, r):
    *lead, C, H, W = x.shape
    c = C // (r * r)
    y = x.reshape(*lead, c, r, r, H, W)
    n = len(lead)
    y = y.transpose(*range(n), n, n + 3, n + 1, n + 4, n + 2)  # (.., c, H, r, W, r)
    return y.reshape(*lead, c, H * r, W * r)


def pixel_unshuffle_ref(x, r):
    *lead, C, H, W = x.shape
    n = len(lead)
    y = x.reshape(*lead, C, H // r, r, W // r, r)
    y = y.transpose(*range(n), n, n + 2, n + 4, n + 1, n + 3)  # (.., C, r, r, H/r, W/r)
    return y.reshape(*lead, C * r * r, H // r, W // r)


def source_taps(in_size, out_size, mode, align_corners, scale):
    """Per output index: (i0, i1, l0, l1) following torch's coordinate rules; scale is the user's factor or None.
    Nearest picks use float32 arithmetic as torch does; bilinear uses float64."""
    taps = []
    for d in range(out_size):
        if mode in ("nearest", "nearest-exact"):
            s = np.float32(1.0 / scale) if scale else np.float32(in_size) / np.float32(out_size)
            if mode == "nearest-exact":
                src = int(np.floor(np.float32((d + 0.5) * s)))
            else:
                src = int(np.floor(np.float32(d) * s))
            src = min(src, in_size - 1)
            taps.append((src, src, 1.0, 0.0))
            continue
        if align_corners:
            real = (in_size - 1) / (out_size - 1) * d if out_size > 1 else 0.0
        else:
            s = 1.0 / scale if scale else in_size / out_size
            real = max(s * (d + 0.5) - 0.5, 0.0)
        i0 = min(int(np.floor(real)), in_size - 1)
        i1 = i0 + (1 if i0 < in_size - 1 else 0)
        l1 = min(max(real - i0, 0.0), 1.0)
        taps.append((i0, i1, 1.0 - l1, l1))
    return taps


def interpolate_ref(x, out_hw, mode, align_corners=False, scales=(None, None)):
    th = source_taps(x.shape[2], out_hw[0], mode, align_corners, scales[0])
    tw = source_taps(x.shape[3], out_hw[1], mode, align_corners, scales[1])
    x = x.astype(np.float64)
    y = np.zeros(x.shape[:2] + tuple(out_hw))
    for i, (a0, a1, la0, la1) in enumerate(th):
        for j, (b0, b1, lb0, lb1) in enumerate(tw):
            y[:, :, i, j] = la0 * (lb0 * x[:, :, a0, b0] + lb1 * x[:, :, a0, b1]) + la1 * (
                lb0 * x[:, :, a1, b0] + lb1 * x[:, :, a1, b1]
            )
    return y


def max_unpool_ref(x, idx, out_hw):
    """Zero planes of out_hw with each plane's x values written at its flat indices."""
    planes = int(np.prod(x.shape[:-2]))
    xf, jf = x.reshape(planes, -1), idx.reshape(planes, -1)
    y = np.zeros((planes, out_hw[0] * out_hw[1]))
    for p in range(planes):
        y[p, jf[p]] = xf[p]
    return y.reshape(x.shape[:-2] + tuple(out_hw))


# ---------------------------------------------------------------- adaptive pooling ----

ADAPTIVE_CASES = [  # (input shape, output_size argument, resolved (OH, OW))
    ((2, 3, 7, 9), (3, 4), (3, 4)),
    ((2, 3, 7, 9), 1, (1, 1)),  # global pooling
    ((1, 2, 5, 5), (5, 5), (5, 5)),  # identity windows
    ((2, 2, 6, 10), (4, 3), (4, 3)),  # overlapping windows
    ((1, 3, 3, 4), (5, 7), (5, 7)),  # output larger than input
    ((2, 3, 8, 6), (None, 2), (8, 2)),  # None keeps the input size
    ((3, 13, 11), (2, 5), (2, 5)),  # unbatched (C, H, W)
    ((1, 4, 33, 35), 1, (1, 1)),  # global, longer than the 8-wide partial sums
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", ADAPTIVE_CASES)
def test_adaptive_avg_pool2d_reference(case, dtype, device):
    shape, size, out_hw = case
    x = randn(*shape, dtype=dtype, seed=1)
    y = run(lambda t: F.adaptive_avg_pool2d(t, size), x, device=device)
    assert y.dtype == dtype
    np.testing.assert_allclose(y, adaptive_pool_ref(x, out_hw, "avg"), **tol(dtype))
    if dtype == np.float32:  # both adaptive pools' gradients, and a strided input, against the CPU kernels
        check_device_matches_cpu(lambda t: F.adaptive_avg_pool2d(t, size), [x], device, rtol=1e-5, atol=1e-6)
        xd = distinct(*shape, dtype=dtype, seed=2)
        fn = lambda t: F.adaptive_max_pool2d(t, size, return_indices=True)
        check_device_matches_cpu(fn, [xd], device, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", ADAPTIVE_CASES)
def test_adaptive_max_pool2d_reference(case, dtype, device):
    shape, size, out_hw = case
    x = distinct(*shape, dtype=dtype, seed=2)
    y, idx = run(lambda t: F.adaptive_max_pool2d(t, size, return_indices=True), x, device=device)
    ref_y, ref_idx = adaptive_pool_ref(x, out_hw, "max")
    np.testing.assert_array_equal(y, ref_y.astype(dtype))
    np.testing.assert_array_equal(idx, ref_idx)


@pytest.mark.parametrize("case", ADAPTIVE_CASES[:7])
def test_adaptive_pool2d_gradcheck(case, device):
    shape, size, _ = case
    gradcheck(lambda t: F.adaptive_avg_pool2d(t, size), [randn(*shape, seed=3)], device=device)
    gradcheck(
        lambda t: F.adaptive_max_pool2d(t, size), [distinct(*shape, seed=3)], max_kink_fraction=0.0, device=device
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", ADAPTIVE_CASES)
def test_adaptive_pool2d_torch(case, dtype):
    torch = pytest.importorskip("torch")
    shape, size, _ = case
    x = randn(*shape, dtype=dtype, seed=4)
    check_torch(
        lambda t: F.adaptive_avg_pool2d(t, size),
        lambda t: torch.nn.functional.adaptive_avg_pool2d(t, size),
        [x],
        **tol(dtype),
    )
    check_torch(
        lambda t: F.adaptive_max_pool2d(t, size, True),
        lambda t: torch.nn.functional.adaptive_max_pool2d(t, size, True),
        [x],
        rtol=0,
        atol=0,
    )


def test_adaptive_max_pool2d_nan_like_torch(device):
    torch = pytest.importorskip("torch")
    x = randn(1, 2, 5, 6, seed=5)
    x[0, 0, 1, 1] = x[0, 0, 3, 4] = x[0, 1, 4, 5] = np.nan
    y, idx = F.adaptive_max_pool2d(pc.tensor(x, device=device), (2, 3), return_indices=True)
    ty, tidx = torch.nn.functional.adaptive_max_pool2d(torch.from_numpy(x), (2, 3), return_indices=True)
    np.testing.assert_array_equal(host(y), ty.numpy())
    np.testing.assert_array_equal(host(idx), tidx.numpy())


def test_adaptive_modules():
    x = randn(2, 3, 9, 7, seed=6)
    np.testing.assert_allclose(
        np.asarray(nn.AdaptiveAvgPool2d((2, None))(pc.tensor(x))),
        adaptive_pool_ref(x, (2, 7), "avg"),
        rtol=1e-12,
        atol=1e-12,
    )
    y, idx = nn.AdaptiveMaxPool2d(3, return_indices=True)(pc.tensor(x))
    assert y.shape == (2, 3, 3, 3) and idx.shape == (2, 3, 3, 3)
    assert "output_size=3" in repr(nn.AdaptiveMaxPool2d(3))


# ---------------------------------------------------------------- pixel shuffle ----

SHUFFLE_CASES = [((2, 12, 3, 5), 2), ((1, 18, 4, 2), 3), ((9, 2, 3), 3), ((2, 3, 8, 4, 5), 2), ((1, 5, 3, 3), 1)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", SHUFFLE_CASES)
def test_pixel_shuffle_reference(case, dtype, device):
    shape, r = case
    x = randn(*shape, dtype=dtype, seed=7)
    y = run(lambda t: F.pixel_shuffle(t, r), x, device=device)
    np.testing.assert_array_equal(y, pixel_shuffle_ref(x, r))
    np.testing.assert_array_equal(run(lambda t: F.pixel_unshuffle(t, r), y, device=device), x)  # round trip
    np.testing.assert_array_equal(run(lambda t: F.pixel_unshuffle(t, r), y, device=device), pixel_unshuffle_ref(y, r))


@pytest.mark.parametrize("case", SHUFFLE_CASES[:3])
def test_pixel_shuffle_gradcheck(case, device):
    shape, r = case
    gradcheck(lambda t: F.pixel_shuffle(t, r), [randn(*shape, seed=8)], device=device)
    gradcheck(
        lambda t: F.pixel_unshuffle(t, r), [randn(*pixel_shuffle_ref(np.zeros(shape), r).shape, seed=8)], device=device
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", SHUFFLE_CASES)
def test_pixel_shuffle_torch(case, dtype):
    torch = pytest.importorskip("torch")
    shape, r = case
    x = randn(*shape, dtype=dtype, seed=9)
    check_torch(lambda t: nn.PixelShuffle(r)(t), torch.nn.PixelShuffle(r), [x], rtol=0, atol=0)
    y = pixel_shuffle_ref(x, r)
    check_torch(lambda t: nn.PixelUnshuffle(r)(t), torch.nn.PixelUnshuffle(r), [y], rtol=0, atol=0)


# ---------------------------------------------------------------- interpolate / Upsample ----

MODES = [("nearest", None), ("nearest-exact", None), ("bilinear", False), ("bilinear", True)]
RESIZES = [  # keyword arguments of interpolate, on a (2, 3, 7, 9) input
    {"size": (14, 18)},  # exact 2x
    {"size": (5, 13)},  # down in H, up in W
    {"size": (3, 4)},  # down in both
    {"size": (7, 9)},  # identity
    {"size": (1, 1)},  # a single output pixel
    {"size": 11},  # int size
    {"scale_factor": 2},  # integer scale
    {"scale_factor": 1.7},  # non-integer upsampling
    {"scale_factor": 0.6},  # non-integer downsampling
    {"scale_factor": (0.5, 2.3)},  # a pair, mixed
    {"scale_factor": 3.3, "recompute_scale_factor": True},
    {"scale_factor": (1.25, 0.75), "recompute_scale_factor": True},
]


def resolved(shape, kw):
    """(out size, user scales or None) as interpolate computes them."""
    if "size" in kw:
        s = kw["size"]
        return ((s, s) if isinstance(s, int) else s), (None, None)
    sf = kw["scale_factor"]
    sf = (sf, sf) if isinstance(sf, (int, float)) else sf
    out = tuple(int(np.floor(n * f)) for n, f in zip(shape[2:], sf))
    return out, ((None, None) if kw.get("recompute_scale_factor") else sf)


def interp_call(mode, align_corners, kw):
    return lambda t: F.interpolate(t, mode=mode, align_corners=align_corners, **kw)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", RESIZES)
@pytest.mark.parametrize("mode,align_corners", MODES)
def test_interpolate_reference(mode, align_corners, kw, dtype, device):
    x = randn(2, 3, 7, 9, dtype=dtype, seed=10)
    out, scales = resolved(x.shape, kw)
    y = run(interp_call(mode, align_corners, kw), x, device=device)
    assert y.dtype == dtype and y.shape == (2, 3) + tuple(out)
    np.testing.assert_allclose(y, interpolate_ref(x, out, mode, bool(align_corners), scales), **tol(dtype))
    if dtype == np.float32:  # the gradient too, and a strided input, against the CPU kernels
        check_device_matches_cpu(interp_call(mode, align_corners, kw), [x], device, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "kw", [{"size": (5, 13)}, {"scale_factor": 1.7}, {"scale_factor": (0.5, 2.3)}, {"size": (3, 4)}]
)
@pytest.mark.parametrize("mode,align_corners", MODES)
def test_interpolate_gradcheck(mode, align_corners, kw, device):
    gradcheck(interp_call(mode, align_corners, kw), [randn(2, 2, 5, 6, seed=11)], device=device)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", RESIZES)
@pytest.mark.parametrize("mode,align_corners", MODES)
def test_interpolate_torch(mode, align_corners, kw, dtype):
    torch = pytest.importorskip("torch")
    x = randn(2, 3, 7, 9, dtype=dtype, seed=12)
    check_torch(
        interp_call(mode, align_corners, kw),
        lambda t: torch.nn.functional.interpolate(t, mode=mode, align_corners=align_corners, **kw),
        [x],
        **tol(dtype),
    )


@pytest.mark.parametrize("scale", [1.1, 2.5, 0.3, 4.0 / 3.0, 0.51])
@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_interpolate_torch_larger_images(mode, scale, device):
    """Long axes catch float rounding of the source index: torch computes nearest picks in float32, and we
    must pick the same pixels (exact match). Bilinear float32 coordinates near 100 carry ~1e-5 of rounding
    (whether the compiler fuses scale * (d + 0.5) - 0.5 into an FMA), hence its looser tolerance. On another
    device the same against the CPU kernels: the same pixels, and bilinear within that rounding."""
    x = randn(1, 2, 61, 97, dtype=np.float32, seed=13)
    atol = 0 if mode == "nearest" else 1e-4
    if device != "cpu":
        fn = lambda t: F.interpolate(t, scale_factor=scale, mode=mode)
        check_device_matches_cpu(fn, [x], device, rtol=0, atol=atol, grad_rtol=1e-5, grad_atol=1e-4)
        return
    torch = pytest.importorskip("torch")
    check_torch(
        lambda t: F.interpolate(t, scale_factor=scale, mode=mode),
        lambda t: torch.nn.functional.interpolate(t, scale_factor=scale, mode=mode),
        [x],
        rtol=0,
        atol=atol,
        grad_atol=1e-4,
        grad_rtol=1e-5,
    )


def test_upsample_modules():
    torch = pytest.importorskip("torch")
    x = randn(1, 2, 4, 5, seed=14)
    pairs = [
        (nn.Upsample(scale_factor=2), torch.nn.Upsample(scale_factor=2)),
        (nn.Upsample(size=(6, 3), mode="bilinear"), torch.nn.Upsample(size=(6, 3), mode="bilinear")),
        (nn.UpsamplingNearest2d(scale_factor=1.5), torch.nn.UpsamplingNearest2d(scale_factor=1.5)),
        (nn.UpsamplingBilinear2d(size=7), torch.nn.UpsamplingBilinear2d(size=7)),
    ]
    for ours, theirs in pairs:
        check_torch(ours, theirs, [x], rtol=1e-12, atol=1e-12)
    assert "mode='bilinear'" in repr(nn.Upsample(size=3, mode="bilinear"))
    np.testing.assert_array_equal(
        np.asarray(F.upsample(pc.tensor(x), scale_factor=2)), np.asarray(F.interpolate(pc.tensor(x), scale_factor=2))
    )


# ---------------------------------------------------------------- max unpooling ----

UNPOOL_CASES = [  # (input shape, kernel, stride, padding, output_size argument)
    ((2, 3, 8, 10), 2, None, 0, None),
    ((1, 2, 7, 7), 3, 2, 1, None),
    ((2, 2, 9, 8), (3, 2), (2, 2), (1, 0), (9, 8)),  # recovers an odd size max_pool2d floored away
    ((2, 2, 9, 8), 2, 2, 0, (2, 2, 9, 9)),  # full-shape output_size
    ((3, 6, 6), 2, None, 0, None),  # unbatched
]


def pooled(case, dtype, seed):
    shape, k, s, p, _ = case
    x = distinct(*shape, dtype=dtype, seed=seed)
    y, idx = F.max_pool2d(pc.tensor(x), k, s, p, return_indices=True)
    return x, np.asarray(y), np.asarray(idx)


def unpool_out(case, pooled_shape):
    _shape, k, s, p, size = case
    if size is not None:
        return tuple(size[-2:])
    k = (k, k) if isinstance(k, int) else k
    s = k if s is None else ((s, s) if isinstance(s, int) else s)
    p = (p, p) if isinstance(p, int) else p
    return tuple((pooled_shape[-2 + d] - 1) * s[d] - 2 * p[d] + k[d] for d in range(2))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", UNPOOL_CASES)
def test_max_unpool2d_reference(case, dtype, device):
    _, k, s, p, size = case
    _, y, idx = pooled(case, dtype, seed=15)
    out = run(lambda a, i: F.max_unpool2d(a, i, k, s, p, size), y, idx, device=device)
    np.testing.assert_array_equal(out, max_unpool_ref(y, idx, unpool_out(case, y.shape)).astype(dtype))


@pytest.mark.parametrize("case", UNPOOL_CASES)
def test_max_unpool2d_gradcheck(case, device):
    """Overlapping windows can repeat an index (the last write wins, and its gradient is then shared, as
    in torch), so the check uses distinct random positions of each output plane."""
    _, k, s, p, size = case
    _, y, _ = pooled(case, np.float64, seed=16)
    out = unpool_out(case, y.shape)
    rng = np.random.default_rng(21)
    planes, hw = int(np.prod(y.shape[:-2])), y.shape[-2] * y.shape[-1]
    idx = np.stack([rng.choice(out[0] * out[1], hw, replace=False) for _ in range(planes)]).reshape(y.shape)
    gradcheck(lambda a, i: F.max_unpool2d(a, i, k, s, p, size), [randn(*y.shape, seed=17), idx], device=device)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", UNPOOL_CASES)
def test_max_unpool2d_torch(case, dtype):
    torch = pytest.importorskip("torch")
    _, k, s, p, size = case
    _, y, idx = pooled(case, dtype, seed=18)
    check_torch(
        lambda a, i: nn.MaxUnpool2d(k, s, p)(a, i, size),
        lambda a, i: torch.nn.MaxUnpool2d(k, s, p)(a, i, size),
        [y, idx],
        rtol=0,
        atol=0,
    )


# ---------------------------------------------------------------- threads ----


def test_same_result_for_one_and_two_threads():
    x = randn(4, 5, 23, 19, dtype=np.float32, seed=19)
    cot = randn(4, 5, 31, 11, dtype=np.float32, seed=20)
    ops = [
        lambda t: F.interpolate(t, size=(31, 11), mode="bilinear"),
        lambda t: F.interpolate(t, size=(31, 11)),
        lambda t: F.adaptive_avg_pool2d(t, (31, 11)),
        lambda t: F.adaptive_max_pool2d(t, (31, 11)),
    ]
    before = pc.get_num_threads()
    try:
        results = []
        for n in (1, 2):
            pc.set_num_threads(n)
            res = []
            for op in ops:
                t = pc.tensor(x, requires_grad=True)
                y = op(t)
                y.backward(pc.tensor(cot))
                res += [np.asarray(y.detach()), np.asarray(t.grad)]
            results.append(res)
        for a, b in zip(*results):
            np.testing.assert_array_equal(a, b)
    finally:
        pc.set_num_threads(before)


# ---------------------------------------------------------------- bad input ----


def t4(*shape, dtype=np.float32):
    return pc.tensor(np.random.default_rng(0).standard_normal(shape).astype(dtype))


def test_adaptive_bad_input():
    expect_error(ValueError, "adaptive_avg_pool2d", lambda: F.adaptive_avg_pool2d(t4(2, 3), 2), "(2, 3)")
    expect_error(ValueError, "adaptive_avg_pool2d", lambda: F.adaptive_avg_pool2d(t4(1, 2, 4, 4), (2, 2, 2)))
    expect_error(
        ValueError, "adaptive_max_pool2d", lambda: F.adaptive_max_pool2d(t4(1, 2, 4, 4), 0), "must be positive, got 0"
    )
    expect_error(ValueError, "adaptive_avg_pool2d", lambda: F.adaptive_avg_pool2d(t4(1, 2, 0, 4), 2), "(1, 2, 0, 4)")
    expect_error(
        TypeError, "adaptive_avg_pool2d", lambda: F.adaptive_avg_pool2d(pc.tensor(np.ones((1, 1, 2, 2), np.int64)), 1)
    )
    expect_error(TypeError, "adaptive_avg_pool2d", lambda: F.adaptive_avg_pool2d(np.ones((1, 1, 2, 2)), 1))


def test_pixel_shuffle_bad_input():
    expect_error(ValueError, "pixel_shuffle", lambda: F.pixel_shuffle(t4(1, 6, 2, 2), 2), "(1, 6, 2, 2)", "4")
    expect_error(ValueError, "pixel_shuffle", lambda: F.pixel_shuffle(t4(4, 2), 2), "(4, 2)")
    expect_error(ValueError, "pixel_shuffle", lambda: F.pixel_shuffle(t4(1, 4, 2, 2), 0), "0")
    expect_error(TypeError, "pixel_shuffle", lambda: F.pixel_shuffle(t4(1, 4, 2, 2), 2.0))
    expect_error(ValueError, "pixel_unshuffle", lambda: F.pixel_unshuffle(t4(1, 1, 4, 5), 2), "(1, 1, 4, 5)")


@pytest.mark.parametrize(
    "kwargs,needle",
    [
        ({}, "exactly one"),
        ({"size": 4, "scale_factor": 2}, "exactly one"),
        ({"size": 4, "mode": "bicubic"}, "mode"),
        ({"size": 4, "align_corners": True}, "align_corners"),
        ({"scale_factor": -1.0}, "positive"),
        ({"scale_factor": 0.1}, "output size"),
        ({"size": (0, 3)}, "output size"),
        ({"size": (2, 3, 4)}, "size"),
        ({"size": 4, "recompute_scale_factor": True}, "recompute_scale_factor"),
        ({"size": 4, "antialias": True}, "antialias"),
    ],
)
def test_interpolate_bad_arguments(kwargs, needle):
    expect_error(ValueError, "interpolate", lambda: F.interpolate(t4(1, 2, 5, 5), **kwargs), needle)


def test_interpolate_bad_input():
    expect_error(ValueError, "interpolate", lambda: F.interpolate(t4(2, 5, 5), size=3), "(2, 5, 5)")
    expect_error(
        TypeError, "interpolate", lambda: F.interpolate(pc.tensor(np.ones((1, 1, 2, 2), np.int64)), size=3), "int64"
    )


def test_max_unpool2d_bad_input():
    x = t4(1, 2, 3, 3)
    idx = pc.tensor(np.zeros((1, 2, 3, 3), dtype=np.int64))
    expect_error(ValueError, "max_unpool2d", lambda: F.max_unpool2d(x, idx, 2, output_size=(9, 9)), "(9, 9)")
    expect_error(
        ValueError,
        "max_unpool2d",
        lambda: F.max_unpool2d(x, pc.tensor(np.zeros((1, 2, 3, 2), np.int64)), 2),
        "(1, 2, 3, 2)",
        "(1, 2, 3, 3)",
    )
    expect_error(
        ValueError, "max_unpool2d", lambda: F.max_unpool2d(x, pc.tensor(np.full((1, 2, 3, 3), 36, np.int64)), 2), "36"
    )
    expect_error(
        ValueError, "max_unpool2d", lambda: F.max_unpool2d(x, pc.tensor(np.full((1, 2, 3, 3), -1, np.int64)), 2), "-1"
    )
    expect_error(TypeError, "max_unpool2d", lambda: F.max_unpool2d(x, t4(1, 2, 3, 3), 2), "int64")


def test_backward_entry_points_check_shapes():
    """The raw _C backward calls validate too (they are reachable from Python)."""
    from pycnn import _C

    g = t4(1, 2, 3, 3)._impl
    expect_error(
        ValueError,
        "interpolate_backward",
        lambda: _C.interpolate_backward(g, [1, 3, 4, 4], "bilinear", False, (0.0, 0.0)),
        "(1, 3, 4, 4)",
    )
    expect_error(
        ValueError,
        "adaptive_max_pool2d_backward",
        lambda: _C.adaptive_max_pool2d_backward(g, pc.tensor(np.full((1, 2, 3, 3), 99, np.int64))._impl, [1, 2, 4, 4]),
        "99",
    )
    expect_error(
        ValueError,
        "max_unpool2d_backward",
        lambda: _C.max_unpool2d_backward(g, pc.tensor(np.full((1, 2, 2, 2), 9, np.int64))._impl),
        "9",
    )
    expect_error(
        ValueError, "interpolate", lambda: _C.interpolate_forward(g, (2, 2), "linear", False, (0.0, 0.0)), "linear"
    )


# ---------------------------------------------------------------- max/avg pooling sweeps ----
# The general (not 2x2) max_pool2d and avg_pool2d kernels sweep whole output rows per tap; these cases have
# wide rows, so interior and clipped border columns both occur, with ties and NaNs for the index rules.

SWEEP_CASES = [  # (kernel, stride, padding, dilation, ceil_mode)
    (3, 1, 1, 1, False),
    (3, 2, 1, 1, False),
    (3, 2, 0, 1, True),
    ((5, 3), (1, 2), (2, 1), 1, False),
    (3, 3, 1, 2, True),
    ((2, 4), (3, 1), (1, 2), (2, 1), True),
    (7, 2, 3, 1, False),
    (1, 1, 0, 1, False),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", SWEEP_CASES)
def test_max_pool2d_sweep_matches_torch_with_ties_and_nans(case, dtype, device):
    torch = pytest.importorskip("torch")
    k, s, p, d, ceil_mode = case
    rng = np.random.default_rng(22)
    x = rng.integers(-3, 4, size=(2, 3, 23, 37)).astype(dtype)  # many ties: the first maximum must win
    x[0, 0, 5, 7] = x[0, 0, 5, 9] = x[1, 2, 20, 30] = np.nan
    x[1, 1, 3:9, 4:12] = -np.inf
    y, idx = F.max_pool2d(pc.tensor(x, device=device), k, s, p, d, ceil_mode, return_indices=True)
    ty, tidx = torch.nn.functional.max_pool2d(torch.from_numpy(x), k, s, p, d, ceil_mode, return_indices=True)
    np.testing.assert_array_equal(host(y), ty.numpy())
    np.testing.assert_array_equal(host(idx), tidx.numpy())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("divisor_override", [None, 5])
@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("case", [c for c in SWEEP_CASES if c[3] == 1])
def test_avg_pool2d_sweep_matches_torch(case, count_include_pad, divisor_override, dtype, device):
    k, s, p, _, ceil_mode = case
    x = randn(2, 3, 23, 37, dtype=dtype, seed=23)
    if device != "cpu":
        fn = lambda t: F.avg_pool2d(t, k, s, p, ceil_mode, count_include_pad, divisor_override)
        check_device_matches_cpu(fn, [x], device, **tol(dtype))
        return
    torch = pytest.importorskip("torch")
    check_torch(
        lambda t: F.avg_pool2d(t, k, s, p, ceil_mode, count_include_pad, divisor_override),
        lambda t: torch.nn.functional.avg_pool2d(t, k, s, p, ceil_mode, count_include_pad, divisor_override),
        [x],
        **tol(dtype),
    )


def test_pool_sweeps_same_for_one_and_two_threads():
    x = randn(3, 5, 29, 41, dtype=np.float32, seed=24)
    before = pc.get_num_threads()
    try:
        results = []
        for n in (1, 2):
            pc.set_num_threads(n)
            res = []
            for op in (lambda t: F.max_pool2d(t, 3, 1, 1), lambda t: F.avg_pool2d(t, 3, 2, 1)):
                t = pc.tensor(x, requires_grad=True)
                y = op(t)
                y.backward(pc.tensor(np.ones(y.shape, np.float32)))
                res += [np.asarray(y.detach()), np.asarray(t.grad)]
            results.append(res)
        for a, b in zip(*results):
            np.testing.assert_array_equal(a, b)
    finally:
        pc.set_num_threads(before)


# ---------------------------------------------------------------- LPPool2d ----

LP_CASES = [  # (input shape, norm_type, kernel, stride, ceil_mode)
    ((2, 3, 7, 9), 2, 2, None, False),
    ((2, 2, 8, 7), 3, (3, 2), (2, 1), False),
    ((3, 7, 7), 1.5, 3, 2, True),
    ((1, 2, 6, 6), 1, 2, 1, False),
]


def lp_pool_ref(x, p, k, s, ceil_mode):
    k = (k, k) if isinstance(k, int) else k
    s = k if s is None else ((s, s) if isinstance(s, int) else s)
    H, W = x.shape[-2:]

    def out_size(n, kk, ss):
        o = (-(-(n - kk) // ss) if ceil_mode else (n - kk) // ss) + 1
        return o - 1 if ceil_mode and (o - 1) * ss >= n else o

    OH, OW = out_size(H, k[0], s[0]), out_size(W, k[1], s[1])
    y = np.zeros(x.shape[:-2] + (OH, OW))
    xp = x.astype(np.float64) ** p
    for i in range(OH):
        for j in range(OW):
            win = xp[..., i * s[0] : i * s[0] + k[0], j * s[1] : j * s[1] + k[1]]
            y[..., i, j] = win.sum(axis=(-2, -1)) ** (1.0 / p)
    return y


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", LP_CASES)
def test_lp_pool2d_reference_and_torch(case, dtype, device):
    shape, p, k, s, ceil_mode = case
    x = np.abs(randn(*shape, dtype=dtype, seed=25)) + 0.1  # positive: x^p is real for any p
    y = run(lambda t: nn.LPPool2d(p, k, s, ceil_mode)(t), x, device=device)
    np.testing.assert_allclose(
        y,
        lp_pool_ref(x, p, k, s, ceil_mode),
        rtol=1e-5 if dtype == np.float32 else 1e-10,
        atol=1e-5 if dtype == np.float32 else 1e-10,
    )
    if device != "cpu":
        fn = lambda t: F.lp_pool2d(t, p, k, s, ceil_mode)
        check_device_matches_cpu(fn, [x], device, **tol(dtype))
        return
    torch = pytest.importorskip("torch")
    check_torch(
        lambda t: F.lp_pool2d(t, p, k, s, ceil_mode),
        lambda t: torch.nn.functional.lp_pool2d(t, p, k, s, ceil_mode),
        [x],
        rtol=1e-5 if dtype == np.float32 else 1e-10,
        atol=1e-5 if dtype == np.float32 else 1e-10,
    )


@pytest.mark.parametrize("case", LP_CASES)
def test_lp_pool2d_gradcheck(case, device):
    shape, p, k, s, ceil_mode = case
    gradcheck(lambda t: F.lp_pool2d(t, p, k, s, ceil_mode), [np.abs(randn(*shape, seed=26)) + 0.1], device=device)


def test_lp_pool2d_bad_input():
    expect_error(ValueError, "lp_pool2d", lambda: F.lp_pool2d(t4(1, 1, 4, 4), 0, 2), "0")
    expect_error(TypeError, "lp_pool2d", lambda: F.lp_pool2d(np.ones((1, 1, 4, 4)), 2, 2))
    assert "norm_type=2" in repr(nn.LPPool2d(2, 3))
