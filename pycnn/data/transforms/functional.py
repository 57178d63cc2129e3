"""pycnn.data.transforms.functional: the image operations behind the transform classes, with
torchvision.transforms.functional's names, arguments and conventions.

Read it in two layers. The public functions take one image (float (C, H, W) array, uint8/float HW or HWC
array, PIL image or Tensor) or a float batch (N, C, H, W) that shares the same parameters, and return
the caller's kind. Under them, the private `_*_per_sample` kernels work on float (N, C, H, W) arrays with
one set of parameters PER SAMPLE (arrays of shape (N,)): a random transform's .batch() draws those and
calls the kernel once for the whole batch, so no Python loop runs over samples.
"""

from numbers import Real

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ...tensor import Tensor
from ._image import (
    InterpolationMode,
    _is_pil,
    array_to_chw,
    as_batch,
    as_image,
    fill_values,
    interpolation_mode,
    padding_ltrb,
    pil_to_array,
    size_pair,
)

__all__ = [
    "InterpolationMode",
    "adjust_brightness",
    "adjust_contrast",
    "adjust_hue",
    "adjust_saturation",
    "affine",
    "center_crop",
    "crop",
    "erase",
    "get_dimensions",
    "hflip",
    "normalize",
    "pad",
    "resize",
    "resized_crop",
    "rgb_to_grayscale",
    "rotate",
    "to_tensor",
    "vflip",
]

# ITU-R 601-2 luma, the weights torchvision and PIL use for grayscale
_LUMA = (0.2989, 0.587, 0.114)


def _is_batch(img):
    return (isinstance(img, np.ndarray) and img.ndim == 4 and img.dtype.kind == "f") or (
        isinstance(img, Tensor) and img.ndim == 4
    )


def _apply(img, op, fn):
    """fn maps float (N, C, H, W) -> float (N, C', H', W'); run it on one image or a batch of img."""
    if _is_batch(img):
        x, restore = as_batch(img, op)
        return restore(fn(x))
    x, restore = as_image(img, op)
    return restore(fn(x[None])[0])


# Batched kernels run over slices of about this many output values (C x H x W per sample): their
# temporaries then stay in cache; one pass over a big batch is 3-4x slower, memory-bound and page-faulting.
_CHUNK_ELEMENTS = 1 << 17


