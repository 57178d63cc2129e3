"""The NCCL backend: collectives on CUDA tensors through NCCL's C API, loaded at run time with ctypes (no build
step; nothing is loaded at ``import pycnn``). The library comes from the nvidia-nccl-cu13 package
(nvidia/nccl/lib/libnccl.so.2), else libnccl.so.2 on the system's library path; PYCNN_NCCL_LIBRARY names
another file. Read ``load()`` (finding the library), then ``NcclBackend``, which the process group calls as it
calls the MPI backend; ``_Cuda`` holds the few CUDA driver calls NCCL needs around it.
"""

import ctypes
import importlib.util
import os
import time

from .. import _C  # errors are RuntimeErrors: _group imports this module, so this one imports nothing of it

LIBRARY_ENV = "PYCNN_NCCL_LIBRARY"
INSTALL_HINT = "pip install nvidia-nccl-cu13 (or pycnn[nccl])"

# ncclDataType_t values (nccl.h). bool travels as uint8: pycnn's bools are bytes holding 0 or 1, and the
# reductions below keep them so (a uint8 sum could wrap, so bool sums are maxima).
NCCL_DTYPES = {
    "uint8": 1,
    "int32": 2,
    "int64": 4,
    "float16": 6,
    "float32": 7,
    "float64": 8,
    "bfloat16": 9,
    "bool": 1,
}
# ncclRedOp_t values (nccl.h); ncclAvg and ncclBfloat16 exist from NCCL 2.10 on.
NCCL_OPS = {"sum": 0, "product": 1, "max": 2, "min": 3, "avg": 4}
BOOL_OPS = {"sum": "max", "product": "min", "min": "min", "max": "max"}  # torch: sum/max "any", product/min "all"
VERSION_2_10 = 21000  # ncclGetVersion's code: major * 10000 + minor * 100 + patch from 2.9 on

_NCCL_IN_PROGRESS = 7  # ncclResult_t: a non-blocking call still running (not an error)
_CUDA_ERROR_NOT_READY = 600  # CUresult: the event has not happened yet
_CU_EVENT_DISABLE_TIMING = 2


class _UniqueId(ctypes.Structure):
    # Bytes, not c_char: a c_char array field reads back cut at its first zero byte.
    _fields_ = [("internal", ctypes.c_ubyte * 128)]


# ---------------------------------------------------------------------------------------- the library ----
_loaded = {}  # PYCNN_NCCL_LIBRARY's value (None: unset) -> the CDLL, or the message of why it did not load


def candidates():
    """Where libnccl.so.2 is looked for, in order: the nvidia-nccl-cu13 package's lib folder in every location
    of the ``nvidia`` namespace package (found without importing anything), then the system's library path."""
    try:
        spec = importlib.util.find_spec("nvidia")
    except (ImportError, ValueError):
        spec = None
    roots = list(spec.submodule_search_locations or []) if spec is not None else []
    paths = [os.path.join(root, "nccl", "lib", "libnccl.so.2") for root in roots]
    return [p for p in paths if os.path.isfile(p)] + ["libnccl.so.2"]


def load():
    """The NCCL library as a ctypes.CDLL with its functions' signatures declared (loaded once). Raises
    RuntimeError naming what to install when it does not load."""
    override = os.environ.get(LIBRARY_ENV) or None
    if override not in _loaded:
        try:
            _loaded[override] = _open(override)
        except RuntimeError as e:
            _loaded[override] = str(e)
    lib = _loaded[override]
    if isinstance(lib, str):
        raise RuntimeError(lib)
    return lib


def is_available():
    """True when the NCCL library loads (a GPU is not needed for that)."""
    try:
        load()
    except RuntimeError:
        return False
    return True


def version(lib=None):
    """The loaded NCCL's version code (2.32.6 is 23206)."""
    lib = lib or load()
    code = ctypes.c_int()
    _check(lib, "ncclGetVersion", lib.ncclGetVersion(ctypes.byref(code)))
    return code.value


def _open(override):
    tried = []
    for path in [override] if override else candidates():
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            tried.append(f"{path} ({e})")
            continue
        try:
            return _declare(lib)
        except AttributeError as e:
            tried.append(f"{path} (not an NCCL library: {e})")
    if override:
        raise RuntimeError(
            f"[nccl] {LIBRARY_ENV}={override} does not load as the NCCL library: {tried[0]}; point it at a "
            f"libnccl.so.2, or unset it and {INSTALL_HINT}"
        )
    raise RuntimeError(
        f"[nccl] the NCCL library (libnccl.so.2) is not installed: {INSTALL_HINT} (tried {'; '.join(tried)})"
    )


