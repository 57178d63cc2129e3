"""Tests for the bundled MNIST subset: the raw npz (shapes, dtypes, split) and pycnn.datasets.mnist_subset.

They check the digits are real (plausible ink statistics, distinct images, class means that differ),
so a corrupted or placeholder file cannot pass.
"""

import numpy as np
import pytest

import pycnn as pc
from pycnn.data import DataLoader, TensorDataset
from pycnn.datasets import MNIST_SUBSET_PATH, load_mnist_subset_arrays, mnist_subset


@pytest.fixture(scope="module")
def raw():
    return load_mnist_subset_arrays()


def test_file_is_bundled_and_small():
    assert MNIST_SUBSET_PATH.is_file()
    assert MNIST_SUBSET_PATH.stat().st_size < 2 * 1024 * 1024


def test_shapes_and_dtypes(raw):
    assert raw["images"].shape == (5000, 28, 28) and raw["images"].dtype == np.uint8
    assert raw["labels"].shape == (5000,) and raw["labels"].dtype == np.uint8
    assert raw["train_idx"].shape == (4000,) and raw["test_idx"].shape == (1000,)
    assert raw["train_idx"].dtype.kind == "i" and raw["test_idx"].dtype.kind == "i"
    assert np.ndim(raw["mean"]) == 0 and np.ndim(raw["std"]) == 0


def test_500_per_class(raw):
    np.testing.assert_array_equal(np.bincount(raw["labels"], minlength=10), np.full(10, 500))
    assert raw["labels"].max() == 9


def test_split_disjoint_and_stratified(raw):
    train, test = raw["train_idx"], raw["test_idx"]
    assert np.intersect1d(train, test).size == 0
    np.testing.assert_array_equal(np.union1d(train, test), np.arange(5000))
    np.testing.assert_array_equal(np.bincount(raw["labels"][train], minlength=10), np.full(10, 400))
    np.testing.assert_array_equal(np.bincount(raw["labels"][test], minlength=10), np.full(10, 100))


def test_images_are_real_digits(raw):
    images = raw["images"].astype(np.float64) / 255.0
    # MNIST digits are ~13% ink on a black background, centred, with a (nearly) empty border.
    assert 0.10 < images.mean() < 0.16
    assert images.min() == 0.0 and images.max() == 1.0
    assert images[:, :2, :].mean() < 0.005 and images[:, :, :2].mean() < 0.005
    centre = images[:, 8:20, 8:20].mean()
    assert centre > 3 * images.mean() / 2
    # Every image has ink, and no two of the first 200 are identical.
    assert (images.reshape(5000, -1).max(axis=1) > 0.5).all()
    flat = raw["images"][:200].reshape(200, -1)
    assert len(np.unique(flat, axis=0)) == 200
    # Classes look different: a "1" has far less ink than an "8" or a "0".
    ink = [images[raw["labels"] == c].mean() for c in range(10)]
    assert ink[1] < 0.7 * ink[0] and ink[1] < 0.7 * ink[8]


def test_normalisation_constants(raw):
    train_pixels = raw["images"][raw["train_idx"]].astype(np.float64) / 255.0
    assert raw["mean"] == pytest.approx(train_pixels.mean(), rel=1e-9)
    assert raw["std"] == pytest.approx(train_pixels.std(), rel=1e-9)


@pytest.mark.parametrize("split,n", [("train", 4000), ("test", 1000), ("all", 5000)])
def test_mnist_subset_dataset(split, n, raw):
    ds = mnist_subset(split)
    assert isinstance(ds, TensorDataset) and len(ds) == n
    images, labels = ds.arrays
    assert images.shape == (n, 1, 28, 28) and images.dtype == np.float32
    assert labels.shape == (n,) and labels.dtype == np.int64
    if split == "train":  # normalised with the training split's own statistics
        assert abs(images.mean()) < 1e-4 and abs(images.std() - 1) < 1e-4
    np.testing.assert_array_equal(np.bincount(labels, minlength=10), np.full(10, n // 10))


def test_mnist_subset_options(raw):
    plain = mnist_subset("test", normalize=False)
    images = plain.arrays[0]
    assert images.min() == 0.0 and images.max() == 1.0
    np.testing.assert_allclose(images[:, 0], raw["images"][raw["test_idx"]] / 255.0, rtol=1e-6)

    f64 = mnist_subset("test", dtype=pc.float64)
    assert f64.arrays[0].dtype == np.float64
    np.testing.assert_allclose(f64.arrays[0], mnist_subset("test").arrays[0], rtol=1e-6, atol=1e-6)

    with pytest.raises(ValueError):
        mnist_subset("validation")
    with pytest.raises(ValueError):
        mnist_subset("train", dtype=pc.int64)


def test_mnist_subset_through_loader():
    loader = DataLoader(mnist_subset("train"), batch_size=64, shuffle=True, seed=0)
    assert len(loader) == 63
    xb, yb = next(iter(loader))
    assert tuple(xb.shape) == (64, 1, 28, 28) and xb.dtype == pc.float32
    assert tuple(yb.shape) == (64,) and yb.dtype == pc.int64
