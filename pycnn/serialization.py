"""save/load of state dicts in the safetensors format, with our own small writer and reader.

File layout (https://github.com/huggingface/safetensors): 8-byte little-endian header length N, then N
bytes of UTF-8 JSON {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
"__metadata__": {str: str}} padded with spaces to a multiple of 8, then the raw little-endian tensor
bytes, packed back to back (offsets are relative to the end of the header). save() is atomic: it writes
a temporary file `.NAME.pycnn-save-<pid>-<random>.tmp` in the same directory, fsyncs it and renames it over
the target; a process killed mid-save leaves that file behind, and the next save to NAME removes it.
load() raises ValueError naming the file for anything that is not a well-formed file it can hold.
"""

import json
import math
import os
import re
import sys
import tempfile
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from . import _C
from .creation import from_numpy
from .tensor import Tensor
from .torch_checkpoint import load_torch_state

__all__ = ["load", "load_metadata", "save"]

# safetensors dtype name <-> little-endian numpy dtype. BF16 has no numpy dtype: read as raw uint16.
_NAME_TO_NUMPY = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"),
    "U32": np.dtype("<u4"),
    "U16": np.dtype("<u2"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
_NUMPY_TO_NAME = {
    np.dtype(k): v
    for k, v in {
        "f8": "F64",
        "f4": "F32",
        "f2": "F16",
        "i8": "I64",
        "i4": "I32",
        "i2": "I16",
        "i1": "I8",
        "u8": "U64",
        "u4": "U32",
        "u2": "U16",
        "u1": "U8",
        "?": "BOOL",
    }.items()
}

# Same cap as the safetensors library: a larger header is a corrupt (or hostile) file, not a big model.
_MAX_HEADER_BYTES = 100_000_000


def path_arg(path, op):
    """path (str, bytes or os.PathLike) as a str; a TypeError naming op and the value otherwise."""
    try:
        return os.fsdecode(os.fspath(path))
    except TypeError:
        raise TypeError(
            f"[{op}] expected a path (str, bytes or os.PathLike), got {path!r:.80} ({type(path).__name__})"
        ) from None


def os_error(error, op, what):
    """A copy of the OSError `error` (same type, so FileNotFoundError stays one, and same errno) whose message
    is "[op] what: <the system's reason>"."""
    copy = type(error)(f"[{op}] {what}: {error.strerror or error}")
    copy.errno = error.errno
    return copy


def open_file(path, mode, op):
    """open(path, mode) for the op `op`: a TypeError naming op for a non-path, and the OSError open raises
    (FileNotFoundError, PermissionError, IsADirectoryError, ...) with a message that names op and the file."""
    path = path_arg(path, op)
    try:
        return open(path, mode)
    except OSError as e:
        raise os_error(e, op, f"cannot open {path}") from None


def _canonical(dtype):
    """The native-byte-order numpy dtype of the same kind and size (np.dtype('>f4') -> float32)."""
    return np.dtype(dtype.type)


# A bfloat16 tensor's bits as uint16, marked so that the header names them BF16 (NumPy has no bfloat16).
_BF16_BITS = np.dtype("<u2", metadata={"safetensors": "BF16"})


def _to_numpy(name, value):
    """A C-contiguous little-endian numpy view/copy of a Tensor or array; TypeError for anything else."""
    if isinstance(value, Tensor):
        # contiguous() first so non-contiguous views (transposes, slices) are written in logical order.
        value = value.detach().cpu().contiguous()
        if value.dtype.name == "bfloat16":
            return np.asarray(value._impl).view(_BF16_BITS)
        arr = value.numpy()
    elif isinstance(value, np.ndarray):
        arr = value
    else:
        raise TypeError(
            f"[save] value for key {name!r} must be a pycnn Tensor or numpy array, got {type(value).__name__}"
        )
    if _canonical(arr.dtype) not in _NUMPY_TO_NAME:
        raise TypeError(f"[save] tensor {name!r} has unsupported dtype {arr.dtype}")
    # No copy when the array is already contiguous and little-endian (the common case).
    little = _canonical(arr.dtype).newbyteorder("<")
    return np.asarray(arr.astype(little, copy=False), order="C")


def _dtype_name(arr):
    if arr.dtype.metadata and "safetensors" in arr.dtype.metadata:
        return arr.dtype.metadata["safetensors"]
    return _NUMPY_TO_NAME[_canonical(arr.dtype)]


def _data_layout(arrays):
    """Order in which tensor bytes are written: widest itemsize first (stable), like the safetensors
    library, so every tensor starts at a multiple of its own itemsize (the data section is 8-aligned)."""
    return sorted(arrays, key=lambda name: -arrays[name].dtype.itemsize)


def _build_header(arrays, metadata):
    offsets, offset = {}, 0
    for name in _data_layout(arrays):
        offsets[name] = [offset, offset + arrays[name].nbytes]
        offset += arrays[name].nbytes
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    # The JSON keeps the caller's order (load returns that order); only the byte layout is sorted.
    for name, arr in arrays.items():
        header[name] = {"dtype": _dtype_name(arr), "shape": [int(s) for s in arr.shape], "data_offsets": offsets[name]}
    try:
        raw = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate in a name or a metadata string
        raise ValueError(f"[save] a tensor name or metadata string is not valid UTF-8 text ({exc})") from None
    # Pad with spaces (valid JSON whitespace) so the tensor data starts 8-byte aligned.
    return raw + b" " * (-len(raw) % 8)


def _write_tensor_bytes(f, arr):
    """Write one array's bytes (a view as uint8 of the contiguous array, so no extra copy)."""
    f.write(arr.reshape(-1).view(np.uint8).data)


def _default_file_mode(path):
    """The permissions a plain open(path, 'wb') would give: the old file's, else 0o666 minus umask."""
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def save(obj, path, metadata=None):
    """Save a state dict (str -> Tensor or numpy array) to `path` in the safetensors format, atomically.

    Args:
        obj (Mapping[str, Tensor | numpy.ndarray]): e.g. model.state_dict(). Tensors may be
            non-contiguous and on any device; they are written in their logical order, in insertion order.
        path (str or os.PathLike): destination file (conventionally *.safetensors).
        metadata (Mapping[str, str], optional): free-form text stored under "__metadata__".
    Raises:
        TypeError: obj is not a mapping, path is not a path, a key is not a str, a value is not a
            Tensor/array, or metadata is not str -> str.
        OSError (FileNotFoundError, PermissionError, ...) naming the file: the directory cannot be written.
    A crash or an exception during the write leaves any previous file at `path` untouched. A save also
    deletes the temporaries that earlier saves to `path` left when their process was killed.
    """
    if not isinstance(obj, Mapping):
        raise TypeError(f"[save] expected a mapping of str -> Tensor (e.g. a state dict), got {type(obj).__name__}")
    path = path_arg(path, "save")
    arrays = OrderedDict()
    for name, value in obj.items():
        if not isinstance(name, str):
            raise TypeError(f"[save] keys must be str, got {type(name).__name__} ({name!r})")
        if name == "__metadata__":
            raise ValueError("[save] the key '__metadata__' is reserved by the safetensors format")
        arrays[name] = _to_numpy(name, value)
    if metadata is not None:
        if not isinstance(metadata, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
        ):
            raise TypeError("[save] metadata must be a mapping of str -> str")
        metadata = dict(metadata)
    header = _build_header(arrays, metadata)

    directory = os.path.dirname(os.path.abspath(path))
    mode = _default_file_mode(path)
    _remove_stale_temporaries(path)
    try:
        fd, tmp_path = tempfile.mkstemp(dir=directory, prefix=f"{_temp_prefix(path)}{os.getpid()}-", suffix=".tmp")
    except OSError as e:  # a missing or read-only directory
        raise os_error(e, "save", f"cannot write {path}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(len(header).to_bytes(8, "little"))
            f.write(header)
            for name in _data_layout(arrays):
                _write_tensor_bytes(f, arrays[name])
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp_path, mode)
        os.replace(tmp_path, path)
    except BaseException:
        try:
            os.unlink(tmp_path)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def _temp_prefix(path):
    return "." + os.path.basename(path) + ".pycnn-save-"


def _process_is_gone(pid):
    """True only when no process `pid` exists. A pid reused by another process reads as alive: the
    temporary is then kept, never a live writer's deleted. Pids of another host or container sharing the
    directory are not ours to judge, but a save to the same file from two places is a race anyway."""
    if os.name != "posix":  # os.kill(pid, 0) terminates the process on Windows
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (OSError, OverflowError):  # PermissionError: alive, another user's
        return False
    return False


def _remove_stale_temporaries(path):
    """Delete the temporaries that saves to `path` killed mid-write left behind (their pid is gone)."""
    directory = os.path.dirname(os.path.abspath(path))
    # mkstemp's random part is [a-z0-9_]: a fullmatch cannot mistake another target's temporary for ours.
    pattern = re.compile(re.escape(_temp_prefix(path)) + r"(\d+)-\w+\.tmp")
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        match = pattern.fullmatch(name)
        if match and _process_is_gone(int(match.group(1))):
            try:
                os.unlink(os.path.join(directory, name))
            except OSError:  # another save removed it first, or the directory is read-only
                pass


def _fsync_directory(directory):
    # Makes the rename itself durable; not possible on every platform/filesystem, so best effort.
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _clip(text, limit=500):
    """`text` cut to `limit` characters: a hostile file can make a name, shape or value megabytes long."""
    return text if len(text) <= limit else text[:limit] + "..."


def _corrupt(path, why):
    return ValueError(f"[load] {path!r} is not a valid safetensors file: {_clip(why)}")


def _parse_json(path, raw):
    try:
        header = json.loads(raw.decode("utf-8"))
        # A JSON escape can spell a lone surrogate ("\ud800"): no UTF-8 text holds it, nor could save() write it.
        json.dumps(header, ensure_ascii=False).encode("utf-8")
        return header
    except ValueError as exc:  # JSONDecodeError, UnicodeError, an int past Python's 4300 digits
        raise _corrupt(path, f"header is not valid UTF-8 JSON ({exc})") from None
    except RecursionError:  # json recurses once per [ or {: a header of 200,000 of them is hostile
        raise _corrupt(path, "header nests arrays or objects too deeply") from None


def _check_entry(path, name, info):
    """(dtype name, shape tuple, begin, end) of one header entry, or the ValueError saying what is wrong."""
    if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= info.keys():
        raise _corrupt(path, f"entry {name!r} needs dtype, shape and data_offsets")
    dtype_name, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
    if not isinstance(dtype_name, str) or dtype_name not in _NAME_TO_NUMPY:
        raise _corrupt(path, f"entry {name!r} has unknown dtype {dtype_name!r}")
    if not isinstance(shape, list) or not all(type(s) is int and s >= 0 for s in shape):
        raise _corrupt(path, f"entry {name!r} has an invalid shape {shape!r}")
    itemsize = _NAME_TO_NUMPY[dtype_name].itemsize
    # NumPy refuses a shape whose non-zero sizes multiply past its index type, even when another is 0.
    if math.prod(s for s in shape if s) * itemsize > sys.maxsize:
        raise _corrupt(path, f"entry {name!r} has shape {shape}: too large for dtype {dtype_name}")
    if not (
        isinstance(offsets, list)
        and len(offsets) == 2
        and all(type(o) is int for o in offsets)
        and 0 <= offsets[0] <= offsets[1]
    ):
        raise _corrupt(path, f"entry {name!r} has invalid data_offsets {offsets!r}")
    nbytes = math.prod(shape) * itemsize
    if offsets[1] - offsets[0] != nbytes:
        raise _corrupt(
            path,
            f"entry {name!r}: data_offsets {offsets} span {offsets[1] - offsets[0]} "
            f"bytes but dtype {dtype_name} and shape {shape} need {nbytes}",
        )
    return dtype_name, tuple(shape), offsets[0], offsets[1]


def _parse_header(path, raw, data_len):
    """Validate the JSON header; return (metadata, [(name, dtype, shape, begin, end)]) in header order."""
    header = _parse_json(path, raw)
    if not isinstance(header, dict):
        raise _corrupt(path, "header is not a JSON object")
    metadata = header.pop("__metadata__", None)
    if metadata is not None and not (isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())):
        raise _corrupt(path, "__metadata__ must be an object of str -> str")
    entries = [(name, *_check_entry(path, name, info)) for name, info in header.items()]
    # The format packs tensors back to back with no holes; anything else means a damaged file.
    expected = 0
    for name, _, _, begin, end in sorted(entries, key=lambda e: (e[3], e[4])):
        if begin != expected:
            raise _corrupt(
                path, f"entry {name!r} starts at byte {begin}, expected {expected} (overlapping tensors or a gap)"
            )
        expected = end
    if expected > data_len:
        raise _corrupt(path, f"file is truncated: tensor data needs {expected} bytes, only {data_len} present")
    if expected != data_len:
        raise _corrupt(path, f"{data_len - expected} unexpected trailing bytes after the tensor data")
    return metadata, entries


