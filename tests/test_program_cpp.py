"""pycnn::Program, the C++ interpreter of .pycnn programs (docs/program-format.md), driven through _C.Program:
hand-written programs (a writer below, per the spec) against the Python ops bitwise and a NumPy reference,
every kind of bad file and bad input as a clear "[Program.load]"/"[Program.run]" exception (the damage sweeps
run in a forked child, so a crash fails the test instead of the run), the C++ safetensors reader/writer
against the safetensors package, and the pycnn-run executable (no libpython in its dynamic section).
"""

import json
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

import pycnn as pc
import pycnn.nn.functional as F
from pycnn import _C

from helpers import ZOO, run_forked, zoo_model

DTYPE_CODES = {"float32": "F32", "float64": "F64", "int64": "I64", "int32": "I32", "uint8": "U8", "bool": "BOOL"}
LOAD_ERRORS = (ValueError, TypeError, RuntimeError, MemoryError)


def safetensors_bytes(tensors, metadata):
    """A safetensors file's bytes: tensors a dict name -> NumPy array (little-endian, C order)."""
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, a in tensors.items():
        data = np.ascontiguousarray(a).tobytes()
        code = DTYPE_CODES[str(a.dtype)]
        header[name] = {"dtype": code, "shape": list(a.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def program_bytes(graph, constants, version="1", fmt="pycnn.program"):
    meta = {"format": fmt, "version": version, "program": json.dumps(graph)}
    return safetensors_bytes(constants, meta)


def write(tmp_path, data, name="model.pycnn"):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def small_cnn(dynamic_batch=True):
    """conv(bias) -> batch_norm -> relu -> max_pool -> avg_pool -> reshape -> linear -> (softmax, log_softmax)
    plus a sigmoid branch joined by cat and a binary add with a constant: most ops of the table."""
    consts = {
        "conv.weight": rand(4, 3, 3, 3, seed=1),
        "conv.bias": rand(4, seed=2),
        "bn.weight": rand(4, seed=3),
        "bn.bias": rand(4, seed=4),
        "bn.running_mean": rand(4, seed=5),
        "bn.running_var": np.abs(rand(4, seed=6)) + 0.5,
        "fc.weight": rand(5, 32, seed=7),
        "fc.bias": rand(5, seed=8),
        "constant.0": rand(1, 5, seed=9),
    }
    names = list(consts)
    graph = {
        "inputs": [
            {"id": 0, "name": "input", "dtype": "float32", "shape": [2, 3, 8, 8], "dynamic_batch": dynamic_batch}
        ],
        "constants": [{"id": 100 + i, "tensor": n} for i, n in enumerate(names)],
        "nodes": [
            {
                "op": "conv2d",
                "inputs": [0, 100, 101],
                "outputs": [1],
                "attrs": {"stride": [1, 1], "padding": [1, 1], "dilation": [1, 1], "groups": 1},
            },
            {
                "op": "batch_norm",
                "inputs": [1, 102, 103, 104, 105],
                "outputs": [2],
                "attrs": {"training": False, "momentum": 0.1, "eps": 1e-05},
            },
            {"op": "relu", "inputs": [2], "outputs": [3], "attrs": {}},
            {
                "op": "max_pool2d",
                "inputs": [3],
                "outputs": [4, 5],
                "attrs": {
                    "kernel": [2, 2],
                    "stride": [2, 2],
                    "padding": [0, 0],
                    "dilation": [1, 1],
                    "ceil_mode": False,
                },
            },
            {
                "op": "avg_pool2d",
                "inputs": [4],
                "outputs": [6],
                "attrs": {
                    "kernel": [3, 3],
                    "stride": [1, 1],
                    "padding": [1, 1],
                    "ceil_mode": False,
                    "count_include_pad": False,
                    "divisor_override": None,
                },
            },
            {"op": "adaptive_avg_pool2d", "inputs": [6], "outputs": [7], "attrs": {"output_size": [2, 4]}},
            {"op": "reshape", "inputs": [7], "outputs": [8], "attrs": {"shape": [0, -1], "view_only": False}},
            {"op": "linear", "inputs": [8, 106, 107], "outputs": [9], "attrs": {}},
            {"op": "unary", "inputs": [9], "outputs": [10], "attrs": {"op": "sigmoid", "alpha": 0.0, "beta": 0.0}},
            {"op": "binary", "inputs": [10, 108], "outputs": [11], "attrs": {"op": "add"}},
            {"op": "cat", "inputs": [9, 11], "outputs": [12], "attrs": {"dim": 1}},
            {"op": "softmax", "inputs": [12], "outputs": [13], "attrs": {"dim": 1}},
            {"op": "log_softmax", "inputs": [12], "outputs": [14], "attrs": {"dim": -1}},
            {"op": "cast", "inputs": [14], "outputs": [15], "attrs": {"dtype": "float64"}},
        ],
        "outputs": [{"id": 13, "name": "probs"}, {"id": 15, "name": "log_probs"}],
    }
    return graph, consts


def small_cnn_python(x, c):
    """small_cnn's forward through pycnn's Python ops (the same core calls)."""
    t = {k: pc.tensor(v) for k, v in c.items()}
    y = F.conv2d(x, t["conv.weight"], t["conv.bias"], padding=1)
    y = F.batch_norm(y, t["bn.running_mean"], t["bn.running_var"], t["bn.weight"], t["bn.bias"], False, 0.1, 1e-5)
    y = F.max_pool2d(F.relu(y), 2, 2)
    y = F.avg_pool2d(y, 3, 1, 1, count_include_pad=False)
    y = F.adaptive_avg_pool2d(y, (2, 4)).reshape(y.shape[0], -1)
    logits = F.linear(y, t["fc.weight"], t["fc.bias"])
    z = pc.cat([logits, F.sigmoid(logits) + t["constant.0"]], 1)
    return F.softmax(z, 1), F.log_softmax(z, -1).double()


def run(path, *arrays):
    return [o for o in _C.Program.load(path).run([pc.tensor(a)._impl for a in arrays])]


def test_small_cnn_matches_python_bitwise_at_two_batch_sizes(tmp_path):
    graph, consts = small_cnn()
    path = write(tmp_path, program_bytes(graph, consts))
    prog = _C.Program.load(path)
    for batch in (2, 3):
        x = rand(batch, 3, 8, 8, seed=10 + batch)
        probs, log_probs = prog.run([pc.tensor(x)._impl])
        ref_probs, ref_log = small_cnn_python(pc.tensor(x), consts)
        assert log_probs.dtype == "float64" and list(probs.shape) == [batch, 10]
        np.testing.assert_array_equal(pc.Tensor._make(probs).numpy(), ref_probs.numpy())
        np.testing.assert_array_equal(pc.Tensor._make(log_probs).numpy(), ref_log.numpy())


def test_info(tmp_path):
    graph, consts = small_cnn()
    info = _C.Program.load(write(tmp_path, program_bytes(graph, consts))).info()
    assert info["inputs"] == [{"name": "input", "dtype": "float32", "shape": [2, 3, 8, 8], "dynamic_batch": True}]
    assert info["outputs"] == ["probs", "log_probs"]
    assert info["num_nodes"] == 14 and info["num_constants"] == 9
    assert info["ops"][:3] == ["conv2d", "batch_norm", "relu"]


def test_numpy_reference_linear_relu_sub_and_view(tmp_path):
    w, b, s = rand(6, 4, seed=1), rand(6, seed=2), rand(6, seed=3)
    graph = {
        "inputs": [{"id": 0, "name": "x", "dtype": "float32", "shape": [3, 2, 2]}],
        "constants": [{"id": 1, "tensor": "w"}, {"id": 2, "tensor": "b"}, {"id": 3, "tensor": "s"}],
        "nodes": [
            {"op": "reshape", "inputs": [0], "outputs": [4], "attrs": {"shape": [3, 4], "view_only": True}},
            {"op": "linear", "inputs": [4, 1, None], "outputs": [5], "attrs": {}},
            {"op": "binary", "inputs": [5, 2], "outputs": [6], "attrs": {"op": "sub"}},
            {"op": "relu", "inputs": [6], "outputs": [7], "attrs": {}},
            {"op": "binary", "inputs": [7, 3], "outputs": [8], "attrs": {"op": "mul"}},
        ],
        "outputs": [{"id": 8, "name": "y"}, {"id": 6, "name": "pre"}],
    }
    x = rand(3, 2, 2, seed=4)
    y, pre = run(write(tmp_path, program_bytes(graph, {"w": w, "b": b, "s": s})), x)
    ref_pre = x.reshape(3, 4).astype(np.float64) @ w.T.astype(np.float64) - b
    np.testing.assert_allclose(pc.Tensor._make(pre).numpy(), ref_pre, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(pc.Tensor._make(y).numpy(), np.maximum(ref_pre, 0) * s, rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------------------------------- zoo models --
def zoo_program(tmp_path, name, shape):
    model = zoo_model(name)
    x = pc.tensor(rand(*shape, seed=3))
    path = str(tmp_path / f"{name}.pycnn")
    pc.program.trace(model, x).save(path)
    return model, path


# helpers.ZOO: every zoo family at a small input size
@pytest.mark.parametrize(("name", "shape"), ZOO, ids=[z[0] for z in ZOO])
def test_zoo_model_in_cpp_equals_python_forward_bitwise(tmp_path, name, shape):
    model, path = zoo_program(tmp_path, name, shape)
    x = rand(shape[0] + 1, *shape[1:], seed=4)  # another batch size than the traced one
    with pc.no_grad():
        want = model(pc.tensor(x)).numpy()
    (got,) = _C.Program.load(path).run([pc.tensor(x)._impl])
    np.testing.assert_array_equal(pc.Tensor._make(got).numpy(), want)


# ---------------------------------------------------------------------------------------- bad programs --
def damaged(mutate):
    """small_cnn's graph after mutate(graph) (which may return a replacement)."""
    graph, consts = small_cnn()
    return program_bytes(mutate(graph) or graph, consts), consts


def set_attr(node, key, value):
    def mutate(g):
        g["nodes"][node]["attrs"][key] = value

    return mutate


def del_attr(node, key):
    def mutate(g):
        del g["nodes"][node]["attrs"][key]

    return mutate


def set_node(node, key, value):
    def mutate(g):
        g["nodes"][node][key] = value

    return mutate


BAD_GRAPHS = {
    "unknown op": (set_node(2, "op", "conv3d"), "unknown op 'conv3d'; expected one of 'conv2d'"),
    "missing attr": (del_attr(0, "groups"), "node 0 (conv2d): attribute 'groups' is missing"),
    "attr of wrong type": (set_attr(0, "stride", "1"), "attribute 'stride' is a string, expected an array"),
    "int attr given a float": (set_attr(0, "groups", 1.0), "'groups' is a number, expected an integer"),
    "pair of three": (set_attr(0, "padding", [1, 1, 1]), "'padding' has 3 entries, expected a pair"),
    "bool attr given an int": (set_attr(1, "training", 0), "'training' is an integer, expected a bool"),
    "unknown unary op": (set_attr(8, "op", "sigmoidd"), "node 8 (unary): [unary] unknown op 'sigmoidd'"),
    "id before definition": (set_node(2, "inputs", [3]), "node 2 (relu): id 3 is used before it is defined"),
    "own output as input": (set_node(2, "inputs", [3]), "id 3 is used before"),
    "id defined twice": (set_node(2, "outputs", [1]), "id 1 is defined a second time"),
    "id not an integer": (set_node(2, "inputs", ["2"]), "id is a string, expected an integer"),
    "required input null": (set_node(0, "inputs", [None, 100, 101]), "input 0 is null but is required"),
    "too many inputs": (set_node(2, "inputs", [2, 2]), "node 2 (relu) has 2 inputs, expected 1"),
    "too few outputs": (set_node(3, "outputs", [4]), "node 3 (max_pool2d) has 1 outputs, expected 2"),
    "attrs not an object": (set_node(2, "attrs", []), "field 'attrs' is an array, expected an object"),
    "bn training with stats": (set_attr(1, "training", True), "training=true with running stats"),
    "unknown dtype": (set_attr(13, "dtype", "float8"), "unknown dtype 'float8'"),
    "undefined output": (lambda g: g["outputs"].append({"id": 99, "name": "z"}), "output 2: id 99 is used before"),
    "no outputs": (lambda g: g.update(outputs=[]), "declares no outputs"),
    "missing constant tensor": (
        lambda g: g["constants"].append({"id": 50, "tensor": "nope"}),
        "constant 9 names tensor 'nope', which the file does not hold",
    ),
    "huge input shape": (
        lambda g: g["inputs"][0].update(shape=[2**40, 2**40, 2**40, 1]),
        "[Program.load] size too large",
    ),
    "negative input dim": (lambda g: g["inputs"][0].update(shape=[2, -3, 8, 8]), "negative dim"),
    "program not an object": (lambda g: [g], "the program is an array, expected an object"),
    "nodes missing": (lambda g: {k: v for k, v in g.items() if k != "nodes"}, "field 'nodes' is missing"),
}


@pytest.mark.parametrize("case", list(BAD_GRAPHS))
def test_bad_program_is_a_clear_load_error(tmp_path, case):
    mutate, text = BAD_GRAPHS[case]
    data, _ = damaged(mutate)
    with pytest.raises(ValueError) as e:
        _C.Program.load(write(tmp_path, data))
    assert str(e.value).startswith("[Program.load]") and text in str(e.value), str(e.value)


@pytest.mark.parametrize(
    ("meta", "text"),
    [
        ({"version": "2"}, "is program version '2'; this pycnn reads version 1 only"),
        ({"format": "onnx"}, "has format 'onnx', expected 'pycnn.program'"),
        ({"program": '{"inputs": [1,]}'}, "invalid JSON: unexpected character ']' at byte 14"),
        ({"program": "[" * 100 + "]" * 100}, "nesting deeper than 64"),
        ({"program": '{"a": 1, "a": 2}'}, "duplicate key"),
        ({"program": '{"a": 99999999999999999999}'}, "integer out of the int64 range"),
        ({"program": '{"a": "\\ud800"}'}, "unpaired surrogate"),
    ],
)
def test_bad_metadata(tmp_path, meta, text):
    graph, consts = small_cnn()
    full = {"format": "pycnn.program", "version": "1", "program": json.dumps(graph)} | meta
    with pytest.raises(ValueError) as e:
        _C.Program.load(write(tmp_path, safetensors_bytes(consts, full)))
    assert str(e.value).startswith("[Program.load]") and text in str(e.value), str(e.value)


def test_missing_metadata_and_file(tmp_path):
    _, consts = small_cnn()
    with pytest.raises(ValueError, match=r"^\[Program.load\] .* has no 'format' in its metadata"):
        _C.Program.load(write(tmp_path, safetensors_bytes(consts, {})))
    with pytest.raises(RuntimeError, match=r"^\[Program.load\] .*cannot open"):
        _C.Program.load(str(tmp_path / "absent.pycnn"))


def raw_header_file(header, data=b""):
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (struct.pack("<Q", 1 << 40) + b"{}", "header length 1099511627776 is past the end"),
        (b"\x01\x02", "too short for a safetensors file"),
        (raw_header_file({"w": {"dtype": "F32", "shape": [2**62, 4], "data_offsets": [0, 16]}}), "size too large"),
        (
            raw_header_file({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}, b"\0" * 8),
            "are not inside the data area of 8 bytes",
        ),
        (
            raw_header_file({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 12]}}, b"\0" * 16),
            "hold 12 bytes but float32 of shape (2, 2) needs 16",
        ),
        (raw_header_file({"w": {"dtype": "F32", "shape": [1], "data_offsets": [8, 4]}}, b"\0" * 16), "not inside"),
        (raw_header_file({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, b"\0" * 4), "shape entries"),
        (raw_header_file({"w": {"dtype": "F32", "shape": [1]}}, b"\0" * 4), "has no 'data_offsets'"),
        (raw_header_file({"__metadata__": {"format": 1}}), "__metadata__ 'format' is an integer"),
        (raw_header_file([1, 2]), "the header is an array"),
    ],
)
def test_bad_safetensors(tmp_path, data, text):
    with pytest.raises(ValueError) as e:
        _C.Program.load(write(tmp_path, data))
    assert str(e.value).startswith("[Program.load]") and "[safetensors]" in str(e.value), str(e.value)
    assert text in str(e.value), str(e.value)


def test_unsupported_safetensors_dtype_is_a_type_error(tmp_path):
    data = raw_header_file({"w": {"dtype": "F8_E4M3", "shape": [4], "data_offsets": [0, 4]}}, b"\0" * 4)
    with pytest.raises(TypeError, match=r"^\[Program.load\] .*dtype 'F8_E4M3'"):
        _C.Program.load(write(tmp_path, data))


def test_truncation_and_corruption_sweeps_never_crash(tmp_path):
    """Prefixes (through the header every third byte, the data coarsely) and 150 random byte corruptions: each either loads or raises a load error; a loaded program run on a good input either runs or
    raises a run error. In a forked child: a crash fails this test, not the run."""
    graph, consts = small_cnn()
    data = program_bytes(graph, consts)
    header_end = 8 + struct.unpack("<Q", data[:8])[0]
    x = pc.tensor(rand(2, 3, 8, 8))._impl
    path = tmp_path / "damaged.pycnn"

    def attempt(blob, what):
        path.write_bytes(blob)
        try:
            prog = _C.Program.load(str(path))
        except LOAD_ERRORS as e:
            assert str(e).startswith("[Program.load]"), f"{what}: {e}"
            return
        try:
            prog.run([x])
        except LOAD_ERRORS as e:
            assert str(e).startswith("[Program.run]"), f"{what}: {e}"

    def sweep():
        cuts = list(range(0, header_end + 1, 3)) + list(range(header_end, len(data), 97))
        for n in cuts:
            attempt(data[:n], f"truncated at {n}")
        rng = np.random.default_rng(0)
        for i in range(150):
            blob = bytearray(data)
            for pos in rng.integers(0, header_end if i % 2 else len(data), size=1 + i % 4):
                blob[pos] = int(rng.integers(0, 256))
            attempt(bytes(blob), f"corruption {i}")

    names, message = run_forked(sweep, timeout=60)
    assert names == [], message


# -------------------------------------------------------------------------------------------- bad inputs --
@pytest.mark.parametrize(
    ("inputs", "exc", "text"),
    [
        (list, ValueError, "got 0 inputs, the program takes 1"),
        (lambda: [rand(2, 3, 8, 8), rand(2, 3, 8, 8)], ValueError, "got 2 inputs"),
        (
            lambda: [rand(2, 3, 8, 9)],
            ValueError,
            "input 'input' has shape (2, 3, 8, 9), the program takes (2, 3, 8, 8)",
        ),
        (lambda: [rand(3, 8, 8)], ValueError, "has shape (3, 8, 8)"),
        (
            lambda: [rand(2, 3, 8, 8).astype(np.float64)],
            TypeError,
            "input 'input' is float64, the program takes float32",
        ),
    ],
)
def test_bad_inputs_are_clear_run_errors(tmp_path, inputs, exc, text):
    graph, consts = small_cnn()
    prog = _C.Program.load(write(tmp_path, program_bytes(graph, consts)))
    with pytest.raises(exc) as e:
        prog.run([pc.tensor(a)._impl for a in inputs()])
    assert str(e.value).startswith("[Program.run]") and text in str(e.value), str(e.value)


def test_static_batch_refuses_another_batch(tmp_path):
    graph, consts = small_cnn(dynamic_batch=False)
    prog = _C.Program.load(write(tmp_path, program_bytes(graph, consts)))
    with pytest.raises(ValueError, match=r"^\[Program.run\] input 'input' has shape \(3, 3, 8, 8\)"):
        prog.run([pc.tensor(rand(3, 3, 8, 8))._impl])


def test_an_op_error_names_the_node(tmp_path):
    """A shape the ops refuse (the linear's in-features) fails in that node, named with its index and op."""
    graph, consts = small_cnn()
    consts["fc.weight"] = rand(5, 31)
    prog = _C.Program.load(write(tmp_path, program_bytes(graph, consts)))
    with pytest.raises(ValueError, match=r"^\[Program.run\] node 7 \(linear\): \[linear\]"):
        prog.run([pc.tensor(rand(2, 3, 8, 8))._impl])


def test_to_cpu_and_cuda_without_cuda(tmp_path):
    graph, consts = small_cnn()
    prog = _C.Program.load(write(tmp_path, program_bytes(graph, consts)))
    assert prog.to("cpu").device == "cpu"
    if not pc.cuda.is_available():
        with pytest.raises(RuntimeError):
            prog.to("cuda")
        assert prog.device == "cpu"  # a failed move leaves the program as it was


@pytest.mark.cuda
def test_cuda_matches_cpu(tmp_path):
    graph, consts = small_cnn()
    path = write(tmp_path, program_bytes(graph, consts))
    x = rand(2, 3, 8, 8)
    cpu = run(path, x)
    prog = _C.Program.load(path).to("cuda")
    with pytest.raises(ValueError, match="is on cpu, the program on cuda:0"):
        prog.run([pc.tensor(x)._impl])
    gpu = prog.run([pc.tensor(x)._impl.to_device("cuda")])
    for a, b in zip(cpu, gpu):
        np.testing.assert_allclose(
            pc.Tensor._make(b.to_device("cpu")).numpy(), pc.Tensor._make(a).numpy(), rtol=1e-4, atol=1e-5
        )


# ------------------------------------------------------------------------------------------- safetensors --
def test_safetensors_round_trip_with_the_safetensors_package(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    arrays = {
        "a": rand(3, 4),
        "b": np.arange(-5, 7, dtype=np.int64).reshape(2, 6),
        "c": np.array([True, False, True]),
        "d": np.array(3.25, dtype=np.float64),
        "e": np.zeros((0, 3), dtype=np.int32),
        'é "q"\n': np.arange(5, dtype=np.uint8),
    }
    ours = str(tmp_path / "ours.safetensors")
    _C.save_safetensors(ours, [(k, pc.tensor(v)._impl) for k, v in arrays.items()], {"k": "v\u00e9"})
    back = st.load_file(ours)
    assert set(back) == set(arrays)
    for k, v in arrays.items():
        np.testing.assert_array_equal(back[k], v)
        assert back[k].dtype == v.dtype
    theirs = str(tmp_path / "theirs.safetensors")
    st.save_file(arrays, theirs, metadata={"x": "y"})
    tensors, meta = _C.load_safetensors(theirs)
    assert meta == {"x": "y"}
    for name, t in tensors:
        np.testing.assert_array_equal(pc.Tensor._make(t).numpy(), arrays[name])


# --------------------------------------------------------------------------------------------- pycnn-run --
PYCNN_RUN = Path(_C.__file__).parent / "bin" / "pycnn-run"
needs_runner = pytest.mark.skipif(not PYCNN_RUN.exists(), reason="pycnn-run is not built next to this _C")


def pycnn_run(*args, cwd=None):
    """pycnn-run's CompletedProcess (text output)."""
    return subprocess.run(
        [PYCNN_RUN, *map(str, args)], check=False, capture_output=True, text=True, timeout=120, cwd=cwd
    )


def elf_needed(path):
    """The DT_NEEDED entries of an ELF64 little-endian file's dynamic section."""
    data = Path(path).read_bytes()
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1, "not an ELF64 little-endian file"
    shoff, shentsize, shnum = struct.unpack_from("<Q", data, 0x28)[0], *struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    dynamic = next(s for s in sections if s[1] == 6)  # SHT_DYNAMIC; its sh_link is the string table
    strtab = sections[dynamic[6]]
    needed = []
    for off in range(dynamic[4], dynamic[4] + dynamic[5], 16):
        tag, val = struct.unpack_from("<qQ", data, off)
        if tag == 1:  # DT_NEEDED
            start = strtab[4] + val
            needed.append(data[start : data.index(b"\0", start)].decode())
    return needed


@needs_runner
def test_pycnn_run_does_not_link_libpython():
    needed = elf_needed(PYCNN_RUN)
    assert needed and not any("python" in n for n in needed), needed


@needs_runner
def test_pycnn_run_matches_the_binding(tmp_path):
    graph, consts = small_cnn()
    model = write(tmp_path, program_bytes(graph, consts))
    x = rand(3, 3, 8, 8, seed=5)
    inputs, outputs = str(tmp_path / "in.safetensors"), str(tmp_path / "out.safetensors")
    _C.save_safetensors(inputs, [("input", pc.tensor(x)._impl)])
    r = pycnn_run(model, inputs, outputs, "--threads", 2, "--repeat", 3, "--warmup", 1)
    assert r.returncode == 0, r.stderr
    assert "median" in r.stdout and "2 threads" in r.stdout
    tensors, _ = _C.load_safetensors(outputs)
    got = {name: pc.Tensor._make(t).numpy() for name, t in tensors}
    for name, ref in zip(("probs", "log_probs"), run(model, x)):
        np.testing.assert_array_equal(got[name], pc.Tensor._make(ref).numpy())


@needs_runner
@pytest.mark.parametrize(
    ("args", "code", "text"),
    [
        (["a"], 2, "expected 3 file arguments"),
        (["a", "b", "c", "--threads", "0"], 2, "--threads takes an integer >= 1"),
        (["a", "b", "c", "--device", "tpu"], 2, "--device takes cpu, cuda"),
        (["a", "b", "c", "--bogus", "1"], 2, "unknown option --bogus"),
        (["absent.pycnn", "b", "c"], 1, "[Program.load]"),
    ],
)
def test_pycnn_run_bad_arguments(tmp_path, args, code, text):
    r = pycnn_run(*args, cwd=tmp_path)
    assert r.returncode == code and text in r.stderr, r.stderr


@needs_runner
@pytest.mark.parametrize(("name", "shape"), [("lenet5", (2, 1, 28, 28)), ("resnet18_cifar", (2, 3, 32, 32))])
def test_pycnn_run_zoo_model_equals_python_forward_bitwise(tmp_path, name, shape):
    """The standalone executable at the Python side's thread count gives the Python forward's bits."""
    model, path = zoo_program(tmp_path, name, shape)
    x = rand(*shape, seed=6)
    inputs, outputs = str(tmp_path / "in.safetensors"), str(tmp_path / "out.safetensors")
    _C.save_safetensors(inputs, [("input", pc.tensor(x)._impl)])
    r = pycnn_run(path, inputs, outputs, "--threads", _C.get_num_threads())
    assert r.returncode == 0, r.stderr
    with pc.no_grad():
        want = model(pc.tensor(x)).numpy()
    ((out_name, got),) = _C.load_safetensors(outputs)[0]
    assert out_name == "output"
    np.testing.assert_array_equal(pc.Tensor._make(got).numpy(), want)


@needs_runner
def test_pycnn_run_missing_input_name(tmp_path):
    graph, consts = small_cnn()
    model = write(tmp_path, program_bytes(graph, consts))
    inputs = str(tmp_path / "in.safetensors")
    _C.save_safetensors(inputs, [("image", pc.tensor(rand(2, 3, 8, 8))._impl)])
    r = pycnn_run(model, inputs, tmp_path / "o")
    assert r.returncode == 1 and "has no tensor named 'input'" in r.stderr, r.stderr
