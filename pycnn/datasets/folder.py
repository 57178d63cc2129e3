"""ImageFolder and DatasetFolder: one sub-folder per class, images decoded one sample at a time.

    root/dog/xxx.png, root/dog/xxy.jpg, ..., root/cat/123.png  ->  classes ['cat', 'dog'] (sorted)

Images are decoded with Pillow (imported lazily: the "images" extra) and follow the same sample protocol as
ArrayImageDataset: float32 (C, H, W) in [0, 1], then the transform. Images may differ in size; a transform
such as Resize makes them batchable. There is no __getitems__: the DataLoader collates per sample.
"""

import contextlib
import os
import struct
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..data import Dataset
from ..serialization import open_file, path_arg
from .base import to_float_image

__all__ = ["IMG_EXTENSIONS", "DatasetFolder", "ImageFolder", "find_classes", "make_dataset", "pil_loader"]

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
_MODE_CHANNELS = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}


def _pil_image():
    try:
        from PIL import Image
    except ImportError:
        raise ImportError('[ImageFolder] reading images needs Pillow: pip install "pycnn[images]"') from None
    return Image


@contextlib.contextmanager
def _decoding(path):
    """Turn what Pillow raises on a file it cannot decode into a RuntimeError naming the file. Its decoders
    raise more than OSError (UnidentifiedImageError, "image file is truncated"); the bomb error is its
    refusal of an image of too many pixels."""
    try:
        yield
    except (OSError, ValueError, SyntaxError, EOFError, struct.error, _pil_image().DecompressionBombError) as e:
        raise RuntimeError(f"[ImageFolder] cannot decode {path}: {type(e).__name__}: {e}") from None


def pil_loader(path, mode="RGB"):
    """Open an image file with Pillow and convert it to `mode` ('RGB', 'L', 'RGBA' or 'LA').

    Raises:
        TypeError when path is not a path; FileNotFoundError (or the OSError open raised) naming the file
        when it cannot be opened; RuntimeError naming the file when Pillow cannot decode it.
    """
    with open_file(path, "rb", "pil_loader") as f, _decoding(path):
        return _pil_image().open(f).convert(mode)  # convert() decodes now, while the file is open


def find_classes(directory):
    """Sorted class sub-folder names of `directory` and the {name: index} map."""
    return _find_classes(directory, "find_classes")


def _find_classes(directory, op):
    directory = Path(path_arg(directory, op))
    if not directory.is_dir():
        raise RuntimeError(f"[{op}] {directory} is not a folder")
    classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir() and not entry.name.startswith("."))
    if not classes:
        raise RuntimeError(
            f"[{op}] no class sub-folders found in {directory} (expected {directory}/<class name>/<image files>)"
        )
    return classes, {name: i for i, name in enumerate(classes)}


def make_dataset(directory, class_to_idx, extensions=None, is_valid_file=None, allow_empty=False):
    """List (path, class index) for every valid file under each class folder, walked in sorted order.

    Args:
        directory: the root folder.
        class_to_idx: {class folder name: index}.
        extensions: accepted file-name endings (case-insensitive); used when is_valid_file is None.
        is_valid_file: callable(path) -> bool deciding which files count; excludes extensions.
        allow_empty: allow class folders without any valid file (else RuntimeError).
    """
    return _make_dataset(directory, class_to_idx, extensions, is_valid_file, allow_empty, "make_dataset")


def _make_dataset(directory, class_to_idx, extensions, is_valid_file, allow_empty, op):
    if (extensions is None) == (is_valid_file is None):
        raise ValueError(f"[{op}] Both extensions and is_valid_file cannot be None or not None at the same time")
    if is_valid_file is not None and not callable(is_valid_file):
        raise TypeError(f"[{op}] is_valid_file must be callable, got {type(is_valid_file).__name__}")
    if extensions is not None:
        extensions = (extensions,) if isinstance(extensions, str) else tuple(extensions)
        if not all(isinstance(e, str) for e in extensions):
            raise TypeError(f"[{op}] extensions must be str or a sequence of str, got {extensions!r}")
    if not isinstance(class_to_idx, Mapping):
        raise TypeError(f"[{op}] class_to_idx must be a dict of class name -> index, got {type(class_to_idx).__name__}")
    directory = path_arg(directory, op)
    if is_valid_file is None:
        endings = tuple(e.lower() for e in extensions)
        is_valid_file = lambda path: str(path).lower().endswith(endings)
    directory = Path(directory)
    samples, empty = [], []
    for name, index in sorted(class_to_idx.items(), key=lambda item: item[1]):
        before = len(samples)
        for dirpath, dirnames, filenames in os.walk(directory / name, followlinks=True):
            dirnames.sort()  # os.walk descends in this order: keep the listing reproducible
            for filename in sorted(filenames):
                path = os.path.join(dirpath, filename)
                if is_valid_file(path):
                    samples.append((path, index))
        if len(samples) == before:
            empty.append(name)
    if empty and not allow_empty:
        what = f"extensions {', '.join(extensions)}" if extensions is not None else "is_valid_file"
        raise RuntimeError(f"[{op}] no valid image files (by {what}) in the class folder(s) {empty} of {directory}")
    return samples


