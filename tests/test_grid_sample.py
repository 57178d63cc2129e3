"""F.grid_sample and F.affine_grid (pycnn/nn/spatial.py, csrc/ops/grid_sample.cpp): a plain NumPy reference of
torch's coordinate rules for every mode, padding mode and align_corners on awkward grids (points far outside
[-1, 1], exact borders and pixel centres, non-contiguous input), float64 gradchecks of input and grid away
from the kinks, parity with torch (values and both gradients), determinism, bad input."""

import itertools
import re

import numpy as np
import pytest

import pycnn as pc
import pycnn.nn.functional as F
from pycnn.nn import spatial

from helpers import gradcheck, randn

MODES = ("bilinear", "nearest", "bicubic")
PADDINGS = ("zeros", "border", "reflection")
COMBOS = list(itertools.product(MODES, PADDINGS, (False, True)))


# ---- NumPy reference ----


def unnormalize(g, size, align):
    return (g + 1) / 2 * (size - 1) if align else ((g + 1) * size - 1) / 2


def normalize(pos, size, align):
    """The grid value whose source position is pos (unnormalize's inverse)."""
    return 2 * pos / (size - 1) - 1 if align else (2 * pos + 1) / size - 1


def pad_ref(pos, size, padding, align):
    if padding == "zeros":
        return pos
    if padding == "reflection":
        lo, span = (0.0, size - 1.0) if align else (-0.5, float(size))
        if span == 0:
            pos = np.zeros_like(pos)
        else:
            d = np.abs(pos - lo) % (2 * span)
            pos = lo + np.where(d > span, 2 * span - d, d)
    return np.clip(pos, 0, size - 1)


def read(x, py, px):
    """x[n, :, py, px] at integer-valued float positions (N, Ho, Wo); 0 outside the image -> (N, C, Ho, Wo)."""
    N, _, H, W = x.shape
    ok = (py >= 0) & (py <= H - 1) & (px >= 0) & (px <= W - 1)
    iy = np.clip(np.nan_to_num(py), 0, H - 1).astype(np.int64)
    ix = np.clip(np.nan_to_num(px), 0, W - 1).astype(np.int64)
    vals = x[np.arange(N)[:, None, None], :, iy, ix]  # (N, Ho, Wo, C)
    return np.moveaxis(np.where(ok[..., None], vals, 0.0), -1, 1)


def cubic(d, a=-0.75):
    d = np.abs(d)
    return np.where(
        d <= 1, ((a + 2) * d - (a + 3)) * d * d + 1, np.where(d < 2, a * d**3 - 5 * a * d**2 + 8 * a * d - 4 * a, 0.0)
    )


def grid_sample_ref(x, grid, mode, padding, align):
    x, grid = x.astype(np.float64), grid.astype(np.float64)
    _, _, H, W = x.shape
    px, py = unnormalize(grid[..., 0], W, align), unnormalize(grid[..., 1], H, align)
    if mode == "bicubic":  # the taps around the unpadded position, each padded on its own
        fx, fy = np.floor(px), np.floor(py)
        out = 0.0
        for j, i in itertools.product(range(-1, 3), repeat=2):
            weight = cubic(px - (fx + i)) * cubic(py - (fy + j))
            out = out + weight[:, None] * read(
                x, pad_ref(fy + j, H, padding, align), pad_ref(fx + i, W, padding, align)
            )
        return out
    px, py = pad_ref(px, W, padding, align), pad_ref(py, H, padding, align)
    if mode == "nearest":
        return read(x, np.rint(py), np.rint(px))
    fx, fy = np.floor(px), np.floor(py)
    out = 0.0
    for cy, cx in itertools.product((fy, fy + 1), (fx, fx + 1)):
        weight = (1 - np.abs(px - cx)) * (1 - np.abs(py - cy))
        out = out + weight[:, None] * read(x, cy, cx)
    return out


