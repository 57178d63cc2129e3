"""Data-parallel training over processes and machines, with torch.distributed's names and semantics.

Launch N processes with MPI (``mpirun -n 4 python train.py``); each calls ``init_process_group()``, which takes
its rank and the world size from the launcher. Collectives work in place on a tensor's memory: CPU tensors
through MPI (mpi4py), CUDA tensors through NCCL (loaded at run time; ``backend="nccl"`` or ``"auto"``).

Before moving data every collective checks that all ranks make the same call (collective, dtype, shape,
reduce op, root): a mismatch, or a rank that does not arrive within the process group's timeout (``init_process_group(timeout=...)`` or ``PYCNN_DIST_TIMEOUT`` seconds; 30 minutes by default),
raises a ``DistributedError`` naming the rank on every rank still running. A rank that stops on an
uncaught exception aborts the job, so no rank waits forever and the launcher exits non-zero.
"""

import importlib.util
import pickle
import time

from .. import _C
from ..tensor import Tensor
from . import _group, _nccl
from ._group import DistributedError

__all__ = [
    "DistributedError",
    "ReduceOp",
    "Work",
    "all_gather",
    "all_gather_into_tensor",
    "all_gather_object",
    "all_reduce",
    "barrier",
    "broadcast",
    "broadcast_object_list",
    "destroy_process_group",
    "get_backend",
    "get_rank",
    "get_world_size",
    "init_process_group",
    "is_available",
    "is_initialized",
    "is_nccl_available",
    "reduce_scatter",
    "reduce_scatter_tensor",
]


class ReduceOp:
    """How all_reduce and reduce_scatter combine the ranks' values (torch.distributed.ReduceOp's names).
    AVG needs a floating tensor; on bool tensors SUM and MAX are "any", PRODUCT and MIN "all"."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"


def is_available():
    """True when mpi4py is installed (found without importing it: importing it starts MPI)."""
    return importlib.util.find_spec("mpi4py") is not None


def is_nccl_available():
    """True when the NCCL library (the nvidia-nccl-cu13 package, or libnccl.so.2 on the library path) loads."""
    return _nccl.is_available()


def init_process_group(backend="auto", init_method=None, timeout=None, world_size=-1, rank=-1):
    """Joins this process to the job the MPI launcher started. backend: "mpi" (CPU tensors), "nccl" (CUDA
    tensors through NCCL, CPU tensors through MPI) or "auto" (the same as "nccl": NCCL is loaded only when a
    CUDA tensor is first reduced). timeout: seconds or a timedelta a rank waits for the others in a collective
    before raising DistributedError. world_size and rank, when given, must agree with the launcher's."""
    if init_method not in (None, "env://", "mpi://"):
        raise ValueError(
            f"[init_process_group] init_method {init_method!r} is not supported: ranks come from the MPI "
            "launcher (mpirun -n N ...)"
        )
    _group.init(backend, timeout, world_size, rank)


def destroy_process_group():
    """Releases the default process group's communicators; init_process_group may be called again."""
    _group.destroy()


def is_initialized():
    return _group._group is not None


def get_rank():
    return _group.current("get_rank").rank


def get_world_size():
    return _group.current("get_world_size").size


def get_backend():
    return _group.current("get_backend").backend_name


def barrier():
    """Returns once every rank has called barrier() (or raises DistributedError after the timeout)."""
    _group.current("barrier").check("barrier", _untyped("barrier"))


class Work:
    """What a collective called with ``async_op=True`` returns: ``wait()`` blocks until it has completed (or
    raises DistributedError after the process group's timeout); ``is_completed()`` tests without blocking."""

    def __init__(self, group, backend, request, finish, op_name, buffers):
        self._group, self._backend, self._request, self._buffers = group, backend, request, buffers
        self._finish, self._op_name, self._done = finish, op_name, False

    def is_completed(self):
        if not self._done and self._backend.wait(self._request, deadline=0.0):
            self._complete()
        return self._done

    def wait(self, timeout=None):
        if not self._done:
            deadline = self._group.deadline() if timeout is None else _deadline_in(timeout)
            if not self._backend.wait(self._request, deadline):
                self._group.broken = f"{self._op_name} did not complete within its timeout"
                raise DistributedError(
                    f"[{self._op_name}] did not complete within the timeout on rank {self._group.rank}: "
                    "another rank died or stopped calling collectives"
                )
            self._complete()
        return True

    def _complete(self):
        self._done = True
        self._finish()
        self._buffers = None


def _deadline_in(timeout):
    return time.monotonic() + _group._seconds(timeout, "Work.wait")


# ---- the collectives ----
def _tensor(op_name, t, what="tensor"):
    if not isinstance(t, Tensor):
        raise TypeError(f"[{op_name}] expected {what} to be a pycnn.Tensor, got {type(t).__name__}")
    return t._impl


_COLLECTIVE, _DTYPE, _OP = ({name: i for i, name in enumerate(names)} for names in (_group.COLLECTIVES, _group.DTYPES, _group.REDUCE_OPS))  # fmt: skip