def _declare(lib):
    """Signatures from nccl.h: without them ctypes would pass size_t and pointers as 32-bit ints."""
    P, I, S = ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t
    signatures = {
        "ncclGetVersion": [ctypes.POINTER(I)],
        "ncclGetUniqueId": [ctypes.POINTER(_UniqueId)],
        "ncclCommInitRank": [ctypes.POINTER(P), I, _UniqueId, I],  # the id is passed by value
        "ncclAllReduce": [P, P, S, I, I, P, P],  # send, recv, count, dtype, op, comm, stream
        "ncclBroadcast": [P, P, S, I, I, P, P],  # send, recv, count, dtype, root, comm, stream
        "ncclAllGather": [P, P, S, I, P, P],  # send, recv, count sent per rank, dtype, comm, stream
        "ncclReduceScatter": [P, P, S, I, I, P, P],  # send, recv, count received per rank, dtype, op, comm, stream
        "ncclCommGetAsyncError": [P, ctypes.POINTER(I)],
        "ncclCommAbort": [P],
        "ncclCommDestroy": [P],
    }
    for name, argtypes in signatures.items():
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = argtypes, I
    lib.ncclGetErrorString.argtypes, lib.ncclGetErrorString.restype = [I], ctypes.c_char_p
    if hasattr(lib, "ncclGetLastError"):  # NCCL >= 2.13: the detail behind the last failure
        lib.ncclGetLastError.argtypes, lib.ncclGetLastError.restype = [P], ctypes.c_char_p
    return lib


def _failure(lib, name, rc, comm=None):
    text = (lib.ncclGetErrorString(rc) or b"unknown result code").decode(errors="replace")
    last = lib.ncclGetLastError(comm) if hasattr(lib, "ncclGetLastError") else None
    last = (last or b"").decode(errors="replace").strip()
    return f"[nccl] {name} failed: {text} (result {rc})" + (f": {last}" if last else "")


def _check(lib, name, rc, comm=None):
    if rc != 0:
        raise RuntimeError(_failure(lib, name, rc, comm))


def _current_stream(index):
    return _C.cuda_current_stream(index)


def _device_index(device):
    kind, _, index = str(device).partition(":")
    if kind != "cuda" or (index and not index.isdigit()):
        raise RuntimeError(f"[nccl] NCCL takes CUDA tensors, got a tensor on {device!r}")
    return int(index or 0)


# -------------------------------------------------------------------------------------- the CUDA driver ----
class _Cuda:
    """The CUDA driver calls (libcuda.so.1, installed with every NVIDIA driver) NCCL needs around it: making
    the communicator's device current (NCCL takes the current device, and pycnn's runtime makes one current
    only inside its own calls) and events that mark a collective's end on a stream, for wait() to poll (pycnn
    binds no event query). ``with cuda:`` makes the device's primary context current for one scope."""

    def __init__(self, index):
        try:
            self.cu = cu = ctypes.CDLL("libcuda.so.1")
        except OSError as e:
            raise RuntimeError(
                f"[nccl] the CUDA driver library libcuda.so.1 does not load ({e}): NCCL needs an NVIDIA driver and a GPU"
            ) from None
        P, I, U = ctypes.c_void_p, ctypes.c_int, ctypes.c_uint
        signatures = {
            "cuInit": [U],
            "cuDeviceGet": [ctypes.POINTER(I), I],
            "cuDevicePrimaryCtxRetain": [ctypes.POINTER(P), I],
            "cuDevicePrimaryCtxRelease_v2": [I],
            "cuCtxPushCurrent_v2": [P],
            "cuCtxPopCurrent_v2": [ctypes.POINTER(P)],
            "cuEventCreate": [ctypes.POINTER(P), U],
            "cuEventRecord": [P, P],
            "cuEventQuery": [P],
            "cuEventDestroy_v2": [P],
            "cuGetErrorString": [I, ctypes.POINTER(ctypes.c_char_p)],
        }
        for name, argtypes in signatures.items():
            fn = getattr(cu, name)
            fn.argtypes, fn.restype = argtypes, I
        self.check("cuInit", cu.cuInit(0))
        self.device, self.context = ctypes.c_int(), ctypes.c_void_p()
        self.check("cuDeviceGet", cu.cuDeviceGet(ctypes.byref(self.device), index))
        self.check("cuDevicePrimaryCtxRetain", cu.cuDevicePrimaryCtxRetain(ctypes.byref(self.context), self.device))

    def check(self, name, rc):
        if rc != 0:
            text = ctypes.c_char_p()
            self.cu.cuGetErrorString(rc, ctypes.byref(text))
            raise RuntimeError(
                f"[nccl] {name} failed: {(text.value or b'unknown CUDA error').decode()} (CUresult {rc})"
            )

    def __enter__(self):
        self.check("cuCtxPushCurrent", self.cu.cuCtxPushCurrent_v2(self.context))
        return self

    def __exit__(self, *exc):
        popped = ctypes.c_void_p()
        self.cu.cuCtxPopCurrent_v2(ctypes.byref(popped))

    def record(self, stream):
        """A new event recorded on stream (inside ``with self``)."""
        event = ctypes.c_void_p()
        self.check("cuEventCreate", self.cu.cuEventCreate(ctypes.byref(event), _CU_EVENT_DISABLE_TIMING))
        self.check("cuEventRecord", self.cu.cuEventRecord(event, stream))
        return event

    def query(self, event):
        """True once the work before the event has completed (inside ``with self``)."""
        rc = self.cu.cuEventQuery(event)
        if rc != _CUDA_ERROR_NOT_READY:
            self.check("cuEventQuery", rc)  # an error of the stream's work (a failed kernel) surfaces here
        return rc == 0

    def destroy(self, event):
        self.cu.cuEventDestroy_v2(event)

    def release(self):
        self.cu.cuDevicePrimaryCtxRelease_v2(self.device)


