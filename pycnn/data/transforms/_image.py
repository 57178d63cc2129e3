"""Image kinds in and out, and the argument checks every transform shares.

A transform computes on float NumPy arrays laid out (C, H, W) (one image) or (N, C, H, W) (a batch).
`as_image` / `as_batch` turn whatever the caller gave (float CHW array, uint8 or float HW / HWC array,
PIL image, Tensor) into that layout and return a `restore` function that turns the result back into
the caller's kind: ndarray in -> ndarray out, Tensor in -> Tensor out (same device), PIL in ->
float32 CHW ndarray out (the ToTensor conversion, as the datasets hand out).
"""

import enum
import math
from numbers import Integral, Real

import numpy as np

from ...creation import from_numpy
from ...tensor import Tensor
from ..collate import _plain

# The NumPy Generator to draw from, looked up at each call: None -> default_generator() (so the
# DataLoader's per-batch reseeding reaches the transforms). One helper for all of pycnn.data.
from ..dataset import _numpy_rng as numpy_rng  # noqa: F401 (re-exported to the transform modules)


class InterpolationMode(str, enum.Enum):
    """torchvision's interpolation names; plain strings 'nearest' / 'bilinear' work everywhere too."""

    NEAREST = "nearest"
    BILINEAR = "bilinear"


def interpolation_mode(value, op):
    """'nearest' / 'bilinear', InterpolationMode or any enum whose .value is one of them (torchvision's)."""
    name = getattr(value, "value", value)
    if isinstance(name, str) and name.lower() in ("nearest", "bilinear"):
        return InterpolationMode(name.lower())
    raise ValueError(f"[{op}] interpolation must be 'nearest' or 'bilinear', got {value!r}")


# ---- image kinds ----
def _is_pil(img):
    # No import of PIL here: it is optional, and an image object already carries its module.
    return type(img).__module__.startswith("PIL.") and hasattr(img, "getbands")


def uint8_to_float(images):
    """float32 copy of uint8 `images` (any shape) scaled to [0, 1], C-contiguous (also the datasets')."""
    out = np.empty(images.shape, dtype=np.float32)
    # Divide in float32 (rather than multiply by 1/255): each pixel becomes the correctly rounded i / 255,
    # the value torchvision's ToTensor gives, whatever the batch.
    np.divide(images, np.float32(255.0), out=out)
    return out


def _scale_integers(a, op):
    """uint8 / uint16 / bool arrays -> float32 in [0, 1]; float arrays keep float32 / float64."""
    if a.dtype == np.uint8:
        return uint8_to_float(a)
    if a.dtype == np.uint16:
        return a.astype(np.float32) / np.float32(65535)
    if a.dtype == np.bool_:
        return a.astype(np.float32)
    if a.dtype.kind == "f":
        return a if a.dtype in (np.float32, np.float64) else a.astype(np.float32)
    raise TypeError(f"[{op}] images must be float, uint8, uint16 or bool arrays, got dtype {a.dtype}")


def pil_to_array(pic, op):
    """A PIL image as float32 (C, H, W) in [0, 1] (mode '1' -> {0, 1}, 'F' kept as is)."""
    a = np.asarray(pic)
    if a.dtype.kind == "i":  # mode 'I' (int32): no natural range, kept as floats like mode 'F'
        a = a.astype(np.float32)
    a = a[None] if a.ndim == 2 else a.transpose(2, 0, 1)  # transposed first: uint8 is then scaled in one pass
    return np.ascontiguousarray(_scale_integers(a, op), dtype=np.float32)


def _looks_hwc(a):
    # A float 3-D array is (C, H, W), the datasets' layout, unless it can only be (H, W, C): a leading
    # dimension too big for channels and a trailing one that fits (1, 3 or 4 channels).
    return a.shape[0] > 4 and a.shape[-1] <= 4


