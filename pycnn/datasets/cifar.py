"""CIFAR-10 and CIFAR-100 (torchvision's names and arguments) from either official distribution.

The "python version" is pickled dicts (cifar-10-batches-py/, cifar-100-python/), read with an unpickler
that only admits the few NumPy globals those files use, since pickles can run code. The "binary version"
is fixed-size records (label byte(s), then 3072 pixel bytes: 1024 red, 1024 green, 1024 blue, rows of 32).
Whichever is present under root is used; a .tar.gz archive lying in root is extracted first.
"""

import io
import pickle
import pickletools
from pathlib import Path

import numpy as np

from .._convert import bool_arg
from ..serialization import path_arg
from .base import ArrayImageDataset
from .utils import download_file, extract_archive

__all__ = ["CIFAR10", "CIFAR100"]

_PIXELS = 3 * 32 * 32


class _CifarUnpickler(pickle.Unpickler):
    """Unpickler for the CIFAR python batches: plain containers plus NumPy arrays, nothing else."""

    _ALLOWED = {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
    }

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a CIFAR batch")
        if module.startswith("numpy.core.") and hasattr(np, "_core"):  # NumPy 2 renamed numpy.core
            module = "numpy._core." + module[len("numpy.core.") :]
        return super().find_class(module, name)


def _text(value):
    """str from the str or bytes the pickles hold (Python 2 pickles store byte strings)."""
    return value.decode("latin1") if isinstance(value, bytes) else value


def _check_opcodes(raw):
    """Walk the pickle's opcodes in pure Python first: a length past the end of the data raises ValueError
    here, where the C unpickler would allocate it before reading (BYTEARRAY8 of 2**56 bytes: MemoryError),
    and so does a memo index past the number of opcodes, which would grow the memo to that size."""
    for count, (opcode, arg, _) in enumerate(pickletools.genops(raw)):
        if opcode.name in ("PUT", "BINPUT", "LONG_BINPUT") and arg > count:
            raise ValueError(f"memo index {arg} at opcode {count}")


def _load_pickle(path, name):
    """The dict stored in a CIFAR python file, with str keys."""
    raw = Path(path).read_bytes()
    try:
        _check_opcodes(raw)
        # latin1 maps Python 2 byte strings 1:1 (that is how NumPy arrays pickled by Python 2 load).
        obj = _CifarUnpickler(io.BytesIO(raw), encoding="latin1").load()
    except (
        pickle.UnpicklingError,
        EOFError,
        ValueError,
        TypeError,
        AttributeError,
        LookupError,  # IndexError, KeyError (memo), an unknown encoding for _codecs.encode
        ImportError,
        OverflowError,  # a FRAME or length opcode past sys.maxsize
    ) as e:
        raise RuntimeError(
            f"[{name}] cannot read {path}: not a valid CIFAR python batch ({type(e).__name__}: {e})"
        ) from None
    if not isinstance(obj, dict):
        raise RuntimeError(f"[{name}] {path} should hold a dict, found {type(obj).__name__}")
    return {_text(k): v for k, v in obj.items()}


