"""pycnn.from_dlpack: another library's tensor (a NumPy array, a torch tensor, anything with ``__dlpack__``, or
a raw DLPack capsule) as a pycnn tensor sharing its memory. The other direction is ``Tensor.__dlpack__``.
Capsules are built and opened in C++ (csrc/bindings/dlpack.cpp); this module follows the Python array API
standard's protocol around them: which capsule to ask the producer for, and when sharing is not allowed.
"""

from . import _C
from ._types import as_device
from .tensor import Tensor

_KDLCUDA = 2
_MAX_VERSION = (1, 0)  # what pycnn asks producers for; it reads every 1.x capsule


def from_dlpack(x, *, device=None, copy=None):
    """A tensor viewing ``x``'s memory without copying (strides and offset kept), as ``torch.from_dlpack``.

    The producer's memory stays alive until the last pycnn view of it dies, and is released exactly once then.
    A read-only source (the DLPack READ_ONLY flag, e.g. a NumPy array with ``writeable=False``) is copied,
    since pycnn tensors are writable; with ``copy=False`` it raises BufferError instead.

    Args:
        x: an object with ``__dlpack__`` (and ``__dlpack_device__``), or a ``"dltensor"`` /
            ``"dltensor_versioned"`` capsule (which this call consumes: a capsule is imported once).
        device: where the result lives (default: where ``x`` is); another device copies.
        copy: True always copies, False never does (BufferError or ValueError where sharing is impossible),
            None shares whenever it can.
    Returns:
        Tensor of ``x``'s shape and dtype (float16/32/64, bfloat16, int32/64, uint8, bool; others TypeError).
    """
    if copy is not None and not isinstance(copy, bool):
        raise TypeError(f"[from_dlpack] copy must be True, False or None, got {copy!r}")
    target = None if device is None else str(as_device(device))
    impl, flags = _C.from_dlpack_capsule(_capsule(x, copy))
    read_only = bool(flags & _C.DLPACK_FLAG_READ_ONLY)
    if read_only and copy is False:
        raise BufferError(
            "[from_dlpack] the source is read-only and pycnn tensors are writable: copy=False cannot share it "
            "(pass copy=None to copy it)"
        )
    if read_only or (copy and not flags & _C.DLPACK_FLAG_IS_COPIED):
        impl = impl.clone()
    if target is not None and target != impl.device:
        if copy is False:
            raise ValueError(f"[from_dlpack] moving a {impl.device} tensor to {target} needs a copy, and copy=False")
        impl = impl.to_device(target)
    return Tensor._make(impl)


def _capsule(x, copy):
    """x's capsule: versioned from producers that take max_version, legacy from older ones (a TypeError)."""
    if type(x).__name__ == "PyCapsule":
        return x
    if not hasattr(x, "__dlpack__"):
        raise TypeError(
            "[from_dlpack] expected an object with __dlpack__ (a NumPy array, a torch tensor...) or a DLPack "
            f"capsule, got {type(x).__name__}"
        )
    kind, index = x.__dlpack_device__() if hasattr(x, "__dlpack_device__") else (1, 0)
    legacy = {"stream": _consumer_stream(index)} if kind == _KDLCUDA else {}
    kwargs = dict(legacy, max_version=_MAX_VERSION)
    if copy is not None:
        kwargs["copy"] = copy
    try:
        return x.__dlpack__(**kwargs)
    except TypeError:
        return x.__dlpack__(**legacy)


def _consumer_stream(index):
    """The stream pycnn's kernels on cuda:index run on, as the protocol spells it (1: the legacy default)."""
    if not _C.cuda_is_built() or index >= _C.cuda_device_count():
        return None  # the import refuses the capsule and says why
    return _C.cuda_current_stream(index) or 1
