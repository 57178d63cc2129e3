"""DataLoader: batches from a dataset, in the main process or in worker processes (PyTorch's names and
argument order). Samplers live in sampler.py, the worker side and the transport in _worker.py.

One epoch (one iter()): draw base_seed and the order from the loader's generator; then for batch b,
indices -> reseed default_generator() to base_seed + b -> dataset -> collate. When the dataset has
`__getitems__` and no collate_fn is given, a batch is one NumPy fancy-index per field wrapped with
from_numpy (no per-sample Python). Read DataLoader, then _MultiProcessIter, then _WorkerPool.
"""

import contextlib
import copy
import itertools
import multiprocessing as mp
import os
import select
import socket
import sys
import time
import warnings
from multiprocessing import connection as mp_connection
from numbers import Integral, Real

from .. import cuda as _cuda
from ..nn._arguments import positive_int
from ..random import Generator, default_generator, initial_seed
from ._worker import (
    _worker_loop,
    batch_seed,
    encode_message,
    fetch_iterable,
    fetch_map,
    main_ends,
    recv_message,
    unpack,
)
from .collate import _to_tensor, default_collate
from .dataset import IterableDataset, _numpy_rng
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler, WeightedRandomSampler

__all__ = [
    "BatchSampler",
    "DataLoader",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "default_collate",
]

_GRACE_S = 2.0  # how long shutdown waits for workers to leave on their own before terminating them


