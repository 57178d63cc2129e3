"""Tests for pycnn.serialization: safetensors round trips, byte-level format, interop with the
`safetensors` package, atomic saves, and errors on corrupt files.
"""

import json
import os
import re
import signal
import struct
import subprocess
import sys
from collections import OrderedDict

import numpy as np
import pytest

import pycnn as pc
from pycnn import models, serialization
from pycnn.serialization import load, save

from helpers import SUBPROCESS_CWD


def _np(t):
    return np.array(t.detach().numpy())


def _sample_state():
    rng = np.random.default_rng(0)
    base = pc.tensor(rng.standard_normal((3, 5)))
    return OrderedDict(
        [
            ("f32", pc.tensor(rng.standard_normal((2, 3, 4)).astype(np.float32))),
            ("f64", pc.tensor(rng.standard_normal(7))),
            ("i64", pc.tensor(np.arange(-5, 7, dtype=np.int64).reshape(3, 4))),
            ("scalar", pc.tensor(np.float32(2.5))),
            ("empty", pc.zeros(0, 3)),
            ("transposed", base.t()),  # non-contiguous: must be written in logical (row-major) order
            ("numpy_i32", np.arange(6, dtype=np.int32).reshape(2, 3)),
        ]
    )


def test_round_trip_dtypes_shapes_values(tmp_path):
    state = _sample_state()
    path = tmp_path / "t.safetensors"
    save(state, path)
    loaded = load(path)
    assert isinstance(loaded, OrderedDict) and list(loaded) == list(state)
    for name, value in state.items():
        ref = value if isinstance(value, np.ndarray) else _np(value)
        got = loaded[name]
        assert isinstance(got, pc.Tensor), name
        assert got.shape == ref.shape, name
        np.testing.assert_array_equal(_np(got), ref, err_msg=name)
    assert loaded["f32"].dtype == pc.float32 and loaded["f64"].dtype == pc.float64
    assert loaded["i64"].dtype == pc.int64 and loaded["numpy_i32"].dtype == pc.int32


def test_file_layout(tmp_path):
    path = tmp_path / "t.safetensors"
    save(
        OrderedDict([("a", pc.zeros(3)), ("b", pc.ones(2, 2, dtype=pc.float64))]),
        path,
        metadata={"format": "pt", "epoch": "3"},
    )
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0  # tensor data starts 8-byte aligned
    header = json.loads(raw[8 : 8 + n])
    assert header["__metadata__"] == {"format": "pt", "epoch": "3"}
    assert list(header) == ["__metadata__", "a", "b"]  # the caller's order...
    # ...but the bytes are laid out widest dtype first, so each tensor is aligned to its itemsize.
    assert header["a"] == {"dtype": "F32", "shape": [3], "data_offsets": [32, 44]}
    assert header["b"] == {"dtype": "F64", "shape": [2, 2], "data_offsets": [0, 32]}
    assert len(raw) == 8 + n + 44
    assert np.frombuffer(raw[8 + n : 8 + n + 32], "<f8").tolist() == [1.0] * 4
    assert list(load(path)) == ["a", "b"]
    assert serialization.load_metadata(path) == {"format": "pt", "epoch": "3"}


def test_model_state_dict_round_trip(tmp_path):
    pc.manual_seed(0)
    a = models.lenet5()
    pc.manual_seed(1)
    b = models.lenet5()
    path = tmp_path / "lenet.safetensors"
    save(a.state_dict(), path)
    b.load_state_dict(load(path))
    x = pc.randn(2, 1, 28, 28)
    np.testing.assert_array_equal(_np(a(x)), _np(b(x)))


def test_interop_with_safetensors_package(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    state = _sample_state()
    ours = tmp_path / "ours.safetensors"
    save(state, ours, metadata={"k": "v"})
    theirs_view = st.load_file(str(ours))
    for name, value in state.items():
        ref = value if isinstance(value, np.ndarray) else _np(value)
        assert theirs_view[name].dtype == ref.dtype, name
        np.testing.assert_array_equal(theirs_view[name], ref, err_msg=name)

    arrays = {
        "w": np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32),
        "d": np.random.default_rng(2).standard_normal(5),
        "idx": np.arange(10, dtype=np.int64),
        "half": np.linspace(-2, 2, 9, dtype=np.float16),
        "bytes": np.arange(5, dtype=np.uint8),
    }
    theirs = tmp_path / "theirs.safetensors"
    st.save_file(arrays, str(theirs), metadata={"source": "safetensors"})
    loaded = load(theirs)
    assert set(loaded) == set(arrays)
    for name, ref in arrays.items():
        np.testing.assert_array_equal(_np(loaded[name]), ref, err_msg=name)
    assert loaded["half"].dtype == pc.float16 and loaded["bytes"].dtype == pc.uint8
    assert serialization.load_metadata(theirs) == {"source": "safetensors"}


