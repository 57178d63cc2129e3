"""pycnn.data.transforms: data augmentation and preprocessing with torchvision.transforms' names.

Images are float NumPy arrays (C, H, W) in [0, 1], as the datasets hand them out; PIL images, uint8 or
float (H, W) / (H, W, C) arrays and pc.Tensors are accepted too (see _image.py). Every transform works on
one image, `t(img)`, and on a whole batch, `t.batch(imgs)` with imgs (N, C, H, W), vectorised with NumPy
and drawing independent random parameters per sample. Files: core.py (protocol, Compose, ToTensor,
Normalize, RandomErasing), geometric.py, color.py; the maths is in functional.py.
"""

from . import functional
from ._image import InterpolationMode
from .color import ColorJitter, Grayscale, RandomGrayscale
from .core import (
    Compose,
    Lambda,
    Normalize,
    RandomApply,
    RandomChoice,
    RandomErasing,
    RandomOrder,
    RandomTransform,
    ToTensor,
    Transform,
    compute_mean_std,
)
from .geometric import (
    CenterCrop,
    Pad,
    RandomAffine,
    RandomCrop,
    RandomHorizontalFlip,
    RandomResizedCrop,
    RandomRotation,
    RandomVerticalFlip,
    Resize,
)

__all__ = [
    "CenterCrop",
    "ColorJitter",
    "Compose",
    "Grayscale",
    "InterpolationMode",
    "Lambda",
    "Normalize",
    "Pad",
    "RandomAffine",
    "RandomApply",
    "RandomChoice",
    "RandomCrop",
    "RandomErasing",
    "RandomGrayscale",
    "RandomHorizontalFlip",
    "RandomOrder",
    "RandomResizedCrop",
    "RandomRotation",
    "RandomTransform",
    "RandomVerticalFlip",
    "Resize",
    "ToTensor",
    "Transform",
    "compute_mean_std",
    "functional",
]