# ---------------------------------------------------------------------------------------- the backend ----
class _Request:
    """An async collective: the event recorded after it on the stream (None once it completed)."""

    __slots__ = ("event",)

    def __init__(self, event):
        self.event = event


class NcclBackend:
    """Collectives on contiguous CUDA core tensors of this rank's device, through one NCCL communicator over
    the MPI communicator's ranks. Each call is enqueued on pycnn's current stream of that device and returns
    once enqueued: None when blocking (later work on the stream sees the result, as with torch's NCCL), or a
    request that wait() completes when ``async_op``."""

    def __init__(self, MPI, comm, device):
        self.device = str(device)
        self.index = _device_index(device)
        self.rank, self.size = comm.Get_rank(), comm.Get_size()
        self._comm, self.broken = None, None
        self.lib, self.cuda = self._start(comm)
        try:
            self.version = version(self.lib)
            new = self.version >= VERSION_2_10
            self.dtypes = frozenset(d for d in NCCL_DTYPES if new or d != "bfloat16")  # the group stages others
            self.native_ops = ("sum", "product", "min", "max") + (("avg",) if new else ())
            uid, handle = self._unique_id(comm), ctypes.c_void_p()
            with self.cuda:  # NCCL binds the communicator to the current device
                rc = self.lib.ncclCommInitRank(ctypes.byref(handle), self.size, uid, self.rank)
            _check(self.lib, "ncclCommInitRank", rc)
        except BaseException:
            self.cuda.release()
            raise
        self._comm = handle

    def _start(self, comm):
        """The library and the driver on every rank, or the same error on every rank: one rank failing alone
        would leave the others waiting in ncclCommInitRank."""
        error, lib, cuda = None, None, None
        try:
            lib, cuda = load(), _Cuda(self.index)
        except RuntimeError as e:
            error = str(e)
        errors = comm.allgather(error)
        bad = [r for r, e in enumerate(errors) if e]
        if bad:
            if cuda is not None:
                cuda.release()
            r = self.rank if error else bad[0]
            raise RuntimeError(errors[r] if r == self.rank else f"[nccl] rank {r} cannot start NCCL: {errors[r]}")
        return lib, cuda

    def _unique_id(self, comm):
        """Rank 0 makes the communicator's id and sends it to every rank over MPI (with its error, if any)."""
        payload = None
        if self.rank == 0:
            uid = _UniqueId()
            rc = self.lib.ncclGetUniqueId(ctypes.byref(uid))
            payload = (bytes(uid), _failure(self.lib, "ncclGetUniqueId", rc) if rc else None)
        data, error = comm.bcast(payload, root=0)
        if error:
            raise RuntimeError(error if self.rank == 0 else f"[nccl] on rank 0: {error}")
        return _UniqueId.from_buffer_copy(data)

    # ---- the collectives: the group passes contiguous tensors of a dtype in self.dtypes ----
    def all_reduce(self, impl, op, async_op=False):
        n = impl.numel()
        args = (impl.data_ptr, impl.data_ptr, n, self._dtype(impl), self._op(impl, op))
        return self._enqueue("ncclAllReduce", n, async_op, [impl], args)

    def broadcast(self, impl, src, async_op=False):
        n = impl.numel()
        args = (impl.data_ptr, impl.data_ptr, n, self._dtype(impl), src)
        return self._enqueue("ncclBroadcast", n, async_op, [impl], args)

    def all_gather(self, out_impl, in_impl, async_op=False):
        n = in_impl.numel()
        self._stacked("ncclAllGather", out_impl, in_impl)
        args = (in_impl.data_ptr, out_impl.data_ptr, n, self._dtype(in_impl))
        return self._enqueue("ncclAllGather", n, async_op, [out_impl, in_impl], args)

    def reduce_scatter(self, out_impl, in_impl, op, async_op=False):
        n = out_impl.numel()
        self._stacked("ncclReduceScatter", in_impl, out_impl)
        args = (in_impl.data_ptr, out_impl.data_ptr, n, self._dtype(out_impl), self._op(out_impl, op))
        return self._enqueue("ncclReduceScatter", n, async_op, [out_impl, in_impl], args)

    def _enqueue(self, name, count, async_op, tensors, args):
        self._usable(name)
        for t in tensors:
            if t.device != self.device:
                raise RuntimeError(
                    f"[nccl] {name}: a tensor is on {t.device}, and this rank's NCCL communicator is on "
                    f"{self.device}: a rank passes collectives tensors of one GPU only"
                )
        stream = _current_stream(self.index)
        with self.cuda:
            if count > 0:  # every rank has the same count (the group checked the shapes)
                _check(self.lib, name, getattr(self.lib, name)(*args, self._comm, stream), self._comm)
            return _Request(self.cuda.record(stream)) if async_op else None

    def _dtype(self, impl):
        if impl.dtype not in self.dtypes:
            raise RuntimeError(
                f"[nccl] NCCL {self.version} does not take {impl.dtype} tensors (it takes {sorted(self.dtypes)})"
            )
        return NCCL_DTYPES[impl.dtype]

    def _op(self, impl, op):
        op = BOOL_OPS[op] if impl.dtype == "bool" else op
        if op not in self.native_ops:
            raise RuntimeError(f"[nccl] NCCL {self.version} has no reduction {op!r} (it has {self.native_ops})")
        return NCCL_OPS[op]

    def _stacked(self, name, big, small):
        if big.numel() != self.size * small.numel() or big.dtype != small.dtype:
            raise RuntimeError(
                f"[nccl] {name}: a {big.dtype} tensor of {big.numel()} elements must hold world_size={self.size} "
                f"times the {small.dtype} tensor of {small.numel()}"
            )

    # ---- completion, errors and teardown ----
    def wait(self, request, deadline):
        """Waits until the request's collective has completed, polling its event and NCCL's asynchronous error
        until deadline (time.monotonic()): True when it completed; False when time ran out, after aborting the
        communicator (its kernels then stop, so no stream waits forever). A deadline already past on entry
        only tests (Work.is_completed). An asynchronous NCCL error aborts the communicator and raises."""
        testing = time.monotonic() >= deadline
        delay = 1e-6
        while request.event is not None:
            self._usable("wait")
            with self.cuda:
                if self.cuda.query(request.event):
                    self.cuda.destroy(request.event)
                    request.event = None
                    break
            if testing:
                return False
            if time.monotonic() > deadline:
                self.abort(f"a collective did not complete by its deadline on rank {self.rank}")
                return False
            time.sleep(delay)
            delay = min(1e-3, 2 * delay)  # a collective among ranks that all arrived ends within microseconds
        return True

    def _usable(self, name):
        if self._comm is None:
            raise RuntimeError(f"[nccl] {name}: the NCCL communicator is closed or aborted ({self.broken})")
        error = ctypes.c_int()
        _check(self.lib, "ncclCommGetAsyncError", self.lib.ncclCommGetAsyncError(self._comm, ctypes.byref(error)))
        if error.value not in (0, _NCCL_IN_PROGRESS):
            message = _failure(self.lib, "an earlier NCCL collective", error.value, self._comm)
            self.abort(message)
            raise RuntimeError(f"{message}; the NCCL communicator of rank {self.rank} is aborted")

    def abort(self, reason):
        """Stops the communicator's pending collectives and frees it; every later call raises ``reason``."""
        if self._comm is not None:
            comm, self._comm, self.broken = self._comm, None, reason
            with self.cuda:
                self.lib.ncclCommAbort(comm)  # its result is not actionable: the communicator is gone either way

    def close(self):
        """Frees the communicator once its collectives have completed (aborts it after an asynchronous error)."""
        if self.cuda is None:
            return
        try:
            if self._comm is not None:
                error = ctypes.c_int()
                self.lib.ncclCommGetAsyncError(self._comm, ctypes.byref(error))
                if error.value not in (0, _NCCL_IN_PROGRESS):
                    self.abort(_failure(self.lib, "an earlier NCCL collective", error.value))
                else:
                    comm, self._comm, self.broken = self._comm, None, "closed by destroy_process_group()"
                    with self.cuda:
                        _check(self.lib, "ncclCommDestroy", self.lib.ncclCommDestroy(comm))
        finally:
            self.cuda.release()
            self.cuda = None