def _by_chunks(kernel, x, per_sample, *sample_args):
    """kernel(x[i:j], *(a[i:j] for a in sample_args)) over slices of the batch x, concatenated. sample_args
    hold one entry per sample; scalars among them are passed whole."""
    n = x.shape[0]
    step = max(1, _CHUNK_ELEMENTS // max(1, per_sample))
    if step >= n:
        return kernel(x, *sample_args)
    pick = lambda a, i: a[i : i + step] if np.ndim(a) > 0 else a
    return np.concatenate([kernel(x[i : i + step], *(pick(a, i) for a in sample_args)) for i in range(0, n, step)])


def get_dimensions(img):
    """[channels, height, width] of an image of any accepted kind."""
    x = as_batch(img, "get_dimensions")[0][0] if _is_batch(img) else as_image(img, "get_dimensions")[0]
    return list(x.shape)


# ---- conversion and normalisation ----
def to_tensor(pic):
    """A PIL image or (H, W) / (H, W, C) array -> float32 (C, H, W) array in [0, 1] (uint8 divided by 255).

    A float array that is already (C, H, W) (the datasets' layout) passes through as float32, so ToTensor
    may sit in a torchvision-style recipe. A Tensor stays a Tensor.
    """
    if _is_pil(pic):
        return pil_to_array(pic, "ToTensor")
    if isinstance(pic, Tensor):
        x, restore = as_image(pic, "ToTensor")
        return restore(x.astype(np.float32, copy=False))
    if not isinstance(pic, np.ndarray):
        raise TypeError(f"[ToTensor] expected a PIL image, numpy.ndarray or Tensor, got {type(pic).__name__}")
    return np.ascontiguousarray(array_to_chw(pic, "ToTensor"), dtype=np.float32)


def _mean_std(mean, std, channels, dtype, op):
    mean = np.asarray(mean, dtype=np.float64).reshape(-1)
    std = np.asarray(std, dtype=np.float64).reshape(-1)
    for name, v in (("mean", mean), ("std", std)):
        if v.size not in (1, channels):
            raise ValueError(f"[{op}] {name} needs 1 or {channels} values (one per channel), got {v.size}")
    if np.any(std == 0):
        raise ValueError(
            f"[{op}] std evaluated to zero after conversion to float, leading to division by zero: std={std.tolist()}"
        )
    return mean.astype(dtype)[:, None, None], std.astype(dtype)[:, None, None]


def _normalize_array(x, mean, std, inplace, op):
    """x float (..., C, H, W): (x - mean) / std per channel, into x itself when inplace."""
    m, s = _mean_std(mean, std, x.shape[-3], x.dtype, op)
    out = x if inplace and x.flags.writeable else np.empty_like(x)
    np.subtract(x, m, out=out)
    np.divide(out, s, out=out)
    return out


def normalize(tensor, mean, std, inplace=False):
    """(x - mean[c]) / std[c] for every channel c of a float (C, H, W) image or (N, C, H, W) batch.

    inplace=True writes into the given float array (or Tensor's memory) and returns it.
    """
    if inplace and isinstance(tensor, np.ndarray) and tensor.dtype.kind == "f" and tensor.ndim in (3, 4):
        return _normalize_array(tensor, mean, std, True, "Normalize")
    if (
        inplace
        and isinstance(tensor, Tensor)
        and str(tensor.device) == "cpu"
        and not tensor.requires_grad
        and tensor.ndim in (3, 4)
    ):
        _normalize_array(tensor.numpy(), mean, std, True, "Normalize")
        return tensor
    return _apply(tensor, "Normalize", lambda x: _normalize_array(x, mean, std, False, "Normalize"))


# ---- flips, padding, crops ----
def hflip(img):
    """Mirror left-right."""
    return _apply(img, "hflip", lambda x: np.ascontiguousarray(x[..., ::-1]))


def vflip(img):
    """Mirror top-bottom."""
    return _apply(img, "vflip", lambda x: np.ascontiguousarray(x[..., ::-1, :]))


def _flip_per_sample(x, mask, axis):
    """x (N, C, H, W); flips sample n along axis (-1 or -2) where mask[n]."""
    out = x.copy()
    idx = np.flatnonzero(mask)
    # one gather of the chosen samples through a reversed view (np.where over the whole reversed batch is
    # several times slower: it walks every pixel with negative strides)
    out[idx] = x[idx, :, :, ::-1] if axis == -1 else x[idx, :, ::-1, :]
    return out


_NUMPY_PAD_MODES = {"edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}


def _pad_array(x, ltrb, fill=0, padding_mode="constant", op="pad"):
    """x (N, C, H, W) padded by (left, top, right, bottom) with torchvision's modes: 'constant' (fill, one
    number or one per channel), 'edge', 'reflect' (mirror without repeating the edge) or 'symmetric'."""
    left, top, right, bottom = ltrb
    if not any(ltrb):
        return x
    n, c, h, w = x.shape
    if padding_mode == "constant":
        out = np.empty((n, c, h + top + bottom, w + left + right), dtype=x.dtype)
        value = fill_values(fill, c, op, x.dtype)[:, None, None]
        # write the border strips only: filling everything first would touch the interior twice
        out[:, :, :top] = value
        out[:, :, top + h :] = value
        out[:, :, top : top + h, :left] = value
        out[:, :, top : top + h, left + w :] = value
        out[:, :, top : top + h, left : left + w] = x
        return out
    if padding_mode not in _NUMPY_PAD_MODES:
        raise ValueError(
            f"[{op}] padding_mode must be 'constant', 'edge', 'reflect' or 'symmetric', got {padding_mode!r}"
        )
    if padding_mode == "reflect" and (max(top, bottom) >= h or max(left, right) >= w):
        raise ValueError(
            f"[{op}] reflect padding {ltrb} (left, top, right, bottom) must be smaller than the image size {h}x{w}"
        )
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), mode=_NUMPY_PAD_MODES[padding_mode])


def pad(img, padding, fill=0, padding_mode="constant"):
    """Pads the borders. padding: int (all sides), (left/right, top/bottom) or (left, top, right, bottom).

    fill: number or one value per channel ('constant' mode). padding_mode: 'constant', 'edge', 'reflect'
    (mirror without repeating the edge pixel) or 'symmetric' (mirror repeating it).
    """
    ltrb = padding_ltrb(padding, "pad")
    return _apply(img, "pad", lambda x: _pad_array(x, ltrb, fill, padding_mode, "pad"))


