"""What runs inside a DataLoader worker process, and how tasks and batches travel.

Read `_worker_loop` first: it reads tasks (epoch, task id, indices, batch seed) from its socket, builds the
batch with the same `fetch_*` functions the main process uses when num_workers=0, and sends it back over
the same socket; end-of-file on the socket tells it to stop. Transport: pickle protocol 5 with out-of-band
buffers, so an array's bytes go straight from its memory into the socket and from the socket into a
fresh array (one copy per side; measured at about 2x the batches/s of multiprocessing.Queue and 3-4x a
shared-memory block per batch, see DataLoader).
"""

import itertools
import os
import pickle
import random
import select
import struct
import sys
import traceback
import weakref

import numpy as np

from ..creation import from_numpy
from ..random import default_generator
from ..tensor import Tensor

__all__ = ["WorkerInfo", "get_worker_info"]

_worker_info = None  # set in a worker process only


class WorkerInfo:
    """What a worker knows about itself (see get_worker_info).

    Attributes:
        id: this worker's number, 0 <= id < num_workers.
        num_workers: how many workers the loader runs.
        seed: base_seed + id, where base_seed is drawn from the loader's generator for the epoch that
            started the worker (Python's `random` and NumPy's legacy global `np.random` are seeded from it).
        dataset: this worker's copy of the dataset.
    """

    __slots__ = ("dataset", "id", "num_workers", "seed")

    def __init__(self, id, num_workers, seed, dataset):
        self.id, self.num_workers, self.seed, self.dataset = id, num_workers, seed, dataset

    def __repr__(self):
        return (
            f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, "
            f"dataset={type(self.dataset).__name__})"
        )


def get_worker_info():
    """WorkerInfo in a DataLoader worker process, None in the main process.

    Use it in a dataset's code (or worker_init_fn) to shard an IterableDataset or to set up per-worker
    resources such as open files.
    """
    return _worker_info


# ---------------------------------------------------------------------------------------------- batches


def batch_seed(base_seed, batch_index):
    """The seed default_generator() is reset to before batch `batch_index` is loaded."""
    return (int(base_seed) + int(batch_index)) % (1 << 63)


def fetch_map(dataset, indices, fast, collate_fn):
    """One batch of a map-style dataset: its `__getitems__` (fast path) or collate_fn over the samples."""
    if fast:
        return dataset.__getitems__(indices)
    return collate_fn([dataset[int(i)] for i in indices])


def fetch_iterable(iterator, batch_size, drop_last, collate_fn):
    """The next batch of an iterable dataset's iterator, or None when it has no (full enough) batch left."""
    samples = list(itertools.islice(iterator, batch_size))
    if not samples or (drop_last and len(samples) < batch_size):
        return None
    return collate_fn(samples)


class _TensorBox:
    """A Tensor in transit: its values as a NumPy array (sent out of band), rebuilt with from_numpy."""

    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array

    def __reduce__(self):
        return _TensorBox, (self.array,)


def _map_leaves(fn, obj):
    """obj rebuilt with fn applied to everything that is not a tuple, list, namedtuple or dict."""
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*[_map_leaves(fn, x) for x in obj])
    if isinstance(obj, (tuple, list)):
        return type(obj)(_map_leaves(fn, x) for x in obj)
    if isinstance(obj, dict):
        return {k: _map_leaves(fn, v) for k, v in obj.items()}
    return fn(obj)


def _box(obj):
    if isinstance(obj, Tensor):
        try:
            return _TensorBox(obj.detach().numpy())
        except Exception:  # noqa: BLE001  (not on the CPU: let the tensor pickle itself)
            return obj
    return obj


def _unbox(obj):
    return from_numpy(obj.array) if isinstance(obj, _TensorBox) else obj


def pack(obj):
    """Replace the pc.Tensors in a batch (through tuples, lists, namedtuples, dicts) by _TensorBoxes."""
    return _map_leaves(_box, obj)


def unpack(obj):
    """Inverse of pack, in the main process: _TensorBoxes become pc.Tensors sharing the received memory."""
    return _map_leaves(_unbox, obj)


class ExceptionWrapper:
    """An exception raised in a worker, carried to the main process and raised there again."""

    def __init__(self, worker_id, where):
        exc_type, exc, tb = sys.exc_info()
        self.worker_id = worker_id
        self.where = where
        self.text = "".join(traceback.format_exception(exc_type, exc, tb))
        self.type_name = exc_type.__name__
        try:  # re-raise the same type when it can travel (classes defined in __main__ may not)
            pickle.loads(pickle.dumps(exc_type))
            self.exc_type = exc_type
        except Exception:  # noqa: BLE001  (anything unpicklable travels as a RuntimeError)
            self.exc_type = None

    def reraise(self):
        msg = (
            f"[DataLoader] caught {self.type_name} in worker process {self.worker_id} {self.where}.\n"
            f"Original traceback (in the worker):\n{self.text}"
        )
        err = None
        if self.exc_type is not None and self.exc_type is not KeyError:  # KeyError would repr() the text
            try:
                err = self.exc_type(msg)
            except Exception:  # noqa: BLE001  (a constructor that wants other arguments: RuntimeError)
                err = None
        raise err if isinstance(err, BaseException) else RuntimeError(msg)