def _read_header(f, path):
    """(metadata, entries) of the open file `f`, left positioned at the start of the tensor data."""
    size = os.fstat(f.fileno()).st_size
    if size < 8:
        raise _corrupt(path, f"file is {size} bytes, shorter than the 8-byte header length")
    header_len = int.from_bytes(f.read(8), "little")
    if header_len > _MAX_HEADER_BYTES:
        raise _corrupt(path, f"header length {header_len} exceeds the {_MAX_HEADER_BYTES}-byte limit")
    if 8 + header_len > size:
        raise _corrupt(path, f"file is truncated: header needs {header_len} bytes, only {size - 8} present")
    return _parse_header(path, f.read(header_len), size - 8 - header_len)


_INT64_MAX = np.iinfo(np.int64).max


def _to_tensor(path, name, arr, dtype_name):
    """A tensor of the file's dtype; dtypes pycnn does not hold (I8, I16, U16, U32, U64) become int64, exactly
    or not at all."""
    if dtype_name == "BF16":  # the bits, viewed as bfloat16 by the core
        return Tensor._make(_C.from_numpy(np.asarray(arr, dtype=np.uint16, order="C"), "bfloat16"))
    return from_numpy(np.asarray(_to_held_dtype(path, name, arr, dtype_name), order="C"))  # ours: no copy