def _crop_array(x, top, left, height, width):
    """x (N, C, H, W) -> the window rows [top, top+height), cols [left, left+width); outside the image
    reads zeros (as torchvision's tensor crop)."""
    _, _, h, w = x.shape
    pads = (max(0, -left), max(0, -top), max(0, left + width - w), max(0, top + height - h))
    if any(pads):
        x = _pad_array(x, pads, 0, "constant", "crop")
        top, left = top + pads[1], left + pads[0]
    return np.ascontiguousarray(x[:, :, top : top + height, left : left + width])


def crop(img, top, left, height, width):
    """The window at (top, left) of size (height, width); parts outside the image are zeros."""
    if height <= 0 or width <= 0:
        raise ValueError(f"[crop] height and width must be positive, got {height}x{width}")
    return _apply(img, "crop", lambda x: _crop_array(x, int(top), int(left), int(height), int(width)))


def _crop_per_sample(x, top, left, height, width):
    """x (N, C, H, W); sample n's window starts at (top[n], left[n]); all windows are height x width and
    inside the image. One gather over a strided view of all windows, no copy of the view itself."""
    windows = sliding_window_view(x, (height, width), axis=(2, 3))  # (N, C, H-h+1, W-w+1, h, w)
    return windows[np.arange(x.shape[0]), :, top, left]  # (N, C, h, w)


def _center_crop_array(x, output_size):
    _, _, h, w = x.shape
    ch, cw = output_size
    if ch > h or cw > w:  # pad with zeros first, as torchvision does
        pads = (
            (cw - w) // 2 if cw > w else 0,
            (ch - h) // 2 if ch > h else 0,
            (cw - w + 1) // 2 if cw > w else 0,
            (ch - h + 1) // 2 if ch > h else 0,
        )
        x = _pad_array(x, pads, 0, "constant", "center_crop")
        _, _, h, w = x.shape
    # Python's round (half to even), like torchvision, so odd margins split the same way
    top, left = int(round((h - ch) / 2.0)), int(round((w - cw) / 2.0))
    return np.ascontiguousarray(x[:, :, top : top + ch, left : left + cw])


def center_crop(img, output_size):
    """The central (h, w) window (int: square); an image smaller than that is zero-padded first."""
    size = size_pair(output_size, "center_crop", "output_size")
    return _apply(img, "center_crop", lambda x: _center_crop_array(x, size))


# ---- resampling: Resize, resized_crop ----
def _resize_output_size(h, w, size, max_size, op):
    """torchvision's rule: (h, w) as given, or an int (or 1-sequence) sets the smaller edge and keeps the
    aspect ratio (the longer edge is truncated, then capped at max_size)."""
    if isinstance(size, (tuple, list)) and len(size) == 2:
        if max_size is not None:
            raise ValueError(f"[{op}] max_size is only allowed when size is an int, got size={size}")
        return size_pair(size, op)
    if size is None:
        if max_size is None:
            raise ValueError(f"[{op}] size=None needs max_size")
        scale = max_size / max(h, w)
        return max(1, int(h * scale)), max(1, int(w * scale))
    short = size_pair(size, op)[0]
    small, large = (h, w) if h <= w else (w, h)
    new_small, new_large = short, int(short * large / small)
    if max_size is not None:
        if max_size <= short:
            raise ValueError(f"[{op}] max_size={max_size} must be larger than the requested size {short}")
        if new_large > max_size:
            new_small, new_large = int(max_size * new_small / new_large), max_size
    return (new_small, new_large) if h <= w else (new_large, new_small)


