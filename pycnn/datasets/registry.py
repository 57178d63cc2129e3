"""get_dataset(): datasets by name, for the command line and scripts.

Names: 'mnist-subset' (bundled), 'mnist', 'fashion-mnist', 'kmnist', 'cifar10', 'cifar100' and
'folder:PATH' (ImageFolder). Every result follows the sample protocol of base.py and has `classes`,
`targets`, `num_channels` and `image_shape`.
"""

import os
from pathlib import Path

from .cifar import CIFAR10, CIFAR100
from .folder import ImageFolder
from .mnist import KMNIST, MNIST, FashionMNIST, MNISTSubset

__all__ = ["DATASET_NAMES", "default_root", "get_dataset"]

DATASET_NAMES = ("mnist-subset", "mnist", "fashion-mnist", "kmnist", "cifar10", "cifar100", "folder:PATH")
_DOWNLOADABLE = {
    "mnist": MNIST,
    "fashion-mnist": FashionMNIST,
    "kmnist": KMNIST,
    "cifar10": CIFAR10,
    "cifar100": CIFAR100,
}
_ALIASES = {"fashionmnist": "fashion-mnist", "cifar-10": "cifar10", "cifar-100": "cifar100", "mnist-5k": "mnist-subset"}


def default_root():
    """Where datasets live when no root is given: $PYCNN_DATA, else ~/.cache/pycnn/datasets."""
    return Path(os.environ.get("PYCNN_DATA") or Path.home() / ".cache" / "pycnn" / "datasets")


def _folder_split(path, train):
    """The ImageFolder root of one split of 'folder:PATH'."""
    path = Path(path).expanduser()
    if not path.is_dir():
        raise ValueError(f"[get_dataset] folder:{path}: no such folder")
    if (path / "train").is_dir():
        if train:
            return path / "train"
        for test_name in ("test", "val"):
            if (path / test_name).is_dir():
                return path / test_name
        raise ValueError(
            f"[get_dataset] folder:{path} has train/ but neither test/ nor val/; add one, or "
            "hold out part of the training set with pc.data.random_split"
        )
    if train:
        return path
    raise ValueError(
        f"[get_dataset] folder:{path} has no train/ and test/ (or val/) sub-folders, so it is "
        "one training set; hold out a test set with pc.data.random_split, or arrange it as "
        "PATH/train/<class>/... and PATH/test/<class>/..."
    )


def get_dataset(name, root=None, train=True, transform=None, download=False, target_transform=None):
    """A dataset by name.

    Args:
        name: 'mnist-subset' (the bundled 4,000 / 1,000 digits, pixels in [0, 1]), 'mnist',
            'fashion-mnist', 'kmnist', 'cifar10', 'cifar100' (fine labels), or 'folder:PATH': an
            ImageFolder (RGB) on PATH/train for train=True and PATH/test (else PATH/val) for train=False
            when PATH/train exists; otherwise PATH itself is the training set and train=False raises.
        root: folder of the dataset's files (ignored by 'mnist-subset' and 'folder:'). None means
            default_root(), except for 'fashion-mnist', which first tries Debian's
            /usr/share/datasets/fashion-mnist/.
        train: training split if True, else test split.
        transform, target_transform: applied to each float32 (C, H, W) image / int target (see base.py).
        download: fetch missing files (checksummed) into root; ignored by 'mnist-subset' and 'folder:'.

    Returns:
        the dataset, with classes, targets, num_channels and image_shape (C, H, W).
    """
    if not isinstance(name, str):
        raise TypeError(f"[get_dataset] name must be a str, got {type(name).__name__}")
    if name.lower().startswith("folder:"):
        path = name[len("folder:") :]
        if not path:
            raise ValueError("[get_dataset] 'folder:PATH' needs a PATH, e.g. folder:data/flowers")
        return ImageFolder(_folder_split(path, train), transform=transform, target_transform=target_transform)
    key = name.lower().replace("_", "-")
    key = _ALIASES.get(key, key)
    if key == "mnist-subset":
        return MNISTSubset(train=train, transform=transform, target_transform=target_transform)
    if key not in _DOWNLOADABLE:
        raise ValueError(f"[get_dataset] unknown dataset {name!r}; choose from {', '.join(DATASET_NAMES)}")
    cls = _DOWNLOADABLE[key]
    if root is None:
        in_system = cls is FashionMNIST and cls.find_files(None, train) is not None
        root = None if in_system else default_root()
    return cls(root, train=train, transform=transform, target_transform=target_transform, download=download)
