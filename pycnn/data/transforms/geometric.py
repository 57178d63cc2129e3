"""Geometric transforms: flips, Pad, crops (RandomCrop, CenterCrop, RandomResizedCrop), Resize, and the
affine family (RandomRotation, RandomAffine), with torchvision's arguments and parameter draws.

Each random one exposes torchvision's static get_params (one image) and draw_params / apply_params (a
batch: one vectorised draw, then one gather or one batched inverse-mapping for all samples).
"""

from numbers import Real

import numpy as np

from . import functional as F
from ._image import check_fill, check_p, interpolation_mode, number_range, numpy_rng, padding_ltrb, size_pair
from .core import RandomTransform, Transform, random_box_sides

__all__ = [
    "CenterCrop",
    "Pad",
    "RandomAffine",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomResizedCrop",
    "RandomRotation",
    "RandomVerticalFlip",
    "Resize",
]


class RandomHorizontalFlip(RandomTransform):
    """Mirrors left-right with probability p."""

    _axis = -1

    def __init__(self, p=0.5, generator=None):
        super().__init__(generator)
        self.p = check_p(p, type(self).__name__)

    def draw_params(self, n, image_shape):
        return {"flip": self._rng().random(n) < self.p}

    def apply_params(self, x, params):
        return F._flip_per_sample(x, params["flip"], self._axis)

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirrors top-bottom with probability p."""

    _axis = -2


_PADDING_MODES = ("constant", "edge", "reflect", "symmetric")


def _check_padding_mode(mode, op):
    if mode not in _PADDING_MODES:
        raise ValueError(f"[{op}] padding_mode must be one of {_PADDING_MODES}, got {mode!r}")
    return mode


class Pad(Transform):
    """Pads the borders.

    Args:
        padding: int (all sides), (left/right, top/bottom) or (left, top, right, bottom).
        fill: number or one value per channel, for padding_mode='constant'.
        padding_mode: 'constant', 'edge', 'reflect' (mirror without the edge pixel) or 'symmetric' (with it).
    """

    def __init__(self, padding, fill=0, padding_mode="constant"):
        self._ltrb = padding_ltrb(padding, "Pad")
        self.padding = padding
        self.fill = check_fill(fill, "Pad")
        self.padding_mode = _check_padding_mode(padding_mode, "Pad")

    def forward(self, x):
        return self.forward_batch(x[None])[0]

    def forward_batch(self, x):
        return F._pad_array(x, self._ltrb, self.fill, self.padding_mode, "Pad")

    def __repr__(self):
        return f"Pad(padding={self.padding}, fill={self.fill}, padding_mode={self.padding_mode})"


class RandomCrop(RandomTransform):
    """Crops a random (h, w) window, after optional padding.

    Args:
        size: int (square) or (h, w).
        padding: None, int, (left/right, top/bottom) or (left, top, right, bottom), applied first.
        pad_if_needed (bool): pad an image smaller than size (by the shortfall on both sides) instead of
            raising.
        fill, padding_mode: as Pad.
    """

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant", generator=None):
        super().__init__(generator)
        self.size = size_pair(size, "RandomCrop")
        self._ltrb = None if padding is None else padding_ltrb(padding, "RandomCrop")
        self.padding = padding
        self.pad_if_needed = bool(pad_if_needed)
        self.fill = check_fill(fill, "RandomCrop")
        self.padding_mode = _check_padding_mode(padding_mode, "RandomCrop")

    @staticmethod
    def get_params(img, output_size, generator=None):
        """(i, j, h, w): a uniformly placed output_size window of img."""
        _, h, w = F.get_dimensions(img)
        th, tw = size_pair(output_size, "RandomCrop", "output_size")
        top, left = _random_offsets(numpy_rng(generator), 1, (h, w), (th, tw), "RandomCrop")
        return int(top[0]), int(left[0]), th, tw

    def _padding_steps(self, h, w):
        """The pads (left, top, right, bottom) applied in turn, as torchvision: the padding argument, then
        pad_if_needed's width shortfall on both sides, then its height shortfall."""
        steps = [] if self._ltrb is None else [self._ltrb]
        if self._ltrb is not None:
            h, w = h + self._ltrb[1] + self._ltrb[3], w + self._ltrb[0] + self._ltrb[2]
        if self.pad_if_needed and w < self.size[1]:
            d = self.size[1] - w
            steps.append((d, 0, d, 0))
            w += 2 * d
        if self.pad_if_needed and h < self.size[0]:
            d = self.size[0] - h
            steps.append((0, d, 0, d))
            h += 2 * d
        return steps, (h, w)

    def draw_params(self, n, image_shape):
        _, padded = self._padding_steps(*image_shape[-2:])
        top, left = _random_offsets(self._rng(), n, padded, self.size, "RandomCrop")
        return {"top": top, "left": left}

    def apply_params(self, x, params):
        steps, _ = self._padding_steps(*x.shape[-2:])
        for ltrb in steps:
            x = F._pad_array(x, ltrb, self.fill, self.padding_mode, "RandomCrop")
        return F._crop_per_sample(x, params["top"], params["left"], *self.size)

    def __repr__(self):
        return f"RandomCrop(size={self.size}, padding={self.padding})"


