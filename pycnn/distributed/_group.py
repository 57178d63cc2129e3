"""The default process group: MPI's world, its rank and size, the backends, and the check every collective
makes before it moves data.

The check: each rank sends a small description of its call (which collective, its sequence number, dtype,
shape, reduce op, root) to rank 0, which compares them and answers every rank with one verdict. A rank
that does not arrive within the timeout, or arrives with a different call, is then named in the same
error on every rank that is still running, instead of the job hanging in MPI or reducing mismatched
memory. It costs one small message each way (a few microseconds between ranks on one machine).
"""

import os
import sys
import time
from datetime import timedelta

import numpy as np

from .. import threads
from . import _mpi

DEFAULT_TIMEOUT = 1800.0  # seconds, torch.distributed's default; PYCNN_DIST_TIMEOUT or timeout= change it

COLLECTIVES = ["barrier", "all_reduce", "broadcast", "all_gather", "reduce_scatter", "object", "bucket"]
DTYPES = ["float32", "float64", "float16", "bfloat16", "int32", "int64", "uint8", "bool", ""]
REDUCE_OPS = ["", "sum", "avg", "product", "min", "max"]
_MAX_DIMS = 8
_META = 8 + _MAX_DIMS  # seq, collective, dtype, op, root, ndim, numel, device, dims
_OK, _MISMATCH, _TIMEOUT = 0, 1, 2
_TAG_CALL, _TAG_VERDICT = 11, 12


class DistributedError(RuntimeError):
    """A collective that cannot complete: ranks that disagree on the call, or a rank that did not arrive in
    time. The message names the rank. The process group is unusable afterwards."""


def describe(meta):
    """A call's description, for the error message: 'all_reduce(sum) of a float32 tensor of shape (3, 4)'."""
    name, op = COLLECTIVES[meta[1]], REDUCE_OPS[meta[3]]
    text = f"{name}({op})" if op else name
    if name == "broadcast":
        text += f" from rank {meta[4]}"
    if DTYPES[meta[2]]:
        dims = tuple(int(d) for d in meta[8 : 8 + min(meta[5], _MAX_DIMS)])
        dims = dims + ("...",) if meta[5] > _MAX_DIMS else dims
        text += f" of a {DTYPES[meta[2]]} tensor of shape {dims}"
    return f"{text} (call #{meta[0]})"


class ProcessGroup:
    def __init__(self, MPI, backend, timeout):
        self.MPI = MPI
        world = MPI.COMM_WORLD
        self.rank, self.size = world.Get_rank(), world.Get_size()
        self.backend_name = backend
        self.timeout = timeout
        self.seq = 0
        self.broken = None
        # Separate communicators: the checks' messages and the collectives' traffic never match each other's,
        # nor a user's own mpi4py calls on COMM_WORLD.
        self.check_comm = world.Dup()
        self.mpi = _mpi.MpiBackend(MPI, world.Dup())
        self.nccl = None  # created at the first CUDA tensor (backend "nccl" or "auto")

    def deadline(self):
        return time.monotonic() + self.timeout

    def check(self, op_name, call):
        """Every rank makes the same call, or every rank still running raises the same DistributedError."""
        if self.broken:
            raise DistributedError(f"[{op_name}] the process group is broken by an earlier error: {self.broken}")
        self.seq += 1
        meta = np.zeros(_META, np.int64)
        meta[0], meta[1 : 1 + len(call)] = self.seq, call
        if self.size == 1:
            return
        verdict = self._check_as_root(meta) if self.rank == 0 else self._check_as_member(meta)
        if verdict[0] != _OK:
            self.broken = self._message(op_name, verdict)
            raise DistributedError(f"[{op_name}] {self.broken}")

    def _check_as_member(self, meta):
        comm, verdict = self.check_comm, np.zeros(2 + 2 * _META, np.int64)
        requests = [comm.Isend(meta, 0, _TAG_CALL), comm.Irecv(verdict, 0, _TAG_VERDICT)]
        if not _mpi.wait(self.MPI, requests, self.deadline()):
            verdict[:2] = (_TIMEOUT, 0)
            verdict[2 : 2 + _META] = meta
        return verdict

    def _check_as_root(self, meta):
        comm, calls = self.check_comm, np.zeros((self.size, _META), np.int64)
        calls[0] = meta
        requests = [comm.Irecv(calls[r], r, _TAG_CALL) for r in range(1, self.size)]
        verdict = np.zeros(2 + 2 * _META, np.int64)
        verdict[2 : 2 + _META] = meta
        arrived = _mpi.wait(self.MPI, requests, self.deadline())
        if not arrived:
            late = next(r for r, q in zip(range(1, self.size), requests) if not q.Test())
            verdict[:2] = (_TIMEOUT, late)
        else:
            for r in range(1, self.size):
                if not np.array_equal(calls[r], meta):
                    verdict[:2] = (_MISMATCH, r)
                    verdict[2 + _META :] = calls[r]
                    break
        for r in range(1, self.size):  # answers every rank that asked (a late one's request is not waited for)
            if arrived or requests[r - 1].Test():
                comm.Send(verdict, r, _TAG_VERDICT)
        return verdict

    def _message(self, op_name, verdict):
        status, bad, mine = int(verdict[0]), int(verdict[1]), verdict[2 : 2 + _META]
        if status == _TIMEOUT and bad == 0 and self.rank != 0:
            return (
                f"rank 0, which checks every collective call, did not answer {describe(mine)} within "
                f"{self.timeout:g} s (the process group's timeout, seen on rank {self.rank} of {self.size}): it "
                "died, hangs, gave up waiting for another rank, or runs other code"
            )
        if status == _TIMEOUT:
            return (
                f"rank {bad} did not reach {describe(mine)} within {self.timeout:g} s (the process group's "
                f"timeout, seen on rank {self.rank} of {self.size}): it died, hangs, or runs other code; "
                "init_process_group(timeout=...) or PYCNN_DIST_TIMEOUT changes the timeout"
            )
        return (
            f"rank {bad} called {describe(verdict[2 + _META :])} where rank 0 called {describe(mine)}: every "
            "rank must make the same collective calls in the same order with the same shapes and dtypes"
        )

    def backend_for(self, impl, op_name):
        if impl.device == "cpu":
            return self.mpi
        if self.backend_name == "mpi":
            raise RuntimeError(
                f"[{op_name}] the tensor is on {impl.device}, and the process group's backend is 'mpi', which "
                "takes CPU tensors; use init_process_group(backend='nccl') or 'auto' for CUDA tensors"
            )
        if self.nccl is None:
            from . import _nccl  # loads libnccl at run time, only when a CUDA tensor is reduced

            self.nccl = _nccl.NcclBackend(self.MPI, self.mpi.comm, impl.device)
        return self.nccl

    def close(self):
        for backend in (self.nccl, self.mpi):
            if backend is not None:
                backend.close()
        self.check_comm.Free()