class DataLoader:
    """Iterates over a dataset in batches, optionally loading them in worker processes.

    Args:
        dataset: map-style dataset (defines __getitem__ and __len__; __getitems__ makes it fast), or an
            IterableDataset (batches of what iter(dataset) yields; no shuffle or sampler).
        batch_size: samples per batch (positive int).
        shuffle: reshuffle the order on every epoch (every call to iter()).
        sampler: Sampler or iterable of indices giving the order; excludes shuffle.
        batch_sampler: yields lists of indices; excludes batch_size, shuffle, sampler and drop_last.
        num_workers: 0 loads in the main process; n > 0 starts n worker processes per epoch (or once,
            with persistent_workers) that load batches ahead while the model trains.
        collate_fn: turns a list of samples into a batch (default: default_collate).
        pin_memory: put batches in page-locked host memory, so that ``.to("cuda", non_blocking=True)``
            copies them asynchronously; without a usable GPU it warns once and acts as False (as torch).
        drop_last: drop the last batch if it is smaller than batch_size.
        timeout: seconds to wait for a batch from the workers before raising RuntimeError; 0 waits
            forever (a worker that dies is noticed at once either way).
        worker_init_fn: called as worker_init_fn(worker_id) in each worker before it loads anything.
        multiprocessing_context: start method name ('fork', 'spawn', 'forkserver') or context; default
            'fork' on Linux (workers share the dataset's memory and start in milliseconds), else 'spawn'
            (the dataset, collate_fn and worker_init_fn must then be picklable).
        generator: Generator that the per-epoch base seed and shuffle order are drawn from.
        prefetch_factor: batches each worker keeps in flight (default 2; only with num_workers > 0).
        persistent_workers: keep the workers between epochs instead of starting them every epoch.
        seed: int seeding a private generator instead of `generator` (keyword only; a pycnn addition).
            With neither, the private generator's seed is drawn from default_generator() when the
            loader is built with shuffle=True (so manual_seed(s) first fixes the order), and is
            initial_seed() otherwise (building a non-shuffling loader draws nothing).

    Randomness, the same whatever num_workers is:
        Each iter() draws base_seed = generator.numpy.integers(0, 2**63 - 1), then the shuffle order.
        Before batch b of the epoch (b = 0, 1, ...) is loaded, default_generator() is re-seeded with
        manual_seed((base_seed + b) % 2**63), in the main process and in a worker alike, so random
        transforms that draw from default_generator() (pycnn.data.transforms do) give the same
        batches for num_workers = 0, 1, 2, ... and the same seed. In the main process the global
        generator's own stream is put back after each batch, so model-side draws (init, dropout) do not
        depend on loading. Workers also seed Python's `random` and NumPy's legacy `np.random` with
        base_seed + worker_id, as torch does; those draws repeat only for a fixed num_workers.
        With num_workers=0 the swap of default_generator()'s stream happens in the iterating thread:
        do not iterate such a loader in a background thread while another thread draws from it.

    Resuming: state_dict() / load_state_dict() save and restore the generator (and a sampler's or
    batch_sampler's own state). Saved between epochs, the next epoch after loading is the one the
    original run would have had; saved in the middle of an epoch, that epoch is replayed without its
    first `batches_done` batches (skipped without loading them, for map-style datasets).

    Yields:
        batches as returned by collate_fn; for a TensorDataset of (N, ...) tensors, a tuple of
        pc.Tensors of shape (B, ...).

    Workers return batches through sockets with pickle protocol 5 (arrays travel out of band: one
    copy into the socket, one out of it). Measured on a 2-core machine with batches of 64 MNIST images,
    this transport alone moves 5,000-7,000 batches/s from one process: twice multiprocessing.Queue and
    3-4x a fresh shared-memory block per batch (benchmarks/bench_dataloader.py).
    """

    def __init__(
        self,
        dataset,
        batch_size=1,
        shuffle=False,
        sampler=None,
        batch_sampler=None,
        num_workers=0,
        collate_fn=None,
        pin_memory=False,
        drop_last=False,
        timeout=0,
        worker_init_fn=None,
        multiprocessing_context=None,
        generator=None,
        *,
        prefetch_factor=None,
        persistent_workers=False,
        seed=None,
    ):
        shuffle = False if shuffle is None else shuffle
        self._check_worker_args(
            num_workers, timeout, worker_init_fn, multiprocessing_context, prefetch_factor, persistent_workers
        )
        if not isinstance(shuffle, bool):
            raise ValueError(f"[DataLoader] shuffle must be a bool, got {shuffle!r}")
        if sampler is not None and shuffle:
            raise ValueError("[DataLoader] sampler and shuffle=True are mutually exclusive")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"[DataLoader] collate_fn must be callable, got {type(collate_fn).__name__}")
        if generator is not None and seed is not None:
            raise ValueError("[DataLoader] pass either generator or seed, not both")
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable and (shuffle or sampler is not None or batch_sampler is not None):
            raise ValueError(
                "[DataLoader] an IterableDataset sets its own order: shuffle, sampler and batch_sampler are not allowed"
            )

        if generator is None:
            if seed is None:
                seed = int(_numpy_rng(None).integers(0, 2**63 - 1)) if shuffle else initial_seed()
            self._generator = Generator(seed)
        else:
            _numpy_rng(generator, "DataLoader")  # type check
            self._generator = generator

        self._user_sampler = sampler is not None
        self._user_batch_sampler = batch_sampler is not None
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "[DataLoader] batch_sampler is mutually exclusive with batch_size, shuffle, sampler and drop_last"
                )
            batch_size, drop_last = None, False
        else:
            positive_int(batch_size, "batch_size", "DataLoader")
            if not isinstance(drop_last, bool):
                raise ValueError(f"[DataLoader] drop_last must be a bool, got {drop_last!r}")
            if not self._iterable:
                if sampler is None:
                    sampler = (
                        RandomSampler(dataset, generator=self._generator) if shuffle else SequentialSampler(dataset)
                    )
                batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = int(num_workers)
        self.collate_fn = collate_fn
        self.pin_memory = bool(pin_memory)
        self._pin = self.pin_memory and _pinning_available()
        self.timeout = float(timeout)
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator
        self.prefetch_factor = (2 if prefetch_factor is None else int(prefetch_factor)) if num_workers else None
        self.persistent_workers = persistent_workers
        self._pool = None  # the workers, kept here between epochs when persistent_workers
        self._epoch = None  # the latest epoch started (for state_dict)
        self._resume_batches = 0  # batches the next epoch skips (set by load_state_dict)

    @staticmethod
    def _check_worker_args(num_workers, timeout, worker_init_fn, context, prefetch_factor, persistent_workers):
        if isinstance(num_workers, bool) or not isinstance(num_workers, Integral) or num_workers < 0:
            raise ValueError(f"[DataLoader] num_workers must be an int >= 0, got {num_workers!r}")
        if isinstance(timeout, bool) or not isinstance(timeout, Real) or not timeout >= 0:
            raise ValueError(f"[DataLoader] timeout must be a number >= 0, got {timeout!r}")
        if worker_init_fn is not None and not callable(worker_init_fn):
            raise TypeError(f"[DataLoader] worker_init_fn must be callable, got {type(worker_init_fn).__name__}")
        if prefetch_factor is not None:
            if num_workers == 0:
                raise ValueError(
                    "[DataLoader] prefetch_factor needs num_workers > 0 (num_workers=0 loads each "
                    "batch when it is asked for)"
                )
            if isinstance(prefetch_factor, bool) or not isinstance(prefetch_factor, Integral) or prefetch_factor <= 0:
                raise ValueError(f"[DataLoader] prefetch_factor must be a positive int, got {prefetch_factor!r}")
        if not isinstance(persistent_workers, bool):
            raise ValueError(f"[DataLoader] persistent_workers must be a bool, got {persistent_workers!r}")
        if persistent_workers and num_workers == 0:
            raise ValueError("[DataLoader] persistent_workers=True needs num_workers > 0")
        if isinstance(context, str):
            if context not in mp.get_all_start_methods():
                raise ValueError(
                    f"[DataLoader] multiprocessing_context {context!r} is not one of {mp.get_all_start_methods()}"
                )
        elif context is not None and not hasattr(context, "Process"):
            raise TypeError(
                f"[DataLoader] multiprocessing_context must be a start method name or a "
                f"multiprocessing context, got {type(context).__name__}"
            )

    def __len__(self):
        """Number of batches per epoch."""
        if not self._iterable:
            return len(self.batch_sampler)
        try:
            n = len(self.dataset)
        except TypeError:
            raise TypeError(f"[DataLoader] the IterableDataset {type(self.dataset).__name__} has no len()") from None
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    # ------------------------------------------------------------------------------------------ epochs

    def _fast_path(self):
        return self.collate_fn is None and not self._iterable and hasattr(self.dataset, "__getitems__")

    def _index_batches(self):
        if isinstance(self.batch_sampler, BatchSampler):
            return self.batch_sampler._iter_arrays()
        return iter(self.batch_sampler)

    def _begin_epoch(self):
        """Record the streams' state, draw the epoch's base seed and order, and skip resumed batches."""
        skip, self._resume_batches = self._resume_batches, 0
        epoch = _Epoch(
            start_state=self._stream_states(),
            base_seed=int(_numpy_rng(self._generator).integers(0, 2**63 - 1)),
            skip=skip,
        )
        if not self._iterable:
            # Skipped batches (a resumed epoch) cost one index slice each, not a load.
            epoch.batches = itertools.islice(enumerate(self._index_batches()), skip, None)
        self._epoch = epoch
        return epoch

    def __iter__(self):
        epoch = self._begin_epoch()
        if self.num_workers == 0:
            return self._iter_main_process(epoch)
        if not self.persistent_workers:
            return _MultiProcessIter(self, epoch, _WorkerPool(self, epoch.base_seed), owns_pool=True)
        if self._pool is None or not self._pool.healthy():
            if self._pool is not None:
                self._pool.shutdown()
            self._pool = _WorkerPool(self, epoch.base_seed)
        return _MultiProcessIter(self, epoch, self._pool, owns_pool=False)

    def _iter_main_process(self, epoch):
        fast, collate = self._fast_path(), self.collate_fn or default_collate
        if self._iterable:
            iterator = iter(self.dataset)
            for b in itertools.count():
                batch = _load_seeded(
                    batch_seed(epoch.base_seed, b), fetch_iterable, iterator, self.batch_size, self.drop_last, collate
                )
                if batch is None:
                    break
                if b < epoch.skip:
                    continue
                epoch.done += 1
                yield _pin_batch(batch) if self._pin else batch
        else:
            for b, indices in epoch.batches:
                batch = _load_seeded(batch_seed(epoch.base_seed, b), fetch_map, self.dataset, indices, fast, collate)
                epoch.done += 1
                batch = _fields_to_tensors(batch) if fast else batch
                yield _pin_batch(batch) if self._pin else batch
        epoch.finished = True

    # ------------------------------------------------------------------------------------------ resume

    def _stream_states(self):
        states = {"generator": _numpy_rng(self._generator).bit_generator.state}
        for name, given in (("sampler", self._user_sampler), ("batch_sampler", self._user_batch_sampler)):
            state_dict = getattr(getattr(self, name), "state_dict", None)
            if given and callable(state_dict):
                states[name] = state_dict()
        return states

    def state_dict(self):
        """The loader's random state, JSON-serialisable.

        Returns:
            {"rng": {"generator": bit_generator state, ["sampler" / "batch_sampler": their state_dict]},
             "batches_done": batches of the current epoch already yielded (0 between epochs)}.
        """
        epoch = self._epoch
        if epoch is not None and not epoch.finished:
            return {"rng": copy.deepcopy(epoch.start_state), "batches_done": epoch.done}
        return {"rng": self._stream_states(), "batches_done": 0}

    def load_state_dict(self, state):
        """Restore a state_dict(): the next iter() gives the batches the saved run would have had next."""
        name = "DataLoader.load_state_dict"
        if not isinstance(state, dict) or not isinstance(state.get("rng"), dict) or "generator" not in state["rng"]:
            raise ValueError(f"[{name}] expected the dict of DataLoader.state_dict(), got {state!r:.100}")
        done = state.get("batches_done", 0)
        if isinstance(done, bool) or not isinstance(done, Integral) or done < 0:
            raise ValueError(f"[{name}] batches_done must be an int >= 0, got {done!r}")
        rng = state["rng"]
        try:
            _numpy_rng(self._generator).bit_generator.state = rng["generator"]
        except (TypeError, ValueError, KeyError) as e:
            raise ValueError(f"[{name}] bad generator state: {e}") from None
        for key in ("sampler", "batch_sampler"):
            if key in rng:
                target = getattr(self, key)
                if not hasattr(target, "load_state_dict"):
                    raise ValueError(
                        f"[{name}] the state holds a {key} state but this loader's {key} "
                        f"({type(target).__name__}) has no load_state_dict"
                    )
                target.load_state_dict(rng[key])
        self._resume_batches = int(done)
        self._epoch = None

    # ------------------------------------------------------------------------------------------ workers

    def _mp_context(self):
        ctx = self.multiprocessing_context
        if ctx is None:
            linux_fork = sys.platform.startswith("linux") and "fork" in mp.get_all_start_methods()
            return mp.get_context("fork" if linux_fork else "spawn")
        return mp.get_context(ctx) if isinstance(ctx, str) else ctx

    def __del__(self):
        pool = getattr(self, "_pool", None)
        if pool is not None:
            with contextlib.suppress(Exception):  # interpreter shutdown: modules may be half torn down
                pool.shutdown()


