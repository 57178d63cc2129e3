"""The transform protocol and the transforms that are not geometric or colour ones: Transform and
RandomTransform (the base classes), Compose, Lambda, RandomApply / RandomChoice / RandomOrder, ToTensor,
Normalize with compute_mean_std, and RandomErasing.

A transform is called on one image, `t(img)`, and has `t.batch(imgs)` for a whole (N, C, H, W) batch.
Random transforms split into draw_params (one vectorised draw of per-sample parameter arrays) and
apply_params (the vectorised kernel), so single and batch calls share one code path.
"""

from numbers import Real

import numpy as np

from ...tensor import Tensor
from . import functional as F
from ._image import _tensor_to_array, as_batch, as_image, check_p, numpy_rng

__all__ = [
    "Compose",
    "Lambda",
    "Normalize",
    "RandomApply",
    "RandomChoice",
    "RandomErasing",
    "RandomOrder",
    "RandomTransform",
    "ToTensor",
    "Transform",
    "compute_mean_std",
]


class Transform:
    """Base class. A subclass defines forward(x) on a float (C, H, W) array; __call__ converts the caller's
    image to that and back. .batch(imgs) runs forward_batch on a float (N, C, H, W) array, which by default
    loops over the samples: vectorised subclasses override it."""

    def __call__(self, img):
        x, restore = as_image(img, type(self).__name__)
        return restore(self.forward(x))

    def batch(self, imgs):
        """The transform on every image of a batch (N, C, H, W) (ndarray or Tensor, or a list of images);
        random transforms draw independent parameters per sample."""
        x, restore = as_batch(imgs, type(self).__name__)
        return restore(self.forward_batch(x))

    def forward(self, x):
        name = type(self).__name__
        raise NotImplementedError(f"[{name}] {name} must define forward(x) (or override __call__)")

    def forward_batch(self, x):
        return _stack([self.forward(xi) for xi in x], type(self).__name__)

    def __repr__(self):
        return f"{type(self).__name__}()"


def _stack(outputs, op):
    shapes = {np.shape(o) for o in outputs}
    if len(shapes) > 1:
        raise ValueError(
            f"[{op}] batch(): the samples came out with different shapes {sorted(shapes)}; they "
            f"cannot be stacked into one batch"
        )
    return np.stack(outputs)


def random_box_sides(rng, n, area, scale, ratio):
    """torchvision's box draws of RandomErasing and RandomResizedCrop, 10 tries for each of n images: an
    area of area * U(scale) and an aspect ratio r = exp(U(log ratio)) give the sides sqrt(area * r) and
    sqrt(area / r), rounded half to even (as round()); two (n, 10) int64 arrays."""
    log_ratio = np.log(ratio)
    target = area * rng.uniform(scale[0], scale[1], size=(n, 10))
    aspect = np.exp(rng.uniform(log_ratio[0], log_ratio[1], size=(n, 10)))
    side_times_r = np.rint(np.sqrt(target * aspect)).astype(np.int64)
    side_over_r = np.rint(np.sqrt(target / aspect)).astype(np.int64)
    return side_times_r, side_over_r


class RandomTransform(Transform):
    """Base class of random transforms.

    draw_params(n, image_shape) draws the parameters of n samples at once (a dict of arrays of length n)
    from the generator; apply_params(x, params) applies them to x (n, C, H, W), each sample its own. A call
    on one image is a batch of one.

    Args:
        generator (Generator): the stream to draw from; None means default_generator(), looked up at
            every call (so the DataLoader's per-worker reseeding takes effect).
    """

    def __init__(self, generator=None):
        if generator is not None:
            numpy_rng(generator, type(self).__name__)  # type check
        self.generator = generator

    def _rng(self):
        return numpy_rng(self.generator, type(self).__name__)

    def forward(self, x):
        return self.forward_batch(x[None])[0]

    def forward_batch(self, x):
        return self.apply_params(x, self.draw_params(x.shape[0], x.shape[1:]))

    def draw_params(self, n, image_shape):
        raise NotImplementedError

    def apply_params(self, x, params):
        raise NotImplementedError