# ---------------------------------------------------------------------------------------------- transport

_FRAME = struct.Struct("<QI")  # length of the pickle, number of out-of-band buffers


def encode_message(obj):
    """(header bytes, array buffers) of `obj`; raises here if it cannot be pickled."""
    buffers = []
    head = pickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
    raws = [b.raw() for b in buffers]
    sizes = struct.pack(f"<{len(raws)}Q", *(r.nbytes for r in raws))
    return _FRAME.pack(len(head), len(raws)) + sizes + head, raws


def send_message(sock, encoded):
    """Send an encoded message: frame, buffer sizes and pickle in one write, then each array's bytes."""
    header, raws = encoded
    sock.sendall(header)
    for r in raws:
        sock.sendall(r)


def _recv_into(sock, buf, wait):
    view = memoryview(buf).cast("B")
    got = 0
    while got < len(view):
        if wait is not None:
            wait()
        n = sock.recv_into(view[got:])
        if n == 0:
            raise EOFError("the socket was closed" + (" in the middle of a message" if got else ""))
        got += n
    return buf


def recv_message(sock, wait=None):
    """Receive one message of send_message; arrays are rebuilt on fresh, writable memory.

    `wait()`, when given, is called before each read (it blocks until data is there, or raises).
    Raises EOFError when the other side has closed the socket.
    """
    head_len, n_buffers = _FRAME.unpack(_recv_into(sock, bytearray(_FRAME.size), wait))
    sizes = struct.unpack(f"<{n_buffers}Q", _recv_into(sock, bytearray(8 * n_buffers), wait))
    head = _recv_into(sock, bytearray(head_len), wait)
    buffers = [_recv_into(sock, np.empty(size, dtype=np.uint8), wait) for size in sizes]
    return pickle.loads(head, buffers=buffers)


# ---------------------------------------------------------------------------------------------- the loop

_POLL_S = 2.0  # how often an idle worker checks that the main process still exists


# The main process's ends of all worker sockets (dataloader.py registers them). A forked worker closes
# its copies first thing: then the main process's death closes them for good, and a worker blocked
# sending a batch gets a broken pipe instead of waiting forever. (Sockets are close-on-exec, so only
# forked processes ever hold such copies.)
main_ends = weakref.WeakSet()


def _waiter(sock, parent_pid):
    """wait() for recv_message in a worker: block until the socket has data, but raise EOFError once the
    main process has died (a fork of it that did not close its copies could keep our socket open)."""
    poller = select.poll()
    poller.register(sock, select.POLLIN)

    def wait():
        while not poller.poll(int(_POLL_S * 1000)):
            if os.getppid() != parent_pid:
                raise EOFError("the main process is gone")

    return wait


def _worker_loop(
    worker_id,
    num_workers,
    dataset,
    iterable,
    fast,
    collate_fn,
    batch_size,
    drop_last,
    worker_init_fn,
    seed,
    sock,
    parent_pid,
):
    """Body of a worker process. Task: (epoch, task_id, indices or None, batch seed); end-of-file stops it.
    Reply: (epoch, task_id, kind, payload), kind in 'batch' | 'end' (iterable exhausted) | 'error'."""
    global _worker_info
    for inherited in list(main_ends):
        inherited.close()
    try:
        # Per-worker seeds, as torch does, for code that draws from the global streams. pycnn's own
        # generator is also reset per batch below (the rule the DataLoader documents).
        random.seed(seed)
        np.random.seed(seed % (1 << 32))
        default_generator().manual_seed(seed)
        _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
        init_error = None
        if worker_init_fn is not None:
            try:
                worker_init_fn(worker_id)
            except Exception:  # noqa: BLE001  (any failure of user code is reported to the main process)
                init_error = ExceptionWrapper(worker_id, "in worker_init_fn")

        iterator, iterator_epoch = None, None
        wait = _waiter(sock, parent_pid)
        while True:
            try:
                epoch, task_id, indices, seed = recv_message(sock, wait)
            except (EOFError, OSError):  # told to stop, or the main process is gone
                return
            try:
                if init_error is not None:
                    reply = (epoch, task_id, "error", init_error)
                else:
                    default_generator().manual_seed(seed)
                    if not iterable:
                        batch = fetch_map(dataset, indices, fast, collate_fn)
                    else:
                        if iterator_epoch != epoch:  # a new epoch reads the stream from the start
                            iterator, iterator_epoch = iter(dataset), epoch
                        batch = fetch_iterable(iterator, batch_size, drop_last, collate_fn)
                    reply = (
                        (epoch, task_id, "batch", pack(batch)) if batch is not None else (epoch, task_id, "end", None)
                    )
                encoded = encode_message(reply)  # inside the try: an unpicklable batch is an error too
            except Exception:  # noqa: BLE001  (any failure of user code is reported to the main process)
                encoded = encode_message(
                    (epoch, task_id, "error", ExceptionWrapper(worker_id, "while loading a batch"))
                )
            try:
                send_message(sock, encoded)
            except OSError:  # the main process closed its end, or died
                return
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group; the main process handles it
        return
    finally:
        sock.close()
