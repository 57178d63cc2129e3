"""DistributedDataParallel: one model replica per process, gradients averaged over the processes.

How the gradients travel: the parameters are grouped into buckets of about ``bucket_cap_mb`` (the first one
1 MB, so that communication starts early), in the reverse of the order the model registers them, which is
roughly the order backward produces their gradients. A post-accumulate-grad hook copies each finished
gradient into its bucket's flat buffer; a bucket whose gradients are all in starts a non-blocking sum
over the ranks at once, while backward goes on computing the rest. MPI advances a non-blocking collective
only inside MPI calls, so a progress thread tests the outstanding ones (about every 0.2 ms) during backward.
When backward ends, a queued callback starts any bucket still waiting (parameters this backward did not
reach count as zero), waits for every bucket, divides by the world size and writes the averages to
``.grad``. Buckets start in the same order on every rank, as MPI requires of collectives.
"""

import contextlib
import threading
import time
import weakref

import numpy as np

from ... import _C
from ... import distributed as dist
from ...autograd import queue_callback
from ...distributed import _group
from ...distributed._mpi import MpiBackend
from ...tensor import Tensor
from ..module import Module

_FIRST_BUCKET_MB = 1.0
_POLL_SECONDS = 2e-4


class _Bucket:
    """A flat buffer holding the gradients of some parameters (one dtype and device), reduced as one message."""

    def __init__(self, params):
        self.params = params
        first = params[0]._impl
        self.offsets = np.cumsum([0] + [p._impl.numel() for p in params]).tolist()
        self.flat = _C.empty([self.offsets[-1]], first.dtype, first.device)
        self.ready = set()  # indices of the parameters whose gradients are in
        self.request = None
        self.launched = self.completed = None  # time.perf_counter() stamps, for the overlap figures

    def view(self, i):
        p = self.params[i]._impl
        return self.flat.narrow(0, self.offsets[i], self.offsets[i + 1] - self.offsets[i]).view(list(p.shape))


def _buckets(params, cap_bytes, first_cap_bytes):
    """params (already in reverse registration order) grouped by (dtype, device) into buckets of up to
    cap_bytes, the first one closed at first_cap_bytes (a parameter larger than the cap gets its own)."""
    buckets, open_ = [], {}  # (dtype, device) -> [params, bytes] of the bucket being filled
    for p in params:
        group = open_.setdefault((p._impl.dtype, p._impl.device), [[], 0])
        group[0].append(p)
        group[1] += p.nbytes
        if group[1] >= (cap_bytes if buckets else first_cap_bytes):
            buckets.append(_Bucket(group[0]))
            group[:] = [[], 0]
    buckets.extend(_Bucket(members) for members, _ in open_.values() if members)
    return buckets


class _Progress:
    """A thread that tests the started buckets every _POLL_SECONDS while backward runs (MPI moves a non-blocking
    collective only inside MPI calls), idle otherwise. One per DDP, for its lifetime; it holds the DDP only
    weakly and ends after it. ``lock``: MPI forbids testing one request from two threads at once."""

    def __init__(self, owner):
        self.lock, self.active, self._owner = threading.Lock(), threading.Event(), weakref.ref(owner)
        threading.Thread(target=self._run, name="pycnn-ddp-progress", daemon=True).start()

    def _run(self):
        while True:
            if not self.active.wait(timeout=1.0) and self._owner() is None:
                return
            with self.lock:
                owner = self._owner()
                if owner is None:
                    return
                if self.active.is_set():
                    owner._test_buckets()
                del owner
            time.sleep(_POLL_SECONDS)


