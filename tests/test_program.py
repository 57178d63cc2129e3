"""pycnn.program: tracing a forward into a program, running it, its file, and `pycnn export`.

The C++ interpreter of the same files is tested in test_program_cpp.py; ONNX in test_onnx.py.
"""

import json
import struct

import numpy as np
import pytest

import pycnn as pc
import pycnn.nn.functional as F
from pycnn import nn

from helpers import ZOO, expect_error, zoo_model


def _forward(model, *xs):
    model.eval()
    with pc.no_grad():
        return model(*xs)


@pytest.mark.parametrize("name, shape", ZOO, ids=[z[0] for z in ZOO])
def test_zoo_program_equals_forward_bitwise(tmp_path, name, shape):
    model = zoo_model(name)
    x = pc.randn(*shape)
    pc.export(model, x, tmp_path / "m.pycnn")  # checks a second input and batch size itself
    prog = pc.program.load(tmp_path / "m.pycnn")
    want = _forward(model, x)
    assert np.array_equal(np.asarray(prog(x)), np.asarray(want))
    # any batch size: every reshape keeps dim 0
    x3 = pc.randn(shape[0] + 2, *shape[1:])
    assert np.array_equal(np.asarray(prog(x3)), np.asarray(_forward(model, x3)))


def test_program_records_parameter_names_and_attrs(tmp_path):
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten()
    )
    prog = pc.program.trace(model, pc.randn(2, 3, 8, 8))
    assert [n["op"] for n in prog.graph["nodes"]] == ["conv2d", "batch_norm", "relu", "reshape"]
    conv = prog.graph["nodes"][0]
    assert conv["attrs"] == {"stride": [2, 2], "padding": [1, 1], "dilation": [1, 1], "groups": 1}
    assert conv["inputs"][2] is None  # no bias
    names = {c["tensor"] for c in prog.graph["constants"]}
    assert names == {"0.weight", "1.weight", "1.bias", "1.running_mean", "1.running_var"}
    assert prog.graph["nodes"][3]["attrs"]["shape"] == [0, 64]  # the batch dim kept
    assert prog.graph["inputs"] == [
        {"id": 0, "name": "input", "dtype": "float32", "shape": [2, 3, 8, 8], "dynamic_batch": True}
    ]
    assert model.training  # trace ran in eval mode and restored the mode


def test_file_is_safetensors_with_the_program_in_its_metadata(tmp_path):
    model = nn.Sequential(nn.Linear(5, 3), nn.Tanh())
    pc.export(model, pc.randn(4, 5), tmp_path / "m.pycnn", input_names=["features"], output_names=["score"])
    meta = pc.serialization.load_metadata(tmp_path / "m.pycnn")
    assert meta["format"] == "pycnn.program" and meta["version"] == "1"
    graph = json.loads(meta["program"])
    assert [i["name"] for i in graph["inputs"]] == ["features"] and graph["outputs"][0]["name"] == "score"
    assert graph["nodes"][1] == {
        "op": "unary",
        "inputs": [3],
        "outputs": [4],
        "attrs": {"op": "tanh", "alpha": 0.0, "beta": 0.0},
    }
    weights = pc.load(tmp_path / "m.pycnn")  # any safetensors reader opens the weights
    assert np.array_equal(np.asarray(weights["0.weight"]), np.asarray(model[0].weight.detach()))


def test_in_place_ops_and_several_inputs_and_outputs():
    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(4, 3), nn.Linear(2, 3)

        def forward(self, x, y):
            h = self.a(x)
            h.relu_()
            h += self.b(y)
            return h, pc.softmax(h * 2.5, dim=1)

    model = TwoHeads()
    x, y = pc.randn(3, 4), pc.randn(3, 2)
    prog = pc.program.trace(model, (x, y))
    assert prog.input_names == ["input0", "input1"] and prog.output_names == ["output0", "output1"]
    got, want = prog(x, y), model(x, y)
    for g, w in zip(got, want):
        assert np.array_equal(np.asarray(g), np.asarray(w.detach()))


