"""Tests for pycnn.datasets' real-format readers: IDX (MNIST family), CIFAR (python and binary versions),
ImageFolder (PNG/JPEG via Pillow), archives, checksummed downloads, and get_dataset.

Every file is written here, in tmp_path, in the real on-disk format by code independent of the readers
(struct-packed IDX headers, pickles with the original byte-string keys, raw CIFAR records, Pillow images),
then read back. Nothing is downloaded: the download path runs on file:// URLs. When Debian's
dataset-fashion-mnist is installed, the real 70,000 Fashion-MNIST images are checked too.
"""

import gzip
import hashlib
import io
import os
import pickle
import shutil
import struct
import tarfile
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import pycnn as pc
from pycnn.data import DataLoader, Subset
from pycnn.datasets import (
    CIFAR10,
    CIFAR100,
    KMNIST,
    MNIST,
    FashionMNIST,
    ImageFolder,
    MNISTSubset,
    extract_archive,
    get_dataset,
    load_mnist_subset_arrays,
    read_idx,
)
from pycnn.datasets import utils as dl_utils

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


# ------------------------------------------------------------------------------------- file writers


def idx_bytes(array, code):
    """An IDX file's bytes, written from the format's definition (not with the reader's code)."""
    big_endian = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[code]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=big_endian).tobytes()


def write_idx(path, array, code=0x08, gz=False):
    data = idx_bytes(array, code)
    Path(path).write_bytes(gzip.compress(data) if gz else data)


def make_mnist(folder, rng, n_train=12, n_test=7, gz=True, dotted=False):
    """The four MNIST files in `folder`; returns the arrays written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n).astype(np.uint8)
        sep = "." if dotted else "-"
        ext = ".gz" if gz else ""
        write_idx(folder / f"{prefix}-images{sep}idx3-ubyte{ext}", images, gz=gz)
        write_idx(folder / f"{prefix}-labels{sep}idx1-ubyte{ext}", labels, gz=gz)
        arrays[prefix] = (images, labels)
    return arrays


CIFAR10_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def make_cifar10_python(root, rng, per_batch=6, protocol=2):
    """cifar-10-batches-py/ with the original keys; returns (train images (N, 3072), labels), test ditto."""
    folder = Path(root) / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    out = {"train": ([], []), "test": ([], [])}
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for i, name in enumerate(names):
        data = rng.integers(0, 256, size=(per_batch, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, size=per_batch)]
        batch = {
            b"batch_label": f"batch {i + 1}".encode(),
            b"labels": labels,
            b"data": data,
            b"filenames": [f"img_{i}_{j}.png".encode() for j in range(per_batch)],
        }
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f, protocol=protocol)
        split = "test" if name == "test_batch" else "train"
        out[split][0].append(data)
        out[split][1].extend(labels)
    meta = {b"num_cases_per_batch": per_batch, b"label_names": [n.encode() for n in CIFAR10_NAMES], b"num_vis": 3072}
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump(meta, f, protocol=protocol)
    return {k: (np.concatenate(v[0]), np.asarray(v[1])) for k, v in out.items()}


def make_cifar10_binary(root, rng, per_batch=5):
    folder = Path(root) / "cifar-10-batches-bin"
    folder.mkdir(parents=True, exist_ok=True)
    out = {"train": ([], []), "test": ([], [])}
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        data = rng.integers(0, 256, size=(per_batch, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, size=per_batch).astype(np.uint8)
        records = b"".join(bytes([labels[j]]) + data[j].tobytes() for j in range(per_batch))
        (folder / name).write_bytes(records)
        split = "test" if name.startswith("test") else "train"
        out[split][0].append(data)
        out[split][1].append(labels)
    (folder / "batches.meta.txt").write_text("\n".join(CIFAR10_NAMES) + "\n\n")
    return {k: (np.concatenate(v[0]), np.concatenate(v[1]).astype(np.int64)) for k, v in out.items()}


FINE_NAMES = [f"fine{i:02d}" for i in range(100)]
COARSE_NAMES = [f"coarse{i:02d}" for i in range(20)]


def make_cifar100(root, rng, binary, n=9):
    """cifar-100-python/ or cifar-100-binary/; returns {split: (data (n, 3072), fine, coarse)}."""
    folder = Path(root) / ("cifar-100-binary" if binary else "cifar-100-python")
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for split in ("train", "test"):
        data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
        fine = rng.integers(0, 100, size=n)
        coarse = rng.integers(0, 20, size=n)
        if binary:
            records = b"".join(bytes([coarse[j], fine[j]]) + data[j].tobytes() for j in range(n))
            (folder / f"{split}.bin").write_bytes(records)
        else:
            batch = {
                b"filenames": [b"x.png"] * n,
                b"batch_label": split.encode(),
                b"fine_labels": fine.tolist(),
                b"coarse_labels": coarse.tolist(),
                b"data": data,
            }
            with open(folder / split, "wb") as f:
                pickle.dump(batch, f, protocol=2)
        out[split] = (data, fine, coarse)
    if binary:
        (folder / "fine_label_names.txt").write_text("\n".join(FINE_NAMES) + "\n")
        (folder / "coarse_label_names.txt").write_text("\n".join(COARSE_NAMES) + "\n")
    else:
        with open(folder / "meta", "wb") as f:
            pickle.dump(
                {
                    b"fine_label_names": [s.encode() for s in FINE_NAMES],
                    b"coarse_label_names": [s.encode() for s in COARSE_NAMES],
                },
                f,
                protocol=2,
            )
    return out


def cifar_reference(data):
    """(N, 3072) CIFAR rows -> float32 (N, 3, 32, 32): 1024 red, then green, then blue, rows of 32."""
    out = np.empty((len(data), 3, 32, 32), dtype=np.float32)
    for c in range(3):
        out[:, c] = data[:, c * 1024 : (c + 1) * 1024].reshape(-1, 32, 32) / np.float32(255)
    return out


def md5_of(path):
    return hashlib.md5(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def local_only(monkeypatch):
    """Make any fetch of a non-file:// URL fail the test (the download path must stay offline)."""
    real_fetch = dl_utils._fetch
    fetched = []

    def fetch(url, path, timeout=60):
        assert url.startswith("file://"), f"test tried to download {url}"
        fetched.append(url)
        return real_fetch(url, path, timeout)

    monkeypatch.setattr(dl_utils, "_fetch", fetch)
    return fetched