class _Epoch:
    """One pass: the stream states before it (for state_dict), its base seed, its batches, progress."""

    __slots__ = ("base_seed", "batches", "done", "finished", "skip", "start_state")

    def __init__(self, start_state, base_seed, skip):
        self.start_state, self.base_seed, self.skip = start_state, base_seed, skip
        self.batches = None  # iterator of (batch index, indices) for a map-style dataset
        self.done = skip  # batches of this epoch yielded so far, counting skipped ones
        self.finished = False


def _load_seeded(seed, fetch, *args):
    """fetch(*args) with default_generator() drawing from a stream seeded by `seed`; afterwards the
    generator's own stream object is put back untouched, so the caller's random sequence goes on as if
    nothing had been loaded."""
    gen = default_generator()
    saved = gen.numpy
    gen.numpy = Generator(seed).numpy  # the stream gen.manual_seed(seed) gives, as workers do
    try:
        return fetch(*args)
    finally:
        gen.numpy = saved


_warned_no_pinning = False


def _pinning_available():
    """pin_memory=True needs a usable GPU; without one, warn once per process and load unpinned."""
    global _warned_no_pinning
    if _cuda.is_available():
        return True
    if not _warned_no_pinning:
        _warned_no_pinning = True
        warnings.warn(
            "[DataLoader] pin_memory=True but no CUDA device is available (or pycnn was built without CUDA): "
            "batches are not pinned",
            UserWarning,
            stacklevel=3,
        )
    return False