def _meta(collective, impl, op="", root=0):
    """The check's description of a call (see _group.describe): codes, root, rank, numel, device, dims."""
    shape = impl.shape
    codes = (_COLLECTIVE[collective], _DTYPE[impl.dtype], _OP[op], root, len(shape), impl.numel())
    return (*codes, impl.device != "cpu", *shape[: _group._MAX_DIMS])


def _untyped(collective, root=0):
    """The check's description of a call that moves no tensor (barrier, pickled objects)."""
    return (_COLLECTIVE[collective], _DTYPE[""], 0, root)


def _reduce_op(op_name, op, impl):
    if op not in (ReduceOp.SUM, ReduceOp.AVG, ReduceOp.PRODUCT, ReduceOp.MIN, ReduceOp.MAX):
        raise ValueError(f"[{op_name}] op must be a ReduceOp (SUM, AVG, PRODUCT, MIN, MAX), got {op!r}")
    if op == ReduceOp.AVG and impl.dtype not in ("float32", "float64", "float16", "bfloat16"):
        raise TypeError(f"[{op_name}] ReduceOp.AVG needs a floating tensor, got {impl.dtype}")
    return op


def _group_arg(op_name, group):
    if group is not None:
        raise NotImplementedError(f"[{op_name}] only the default process group (group=None) is supported")
    return _group.current(op_name)


def _staged(impl, backend):
    """A contiguous tensor of a dtype the backend reduces: the tensor itself when it is one, otherwise a
    copy (float16/bfloat16 in float32 for MPI) whose result is written back."""
    if impl.is_contiguous() and impl.dtype in backend.dtypes:
        return impl
    dtype = impl.dtype if impl.dtype in backend.dtypes else "float32"
    return impl.to_dtype(dtype).contiguous()


def _written(target, buf):
    """target now holds buf's values: copied back from a staging copy, or written in place by the backend
    (then its version is bumped, so autograd sees the change)."""
    if buf is target:
        target._bump_version()
    else:
        _C.copy_(target, buf)


def _reduced(pg, impl, buf, op, native):
    """What finishes a reduction: AVG, reduced as a SUM where the backend has no AVG, is divided by the world
    size; then the result lands in impl."""

    def finish():
        if native != op:
            _group.divide_(buf, pg.size)
        _written(impl, buf)

    return finish


def _run(group, backend, op_name, call, finish, async_op, buffers):
    """call(async_op) moves the data, finish() writes the results where they belong. The buffers the backend
    reads and writes live until then (the Work holds them while a non-blocking call runs)."""
    if not async_op:
        _blocking(group, op_name, call, False)
        finish()
        return None
    return Work(group, backend, call(True), finish, op_name, buffers)


def _blocking(group, op_name, call, *args):
    """call(*args), a blocking data movement, under the watchdog's eye."""
    group.current_call = (op_name, group.deadline())
    try:
        call(*args)
    finally:
        group.current_call = None


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Combines ``tensor`` over all ranks with ``op``; every rank's tensor holds the result (in place)."""
    pg, impl = _group_arg("all_reduce", group), _tensor("all_reduce", tensor)
    op = _reduce_op("all_reduce", op, impl)
    pg.check("all_reduce", _meta("all_reduce", impl, op))
    backend = pg.backend_for(impl, "all_reduce")
    buf = _staged(impl, backend)
    native = op if op in backend.native_ops else ReduceOp.SUM
    if buf is impl and native == op and not async_op:  # the common case, in place and without closures
        _blocking(pg, "all_reduce", backend.all_reduce, impl, op)
        impl._bump_version()
        return None
    finish = _reduced(pg, impl, buf, op, native)
    return _run(pg, backend, "all_reduce", lambda a: backend.all_reduce(buf, native, a), finish, async_op, (buf,))


def broadcast(tensor, src=0, group=None, async_op=False):
    """Every rank's ``tensor`` receives rank ``src``'s values (in place)."""
    pg, impl = _group_arg("broadcast", group), _tensor("broadcast", tensor)
    if isinstance(src, bool) or not isinstance(src, int) or not 0 <= src < pg.size:
        raise ValueError(f"[broadcast] src must be a rank in [0, {pg.size}), got {src!r}")
    pg.check("broadcast", _meta("broadcast", impl, root=src))
    backend = pg.backend_for(impl, "broadcast")
    buf = _staged(impl, backend)
    return _run(
        pg,
        backend,
        "broadcast",
        lambda a: backend.broadcast(buf, src, a),
        lambda: _written(impl, buf),
        async_op,
        (buf,),
    )


def _same_as(op_name, impl, others, what):
    for i, o in enumerate(others):
        if tuple(o.shape) != tuple(impl.shape) or o.dtype != impl.dtype or o.device != impl.device:
            raise ValueError(
                f"[{op_name}] {what}[{i}] is a {o.dtype} tensor of shape {tuple(o.shape)} on {o.device}; expected "
                f"{impl.dtype}, shape {tuple(impl.shape)} on {impl.device}"
            )


