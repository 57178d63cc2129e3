"""CUDA device queries. Without a CUDA build, a driver or a GPU, is_available() is False and
device_count() is 0; nothing raises until a CUDA tensor is actually requested.
"""

from . import _C


def is_built():
    """True when this pycnn was compiled with the CUDA backend."""
    return _C.cuda_is_built()


def device_count():
    return _C.cuda_device_count()


def is_available():
    return device_count() > 0


def get_device_name(device=0):
    return _C.cuda_device_name(int(device))