_group = None
_previous_excepthook = None


def current(op_name):
    if _group is None:
        raise RuntimeError(
            f"[{op_name}] the default process group is not initialized; call "
            "pycnn.distributed.init_process_group() first (and launch with mpirun -n N)"
        )
    return _group


def _seconds(timeout, op_name):
    if timeout is None:
        env = os.environ.get("PYCNN_DIST_TIMEOUT")
        if env is None:
            return DEFAULT_TIMEOUT
        try:
            timeout = float(env)
        except ValueError:
            raise ValueError(f"[{op_name}] PYCNN_DIST_TIMEOUT={env!r} is not a number of seconds") from None
    if isinstance(timeout, timedelta):
        timeout = timeout.total_seconds()
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout < float("inf"):
        raise ValueError(f"[{op_name}] timeout must be a positive number of seconds or a timedelta, got {timeout!r}")
    return float(timeout)


def init(backend, timeout, world_size, rank):
    """init_process_group's work; see its docstring in __init__.py."""
    global _group
    op = "init_process_group"
    if _group is not None:
        raise RuntimeError(f"[{op}] the default process group is already initialized; destroy_process_group() first")
    if backend not in ("mpi", "nccl", "auto"):
        raise ValueError(f"[{op}] backend must be 'mpi', 'nccl' or 'auto', got {backend!r}")
    seconds = _seconds(timeout, op)
    MPI = _mpi.load()
    group = ProcessGroup(MPI, backend, seconds)
    for name, given, actual in (("world_size", world_size, group.size), ("rank", rank, group.rank)):
        if given not in (-1, None) and given != actual:
            group.close()
            raise ValueError(f"[{op}] {name}={given} but the MPI launcher started this process with {name} {actual}")
    _group = group
    _share_cores(MPI)
    if group.size > 1:
        _abort_others_on_uncaught_errors()


def destroy():
    global _group
    if _group is not None:
        _group.close()
        _group = None


def _share_cores(MPI):
    """Ranks on one machine share its cores: unless OMP_NUM_THREADS says otherwise, each rank's kernels use
    its share (as torchrun sets one thread per process), not every core each."""
    if "OMP_NUM_THREADS" in os.environ:
        return
    local = MPI.COMM_WORLD.Split_type(MPI.COMM_TYPE_SHARED)
    ranks_here = local.Get_size()
    local.Free()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    threads.set_num_threads(max(1, min(cores, (os.cpu_count() or 1) // ranks_here)))


def _abort_others_on_uncaught_errors():
    """A rank that stops on an uncaught exception would leave the others waiting in their next collective:
    it prints its traceback, says which rank it is, and aborts the job (the launcher then exits non-zero)."""
    global _previous_excepthook
    if _previous_excepthook is not None:
        return
    _previous_excepthook = sys.excepthook

    def hook(kind, value, tb):
        _previous_excepthook(kind, value, tb)
        group = _group
        if group is None:
            return
        sys.stderr.write(
            f"[pycnn.distributed] rank {group.rank} of {group.size} stopped on an uncaught {kind.__name__}; "
            "aborting all ranks\n"
        )
        sys.stderr.flush()
        group.MPI.COMM_WORLD.Abort(1)

    sys.excepthook = hook