def _loop_batch(fn, imgs, op):
    """Applies a per-sample callable to each image of a batch; samples are handed over (and results taken
    back) in the batch's own kind, ndarray or Tensor."""
    x, restore = as_batch(imgs, op)
    outs = []
    for xi in x:
        out = fn(restore(xi))
        outs.append(_tensor_to_array(out) if isinstance(out, Tensor) else np.asarray(out))
    return restore(_stack(outs, op))


def _batch_of(t, imgs, op):
    return t.batch(imgs) if hasattr(t, "batch") else _loop_batch(t, imgs, op)


def _transform_list(transforms, op):
    if callable(transforms) or not hasattr(transforms, "__iter__") or isinstance(transforms, (str, bytes)):
        raise TypeError(f"[{op}] expected a list of transforms, got {type(transforms).__name__}")
    transforms = list(transforms)
    for t in transforms:
        if not callable(t):
            raise TypeError(f"[{op}] every transform must be callable, got {type(t).__name__}")
    return transforms


def _list_repr(name, transforms, extra=""):
    body = "".join(f"\n    {t}" for t in transforms)
    return f"{name}({extra}{body}\n)"


class Compose(Transform):
    """Chains transforms: Compose([RandomCrop(32, 4), RandomHorizontalFlip(), Normalize(m, s)]).

    .batch chains each transform's .batch (plain callables without one run per sample)."""

    def __init__(self, transforms):
        self.transforms = _transform_list(transforms, "Compose")

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def batch(self, imgs):
        for t in self.transforms:
            imgs = _batch_of(t, imgs, "Compose")
        return imgs

    def __repr__(self):
        return _list_repr("Compose", self.transforms)


class Lambda(Transform):
    """A user function as a transform. It receives the image as given (no conversion).

    Args:
        lambd: callable on one image.
        batched (bool): lambd also accepts a whole batch (N, C, H, W); otherwise .batch calls it per sample.
    """

    def __init__(self, lambd, batched=False):
        if not callable(lambd):
            raise TypeError(f"[Lambda] lambd must be callable, got {type(lambd).__name__}")
        self.lambd = lambd
        self.batched = bool(batched)

    def __call__(self, img):
        return self.lambd(img)

    def batch(self, imgs):
        return self.lambd(imgs) if self.batched else _loop_batch(self.lambd, imgs, "Lambda")

    def __repr__(self):
        return f"Lambda(batched={self.batched})" if self.batched else "Lambda()"


class RandomApply(RandomTransform):
    """Applies the list of transforms with probability p (one draw per sample, the whole list or nothing).
    In .batch the chosen samples go through the list's .batch together; it must keep the image shape."""

    def __init__(self, transforms, p=0.5, generator=None):
        super().__init__(generator)
        self.transforms = _transform_list(transforms, "RandomApply")
        self.p = check_p(p, "RandomApply")

    def __call__(self, img):
        if self._rng().random() >= self.p:
            return img
        for t in self.transforms:
            img = t(img)
        return img

    def batch(self, imgs):
        x, restore = as_batch(imgs, "RandomApply")
        chosen = self._rng().random(x.shape[0]) < self.p
        if not chosen.any():
            return restore(x.copy())
        part = np.asarray(_as_numpy(Compose(self.transforms).batch(x[chosen])))
        if part.shape[1:] != x.shape[1:]:
            raise ValueError(
                f"[RandomApply] batch(): the transforms change the image shape {x.shape[1:]} -> "
                f"{part.shape[1:]}, so applied and skipped samples cannot share one batch"
            )
        out = x.astype(np.result_type(x, part), copy=True)
        out[chosen] = part
        return restore(out)

    def __repr__(self):
        return _list_repr("RandomApply", self.transforms, f"\n    p={self.p}")


def _as_numpy(a):
    return _tensor_to_array(a) if isinstance(a, Tensor) else a


