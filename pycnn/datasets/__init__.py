"""pycnn.datasets: image datasets ready for pycnn.data.DataLoader (torchvision's names and arguments).

mnist_subset(): 5,000 real MNIST digits bundled with pycnn (see data/README.md for the credit).
MNIST, FashionMNIST, KMNIST (IDX files), CIFAR10, CIFAR100 (python or binary version), ImageFolder: samples
are (float32 (C, H, W) image in [0, 1], int target); the array-backed ones also gather whole batches
(__getitems__). get_dataset(name, ...) picks one by name. See base.py for the sample protocol.
"""

from .base import ArrayImageDataset, to_float_image
from .cifar import CIFAR10, CIFAR100
from .folder import IMG_EXTENSIONS, DatasetFolder, ImageFolder, find_classes, make_dataset, pil_loader
from .mnist import (
    KMNIST,
    MNIST,
    MNIST_SUBSET_PATH,
    FashionMNIST,
    MNISTSubset,
    load_mnist_subset_arrays,
    mnist_subset,
    read_idx,
)
from .registry import DATASET_NAMES, default_root, get_dataset
from .utils import calculate_md5, check_integrity, download_file, extract_archive

__all__ = [
    "CIFAR10",
    "CIFAR100",
    "DATASET_NAMES",
    "IMG_EXTENSIONS",
    "KMNIST",
    "MNIST",
    "MNIST_SUBSET_PATH",
    "ArrayImageDataset",
    "DatasetFolder",
    "FashionMNIST",
    "ImageFolder",
    "MNISTSubset",
    "calculate_md5",
    "check_integrity",
    "default_root",
    "download_file",
    "extract_archive",
    "find_classes",
    "get_dataset",
    "load_mnist_subset_arrays",
    "make_dataset",
    "mnist_subset",
    "pil_loader",
    "read_idx",
    "to_float_image",
]
