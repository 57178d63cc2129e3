"""The default process group: MPI's world, its rank and size, the backends, and the check every collective
makes before it moves data.

The check: the ranks all-gather a small description of their calls (which collective, its sequence number,
dtype, shape, reduce op, root) and each compares them all, so a rank whose call differs is named in the same
error on every rank, instead of the job hanging in MPI or reducing mismatched memory. When the gather does not
complete within the timeout, the ranks still there report to rank 0, which names the first rank missing. The
check costs one small collective (a few microseconds between ranks on one machine).
"""

import os
import sys
import threading
import time
from array import array
from datetime import timedelta

import numpy as np

from .. import _C, threads
from . import _mpi, _nccl

DEFAULT_TIMEOUT = 1800.0  # seconds, torch.distributed's default; PYCNN_DIST_TIMEOUT or timeout= change it

COLLECTIVES = ["barrier", "all_reduce", "broadcast", "all_gather", "reduce_scatter", "object"]
DTYPES = ["float32", "float64", "float16", "bfloat16", "int32", "int64", "uint8", "bool", ""]
REDUCE_OPS = ["", "sum", "avg", "product", "min", "max"]
_MAX_DIMS = 8
_META = 8 + _MAX_DIMS  # seq, collective, dtype, op, root, ndim, numel, device, dims
_ZEROS = (0,) * _META
_MISMATCH, _TIMEOUT = 1, 2
_TAG_CALL, _TAG_VERDICT = 11, 12


def divide_(impl, n):
    """impl /= n in place (an average from a sum over n ranks), on impl's device."""
    _C.copy_(impl, _C.binary("div", impl, _C.full([], float(n), impl.dtype, impl.device)))


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
        # PYCNN_DIST_CHECK=0 skips the call check (one small collective and a synchronisation per call): a
        # mismatch then hangs or fails inside MPI, and only the watchdog's timeout ends it
        self.checking = os.environ.get("PYCNN_DIST_CHECK", "1") != "0"
        # Separate communicators: the checks' messages and the collectives' traffic never match each other's,
        # nor a user's own mpi4py calls on COMM_WORLD.
        self.check_comm = world.Dup()
        self.mpi = _mpi.MpiBackend(MPI, world.Dup())
        self.nccl = None  # created at the first CUDA tensor (backend "nccl" or "auto")
        self._calls = bytearray(self.size * _META * 8)  # every rank's call, as int64s
        # A watchdog for the data movement itself, which MPI cannot time out: a rank that arrives after the others
        # gave up on it completes the check and then waits in the collective for ranks that are gone.
        self.current_call = None  # (op name, deadline) while a blocking collective moves data
        self._closed = threading.Event()
        if self.size > 1:
            threading.Thread(target=self._watch, name="pycnn-dist-watchdog", daemon=True).start()

    def _watch(self):
        while not self._closed.wait(min(10.0, max(0.05, self.timeout / 4))):
            call = self.current_call
            if call is not None and time.monotonic() > call[1]:
                sys.stderr.write(
                    f"[pycnn.distributed] rank {self.rank} of {self.size}: {call[0]} (call #{self.seq}) did not "
                    f"finish within {self.timeout:g} s (the process group's timeout): another rank died, gave up "
                    "waiting, or runs other code; aborting all ranks\n"
                )
                sys.stderr.flush()
                self.MPI.COMM_WORLD.Abort(1)

    def deadline(self):
        return time.monotonic() + self.timeout

    def check(self, op_name, call):
        """Every rank makes the same call, or every rank still running raises the same DistributedError."""
        if self.broken:
            raise DistributedError(f"[{op_name}] the process group is broken by an earlier error: {self.broken}")
        self.seq += 1
        meta = array("q", (self.seq, *call, *_ZEROS[len(call) + 1 :]))  # array and bytes: ~10x faster than NumPy
        if self.size == 1 or not self.checking:
            return
        # Every rank gathers every call and compares them all itself: the same verdict everywhere, at the cost
        # of one small collective. Only when it times out do the ranks find out, through rank 0, who is missing.
        request = self.check_comm.Iallgather(meta, self._calls)
        if request.Test() or _mpi.wait(self.MPI, [request], self.deadline()):
            verdict = None if self._calls == bytes(meta) * self.size else self._find_mismatch()
        else:
            verdict = self._find_missing(meta)
        if verdict is not None:
            self.broken = self._message(verdict)
            raise DistributedError(f"[{op_name}] {self.broken}")

    def _find_mismatch(self):
        calls = np.frombuffer(self._calls, np.int64).reshape(self.size, _META)
        bad = int(np.flatnonzero((calls != calls[0]).any(axis=1))[0])
        return (_MISMATCH, bad, calls[0], calls[bad])

    def _find_missing(self, meta):
        """After a timeout: the ranks still here report to rank 0, which names the first one that did not and
        tells the others (waiting at most the timeout again, and at most 10 s)."""
        comm, grace = self.check_comm, time.monotonic() + min(self.timeout, 10.0)
        if self.rank != 0:
            answer = np.zeros(1, np.int64)
            requests = [comm.Isend(meta, 0, _TAG_CALL), comm.Irecv(answer, 0, _TAG_VERDICT)]
            late = int(answer[0]) if _mpi.wait(self.MPI, requests, grace) else 0
            return (_TIMEOUT, late, meta, meta)
        calls = np.zeros((self.size, _META), np.int64)
        requests = [comm.Irecv(calls[r], r, _TAG_CALL) for r in range(1, self.size)]
        _mpi.wait(self.MPI, requests, grace)
        here = [r for r, q in enumerate(requests, 1) if q.Test()]
        late = next(r for r in range(1, self.size) if r not in here)
        for r in here:
            comm.Send(np.array([late], np.int64), r, _TAG_VERDICT)
        return (_TIMEOUT, late, meta, meta)

    def _message(self, verdict):
        status, bad, mine, theirs = verdict
        if status == _TIMEOUT and bad == 0:
            return (
                f"rank 0, which collects the ranks' calls when one is missing, did not answer {describe(mine)} "
                f"within {self.timeout:g} s (the process group's timeout, seen on rank {self.rank} of {self.size}): "
                "it died, hangs, or runs other code"
            )
        if status == _TIMEOUT:
            return (
                f"rank {bad} did not reach {describe(mine)} within {self.timeout:g} s (the process group's "
                f"timeout, seen on rank {self.rank} of {self.size}): it died, hangs, or runs other code; "
                "init_process_group(timeout=...) or PYCNN_DIST_TIMEOUT changes the timeout"
            )
        return (
            f"rank {bad} called {describe(theirs)} where rank 0 called {describe(mine)}: every "
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
            self.nccl = _nccl.NcclBackend(self.MPI, self.mpi.comm, impl.device)
        return self.nccl

    def close(self):
        self._closed.set()
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