def array_to_chw(a, op, hwc=None):
    """One image array -> float (C, H, W). uint8/uint16/bool arrays are (H, W) or (H, W, C) and are scaled
    to [0, 1]; float arrays are (H, W), (C, H, W), or (H, W, C) when the shape can only mean that.
    hwc=True forces the (H, W, C) reading of 3-D arrays (ToTensor on integer arrays)."""
    if a.ndim == 2:
        return _scale_integers(a, op)[None]
    if a.ndim != 3:
        raise ValueError(
            f"[{op}] expected an image of shape (C, H, W), (H, W) or (H, W, C), got shape "
            f"{tuple(a.shape)}" + ("; use .batch() for a batch (N, C, H, W)" if a.ndim == 4 else "")
        )
    if hwc is None:
        hwc = a.dtype.kind != "f" or _looks_hwc(a)
    a = _scale_integers(a, op)
    return a.transpose(2, 0, 1) if hwc else a


def _tensor_to_array(t):
    """NumPy view of a Tensor detached from autograd (a CPU copy first when it lives elsewhere)."""
    return _plain(t if str(t.device) == "cpu" else t.to("cpu"))


def _restore(kind, device):
    def restore(out):
        if kind == "tensor":
            out = np.asarray(out)
            if out.dtype not in (np.float32, np.float64):
                out = out.astype(np.float32)
            t = from_numpy(np.ascontiguousarray(out))
            return t if device == "cpu" else t.to(device)
        return out

    return restore


def as_image(img, op):
    """(float (C, H, W) array, restore). Raises "[op] ..." for anything that is not one image."""
    if isinstance(img, np.ndarray):
        return array_to_chw(img, op), _restore("ndarray", None)
    if isinstance(img, Tensor):
        a = _tensor_to_array(img)
        if a.ndim == 2:
            a = a[None]
        if a.ndim != 3:
            raise ValueError(
                f"[{op}] expected a Tensor image of shape (C, H, W) or (H, W), got shape "
                f"{tuple(a.shape)}" + ("; use .batch() for a batch (N, C, H, W)" if a.ndim == 4 else "")
            )
        return _scale_integers(a, op), _restore("tensor", str(img.device))
    if _is_pil(img):
        return pil_to_array(img, op), _restore("ndarray", None)
    raise TypeError(f"[{op}] expected a numpy.ndarray, Tensor or PIL image, got {type(img).__name__}")


def as_batch(imgs, op):
    """(float (N, C, H, W) array, restore) from a float (N, C, H, W) array or Tensor, a float (N, H, W)
    one (one channel), a uint8 (N, H, W, C) / (N, H, W) one (scaled as ToTensor does), or a list of images."""
    if isinstance(imgs, (list, tuple)):
        if not imgs:
            raise ValueError(f"[{op}] batch() got an empty list of images")
        arrays = [as_image(img, op)[0] for img in imgs]
        shapes = {a.shape for a in arrays}
        if len(shapes) > 1:
            raise ValueError(f"[{op}] batch() needs images of one shape, got {sorted(shapes)}")
        kind = "tensor" if isinstance(imgs[0], Tensor) else "ndarray"
        device = str(imgs[0].device) if kind == "tensor" else None
        return np.stack(arrays), _restore(kind, device)
    if isinstance(imgs, Tensor):
        a, kind, device = _tensor_to_array(imgs), "tensor", str(imgs.device)
    elif isinstance(imgs, np.ndarray):
        a, kind, device = imgs, "ndarray", None
    else:
        raise TypeError(
            f"[{op}] batch() expects a numpy.ndarray or Tensor of shape (N, C, H, W) or a list "
            f"of images, got {type(imgs).__name__}"
        )
    if a.ndim == 3:
        a = a[:, None]
    elif a.ndim == 4 and a.dtype.kind != "f":
        a = a.transpose(0, 3, 1, 2)  # integer batches are (N, H, W, C), as ToTensor reads them
    elif a.ndim != 4:
        raise ValueError(f"[{op}] batch() expects images of shape (N, C, H, W), got shape {tuple(a.shape)}")
    return _scale_integers(a, op), _restore(kind, device)