def _taps(in_len, out_len, start, length, mode, antialias):
    """The taps that resample, for every sample n, the window [start[n], start[n] + length[n]) of a line of
    in_len pixels to out_len pixels: indices (N, out_len, K) into the line and weights (N, out_len, K),
    float64, each row summing to 1.

    bilinear: torch's F.interpolate(align_corners=False): source x = (o + 0.5) * scale - 0.5, clamped to
    the window, two taps. With antialias and scale > 1 (shrinking), the triangle filter is stretched by the
    scale so every input pixel contributes (torch's antialias=True, PIL's resampling); for enlarging it
    equals plain bilinear. nearest: torch's legacy 'nearest', floor(o * scale) with the scale in float32.
    """
    start = np.asarray(start, dtype=np.int64)[:, None, None]
    length = np.asarray(length, dtype=np.int64)[:, None, None]
    o = np.arange(out_len, dtype=np.float64)[None, :, None]
    if mode == InterpolationMode.NEAREST:
        scale32 = length.astype(np.float32) / np.float32(out_len)
        src = np.floor(o.astype(np.float32) * scale32).astype(np.int64)
        return start + np.minimum(src, length - 1), np.ones(src.shape)
    scale = length / out_len
    if antialias and np.any(scale > 1):
        support = np.maximum(scale, 1.0)  # half-width of the stretched triangle, in input pixels
        center = scale * (o + 0.5)
        first = np.maximum(np.floor(center - support + 0.5), 0).astype(np.int64)
        k = int(np.ceil(2 * support.max())) + 1
        idx = first + np.arange(k)  # (N, out, K), relative to the window
        weights = np.maximum(0.0, 1.0 - np.abs(idx + 0.5 - center) / support)
        weights = np.where(idx < length, weights, 0.0)
        weights /= weights.sum(axis=-1, keepdims=True)
        return start + np.minimum(idx, length - 1), weights
    src = np.clip(scale * (o + 0.5) - 0.5, 0, length - 1)
    i0 = np.floor(src).astype(np.int64)
    frac = src - i0
    idx = np.concatenate([i0, np.minimum(i0 + 1, length - 1)], axis=-1)
    return start + idx, np.concatenate([1.0 - frac, frac], axis=-1)


def _gather_rows(x, idx):
    """x (N, C, H, W) with its rows replaced by idx (N or 1, out): sample n reads its rows idx[n]. Whole rows
    are copied per index (a trailing slice), never single pixels; the result is contiguous."""
    if idx.shape[0] == 1:
        return np.take(x, idx[0], axis=2)
    n = np.arange(x.shape[0])[:, None, None]
    c = np.arange(x.shape[1])[None, :, None]
    return x[n, c, idx[:, None, :]]  # (N, C, out, W)


def _apply_taps(x, idx, weights, axis):
    """Resamples x (N, C, H, W) along axis 2 (rows) or 3 (cols) with taps (N or 1, out, K)."""
    if axis == 3:
        # columns are the rows of the transposed view: gathering whole lines keeps every step contiguous
        return _apply_taps(x.transpose(0, 1, 3, 2), idx, weights, 2).transpose(0, 1, 3, 2)
    weights = weights.astype(x.dtype)
    out = None
    for k in range(idx.shape[-1]):
        term = _gather_rows(x, idx[:, :, k])
        term *= weights[:, None, :, k, None]
        out = term if out is None else np.add(out, term, out=out)
    return out


def _resample_per_sample(x, top, left, height, width, size, interpolation, antialias):
    """x (N, C, H, W) -> (N, C, size[0], size[1]): sample n's window (top, left, height, width) (arrays or
    ints) resized; rows and cols are resampled one after the other (the filter is separable)."""
    kernel = lambda xs, t, l, hh, ww: _resample_chunk(xs, t, l, hh, ww, size, interpolation, antialias)
    per_sample = x.shape[1] * max(x.shape[2], size[0]) * max(x.shape[3], size[1])
    return _by_chunks(kernel, x, per_sample, top, left, height, width)


def _resample_chunk(x, top, left, height, width, size, interpolation, antialias):
    n, _, h, w = x.shape
    shared = all(np.ndim(v) == 0 for v in (top, left, height, width))
    count = 1 if shared else n
    as_arr = lambda v: np.broadcast_to(np.asarray(v, dtype=np.int64), (count,))
    row_taps = _taps(h, size[0], as_arr(top), as_arr(height), interpolation, antialias)
    col_taps = _taps(w, size[1], as_arr(left), as_arr(width), interpolation, antialias)
    # do the pass that shrinks more first: the second pass then runs on fewer pixels
    if size[0] / h <= size[1] / w:
        out = _apply_taps(_apply_taps(x, *row_taps, axis=2), *col_taps, axis=3)
    else:
        out = _apply_taps(_apply_taps(x, *col_taps, axis=3), *row_taps, axis=2)
    return np.ascontiguousarray(out)