class Double:
    """A transform with a vectorised batch method; counts how it is called."""

    def __init__(self):
        self.calls = {"sample": 0, "batch": 0}

    def __call__(self, image):
        self.calls["sample"] += 1
        return image * 2 - 1

    def batch(self, images):
        self.calls["batch"] += 1
        return images * 2 - 1


# ---------------------------------------------------------------------------------------------- IDX


@pytest.mark.parametrize(
    "code,dtype",
    [(0x08, np.uint8), (0x09, np.int8), (0x0B, np.int16), (0x0C, np.int32), (0x0D, np.float32), (0x0E, np.float64)],
)
@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_types(tmp_path, rng, code, dtype, gz):
    if np.dtype(dtype).kind == "f":
        array = rng.standard_normal((3, 4, 5)).astype(dtype)
    else:
        info = np.iinfo(dtype)
        array = rng.integers(info.min, info.max, size=(3, 4, 5), endpoint=True).astype(dtype)
    path = tmp_path / ("x.idx.gz" if gz else "x.idx")
    write_idx(path, array, code, gz=gz)
    got = read_idx(path)
    assert got.dtype == dtype and got.dtype.isnative and got.shape == (3, 4, 5)
    np.testing.assert_array_equal(got, array)
    got[0, 0, 0] = 0  # an ordinary, writable array


def test_read_idx_gzip_detected_by_content(tmp_path, rng):
    labels = rng.integers(0, 10, size=17).astype(np.uint8)
    write_idx(tmp_path / "labels-no-gz-suffix", labels, gz=True)
    np.testing.assert_array_equal(read_idx(tmp_path / "labels-no-gz-suffix"), labels)