def test_save_is_atomic_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    save({"w": pc.ones(4)}, path)
    before = path.read_bytes()

    calls = []
    real_write = serialization._write_tensor_bytes

    def failing_write(f, arr):
        calls.append(1)
        if len(calls) == 2:  # fail midway: after the header and the first tensor reached the temp file
            raise OSError("disk full (simulated)")
        real_write(f, arr)

    monkeypatch.setattr(serialization, "_write_tensor_bytes", failing_write)
    with pytest.raises(OSError, match="simulated"):
        save(OrderedDict([("w", pc.zeros(4)), ("v", pc.zeros(1000))]), path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]  # the temp file was cleaned up
    np.testing.assert_array_equal(_np(load(path)["w"]), np.ones(4, np.float32))


def test_save_rejects_bad_values(tmp_path):
    path = tmp_path / "bad.safetensors"
    with pytest.raises(TypeError):
        save({"a": [1.0, 2.0]}, path)
    with pytest.raises(TypeError):
        save({"a": 3.0}, path)
    with pytest.raises(TypeError):
        save({1: pc.zeros(1)}, path)
    with pytest.raises(TypeError):
        save([pc.zeros(1)], path)
    with pytest.raises(TypeError):
        save({"a": pc.zeros(1)}, path, metadata={"epoch": 3})
    with pytest.raises(TypeError):
        save({"a": np.zeros(2, dtype=np.complex64)}, path)
    assert not path.exists()


def _write(path, data):
    path.write_bytes(data)
    return path