class DistributedDataParallel(Module):
    """Data-parallel training over the ranks of the default process group (torch's DistributedDataParallel).

    At construction every rank's model must have the same parameters (names, shapes, dtypes); rank 0's
    parameters and buffers are then copied to all ranks. Each backward leaves in every parameter's ``.grad``
    the average over the ranks of their gradients. ``no_sync()`` skips that for the backward passes of the
    forwards run inside it (gradient accumulation); the next synced backward averages the accumulated sums.
    ``broadcast_buffers`` copies rank 0's buffers (BatchNorm statistics) to every rank at each training
    forward; use ``nn.SyncBatchNorm.convert_sync_batchnorm`` for statistics over the whole batch.
    ``timeline`` holds the last synced backward's timestamps (bucket start and end, backward end).
    """

    def __init__(
        self,
        module,
        device_ids=None,
        output_device=None,
        broadcast_buffers=True,
        process_group=None,
        bucket_cap_mb=25.0,
        find_unused_parameters=False,
        gradient_as_bucket_view=False,
    ):
        super().__init__()
        op = "DistributedDataParallel"
        if not isinstance(module, Module):
            raise TypeError(f"[{op}] expected an nn.Module, got {type(module).__name__}")
        if isinstance(bucket_cap_mb, bool) or not isinstance(bucket_cap_mb, (int, float)) or not bucket_cap_mb > 0:
            raise ValueError(f"[{op}] bucket_cap_mb must be a positive number, got {bucket_cap_mb!r}")
        if process_group is not None:
            raise NotImplementedError(f"[{op}] only the default process group (process_group=None) is supported")
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        pg = _group.current(op)
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        _check_same_model(op, pg, named, list(module.named_buffers()))
        for t in [p for _, p in module.named_parameters()] + list(module.buffers()):
            dist.broadcast(t, src=0)
        cap = int(bucket_cap_mb * 2**20)
        self._params = [p for _, p in reversed(named)]
        self._buckets = _buckets(self._params, cap, min(cap, int(_FIRST_BUCKET_MB * 2**20)))
        self._where = {id(p): (b, i) for b in self._buckets for i, p in enumerate(b.params)}
        self._group = pg
        # Its own communicator: bucket sums run while backward may call other collectives (SyncBatchNorm's).
        self._mpi = MpiBackend(pg.MPI, pg.mpi.comm.Dup()) if pg.size > 1 else None
        self._progress = _Progress(self) if pg.size > 1 else None
        self._sync_next = False
        self._pending = False
        self.timeline = {}
        self._hooks = [p.register_post_accumulate_grad_hook(self._grad_ready) for p in self._params]

    # ---- forward ----
    def forward(self, *args, **kwargs):
        if self.training and self.broadcast_buffers and self._group.size > 1:
            for b in self.module.buffers():
                dist.broadcast(b, src=0)
        self._sync_next = self.require_backward_grad_sync and self._group.size > 1 and self.training
        return self.module(*args, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """Backward passes of forwards run inside this block keep their gradients local (accumulated in .grad)."""
        previous, self.require_backward_grad_sync = self.require_backward_grad_sync, False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    # ---- backward: buckets ----
    def _grad_ready(self, param):
        if not self._sync_next:
            return
        if not self._pending:  # the first gradient of this backward
            self._pending = True
            self._next_launch = 0
            self.timeline = {"backward_start": time.perf_counter()}
            queue_callback(self._finish)
        bucket, i = self._where[id(param)]
        _C.copy_(bucket.view(i), param.grad._impl)
        bucket.ready.add(i)
        self._launch_ready()

    def _launch_ready(self, force=False):
        """Starts, in bucket order, every bucket whose gradients are all in (with force: every bucket)."""
        while self._next_launch < len(self._buckets):
            bucket = self._buckets[self._next_launch]
            if not force and len(bucket.ready) < len(bucket.params):
                return
            for i in set(range(len(bucket.params))) - bucket.ready:  # not reached by this backward: zero
                g, view = bucket.params[i].grad, bucket.view(i)
                _C.copy_(view, g._impl if g is not None else _C.full(list(view.shape), 0.0, view.dtype, view.device))
            bucket.launched, bucket.completed = time.perf_counter(), None
            with self._progress.lock:
                bucket.request = self._backend(bucket).all_reduce(bucket.flat, "sum", True)
            self._next_launch += 1
            self._progress.active.set()

    def _backend(self, bucket):
        return self._mpi if bucket.flat.device == "cpu" else self._group.backend_for(bucket.flat, "DDP")

    def _test_buckets(self):
        """One test of every started bucket (the progress thread's work, under its lock)."""
        for b in self._buckets:
            if b.request is not None and b.completed is None and self._backend(b).wait(b.request, 0.0):
                b.completed = time.perf_counter()

    def _finish(self):
        """After backward: every bucket started and finished, averaged and written to .grad."""
        self.timeline["backward_end"] = time.perf_counter()
        try:
            self._launch_ready(force=True)
            self._progress.active.clear()
            with self._progress.lock:  # from here on this thread alone tests the requests, without pauses
                deadline = self._group.deadline()
                for b in self._buckets:
                    if b.completed is None:
                        if not self._backend(b).wait(b.request, deadline):
                            raise dist.DistributedError(
                                f"[DistributedDataParallel] a gradient bucket did not finish within "
                                f"{self._group.timeout:g} s on rank {self._group.rank}: another rank died or "
                                "stopped training"
                            )
                        b.completed = time.perf_counter()
            self._average_into_grads()
        finally:
            self._progress.active.clear()
            self._pending = False
        self.timeline["synced"] = time.perf_counter()
        self.timeline["buckets"] = [(b.launched, b.completed, b.flat.numel()) for b in self._buckets]

    def _average_into_grads(self):
        for b in self._buckets:
            _group.divide_(b.flat, self._group.size)
            for i, p in enumerate(b.params):
                if p.grad is None:
                    p.grad = Tensor._make(b.view(i).clone())
                else:
                    _C.copy_(p.grad._impl, b.view(i))
            b.ready.clear()
            b.request = None


def _check_same_model(op, pg, named_params, named_buffers):
    """Every rank wraps the same architecture: the same parameter and buffer names, shapes and dtypes."""
    mine = [(n, tuple(t.shape), str(t.dtype)) for n, t in named_params + named_buffers]
    everyone = [None] * pg.size
    dist.all_gather_object(everyone, mine)
    for r, theirs in enumerate(everyone):
        if theirs != everyone[0]:
            diff = next(((a, b) for a, b in zip(everyone[0], theirs) if a != b), (len(everyone[0]), len(theirs)))
            raise ValueError(
                f"[{op}] rank {r}'s model differs from rank 0's: {diff[1]} where rank 0 has {diff[0]} "
                "(every rank must wrap the same architecture)"
            )