def _python_batch(path, label_keys, name):
    """images uint8 (n, 3, 32, 32) and one int64 label array per key, from one pickled batch."""
    batch = _load_pickle(path, name)
    missing = [k for k in ("data",) + tuple(label_keys) if k not in batch]
    if missing:
        raise RuntimeError(f"[{name}] {path} lacks the key(s) {missing}; it has {sorted(batch)}")
    data = batch["data"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != _PIXELS:
        what = f"dtype {data.dtype} and shape {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise RuntimeError(f"[{name}] {path}: 'data' must be a uint8 array (n, {_PIXELS}), got {what}")
    labels = [_label_array(batch[k], path, k, name) for k in label_keys]
    for key, lab in zip(label_keys, labels):
        if lab.shape[0] != data.shape[0]:
            raise RuntimeError(f"[{name}] {path}: {data.shape[0]} images but {lab.shape[0]} '{key}'")
    return data.reshape(-1, 3, 32, 32), labels


def _label_array(values, path, key, name):
    """int64 (n,) labels from a batch's list (or array) of non-negative ints."""
    try:
        labels = np.asarray(values, dtype=np.int64).reshape(-1)
    except (ValueError, TypeError, OverflowError) as e:  # strings, ragged lists, ints past int64
        raise RuntimeError(f"[{name}] {path}: {key!r} must be a list of ints ({type(e).__name__}: {e})") from None
    if labels.size and labels.min() < 0:
        raise RuntimeError(f"[{name}] {path}: {key!r} holds the negative label {labels.min()}")
    return labels


def _binary_batch(path, label_bytes, name):
    """images uint8 (n, 3, 32, 32) and `label_bytes` int64 label arrays, from one binary batch file."""
    raw = np.fromfile(path, dtype=np.uint8)
    record = label_bytes + _PIXELS
    if raw.size == 0 or raw.size % record:
        raise RuntimeError(
            f"[{name}] {path} is truncated or not a CIFAR binary batch: {raw.size} bytes is not "
            f"a positive multiple of the {record}-byte record"
        )
    rows = raw.reshape(-1, record)
    labels = [rows[:, i].astype(np.int64) for i in range(label_bytes)]
    return rows[:, label_bytes:].reshape(-1, 3, 32, 32), labels


def _class_names(values, path, key, name):
    """Class names (str) from a python-version meta file's list of str or bytes."""
    if not isinstance(values, (list, tuple)) or not all(isinstance(v, (str, bytes)) for v in values):
        raise RuntimeError(f"[{name}] {path}: {key!r} must be a list of class names, got {values!r:.80}")
    return [_text(v) for v in values]


def _text_names(path):
    """Class names from a binary-version meta file: one per line, blank lines ignored."""
    return [line.strip() for line in Path(path).read_text(encoding="latin1").splitlines() if line.strip()]


class CIFAR10(ArrayImageDataset):
    """CIFAR-10: 60,000 32x32 colour images in 10 classes (50,000 train / 10,000 test).

    Args:
        root: folder holding cifar-10-batches-py/ (python version) or cifar-10-batches-bin/ (binary
            version), or one of those folders itself, or the .tar.gz archive of either (extracted here).
        train: the five training batches if True, else the test batch.
        transform: called on each float32 (3, 32, 32) image in [0, 1]; its `batch` method, if any, on
            batches (B, 3, 32, 32).
        target_transform: called on each int target (its `batch` method, if any, on int64 batches).
        download: if no copy is found, fetch the python-version archive over HTTPS into root, check its
            published MD5, and extract it.

    Samples follow ArrayImageDataset's protocol; `data` is uint8 (N, 32, 32, 3) (torchvision's layout),
    `targets` int64 (N,), `classes` the names from the dataset's meta file.
    """

    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    archives = ("cifar-10-python.tar.gz", "cifar-10-binary.tar.gz")
    # Per format: folder, files of each split, meta files, and (python) label keys / (binary) label bytes.
    formats = {
        "python": {
            "folder": "cifar-10-batches-py",
            "meta": ["batches.meta"],
            "train": [f"data_batch_{i}" for i in range(1, 6)],
            "test": ["test_batch"],
        },
        "binary": {
            "folder": "cifar-10-batches-bin",
            "meta": ["batches.meta.txt"],
            "train": [f"data_batch_{i}.bin" for i in range(1, 6)],
            "test": ["test_batch.bin"],
        },
    }
    label_keys = ("labels",)  # keys of the python batches, in the order _read returns them
    meta_keys = ("label_names",)
    label_bytes = 1  # leading label bytes of a binary record

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        if root is None:
            raise ValueError(f"[{type(self).__name__}] root is required: the folder holding the dataset")
        self.root = Path(path_arg(root, type(self).__name__)).expanduser()
        self.train = bool_arg(train, "train", type(self).__name__)
        self.format, self.folder = self._locate(download)
        images, labels, names = self._read()
        self._labels, self._names = labels, names
        targets, classes = self._select_labels()
        super().__init__(images, targets, classes, transform, target_transform)

    def _select_labels(self):
        """(targets, classes) this dataset exposes; CIFAR100 picks fine or coarse."""
        return self._labels[0], self._names[0]

    # ---------------------------------------------------------------------------------------- files

    def _split_files(self, fmt):
        spec = self.formats[fmt]
        return spec["train" if self.train else "test"] + spec["meta"]

    def _find(self):
        """(format, folder) of the first complete copy of this split under root, or None."""
        for fmt, spec in self.formats.items():
            for folder in (self.root / spec["folder"], self.root):
                if all((folder / f).is_file() for f in self._split_files(fmt)):
                    return fmt, folder
        return None

    def _locate(self, download):
        name = type(self).__name__
        found = self._find()
        for archive in self.archives:
            if found is None and (self.root / archive).is_file():
                extract_archive(self.root / archive, self.root, name)
                found = self._find()
        if found is None and download:
            download_file(self.url, self.root, self.filename, self.tgz_md5, name)
            extract_archive(self.root / self.filename, self.root, name)
            found = self._find()
        if found is None:
            looked = "; ".join(
                f"{spec['folder']}/{{{','.join(self._split_files(fmt))}}}" for fmt, spec in self.formats.items()
            )
            raise RuntimeError(
                f"[{name}] dataset not found under {self.root}: looked for {looked} (or "
                f"{' / '.join(self.archives)}); pass download=True to fetch it"
            )
        return found

    def _read(self):
        """images uint8 (N, 3, 32, 32), label arrays (one per label kind), class-name lists (same order)."""
        name = type(self).__name__
        spec = self.formats[self.format]
        parts = []
        for f in spec["train" if self.train else "test"]:
            path = self.folder / f
            if self.format == "python":
                parts.append(_python_batch(path, self.label_keys, name))
            else:
                parts.append(_binary_batch(path, self.label_bytes, name))
        images = np.concatenate([p[0] for p in parts])
        labels = [np.concatenate([p[1][k] for p in parts]) for k in range(len(parts[0][1]))]
        if self.format == "python":
            meta = _load_pickle(self.folder / spec["meta"][0], name)
            if any(k not in meta for k in self.meta_keys):
                raise RuntimeError(
                    f"[{name}] {self.folder / spec['meta'][0]} lacks {list(self.meta_keys)}; it has {sorted(meta)}"
                )
            names = [_class_names(meta[k], self.folder / spec["meta"][0], k, name) for k in self.meta_keys]
        else:
            # Records hold the label bytes in the file's order (CIFAR-100: coarse first); match label_keys.
            labels = self._binary_label_order(labels)
            names = [_text_names(self.folder / f) for f in spec["meta"]]
        for lab, classes in zip(labels, names):
            if lab.size and lab.max() >= len(classes):
                raise RuntimeError(
                    f"[{name}] label {lab.max()} found in {self.folder}, but the meta file "
                    f"names only {len(classes)} classes"
                )
        return images, labels, names

    def _binary_label_order(self, labels):
        return labels

    def extra_repr(self):
        return [f"Root location: {self.folder} ({self.format} version)", f"Split: {'Train' if self.train else 'Test'}"]


class CIFAR100(CIFAR10):
    """CIFAR-100: 60,000 32x32 colour images, 100 fine classes grouped into 20 coarse superclasses.

    Args:
        root, train, transform, target_transform, download: as for CIFAR10 (folders cifar-100-python/ or
            cifar-100-binary/, archives cifar-100-python.tar.gz / cifar-100-binary.tar.gz).
        label_type: 'fine' (default, torchvision's targets: 100 classes) or 'coarse' (20 superclasses);
            selects `targets` and `classes`.

    Both labelings stay available as `fine_targets` / `fine_classes` and `coarse_targets` /
    `coarse_classes`.
    """

    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    filename = "cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    archives = ("cifar-100-python.tar.gz", "cifar-100-binary.tar.gz")
    formats = {
        "python": {"folder": "cifar-100-python", "meta": ["meta"], "train": ["train"], "test": ["test"]},
        "binary": {
            "folder": "cifar-100-binary",
            "meta": ["fine_label_names.txt", "coarse_label_names.txt"],
            "train": ["train.bin"],
            "test": ["test.bin"],
        },
    }
    label_keys = ("fine_labels", "coarse_labels")
    meta_keys = ("fine_label_names", "coarse_label_names")
    label_bytes = 2

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False, label_type="fine"):
        if label_type not in ("fine", "coarse"):
            raise ValueError(f"[CIFAR100] label_type must be 'fine' or 'coarse', got {label_type!r}")
        self.label_type = label_type
        super().__init__(root, train, transform, target_transform, download)
        self.fine_targets, self.coarse_targets = self._labels
        self.fine_classes, self.coarse_classes = self._names

    def _select_labels(self):
        k = 0 if self.label_type == "fine" else 1
        return self._labels[k], self._names[k]

    def _binary_label_order(self, labels):
        coarse, fine = labels  # a CIFAR-100 binary record starts with the coarse byte
        return [fine, coarse]

    def extra_repr(self):
        return super().extra_repr() + [f"Labels: {self.label_type}"]
