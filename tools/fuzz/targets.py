"""Fuzz targets, one per file reader: TARGETS[name](data) writes `data` where the reader looks and reads it.

The contract: the reader either loads the bytes or raises its documented exception, with a message that
starts with the op in brackets and names the file. Anything else (RecursionError, a NumPy ValueError,
OverflowError, MemoryError, KeyError, a crash) escapes as a finding. tools/fuzz/fuzz.py runs these under
atheris; tests/test_fuzz_corpus.py replays tests/fuzz_corpus/<name>/ through them with plain pytest.
"""

import atexit
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

import pycnn as pc
from pycnn.datasets import CIFAR10, ImageFolder, extract_archive, read_idx
from pycnn.serialization import load_metadata
from pycnn.train import load_checkpoint

_WORK = Path(tempfile.mkdtemp(prefix="pycnn-fuzz-"))
atexit.register(shutil.rmtree, _WORK, ignore_errors=True)


class ContractError(AssertionError):
    """The reader raised its documented exception type, but the message does not name the op and file."""


def _expect(errors, ops, path, fn):
    """fn() returns, or raises one of `errors` whose message starts with one of [ops] and names `path`."""
    try:
        return fn()
    except errors as exc:
        message = str(exc)
        if not (message.startswith(tuple(f"[{op}]" for op in ops)) and str(path) in message):
            raise ContractError(
                f"{type(exc).__name__} must start with one of {ops} and name {path}: {message}"
            ) from exc
    return None


def _fresh(name):
    """An empty scratch folder `name` in the work folder (left from the previous input otherwise)."""
    folder = _WORK / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    return folder


def _header_file(header):
    """A safetensors file of the JSON `header` with as many data bytes as its offsets ask (zeros, at most
    1 MB), so that mutations of the JSON are not all stopped by a header length or file size mismatch."""
    try:
        entries = json.loads(header)
        ends = [e["data_offsets"][1] for e in entries.values() if isinstance(e, dict)]
        data_len = max([e for e in ends if isinstance(e, int) and 0 <= e <= 1 << 20], default=0)
    except Exception:  # noqa: BLE001  (any header the reader itself must then reject)
        data_len = 0
    return len(header).to_bytes(8, "little") + header + bytes(data_len)


def _file_bytes(data):
    """The file a load-like target reads: the first byte picks the rest as the whole file (even) or as the
    JSON header of a file built around it (odd)."""
    if not data:
        return b""
    return _header_file(data[1:]) if data[0] % 2 else data[1:]


def load(data):
    """pc.load and pc.load_metadata (safetensors); a file that loads must survive save + load unchanged."""
    path = _fresh("load") / "fuzz.safetensors"
    path.write_bytes(_file_bytes(data))
    _expect(ValueError, ["load"], path, lambda: load_metadata(path))
    state = _expect(ValueError, ["load"], path, lambda: pc.load(path))
    if state is None or not all(isinstance(t, pc.Tensor) for t in state.values()):
        return  # a torch checkpoint may hold other values (an epoch number): nothing to save again
    again = path.with_name("again.safetensors")
    pc.save(state, again)
    reloaded = pc.load(again)
    assert list(reloaded) == list(state)
    for name, t in state.items():
        assert reloaded[name].dtype == t.dtype and reloaded[name].shape == t.shape, name
        np.testing.assert_array_equal(_exact_values(reloaded[name]), _exact_values(t), err_msg=name)


def _exact_values(t):
    """A tensor's values as NumPy holds them (bfloat16, which NumPy lacks, as the float32 it converts to exactly)."""
    return (t.float() if t.dtype == pc.bfloat16 else t).numpy()


_CHECKPOINT_TENSORS = {"model.weight": np.ones((2, 2), np.float32), "optimizer.state.0.step": np.zeros(1)}


