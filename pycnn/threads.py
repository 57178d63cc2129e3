"""The CPU kernels' thread count (pycnn's own thread pool), as torch.set_num_threads / get_num_threads."""

from . import _C


def set_num_threads(n):
    """Threads used by every CPU kernel."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"[set_num_threads] expected a positive int, got {n!r}")
    _C.set_num_threads(n)


def get_num_threads():
    return _C.get_num_threads()