def _to_held_dtype(path, name, arr, dtype_name):
    if dtype_name in ("F32", "F64", "F16", "I64", "I32", "U8", "BOOL"):
        return arr.astype(_canonical(arr.dtype), copy=False)
    if dtype_name == "U64" and arr.size and arr.max() > _INT64_MAX:
        raise ValueError(
            f"[load] {path!r}: tensor {name!r} (U64) holds {int(arr.max())}, past int64, the widest integer "
            "type pycnn holds; the value cannot be kept exactly"
        )
    return arr.astype(np.int64)  # the other integer types and bool fit exactly


def _read_array(f, path, name, dtype, shape):
    """Read one tensor's bytes from the current file position straight into a new array (one copy)."""
    try:
        arr = np.empty(shape, dtype=dtype)
    except ValueError as exc:  # more dimensions than NumPy allows (32 or 64)
        raise _corrupt(path, f"tensor {name!r} of shape {list(shape)}: {exc}") from None
    if arr.nbytes:
        got = f.readinto(memoryview(arr.reshape(-1).view(np.uint8)))
        if got != arr.nbytes:
            # The size was checked up front, so this means the file changed under us.
            raise _corrupt(path, f"short read for tensor {name!r} ({got} of {arr.nbytes} bytes)")
    return arr