def resize(img, size, interpolation="bilinear", max_size=None, antialias=True):
    """Resizes to size: (h, w), or an int that the smaller edge is matched to (aspect ratio kept).

    interpolation: 'bilinear' (torch's F.interpolate with align_corners=False; with antialias=True a
    shrink low-pass filters like torchvision's default) or 'nearest'.
    """
    mode = interpolation_mode(interpolation, "resize")

    def fn(x):
        h, w = x.shape[-2:]
        out = _resize_output_size(h, w, size, max_size, "resize")
        if out == (h, w):
            return x.copy()
        return _resample_per_sample(x, 0, 0, h, w, out, mode, antialias)

    return _apply(img, "resize", fn)


def resized_crop(img, top, left, height, width, size, interpolation="bilinear", antialias=True):
    """crop(top, left, height, width) then resize to size; the crop must lie inside the image."""
    mode = interpolation_mode(interpolation, "resized_crop")
    size = size_pair(size, "resized_crop")

    def fn(x):
        _, _, h, w = x.shape
        if not (0 <= top and 0 <= left and 0 < height and 0 < width and top + height <= h and left + width <= w):
            raise ValueError(
                f"[resized_crop] the window top={top}, left={left}, {height}x{width} must lie inside the {h}x{w} image"
            )
        return _resample_per_sample(x, int(top), int(left), int(height), int(width), size, mode, antialias)

    return _apply(img, "resized_crop", fn)


# ---- affine warps: rotate, affine ----
def _inverse_affine_matrices(angle, translate, scale, shear, center):
    """(N, 2, 3) maps from OUTPUT to INPUT pixel coordinates, both measured from the image centre (x right,
    y down), for the forward map  p_out = center + translate + M (p_in - center)  with
    M = scale * R(angle) @ ShearY(shear_y) @ ShearX(shear_x)  (torchvision's decomposition; R turns
    clockwise on screen for a positive angle). Args: angle, scale (N,); translate, shear, center (N, 2);
    angles in degrees."""
    a = np.deg2rad(angle)
    sx, sy = np.deg2rad(shear[:, 0]), np.deg2rad(shear[:, 1])
    n = a.shape[0]
    rot = np.stack([np.cos(a), -np.sin(a), np.sin(a), np.cos(a)], axis=-1).reshape(n, 2, 2)
    shear_y = np.stack([np.ones(n), np.zeros(n), -np.tan(sy), np.ones(n)], axis=-1).reshape(n, 2, 2)
    shear_x = np.stack([np.ones(n), -np.tan(sx), np.zeros(n), np.ones(n)], axis=-1).reshape(n, 2, 2)
    forward = scale[:, None, None] * (rot @ shear_y @ shear_x)
    inverse = np.linalg.inv(forward)
    # p_in = center + inverse (p_out - center - translate)
    offset = center - (inverse @ (center + translate)[..., None])[..., 0]
    return np.concatenate([inverse, offset[..., None]], axis=-1)


def _expanded_size(theta, h, w):
    """Output (h, w) that holds the whole warped image (rotate's expand=True): the bounding box of the
    corners under theta, in pixels from the top-left, widened to whole pixels as torchvision does. Values
    are first rounded to 1e-4, so that cos(90 deg) = 6e-17 does not turn 8.0 into 8.00000001 (ceil 9) or
    2.0 into 1.99999999 (floor 1)."""
    corners = np.array(
        [[-0.5 * w, -0.5 * h, 1.0], [-0.5 * w, 0.5 * h, 1.0], [0.5 * w, 0.5 * h, 1.0], [0.5 * w, -0.5 * h, 1.0]]
    )
    pts = corners @ theta.T + np.array([0.5 * w, 0.5 * h])
    hi = np.ceil(np.round(pts.max(axis=0), 4))
    lo = np.floor(np.round(pts.min(axis=0), 4))
    size = hi - lo
    return int(size[1]), int(size[0])


def _warp_per_sample(x, theta, out_size, interpolation, fill):
    """x (N, C, H, W), theta (N, 2, 3) output->input maps in centred coordinates -> (N, C, oh, ow).

    Sampling follows torch's grid_sample(align_corners=False): the input pixel (i, j) has its centre at
    (j + 0.5 - W/2, i + 0.5 - H/2). Bilinear reads the image as if extended by the fill colour (for fill 0
    exactly grid_sample's padding_mode='zeros'); nearest rounds half to even, as grid_sample does.
    """
    kernel = lambda xs, ts: _warp_chunk(xs, ts, out_size, interpolation, fill)
    per_sample = (x.shape[1] + 2) * max(x.shape[2] * x.shape[3], out_size[0] * out_size[1])
    return _by_chunks(kernel, x, per_sample, theta)