def checkpoint(data):
    """pycnn.train.load_checkpoint of a file (no objects to restore into: the reader alone). The first byte
    picks the rest as the whole file (even) or as the checkpoint's JSON document, saved with two tensors
    (odd), so that mutations reach the document past the safetensors layer."""
    path = _fresh("checkpoint") / "fuzz.safetensors"
    if data and data[0] % 2:
        document = data[1:].decode("utf-8", errors="replace")
        metadata = {"format": "pycnn.checkpoint", "format_version": "1", "checkpoint": document}
        pc.save(_CHECKPOINT_TENSORS, path, metadata=metadata)
    else:
        path.write_bytes(data[1:])
    _expect(ValueError, ["load", "load_checkpoint"], path, lambda: load_checkpoint(path))


def idx(data):
    """read_idx (MNIST's IDX files, gzipped or not)."""
    path = _fresh("idx") / "fuzz-idx3-ubyte"
    path.write_bytes(data)
    _expect(RuntimeError, ["read_idx"], path, lambda: read_idx(path))


# CIFAR-10 files of each version: the first input byte picks which one gets the rest of the input; the
# others are the small valid files below.
_CIFAR_VERSIONS = [
    ("cifar-10-batches-py", "test_batch"),
    ("cifar-10-batches-py", "batches.meta"),
    ("cifar-10-batches-bin", "test_batch.bin"),
    ("cifar-10-batches-bin", "batches.meta.txt"),
]


def cifar_files(rng=None):
    """{(folder, file): bytes} of a valid 2-image CIFAR-10 test split in both versions."""
    import pickle

    rng = rng or np.random.default_rng(0)
    data = rng.integers(0, 256, size=(2, 3072), dtype=np.uint8)
    labels = [3, 9]
    names = [f"class{i}" for i in range(10)]
    return {
        _CIFAR_VERSIONS[0]: pickle.dumps({b"data": data, b"labels": labels}, protocol=2),
        _CIFAR_VERSIONS[1]: pickle.dumps({b"label_names": [n.encode() for n in names]}, protocol=2),
        _CIFAR_VERSIONS[2]: np.concatenate([np.array(labels, np.uint8)[:, None], data], axis=1).tobytes(),
        _CIFAR_VERSIONS[3]: "\n".join(names).encode() + b"\n",
    }


_VALID_CIFAR = cifar_files()


def cifar(data):
    """CIFAR10 (python pickles or binary records), one of its files replaced by the input."""
    if not data:
        return
    root = _fresh("cifar")
    fuzzed = _CIFAR_VERSIONS[data[0] % len(_CIFAR_VERSIONS)]
    for folder, name in _CIFAR_VERSIONS:
        if folder == fuzzed[0]:
            (root / folder).mkdir(exist_ok=True)
            (root / folder / name).write_bytes(data[1:] if (folder, name) == fuzzed else _VALID_CIFAR[folder, name])
    _expect(RuntimeError, ["CIFAR10"], root / fuzzed[0], lambda: CIFAR10(root, train=False))


def tar(data):
    """extract_archive (CIFAR's .tar.gz archives; also .tar, .tar.bz2, .tar.xz)."""
    folder = _fresh("tar")
    path = folder / "fuzz.tar.gz"
    path.write_bytes(data)
    _expect(RuntimeError, ["extract"], path, lambda: extract_archive(path, folder / "out", "extract"))


def image(data):
    """ImageFolder's default loader (Pillow) and the conversion to a float (C, H, W) image."""
    root = _fresh("image")
    (root / "class").mkdir()
    path = root / "class" / "fuzz.png"
    path.write_bytes(data)
    dataset = ImageFolder(root)
    _expect(RuntimeError, ["ImageFolder"], path, lambda: dataset[0])


TARGETS = {f.__name__: f for f in (load, checkpoint, idx, cifar, tar, image)}


def replay(name, path):
    """Run target `name` on the bytes of the file `path` (what the corpus test does)."""
    TARGETS[name](Path(path).read_bytes())


if __name__ == "__main__":
    # python tools/fuzz/targets.py: the target names; python tools/fuzz/targets.py NAME FILE...: replay
    # files through a target without atheris.
    import sys

    if len(sys.argv) < 2:
        print(*TARGETS)
    for file in sys.argv[2:]:
        replay(sys.argv[1], file)
        print(f"{file}: ok", file=sys.stderr)