def _valid_bytes():
    header = json.dumps({"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
    header += b" " * (-len(header) % 8)
    return struct.pack("<Q", len(header)) + header + np.ones(2, np.float32).tobytes(), len(header)


@pytest.mark.parametrize(
    "case",
    [
        "tiny",
        "huge_header_len",
        "header_cut",
        "data_cut",
        "trailing",
        "bad_json",
        "bad_dtype",
        "bad_offsets",
        "overlap",
        "not_object",
    ],
)
def test_corrupt_files_raise_value_error_naming_the_file(tmp_path, case):
    good, n = _valid_bytes()

    def with_header(obj):
        h = json.dumps(obj).encode()
        return struct.pack("<Q", len(h)) + h + good[8 + n :]

    data = {
        "tiny": b"\x01\x02",
        "huge_header_len": struct.pack("<Q", 1 << 60) + good[8:],
        "header_cut": good[: 8 + n // 2],
        "data_cut": good[:-3],
        "trailing": good + b"\x00" * 4,
        "bad_json": struct.pack("<Q", 8) + b"{nope!!}" + good[8 + n :],
        "bad_dtype": with_header({"x": {"dtype": "F7", "shape": [2], "data_offsets": [0, 8]}}),
        "bad_offsets": with_header({"x": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}),
        "overlap": with_header(
            {
                "x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                "y": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
            }
        ),
        "not_object": with_header([1, 2]),
    }[case]
    path = _write(tmp_path / f"{case}.safetensors", data)
    with pytest.raises(ValueError, match=case):
        load(path)


def test_truncated_real_checkpoint(tmp_path):
    path = tmp_path / "model.safetensors"
    save(models.lenet5().state_dict(), path)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="truncated"):
        load(path)


# ------------------------------------------------------------------------- issue 11: hostile and odd files


def _header_only(header):
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw


@pytest.mark.parametrize(
    "case,data,match",
    [
        ("nested-arrays", struct.pack("<Q", 200_000) + b"[" * 200_000, "nests arrays or objects too deeply"),
        ("nested-objects", struct.pack("<Q", 100_000) + b'{"a":' * 20_000, "nests arrays or objects too deeply"),
        ("long-int", struct.pack("<Q", 5016) + b'{"x":{"shape":[' + b"9" * 5000 + b"]}}", "not valid UTF-8 JSON"),
        ("list-dtype", _header_only({"x": {"dtype": [], "shape": [], "data_offsets": [0, 4]}}), "unknown dtype"),
        (
            "shape-2p32-2p32-0",
            _header_only({"x": {"dtype": "F32", "shape": [2**32, 2**32, 0], "data_offsets": [0, 0]}}),
            r"shape \[4294967296, 4294967296, 0\]: too large",
        ),
        (
            "shape-0-2p62-2p62",
            _header_only({"x": {"dtype": "F32", "shape": [0, 2**62, 2**62], "data_offsets": [0, 0]}}),
            "too large",
        ),
        (  # a JSON escape of a lone surrogate: it loaded, and saving it again failed (the fuzzer, issue 11)
            "surrogate-name",
            b"\x58\x00\x00\x00\x00\x00\x00\x00"
            + b'{"x\\ud800": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}'.ljust(88)
            + b"\x00",
            "not valid UTF-8",
        ),
        (
            "too-many-dims",
            _header_only({"x": {"dtype": "U8", "shape": [1] * 100, "data_offsets": [0, 1]}}) + b"\x00",
            "dimension",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 40 else "",
)
def test_hostile_headers_raise_value_error_naming_the_file(tmp_path, case, data, match):
    # Each raised RecursionError, a bare ValueError/TypeError or NumPy's "array is too big" before (issue 11).
    path = _write(tmp_path / f"{case}.safetensors", data)
    for read in (load, serialization.load_metadata):
        if read is serialization.load_metadata and case == "too-many-dims":
            continue  # NumPy's dimension limit is met when the tensor is allocated, which load_metadata does not
        with pytest.raises(ValueError, match=match) as info:
            read(path)
        assert str(info.value).startswith("[load] ") and str(path) in str(info.value)


def test_shape_with_a_zero_and_large_sizes_loads(tmp_path):
    path = _write(
        tmp_path / "z.safetensors", _header_only({"x": {"dtype": "F32", "shape": [0, 2**40], "data_offsets": [0, 0]}})
    )
    assert load(path)["x"].shape == (0, 2**40)


def test_u64_values_load_exactly_or_not_at_all(tmp_path):
    # 2**64 - 1 used to load as -1 (issue 11).
    save({"u": np.array([0, 2**63 - 1], np.uint64)}, tmp_path / "ok.safetensors")
    assert load(tmp_path / "ok.safetensors")["u"].tolist() == [0, 2**63 - 1]
    bad = tmp_path / "big.safetensors"
    save({"u": np.array([1, 2**64 - 1], np.uint64)}, bad)
    with pytest.raises(ValueError, match=r"^\[load\] .*big.safetensors.*'u' \(U64\) holds 18446744073709551615"):
        load(bad)


# A save killed with SIGKILL after half of its tensor bytes reached the temporary file.
_KILLED_SAVE = """
import os, signal, sys
import numpy as np
import pycnn as pc
from pycnn import serialization

def half_then_sigkill(f, arr):
    raw = arr.reshape(-1).view(np.uint8)
    f.write(raw[: len(raw) // 2].data)
    f.flush()
    os.kill(os.getpid(), signal.SIGKILL)

serialization._write_tensor_bytes = half_then_sigkill
pc.save({"w": np.zeros(100_000, np.float32)}, sys.argv[1])
"""


def _killed_save(path):
    done = subprocess.run([sys.executable, "-c", _KILLED_SAVE, str(path)], cwd=SUBPROCESS_CWD, timeout=120, check=False)
    assert done.returncode == -signal.SIGKILL


@pytest.mark.skipif(os.name != "posix", reason="kill -9 and pid liveness are POSIX")
def test_a_killed_save_leaves_a_named_temporary_that_the_next_save_removes(tmp_path):
    # 30 killed saves used to leave 30 anonymous temporaries forever (issue 11).
    path = tmp_path / "ckpt.safetensors"
    save({"w": pc.ones(4)}, path)
    before = path.read_bytes()
    orphans = []
    for _ in range(3):
        _killed_save(path)
        # Each save removes its killed predecessor's temporary: one orphan at most, never 30.
        (orphan,) = set(os.listdir(tmp_path)) - {path.name}
        assert re.fullmatch(r"\.ckpt\.safetensors\.pycnn-save-\d+-\w+\.tmp", orphan), orphan
        assert orphan not in orphans
        orphans.append(orphan)
        assert path.read_bytes() == before  # the previous file is never lost
    dead_pid = int(orphans[0].split("-")[2])
    # Kept: the temporary of a live process (ours) and another target's temporary.
    live = tmp_path / f".ckpt.safetensors.pycnn-save-{os.getpid()}-live.tmp"
    other = tmp_path / f".other.safetensors.pycnn-save-{dead_pid}-x.tmp"
    lookalike = tmp_path / f".ckpt.safetensors.pycnn-save-{dead_pid}-x.tmp.pycnn-save-{dead_pid}-y.tmp"
    for kept in (live, other, lookalike):
        kept.write_bytes(b"x")
    save({"w": pc.zeros(4)}, path)
    assert sorted(os.listdir(tmp_path)) == sorted([path.name, live.name, other.name, lookalike.name])
    np.testing.assert_array_equal(_np(load(path)["w"]), np.zeros(4, np.float32))


def test_save_refuses_names_that_are_not_utf8_text(tmp_path):
    with pytest.raises(ValueError, match=r"^\[save\] a tensor name or metadata string is not valid UTF-8"):
        pc.save({"x\ud800": pc.zeros(1)}, tmp_path / "s.safetensors")
    assert not list(tmp_path.iterdir())  # nothing written, no temporary left