class DatasetFolder(Dataset):
    """Samples arranged as root/<class>/<file>, loaded by `loader`.

    Args:
        root: the folder of class folders.
        loader: callable(path) returning a PIL image or an array (see ImageFolder).
        extensions: accepted file-name endings; exclusive with is_valid_file.
        transform: called on each float32 (C, H, W) image in [0, 1].
        target_transform: called on each int target.
        is_valid_file: callable(path) -> bool; exclusive with extensions.
        allow_empty: allow class folders without files.

    Attributes:
        classes (sorted folder names), class_to_idx, samples (list of (path, class index)), imgs (alias),
        targets (int64 array).
    """

    def __init__(
        self,
        root,
        loader,
        extensions=None,
        transform=None,
        target_transform=None,
        is_valid_file=None,
        allow_empty=False,
    ):
        name = type(self).__name__
        if not callable(loader):
            raise TypeError(f"[{name}] loader must be callable, got {type(loader).__name__}")
        for what, fn in (("transform", transform), ("target_transform", target_transform)):
            if fn is not None and not callable(fn):
                raise TypeError(f"[{name}] {what} must be callable, got {type(fn).__name__}")
        self.root = Path(path_arg(root, name)).expanduser()
        self.loader = loader
        self.extensions = extensions
        self.transform = transform
        self.target_transform = target_transform
        self.classes, self.class_to_idx = _find_classes(self.root, name)
        self.samples = _make_dataset(self.root, self.class_to_idx, extensions, is_valid_file, allow_empty, name)
        if not self.samples:
            raise RuntimeError(f"[{name}] no image files found under {self.root}")
        self.imgs = self.samples
        self.targets = np.asarray([target for _, target in self.samples], dtype=np.int64)

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        """Sample `index`: (float32 (C, H, W) image in [0, 1], int target), transforms applied."""
        path, target = self.samples[index]  # a list: negative indices and IndexError come for free
        image = to_float_image(np.asarray(self.loader(path)), type(self).__name__)
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __repr__(self):
        lines = [f"Number of datapoints: {len(self)}", f"Root location: {self.root}", f"Classes: {len(self.classes)}"]
        for what in ("transform", "target_transform"):
            if getattr(self, what) is not None:
                lines.append(f"{what}: {getattr(self, what)!r}")
        return f"Dataset {type(self).__name__}\n    " + "\n    ".join(lines)


class ImageFolder(DatasetFolder):
    """Images arranged as root/<class>/<image file>: PNG, JPEG, BMP, ... decoded with Pillow.

    Args:
        root: the folder of class folders (class indices follow the sorted folder names).
        transform: called on each float32 (C, H, W) image in [0, 1]; images keep their own size, so use
            a Resize/crop transform to batch images of different sizes.
        target_transform: called on each int target.
        loader: callable(path) returning a PIL image, a uint8 array (H, W) or (H, W, C), or a float
            array (C, H, W); default: Pillow, converted to `mode`.
        is_valid_file: callable(path) -> bool choosing the files; exclusive with extensions.
        extensions: accepted file-name endings (default IMG_EXTENSIONS, case-insensitive).
        mode: colour mode of the default loader: 'RGB' (default, as torchvision: 3 channels even for
            grayscale files), 'L' (1 channel), 'RGBA' or 'LA'.
        allow_empty: allow class folders without images (else RuntimeError).

    Attributes: those of DatasetFolder, plus num_channels (from mode) and image_shape.
    """

    def __init__(
        self,
        root,
        transform=None,
        target_transform=None,
        loader=None,
        is_valid_file=None,
        extensions=None,
        mode="RGB",
        allow_empty=False,
    ):
        if mode not in _MODE_CHANNELS:
            raise ValueError(f"[ImageFolder] mode must be one of {list(_MODE_CHANNELS)}, got {mode!r}")
        if extensions is None and is_valid_file is None:
            extensions = IMG_EXTENSIONS
        if loader is None:
            _pil_image()  # fail now, with the install hint, rather than at the first sample
            loader = _ModeLoader(mode)
        self.mode = mode
        super().__init__(root, loader, extensions, transform, target_transform, is_valid_file, allow_empty)

    @property
    def num_channels(self):
        return _MODE_CHANNELS[self.mode]

    @property
    def image_shape(self):
        """(C, H, W) of the first image (read from its header); other images may differ in size."""
        path = self.samples[0][0]
        with _decoding(path), _pil_image().open(path) as image:
            width, height = image.size
        return (self.num_channels, height, width)


class _ModeLoader:
    """pil_loader with a fixed mode (a class, not a lambda, so datasets stay picklable)."""

    def __init__(self, mode):
        self.mode = mode

    def __call__(self, path):
        return pil_loader(path, self.mode)