def _random_offsets(rng, n, image_hw, crop_hw, op):
    (h, w), (th, tw) = image_hw, crop_hw
    if h < th or w < tw:
        raise ValueError(
            f"[{op}] required crop size {(th, tw)} is larger than the input image size {(h, w)} "
            f"(after padding); pass pad_if_needed=True or a smaller size"
        )
    return rng.integers(0, h - th + 1, size=n), rng.integers(0, w - tw + 1, size=n)


class CenterCrop(Transform):
    """Crops the central (h, w) window (int: square); a smaller image is zero-padded first."""

    def __init__(self, size):
        self.size = size_pair(size, "CenterCrop")

    def forward(self, x):
        return self.forward_batch(x[None])[0]

    def forward_batch(self, x):
        return F._center_crop_array(x, self.size)

    def __repr__(self):
        return f"CenterCrop(size={self.size})"


class Resize(Transform):
    """Resizes to size.

    Args:
        size: (h, w), or an int that the smaller edge is matched to (the aspect ratio is kept; the longer
            edge is truncated to an int).
        interpolation: 'bilinear' (torch's F.interpolate with align_corners=False) or 'nearest' (torch's
            legacy nearest), or torchvision's InterpolationMode.
        max_size (int): with an int size, cap the longer edge at this.
        antialias (bool): when shrinking with bilinear, low-pass filter first (torchvision's default, the
            same as torch's interpolate(antialias=True)); False is plain bilinear.
    """

    def __init__(self, size, interpolation="bilinear", max_size=None, antialias=True):
        if not (size is None or isinstance(size, int) or (isinstance(size, (tuple, list)) and len(size) in (1, 2))):
            raise TypeError(f"[Resize] size must be an int or a sequence of 1 or 2 ints, got {size!r}")
        F._resize_output_size(8, 8, size, max_size, "Resize")  # validates size and max_size now
        self.size = size
        self.interpolation = interpolation_mode(interpolation, "Resize")
        self.max_size = max_size
        self.antialias = bool(antialias)

    def forward(self, x):
        return self.forward_batch(x[None])[0]

    def forward_batch(self, x):
        h, w = x.shape[-2:]
        out = F._resize_output_size(h, w, self.size, self.max_size, "Resize")
        if out == (h, w):
            return x.copy()
        return F._resample_per_sample(x, 0, 0, h, w, out, self.interpolation, self.antialias)

    def __repr__(self):
        return (
            f"Resize(size={self.size}, interpolation={self.interpolation.value}, max_size={self.max_size}, "
            f"antialias={self.antialias})"
        )


