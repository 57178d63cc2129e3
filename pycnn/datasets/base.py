"""ArrayImageDataset: the sample protocol every in-memory image dataset (MNIST family, CIFAR) shares.

Images stay uint8 (N, C, H, W) in memory and become float32 in [0, 1] only when asked for, one sample
(`ds[i]`) or one batch (`ds.__getitems__(indices)`, the DataLoader's fast path) at a time. Transforms
receive those float32 arrays (the uint8 -> float32 conversion is ToTensor's, data/transforms/_image.py).
Read ArrayImageDataset top to bottom; to_float_image above it is shared with ImageFolder.
"""

from numbers import Integral

import numpy as np

from ..data import Dataset
from ..data.dataset import _as_array
from ..data.transforms._image import pil_to_array, uint8_to_float

__all__ = ["ArrayImageDataset", "to_float_image"]


def to_float_image(image, name="image"):
    """A decoded image as float32 (C, H, W) in [0, 1].

    Args:
        image: uint8 array (H, W) or (H, W, C) (what np.asarray(PIL image) gives), or a float array
            (C, H, W), returned as float32 unchanged.
        name: prefix for error messages.
    """
    image = np.asarray(image)
    if image.dtype == np.uint8 and image.ndim in (2, 3):
        return pil_to_array(image, name)  # ToTensor's conversion of a decoded image
    if image.dtype.kind == "f" and image.ndim == 3:
        return image.astype(np.float32, copy=False)
    raise TypeError(
        f"[{name}] expected a uint8 image (H, W) or (H, W, C) or a float (C, H, W) array, "
        f"got dtype {image.dtype} and shape {image.shape}"
    )


def _stack(items, what):
    """Stack per-sample transform results (arrays or pc.Tensors) into one NumPy batch."""
    try:
        return np.stack([_as_array(np.asarray(x) if np.isscalar(x) else x, what) for x in items])
    except ValueError as e:  # different shapes per sample
        raise ValueError(f"[{what}] per-sample transform results cannot be batched: {e}") from None


