"""Colour transforms: ColorJitter, Grayscale and RandomGrayscale, on float images in [0, 1].

ColorJitter follows torchvision: each image draws a random order of the four adjustments and one factor
per enabled adjustment; .batch draws all of them as arrays and applies each adjustment to the samples
that have it at a given position, with per-sample factors broadcast over the pixels.
"""

import numpy as np

from . import functional as F
from ._image import check_p, number_range, numpy_rng
from .core import RandomTransform, Transform

__all__ = ["ColorJitter", "Grayscale", "RandomGrayscale"]

# position in the draw order -> (name, kernel); the index is what get_params' fn_idx holds
_ADJUSTMENTS = (
    ("brightness", F._brightness),
    ("contrast", F._contrast),
    ("saturation", F._saturation),
    ("hue", F._hue),
)


class ColorJitter(RandomTransform):
    """Randomly changes brightness, contrast, saturation and hue, in a random order per image.

    Args:
        brightness, contrast, saturation: b (factor drawn in [max(0, 1 - b), 1 + b]) or (min, max); 0 = off.
        hue: h in [0, 0.5] (shift drawn in [-h, h] turns) or (min, max) inside [-0.5, 0.5]; 0 = off.
    Brightness and contrast work on 1- or 3-channel images; saturation and hue need RGB (3 channels).
    """

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0, generator=None):
        super().__init__(generator)
        self.brightness = self._range(brightness, "brightness")
        self.contrast = self._range(contrast, "contrast")
        self.saturation = self._range(saturation, "saturation")
        self.hue = self._range(hue, "hue", center=0.0, bound=(-0.5, 0.5))

    @staticmethod
    def _range(value, name, center=1.0, bound=(0.0, float("inf"))):
        lo, hi = number_range(value, name, "ColorJitter", center=center, bound=bound, non_negative=center == 1.0)
        return None if lo == hi == center else (lo, hi)  # an identity range switches the adjustment off

    @staticmethod
    def get_params(brightness, contrast, saturation, hue, generator=None):
        """(fn_idx, b, c, s, h): the order (a permutation of 0..3 = brightness, contrast, saturation, hue) and
        a factor for each range that is not None (else None)."""
        rng = numpy_rng(generator)
        order = rng.permutation(4)
        factors = [
            None if r is None else float(rng.uniform(r[0], r[1])) for r in (brightness, contrast, saturation, hue)
        ]
        return (order, *factors)

    def draw_params(self, n, image_shape):
        rng = self._rng()
        # argsort of uniform keys: an independent uniform permutation per row
        params = {"order": np.argsort(rng.random((n, 4)), axis=1)}
        for name, _ in _ADJUSTMENTS:
            r = getattr(self, name)
            params[name] = None if r is None else rng.uniform(r[0], r[1], size=n)
        return params

    def apply_params(self, x, params):
        c = x.shape[1]
        if (self.saturation is not None or self.hue is not None) and c != 3:
            raise ValueError(
                f"[ColorJitter] saturation and hue need RGB images (3 channels), got shape "
                f"{tuple(x.shape[1:])}; use brightness/contrast only for {c}-channel images"
            )
        if self.contrast is not None and c not in (1, 3):
            raise ValueError(f"[ColorJitter] contrast needs 1 or 3 channels, got shape {tuple(x.shape[1:])}")
        factors = [params[name] for name, _ in _ADJUSTMENTS]
        return F._by_chunks(self._apply_chunk, x, x[0].size, params["order"], *factors)

    @staticmethod
    def _apply_chunk(x, order, *factors):
        out = x
        for step in range(4):
            for k, (_, kernel) in enumerate(_ADJUSTMENTS):
                f = factors[k]
                if f is None:
                    continue
                sel = order[:, step] == k
                if sel.all():
                    out = kernel(out, f)
                elif sel.any():
                    if out is x:
                        out = x.copy()
                    out[sel] = kernel(out[sel], f[sel])
        return out

    def __repr__(self):
        return (
            f"ColorJitter(brightness={self.brightness}, contrast={self.contrast}, "
            f"saturation={self.saturation}, hue={self.hue})"
        )


class Grayscale(Transform):
    """RGB -> luma (0.2989 R + 0.587 G + 0.114 B), as 1 channel or repeated to 3 (num_output_channels)."""

    def __init__(self, num_output_channels=1):
        if num_output_channels not in (1, 3):
            raise ValueError(f"[Grayscale] num_output_channels must be 1 or 3, got {num_output_channels}")
        self.num_output_channels = num_output_channels

    def forward(self, x):
        return self.forward_batch(x[None])[0]

    def forward_batch(self, x):
        return F._grayscale(x, self.num_output_channels, "Grayscale")

    def __repr__(self):
        return f"Grayscale(num_output_channels={self.num_output_channels})"


class RandomGrayscale(RandomTransform):
    """Converts to grayscale with probability p, keeping the number of channels (3 stay 3)."""

    def __init__(self, p=0.1, generator=None):
        super().__init__(generator)
        self.p = check_p(p, "RandomGrayscale")

    def draw_params(self, n, image_shape):
        return {"gray": self._rng().random(n) < self.p}

    def apply_params(self, x, params):
        gray = params["gray"]
        if not gray.any():
            return x.copy()
        g = F._grayscale(x, x.shape[1], "RandomGrayscale")
        return np.where(gray[:, None, None, None], g, x)

    def __repr__(self):
        return f"RandomGrayscale(p={self.p})"