def _tensor_list(op_name, tensors, size, what):
    if not isinstance(tensors, (list, tuple)) or len(tensors) != size:
        n = len(tensors) if isinstance(tensors, (list, tuple)) else type(tensors).__name__
        raise ValueError(f"[{op_name}] {what} must be a list of world_size={size} tensors, got {n}")
    return [_tensor(op_name, t, f"{what}[{i}]") for i, t in enumerate(tensors)]


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """tensor_list[r] receives rank r's ``tensor``; every rank passes tensors of the same shape and dtype."""
    pg, impl = _group_arg("all_gather", group), _tensor("all_gather", tensor)
    outs = _tensor_list("all_gather", tensor_list, pg.size, "tensor_list")
    _same_as("all_gather", impl, outs, "tensor_list")
    pg.check("all_gather", _meta("all_gather", impl))
    backend = pg.backend_for(impl, "all_gather")
    src = _staged(impl, backend)
    buf = _C.empty([pg.size, *impl.shape], src.dtype, impl.device)

    def finish():
        for r, out in enumerate(outs):
            _C.copy_(out, buf.select(0, r))

    return _run(pg, backend, "all_gather", lambda a: backend.all_gather(buf, src, a), finish, async_op, (buf, src))


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """output_tensor (world_size * n rows, or shape (world_size, *input.shape)) receives every rank's input."""
    pg, impl = _group_arg("all_gather_into_tensor", group), _tensor("all_gather_into_tensor", input_tensor)
    out = _tensor("all_gather_into_tensor", output_tensor, "output_tensor")
    _stacked_shape("all_gather_into_tensor", out, impl, pg.size)
    pg.check("all_gather", _meta("all_gather", impl))
    backend = pg.backend_for(impl, "all_gather_into_tensor")
    src, buf = _staged(impl, backend), _staged(out, backend)
    call = lambda a: backend.all_gather(buf, src, a)
    return _run(pg, backend, "all_gather_into_tensor", call, lambda: _written(out, buf), async_op, (buf, src))


def _stacked_shape(op_name, big, small, size):
    shape, dims = tuple(big.shape), tuple(small.shape)
    stacked = shape == (size, *dims) or (len(dims) > 0 and shape == (size * dims[0], *dims[1:]))
    if not stacked or big.dtype != small.dtype or big.device != small.device:
        raise ValueError(
            f"[{op_name}] the large tensor ({big.dtype}, shape {shape}, {big.device}) must stack world_size={size} "
            f"tensors of the small one's shape {dims} ({small.dtype}, {small.device})"
        )


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """output on rank r receives input_list[r] combined over all ranks with ``op``."""
    pg, impl = _group_arg("reduce_scatter", group), _tensor("reduce_scatter", output, "output")
    ins = _tensor_list("reduce_scatter", input_list, pg.size, "input_list")
    _same_as("reduce_scatter", impl, ins, "input_list")
    stacked = _C.empty([pg.size, *impl.shape], impl.dtype, impl.device)
    for r, t in enumerate(ins):
        _C.copy_(stacked.select(0, r), t)
    return _reduce_scatter("reduce_scatter", pg, impl, stacked, op, async_op)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """output on rank r receives the r-th of world_size equal blocks of ``input``, combined over all ranks."""
    pg, impl = _group_arg("reduce_scatter_tensor", group), _tensor("reduce_scatter_tensor", output, "output")
    big = _tensor("reduce_scatter_tensor", input, "input")
    _stacked_shape("reduce_scatter_tensor", big, impl, pg.size)
    return _reduce_scatter("reduce_scatter_tensor", pg, impl, big, op, async_op)


def _reduce_scatter(op_name, pg, impl, big, op, async_op):
    op = _reduce_op(op_name, op, impl)
    pg.check(op_name, _meta("reduce_scatter", impl, op))
    backend = pg.backend_for(impl, op_name)
    src, buf = _staged(big, backend), _staged(impl, backend)
    native = op if op in backend.native_ops else ReduceOp.SUM
    finish = _reduced(pg, impl, buf, op, native)
    return _run(
        pg, backend, op_name, lambda a: backend.reduce_scatter(buf, src, native, a), finish, async_op, (buf, src)
    )


# ---- Python objects (pickled; for metrics and decisions, not for tensors) ----
def broadcast_object_list(object_list, src=0, group=None):
    """Every rank's object_list receives rank src's objects (in place), as torch's."""
    pg = _group_arg("broadcast_object_list", group)
    if not isinstance(object_list, list):
        raise TypeError(f"[broadcast_object_list] expected a list, got {type(object_list).__name__}")
    pg.check("broadcast_object_list", _untyped("object", root=src))
    object_list[:] = pg.mpi.comm.bcast(list(object_list) if pg.rank == src else None, root=src)


def all_gather_object(object_list, obj, group=None):
    """object_list[r] receives rank r's obj (object_list must have world_size entries)."""
    pg = _group_arg("all_gather_object", group)
    if not isinstance(object_list, list) or len(object_list) != pg.size:
        raise ValueError(f"[all_gather_object] object_list must be a list of world_size={pg.size} entries")
    pickle.dumps(obj)  # an unpicklable object fails here, on its own rank, before the others wait for it
    pg.check("all_gather_object", _untyped("object"))
    object_list[:] = pg.mpi.comm.allgather(obj)