@pytest.mark.parametrize(
    "case",
    [
        "magic",
        "type-code",
        "zero-dims",
        "short",
        "truncated-header",
        "truncated-data",
        "trailing",
        "corrupt-gzip",
        "truncated-gzip",
    ],
)
def test_read_idx_rejects_bad_files(tmp_path, rng, case):
    good = idx_bytes(rng.integers(0, 256, size=(4, 28, 28), dtype=np.uint8), 0x08)
    bad = {
        "magic": b"\x01\x02" + good[2:],
        "type-code": good[:2] + b"\x07" + good[3:],
        "zero-dims": good[:3] + b"\x00" + good[4:],
        "short": good[:3],
        "truncated-header": good[:10],
        "truncated-data": good[:-5],
        "trailing": good + b"\x00\x01",
    }
    path = tmp_path / "train-images-idx3-ubyte"
    if case == "corrupt-gzip":
        packed = bytearray(gzip.compress(good))
        packed[len(packed) // 2] ^= 0xFF
        path = path.with_suffix(".gz")
        path.write_bytes(bytes(packed))
    elif case == "truncated-gzip":
        path = path.with_suffix(".gz")
        path.write_bytes(gzip.compress(good)[:-100])
    else:
        path.write_bytes(bad[case])
    with pytest.raises(RuntimeError, match=r"^\[MNIST\] "):
        read_idx(path, "MNIST")


def test_read_idx_stops_at_the_size_its_header_gives(tmp_path):
    # a gzip bomb: 64 MB of zeros behind a header that says 10 bytes is refused without inflating it all
    path = tmp_path / "bomb-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(bytes([0, 0, 8, 1]) + struct.pack(">I", 10) + bytes(64 << 20), 9))
    assert path.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        with pytest.raises(RuntimeError, match=r"^\[MNIST\] .*bomb-idx1-ubyte.gz is longer than its header says"):
            read_idx(path, "MNIST")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, peak


@pytest.mark.parametrize(
    "case,data,match",
    [
        # The product of the dims wraps int64 to the file's own size (issue 11's hex case).
        ("dims-overflow", bytes.fromhex("00000d06 00000002 00000002 3f800000 40003900 40400000 40800000"), "truncated"),
        ("dims-255", bytes([0, 0, 8, 255]) + struct.pack(">255I", *([1] * 255)) + b"\x07", "NumPy cannot hold"),
        (
            "zero-and-huge",
            bytes([0, 0, 8, 4]) + struct.pack(">4I", 0, 2**32 - 1, 2**32 - 1, 2**32 - 1),
            "NumPy cannot hold",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 40 else "",
)
def test_read_idx_dims_numpy_cannot_hold(tmp_path, case, data, match):
    # Each raised NumPy's ValueError, naming no file, before (issue 11).
    path = tmp_path / f"{case}-idx-ubyte"
    path.write_bytes(data)
    with pytest.raises(RuntimeError, match=rf"^\[MNIST\] .*{case}-idx-ubyte.*{match}"):
        read_idx(path, "MNIST")


def test_mnist_reports_corrupt_file(tmp_path, rng):
    make_mnist(tmp_path, rng)
    images = tmp_path / "train-images-idx3-ubyte.gz"
    images.write_bytes(gzip.compress(gzip.decompress(images.read_bytes())[:-28]))
    with pytest.raises(RuntimeError, match=r"\[MNIST\] .*train-images-idx3-ubyte.gz is truncated"):
        MNIST(tmp_path, train=True)
    MNIST(tmp_path, train=False)  # the test split is intact


def test_mnist_rejects_inconsistent_files(tmp_path, rng):
    arrays = make_mnist(tmp_path, rng)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", arrays["train"][1][:-1], gz=True)
    with pytest.raises(RuntimeError, match=r"\[MNIST\] .*12 images but .*11 labels"):
        MNIST(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.full(12, 10, np.uint8), gz=True)
    with pytest.raises(RuntimeError, match=r"label 10"):
        MNIST(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.full(12, -1, np.int8), 0x09, gz=True)
    with pytest.raises(RuntimeError, match=r"negative label -1"):  # was accepted (issue 11)
        MNIST(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", arrays["train"][0], gz=True)  # images as labels
    with pytest.raises(RuntimeError, match=r"integer labels \(N,\)"):
        MNIST(tmp_path)


# -------------------------------------------------------------------------------------- MNIST family


@pytest.mark.parametrize(
    "layout,gz,dotted", [("root", True, False), ("raw", False, False), ("classdir", True, False), ("root", False, True)]
)
def test_mnist_reads_idx_files(tmp_path, rng, layout, gz, dotted):
    folder = {"root": tmp_path, "raw": tmp_path / "MNIST" / "raw", "classdir": tmp_path / "MNIST"}[layout]
    arrays = make_mnist(folder, rng, gz=gz, dotted=dotted)
    for train, key in ((True, "train"), (False, "t10k")):
        ds = MNIST(str(tmp_path), train=train)
        images, labels = arrays[key]
        assert len(ds) == len(labels)
        assert ds.data.dtype == np.uint8 and ds.data.shape == (len(labels), 28, 28)
        np.testing.assert_array_equal(ds.data, images)
        assert ds.targets.dtype == np.int64
        np.testing.assert_array_equal(ds.targets, labels)
        assert ds.classes[3] == "3 - three" and len(ds.classes) == 10
        assert ds.class_to_idx["7 - seven"] == 7
        assert ds.image_shape == (1, 28, 28) and ds.num_channels == 1
        assert ds.folder == folder


def test_mnist_sample_protocol(tmp_path, rng):
    arrays = make_mnist(tmp_path, rng, n_train=20)
    images, labels = arrays["train"]
    ds = MNIST(tmp_path)
    x, y = ds[5]
    assert isinstance(x, np.ndarray) and x.dtype == np.float32 and x.shape == (1, 28, 28)
    assert type(y) is int and y == labels[5]
    np.testing.assert_array_equal(x[0], images[5].astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(np.round(x * 255).astype(np.uint8)[0], images[5])  # lossless
    assert x.min() >= 0 and x.max() <= 1
    np.testing.assert_array_equal(ds[-1][0], ds[19][0])
    assert ds[np.int64(3)][1] == labels[3]
    with pytest.raises(IndexError):
        ds[20]
    with pytest.raises(TypeError):
        ds[1.5]
    assert len(list(ds)) == 20  # iteration stops at IndexError

    idx = [4, 0, 19, 4, -2]
    xb, yb = ds.__getitems__(idx)
    assert xb.dtype == np.float32 and xb.shape == (5, 1, 28, 28) and xb.flags.c_contiguous
    assert yb.dtype == np.int64 and yb.shape == (5,)
    np.testing.assert_array_equal(xb, np.stack([ds[i][0] for i in idx]))
    np.testing.assert_array_equal(yb, [ds[i][1] for i in idx])
    with pytest.raises(IndexError):
        ds.__getitems__([0, 20])


def test_mnist_transforms_per_sample_and_batched(tmp_path, rng):
    make_mnist(tmp_path, rng, n_train=16)
    plain = MNIST(tmp_path)
    double = Double()
    ds = MNIST(tmp_path, transform=double, target_transform=lambda t: t + 100)
    x, y = ds[2]
    np.testing.assert_allclose(x, plain[2][0] * 2 - 1)
    assert y == plain[2][1] + 100
    idx = np.array([1, 7, 3])
    xb, yb = ds.__getitems__(idx)
    assert double.calls == {"sample": 1, "batch": 1}  # one call for ds[2], one vectorised for the batch
    np.testing.assert_allclose(xb, np.stack([ds[i][0] for i in idx]))
    np.testing.assert_array_equal(yb, plain.targets[idx] + 100)
    assert yb.dtype == np.int64

    # Without a batch method the transform runs per sample; pc.Tensor results are accepted too.
    per_sample = MNIST(tmp_path, transform=lambda im: pc.tensor(im[:, 2:-2, 2:-2] * 3))
    xb, _ = per_sample.__getitems__(idx)
    assert xb.shape == (3, 1, 24, 24)
    np.testing.assert_allclose(xb, np.stack([plain[i][0][:, 2:-2, 2:-2] * 3 for i in idx]), rtol=1e-6)

    class OneHot:
        def __call__(self, t):
            return np.eye(10, dtype=np.float32)[t]

        def batch(self, targets):
            return np.eye(10, dtype=np.float32)[targets]

    one_hot = MNIST(tmp_path, target_transform=OneHot())
    _, yb = one_hot.__getitems__(idx)
    np.testing.assert_array_equal(yb, np.stack([one_hot[i][1] for i in idx]))
    with pytest.raises(TypeError, match=r"\[MNIST\] transform must be callable"):
        MNIST(tmp_path, transform=3)


def test_mnist_through_dataloader(tmp_path, rng):
    arrays = make_mnist(tmp_path, rng, n_train=20)
    ds = MNIST(tmp_path)
    batches = list(DataLoader(ds, batch_size=8))
    assert [tuple(b[0].shape) for b in batches] == [(8, 1, 28, 28), (8, 1, 28, 28), (4, 1, 28, 28)]
    assert batches[0][0].dtype == pc.float32 and batches[0][1].dtype == pc.int64
    got = np.concatenate([b[0].numpy() for b in batches])
    np.testing.assert_array_equal(got[:, 0], arrays["train"][0] / np.float32(255))
    # Subsets (random_split, validation splits) keep the batched path.
    sub = Subset(ds, [3, 1, 18])
    _xb, yb = next(iter(DataLoader(sub, batch_size=3)))
    np.testing.assert_array_equal(yb.numpy(), arrays["train"][1][[3, 1, 18]])


def test_mnist_missing_files(tmp_path, rng):
    with pytest.raises(RuntimeError, match=r"\[MNIST\] train files not found.*download=True"):
        MNIST(tmp_path)
    with pytest.raises(RuntimeError, match=r"\[MNIST\] .*pass root="):
        MNIST(None)
    make_mnist(tmp_path / "KMNIST" / "raw", rng)
    with pytest.raises(RuntimeError, match=r"\[MNIST\]"):  # another dataset's folder is not MNIST's
        MNIST(tmp_path)


def test_fashion_and_kmnist_classes(tmp_path, rng):
    arrays = make_mnist(tmp_path / "FashionMNIST" / "raw", rng)
    ds = FashionMNIST(tmp_path, train=False)
    np.testing.assert_array_equal(ds.data, arrays["t10k"][0])
    assert ds.classes == [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ]
    make_mnist(tmp_path / "KMNIST" / "raw", rng)
    assert KMNIST(tmp_path).classes == ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]


# ---------------------------------------------------------------------------------------- downloads


def serve(tmp_path, files):
    """Copy `files` into a 'mirror' folder and return its file:// URL (with the trailing slash)."""
    mirror = tmp_path / "mirror"
    mirror.mkdir(exist_ok=True)
    for path in files:
        (mirror / Path(path).name).write_bytes(Path(path).read_bytes())
    return mirror.as_uri() + "/"


def test_mnist_download(tmp_path, rng, monkeypatch, local_only):
    arrays = make_mnist(tmp_path / "source", rng)
    sources = sorted((tmp_path / "source").iterdir())
    url = serve(tmp_path, sources)
    monkeypatch.setattr(MNIST, "mirrors", ["file:///nonexistent/mirror/", url])  # the first mirror fails
    monkeypatch.setattr(MNIST, "resources", [(p.name, md5_of(p)) for p in sources])
    root = tmp_path / "data"
    with pytest.raises(RuntimeError, match="not found"):
        MNIST(root)
    ds = MNIST(root, train=False, download=True)
    np.testing.assert_array_equal(ds.data, arrays["t10k"][0])
    raw = root / "MNIST" / "raw"
    assert sorted(p.name for p in raw.iterdir()) == [p.name for p in sources]  # no leftover temp files
    assert len(local_only) == 8  # four files, each tried on both mirrors
    # Present files are not fetched again.
    MNIST(root, train=True, download=True)
    assert len(local_only) == 8


def test_download_checksum_failure_deletes_file(tmp_path, rng, monkeypatch, local_only):
    make_mnist(tmp_path / "source", rng)
    sources = sorted((tmp_path / "source").iterdir())
    url = serve(tmp_path, sources)
    resources = [(p.name, md5_of(p)) for p in sources]
    resources[2] = (resources[2][0], "0" * 32)  # one published checksum that the file will not match
    monkeypatch.setattr(MNIST, "mirrors", [url])
    monkeypatch.setattr(MNIST, "resources", resources)
    root = tmp_path / "data"
    with pytest.raises(RuntimeError, match=r"(?s)\[MNIST\] could not download .*checksum mismatch"):
        MNIST(root, download=True)
    raw = root / "MNIST" / "raw"
    names = sorted(p.name for p in raw.iterdir())
    assert resources[2][0] not in names and not any(n.endswith(".part") for n in names)


def test_download_refuses_plain_http(tmp_path):
    with pytest.raises(RuntimeError, match="only https"):
        dl_utils.download_file("http://example.invalid/x.gz", tmp_path, "x.gz", "0" * 32)
    assert list(tmp_path.iterdir()) == []


def test_download_constants_are_wellformed():
    """The published MD5s are of the original .gz files (Debian re-compresses Fashion-MNIST, so they cannot
    be checked against it here): check they are well-formed and distinct, and every URL is HTTPS."""
    for cls in (MNIST, FashionMNIST, KMNIST):
        digests = [md5 for _, md5 in cls.resources]
        assert len(set(digests)) == 4 and all(len(d) == 32 and int(d, 16) >= 0 for d in digests)
        assert all(m.startswith("https://") for m in cls.mirrors)
    for cls in (CIFAR10, CIFAR100):
        assert cls.url.startswith("https://") and len(cls.tgz_md5) == 32


# -------------------------------------------------------------------------------------------- CIFAR


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_cifar10_python(tmp_path, rng, protocol):
    ref = make_cifar10_python(tmp_path, rng, protocol=protocol)
    for train, split in ((True, "train"), (False, "test")):
        ds = CIFAR10(tmp_path, train=train)
        data, labels = ref[split]
        assert ds.format == "python" and len(ds) == len(labels) == (30 if train else 6)
        assert ds.classes == CIFAR10_NAMES
        assert ds.data.shape == (len(labels), 32, 32, 3) and ds.data.dtype == np.uint8
        # torchvision's `data` layout: pixel (row r, column c) of channel k is row[k * 1024 + r * 32 + c].
        assert ds.data[2, 5, 7, 1] == data[2, 1024 + 5 * 32 + 7]
        np.testing.assert_array_equal(ds.targets, labels)
        assert ds.image_shape == (3, 32, 32) and ds.num_channels == 3
        xb, _yb = ds.__getitems__(np.arange(len(ds)))
        np.testing.assert_array_equal(xb, cifar_reference(data))
        x, y = ds[4]
        np.testing.assert_array_equal(x, cifar_reference(data[4:5])[0])
        assert type(y) is int and y == labels[4]


def test_cifar10_binary(tmp_path, rng):
    ref = make_cifar10_binary(tmp_path, rng)
    ds = CIFAR10(tmp_path, train=True)
    assert ds.format == "binary" and ds.classes == CIFAR10_NAMES and len(ds) == 25
    np.testing.assert_array_equal(ds.targets, ref["train"][1])
    np.testing.assert_array_equal(ds.__getitems__(range(25))[0], cifar_reference(ref["train"][0]))
    test = CIFAR10(tmp_path / "cifar-10-batches-bin", train=False)  # root may be the folder itself
    np.testing.assert_array_equal(test.targets, ref["test"][1])


def test_cifar_transforms_and_loader(tmp_path, rng):
    make_cifar10_python(tmp_path, rng)
    double = Double()
    ds = CIFAR10(tmp_path, transform=double, target_transform=lambda t: 9 - t)
    plain = CIFAR10(tmp_path)
    idx = [29, 0, 11]
    xb, yb = ds.__getitems__(idx)
    np.testing.assert_allclose(xb, np.stack([ds[i][0] for i in idx]))
    np.testing.assert_array_equal(yb, 9 - plain.targets[idx])
    xt, yt = next(iter(DataLoader(ds, batch_size=4, shuffle=True, seed=3)))
    assert tuple(xt.shape) == (4, 3, 32, 32) and xt.dtype == pc.float32 and tuple(yt.shape) == (4,)
    # Trimming the torchvision way keeps the layout right.
    first = plain[3][0]
    plain.data, plain.targets = plain.data[2:7], plain.targets[2:7]
    assert len(plain) == 5 and plain.data.shape == (5, 32, 32, 3)
    np.testing.assert_array_equal(plain[1][0], first)
    with pytest.raises(ValueError, match=r"\[CIFAR10\] data must be uint8"):
        plain.data = np.zeros((2, 32, 32, 3), np.float32)


@pytest.mark.parametrize("binary", [False, True])
def test_cifar100_fine_and_coarse(tmp_path, rng, binary):
    ref = make_cifar100(tmp_path, rng, binary)
    data, fine, coarse = ref["train"]
    ds = CIFAR100(tmp_path)
    assert ds.format == ("binary" if binary else "python")
    assert ds.classes == FINE_NAMES and ds.label_type == "fine"
    np.testing.assert_array_equal(ds.targets, fine)
    np.testing.assert_array_equal(ds.coarse_targets, coarse)
    assert ds.coarse_classes == COARSE_NAMES and ds.fine_classes == FINE_NAMES
    np.testing.assert_array_equal(ds.__getitems__(range(len(ds)))[0], cifar_reference(data))
    coarse_ds = CIFAR100(tmp_path, train=False, label_type="coarse")
    np.testing.assert_array_equal(coarse_ds.targets, ref["test"][2])
    assert coarse_ds.classes == COARSE_NAMES and coarse_ds[3][1] == ref["test"][2][3]
    with pytest.raises(ValueError, match=r"\[CIFAR100\] label_type"):
        CIFAR100(tmp_path, label_type="medium")


def test_cifar_missing_and_corrupt(tmp_path, rng):
    with pytest.raises(RuntimeError, match=r"\[CIFAR10\] dataset not found.*download=True"):
        CIFAR10(tmp_path)
    with pytest.raises(ValueError, match=r"\[CIFAR10\] root is required"):
        CIFAR10(None)
    make_cifar10_binary(tmp_path, rng)
    path = tmp_path / "cifar-10-batches-bin" / "data_batch_3.bin"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(RuntimeError, match=r"\[CIFAR10\] .*data_batch_3.bin is truncated"):
        CIFAR10(tmp_path)
    CIFAR10(tmp_path, train=False)  # the test batch is intact

    py_root = tmp_path / "py"
    make_cifar10_python(py_root, rng)
    batch = py_root / "cifar-10-batches-py" / "test_batch"
    batch.write_bytes(batch.read_bytes()[:200])
    with pytest.raises(RuntimeError, match=r"\[CIFAR10\] cannot read .*test_batch"):
        CIFAR10(py_root, train=False)
    with open(batch, "wb") as f:
        pickle.dump({b"data": np.zeros((2, 3072), np.uint8), b"fine_labels": [0, 1]}, f, protocol=2)
    with pytest.raises(RuntimeError, match=r"lacks the key\(s\) \['labels'\]"):
        CIFAR10(py_root, train=False)
    with open(batch, "wb") as f:
        pickle.dump({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]}, f, protocol=2)
    with pytest.raises(RuntimeError, match=r"label 10 .*only 10 classes"):
        CIFAR10(py_root, train=False)


@pytest.mark.parametrize(
    "case,batch,match",
    [
        ("ragged-labels", {b"data": np.zeros((2, 3072), np.uint8), b"labels": [[0], [1, 2]]}, "must be a list of ints"),
        ("text-labels", {b"data": np.zeros((2, 3072), np.uint8), b"labels": ["a", "b"]}, "must be a list of ints"),
        ("huge-label", {b"data": np.zeros((1, 3072), np.uint8), b"labels": [2**70]}, "must be a list of ints"),
        ("negative-label", {b"data": np.zeros((1, 3072), np.uint8), b"labels": [-1]}, "negative label -1"),
        ("list-data", {b"data": [[0] * 3072], b"labels": [0]}, "must be a uint8 array .*got list"),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 40 else "",
)
def test_cifar_python_batch_with_bad_values(tmp_path, rng, case, batch, match):
    # A ragged or textual label list raised NumPy's ValueError naming no file, and -1 was a label (issue 11).
    make_cifar10_python(tmp_path, rng)
    path = tmp_path / "cifar-10-batches-py" / "test_batch"
    path.write_bytes(pickle.dumps(batch, protocol=2))
    with pytest.raises(RuntimeError, match=rf"^\[CIFAR10\] .*test_batch: .*{match}"):
        CIFAR10(tmp_path, train=False)


def test_cifar_pickle_frame_past_maxsize(tmp_path, rng):
    # A FRAME opcode announcing 2**64 - 1 bytes raised a bare OverflowError (found by tools/fuzz.sh cifar).
    make_cifar10_python(tmp_path, rng)
    path = tmp_path / "cifar-10-batches-py" / "batches.meta"
    path.write_bytes(b"\x80\x04\x95" + struct.pack("<Q", 2**64 - 1))
    with pytest.raises(RuntimeError, match=r"^\[CIFAR10\] cannot read .*batches.meta: not a valid CIFAR"):
        CIFAR10(tmp_path, train=False)


@pytest.mark.parametrize(
    "opcodes",
    [
        b"\x80\x05\x96" + struct.pack("<Q", 2**56) + b"abc.",  # BYTEARRAY8 of 2**56 bytes: MemoryError before
        b"\x80\x02}r" + struct.pack("<I", 2**32 - 1) + b".",  # LONG_BINPUT 2**32 - 1: a 32 GB memo
    ],
    ids=["bytearray8-2p56", "memo-index-2p32"],
)
def test_cifar_pickle_lengths_past_the_file_allocate_nothing(tmp_path, rng, opcodes):
    # The C unpickler allocates what a length field says before reading it (found by tools/fuzz.sh cifar).
    make_cifar10_python(tmp_path, rng)
    (tmp_path / "cifar-10-batches-py" / "test_batch").write_bytes(opcodes)
    with pytest.raises(RuntimeError, match=r"^\[CIFAR10\] cannot read .*test_batch: not a valid CIFAR python batch"):
        CIFAR10(tmp_path, train=False)


def test_cifar_meta_names_must_be_text(tmp_path, rng):
    make_cifar10_python(tmp_path, rng)
    (tmp_path / "cifar-10-batches-py" / "batches.meta").write_bytes(pickle.dumps({b"label_names": 10}, protocol=2))
    with pytest.raises(RuntimeError, match=r"^\[CIFAR10\] .*batches.meta: 'label_names' must be a list of class names"):
        CIFAR10(tmp_path, train=False)


class _Exploit:
    """Unpickling this calls os.makedirs(marker): a stand-in for arbitrary code in a malicious pickle."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.makedirs, (str(self.marker),)


def test_cifar_pickles_cannot_run_code(tmp_path, rng):
    make_cifar10_python(tmp_path, rng)
    marker = tmp_path / "pwned"
    with open(tmp_path / "cifar-10-batches-py" / "test_batch", "wb") as f:
        pickle.dump({b"data": _Exploit(marker), b"labels": [0]}, f, protocol=2)
    with pytest.raises(RuntimeError, match=r"not allowed"):
        CIFAR10(tmp_path, train=False)
    assert not marker.exists()


def make_tar(path, folder, arcname):
    with tarfile.open(path, "w:gz") as tar:
        tar.add(folder, arcname=arcname)


def test_cifar_extracts_archive(tmp_path, rng):
    build = tmp_path / "build"
    ref = make_cifar10_python(build, rng)
    root = tmp_path / "root"
    root.mkdir()
    make_tar(root / "cifar-10-python.tar.gz", build / "cifar-10-batches-py", "cifar-10-batches-py")
    ds = CIFAR10(root, train=False)
    np.testing.assert_array_equal(ds.targets, ref["test"][1])
    assert (root / "cifar-10-batches-py" / "data_batch_5").is_file()
    assert not any(p.name.startswith(".extract") for p in root.iterdir())  # temporary folder removed
    # The binary archive is recognised as well.
    build_bin, root_bin = tmp_path / "build_bin", tmp_path / "root_bin"
    ref_bin = make_cifar10_binary(build_bin, rng)
    root_bin.mkdir()
    make_tar(root_bin / "cifar-10-binary.tar.gz", build_bin / "cifar-10-batches-bin", "cifar-10-batches-bin")
    np.testing.assert_array_equal(CIFAR10(root_bin).targets, ref_bin["train"][1])


def _tar_with(path, member, data=b"x", kind=tarfile.REGTYPE, linkname=""):
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo(member)
        info.type, info.linkname = kind, linkname
        info.size = len(data) if kind == tarfile.REGTYPE else 0
        tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


@pytest.mark.parametrize(
    "member,kind,linkname",
    [
        ("../evil.txt", tarfile.REGTYPE, ""),
        ("/tmp/evil.txt", tarfile.REGTYPE, ""),
        ("a/../../evil.txt", tarfile.REGTYPE, ""),
        ("link", tarfile.SYMTYPE, "/etc/passwd"),
        ("hard", tarfile.LNKTYPE, "../outside"),
    ],
)
def test_extract_archive_refuses_unsafe_members(tmp_path, member, kind, linkname):
    archive = tmp_path / "bad.tar.gz"
    _tar_with(archive, member, kind=kind, linkname=linkname)
    dest = tmp_path / "dest"
    with pytest.raises(RuntimeError, match=r"\[CIFAR10\] refusing to extract"):
        extract_archive(archive, dest, "CIFAR10")
    assert not (tmp_path / "evil.txt").exists() and list(dest.iterdir()) == []


def test_extract_archive_corrupt(tmp_path, rng):
    make_cifar10_binary(tmp_path / "build", rng)
    archive = tmp_path / "root" / "cifar-10-binary.tar.gz"
    archive.parent.mkdir()
    make_tar(archive, tmp_path / "build" / "cifar-10-batches-bin", "cifar-10-batches-bin")
    archive.write_bytes(archive.read_bytes()[:5000])
    with pytest.raises(RuntimeError, match=r"\[CIFAR10\] cannot extract .*corrupt or truncated"):
        CIFAR10(archive.parent)
    assert [p.name for p in archive.parent.iterdir()] == ["cifar-10-binary.tar.gz"]  # nothing half-written


def test_cifar_download(tmp_path, rng, monkeypatch, local_only):
    build = tmp_path / "build"
    ref = make_cifar100(build, rng, binary=False)
    archive = tmp_path / "cifar-100-python.tar.gz"
    make_tar(archive, build / "cifar-100-python", "cifar-100-python")
    monkeypatch.setattr(CIFAR100, "url", archive.as_uri())
    monkeypatch.setattr(CIFAR100, "tgz_md5", "f" * 32)
    root = tmp_path / "root"
    with pytest.raises(RuntimeError, match=r"(?s)\[CIFAR100\] could not download .*checksum mismatch"):
        CIFAR100(root, download=True)
    assert list(root.iterdir()) == []  # the bad file was deleted, nothing extracted
    monkeypatch.setattr(CIFAR100, "tgz_md5", md5_of(archive))
    ds = CIFAR100(root, train=False, download=True)
    np.testing.assert_array_equal(ds.targets, ref["test"][1])
    assert (root / "cifar-100-python.tar.gz").is_file() and len(local_only) == 2


# -------------------------------------------------------------------------------------- ImageFolder


@pytest.fixture
def image_tree(tmp_path, rng):
    """root/{bird,cat,dog}/ with RGB and grayscale PNGs of different sizes, JPEGs, and a stray text file."""
    Image = pytest.importorskip("PIL.Image")
    root = tmp_path / "images"
    arrays = {}
    spec = {
        "cat": [("c1.png", (9, 7, 3)), ("c0.png", (5, 6, 3)), ("gray.png", (8, 8))],
        "dog": [("d0.jpg", (16, 16, 3)), ("sub/d1.png", (4, 10, 3))],
        "bird": [("b0.BMP", (6, 6, 3)), ("b1.jpeg", (12, 12, 3))],
    }
    for cls, files in spec.items():
        for name, shape in files:
            path = root / cls / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if name.endswith(("jpg", "jpeg")):  # smooth content, so JPEG's loss stays small
                y, x = np.mgrid[0 : shape[0], 0 : shape[1]]
                a = np.stack([(x * 12 + 30), (y * 10 + 60), (x + y) * 5 + 90], axis=-1).astype(np.uint8)
            else:
                a = rng.integers(0, 256, size=shape, dtype=np.uint8)
            Image.fromarray(a).save(path, **({"quality": 95} if name.endswith(("jpg", "jpeg")) else {}))
            arrays[f"{cls}/{name}"] = a
    (root / "cat" / "notes.txt").write_text("not an image")
    return root, arrays


def test_image_folder_listing_and_pixels(image_tree):
    root, arrays = image_tree
    ds = ImageFolder(root)
    assert ds.classes == ["bird", "cat", "dog"] and ds.class_to_idx == {"bird": 0, "cat": 1, "dog": 2}
    rel = [Path(p).relative_to(root).as_posix() for p, _ in ds.samples]
    assert rel == [
        "bird/b0.BMP",
        "bird/b1.jpeg",
        "cat/c0.png",
        "cat/c1.png",
        "cat/gray.png",
        "dog/d0.jpg",
        "dog/sub/d1.png",
    ]
    np.testing.assert_array_equal(ds.targets, [0, 0, 1, 1, 1, 2, 2])
    assert ds.targets.dtype == np.int64 and ds.imgs is ds.samples and len(ds) == 7
    assert ds.num_channels == 3 and ds.image_shape == (3, 6, 6)
    for i, name in enumerate(rel):
        x, y = ds[i]
        a = arrays[name]
        assert x.dtype == np.float32 and x.shape == (3,) + a.shape[:2] and type(y) is int
        if name.endswith(("jpg", "jpeg")):
            assert np.abs(x - a.transpose(2, 0, 1) / 255.0).mean() < 0.02
        else:  # lossless: exact; a grayscale file is repeated into R, G and B
            rgb = np.repeat(a[..., None], 3, axis=-1) if a.ndim == 2 else a
            np.testing.assert_array_equal(x, rgb.transpose(2, 0, 1) / np.float32(255))


def test_image_folder_modes_and_transforms(image_tree):
    root, arrays = image_tree
    gray = ImageFolder(root, mode="L", target_transform=lambda t: -t)
    assert gray.num_channels == 1
    x, y = gray[3]  # cat/c1.png, RGB on disk
    a = arrays["cat/c1.png"].astype(np.float64)
    luma = a[..., 0] * 299 / 1000 + a[..., 1] * 587 / 1000 + a[..., 2] * 114 / 1000  # ITU-R 601-2
    assert x.shape == (1, 9, 7) and y == -1
    np.testing.assert_allclose(x[0] * 255, luma, atol=1.0)
    np.testing.assert_array_equal(gray[4][0][0], arrays["cat/gray.png"] / np.float32(255))

    crop = ImageFolder(root, transform=lambda im: im[:, :4, :4] * 2)
    xb, yb = next(iter(DataLoader(crop, batch_size=7)))  # per-sample collation of equal-size crops
    assert tuple(xb.shape) == (7, 3, 4, 4) and yb.numpy().tolist() == [0, 0, 1, 1, 1, 2, 2]
    np.testing.assert_allclose(xb.numpy()[2], arrays["cat/c0.png"][:4, :4].transpose(2, 0, 1) / 255 * 2, rtol=1e-6)
    with pytest.raises(ValueError, match=r"\[ImageFolder\] mode"):
        ImageFolder(root, mode="CMYK")


def test_image_folder_selection_and_loader(image_tree):
    root, _arrays = image_tree
    png_only = ImageFolder(root, extensions=(".png",), allow_empty=True)
    assert len(png_only) == 4 and sorted(set(png_only.targets.tolist())) == [1, 2]
    with pytest.raises(RuntimeError, match=r"\[ImageFolder\] no valid image files .*\['bird'\]"):
        ImageFolder(root, extensions=(".png",))
    chosen = ImageFolder(root, is_valid_file=lambda p: "c1" in p or "b0" in p, allow_empty=True)
    assert [Path(p).name for p, _ in chosen.samples] == ["b0.BMP", "c1.png"]

    def loader(path):  # custom loaders may return uint8 (H, W) arrays
        return np.full((3, 5), 51, dtype=np.uint8)

    custom = ImageFolder(root, loader=loader)
    np.testing.assert_allclose(custom[0][0], np.full((1, 3, 5), 0.2, np.float32))


def test_image_folder_errors(tmp_path, monkeypatch):
    pytest.importorskip("PIL")
    with pytest.raises(RuntimeError, match=r"\[ImageFolder\] .* is not a folder"):
        ImageFolder(tmp_path / "missing")
    with pytest.raises(RuntimeError, match=r"\[ImageFolder\] no class sub-folders"):
        ImageFolder(tmp_path)
    (tmp_path / "empty_class").mkdir()
    with pytest.raises(RuntimeError, match=r"no valid image files .*\['empty_class'\]"):
        ImageFolder(tmp_path)
    with pytest.raises(RuntimeError, match=r"no image files found"):
        ImageFolder(tmp_path, allow_empty=True)
    monkeypatch.setitem(__import__("sys").modules, "PIL", None)  # as if Pillow were not installed
    with pytest.raises(ImportError, match=r'pip install "pycnn\[images\]"'):
        ImageFolder(tmp_path)


@pytest.mark.parametrize(
    "content", [b"", b"\x89PNG\r\n\x1a\n", b"BM" + b"\xff" * 60], ids=["empty", "png-magic", "bmp-garbage"]
)
def test_image_folder_names_an_image_it_cannot_decode(tmp_path, content):
    # Pillow's UnidentifiedImageError / "truncated" OSError named no op before (found by tools/fuzz.sh image).
    pytest.importorskip("PIL")
    (tmp_path / "cat").mkdir()
    (tmp_path / "cat" / "broken.png").write_bytes(content)
    with pytest.raises(RuntimeError, match=r"^\[ImageFolder\] cannot decode .*broken.png: "):
        ImageFolder(tmp_path)[0]


# ------------------------------------------------------------------------------------- get_dataset


def test_get_dataset_mnist_subset():
    raw = load_mnist_subset_arrays()
    train, test = get_dataset("mnist-subset"), get_dataset("mnist-subset", train=False)
    assert isinstance(train, MNISTSubset) and (len(train), len(test)) == (4000, 1000)
    assert train.image_shape == (1, 28, 28) and train.num_channels == 1 and len(train.classes) == 10
    np.testing.assert_array_equal(test.targets, raw["labels"][raw["test_idx"]])
    xb, yb = test.__getitems__([0, 999])
    np.testing.assert_array_equal(xb[:, 0], raw["images"][raw["test_idx"][[0, 999]]] / np.float32(255))
    np.testing.assert_array_equal(yb, raw["labels"][raw["test_idx"][[0, 999]]])


def test_get_dataset_by_name(tmp_path, rng, monkeypatch):
    arrays = make_mnist(tmp_path / "MNIST" / "raw", rng)
    double = Double()
    ds = get_dataset("MNIST", root=tmp_path, train=False, transform=double)
    assert isinstance(ds, MNIST) and ds.transform is double
    np.testing.assert_array_equal(ds.targets, arrays["t10k"][1])
    make_cifar10_binary(tmp_path, rng)
    assert get_dataset("cifar10", root=tmp_path).image_shape == (3, 32, 32)
    monkeypatch.setenv("PYCNN_DATA", str(tmp_path))  # root=None -> default_root()
    assert len(get_dataset("mnist")) == 12 and len(get_dataset("cifar-10", train=False)) == 5
    with pytest.raises(ValueError, match=r"\[get_dataset\] unknown dataset 'svhn'"):
        get_dataset("svhn")


def test_get_dataset_folder(image_tree, tmp_path):
    root, _ = image_tree
    whole = get_dataset(f"folder:{root}")
    assert isinstance(whole, ImageFolder) and len(whole) == 7
    with pytest.raises(ValueError, match=r"\[get_dataset\] folder:.*no train/"):
        get_dataset(f"folder:{root}", train=False)
    split = tmp_path / "split"
    shutil.copytree(root, split / "train")  # split/train/{bird,cat,dog}/...
    with pytest.raises(ValueError, match=r"neither test/ nor val/"):
        get_dataset(f"folder:{split}", train=False)
    (split / "val" / "cat").mkdir(parents=True)
    (split / "val" / "cat" / "c.png").write_bytes((split / "train" / "cat" / "c0.png").read_bytes())
    test = get_dataset(f"folder:{split}", train=False)
    assert test.classes == ["cat"] and len(test) == 1
    assert get_dataset(f"folder:{split}").classes == ["bird", "cat", "dog"]
    with pytest.raises(ValueError, match=r"needs a PATH"):
        get_dataset("folder:")


# --------------------------------------------------------------------- the real Fashion-MNIST (Debian)


@pytest.fixture(scope="module")
def fashion():
    if not (FASHION_DIR / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    return FashionMNIST(root=None, train=True), FashionMNIST(root=None, train=False)


def test_real_fashion_mnist(fashion):
    train, test = fashion
    assert (len(train), len(test)) == (60000, 10000)
    assert train.data.shape == (60000, 28, 28) and train.data.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(train.targets, minlength=10), np.full(10, 6000))
    np.testing.assert_array_equal(np.bincount(test.targets, minlength=10), np.full(10, 1000))
    assert len(train.classes) == 10 and train.folder == FASHION_DIR
    # The well-known pixel mean of the training set (0.2860), through the batched float32 path.
    total = 0.0
    for start in range(0, 60000, 15000):
        xb, _ = train.__getitems__(np.arange(start, start + 15000))
        assert xb.shape == (15000, 1, 28, 28) and xb.dtype == np.float32
        total += xb.sum(dtype=np.float64)
    assert abs(total / (60000 * 784) - 0.286) < 0.002
    # Real images: distinct, and the classes differ (trousers are narrower than pullovers).
    assert len(np.unique(train.data[:500].reshape(500, -1), axis=0)) == 500
    ink = [train.data[train.targets == c].mean() for c in range(10)]
    assert ink[1] < 0.8 * ink[2]
    assert get_dataset("fashion-mnist", train=False).folder == FASHION_DIR