def _warp_chunk(x, theta, out_size, interpolation, fill):
    n, c, h, w = x.shape
    oh, ow = out_size
    dt = x.dtype
    fill = fill_values(fill, c, "warp", dt)
    theta = theta.astype(dt)
    xo = np.arange(ow, dtype=dt) + dt.type(0.5 - ow / 2.0)
    yo = np.arange(oh, dtype=dt) + dt.type(0.5 - oh / 2.0)
    t = theta[:, :, :, None, None]
    # source positions in input pixel-index units, (N, oh * ow) each
    px = (t[:, 0, 0] * xo + t[:, 0, 1] * yo[:, None] + (t[:, 0, 2] + dt.type(w / 2.0 - 0.5))).reshape(n, -1)
    py = (t[:, 1, 0] * xo + t[:, 1, 1] * yo[:, None] + (t[:, 1, 2] + dt.type(h / 2.0 - 0.5))).reshape(n, -1)
    # A one-pixel zero border lets every clamped position read a valid index (outside reads zero), and
    # channel-major order makes each channel one flat array: one 1-D gather per channel and tap is many
    # times faster than take_along_axis over (N, C, P).
    planes = [x.transpose(1, 0, 2, 3)]
    want_coverage = interpolation == InterpolationMode.BILINEAR and np.any(fill != 0)
    if want_coverage:
        planes.append(np.ones((1, n, h, w), dtype=dt))  # sampled like a channel: the weight inside the image
    flat = _pad_array(np.concatenate(planes), (1, 1, 1, 1)).reshape(len(planes[0]) + want_coverage, -1)
    row = w + 2
    base = (np.arange(n) * (h + 2) * row)[:, None]
    out = np.empty((n, c, oh * ow), dtype=dt)
    if interpolation == InterpolationMode.NEAREST:
        ix = np.clip(np.rint(px), -1, w).astype(np.int64)
        iy = np.clip(np.rint(py), -1, h).astype(np.int64)
        index = base + (iy + 1) * row + (ix + 1)
        inside = (ix >= 0) & (ix < w) & (iy >= 0) & (iy < h)
        for ch in range(c):
            out[:, ch] = np.where(inside, flat[ch][index], fill[ch])
        return out.reshape(n, c, oh, ow)
    px = np.clip(px, -1, w)
    py = np.clip(py, -1, h)
    x0 = np.minimum(np.floor(px), w - 1)
    y0 = np.minimum(np.floor(py), h - 1)
    fx, fy = px - x0, py - y0
    i00 = base + (y0.astype(np.int64) + 1) * row + (x0.astype(np.int64) + 1)
    taps = ((i00, (1 - fx) * (1 - fy)), (i00 + 1, fx * (1 - fy)), (i00 + row, (1 - fx) * fy), (i00 + row + 1, fx * fy))
    sampled = []
    for plane in flat:
        acc = plane[taps[0][0]] * taps[0][1]
        for index, weight in taps[1:]:
            acc += plane[index] * weight
        sampled.append(acc)
    out = np.stack(sampled[:c], axis=1)
    if want_coverage:
        out += (1 - sampled[c])[:, None] * fill[None, :, None]
    return out.reshape(n, c, oh, ow)


def _center_arg(center, h, w, op):
    """A centre in pixel coordinates (x, y) -> offset from the image centre; None -> (0, 0)."""
    if center is None:
        return (0.0, 0.0)
    if not (isinstance(center, (tuple, list)) and len(center) == 2):
        raise ValueError(f"[{op}] center must be a pair (x, y), got {center!r}")
    return (float(center[0]) - 0.5 * w, float(center[1]) - 0.5 * h)


def rotate(img, angle, interpolation="nearest", expand=False, center=None, fill=None):
    """Rotates counter-clockwise by angle degrees about center ((x, y) in pixels; default the image centre).

    expand=True enlarges the output to hold the whole rotated image. Pixels from outside the input get
    fill (a number or one value per channel; None = 0).
    """
    mode = interpolation_mode(interpolation, "rotate")

    def fn(x):
        n, _, h, w = x.shape
        c = np.broadcast_to(_center_arg(center, h, w, "rotate"), (n, 2))
        theta = _inverse_affine_matrices(np.full(n, -float(angle)), np.zeros((n, 2)), np.ones(n), np.zeros((n, 2)), c)
        size = _expanded_size(theta[0], h, w) if expand else (h, w)
        return _warp_per_sample(x, theta, size, mode, fill)

    return _apply(img, "rotate", fn)