def load(path, device="cpu"):
    """Load a safetensors file written by save() (or any safetensors writer), or a PyTorch checkpoint.

    A file that starts as a zip does (b"PK\\x03\\x04") is read as what `torch.save` writes for a state dict
    (e.g. "resnet18.pth"), without importing torch: see pycnn.torch_checkpoint.load_torch_state, whose
    restricted unpickler refuses anything but tensors, storages, ordered dicts and plain values.

    Args:
        path (str or os.PathLike): the file.
        device (str): where to place the tensors. Default: "cpu".
    Returns:
        OrderedDict[str, Tensor] in the order of the file's header (for files from save(): the order of
        the saved dict). Every dtype keeps its own (F32, F64, F16, BF16, I64, I32, U8, BOOL) except the
        integers pycnn does not hold (I8, I16, U16, U32, U64), which become int64.
    Raises:
        ValueError naming the file if it is truncated or corrupt, or holds a U64 value past int64 (which
        int64 cannot keep exactly). TypeError if path is not a path; OSError (FileNotFoundError, ...) naming
        the file if it cannot be opened.
    """
    result = OrderedDict()
    with open_file(path, "rb", "load") as f:
        path = f.name
        if _is_torch_file(f):
            return _load_torch(path, device)
        _, entries = _read_header(f, path)
        # Entries are packed without gaps, so one sequential pass in offset order reads them all; the
        # result keeps the header's order.
        for name, dtype_name, shape, _, _ in sorted(entries, key=lambda e: (e[3], e[4])):
            arr = _read_array(f, path, name, _NAME_TO_NUMPY[dtype_name], shape)
            t = _to_tensor(path, name, arr, dtype_name)
            if device is not None and str(device) != "cpu":
                t = t.to(device)
            result[name] = t
    return OrderedDict((name, result[name]) for name, *_ in entries)


# Legacy torch.save files are a pickle: PROTO 2, then LONG1 of the 10-byte magic number.
_TORCH_LEGACY_MAGIC = b"\x80\x02\x8a\x0a"


def _is_torch_file(f):
    """Whether the open file is a torch checkpoint: a zip, or the legacy format (refused there). As a
    safetensors header length the legacy magic is past _MAX_HEADER_BYTES, and a zip's would be one exact
    length of 64 MiB of JSON."""
    head = f.read(4)
    f.seek(0)
    return head in (b"PK\x03\x04", _TORCH_LEGACY_MAGIC)


def _load_torch(path, device):
    state = load_torch_state(path)
    if device is not None and str(device) != "cpu":
        state = OrderedDict((k, v.to(device) if isinstance(v, Tensor) else v) for k, v in state.items())
    return state


def load_metadata(path):
    """Return the "__metadata__" dict (str -> str) of a safetensors file, or {} if it has none.

    Raises:
        ValueError naming the file if its header is truncated or corrupt. TypeError if path is not a path;
        OSError (FileNotFoundError, ...) naming the file if it cannot be opened.
    """
    with open_file(path, "rb", "load_metadata") as f:
        metadata, _ = _read_header(f, f.name)
    return metadata or {}
