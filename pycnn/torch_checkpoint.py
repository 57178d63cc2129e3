"""Reads the checkpoints `torch.save` writes for a state dict, without importing torch.

The format (torch >= 1.6): a zip whose one top folder (named after the file when it was saved) holds
`data.pkl`, a pickle of the object, `byteorder` ("little" or "big"; absent in old files: little) and
`data/<key>`, the raw bytes of each storage. In the pickle a tensor is
`torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])`, with the
storage a persistent id ('storage', torch.FloatStorage, key, location, numel).

A pickle can call any importable function, so the unpickler here resolves only those few globals, to
functions of this module, and refuses every other one before anything is called: a checkpoint is data.
Tensors are copied out of their storages, so tensors that shared one in torch no longer share memory.
"""

import io
import pickle
import pickletools
import re
import zipfile
from collections import OrderedDict

import numpy as np

from . import _C
from .creation import from_numpy
from .nn.parameter import Parameter
from .tensor import Tensor

__all__ = ["load_torch_state"]


class CheckpointError(ValueError, pickle.UnpicklingError):
    """A torch checkpoint that cannot or may not be read (both a ValueError and an UnpicklingError)."""


class _StorageType:
    """What the pickle's `torch.FloatStorage` etc. resolve to: the element type, never callable."""

    def __init__(self, name, dtype):
        self.name, self.dtype = name, None if dtype is None else np.dtype(dtype)


# torch storage class -> numpy element type (little-endian; bfloat16 as its uint16 bits). Complex storages
# resolve so that the error can say which dtype is missing, rather than "refuses to unpickle".
_STORAGES = {
    "FloatStorage": "<f4",
    "DoubleStorage": "<f8",
    "HalfStorage": "<f2",
    "BFloat16Storage": "<u2",
    "LongStorage": "<i8",
    "IntStorage": "<i4",
    "ShortStorage": "<i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "?",
    "ComplexFloatStorage": None,
    "ComplexDoubleStorage": None,
}
_STORAGE_TYPES = {name: _StorageType(name, dtype) for name, dtype in _STORAGES.items()}


class _Storage:
    """One storage's elements (a 1-D numpy array) and its torch class."""

    def __init__(self, kind, array):
        self.kind, self.array = kind, array


def _int_tuple(value, what):
    if not isinstance(value, tuple) or not all(type(v) is int and v >= 0 for v in value):
        raise CheckpointError(f"tensor {what} must be a tuple of non-negative ints, got {value!r:.200}")
    return value


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata=None):
    """The tensor `storage[storage_offset:]` viewed with `size` and `stride`, copied to a contiguous Tensor."""
    if not isinstance(storage, _Storage):
        raise CheckpointError(f"a tensor's storage is a {type(storage).__name__}, not a storage")
    if type(storage_offset) is not int or storage_offset < 0:
        raise CheckpointError(f"tensor storage offset {storage_offset!r:.100} is not a non-negative int")
    size, stride = _int_tuple(size, "size"), _int_tuple(stride, "stride")
    if len(size) != len(stride):
        raise CheckpointError(f"tensor size {size} and stride {stride} differ in length")
    numel = storage.array.size
    # Index of the last element the view reads (an empty view reads none, but its offset must still fit).
    last = storage_offset + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else storage_offset - 1
    if last >= numel or storage_offset > numel:
        raise CheckpointError(
            f"a tensor of size {list(size)}, stride {list(stride)} and offset {storage_offset} reads past its "
            f"storage of {numel} elements"
        )
    base = storage.array[storage_offset:] if all(size) else storage.array[:0]
    itemsize = storage.array.itemsize
    view = np.lib.stride_tricks.as_strided(base, shape=size, strides=[s * itemsize for s in stride])
    tensor = _to_tensor(storage.kind, np.array(view, order="C"))
    if requires_grad is True:
        tensor.requires_grad_(True)
    return tensor


def _to_tensor(kind, arr):
    if kind.name == "BFloat16Storage":
        return Tensor._make(_C.from_numpy(arr, "bfloat16"))
    if kind.name in ("ShortStorage", "CharStorage"):  # pycnn has no int16/int8: int64 holds them exactly
        arr = arr.astype(np.int64)
    return from_numpy(arr)


def _rebuild_parameter(data, requires_grad, backward_hooks):
    if not isinstance(data, Tensor):
        raise CheckpointError(f"a Parameter's data is a {type(data).__name__}, not a tensor")
    return Parameter(data, requires_grad=requires_grad is True)