def affine(img, angle, translate, scale, shear, interpolation="nearest", fill=None, center=None):
    """Rotation by angle degrees (clockwise, as torchvision's affine), translation (tx, ty) in pixels,
    scale, and shear (degrees: one number = x shear, or (shear_x, shear_y)) about center (default: the
    image centre). Pixels from outside get fill."""
    mode = interpolation_mode(interpolation, "affine")
    if not (isinstance(translate, (tuple, list)) and len(translate) == 2):
        raise ValueError(f"[affine] translate must be a pair (tx, ty), got {translate!r}")
    if not isinstance(scale, Real) or scale <= 0:
        raise ValueError(f"[affine] scale must be a positive number, got {scale!r}")
    shear = (float(shear), 0.0) if isinstance(shear, Real) else tuple(float(s) for s in shear)
    if len(shear) == 1:
        shear = (shear[0], 0.0)
    if len(shear) != 2:
        raise ValueError(f"[affine] shear must be a number or a pair (shear_x, shear_y), got {shear!r}")

    def fn(x):
        n, _, h, w = x.shape
        theta = _inverse_affine_matrices(
            np.full(n, float(angle)),
            np.tile(np.asarray(translate, float), (n, 1)),
            np.full(n, float(scale)),
            np.tile(np.asarray(shear), (n, 1)),
            np.broadcast_to(_center_arg(center, h, w, "affine"), (n, 2)),
        )
        return _warp_per_sample(x, theta, (h, w), mode, fill)

    return _apply(img, "affine", fn)


# ---- colour ----
def _check_channels(x, allowed, op):
    if x.shape[-3] not in allowed:
        need = " or ".join(str(a) for a in allowed)
        raise ValueError(f"[{op}] needs images with {need} channels, got shape {tuple(x.shape)}")


def _gray(x):
    """Luma of (N, 3, H, W) -> (N, 1, H, W)."""
    r, g, b = x[:, 0:1], x[:, 1:2], x[:, 2:3]
    return (_LUMA[0] * r + _LUMA[1] * g + _LUMA[2] * b).astype(x.dtype, copy=False)


def _factor(f, x):
    """A scalar or per-sample (N,) factor, shaped to broadcast against x (N, C, H, W)."""
    return np.asarray(f, dtype=x.dtype).reshape(-1, 1, 1, 1)


def _blend(a, b, ratio):
    # ratio * a + (1 - ratio) * b, kept in the valid range [0, 1] of float images
    return np.clip(ratio * a + (1 - ratio) * b, 0, 1)


def _brightness(x, f):
    return np.clip(x * _factor(f, x), 0, 1)


def _contrast(x, f):
    _check_channels(x, (1, 3), "adjust_contrast")
    ref = _gray(x) if x.shape[1] == 3 else x
    return _blend(x, ref.mean(axis=(1, 2, 3), keepdims=True), _factor(f, x))


def _saturation(x, f):
    _check_channels(x, (3,), "adjust_saturation")
    return _blend(x, _gray(x), _factor(f, x))


def _hue(x, f):
    """Rotates the hue of (N, 3, H, W) RGB in [0, 1] by f turns (scalar or per sample), keeping HSV's
    saturation and value. The round trip RGB -> HSV -> RGB is folded into one closed form: with
    h6 in [0, 6) the hue in sixths, channel k (5 = R, 3 = G, 1 = B) of the result is
        max - (max - min) * clip(min(m, 4 - m), 0, 1),   m = (k + h6) mod 6
    (HSV's v = max and v * s = max - min; grey pixels, max == min, come out unchanged)."""
    _check_channels(x, (3,), "adjust_hue")
    r, g, b = x[:, 0:1], x[:, 1:2], x[:, 2:3]
    maxc = np.maximum(np.maximum(r, g), b)
    delta = maxc - np.minimum(np.minimum(r, g), b)
    safe = np.where(delta > 0, delta, 1)
    # the hue sector is decided by which channel is largest (ties: red, then green, as colorsys)
    h6 = np.where(maxc == r, (g - b) / safe, np.where(maxc == g, 2 + (b - r) / safe, 4 + (r - g) / safe))
    h6 = (h6 + 6 * _factor(f, x)) % 6
    k = np.array([5, 3, 1], dtype=x.dtype).reshape(1, 3, 1, 1)
    m = (k + h6) % 6
    return (maxc - delta * np.clip(np.minimum(m, 4 - m), 0, 1)).astype(x.dtype, copy=False)