def _pin_batch(batch):
    """The batch with every tensor in page-locked memory (the main process pins: workers hand over arrays)."""
    if hasattr(batch, "pin_memory") and hasattr(batch, "_impl"):
        return batch.pin_memory()
    if isinstance(batch, dict):
        return {k: _pin_batch(v) for k, v in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*(_pin_batch(v) for v in batch))
    if isinstance(batch, (tuple, list)):
        return type(batch)(_pin_batch(v) for v in batch)
    return batch


def _fields_to_tensors(fields):
    """pc.Tensors from a gathered batch: one per field of a tuple/list, or one for a single array."""
    if isinstance(fields, (tuple, list)):
        return type(fields)(_to_tensor(f) for f in fields)
    return _to_tensor(fields)


class _MultiProcessIter:
    """One epoch read from a _WorkerPool.

    Tasks are numbered in sampler order and dealt to the workers in turn, at most
    prefetch_factor * num_workers in flight; replies can arrive in any order and wait in `_ready` until
    it is their turn, so batches come out in sampler order. For an IterableDataset a task means "your
    next batch" and a worker whose stream ended answers 'end' and gets no more tasks.
    """

    def __init__(self, loader, epoch, pool, owns_pool):
        self._loader, self._epoch, self._pool, self._owns_pool = loader, epoch, pool, owns_pool
        pool.epoch += 1
        self._id = pool.epoch  # replies of an abandoned earlier epoch (persistent workers) carry another id
        self._fast, self._iterable = loader._fast_path(), loader._iterable
        self._skip = epoch.skip if self._iterable else 0  # an iterable's resumed batches are loaded, then dropped
        self._next_task = 0  # id of the next task to send
        self._next_out = 0  # id of the next reply to hand out
        self._worker_of = {}  # task id -> worker, for tasks not handed out yet
        self._ready = {}  # task id -> (kind, payload) received ahead of its turn
        self._active = [True] * loader.num_workers
        self._turn = itertools.cycle(range(loader.num_workers))
        self._sent_all = False
        try:
            for _ in range(loader.prefetch_factor * loader.num_workers):
                self._put_task()
        except BaseException:  # e.g. a batch_sampler that raises: do not leave the workers behind
            self._finish(failed=True, grace=0.0)
            raise

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader)

    def _put_task(self):
        if self._sent_all:
            return
        if self._iterable:
            batch_index, indices = self._next_task, None
        else:
            try:
                batch_index, indices = next(self._epoch.batches)
            except StopIteration:
                self._sent_all = True
                return
        for _ in range(len(self._active)):
            worker = next(self._turn)
            if self._active[worker]:
                break
        else:  # every worker's stream has ended
            self._sent_all = True
            return
        task_id = self._next_task
        self._worker_of[task_id] = worker
        self._next_task += 1
        try:
            self._pool.send_task(worker, (self._id, task_id, indices, batch_seed(self._epoch.base_seed, batch_index)))
        except OSError:  # broken pipe / reset: the worker is gone
            self._worker_died(worker)

    def __next__(self):
        while True:
            if self._pool is None:
                raise StopIteration
            if self._pool.epoch != self._id:
                raise RuntimeError(
                    "[DataLoader] this iterator was replaced by a newer iter() of its loader "
                    "(persistent_workers=True shares the workers); use the newer one"
                )
            if self._next_out == self._next_task:  # nothing in flight: the epoch is over
                self._epoch.finished = True
                self._finish()
                raise StopIteration
            task_id = self._next_out
            while task_id not in self._ready:
                self._receive()
            kind, payload = self._ready.pop(task_id)
            worker = self._worker_of.pop(task_id)
            self._next_out += 1
            if kind == "error":
                self._finish(failed=True)
                payload.reraise()
            if kind == "end":
                self._active[worker] = False
                self._put_task()
                continue
            self._put_task()
            if self._skip:
                self._skip -= 1
                continue
            self._epoch.done += 1
            batch = unpack(payload)
            batch = _fields_to_tensors(batch) if self._fast else batch
            return _pin_batch(batch) if self._loader._pin else batch

    def _receive(self):
        """Wait for replies (any worker) and file those of this epoch under their task id."""
        pool = self._pool
        waiting_for = self._worker_of[self._next_out]
        deadline = time.monotonic() + self._loader.timeout if self._loader.timeout else None
        while True:
            ready = pool.poll(None if deadline is None else deadline - time.monotonic())
            got, exited = False, []
            for is_socket, worker in ready:
                if not is_socket:
                    exited.append(worker)
                    continue
                try:
                    epoch_id, task_id, kind, payload = recv_message(pool.socks[worker])
                except (EOFError, OSError):
                    self._worker_died(worker)
                if epoch_id == self._id:  # else a reply to an abandoned epoch (persistent workers)
                    self._ready[task_id] = (kind, payload)
                    got = True
            if got:
                return
            for worker in exited:  # workers exit only when told to; any pending reply was read above
                self._worker_died(worker)
            if deadline is not None and time.monotonic() >= deadline:
                self._finish(failed=True, grace=0.0)
                raise RuntimeError(
                    f"[DataLoader] timed out after {self._loader.timeout:g} s waiting for batch "
                    f"{self._next_out} of the epoch from worker {waiting_for}"
                )

    def _worker_died(self, worker):
        p = self._pool.processes[worker]
        p.join(timeout=1.0)
        code = p.exitcode
        self._finish(failed=True, grace=0.5)
        how = "still running" if code is None else (f"killed by signal {-code}" if code < 0 else f"exit code {code}")
        raise RuntimeError(
            f"[DataLoader] worker {worker} (pid {p.pid}) exited unexpectedly ({how}); if it was "
            "killed for lack of memory, lower batch_size or num_workers"
        )

    def _finish(self, failed=False, grace=_GRACE_S):
        """Leave the pool: shut it down if this iterator owns it, or if it failed (a persistent pool is
        then rebuilt by the next iter())."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if self._owns_pool or failed:
            pool.shutdown(grace)

    def __del__(self):
        with contextlib.suppress(Exception):  # interpreter shutdown: modules may be half torn down
            self._finish()


class _WorkerPool:
    """A loader's worker processes, each with one duplex socket to the main process.

    Tasks go out with non-blocking sends; what does not fit in the socket waits in `pending` and is
    flushed when poll() says the socket can take more, so the main process never blocks on a worker
    that is itself blocked sending a big batch. Batches come back on the same sockets, which the main
    process polls together with the processes' sentinels, so a dead worker is noticed at once. Closing
    our sending side (end-of-file) tells a worker to stop.
    """

    def __init__(self, loader, base_seed):
        ctx = loader._mp_context()
        self.processes, self.socks, self.pending = [], [], []
        self.epoch = 0
        self.closed = False
        self._pid = os.getpid()
        self._poller = select.poll()
        self._fd_owner = {}  # fd -> (is_socket, worker)
        dataset, n = loader.dataset, loader.num_workers
        try:
            for worker in range(n):
                main_end, worker_end = socket.socketpair()
                main_ends.add(main_end)
                self.socks.append(main_end)
                self.pending.append(bytearray())
                p = ctx.Process(
                    target=_worker_loop,
                    name=f"pycnn-DataLoader-worker-{worker}",
                    daemon=True,
                    args=(
                        worker,
                        n,
                        dataset,
                        loader._iterable,
                        loader._fast_path(),
                        loader.collate_fn or default_collate,
                        loader.batch_size,
                        loader.drop_last,
                        loader.worker_init_fn,
                        batch_seed(base_seed, worker),
                        worker_end,
                        self._pid,
                    ),
                )
                try:
                    p.start()
                finally:
                    # Close our copy before the next fork so only this worker holds its end: its death then
                    # shows as end-of-file here.
                    worker_end.close()
                self.processes.append(p)
                self._watch(main_end.fileno(), True, worker)
                self._watch(p.sentinel, False, worker)
        except BaseException:
            self.shutdown(grace=0.0)
            raise

    def _watch(self, fd, is_socket, worker):
        self._fd_owner[fd] = (is_socket, worker)
        self._poller.register(fd, select.POLLIN)

    def send_task(self, worker, task):
        """Queue `task` for `worker` and send what the socket takes now (raises OSError if it is dead)."""
        header, raws = encode_message(task)
        buf = self.pending[worker]
        buf += header
        for r in raws:
            buf += r
        self._flush(worker)

    def _flush(self, worker):
        buf, sock = self.pending[worker], self.socks[worker]
        while buf:
            try:
                sent = sock.send(buf, socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
            del buf[:sent]
        self._poller.modify(sock, select.POLLIN | (select.POLLOUT if buf else 0))

    def poll(self, timeout_s):
        """Wait up to timeout_s (None: forever) for replies or exits; sends pending tasks on the way.

        Returns:
            list of (is_socket, worker): a socket with data (or closed), or a worker process that exited.
        """
        events = self._poller.poll(None if timeout_s is None else max(0, int(timeout_s * 1000)))
        ready = []
        for fd, event in events:
            is_socket, worker = self._fd_owner[fd]
            if is_socket and event & select.POLLOUT:
                self._flush(worker)
            if event & ~select.POLLOUT:  # POLLIN, or POLLHUP / POLLERR: reading will tell
                ready.append((is_socket, worker))
        return ready

    def healthy(self):
        return not self.closed and all(p.exitcode is None for p in self.processes)

    def __del__(self):  # safety net; iterators and loaders shut their pools down explicitly
        with contextlib.suppress(Exception):  # interpreter shutdown: modules may be half torn down
            self.shutdown(grace=0.0)

    def shutdown(self, grace=_GRACE_S):
        """Stop every worker: signal end-of-file, wait up to `grace` s (reading and dropping what they still
        send, which unblocks a worker stuck sending), then terminate, then kill. Joins all: no zombies."""
        if self.closed or os.getpid() != self._pid:  # a forked child holds a copy of this object: not its pool
            return
        self.closed = True
        for sock in self.socks:
            try:
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        deadline = time.monotonic() + grace
        live = [p for p in self.processes if p.exitcode is None]
        socks = list(self.socks)
        while live and time.monotonic() < deadline:
            ready = mp_connection.wait(
                socks + [p.sentinel for p in live], timeout=max(0.0, deadline - time.monotonic())
            )
            for r in ready:
                if isinstance(r, socket.socket):
                    try:
                        data = r.recv(1 << 20)
                    except OSError:
                        data = b""
                    if not data:
                        socks.remove(r)
            live = [p for p in live if p.exitcode is None]
        for p in live:
            p.terminate()
        for p in self.processes:
            p.join(timeout=1.0)
            if p.exitcode is None:
                p.kill()
                p.join()
        for sock in self.socks:
            sock.close()
