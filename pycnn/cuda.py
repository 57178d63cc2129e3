"""pycnn.cuda: devices, synchronisation, memory statistics, streams and the seed of CUDA dropout, with torch's
names. Without a CUDA build, a driver or a GPU, is_available() is False and device_count() is 0; everything
that needs a device raises the core's one-line RuntimeError ("[op] pycnn was built without CUDA", "... no
CUDA device is available", "... index out of range").

"cuda" without an index means the current device (set_device, default 0).
"""

import contextlib

from . import _C, _types
from . import random as _random

__all__ = [
    "Stream",
    "current_device",
    "current_stream",
    "device_count",
    "empty_cache",
    "get_device_name",
    "initial_seed",
    "is_available",
    "is_built",
    "manual_seed",
    "manual_seed_all",
    "max_memory_allocated",
    "max_memory_reserved",
    "memory_allocated",
    "memory_reserved",
    "memory_stats",
    "reset_peak_memory_stats",
    "seed",
    "set_device",
    "stream",
    "synchronize",
]


def is_built():
    """True when this pycnn was compiled with the CUDA backend."""
    return _C.cuda_is_built()


def device_count():
    """The number of usable GPUs; 0 without a CUDA build, a driver or a GPU (never raises)."""
    return _C.cuda_device_count()


def is_available():
    return device_count() > 0


def _index(device, op):
    """The device index that `device` (None, an int, "cuda", "cuda:1" or a pycnn.device) names, checked."""
    if device is None:
        index = _types.current_cuda_index()
    elif isinstance(device, int) and not isinstance(device, bool):
        index = device
    else:
        d = _types.as_device(device)
        if d.type != "cuda":
            raise ValueError(f"[{op}] expected a CUDA device, got {d}")
        index = d.index
    _C.cuda_check_device(int(index), op)
    return int(index)


def get_device_name(device=None):
    return _C.cuda_device_name(_index(device, "cuda.get_device_name"))


def current_device():
    """The index "cuda" without an index refers to."""
    return _types.current_cuda_index()


def set_device(device):
    """Makes `device` (an int, "cuda:N" or a pycnn.device) the one "cuda" without an index refers to."""
    _types.set_current_cuda_index(_index(device, "cuda.set_device"))


def synchronize(device=None):
    """Waits until all the work queued on the device has finished."""
    _C.cuda_synchronize(_index(device, "cuda.synchronize"))


# ---- memory (the caching allocator's counters, in bytes) ----
def memory_stats(device=None):
    """The allocator's counters: allocated_bytes, peak_allocated_bytes, reserved_bytes, peak_reserved_bytes,
    driver_allocs, driver_frees."""
    return dict(_C.cuda_memory_stats(_index(device, "cuda.memory_stats")))


def memory_allocated(device=None):
    """Bytes held by live tensors on the device."""
    return memory_stats(device)["allocated_bytes"]


def max_memory_allocated(device=None):
    return memory_stats(device)["peak_allocated_bytes"]


def memory_reserved(device=None):
    """Bytes the allocator holds from the driver (live plus cached blocks)."""
    return memory_stats(device)["reserved_bytes"]


def max_memory_reserved(device=None):
    return memory_stats(device)["peak_reserved_bytes"]


def reset_peak_memory_stats(device=None):
    _C.cuda_reset_peak_memory_stats(_index(device, "cuda.reset_peak_memory_stats"))


def empty_cache():
    """Returns every unused cached block to the driver (tensors still alive keep theirs)."""
    _C.cuda_check_device(_types.current_cuda_index(), "cuda.empty_cache")
    _C.cuda_empty_cache()


# ---- streams ----
class Stream:
    """A CUDA stream of one device (non-blocking with respect to the default stream).

    ``Stream()`` creates one on the current device; ``with pycnn.cuda.stream(s):`` makes it the stream every
    kernel and copy on that device is queued on. ``Stream(device, _handle=h)`` wraps an existing handle
    without owning it (0 is the default stream).
    """

    def __init__(self, device=None, _handle=None):
        self.device_index = _index(device, "cuda.Stream")
        self._owned = _handle is None
        self.handle = _C.cuda_stream_create(self.device_index) if _handle is None else int(_handle)

    def synchronize(self):
        """Waits until the work queued on this stream has finished."""
        _C.cuda_stream_synchronize(self.device_index, self.handle)

    def __eq__(self, other):
        return isinstance(other, Stream) and (self.device_index, self.handle) == (other.device_index, other.handle)

    def __hash__(self):
        return hash((self.device_index, self.handle))

    def __repr__(self):
        return f"<pycnn.cuda.Stream device=cuda:{self.device_index} handle={self.handle:#x}>"

    def __del__(self):
        # Drained first: the caching allocator may hand this stream's freed blocks to a later stream that
        # gets the same handle. A stream still current on its device is left alone (never destroyed in use).
        if not (getattr(self, "_owned", False) and self.handle):
            return
        with contextlib.suppress(Exception):  # never raise from a destructor (interpreter shutdown included)
            if _C.cuda_current_stream(self.device_index) != self.handle:
                _C.cuda_stream_synchronize(self.device_index, self.handle)
                _C.cuda_stream_destroy(self.device_index, self.handle)


def current_stream(device=None):
    """The stream kernels and copies on `device` are queued on now (a non-owning Stream)."""
    index = _index(device, "cuda.current_stream")
    return Stream(index, _handle=_C.cuda_current_stream(index))


class stream:
    """``with pycnn.cuda.stream(s):`` queues the work of the block on s, then restores the previous stream.
    ``stream(None)`` does nothing, as in torch."""

    def __init__(self, s):
        if s is not None and not isinstance(s, Stream):
            raise TypeError(f"[stream] expected a pycnn.cuda.Stream or None, got {type(s).__name__}")
        self.stream = s
        self._previous = None

    def __enter__(self):
        if self.stream is None:
            return None
        self._previous = _C.cuda_current_stream(self.stream.device_index)
        _C.cuda_set_stream(self.stream.device_index, self.stream.handle)
        return self.stream

    def __exit__(self, *exc):
        if self.stream is not None:
            _C.cuda_set_stream(self.stream.device_index, self._previous)
        return False


# ---- random: the generator CUDA dropout draws its mask seeds from ----
# CPU dropout draws its seeds from pycnn's global generator; CUDA dropout from pycnn.random.cuda_generator(),
# so that pycnn.cuda.manual_seed(s) alone fixes the CUDA masks. pycnn.manual_seed seeds both, as in torch.
def default_generator():
    return _random.cuda_generator()


def manual_seed(seed):
    """Seeds the generator CUDA dropout takes its seeds from (the same seed gives the same masks)."""
    _random.cuda_generator().manual_seed(seed)


manual_seed_all = manual_seed  # one generator serves every device


def seed():
    """Seeds the CUDA generator with a fresh random seed."""
    _random.cuda_generator().manual_seed(_random.Generator().initial_seed())


def initial_seed():
    return _random.cuda_generator().initial_seed()