@pytest.mark.parametrize(
    "use, what",
    [
        (lambda y: y if y else -y, "bool()"),
        (lambda y: y * y.item(), "Tensor.item"),
        (lambda y: y * float(y), "float()"),
        (lambda y: y * int(y), "int()"),
        (lambda y: y * len(y.tolist()), "Tensor.tolist"),
        (lambda y: pc.tensor(y.numpy()), "Tensor.numpy"),
        (lambda y: pc.tensor(np.asarray(y)), "Tensor.__array__"),
        (lambda y: pc.cat([r for r in y]), "iteration"),
    ],
)
def test_python_values_of_traced_tensors_are_refused(use, what):
    class DataDependent(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 1)

        def forward(self, x):
            return use(self.fc(x))

    expect_error(RuntimeError, "export", lambda: pc.program.trace(DataDependent(), pc.randn(1, 4)), what)
    # the same accessors on parameters (not computed from the input) stay allowed
    model = DataDependent()
    assert isinstance(model.fc.bias.item(), float)


def test_unsupported_op_names_itself():
    class Sorts(nn.Module):
        def forward(self, x):
            return pc.sort(x, dim=1)[0]

    expect_error(NotImplementedError, "export", lambda: pc.program.trace(Sorts(), pc.randn(2, 3)), "op Sort", "conv2d")


def test_export_check_finds_what_the_trace_could_not_see(tmp_path):
    class Noisy(nn.Module):
        def forward(self, x):
            return x * 2.0 + pc.randn(*x.shape)  # a new value every call, frozen into the program

    expect_error(ValueError, "export", lambda: pc.export(Noisy(), pc.randn(2, 3), tmp_path / "n.pycnn"), "differs")
    assert not (tmp_path / "n.pycnn").exists()

    class FixedBatch(nn.Module):
        def forward(self, x):
            return x.reshape(6) * 2.0  # the batch is not kept: another batch size cannot run

    expect_error(
        ValueError,
        "export",
        lambda: pc.export(FixedBatch(), pc.randn(2, 3), tmp_path / "f.pycnn"),
        "dynamic_batch=False",
    )
    prog = pc.export(FixedBatch(), pc.randn(2, 3), tmp_path / "f.pycnn", dynamic_batch=False)
    expect_error(ValueError, "Program", lambda: prog(pc.randn(3, 3)), "(2, 3)", "(3, 3)")


def test_program_input_checks():
    prog = pc.program.trace(nn.Linear(4, 2), pc.randn(3, 4))
    assert prog(pc.randn(7, 4)).shape == (7, 2)
    expect_error(ValueError, "Program", lambda: prog(pc.randn(3, 5)), "(3, 4)", "(3, 5)")
    expect_error(ValueError, "Program", lambda: prog(pc.randn(3, 4, dtype=pc.float64)), "float32", "float64")
    expect_error(TypeError, "Program", lambda: prog(np.zeros((3, 4), np.float32)), "ndarray")
    expect_error(TypeError, "Program", lambda: prog(pc.randn(3, 4), pc.randn(3, 4)), "takes 1 inputs, got 2")


def _rewrite(src, dst, edit):
    """Copies a program file with its program JSON (or whole metadata) changed by edit(meta)."""
    meta = pc.serialization.load_metadata(src)
    meta["program"] = json.loads(meta["program"])
    edit(meta)
    meta["program"] = json.dumps(meta["program"])
    pc.save(pc.load(src), dst, metadata=meta)


@pytest.mark.parametrize(
    "edit, words",
    [
        (lambda m: m.update(version="2"), ["version '2'", "version 1"]),
        (lambda m: m.update(format="other"), ["not a pycnn program"]),
        (lambda m: m["program"]["nodes"][0].update(op="conv9d"), ["node 0", "unknown op 'conv9d'"]),
        (lambda m: m["program"]["nodes"][0]["attrs"].pop("groups"), ["node 0 (conv2d)", "groups"]),
        (lambda m: m["program"]["nodes"][0].update(inputs=[99, 1, 2]), ["node 0 (conv2d)", "value 99"]),
        (lambda m: m["program"]["nodes"][0].update(inputs=[0, 1]), ["node 0 (conv2d)", "2 inputs, needs 3"]),
        (lambda m: m["program"]["constants"][0].update(tensor="nope"), ["names no tensor"]),
        (lambda m: m["program"]["nodes"][1].update(outputs=[0]), ["node 1", "value id 0"]),
        (lambda m: m["program"]["outputs"][0].update(id=1000), ["output", "not a defined value"]),
    ],
)
def test_bad_program_files(tmp_path, edit, words):
    src = tmp_path / "good.pycnn"
    pc.export(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU()), pc.randn(1, 1, 5, 5), src)
    _rewrite(src, tmp_path / "bad.pycnn", edit)
    expect_error(ValueError, "program.load", lambda: pc.program.load(tmp_path / "bad.pycnn"), *words)