def awkward_grid(N, Ho, Wo, H, W, align, seed=0, centres=True):
    """Random points, many far outside [-1, 1], plus the borders, the centre and (centres) exact pixel centres
    and edges (in float64 only: in float32 a half-pixel tie of nearest rounds either way)."""
    rng = np.random.default_rng(seed)
    grid = rng.standard_normal((N, Ho, Wo, 2)) * 1.7
    special = np.array([-1.0, 1.0, 0.0, -3.0, 3.0, 5.5])
    flat = grid.reshape(-1, 2)
    k = min(len(flat), 12)
    flat[:k, 0] = special[np.arange(k) % len(special)]
    flat[k // 2 : k, 1] = special[np.arange(k - k // 2) % len(special)]
    # exact pixel centres and edges in source coordinates
    m = min(len(flat) - k, 10)
    if m > 0 and centres:
        flat[k : k + m, 0] = normalize(rng.integers(-2, W + 2, m) / 2.0, W, align) if W > 1 or not align else 0
        flat[k : k + m, 1] = normalize(rng.integers(-2, H + 2, m) / 2.0, H, align) if H > 1 or not align else 0
    return grid


def smooth_grid(N, Ho, Wo, H, W, align, seed=0):
    """Points whose source positions (outside the image too) have fractional parts in [0.1, 0.4] or [0.6, 0.9]:
    away from bilinear's integer kinks, nearest's and reflection's half-integer ones and border clamps."""
    rng = np.random.default_rng(seed)
    out = []
    for size in (W, H):
        whole = rng.integers(-size - 1, 2 * size + 1, (N, Ho, Wo))
        frac = rng.uniform(0.1, 0.4, (N, Ho, Wo)) + 0.5 * rng.integers(0, 2, (N, Ho, Wo))
        out.append(normalize(whole + frac, size, align))
    return np.stack(out, axis=-1)


# ---- forward against the reference ----


@pytest.mark.parametrize("mode,padding,align", COMBOS)
def test_forward_matches_numpy(mode, padding, align):
    x = randn(2, 3, 5, 7, seed=1)
    grid = awkward_grid(2, 4, 6, 5, 7, align, seed=2)
    got = F.grid_sample(pc.tensor(x), pc.tensor(grid), mode, padding, align)
    np.testing.assert_allclose(np.asarray(got), grid_sample_ref(x, grid, mode, padding, align), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode,padding,align", COMBOS)
def test_float32_noncontiguous_and_size_one(mode, padding, align):
    base = randn(3, 7, 1, 9, seed=3).astype(np.float32)  # H == 1: align_corners maps every y to row 0
    x = pc.tensor(base).permute(1, 0, 2, 3)[:, ::2]  # (7, 2, 1, 9), not contiguous
    xs = base.transpose(1, 0, 2, 3)[:, ::2]
    grid = awkward_grid(7, 3, 2, 1, 9, align, seed=4, centres=False).astype(np.float32)
    g = pc.tensor(np.ascontiguousarray(grid.transpose(0, 2, 1, 3))).permute(0, 2, 1, 3)  # non-contiguous grid
    got = F.grid_sample(x, g, mode=mode, padding_mode=padding, align_corners=align)
    assert got.dtype == pc.float32 and got.shape == (7, 2, 3, 2)
    np.testing.assert_allclose(np.asarray(got), grid_sample_ref(xs, grid, mode, padding, align), rtol=2e-5, atol=2e-5)


def test_defaults_and_empty_shapes():
    x = randn(1, 2, 3, 4, seed=5)
    grid = awkward_grid(1, 2, 3, 3, 4, False, seed=6)
    default = F.grid_sample(pc.tensor(x), pc.tensor(grid))  # bilinear, zeros, align_corners None = False
    np.testing.assert_allclose(np.asarray(default), grid_sample_ref(x, grid, "bilinear", "zeros", False), atol=1e-12)
    for xs, gs, out in [
        ((0, 2, 3, 4), (0, 2, 3, 2), (0, 2, 2, 3)),
        ((2, 0, 3, 4), (2, 5, 1, 2), (2, 0, 5, 1)),
        ((2, 3, 3, 4), (2, 0, 4, 2), (2, 3, 0, 4)),
    ]:
        xt = pc.tensor(np.ones(xs), requires_grad=True)
        gt = pc.tensor(np.zeros(gs), requires_grad=True)
        y = F.grid_sample(xt, gt, align_corners=True)
        assert y.shape == out
        y.sum().backward()
        assert xt.grad.shape == xs and gt.grad.shape == gs
        assert not np.asarray(xt.grad).any() and not np.asarray(gt.grad).any()


# ---- gradients ----


@pytest.mark.parametrize("mode,padding,align", COMBOS)
def test_gradcheck(mode, padding, align):
    x = randn(2, 2, 4, 5, seed=7)
    grid = smooth_grid(2, 3, 2, 4, 5, align, seed=8)

    def fn(x, grid):
        return F.grid_sample(x, grid, mode=mode, padding_mode=padding, align_corners=align)

    gradcheck(fn, [x, grid], max_kink_fraction=0.0)


def test_nearest_gives_the_grid_no_gradient():
    x = pc.tensor(randn(1, 2, 3, 3, seed=9), requires_grad=True)
    inside = np.random.default_rng(10).uniform(-0.9, 0.9, (1, 2, 2, 2))
    grid = pc.tensor(inside, requires_grad=True)
    F.grid_sample(x, grid, mode="nearest").sum().backward()
    assert not np.asarray(grid.grad).any() and np.asarray(x.grad).sum() == 2 * 4  # each point's gradient, once


def test_backward_does_not_depend_on_the_thread_count():
    # big enough that both backward passes split: 120 rows for dgrid, 15 planes of 1600 points for dx
    x = randn(3, 5, 6, 7, seed=11)
    grid = awkward_grid(3, 40, 40, 6, 7, False, seed=12)
    results = []
    before = pc.get_num_threads()
    try:
        for threads in (1, 2, 3):
            pc.set_num_threads(threads)
            for mode in MODES:
                xt, gt = pc.tensor(x, requires_grad=True), pc.tensor(grid, requires_grad=True)
                y = F.grid_sample(xt, gt, mode=mode, padding_mode="reflection")
                (y * pc.tensor(randn(*y.shape, seed=13))).sum().backward()
                results.append((threads, mode, np.asarray(y), np.asarray(xt.grad), np.asarray(gt.grad)))
    finally:
        pc.set_num_threads(before)
    by_mode = {}
    for _, mode, *arrays in results:
        ref = by_mode.setdefault(mode, arrays)
        for a, b in zip(arrays, ref):
            np.testing.assert_array_equal(a, b)


# ---- parity with torch ----


@pytest.mark.parametrize("mode,padding,align", COMBOS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matches_torch(mode, padding, align, dtype):
    torch = pytest.importorskip("torch")
    tol = {"rtol": 1e-10, "atol": 1e-10} if dtype == np.float64 else {"rtol": 2e-4, "atol": 2e-4}
    for seed, (N, C, H, W, Ho, Wo) in enumerate([(2, 3, 5, 7, 6, 5), (1, 2, 1, 4, 3, 3), (3, 1, 6, 1, 2, 7)]):
        x = randn(N, C, H, W, seed=20 + seed).astype(dtype)
        grid = awkward_grid(N, Ho, Wo, H, W, align, seed=30 + seed).astype(dtype)
        cot = randn(N, C, Ho, Wo, seed=40 + seed).astype(dtype)
        xp, gp = pc.tensor(x, requires_grad=True), pc.tensor(grid, requires_grad=True)
        xt, gt = torch.tensor(x, requires_grad=True), torch.tensor(grid, requires_grad=True)
        yp = F.grid_sample(xp, gp, mode, padding, align)
        yt = torch.nn.functional.grid_sample(xt, gt, mode, padding, align)
        (yp * pc.tensor(cot)).sum().backward()
        (yt * torch.tensor(cot)).sum().backward()
        np.testing.assert_allclose(np.asarray(yp), yt.detach().numpy(), **tol, err_msg="output")
        np.testing.assert_allclose(np.asarray(xp.grad), xt.grad.numpy(), **tol, err_msg="input gradient")
        np.testing.assert_allclose(np.asarray(gp.grad), gt.grad.numpy(), **tol, err_msg="grid gradient")


def torch_run(torch, x, grid, cot, mode, padding, align):
    """(y, dx, dgrid) of pycnn and of torch for the same inputs and cotangent."""
    out = []
    for lib, make in ((F, pc.tensor), (torch.nn.functional, torch.tensor)):
        xt, gt = make(x, requires_grad=True), make(grid, requires_grad=True)
        y = lib.grid_sample(xt, gt, mode, padding, align)
        (y * make(cot)).sum().backward()
        out.append([np.asarray(t.detach()) for t in (y, xt.grad, gt.grad)])
    return out


@pytest.mark.parametrize("mode,padding,align", COMBOS)
def test_matches_torch_on_the_kinks(mode, padding, align):
    """Every point on a pixel centre, a pixel edge or an image border (where floor, rounding, clamping and
    reflection switch): torch's conventions there, values and one-sided gradients alike, in float64."""
    torch = pytest.importorskip("torch")
    N, C, H, W, Ho, Wo = 2, 2, 4, 5, 6, 7
    rng = np.random.default_rng(70)
    grid = np.stack(
        [normalize(rng.integers(-2 * s - 3, 4 * s + 3, (N, Ho, Wo)) / 2.0, s, align) for s in (W, H)], axis=-1
    )
    x, cot = randn(N, C, H, W, seed=71), randn(N, C, Ho, Wo, seed=72)
    ours, theirs = torch_run(torch, x, grid, cot, mode, padding, align)
    for name, a, b in zip(("output", "input gradient", "grid gradient"), ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("mode,padding", list(itertools.product(("bilinear", "nearest"), PADDINGS)))
def test_matches_torch_on_non_finite_points(mode, padding):
    """NaN and infinite grid values: border and reflection read pixel 0 (torch's clamp of NaN) and give such a
    point no grid gradient; zeros padding gives NaN for bilinear and 0 for nearest. Only torch's forward is
    compared: its backward (and its bicubic forward) can crash on infinite points."""
    torch = pytest.importorskip("torch")
    grid = np.array([np.nan, 0.2, np.inf, 0.1, -np.inf, 0.3, 0.4, -np.inf, 0.7, np.inf, 0.3, np.nan]).reshape(
        1, 1, 6, 2
    )
    x = randn(1, 2, 4, 5, seed=73)
    for align in (False, True):
        gt = pc.tensor(grid, requires_grad=True)
        y = F.grid_sample(pc.tensor(x), gt, mode, padding, align)
        want = torch.nn.functional.grid_sample(torch.tensor(x), torch.tensor(grid), mode, padding, align)
        np.testing.assert_allclose(np.asarray(y.detach()), want.numpy(), rtol=1e-12, atol=1e-12)  # NaN == NaN
        if padding != "zeros":
            y.sum().backward()
            assert not np.asarray(gt.grad)[np.isnan(grid) | np.isinf(grid)].any()


# ---- affine_grid ----


def affine_grid_ref(theta, size, align):
    spatial_size = size[2:]
    axes = []
    for s in spatial_size:
        c = np.linspace(-1, 1, s) if s > 1 else np.zeros(s)
        axes.append(c if align or s <= 1 else c * (s - 1) / s)
    mesh = np.meshgrid(*axes, indexing="ij")  # (z,) y, x
    coords = np.stack([*mesh[::-1], np.ones(tuple(spatial_size))], axis=-1)  # x, y, (z,) 1
    return np.einsum("...k,nik->n...i", coords, theta)


@pytest.mark.parametrize("align", [False, True])
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (1, 1, 1, 6), (3, 2, 7, 1), (2, 1, 3, 4, 2)])
def test_affine_grid_matches_numpy_and_gradcheck(size, align):
    rows = len(size) - 2
    theta = randn(size[0], rows, rows + 1, seed=50)
    got = F.affine_grid(pc.tensor(theta), size, align_corners=align)
    assert got.shape == (size[0], *size[2:], rows)
    np.testing.assert_allclose(np.asarray(got), affine_grid_ref(theta, size, align), rtol=1e-12, atol=1e-12)
    gradcheck(lambda t: F.affine_grid(t, list(size), align), [theta])


@pytest.mark.filterwarnings("ignore:Since version 1.3.0, affine_grid")  # torch's, for the unit-size grid
@pytest.mark.parametrize("align", [None, False, True])
def test_affine_grid_matches_torch(align):
    torch = pytest.importorskip("torch")
    for size in [(2, 3, 4, 5), (1, 1, 1, 3), (2, 1, 3, 4, 2)]:
        rows = len(size) - 2
        theta = randn(size[0], rows, rows + 1, seed=60).astype(np.float32)
        got = F.affine_grid(pc.tensor(theta), size, align_corners=align)
        with pytest.warns(UserWarning) if align is None else _no_warning():
            want = torch.nn.functional.affine_grid(torch.tensor(theta), size, align_corners=align)
        assert got.dtype == pc.float32
        np.testing.assert_allclose(np.asarray(got), want.numpy(), rtol=1e-6, atol=1e-6)


class _no_warning:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_spatial_transformer_docstring_example_runs_and_learns_theta():
    """The module docstring's example, run as written, then one gradient step reaches the localisation net."""
    code = spatial.__doc__.split("::", 1)[1]
    scope = {}
    pc.manual_seed(0)
    exec(compile(re.sub(r"(?m)^    ", "", code), "spatial example", "exec"), scope)  # noqa: S102 (our own docstring)
    y = scope["y"]
    assert y.shape == (2, 3, 16, 16)
    stn = scope["SpatialTransformer"](3, 16)
    x = pc.randn(2, 3, 16, 16)
    # the identity start reproduces the input (align_corners=False samples pixel centres exactly)
    np.testing.assert_allclose(np.asarray(stn(x).detach()), np.asarray(x), atol=1e-5)
    (stn(x) * pc.randn(2, 3, 16, 16)).sum().backward()
    assert np.abs(np.asarray(stn.loc[-1].weight.grad)).sum() > 0


# ---- bad input ----


def expect(exc, msg, fn):
    with pytest.raises(exc, match="^" + re.escape(msg)):
        fn()


def test_bad_input_is_refused_with_the_value_named():
    x, grid = pc.ones(1, 2, 3, 4), pc.zeros(1, 2, 2, 2)
    expect(
        ValueError,
        "[grid_sample] mode must be one of 'bilinear', 'nearest', 'bicubic', got 'area'",
        lambda: F.grid_sample(x, grid, mode="area"),
    )
    expect(
        ValueError,
        "[grid_sample] padding_mode must be one of 'zeros', 'border', 'reflection', got 'wrap'",
        lambda: F.grid_sample(x, grid, padding_mode="wrap"),
    )
    expect(
        TypeError,
        "[grid_sample] expected align_corners to be a bool, got str 'yes'",
        lambda: F.grid_sample(x, grid, align_corners="yes"),
    )
    expect(
        TypeError, "[grid_sample] expected grid to be a pycnn.Tensor", lambda: F.grid_sample(x, np.zeros((1, 2, 2, 2)))
    )
    expect(
        ValueError,
        "[grid_sample] 5-D (volumetric) input is not supported",
        lambda: F.grid_sample(pc.ones(1, 1, 2, 2, 2), pc.zeros(1, 1, 1, 1, 3)),
    )
    expect(
        ValueError, "[grid_sample] expected input of shape (N, C, H, W)", lambda: F.grid_sample(pc.ones(2, 3, 4), grid)
    )
    expect(
        ValueError,
        "[grid_sample] expected grid of shape (1, H_out, W_out, 2) for input (1, 2, 3, 4), got (1, 2, 2, 3)",
        lambda: F.grid_sample(x, pc.zeros(1, 2, 2, 3)),
    )
    expect(
        ValueError,
        "[grid_sample] expected grid of shape (1, H_out, W_out, 2)",
        lambda: F.grid_sample(x, pc.zeros(2, 2, 2, 2)),
    )
    expect(
        ValueError,
        "[grid_sample] expected grid of shape (N, H_out, W_out, 2)",
        lambda: F.grid_sample(x, pc.zeros(1, 4, 2)),
    )
    expect(
        ValueError,
        "[grid_sample] expected input to have non-empty spatial dimensions, got (1, 2, 0, 4)",
        lambda: F.grid_sample(pc.ones(1, 2, 0, 4), grid),
    )
    expect(
        TypeError,
        "[grid_sample] input is float32 but grid is float64",
        lambda: F.grid_sample(x, pc.zeros(1, 2, 2, 2, dtype=pc.float64)),
    )
    expect(
        TypeError,
        "[grid_sample] expected input to be float32 or float64, got int64",
        lambda: F.grid_sample(pc.ones(1, 2, 3, 4, dtype=pc.int64), grid),
    )


def test_affine_grid_bad_input():
    theta = pc.zeros(2, 2, 3)
    expect(
        ValueError,
        "[affine_grid] expected theta of shape (N, 2, 3) for size [2, 1, 4, 4], got (2, 3, 4)",
        lambda: F.affine_grid(pc.zeros(2, 3, 4), (2, 1, 4, 4)),
    )
    expect(ValueError, "[affine_grid] expected theta of shape (N, 3, 4)", lambda: F.affine_grid(theta, (2, 1, 4, 4, 4)))
    expect(
        ValueError, "[affine_grid] expected size of length 4 (N, C, H, W) or 5", lambda: F.affine_grid(theta, (2, 4, 4))
    )
    expect(
        ValueError,
        "[affine_grid] expected a positive output size, got [2, 1, 0, 4]",
        lambda: F.affine_grid(theta, (2, 1, 0, 4)),
    )
    expect(
        ValueError,
        "[affine_grid] theta (2, 2, 3) holds 2 transforms, size [3, 1, 4, 4] asks for 3",
        lambda: F.affine_grid(theta, (3, 1, 4, 4)),
    )
    expect(
        TypeError,
        "[affine_grid] expected theta to be float32 or float64, got pycnn.int64",
        lambda: F.affine_grid(pc.zeros(2, 2, 3, dtype=pc.int64), (2, 1, 4, 4)),
    )
    expect(
        TypeError,
        "[affine_grid] expected each size to be an int, got 4.0",
        lambda: F.affine_grid(theta, (2, 1, 4.0, 4)),
    )
    expect(TypeError, "[affine_grid] expected size to be a sequence of ints", lambda: F.affine_grid(theta, 4))
    expect(
        TypeError,
        "[affine_grid] expected theta to be a pycnn.Tensor",
        lambda: F.affine_grid(np.zeros((2, 2, 3)), (2, 1, 4, 4)),
    )


def test_core_lists_and_backward_shape_check():
    assert pc._C.grid_sample_mode_names() == list(MODES)
    assert pc._C.grid_padding_mode_names() == list(PADDINGS)
    x, grid = pc.ones(1, 2, 3, 4)._impl, pc.zeros(1, 2, 2, 2)._impl
    expect(
        ValueError,
        "[grid_sample] unknown padding_mode 'wrap'; expected one of 'zeros', 'border', 'reflection'",
        lambda: pc._C.grid_sample_forward(x, grid, "bilinear", "wrap", False),
    )
    expect(
        ValueError,
        "[grid_sample_backward] expected grad_output of shape (1, 2, 2, 2), got (1, 2, 2, 3)",
        lambda: pc._C.grid_sample_backward(pc.ones(1, 2, 2, 3)._impl, x, grid, "bilinear", "zeros", False, True, True),
    )
