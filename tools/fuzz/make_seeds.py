"""Write the seed inputs of every fuzz target into tests/fuzz_corpus/<target>/seed-*: python tools/fuzz/make_seeds.py

Seeds are small valid files made by pycnn's own writers (save, save_checkpoint) or by the formats'
definitions (IDX headers, CIFAR pickles and records, tar archives, images), plus the bad files the issue
names. Findings are added by hand as finding-* files, next to the unit test of their fix.
"""

import gzip
import io
import json
import struct
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np

import pycnn as pc
from pycnn import nn, optim
from pycnn.train import save_checkpoint

sys.path.insert(0, str(Path(__file__).resolve().parent))
from targets import _CIFAR_VERSIONS, cifar_files

CORPUS = Path(__file__).resolve().parents[2] / "tests" / "fuzz_corpus"


def _safetensors(header, data=b""):
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


def _saved(state, metadata=None):
    with tempfile.TemporaryDirectory() as d:
        pc.save(state, Path(d) / "x.safetensors", metadata=metadata)
        return (Path(d) / "x.safetensors").read_bytes()


def load_seeds():
    """Whole files (first byte 0) and JSON headers the target builds a file around (first byte 1)."""
    headers = {
        "header-small-dtypes": {
            k: {"dtype": k, "shape": [2], "data_offsets": offsets}
            for k, offsets in (("U8", [0, 2]), ("BOOL", [2, 4]), ("BF16", [4, 8]))
        },
        "header-metadata": {"__metadata__": {"a": "b"}, "x": {"dtype": "F64", "shape": [1, 1], "data_offsets": [0, 8]}},
    }
    return {name: b"\x00" + data for name, data in _load_files().items()} | {
        name: b"\x01" + json.dumps(header).encode() for name, header in headers.items()
    }


def _load_files():
    rng = np.random.default_rng(0)
    return {
        "f32-i64": _saved({"w": pc.tensor(rng.standard_normal((2, 3)).astype(np.float32)), "n": pc.arange(3)}),
        "dtypes": _saved(
            {k: np.arange(3).astype(k) for k in ("f8", "f2", "i4", "i2", "i1", "u8", "u4", "u2", "u1", "?")},
            metadata={"note": "all dtypes"},
        ),
        "empty": _saved({"e": pc.zeros(0, 3), "s": pc.tensor(1.5)}),
        # The cases: a U64 past int64, shapes NumPy cannot hold next to a 0, a deep header.
        "u64-max": _safetensors({"u": {"dtype": "U64", "shape": [1], "data_offsets": [0, 8]}}, b"\xff" * 8),
        "shape-2p32-2p32-0": _safetensors({"x": {"dtype": "F32", "shape": [2**32, 2**32, 0], "data_offsets": [0, 0]}}),
        "shape-0-2p62-2p62": _safetensors({"x": {"dtype": "F32", "shape": [0, 2**62, 2**62], "data_offsets": [0, 0]}}),
        # (5,000 levels are past the interpreter's recursion limit and within the fuzzer's -max_len.)
        "nested-arrays": struct.pack("<Q", 5_000) + b"[" * 5_000,
        "nested-objects": struct.pack("<Q", 5 * 2_000) + b'{"a":' * 2_000,
    }


def checkpoint_seeds():
    pc.manual_seed(0)
    model = nn.Linear(2, 2)
    opt = optim.Adam(model.parameters(), lr=0.1)
    model(pc.ones(1, 2)).sum().backward()
    opt.step()
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "c.safetensors"
        save_checkpoint(path, model, opt, epoch=3, extra={"t": (1, 2), "s": {3}, "d": {4: "x"}})
        full = path.read_bytes()
        save_checkpoint(path, model)
        bare = path.read_bytes()
    document = {"epoch": 2, "history": [{"loss": 0.5}], "callbacks": [{"class": "EarlyStopping", "state": {}}]}
    document["extra"] = {"t": {"__tuple__": [1, {"__tensor__": "model.weight"}]}, "c": {"__counter__": [[1, 2]]}}
    return {"adam": b"\x00" + full, "model-only": b"\x00" + bare, "document": b"\x01" + json.dumps(document).encode()}


def _idx(array, code):
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    big = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[code]
    return header + np.ascontiguousarray(array, dtype=big).tobytes()


def idx_seeds():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(2, 4, 4), dtype=np.uint8)
    seeds = {f"type-{code:02x}": _idx(np.arange(6).reshape(2, 3), code) for code in (0x08, 0x09, 0x0B, 0x0C, 0x0E)}
    seeds["images-u8"] = _idx(images, 0x08)
    seeds["images-u8-gz"] = gzip.compress(_idx(images, 0x08), mtime=0)
    # The cases: dims whose product wraps int64, and 255 dims.
    seeds["dims-overflow"] = bytes.fromhex("00000d06 00000002 00000002 3f800000 40003900 40400000 40800000")
    seeds["dims-255"] = bytes([0, 0, 8, 255]) + struct.pack(">255I", *([1] * 255)) + b"\x07"
    return seeds


def cifar_seeds():
    """The target's first byte picks the file the rest replaces (targets._CIFAR_VERSIONS)."""
    valid = cifar_files()
    names = ["test-batch", "meta", "test-batch-bin", "meta-txt"]
    return {name: bytes([i]) + valid[version] for i, (name, version) in enumerate(zip(names, _CIFAR_VERSIONS))}


def _tar(mode, members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tar:
        for name, data, kind in members:
            info = tarfile.TarInfo(name)
            info.type, info.size, info.mtime = kind, len(data), 0
            if kind == tarfile.SYMTYPE:
                info.linkname = "/etc/passwd"
            tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    return buf.getvalue()


def tar_seeds():
    files = [("d", b"", tarfile.DIRTYPE), ("d/a.txt", b"hello", tarfile.REGTYPE)]
    return {
        "plain": _tar("w", files),
        "gz": gzip.compress(_tar("w", files), mtime=0),  # tarfile's w:gz would stamp today's date
        "bz2": _tar("w:bz2", files),
        "xz": _tar("w:xz", files),
        "dotdot": _tar("w", [("../evil", b"x", tarfile.REGTYPE)]),
        "symlink": _tar("w", [("link", b"", tarfile.SYMTYPE)]),
    }


def image_seeds():
    from PIL import Image

    rng = np.random.default_rng(0)
    seeds = {}
    for fmt, mode in (("PNG", "RGB"), ("PNG", "L"), ("PNG", "RGBA"), ("BMP", "RGB"), ("JPEG", "RGB"), ("PPM", "RGB")):
        shape = (3, 4) if mode == "L" else (3, 4, len(mode))
        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, size=shape, dtype=np.uint8), mode).save(buf, fmt)
        seeds[f"{fmt.lower()}-{mode.lower()}"] = buf.getvalue()
    return seeds


SEEDS = {
    "load": load_seeds,
    "checkpoint": checkpoint_seeds,
    "idx": idx_seeds,
    "cifar": cifar_seeds,
    "tar": tar_seeds,
    "image": image_seeds,
}


def main():
    for target, make in SEEDS.items():
        folder = CORPUS / target
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("seed-*"):
            old.unlink()
        for name, data in make().items():
            (folder / f"seed-{name}").write_bytes(data)


if __name__ == "__main__":
    main()