def _pair_range(value, name, op):
    if not (isinstance(value, (tuple, list)) and len(value) == 2 and all(isinstance(v, Real) for v in value)):
        raise TypeError(f"[{op}] {name} must be a pair of numbers (min, max), got {value!r}")
    if value[0] > value[1]:
        raise ValueError(f"[{op}] {name} must be (min, max) with min <= max, got {value}")
    return (float(value[0]), float(value[1]))


class RandomResizedCrop(RandomTransform):
    """Crops a random window of random area (scale of the image area) and aspect ratio (ratio, width /
    height, drawn log-uniformly), and resizes it to size. After 10 draws that do not fit it falls back
    to a central crop, as torchvision.

    Args:
        size: int (square) or (h, w) output size.
        scale, ratio: (min, max) ranges.
        interpolation, antialias: as Resize.
    """

    def __init__(
        self,
        size,
        scale=(0.08, 1.0),
        ratio=(3.0 / 4.0, 4.0 / 3.0),
        interpolation="bilinear",
        antialias=True,
        generator=None,
    ):
        super().__init__(generator)
        self.size = size_pair(size, "RandomResizedCrop")
        self.scale = _pair_range(scale, "scale", "RandomResizedCrop")
        self.ratio = _pair_range(ratio, "ratio", "RandomResizedCrop")
        if self.scale[0] <= 0 or self.ratio[0] <= 0:
            raise ValueError(f"[RandomResizedCrop] scale and ratio must be positive, got {scale}, {ratio}")
        self.interpolation = interpolation_mode(interpolation, "RandomResizedCrop")
        self.antialias = bool(antialias)

    @staticmethod
    def _draw_windows(rng, n, h, w, scale, ratio):
        cw, ch = random_box_sides(rng, n, h * w, scale, ratio)  # ratio is width / height here
        fits = (cw > 0) & (cw <= w) & (ch > 0) & (ch <= h)
        first = fits.argmax(axis=1)
        found = fits.any(axis=1)
        rows = np.arange(n)
        cw, ch = cw[rows, first], ch[rows, first]
        top = rng.integers(0, np.where(found, h - ch, 0) + 1)
        left = rng.integers(0, np.where(found, w - cw, 0) + 1)
        if not found.all():
            # fallback: the largest central window whose aspect ratio is clamped into the range
            in_ratio = w / h
            if in_ratio < min(ratio):
                fw, fh = w, int(round(w / min(ratio)))
            elif in_ratio > max(ratio):
                fw, fh = int(round(h * max(ratio))), h
            else:
                fw, fh = w, h
            cw, ch = np.where(found, cw, fw), np.where(found, ch, fh)
            top = np.where(found, top, (h - fh) // 2)
            left = np.where(found, left, (w - fw) // 2)
        return top, left, ch, cw

    @staticmethod
    def get_params(img, scale, ratio, generator=None):
        """(i, j, h, w) of a random window of img, as torchvision."""
        _, h, w = F.get_dimensions(img)
        top, left, ch, cw = RandomResizedCrop._draw_windows(numpy_rng(generator), 1, h, w, scale, ratio)
        return int(top[0]), int(left[0]), int(ch[0]), int(cw[0])

    def draw_params(self, n, image_shape):
        top, left, ch, cw = self._draw_windows(self._rng(), n, image_shape[-2], image_shape[-1], self.scale, self.ratio)
        return {"top": top, "left": left, "height": ch, "width": cw}

    def apply_params(self, x, params):
        return F._resample_per_sample(
            x,
            params["top"],
            params["left"],
            params["height"],
            params["width"],
            self.size,
            self.interpolation,
            self.antialias,
        )

    def __repr__(self):
        return (
            f"RandomResizedCrop(size={self.size}, scale={tuple(round(s, 4) for s in self.scale)}, "
            f"ratio={tuple(round(r, 4) for r in self.ratio)}, interpolation={self.interpolation.value}, "
            f"antialias={self.antialias})"
        )


def _degrees_range(degrees, op):
    return number_range(degrees, "degrees", op)


def _center_offsets(center, n, h, w, op):
    return np.broadcast_to(np.asarray(F._center_arg(center, h, w, op), dtype=np.float64), (n, 2))


class RandomRotation(RandomTransform):
    """Rotates by an angle drawn uniformly from degrees (counter-clockwise for positive angles).

    Args:
        degrees: d (meaning (-d, d)) or (min, max).
        interpolation: 'nearest' (torchvision's default) or 'bilinear'.
        expand (bool): enlarge the output to hold the whole rotated image (single images only, or a batch
            whose angles all give one size).
        center: (x, y) in pixels; default the image centre.
        fill: number or one value per channel for pixels from outside the image.
    """

    def __init__(self, degrees, interpolation="nearest", expand=False, center=None, fill=0, generator=None):
        super().__init__(generator)
        self.degrees = _degrees_range(degrees, "RandomRotation")
        self.interpolation = interpolation_mode(interpolation, "RandomRotation")
        self.expand = bool(expand)
        if center is not None and not (isinstance(center, (tuple, list)) and len(center) == 2):
            raise ValueError(f"[RandomRotation] center must be a pair (x, y), got {center!r}")
        self.center = center
        self.fill = check_fill(fill, "RandomRotation")

    @staticmethod
    def get_params(degrees, generator=None):
        """A uniform angle in degrees (min, max)."""
        return float(numpy_rng(generator).uniform(float(degrees[0]), float(degrees[1])))

    def draw_params(self, n, image_shape):
        return {"angle": self._rng().uniform(self.degrees[0], self.degrees[1], size=n)}

    def apply_params(self, x, params):
        n, _, h, w = x.shape
        angle = np.asarray(params["angle"], dtype=np.float64)
        # rotate is counter-clockwise, the shared matrix turns clockwise: hence -angle
        theta = F._inverse_affine_matrices(
            -angle,
            np.zeros((n, 2)),
            np.ones(n),
            np.zeros((n, 2)),
            _center_offsets(self.center, n, h, w, "RandomRotation"),
        )
        size = (h, w)
        if self.expand:
            sizes = {F._expanded_size(t, h, w) for t in theta}
            if len(sizes) > 1:
                raise ValueError(
                    f"[RandomRotation] expand=True gives the samples different output sizes "
                    f"{sorted(sizes)}; apply it per image (not .batch) or use expand=False"
                )
            size = sizes.pop()
        return F._warp_per_sample(x, theta, size, self.interpolation, self.fill)

    def __repr__(self):
        return (
            f"RandomRotation(degrees={list(self.degrees)}, interpolation={self.interpolation.value}, "
            f"expand={self.expand}, center={self.center}, fill={self.fill})"
        )


class RandomAffine(RandomTransform):
    """A random affine warp about the image centre: rotation, translation, scale and shear, as torchvision.

    Args:
        degrees: d (meaning (-d, d)) or (min, max); the rotation (clockwise, as torchvision's affine).
        translate: (a, b): horizontal shift drawn in (-a W, a W), vertical in (-b H, b H) (rounded to pixels).
        scale: (min, max) scale factor; None keeps 1.
        shear: s (x shear in (-s, s)), (min, max) (x shear), or (xmin, xmax, ymin, ymax); degrees.
        interpolation: 'nearest' (default) or 'bilinear'. fill: number or one value per channel.
        center: (x, y) in pixels; default the image centre.
    """

    def __init__(
        self,
        degrees,
        translate=None,
        scale=None,
        shear=None,
        interpolation="nearest",
        fill=0,
        center=None,
        generator=None,
    ):
        super().__init__(generator)
        self.degrees = _degrees_range(degrees, "RandomAffine")
        if translate is not None:
            if not (isinstance(translate, (tuple, list)) and len(translate) == 2):
                raise TypeError(f"[RandomAffine] translate must be a pair (a, b), got {translate!r}")
            if not all(0.0 <= t <= 1.0 for t in translate):
                raise ValueError(f"[RandomAffine] translate values must be in [0, 1], got {translate}")
            translate = tuple(float(t) for t in translate)
        if scale is not None:
            scale = _pair_range(scale, "scale", "RandomAffine")
            if scale[0] <= 0:
                raise ValueError(f"[RandomAffine] scale values must be positive, got {scale}")
        if shear is not None:
            if isinstance(shear, Real):
                shear = number_range(shear, "shear", "RandomAffine")
            elif isinstance(shear, (tuple, list)) and len(shear) in (2, 4):
                shear = tuple(float(s) for s in shear)
            else:
                raise TypeError(f"[RandomAffine] shear must be a number or a sequence of 2 or 4 numbers, got {shear!r}")
        if center is not None and not (isinstance(center, (tuple, list)) and len(center) == 2):
            raise ValueError(f"[RandomAffine] center must be a pair (x, y), got {center!r}")
        self.translate, self.scale, self.shear, self.center = translate, scale, shear, center
        self.interpolation = interpolation_mode(interpolation, "RandomAffine")
        self.fill = check_fill(fill, "RandomAffine")

    @staticmethod
    def _draw(rng, n, degrees, translate, scale_ranges, shears, img_size):
        width, height = img_size
        angle = rng.uniform(degrees[0], degrees[1], size=n)
        if translate is not None:
            max_dx, max_dy = float(translate[0] * width), float(translate[1] * height)
            tx = np.rint(rng.uniform(-max_dx, max_dx, size=n))
            ty = np.rint(rng.uniform(-max_dy, max_dy, size=n))
        else:
            tx = ty = np.zeros(n)
        scale = rng.uniform(scale_ranges[0], scale_ranges[1], size=n) if scale_ranges is not None else np.ones(n)
        shear_x = shear_y = np.zeros(n)
        if shears is not None:
            shear_x = rng.uniform(shears[0], shears[1], size=n)
            if len(shears) == 4:
                shear_y = rng.uniform(shears[2], shears[3], size=n)
        return angle, np.stack([tx, ty], axis=1), scale, np.stack([shear_x, shear_y], axis=1)

    @staticmethod
    def get_params(degrees, translate, scale_ranges, shears, img_size, generator=None):
        """(angle, (tx, ty), scale, (shear_x, shear_y)) for an image of img_size = (width, height)."""
        angle, t, s, sh = RandomAffine._draw(
            numpy_rng(generator), 1, degrees, translate, scale_ranges, shears, img_size
        )
        return float(angle[0]), (int(t[0, 0]), int(t[0, 1])), float(s[0]), (float(sh[0, 0]), float(sh[0, 1]))

    def draw_params(self, n, image_shape):
        angle, translate, scale, shear = self._draw(
            self._rng(), n, self.degrees, self.translate, self.scale, self.shear, (image_shape[-1], image_shape[-2])
        )
        return {"angle": angle, "translate": translate, "scale": scale, "shear": shear}

    def apply_params(self, x, params):
        n, _, h, w = x.shape
        theta = F._inverse_affine_matrices(
            params["angle"],
            params["translate"],
            params["scale"],
            params["shear"],
            _center_offsets(self.center, n, h, w, "RandomAffine"),
        )
        return F._warp_per_sample(x, theta, (h, w), self.interpolation, self.fill)

    def __repr__(self):
        parts = [f"degrees={list(self.degrees)}"]
        for name in ("translate", "scale", "shear"):
            if getattr(self, name) is not None:
                parts.append(f"{name}={getattr(self, name)}")
        parts.append(f"interpolation={self.interpolation.value}")
        if self.fill != 0:
            parts.append(f"fill={self.fill}")
        if self.center is not None:
            parts.append(f"center={self.center}")
        return f"RandomAffine({', '.join(parts)})"