def test_truncated_program_file(tmp_path):
    src = tmp_path / "good.pycnn"
    pc.export(nn.Linear(3, 2), pc.randn(1, 3), src)
    data = src.read_bytes()
    header = struct.unpack("<Q", data[:8])[0]
    for cut in (4, 8 + header // 2, len(data) - 3):
        (tmp_path / "cut.pycnn").write_bytes(data[:cut])
        with pytest.raises(ValueError):
            pc.program.load(tmp_path / "cut.pycnn")


@pytest.mark.cuda
def test_program_on_cuda():
    model = zoo_model("resnet20")
    x = pc.randn(2, 3, 32, 32)
    prog = pc.program.trace(model, x).to("cuda")
    want = _forward(model.to("cuda"), x.to("cuda"))
    try:
        assert np.array_equal(np.asarray(prog(x.to("cuda")).cpu()), np.asarray(want.cpu()))
    finally:
        model.to("cpu")


class _BeyondTheZoo(nn.Module):
    """The ops past the zoo's: PReLU, reflect pad, bilinear and nearest resize, transposed conv, layer and
    group norm, adaptive max pool, pixel shuffle, mean (sum), permute, clone, matmul."""

    def __init__(self):
        super().__init__()
        self.conv, self.prelu = nn.Conv2d(3, 8, 3, padding=1), nn.PReLU(8)
        self.up = nn.ConvTranspose2d(8, 4, 2, stride=2, output_padding=0)
        self.ln, self.gn = nn.LayerNorm([4, 16, 16]), nn.GroupNorm(2, 4)
        self.fc = nn.Linear(4, 3)
        self.mix = nn.Parameter(pc.randn(3, 3))

    def forward(self, x):
        y = F.pad(self.prelu(self.conv(x)), (1, 1, 1, 1), mode="reflect")
        y = self.up(F.interpolate(y, size=(8, 8), mode="bilinear", align_corners=False))
        y = self.gn(self.ln(y))
        y = F.adaptive_max_pool2d(y, 2) + F.interpolate(F.adaptive_avg_pool2d(y, 1), scale_factor=2, mode="nearest")
        y = F.pixel_shuffle(pc.cat([y, y * 2.0, y, y], 1), 2)
        z = y.mean((2, 3)).permute(1, 0).clone().permute(1, 0)
        return pc.matmul(self.fc(z), self.mix)


def test_ops_beyond_the_zoo_in_python_and_cpp(tmp_path):
    model = _BeyondTheZoo()
    x = pc.randn(2, 3, 16, 16)
    prog = pc.export(model, x, tmp_path / "m.pycnn")
    ops = {n["op"] for n in prog.graph["nodes"]}
    want_ops = {"prelu", "pad", "interpolate", "conv_transpose2d", "layer_norm", "group_norm", "adaptive_max_pool2d"}
    assert want_ops | {"pixel_shuffle", "sum", "permute", "clone", "matmul"} <= ops
    cpp = pc._C.Program.load(str(tmp_path / "m.pycnn"))
    for batch in (2, 5):
        xb = pc.randn(batch, 3, 16, 16)
        want = np.asarray(_forward(model, xb))
        assert np.array_equal(np.asarray(pc.program.load(tmp_path / "m.pycnn")(xb)), want)
        assert np.array_equal(np.asarray(pc.Tensor._make(cpp.run([xb._impl])[0])), want)


@pytest.mark.parametrize("name, shape", [z for z in ZOO if z[0] in ("resnet18", "densenet121", "mobilenet_v2")])
def test_cpp_program_across_thread_counts(tmp_path, name, shape):
    """Bitwise at the same thread count (above); across thread counts only the kernels' summation order
    changes: the C++ program on 1 thread is within 1e-5 (of the output's scale) of the forward on 2."""
    model, x = zoo_model(name), pc.randn(*shape)
    pc.export(model, x, tmp_path / "m.pycnn", check=False)
    cpp = pc._C.Program.load(str(tmp_path / "m.pycnn"))
    threads = pc.get_num_threads()
    try:
        pc.set_num_threads(2)
        want = np.asarray(_forward(model, x))
        pc.set_num_threads(1)
        got = np.asarray(pc.Tensor._make(cpp.run([x._impl])[0]))
    finally:
        pc.set_num_threads(threads)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())