def adjust_brightness(img, brightness_factor):
    """img * factor, clipped to [0, 1] (0 gives black, 1 the original)."""
    if brightness_factor < 0:
        raise ValueError(f"[adjust_brightness] brightness_factor must be non-negative, got {brightness_factor}")
    return _apply(img, "adjust_brightness", lambda x: _brightness(x, brightness_factor))


def adjust_contrast(img, contrast_factor):
    """Blend with the image's mean luma: 0 gives a uniform grey image, 1 the original."""
    if contrast_factor < 0:
        raise ValueError(f"[adjust_contrast] contrast_factor must be non-negative, got {contrast_factor}")
    return _apply(img, "adjust_contrast", lambda x: _contrast(x, contrast_factor))


def adjust_saturation(img, saturation_factor):
    """Blend with the grayscale image: 0 gives grey, 1 the original, 2 doubles saturation (RGB only)."""
    if saturation_factor < 0:
        raise ValueError(f"[adjust_saturation] saturation_factor must be non-negative, got {saturation_factor}")
    return _apply(img, "adjust_saturation", lambda x: _saturation(x, saturation_factor))


def adjust_hue(img, hue_factor):
    """Shifts the hue by hue_factor turns (in [-0.5, 0.5]) through HSV (RGB only)."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"[adjust_hue] hue_factor must be in [-0.5, 0.5], got {hue_factor}")
    return _apply(img, "adjust_hue", lambda x: _hue(x, hue_factor))


def _grayscale(x, num_output_channels, op):
    _check_channels(x, (1, 3), op)
    g = x.copy() if x.shape[1] == 1 else _gray(x)
    return np.repeat(g, num_output_channels, axis=1) if num_output_channels > 1 else g


def rgb_to_grayscale(img, num_output_channels=1):
    """Luma 0.2989 R + 0.587 G + 0.114 B, as 1 channel or repeated to 3."""
    if num_output_channels not in (1, 3):
        raise ValueError(f"[rgb_to_grayscale] num_output_channels must be 1 or 3, got {num_output_channels}")
    return _apply(img, "rgb_to_grayscale", lambda x: _grayscale(x, num_output_channels, "rgb_to_grayscale"))


# ---- erasing ----
def _erase_per_sample(x, top, left, height, width, value, inplace=False):
    """x (N, C, H, W); sets sample n's box (top[n], left[n], height[n], width[n]) to value: (C,) per channel,
    or (N, C, H, W) read at the same positions. height 0 leaves a sample untouched. inplace writes into x."""
    _, _c, h, w = x.shape
    in_rows = (np.arange(h) >= top[:, None]) & (np.arange(h) < (top + height)[:, None])  # (N, H)
    in_cols = (np.arange(w) >= left[:, None]) & (np.arange(w) < (left + width)[:, None])  # (N, W)
    box = in_rows[:, None, :, None] & in_cols[:, None, None, :]  # (N, 1, H, W)
    value = np.asarray(value, dtype=x.dtype)
    if value.ndim == 1:
        value = value.reshape(1, -1, 1, 1)
    out = x if inplace and x.flags.writeable else x.copy()
    np.copyto(out, value, where=box)
    return out


def erase(img, i, j, h, w, v, inplace=False):
    """Sets the box rows [i, i+h), cols [j, j+w) to v (a number, one value per channel, or an array
    broadcastable to (C, h, w)). inplace=True writes into the given float array."""

    def fn(x, out):
        value = np.asarray(v, dtype=x.dtype)
        if value.ndim == 1 and value.size == x.shape[1]:
            value = value[:, None, None]
        out[:, :, i : i + h, j : j + w] = value
        return out

    if inplace and isinstance(img, np.ndarray) and img.dtype.kind == "f" and img.ndim in (3, 4):
        view = img[None] if img.ndim == 3 else img
        fn(view, view)
        return img
    return _apply(img, "erase", lambda x: fn(x, x.copy()))