class RandomChoice(RandomTransform):
    """Applies one transform picked at random from the list (with probabilities p, default uniform).
    In .batch each sample picks its own; every transform must give the same output shape."""

    def __init__(self, transforms, p=None, generator=None):
        super().__init__(generator)
        self.transforms = _transform_list(transforms, "RandomChoice")
        if not self.transforms:
            raise ValueError("[RandomChoice] needs at least one transform")
        if p is not None:
            p = [float(v) for v in p]
            if len(p) != len(self.transforms) or min(p) < 0 or sum(p) <= 0:
                raise ValueError(
                    f"[RandomChoice] p must hold one non-negative weight per transform "
                    f"({len(self.transforms)}), not all zero, got {p}"
                )
        self.p = p

    def _choose(self, n):
        probs = None if self.p is None else np.asarray(self.p) / sum(self.p)
        return self._rng().choice(len(self.transforms), size=n, p=probs)

    def __call__(self, img):
        return self.transforms[int(self._choose(1)[0])](img)

    def batch(self, imgs):
        x, restore = as_batch(imgs, "RandomChoice")
        choice = self._choose(x.shape[0])
        out = None
        for k in np.unique(choice):
            sel = choice == k
            part = np.asarray(_as_numpy(_batch_of(self.transforms[k], x[sel], "RandomChoice")))
            if out is None:
                out = np.empty((x.shape[0],) + part.shape[1:], dtype=part.dtype)
            elif part.shape[1:] != out.shape[1:]:
                raise ValueError(
                    f"[RandomChoice] batch(): the transforms give different shapes {out.shape[1:]} "
                    f"and {part.shape[1:]}; they cannot share one batch"
                )
            out[sel] = part
        return restore(out)

    def __repr__(self):
        return _list_repr("RandomChoice", self.transforms, f"\n    p={self.p}")


class RandomOrder(RandomTransform):
    """Applies the transforms in a random order (.batch: per sample, not vectorised)."""

    def __init__(self, transforms, generator=None):
        super().__init__(generator)
        self.transforms = _transform_list(transforms, "RandomOrder")

    def __call__(self, img):
        for k in self._rng().permutation(len(self.transforms)):
            img = self.transforms[k](img)
        return img

    def batch(self, imgs):
        return _loop_batch(self, imgs, "RandomOrder")

    def __repr__(self):
        return _list_repr("RandomOrder", self.transforms)


class ToTensor(Transform):
    """PIL image or (H, W) / (H, W, C) array -> float32 (C, H, W) array in [0, 1] (uint8 divided by 255).

    A float (C, H, W) array (what the datasets hand out) passes through as float32, so torchvision-style
    recipes that end with ToTensor() work unchanged. .batch takes uint8 (N, H, W, C) / (N, H, W) arrays, float
    (N, C, H, W) ones, or a list of images."""

    def __call__(self, pic):
        return F.to_tensor(pic)

    def batch(self, imgs):
        x, restore = as_batch(imgs, "ToTensor")
        return restore(np.ascontiguousarray(x, dtype=np.float32))


class Normalize(Transform):
    """(x - mean[c]) / std[c] per channel.

    Args:
        mean, std: sequences with one value per channel (or one value for all).
        inplace (bool): write into the given float array / Tensor instead of a new one.
    """

    def __init__(self, mean, std, inplace=False):
        self.mean = [float(m) for m in np.asarray(mean, dtype=np.float64).reshape(-1)]
        self.std = [float(s) for s in np.asarray(std, dtype=np.float64).reshape(-1)]
        if not self.mean or len(self.mean) != len(self.std) and 1 not in (len(self.mean), len(self.std)):
            raise ValueError(f"[Normalize] mean and std need the same number of values, got {self.mean} and {self.std}")
        if any(s == 0 for s in self.std):
            raise ValueError(f"[Normalize] std must not contain zeros, got {self.std}")
        self.inplace = bool(inplace)

    def __call__(self, img):
        return F.normalize(img, self.mean, self.std, self.inplace)

    def batch(self, imgs):
        if (
            isinstance(imgs, (np.ndarray, Tensor))
            and imgs.ndim == 4
            and (isinstance(imgs, Tensor) or imgs.dtype.kind == "f")
        ):
            return F.normalize(imgs, self.mean, self.std, self.inplace)
        x, restore = as_batch(imgs, "Normalize")
        return restore(F._normalize_array(x, self.mean, self.std, False, "Normalize"))

    def __repr__(self):
        return f"Normalize(mean={self.mean}, std={self.std})"