# The only globals a state dict's pickle may name: (module, name) -> what it resolves to.
_ALLOWED = {
    ("collections", "OrderedDict"): OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    **{("torch", name): kind for name, kind in _STORAGE_TYPES.items()},
}


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, archive, prefix, path):
        super().__init__(file)
        self.archive, self.prefix, self.path = archive, prefix, path
        self.byteorder = _byteorder(archive, prefix, path)
        self.storages = {}  # key -> _Storage, so a storage that several tensors view is read once

    def find_class(self, module, name):
        found = _ALLOWED.get((module, name))
        if found is None:
            raise CheckpointError(
                f"[load] {self.path}: refuses to unpickle {module}.{name}: a state dict holds only tensors, "
                "storages, ordered dicts and plain values"
            )
        return found

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise CheckpointError(f"unknown persistent id {pid!r:.200}")
        _, kind, key, _location, numel = pid
        if not isinstance(kind, _StorageType) or not isinstance(key, str) or type(numel) is not int or numel < 0:
            raise CheckpointError(f"invalid storage reference {pid!r:.200}")
        if kind.dtype is None:
            raise CheckpointError(f"holds a {kind.name[:-7]} tensor; pycnn has no complex dtypes")
        if key not in self.storages:
            self.storages[key] = _Storage(kind, self._read_storage(kind, key, numel))
        storage = self.storages[key]
        if storage.kind is not kind or storage.array.size != numel:
            raise CheckpointError(f"storage {key!r} is referenced with two different types or sizes")
        return storage

    def _read_storage(self, kind, key, numel):
        name = f"{self.prefix}data/{key}"
        try:
            info = self.archive.getinfo(name)
        except KeyError:
            raise CheckpointError(f"storage {key!r} ({name}) is missing from the archive") from None
        nbytes = numel * kind.dtype.itemsize
        if info.file_size < nbytes:  # checked before reading: numel comes from the (untrusted) pickle
            raise CheckpointError(f"storage {key!r} holds {info.file_size} bytes, its {numel} elements need {nbytes}")
        with self.archive.open(info) as f:
            raw = f.read(nbytes)
        if len(raw) != nbytes:
            raise CheckpointError(f"storage {key!r} is truncated ({len(raw)} of {nbytes} bytes)")
        dtype = kind.dtype.newbyteorder(">") if self.byteorder == "big" and kind.dtype.itemsize > 1 else kind.dtype
        return np.frombuffer(raw, dtype=dtype).astype(dtype.newbyteorder("="))


def _byteorder(archive, prefix, path):
    try:
        order = archive.read(prefix + "byteorder").decode("ascii", "replace").strip()
    except KeyError:
        return "little"
    if order not in ("little", "big"):
        raise CheckpointError(f"[load] {path}: byteorder file says {order!r:.50}, not 'little' or 'big'")
    return order


def _data_pkl(archive, path):
    """The archive's `<folder>/data.pkl` name: exactly one, in a top-level folder."""
    names = [n for n in archive.namelist() if re.fullmatch(r"[^/]+/data\.pkl", n)]
    if len(names) != 1:
        raise CheckpointError(f"[load] {path}: not a torch checkpoint (expected one <folder>/data.pkl, found {names})")
    return names[0]


def load_torch_state(path):
    """Read a state dict that `torch.save` wrote (the zip format of torch >= 1.6), without torch.

    Args:
        path (str or os.PathLike): the file, e.g. "resnet18.pth".
    Returns:
        OrderedDict[str, Tensor] in the file's order (for a dict of dicts, the nested dicts as saved).
        Every dtype keeps its own except int16/int8, which become int64 (exactly); views are read in their
        logical order and Parameters come back as pycnn Parameters.
    Raises:
        ValueError (a CheckpointError, also a pickle.UnpicklingError) naming the file when it is not a torch
        zip checkpoint (the legacy pre-1.6 format included), is truncated or corrupt, holds complex tensors,
        or its pickle names any global other than tensors, storages and OrderedDict (nothing it names is
        ever called). TypeError if path is not a path; OSError naming the file if it cannot be opened.
    """
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":
            f.seek(0)
            if f.read(4) == b"\x80\x02\x8a\x0a":  # a pickle (PROTO 2) of torch's legacy magic number
                raise CheckpointError(
                    f"[load] {path}: is in torch's legacy (pre-1.6) format, which pycnn does not read; "
                    "re-save it with a current torch.save"
                )
            raise CheckpointError(f"[load] {path}: not a torch checkpoint (not a zip archive)")
        f.seek(0)
        try:
            with zipfile.ZipFile(f) as archive:
                return _unpickle(archive, path)
        except CheckpointError as e:
            raise e if str(e).startswith("[load]") else CheckpointError(f"[load] {path}: {e}") from None
        except (zipfile.BadZipFile, pickle.UnpicklingError, EOFError, OSError, NotImplementedError, RuntimeError) as e:
            # NotImplementedError, RuntimeError: zipfile's for a compression or version it lacks, encryption.
            raise CheckpointError(f"[load] {path}: corrupt torch checkpoint ({type(e).__name__}: {e})") from None
        except (TypeError, ValueError, AttributeError, IndexError, KeyError, RecursionError, MemoryError) as e:
            # A call with arguments of the wrong kind, an opcode on the wrong object, a length field of
            # gigabytes in a small pickle: a malformed one.
            raise CheckpointError(f"[load] {path}: malformed pickle ({type(e).__name__}: {e})") from None


def _unpickle(archive, path):
    name = _data_pkl(archive, path)
    prefix = name[: -len("data.pkl")]
    data = archive.read(name)  # a few kB even for a large model
    # Every opcode's length field checked against the bytes there first: the C unpickler would allocate what
    # a corrupt one claims (gigabytes), and prints a SystemError when that fails.
    try:
        for _ in pickletools.genops(data):
            pass
    except ValueError as e:
        raise CheckpointError(f"corrupt pickle in {name} ({e})") from None
    result = _Unpickler(io.BytesIO(data), archive, prefix, path).load()
    if not isinstance(result, dict):
        raise CheckpointError(f"holds a {type(result).__name__}, not a state dict")
    return result if isinstance(result, OrderedDict) else OrderedDict(result)
