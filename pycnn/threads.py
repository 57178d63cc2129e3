"""The CPU kernels' thread count (pycnn's own thread pool), as torch.set_num_threads / get_num_threads."""

from . import _C

_MAX_THREADS = 4096  # the pool starts every thread it is given: more would exhaust the process, not help it


def set_num_threads(n):
    """Threads used by every CPU kernel."""
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= _MAX_THREADS:
        raise ValueError(f"[set_num_threads] expected a positive int up to {_MAX_THREADS}, got {n!r}")
    _C.set_num_threads(n)


def get_num_threads():
    return _C.get_num_threads()