class ArrayImageDataset(Dataset):
    """Images held as one uint8 array, with targets and class names.

    Sample protocol (shared with ImageFolder): `ds[i]` is `(image, target)` where, with transform=None,
    image is float32 (C, H, W) in [0, 1] and target an int; `transform(image)` and
    `target_transform(target)` are applied when given. `ds.__getitems__(indices)` returns the batch
    `(images (B, C, H, W) float32, targets (B,) int64)`, calling `transform.batch(images)` when the
    transform has a `batch` method (else the transform per sample), and likewise for target_transform.

    Args:
        images: uint8 array (N, C, H, W) (kept without a copy when already contiguous uint8).
        targets: integer array (N,), class indices in [0, len(classes)).
        classes: class names, index = label.
        transform, target_transform: callables, see above.
        name: prefix of error messages (subclasses pass their class name).

    Attributes:
        data: the images in torchvision's layout, a view: (N, H, W) for one channel, else (N, H, W, C).
        targets: int64 array (N,). classes: list of str. class_to_idx: dict.
        image_shape: (C, H, W) of the stored images (before any transform). num_channels: C.
    """

    def __init__(self, images, targets, classes, transform=None, target_transform=None, name=None):
        self._name = name or type(self).__name__
        images = np.asarray(images)
        targets = np.asarray(targets)
        if images.dtype != np.uint8 or images.ndim != 4:
            raise ValueError(
                f"[{self._name}] images must be uint8 (N, C, H, W), got dtype {images.dtype} and shape {images.shape}"
            )
        if targets.ndim != 1 or targets.dtype.kind not in "iu":
            raise ValueError(
                f"[{self._name}] targets must be a 1-D integer array, got dtype {targets.dtype} "
                f"and shape {targets.shape}"
            )
        if images.shape[0] != targets.shape[0]:
            raise ValueError(f"[{self._name}] {images.shape[0]} images but {targets.shape[0]} targets")
        classes = list(classes)
        if targets.size and (targets.min() < 0 or targets.max() >= len(classes)):
            raise ValueError(
                f"[{self._name}] targets must lie in [0, {len(classes)}) (one per class), "
                f"found values in [{targets.min()}, {targets.max()}]"
            )
        for what, fn in (("transform", transform), ("target_transform", target_transform)):
            if fn is not None and not callable(fn):
                raise TypeError(f"[{self._name}] {what} must be callable, got {type(fn).__name__}")
        self._images = np.ascontiguousarray(images)
        self.targets = targets.astype(np.int64, copy=False)
        self.classes = classes
        self.transform = transform
        self.target_transform = target_transform

    # ------------------------------------------------------------------------------------ description

    @property
    def data(self):
        """The uint8 images in torchvision's layout (a view): (N, H, W) if C == 1, else (N, H, W, C)."""
        if self._images.shape[1] == 1:
            return self._images[:, 0]
        return self._images.transpose(0, 2, 3, 1)

    @data.setter
    def data(self, images):
        # torchvision users trim datasets with `ds.data = ds.data[:n]; ds.targets = ds.targets[:n]`.
        images = np.asarray(images)
        if images.dtype != np.uint8 or images.ndim not in (3, 4):
            raise ValueError(
                f"[{self._name}] data must be uint8 (N, H, W) or (N, H, W, C), got dtype "
                f"{images.dtype} and shape {images.shape}"
            )
        chw = images[:, None] if images.ndim == 3 else images.transpose(0, 3, 1, 2)
        self._images = np.ascontiguousarray(chw)

    @property
    def class_to_idx(self):
        return {name: i for i, name in enumerate(self.classes)}

    @property
    def image_shape(self):
        """(C, H, W) of the stored images; a transform such as Resize may change what samples look like."""
        return tuple(self._images.shape[1:])

    @property
    def num_channels(self):
        return self._images.shape[1]

    def __len__(self):
        return self._images.shape[0]

    def extra_repr(self):
        """Extra lines for repr (subclasses add root, split, ...)."""
        return []

    def __repr__(self):
        lines = [
            f"Number of datapoints: {len(self)}",
            f"Image shape (C, H, W): {self.image_shape}",
            f"Classes: {len(self.classes)}",
        ] + self.extra_repr()
        for what in ("transform", "target_transform"):
            if getattr(self, what) is not None:
                lines.append(f"{what}: {getattr(self, what)!r}")
        return f"Dataset {self._name}\n    " + "\n    ".join(lines)

    # ----------------------------------------------------------------------------------- the protocol

    def _check_index(self, index):
        if isinstance(index, bool) or not isinstance(index, Integral):
            raise TypeError(f"[{self._name}] index must be an int, got {type(index).__name__}")
        n = len(self)
        if not -n <= index < n:
            # IndexError (not ValueError): `for sample in ds` relies on it to stop.
            raise IndexError(f"[{self._name}] index {index} is out of range for {n} samples")
        return int(index) % n

    def __getitem__(self, index):
        """Sample `index`: (float32 (C, H, W) image in [0, 1], int target), transforms applied."""
        i = self._check_index(index)
        image = uint8_to_float(self._images[i])
        target = int(self.targets[i])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __getitems__(self, indices):
        """A batch: (float32 (B, C, H, W) images, (B,) targets), one gather and one conversion per batch."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = len(self)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(
                f"[{self._name}] indices must lie in [{-n}, {n}), got values in [{idx.min()}, {idx.max()}]"
            )
        images = uint8_to_float(self._images[idx])
        targets = self.targets[idx]
        if self.transform is not None:
            if hasattr(self.transform, "batch"):
                images = self.transform.batch(images)
            else:
                images = _stack([self.transform(image) for image in images], self._name)
        if self.target_transform is not None:
            if hasattr(self.target_transform, "batch"):
                targets = self.target_transform.batch(targets)
            else:
                targets = np.asarray([self.target_transform(int(t)) for t in targets])
        return images, targets