def _chunk_images(data, start, stop):
    """Images start..stop-1 of an array, Tensor or dataset as a float (n, C, H, W) array."""
    if isinstance(data, (np.ndarray, Tensor)):
        return as_batch(data[start:stop], "compute_mean_std")[0]
    indices = list(range(start, stop))
    getitems = getattr(data, "__getitems__", None)
    if getitems is not None:
        got = getitems(indices)
        # datasets return one batched array per field (pycnn) or a list of samples (torch's convention)
        if (
            isinstance(got, (list, tuple))
            and len(got) == len(indices)
            and all(isinstance(s, (list, tuple)) for s in got)
        ):
            samples = [s[0] for s in got]
        else:
            return as_batch(got[0] if isinstance(got, (list, tuple)) else got, "compute_mean_std")[0]
    else:
        samples = [data[i] for i in indices]
        samples = [s[0] if isinstance(s, (list, tuple)) else s for s in samples]
    return as_batch(list(samples), "compute_mean_std")[0]


def compute_mean_std(dataset_or_array, batch_size=1024):
    """Per-channel mean and standard deviation of all pixels of a dataset, for Normalize.

    Args:
        dataset_or_array: an (N, C, H, W) array / Tensor, or a dataset whose samples are images or
            (image, ...) tuples; it is read in chunks of batch_size through __getitems__ when it has one.
        batch_size (int): images per chunk.
    Returns:
        (mean, std): float64 arrays of shape (C,); std is the population one (ddof=0).

    Chunks are merged with Chan et al.'s parallel update of (count, mean, M2) in float64, so a large
    dataset with a big mean loses no precision (no E[x^2] - E[x]^2 cancellation).
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"[compute_mean_std] batch_size must be a positive int, got {batch_size!r}")
    n_images = len(dataset_or_array)
    if n_images == 0:
        raise ValueError("[compute_mean_std] the dataset is empty")
    count, mean, m2 = 0, None, None
    for start in range(0, n_images, batch_size):
        x = _chunk_images(dataset_or_array, start, min(start + batch_size, n_images))
        x = np.moveaxis(x, 1, 0).reshape(x.shape[1], -1).astype(np.float64)
        n_b = x.shape[1]
        mean_b = x.mean(axis=1)
        m2_b = ((x - mean_b[:, None]) ** 2).sum(axis=1)
        if mean is None:
            count, mean, m2 = n_b, mean_b, m2_b
            continue
        if mean_b.shape != mean.shape:
            raise ValueError(f"[compute_mean_std] images have {mean.shape[0]} and {mean_b.shape[0]} channels")
        delta = mean_b - mean
        total = count + n_b
        mean = mean + delta * (n_b / total)
        m2 = m2 + m2_b + delta**2 * (count * n_b / total)
        count = total
    return mean, np.sqrt(m2 / count)


class RandomErasing(RandomTransform):
    """Erases a random rectangle with probability p (Zhong et al., 2017), as torchvision.

    Args:
        p (float): probability of erasing each image.
        scale ((float, float)): range of the erased area, as a fraction of the image area.
        ratio ((float, float)): range of the box's aspect ratio (height / width).
        value: number, one value per channel, or 'random' (standard normal noise per pixel).
        inplace (bool): write into the given float array.
    After 10 draws with no box that fits, the image is left as it is.
    """

    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace=False, generator=None):
        super().__init__(generator)
        self.p = check_p(p, "RandomErasing")
        if isinstance(value, str) and value != "random":
            raise ValueError(f"[RandomErasing] value must be a number, a sequence or 'random', got {value!r}")
        if not isinstance(value, (Real, str, tuple, list)) or isinstance(value, bool):
            raise TypeError(f"[RandomErasing] value must be a number, a sequence or 'random', got {value!r}")
        for name, v in (("scale", scale), ("ratio", ratio)):
            if not (isinstance(v, (tuple, list)) and len(v) == 2):
                raise TypeError(f"[RandomErasing] {name} must be a pair (min, max), got {v!r}")
            if v[0] > v[1]:
                raise ValueError(f"[RandomErasing] {name} must be (min, max) with min <= max, got {v}")
        if scale[0] < 0 or scale[1] > 1:
            raise ValueError(f"[RandomErasing] scale must lie in [0, 1], got {scale}")
        if ratio[0] <= 0:
            raise ValueError(f"[RandomErasing] ratio must be positive, got {ratio}")
        self.scale, self.ratio = tuple(scale), tuple(ratio)
        self.value, self.inplace = value, bool(inplace)

    @staticmethod
    def _draw_boxes(rng, n, h, w, scale, ratio):
        """(top, left, height, width) arrays; height = width = 0 where no draw fitted."""
        bh, bw = random_box_sides(rng, n, h * w, scale, ratio)  # ratio is height / width here
        fits = (bh < h) & (bw < w)
        first = fits.argmax(axis=1)  # the first of the 10 tries that fits, as torchvision
        found = fits.any(axis=1)
        rows = np.arange(n)
        bh = np.where(found, bh[rows, first], 0)
        bw = np.where(found, bw[rows, first], 0)
        top = rng.integers(0, h - bh + 1)
        left = rng.integers(0, w - bw + 1)
        return top, left, bh, bw

    @staticmethod
    def get_params(img, scale, ratio, value=None, generator=None):
        """(i, j, h, w, v) of one erasing of img (C, H, W); v is value per channel, or normal noise when
        value is None; (0, 0, H, W, img) when no box fitted (torchvision's contract)."""
        x = as_image(img, "RandomErasing")[0]
        c, h, w = x.shape
        rng = numpy_rng(generator)
        top, left, bh, bw = RandomErasing._draw_boxes(rng, 1, h, w, scale, ratio)
        i, j, eh, ew = int(top[0]), int(left[0]), int(bh[0]), int(bw[0])
        if eh == 0 and ew == 0:
            return 0, 0, h, w, img
        if value is None:
            v = rng.standard_normal((c, eh, ew)).astype(np.float32)
        else:
            v = np.broadcast_to(np.asarray(value, dtype=np.float32).reshape(-1, 1, 1), (c, 1, 1))
        return i, j, eh, ew, v

    def draw_params(self, n, image_shape):
        c, h, w = image_shape
        rng = self._rng()
        erase = rng.random(n) < self.p
        top, left, bh, bw = self._draw_boxes(rng, n, h, w, self.scale, self.ratio)
        bh, bw = np.where(erase, bh, 0), np.where(erase, bw, 0)
        if self.value == "random":
            value = rng.standard_normal((n, c, h, w)) if erase.any() else np.zeros(c)
        else:
            value = np.asarray(self.value, dtype=np.float64).reshape(-1)
            if value.size not in (1, c):
                raise ValueError(f"[RandomErasing] value needs 1 or {c} values (one per channel), got {value.size}")
            value = np.broadcast_to(value, (c,))
        return {"top": top, "left": left, "height": bh, "width": bw, "value": value}

    def apply_params(self, x, params):
        return F._erase_per_sample(
            x, params["top"], params["left"], params["height"], params["width"], params["value"], inplace=self.inplace
        )

    def __repr__(self):
        return (
            f"RandomErasing(p={self.p}, scale={self.scale}, ratio={self.ratio}, value={self.value}, "
            f"inplace={self.inplace})"
        )