# ---- argument checks ----
def check_p(p, op):
    if isinstance(p, bool) or not isinstance(p, Real) or not 0.0 <= float(p) <= 1.0:
        raise ValueError(f"[{op}] p must be a probability in [0, 1], got {p!r}")
    return float(p)


def size_pair(size, op, name="size"):
    """int or 1/2-sequence of positive ints -> (h, w)."""
    if isinstance(size, Integral) and not isinstance(size, bool):
        size = (int(size), int(size))
    elif (
        isinstance(size, (tuple, list))
        and len(size) in (1, 2)
        and all(isinstance(s, Integral) and not isinstance(s, bool) for s in size)
    ):
        size = (int(size[0]), int(size[-1]))
    else:
        raise ValueError(f"[{op}] {name} must be an int or a sequence of 1 or 2 ints, got {size!r}")
    if min(size) <= 0:
        raise ValueError(f"[{op}] {name} must be positive, got {size}")
    return size


def padding_ltrb(padding, op):
    """int, (lr, tb) or (left, top, right, bottom) of non-negative ints -> (left, top, right, bottom)."""
    if isinstance(padding, Integral) and not isinstance(padding, bool):
        p = (int(padding),) * 4
    elif (
        isinstance(padding, (tuple, list))
        and len(padding) in (1, 2, 4)
        and all(isinstance(v, Integral) and not isinstance(v, bool) for v in padding)
    ):
        p = tuple(int(v) for v in padding)
        p = p * 4 if len(p) == 1 else (p * 2 if len(p) == 2 else p)
    else:
        raise ValueError(f"[{op}] padding must be an int or a sequence of 1, 2 or 4 ints, got {padding!r}")
    if min(p) < 0:
        raise ValueError(f"[{op}] padding must be non-negative, got {padding!r}")
    return p


def fill_values(fill, channels, op, dtype=np.float64):
    """A number or one value per channel -> array (C,) of fill values."""
    if fill is None:
        fill = 0.0
    if isinstance(fill, Real) and not isinstance(fill, bool):
        return np.full(channels, float(fill), dtype=dtype)
    f = np.asarray(fill, dtype=np.float64).reshape(-1)
    if f.size == 1:
        return np.full(channels, f[0], dtype=dtype)
    if f.size != channels:
        raise ValueError(f"[{op}] fill must be a number or {channels} values (one per channel), got {fill!r}")
    return f.astype(dtype)


def check_fill(fill, op):
    if fill is None or (isinstance(fill, Real) and not isinstance(fill, bool)):
        return fill
    if isinstance(fill, (tuple, list)) and all(isinstance(v, Real) and not isinstance(v, bool) for v in fill):
        return tuple(float(v) for v in fill)
    raise TypeError(f"[{op}] fill must be a number or a sequence of numbers, got {fill!r}")


def number_range(value, name, op, center=None, bound=(-math.inf, math.inf), non_negative=False):
    """torchvision's convention for jitter-like arguments: a number v means (center - v, center + v)
    (or (-v, v) when center is None), a pair is taken as is; both must lie inside bound."""
    if isinstance(value, Real) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"[{op}] {name} given as a single number must be non-negative, got {value}")
        c = 0.0 if center is None else float(center)
        lo, hi = c - float(value), c + float(value)
        if non_negative:
            lo = max(lo, 0.0)
    elif (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, Real) and not isinstance(v, bool) for v in value)
    ):
        lo, hi = float(value[0]), float(value[1])
    else:
        raise TypeError(f"[{op}] {name} must be a number or a pair (min, max), got {value!r}")
    if not bound[0] <= lo <= hi <= bound[1]:
        raise ValueError(f"[{op}] {name} range must satisfy {bound[0]} <= min <= max <= {bound[1]}, got ({lo}, {hi})")
    return (lo, hi)
