"""The bad-input table (issue 11): every public name of pycnn gets at least one wrong call, which must raise a
documented exception type (ValueError, TypeError, RuntimeError, MemoryError, IndexError, ...) whose message
starts with "[op]" (the CLI: "pycnn <command>: error") and names the offending value.

Each case runs in a forked child (helpers.run_forked), so a call that crashes the interpreter fails its own
case instead of the run. test_every_public_name_has_a_case enumerates the public namespaces and fails on a
name with no case, unless ALLOWLIST says why it has none.

A case: case(names, exception, op, call, *texts): names the public names it covers (space separated, keyed
as in NAMESPACES: "pc.zeros", "F.conv2d", "Tensor.view", "cli.train", ...), call a no-argument callable.
"""

import contextlib
import inspect
import io
import types

import numpy as np
import pytest

import pycnn as pc
import pycnn.data.transforms as T
import pycnn.nn.functional as F
import pycnn.optim.lr_scheduler as L
from pycnn import cli, nn, serialization
from pycnn.nn import init
from pycnn.nn import utils as nn_utils

from helpers import run_forked

CASES = []


def case(names, exc, op, call, *texts):
    """One row: call() raises exc with a message starting with [op] (or "op:" for the CLI) holding texts."""
    CASES.append((names.split(), exc, op, call, texts))


# ------------------------------------------------------------------------------------------------ inputs --
def t(*shape, dtype=np.float32, seed=0):
    return pc.tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype))


def x4():
    return t(1, 2, 4, 4)


def ints(*values):
    return pc.tensor(list(values))


def bools(*values):
    return pc.tensor([bool(v) for v in values])


def param(*shape):
    return nn.Parameter(pc.zeros(*shape))


def sgd():
    return pc.optim.SGD([param(2)], lr=0.1)


def _read_only():
    a = np.zeros(3, np.float32)
    a.flags.writeable = False
    return a


def cli_run(*argv):
    """pycnn's main(argv) with stderr captured: a non-zero exit becomes SystemExit(the last stderr line)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            status = cli.main(list(argv))
        except SystemExit as e:
            status = e.code
    if status not in (0, None):
        lines = [line for line in err.getvalue().splitlines() if line.strip()] or [str(status)]
        raise SystemExit(lines[-1])


# ========================================================================================== pycnn.* ========
# ---- factories
case("pc.zeros", TypeError, "zeros", lambda: pc.zeros(2.5), "2.5")
case("pc.zeros", TypeError, "zeros", lambda: pc.zeros(None), "None")
case("pc.zeros", TypeError, "zeros", lambda: pc.zeros("3"), "'3'")
case("pc.zeros", ValueError, "zeros", lambda: pc.zeros(2, -1), "-1")
case("pc.zeros", TypeError, "zeros", lambda: pc.zeros((2, 3.0)), "3.0")
case("pc.zeros", TypeError, "dtype", lambda: pc.zeros(2, dtype="complex64"), "complex64")
case("pc.ones", TypeError, "ones", lambda: pc.ones(2, None), "None")
case("pc.ones", ValueError, "ones", lambda: pc.ones(-3), "-3")
case("pc.ones", ValueError, "ones", lambda: pc.ones(2**62, 4), "(4611686018427387904, 4)", "too large")
case("pc.empty", ValueError, "empty", lambda: pc.empty(-1, 2), "-1")
case("pc.empty", TypeError, "empty", lambda: pc.empty([2, [3]]), "[3]")
case("pc.empty", ValueError, "empty", lambda: pc.empty(2**61, 2), "too large")
case("pc.full", TypeError, "full", lambda: pc.full((2,), "a"), "'a'")
case("pc.full", TypeError, "full", lambda: pc.full((2,), None), "None")
case("pc.full", ValueError, "full", lambda: pc.full((-2,), 1.0), "-2")
case("pc.full", TypeError, "full", lambda: pc.full(1.5, 1.0), "1.5")
case("pc.full_like", TypeError, "full_like", lambda: pc.full_like(t(2), "a"), "'a'")
case("pc.full_like", TypeError, "full_like", lambda: pc.full_like([1, 2], 0.0), "list")
case("pc.zeros_like", TypeError, "zeros_like", lambda: pc.zeros_like(3), "int")
case("pc.ones_like", TypeError, "ones_like", lambda: pc.ones_like("x"), "str")
case("pc.empty_like", TypeError, "empty_like", lambda: pc.empty_like(None), "None")
case("pc.randn_like", TypeError, "randn_like", lambda: pc.randn_like(np.zeros(2)), "ndarray")
case("pc.rand_like", TypeError, "rand_like", lambda: pc.rand_like([0.0]), "list")
case("pc.randn", ValueError, "randn", lambda: pc.randn(2**32, 2**32), "(4294967296, 4294967296)", "too large")
case("pc.randn", ValueError, "randn", lambda: pc.randn(2, -2), "-2")
case("pc.randn", TypeError, "randn", lambda: pc.randn(1.5), "1.5")
case("pc.randn", TypeError, "randn", lambda: pc.randn(2, dtype=pc.int64), "int64")
case("pc.rand", ValueError, "rand", lambda: pc.rand(2**40, 2**40), "too large")
case("pc.rand", TypeError, "rand", lambda: pc.rand("2"), "'2'")
case("pc.randint", ValueError, "randint", lambda: pc.randint(5, 2, size=(3,)), "low 5", "high 2")
case("pc.randint", ValueError, "randint", lambda: pc.randint(0, size=(2,)), "high 0")
case("pc.randint", TypeError, "randint", lambda: pc.randint(0, 5, size=3.0), "3.0")
case("pc.randint", TypeError, "randint", lambda: pc.randint("a", 5), "'a'")
case("pc.randint", ValueError, "randint", lambda: pc.randint(0, 5, size=(-1,)), "-1")
case("pc.randperm", ValueError, "randperm", lambda: pc.randperm(-1), "-1")
case("pc.randperm", TypeError, "randperm", lambda: pc.randperm(2.5), "2.5")
case("pc.arange", ValueError, "arange", lambda: pc.arange(0, 10, 0), "step 0")
case("pc.arange", TypeError, "arange", lambda: pc.arange("a"), "'a'")
case("pc.arange", ValueError, "arange", lambda: pc.arange(0, float("inf")), "inf")
case("pc.arange", ValueError, "arange", lambda: pc.arange(0, 10, -1), "step -1")
case("pc.arange", ValueError, "arange", lambda: pc.arange(0, 2**62, 1), "too large")
case("pc.tensor", ValueError, "tensor", lambda: pc.tensor([[1, 2], [3]]), "ragged")
case("pc.tensor", TypeError, "tensor", lambda: pc.tensor("abc"), "<U3")
case("pc.tensor", TypeError, "tensor", lambda: pc.tensor([1, "a"]), "<U21")
case("pc.tensor", TypeError, "tensor", lambda: pc.tensor(None), "object")
case("pc.tensor", TypeError, "tensor", lambda: pc.tensor({1: 2}), "object")
case("pc.tensor", TypeError, "dtype", lambda: pc.tensor([1.0], dtype="complex64"), "complex64")
case("pc.Tensor", TypeError, "tensor", lambda: pc.Tensor(object()), "object")
case("pc.from_numpy", TypeError, "from_numpy", lambda: pc.from_numpy([1, 2]), "list")
case("pc.from_numpy", TypeError, "from_numpy", lambda: pc.from_numpy(np.zeros(2, np.complex64)), "complex64")
case("pc.from_numpy", TypeError, "from_numpy", lambda: pc.from_numpy(np.zeros(2, np.int16)), "int16")
case("pc.as_tensor", TypeError, "tensor", lambda: pc.as_tensor("abc"), "<U3")
case("pc.from_dlpack", TypeError, "from_dlpack", lambda: pc.from_dlpack([1, 2]), "list")
case("pc.from_dlpack", TypeError, "from_dlpack", lambda: pc.from_dlpack(np.zeros(2, np.complex64)), "code=5, bits=64")
case("pc.from_dlpack", ValueError, "from_dlpack", lambda: pc.from_dlpack(np.zeros(4, np.float32)[::-1]), "stride -1")
case("pc.from_dlpack", TypeError, "from_dlpack", lambda: pc.from_dlpack(np.zeros(2), copy="no"), "'no'")
case("pc.from_dlpack", BufferError, "from_dlpack", lambda: pc.from_dlpack(_read_only(), copy=False), "read-only")
case("pc.as_tensor", TypeError, "dtype", lambda: pc.as_tensor([1], dtype="int8"), "int8")
case("pc.set_default_dtype", TypeError, "set_default_dtype", lambda: pc.set_default_dtype(pc.int64), "int64")
case("pc.set_default_dtype", TypeError, "dtype", lambda: pc.set_default_dtype("quarter"), "quarter")

case("pc.device", ValueError, "device", lambda: pc.device("tpu"), "'tpu'")
case("pc.device", TypeError, "device", lambda: pc.device(1.5), "1.5")
case("pc.device", ValueError, "device", lambda: pc.device("cuda", -1), "-1")

# ---- random, threads, grad mode
case("pc.manual_seed", ValueError, "manual_seed", lambda: pc.manual_seed(-1), "-1")
case("pc.manual_seed", TypeError, "manual_seed", lambda: pc.manual_seed("a"), "'a'")
case("pc.manual_seed", TypeError, "manual_seed", lambda: pc.manual_seed(1.5), "1.5")
case("pc.manual_seed", ValueError, "manual_seed", lambda: pc.manual_seed(2**64), str(2**64))
case("pc.Generator", ValueError, "Generator", lambda: pc.Generator(-5), "-5")
case("pc.Generator", TypeError, "Generator", lambda: pc.Generator("seed"), "'seed'")
case("pc.Generator", TypeError, "Generator.set_state", lambda: pc.Generator().set_state("garbage"), "str")
case("pc.Generator", ValueError, "Generator.set_state", lambda: pc.Generator().set_state({"a": 1}), "'a'")
case("pc.Generator", ValueError, "manual_seed", lambda: pc.Generator().manual_seed(-3), "-3")
case("pc.default_generator", TypeError, "manual_seed", lambda: pc.default_generator().manual_seed(None), "None")
case("pc.set_num_threads", ValueError, "set_num_threads", lambda: pc.set_num_threads(2**40), str(2**40))
case("pc.set_num_threads", ValueError, "set_num_threads", lambda: pc.set_num_threads(0), "0")
case("pc.set_num_threads", ValueError, "set_num_threads", lambda: pc.set_num_threads("4"), "'4'")
case(
    "pc.set_grad_enabled",
    TypeError,
    "set_grad_enabled",
    lambda: pc.set_grad_enabled("yes"),
    "'yes'",
)
case(
    "pc.set_grad_enabled",
    TypeError,
    "set_grad_enabled",
    lambda: pc.set_grad_enabled(None),
    "None",
)


def _function_without_backward():
    class Twice(pc.Function):
        @staticmethod
        def forward(ctx, x):
            return x

    Twice.apply(t(2).requires_grad_()).sum().backward()


case(
    "pc.Function",
    RuntimeError,
    "Twice",
    _function_without_backward,
    "backward",
)


# ---- the torch-style function forms
case(
    "pc.abs",
    TypeError,
    "abs",
    lambda: pc.abs([1.0]),
    "list",
)
case("pc.exp", TypeError, "exp", lambda: pc.exp(None), "None")
case(
    "pc.log",
    TypeError,
    "log",
    lambda: pc.log("x"),
    "str",
)
case("pc.sqrt", TypeError, "sqrt", lambda: pc.sqrt([4.0]), "list")
case("pc.tanh", TypeError, "tanh", lambda: pc.tanh(1.0), "float")
case("pc.sigmoid", TypeError, "sigmoid", lambda: pc.sigmoid("x"), "str")
case(
    "pc.relu",
    TypeError,
    "relu",
    lambda: pc.relu(None),
    "NoneType",
)
case("pc.argmax", ValueError, "argmax", lambda: pc.argmax(t(2, 3), 2), "dim 2")
case("pc.argmin", ValueError, "argmin", lambda: pc.argmin(t(2, 3), -3), "dim -3")
case("pc.argmin", ValueError, "argmin", lambda: pc.argmin(pc.zeros(0)), "(0,)")
case("pc.cat", ValueError, "cat", lambda: pc.cat([t(2, 3), t(2, 4)]), "(2, 3)", "(2, 4)")
case("pc.cat", ValueError, "cat", lambda: pc.cat([]), "empty")
case("pc.cat", ValueError, "cat", lambda: pc.cat([t(2), t(2)], dim=1), "dim 1")
case("pc.cat", TypeError, "cat", lambda: pc.cat([t(2), ints(1)]), "int64")
case("pc.concat", TypeError, "cat", lambda: pc.concat(t(2)), "Tensor")
case("pc.stack", ValueError, "stack", lambda: pc.stack([t(2), t(3)]), "(2,)", "(3,)")
case("pc.stack", ValueError, "stack", lambda: pc.stack([t(2), t(2)], dim=3), "dim 3")
case("pc.chunk", ValueError, "chunk", lambda: pc.chunk(t(4), 0), "0")
case(
    "pc.chunk",
    TypeError,
    "chunk",
    lambda: pc.chunk(t(4), 1.5),
    "1.5",
)
case("pc.split", ValueError, "split", lambda: pc.split(t(4), [1, 2]), "[1, 2]")
case("pc.split", ValueError, "split", lambda: pc.split(t(4), 0), "0")
case("pc.clamp", ValueError, "clamp", lambda: pc.clamp(t(2)), "min", "max")
case("pc.clamp", TypeError, "clamp", lambda: pc.clamp(t(2), min="a"), "min", "str")
case("pc.flatten", ValueError, "flatten", lambda: pc.flatten(t(2, 3), 2), "dim 2")
case("pc.index_select", ValueError, "index_select", lambda: pc.index_select(t(3), 0, ints(5)), "5")
case("pc.index_select", TypeError, "index_select", lambda: pc.index_select(t(3), 0, t(1)), "float32")
case("pc.masked_select", ValueError, "masked_select", lambda: pc.masked_select(t(3), bools(1, 0)), "(2,)")
case("pc.masked_select", TypeError, "masked_select", lambda: pc.masked_select(t(2), ints(1, 0)), "bool", "int64")
case("pc.matmul", ValueError, "matmul", lambda: pc.matmul(t(2, 3), t(2, 3)), "(2, 3)")
case("pc.matmul", ValueError, "matmul", lambda: pc.matmul(pc.tensor(1.0), t(2)), "()", "(2,)")
case("pc.max", ValueError, "max", lambda: pc.max(t(2, 3), 4), "dim 4")
case("pc.max", ValueError, "max", lambda: pc.max(pc.zeros(0)), "(0,)")
case("pc.min", ValueError, "min", lambda: pc.min(t(2, 3), -5), "dim -5")
case("pc.maximum", ValueError, "maximum", lambda: pc.maximum(t(2), t(3)), "(2,)", "(3,)")
case("pc.minimum", TypeError, "minimum", lambda: pc.minimum(t(2), ints(1, 2)), "int64")
case("pc.mean", ValueError, "mean", lambda: pc.mean(t(2, 3), 2), "dim 2", "rank 2")
case("pc.mean", TypeError, "mean", lambda: pc.mean(ints(1, 2)), "int64")
case("pc.sum", ValueError, "sum", lambda: pc.sum(t(2, 3), (0, 0)), "repeated")
case("pc.sum", TypeError, "sum", lambda: pc.sum(t(2, 3), dim="a"), "'a'")
case("pc.var", ValueError, "var", lambda: pc.var(t(2, 3), 3), "dim 3")
case(
    "pc.var",
    TypeError,
    "var",
    lambda: pc.var(t(2, 3), correction="a"),
    "'a'",
)
case("pc.std", ValueError, "var", lambda: pc.std(t(2, 3), -4), "dim -4")
case("pc.narrow", IndexError, "narrow", lambda: pc.narrow(t(4), 0, 3, 5), "5")
case("pc.narrow", IndexError, "narrow", lambda: pc.narrow(t(4), 0, -1, 2), "length 2", "size 4")
case("pc.where", ValueError, "where", lambda: pc.where(bools(1, 0), t(3), t(3)), "(2,)")
case("pc.where", TypeError, "where", lambda: pc.where(ints(1, 0), t(2), t(2)), "bool", "int64")
case(
    "pc.where",
    TypeError,
    "where",
    lambda: pc.where(bools(1, 0), t(2), "b"),
    "str",
)


# ---- programs (pc.export, pycnn.program)
def _plain_safetensors():
    pc.save({"a": t(2)}, "/tmp/pycnn-table-plain.safetensors")
    return "/tmp/pycnn-table-plain.safetensors"


case(
    "pc.export program.export",
    TypeError,
    "export",
    lambda: pc.export(nn.Linear(2, 2), [1.0, 2.0], "/tmp/pycnn-table.pycnn"),
    "example_inputs",
    "list",
)
case("program.trace", NotImplementedError, "export", lambda: pc.program.trace(lambda x: x.sort()[0], t(3)), "Sort")
case(
    "program.trace",
    ValueError,
    "export",
    lambda: pc.program.trace(nn.Linear(2, 2), t(1, 2), input_names=["a", "b"]),
    "input_names",
    "['a', 'b']",
)
case("program.load", ValueError, "program.load", lambda: pc.program.load(_plain_safetensors()), "not a pycnn program")
case(
    "program.Program",
    TypeError,
    "Program",
    lambda: pc.program.trace(nn.Linear(2, 2), t(1, 2))(np.ones((1, 2), np.float32)),
    "ndarray",
)

# ---- save / load / summary
case(
    "pc.save serialization.save",
    TypeError,
    "save",
    lambda: pc.save(object(), "/tmp/pycnn-table-x.safetensors"),
    "object",
)
case(
    "pc.save",
    TypeError,
    "save",
    lambda: pc.save({"a": t(2)}, 3.5),
    "float",
)
case(
    "pc.load serialization.load",
    FileNotFoundError,
    "load",
    lambda: pc.load("/nonexistent/pycnn/x.safetensors"),
    "/nonexistent",
)
case(
    "pc.load",
    TypeError,
    "load",
    lambda: pc.load(None),
    "None",
)


def _hostile_torch_checkpoint():
    """A torch-style zip checkpoint whose pickle calls os.system (refused by the restricted unpickler)."""
    import zipfile

    path = "/tmp/pycnn-table-hostile.pth"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("ckpt/data.pkl", b"\x80\x02cos\nsystem\nX\x04\x00\x00\x00trueR.")
    return path


case(
    "pc.load",
    ValueError,
    "load",
    lambda: pc.load(_hostile_torch_checkpoint()),
    "os.system",
    "pycnn-table-hostile.pth",
)
case("pc.summary", TypeError, "summary", lambda: pc.summary("lenet5", (1, 1, 28, 28)), "str")
case("pc.summary", ValueError, "LeNet5", lambda: pc.summary(pc.models.lenet5(), (1, 28)), "(1, 28)")
case("pc.summary", ValueError, "summary", lambda: pc.summary(pc.models.lenet5(), None), "None")
case(
    "serialization.load_metadata",
    FileNotFoundError,
    "load_metadata",
    lambda: serialization.load_metadata("/nonexistent/m.safetensors"),
    "/nonexistent",
)
case(
    "serialization.load_metadata",
    TypeError,
    "load_metadata",
    lambda: serialization.load_metadata(3),
    "3",
)

# ---- pc.onnx (these refusals come before onnx is imported: they hold without it)
case(
    "onnx.export",
    ValueError,
    "onnx.export",
    lambda: pc.onnx.export(nn.Linear(2, 2), t(1, 2), io.BytesIO(), dynamic_axes={"input": {1: "features"}}),
    "{1: 'features'}",
    "only axis 0",
)
case(
    "onnx.export",
    TypeError,
    "onnx.export",
    lambda: pc.onnx.export(nn.Linear(2, 2), t(1, 2), "/tmp/x", dynamic_axes=[0]),
    "list",
)
case("onnx.load", TypeError, "onnx.load", lambda: pc.onnx.load(3.5), "3.5")
case("onnx.load", FileNotFoundError, "onnx.load", lambda: pc.onnx.load("/nonexistent/m.onnx"), "/nonexistent/m.onnx")
case("onnx.OnnxModule", TypeError, "OnnxModule", lambda: pc.onnx.OnnxModule("model.onnx"), "str", "pc.onnx.load")

# ========================================================================================= Tensor ========
case("Tensor.view", ValueError, "view", lambda: t(2, 3).view(4, 2), "(4, 2)", "(2, 3)")
case("Tensor.view", TypeError, "view", lambda: t(2, 3).view("a"), "'a'")
case("Tensor.view", ValueError, "view", lambda: t(2, 3).view(-1, -1), "(-1, -1)")
case("Tensor.reshape", ValueError, "view", lambda: t(2, 3).reshape(5), "(5,)")
case("Tensor.reshape", TypeError, "reshape", lambda: t(2, 3).reshape(None), "None")
case("Tensor.reshape", TypeError, "reshape", lambda: t(2, 3).reshape(2.0, 3), "2.0")
case("Tensor.expand", ValueError, "expand", lambda: t(2, 3).expand(2, 4), "(2, 4)")
case("Tensor.permute", ValueError, "permute", lambda: t(2, 3).permute(0, 2), "dim 2")
case("Tensor.permute", ValueError, "permute", lambda: t(2, 3).permute(0, 0), "(0, 0)")
case("Tensor.permute", ValueError, "permute", lambda: t(2, 3).permute(0), "1 dims", "(2, 3)")
case("Tensor.transpose", ValueError, "transpose", lambda: t(2, 3).transpose(0, 5), "out of range")
case("Tensor.t", ValueError, "t", lambda: t(2, 3, 4).t(), "(2, 3, 4)")

case("Tensor.squeeze", ValueError, "squeeze", lambda: t(2, 3).squeeze(5), "out of range")
case("Tensor.unsqueeze", ValueError, "unsqueeze", lambda: t(2, 3).unsqueeze(4), "out of range")
case("Tensor.unsqueeze", TypeError, "unsqueeze", lambda: t(2).unsqueeze("0"), "'0'")
case("Tensor.flatten", ValueError, "flatten", lambda: t(2, 3).flatten(1, 0), "1", "0")
case("Tensor.narrow", IndexError, "narrow", lambda: t(2, 3).narrow(1, 2, 5), "5")
case("Tensor.chunk", ValueError, "chunk", lambda: t(4).chunk(-1), "-1")
case("Tensor.split", ValueError, "split", lambda: t(4).split([5]), "[5]")
case("Tensor.size", ValueError, "size", lambda: t(2, 3).size(2), "dim 2")
case("Tensor.size", TypeError, "size", lambda: t(2, 3).size("a"), "'a'")
case("Tensor.stride", ValueError, "stride", lambda: t(2, 3).stride(-3), "dim -3")
case("Tensor.item", ValueError, "item", lambda: t(2, 3).item(), "(2, 3)")
case("Tensor.item", ValueError, "item", lambda: pc.zeros(0).item(), "0")

case("Tensor.numpy", RuntimeError, "numpy", lambda: t(2).requires_grad_().numpy(), "requires grad")
case("Tensor.sum", TypeError, "sum", lambda: t(2, 3).sum(dim="a"), "'a'")
case("Tensor.sum", ValueError, "sum", lambda: t(2, 3).sum(2), "dim 2")
case("Tensor.sum", TypeError, "sum", lambda: t(2, 3).sum(1.5), "1.5")
case("Tensor.sum", TypeError, "sum", lambda: t(2, 3).sum([0, "1"]), "'1'")
case("Tensor.mean", ValueError, "mean", lambda: t(2, 3).mean((1, -1)), "repeated")
case(
    "Tensor.mean",
    TypeError,
    "mean",
    lambda: t(2, 3).mean(dim=None, keepdim="yes"),
    "'yes'",
)
case("Tensor.var", ValueError, "var", lambda: t(2, 3).var(5), "dim 5")
case(
    "Tensor.std",
    TypeError,
    "std",
    lambda: t(2, 3).std(dim="x"),
    "'x'",
)
case("Tensor.max", ValueError, "max", lambda: t(2, 3).max(2), "dim 2")
case(
    "Tensor.min",
    TypeError,
    "min",
    lambda: t(2, 3).min("a"),
    "'a'",
)
case("Tensor.argmax", ValueError, "argmax", lambda: t(2, 3).argmax(5), "dim 5")
case("Tensor.argmin", ValueError, "argmin", lambda: pc.zeros(0, 3).argmin(0), "(0, 3)")
case("Tensor.softmax", ValueError, "softmax", lambda: t(2, 3).softmax(2), "dim 2")
case("Tensor.log_softmax", TypeError, "log_softmax", lambda: ints(1, 2).log_softmax(0), "int64")
case("Tensor.add", ValueError, "add", lambda: t(2, 3).add(t(4)), "(2, 3)", "(4,)")
case("Tensor.sub", TypeError, "sub", lambda: t(2).sub("a"), "str")
case("Tensor.sub", TypeError, "sub", lambda: bools(1).sub(bools(0)), "bool")
case("Tensor.mul", ValueError, "mul", lambda: t(2, 3, 4).mul(t(3, 3, 1)), "(3, 3, 1)")
case("Tensor.div", TypeError, "div", lambda: ints(1, 2).div(None), "None")
case("Tensor.pow", TypeError, "pow", lambda: t(2).pow("a"), "str")
case("Tensor.pow", TypeError, "pow", lambda: t(2).pow(t(3)), "Tensor")
case("Tensor.neg", TypeError, "neg", lambda: pc.tensor([True]).neg(), "bool")
case("Tensor.abs", TypeError, "abs", lambda: pc.tensor([True]).abs(), "bool")
case("Tensor.relu", TypeError, "relu", lambda: bools(1).relu(), "bool")
case("Tensor.eq", ValueError, "compare", lambda: t(2).eq(t(3)), "(2,)", "(3,)")
case("Tensor.ne", ValueError, "compare", lambda: t(2).ne(t(3)), "(3,)")
case("Tensor.lt", TypeError, "lt", lambda: t(2).lt("a"), "'a'")
case("Tensor.le", ValueError, "compare", lambda: t(2, 2).le(t(3)), "(3,)")
case(
    "Tensor.gt",
    TypeError,
    "gt",
    lambda: t(2).gt(None),
    "None",
)
case("Tensor.ge", ValueError, "compare", lambda: t(2).ge(t(4)), "(4,)")
case("Tensor.maximum", ValueError, "maximum", lambda: t(2).maximum(t(3)), "(3,)")
case("Tensor.minimum", ValueError, "minimum", lambda: t(2).minimum(t(3)), "(2,)", "(3,)")
case("Tensor.clamp", ValueError, "clamp", lambda: t(2).clamp(), "min", "max")
case("Tensor.clip", TypeError, "clamp", lambda: t(2).clip(max="1"), "max", "str")
case("Tensor.matmul", ValueError, "matmul", lambda: t(2, 3).matmul(t(4, 5)), "(2, 3)", "(4, 5)")
case("Tensor.matmul", TypeError, "gemm", lambda: t(2, 3).matmul(t(3, 2, dtype=np.float64)), "float64")
case("Tensor.index_select", ValueError, "index_select", lambda: t(3).index_select(0, ints(-5)), "-5")
case("Tensor.masked_select", TypeError, "masked_select", lambda: t(3).masked_select(t(3)), "float32")
case("Tensor.to", ValueError, "device", lambda: t(2).to("float8"), "'float8'")
case("Tensor.to", ValueError, "device", lambda: t(2).to(device="tpu"), "'tpu'")
case("Tensor.to", TypeError, "dtype", lambda: t(2).to(3.5), "3.5")

# ---- bool results, masks and dtypes (issue 14) ----
case("pc.all Tensor.all", ValueError, "all", lambda: pc.all(t(2), dim=5), "dim 5")
case("pc.any Tensor.any", TypeError, "any", lambda: pc.any("x"), "str")
case("pc.allclose Tensor.allclose", ValueError, "isclose", lambda: pc.allclose(t(2), t(2), rtol=-1), "-1")
case("pc.isclose Tensor.isclose", TypeError, "isclose", lambda: t(2).isclose(t(2, dtype=np.float64)), "float64")
case("pc.bincount Tensor.bincount", ValueError, "bincount", lambda: pc.bincount(ints(1, -1)), "-1")
case("pc.bincount Tensor.bincount", ValueError, "bincount", lambda: ints(1).bincount(minlength=-2), "-2")
case("pc.can_cast", TypeError, "dtype", lambda: pc.can_cast("x", pc.int64), "'x'")
case("pc.promote_types", TypeError, "dtype", lambda: pc.promote_types(pc.int64, "x"), "'x'")
case("pc.result_type", TypeError, "result_type", lambda: pc.result_type(t(2), "a"), "str")
case("pc.equal Tensor.equal", TypeError, "equal", lambda: pc.equal(t(2), None), "None")
case("pc.inference_mode", TypeError, "inference_mode", lambda: pc.inference_mode("yes"), "'yes'")
case("pc.is_floating_point", TypeError, "is_floating_point", lambda: pc.is_floating_point(3), "int")
case("pc.isnan", TypeError, "isnan", lambda: pc.isnan(None), "None")
case("pc.isinf", TypeError, "isinf", lambda: pc.isinf([1.0]), "list")
case("pc.isfinite", TypeError, "isfinite", lambda: pc.isfinite(1.0), "float")
case("pc.logical_not", TypeError, "logical_not", lambda: pc.logical_not("a"), "str")
for _name in ("logical_and", "logical_or", "logical_xor"):
    case(f"pc.{_name} Tensor.{_name}", TypeError, _name, lambda _name=_name: getattr(pc, _name)(t(2), None), "None")
case("pc.masked_fill Tensor.masked_fill", TypeError, "masked_fill", lambda: t(2).masked_fill(ints(1, 0), 0.0), "int64")
case("pc.masked_fill", ValueError, "masked_fill", lambda: pc.masked_fill(t(2), bools(1, 0, 1), 0.0), "(3,)")
case("Tensor.masked_fill_", RuntimeError, "masked_fill_", lambda: param(2).masked_fill_(bools(1, 0), 0.0))
case("Tensor.type", TypeError, "type", lambda: t(2).type("pycnn.FooTensor"), "FooTensor")
case("Tensor.cuda", ValueError, "cuda", lambda: t(2).cuda("cpu"), "cpu")


case(
    "Tensor.requires_grad_",
    TypeError,
    "requires_grad_",
    lambda: ints(1).requires_grad_(),
    "int64",
)
case(
    "Tensor.requires_grad_",
    RuntimeError,
    "requires_grad_",
    lambda: (t(2).requires_grad_() * 2).requires_grad_(False),
    "non-leaf",
)
case("Tensor.backward", RuntimeError, "backward", lambda: t(2).requires_grad_().mul(2).backward(), "(2,)")
case("Tensor.backward", RuntimeError, "backward", lambda: t(2).sum().backward(), "grad")
case("Tensor.backward", ValueError, "backward", lambda: t(2).requires_grad_().sum().backward(t(3)), "(3,)")
case(
    "Tensor.grad",
    TypeError,
    "grad",
    lambda: setattr(t(2), "grad", "x"),
    "str",
)
case(
    "Tensor.grad",
    ValueError,
    "grad",
    lambda: setattr(t(2), "grad", t(3)),
    "(3,)",
)
case(
    "Tensor.data",
    TypeError,
    "data",
    lambda: setattr(t(2), "data", [1.0]),
    "list",
)
case(
    "Tensor.copy_",
    ValueError,
    "copy_",
    lambda: t(2, 3).copy_(t(3, 2)),
    "(3, 2)",
)
case("Tensor.fill_", TypeError, "fill_", lambda: t(2).fill_("x"), "'x'")
case(
    "Tensor.zero_",
    RuntimeError,
    "zero_",
    lambda: t(2).requires_grad_().zero_(),
    "leaf",
)
case("Tensor.add_", TypeError, "add", lambda: t(2).add_("a"), "'a'")
case("Tensor.add_", RuntimeError, "add_", lambda: t(2).requires_grad_().add_(1.0), "leaf")
case("Tensor.sub_", ValueError, "sub", lambda: t(2).sub_(t(3)), "(2,)", "(3,)")
case("Tensor.mul_", TypeError, "mul", lambda: t(2).mul_(None), "NoneType")
case("Tensor.div_", RuntimeError, "div_", lambda: t(2).requires_grad_().div_(2.0), "leaf")
case("Tensor.clamp_", ValueError, "clamp", lambda: t(2).clamp_(), "min", "max")
case("Tensor.relu_", TypeError, "relu", lambda: bools(1).relu_(), "bool")
case("Tensor.view_as", TypeError, "view_as", lambda: t(2).view_as("a"), "str")
case("Tensor.view_as", ValueError, "view", lambda: t(2, 3).view_as(t(4)), "(4,)")
case("Tensor.reshape_as", TypeError, "reshape_as", lambda: t(2).reshape_as(3), "int")
case("Tensor.expand_as", ValueError, "expand", lambda: t(2, 3).expand_as(t(4, 5)), "(4, 5)")
case("Tensor.type_as", TypeError, "type_as", lambda: t(2).type_as("float64"), "str")
case("Tensor.new_full", TypeError, "new_full", lambda: t(2).new_full((2,), "a"), "'a'")
case("Tensor.new_zeros", TypeError, "new_zeros", lambda: t(2).new_zeros(2.5), "2.5")
case("Tensor.new_ones", ValueError, "new_ones", lambda: t(2).new_ones(-1), "-1")
case("Tensor.new_empty", TypeError, "new_empty", lambda: t(2).new_empty("a"), "'a'")
case("Tensor.new_tensor", ValueError, "tensor", lambda: t(2).new_tensor([[1, 2], [3]]), "ragged")
case("Tensor.register_hook", RuntimeError, "register_hook", lambda: t(2).register_hook(print), "require grad")
case("Tensor.register_hook", TypeError, "register_hook", lambda: t(2).requires_grad_().register_hook(3), "int")
case("Tensor.retain_grad", RuntimeError, "retain_grad", lambda: t(2).retain_grad(), "require grad")
case("Tensor.uniform_", ValueError, "uniform_", lambda: t(2).uniform_(1, 0), "1", "0")
case("Tensor.normal_", ValueError, "normal_", lambda: t(2).normal_(0, -1), "-1")


# ================================================================================ nn.functional ========
def w3():
    return t(3, 2, 3, 3)


case("F.conv2d", ValueError, "conv2d", lambda: F.conv2d(x4(), w3(), stride=0), "stride", "0")
case("F.conv2d", TypeError, "conv2d", lambda: F.conv2d(x4(), w3(), stride=1.5), "1.5")
case("F.conv2d", TypeError, "conv2d", lambda: F.conv2d(x4(), w3(), stride=None), "None")
case("F.conv2d", ValueError, "conv2d", lambda: F.conv2d(x4(), w3(), padding=2**63), str(2**63))
case("F.conv2d", ValueError, "conv2d", lambda: F.conv2d(x4(), w3(), padding=-1), "-1")
case("F.conv2d", ValueError, "conv2d", lambda: F.conv2d(x4(), w3(), padding="full"), "'full'")
case("F.conv2d", ValueError, "conv2d", lambda: F.conv2d(x4(), w3(), dilation=0), "dilation")
case("F.conv2d", ValueError, "conv2d", lambda: F.conv2d(x4(), w3(), groups=0), "groups")
case("F.conv2d", ValueError, "conv2d", lambda: F.conv2d(x4(), t(3, 3, 3, 3)), "(3, 3, 3, 3)")

case("F.conv2d", ValueError, "conv2d", lambda: F.conv2d(x4(), w3(), t(2)), "(2,)")
case("F.conv2d", TypeError, "conv2d", lambda: F.conv2d(x4(), w3().double()), "float64")
case("F.conv2d", ValueError, "conv2d", lambda: F.conv2d(x4(), t(3, 2, 5, 5)), "(1, 2, 4, 4)")
case("F.conv2d", TypeError, "conv2d", lambda: F.conv2d(np.zeros((1, 2, 4, 4)), w3()), "ndarray")
case("F.conv2d", ValueError, "conv2d", lambda: F.conv2d(x4(), w3(), stride=2, padding="same"), "same")
case(
    "F.conv1d",
    ValueError,
    "conv1d",
    lambda: F.conv1d(t(1, 2, 5), t(3, 2, 3), stride=0),
    "stride",
)
case("F.conv1d", ValueError, "conv1d", lambda: F.conv1d(t(1, 2, 5, 5), t(3, 2, 3)), "(1, 2, 5, 5)")
case("F.conv1d", TypeError, "conv1d", lambda: F.conv1d(t(1, 2, 5), t(3, 2, 3), padding=1.0), "1.0")
case(
    "F.conv_transpose2d",
    ValueError,
    "conv_transpose2d",
    lambda: F.conv_transpose2d(x4(), t(2, 3, 3, 3), stride=2, output_padding=2),
    "output_padding",
)
case(
    "F.conv_transpose2d",
    ValueError,
    "conv_transpose2d",
    lambda: F.conv_transpose2d(x4(), t(3, 3, 3, 3)),
    "(3, 3, 3, 3)",
)
case(
    "F.conv_transpose2d",
    TypeError,
    "conv_transpose2d",
    lambda: F.conv_transpose2d(x4(), t(2, 3, 3, 3), stride="2"),
    "'2'",
)
case(
    "F.conv_transpose2d",
    ValueError,
    "conv_transpose2d",
    lambda: F.conv_transpose2d(x4(), t(2, 3, 3, 3), stride=2**62),
    "too large",
)
case(
    "F.conv_transpose1d",
    ValueError,
    "conv_transpose1d",
    lambda: F.conv_transpose1d(t(1, 2, 5), t(2, 3, 3), stride=0),
    "stride",
)
case(
    "F.conv_transpose1d",
    ValueError,
    "conv_transpose1d",
    lambda: F.conv_transpose1d(t(1, 2, 5), t(3, 3, 3)),
    "(3, 3, 3)",
)
case("F.linear", ValueError, "linear", lambda: F.linear(t(2, 3), t(4, 5)), "(2, 3)", "(4, 5)")
case(
    "F.linear",
    TypeError,
    "linear",
    lambda: F.linear(t(2, 5), "w"),
    "str",
)
case("F.linear", ValueError, "linear", lambda: F.linear(t(2, 5), t(4, 5), t(3)), "(3,)")
case("F.max_pool2d", ValueError, "max_pool2d", lambda: F.max_pool2d(x4(), 0), "kernel_size")
case("F.max_pool2d", ValueError, "max_pool2d", lambda: F.max_pool2d(x4(), 2, padding=2), "padding")
case("F.max_pool2d", TypeError, "max_pool2d", lambda: F.max_pool2d(x4(), 2.0), "2.0")
case("F.max_pool2d", ValueError, "max_pool2d", lambda: F.max_pool2d(x4(), 2, dilation=0), "dilation")
case("F.max_pool2d", ValueError, "max_pool2d", lambda: F.max_pool2d(t(4, 4), 2), "(4, 4)")
case("F.max_pool2d", ValueError, "max_pool2d", lambda: F.max_pool2d(x4(), 3, padding=1, dilation=2**62), "too large")
case("F.avg_pool2d", ValueError, "avg_pool2d", lambda: F.avg_pool2d(x4(), 2, stride=0), "stride")
case("F.avg_pool2d", ValueError, "avg_pool2d", lambda: F.avg_pool2d(x4(), 2, divisor_override=0), "divisor")
case("F.avg_pool2d", TypeError, "avg_pool2d", lambda: F.avg_pool2d(x4(), None), "None")
case("F.avg_pool2d", ValueError, "avg_pool2d", lambda: F.avg_pool2d(t(1, 1, 2, 2), 3), "(1, 1, 2, 2)")
case("F.lp_pool2d", ValueError, "lp_pool2d", lambda: F.lp_pool2d(x4(), 0, 2), "norm_type")
case(
    "F.lp_pool2d",
    ValueError,
    "lp_pool2d",
    lambda: F.lp_pool2d(x4(), 2, 0),
    "kernel_size",
)
case("F.adaptive_avg_pool2d", ValueError, "adaptive_avg_pool2d", lambda: F.adaptive_avg_pool2d(x4(), 0), "0")
case(
    "F.adaptive_avg_pool2d", ValueError, "adaptive_avg_pool2d", lambda: F.adaptive_avg_pool2d(x4(), 2**40), "too large"
)
case(
    "F.adaptive_avg_pool2d",
    TypeError,
    "adaptive_avg_pool2d",
    lambda: F.adaptive_avg_pool2d(x4(), "a"),
    "'a'",
)
case("F.adaptive_max_pool2d", ValueError, "adaptive_max_pool2d", lambda: F.adaptive_max_pool2d(x4(), -1), "-1")
case("F.adaptive_max_pool2d", ValueError, "adaptive_max_pool2d", lambda: F.adaptive_max_pool2d(t(4, 4), 2), "(4, 4)")
case(
    "F.max_unpool2d",
    ValueError,
    "max_unpool2d",
    lambda: F.max_unpool2d(t(1, 1, 2, 2), ints(0).reshape(1, 1, 1, 1), 2),
    "(1, 1, 1, 1)",
)
case("F.max_unpool2d", TypeError, "max_unpool2d", lambda: F.max_unpool2d(t(1, 1, 2, 2), t(1, 1, 2, 2), 2), "float32")
case(
    "F.max_unpool2d",
    ValueError,
    "max_unpool2d",
    lambda: F.max_unpool2d(t(1, 1, 2, 2), pc.full((1, 1, 2, 2), 99, dtype=pc.int64), 2),
    "99",
)
case("F.maxout", ValueError, "maxout", lambda: F.maxout(t(2, 5), 2), "5")
case("F.maxout", ValueError, "maxout", lambda: F.maxout(t(2, 4), 0), "0")
case("F.relu", TypeError, "relu", lambda: F.relu([1.0]), "list")
case("F.relu", TypeError, "relu", lambda: F.relu(bools(1)), "bool")
case("F.relu6", TypeError, "relu6", lambda: F.relu6(ints(1)), "int64")
case(
    "F.leaky_relu",
    TypeError,
    "leaky_relu",
    lambda: F.leaky_relu(x4(), "a"),
    "'a'",
)
case(
    "F.leaky_relu",
    TypeError,
    "leaky_relu",
    lambda: F.leaky_relu(x4(), None),
    "None",
)
case(
    "F.elu",
    TypeError,
    "elu",
    lambda: F.elu(x4(), alpha="x"),
    "'x'",
)
case("F.selu", TypeError, "selu", lambda: F.selu(ints(1)), "int64")
case("F.gelu", ValueError, "gelu", lambda: F.gelu(x4(), approximate="fast"), "'fast'")
case("F.silu", TypeError, "silu", lambda: F.silu("x"), "str")
case("F.sigmoid", TypeError, "sigmoid", lambda: F.sigmoid(ints(1)), "int64")
case("F.tanh", TypeError, "tanh", lambda: F.tanh(3.0), "float")
case("F.hardsigmoid", TypeError, "hardsigmoid", lambda: F.hardsigmoid(ints(1)), "int64")
case("F.hardswish", TypeError, "hardswish", lambda: F.hardswish(None), "NoneType")
case("F.softplus", ValueError, "softplus", lambda: F.softplus(x4(), beta=0), "beta")
case(
    "F.softplus",
    TypeError,
    "softplus",
    lambda: F.softplus(x4(), threshold="a"),
    "'a'",
)
case("F.prelu", ValueError, "prelu", lambda: F.prelu(x4(), t(3)), "(3,)")
case("F.prelu", TypeError, "prelu", lambda: F.prelu(x4(), 0.25), "float")
case("F.softmax", ValueError, "softmax", lambda: F.softmax(t(2, 3), 2), "dim 2")
case(
    "F.softmax",
    TypeError,
    "softmax",
    lambda: F.softmax(t(2, 3), "a"),
    "'a'",
)
case("F.log_softmax", ValueError, "log_softmax", lambda: F.log_softmax(t(2, 3), -3), "dim -3")
case("F.dropout", ValueError, "dropout", lambda: F.dropout(x4(), 1.5), "1.5")
case("F.dropout", ValueError, "dropout", lambda: F.dropout(x4(), -0.1), "-0.1")
case(
    "F.dropout",
    TypeError,
    "dropout",
    lambda: F.dropout(x4(), "a"),
    "'a'",
)
case("F.dropout2d", ValueError, "dropout2d", lambda: F.dropout2d(x4(), 2.0), "2.0")
case("F.dropout2d", ValueError, "dropout2d", lambda: F.dropout2d(t(2), 0.5), "(2,)")
case("F.alpha_dropout", ValueError, "alpha_dropout", lambda: F.alpha_dropout(x4(), -1.0, training=True), "-1.0")
case("F.batch_norm", ValueError, "batch_norm", lambda: F.batch_norm(x4(), t(3), t(3)), "(3,)")
case("F.batch_norm", ValueError, "batch_norm", lambda: F.batch_norm(x4(), None, None, training=False), "running")
case("F.batch_norm", ValueError, "batch_norm", lambda: F.batch_norm(t(1, 2), None, None, training=True), "(1, 2)")
case("F.batch_norm", ValueError, "batch_norm", lambda: F.batch_norm(x4(), t(2), t(2), eps=-1.0), "eps", "-1")
case("F.group_norm", ValueError, "group_norm", lambda: F.group_norm(x4(), 3), "3")
case("F.group_norm", ValueError, "group_norm", lambda: F.group_norm(x4(), 0), "0")
case(
    "F.instance_norm",
    ValueError,
    "instance_norm",
    lambda: F.instance_norm(x4(), weight=t(3)),
    "(3,)",
)
case("F.instance_norm", ValueError, "instance_norm", lambda: F.instance_norm(t(2, 3)), "(2, 3)")
case("F.layer_norm", ValueError, "layer_norm", lambda: F.layer_norm(x4(), (5,)), "(5,)")
case(
    "F.layer_norm",
    TypeError,
    "layer_norm",
    lambda: F.layer_norm(x4(), "4"),
    "'4'",
)
case("F.local_response_norm", ValueError, "local_response_norm", lambda: F.local_response_norm(x4(), 0), "size")
case("F.local_response_norm", ValueError, "local_response_norm", lambda: F.local_response_norm(t(2, 3), 2), "(2, 3)")
case("F.pad", ValueError, "pad", lambda: F.pad(x4(), (1,)), "length", "1")
case("F.pad", ValueError, "pad", lambda: F.pad(x4(), (1, 1), mode="wrap"), "'wrap'")
case("F.pad", ValueError, "pad", lambda: F.pad(t(1, 2, 4), (5, 5), mode="reflect"), "5")
case("F.pad", ValueError, "pad", lambda: F.pad(x4(), (2**62, 2**62)), "too large")
case("F.pad", TypeError, "pad", lambda: F.pad(x4(), (1.5, 1)), "1.5")
case("F.interpolate", ValueError, "interpolate", lambda: F.interpolate(x4()), "size", "scale_factor")
case("F.interpolate", ValueError, "interpolate", lambda: F.interpolate(x4(), size=2, mode="cubic"), "'cubic'")
case("F.interpolate", ValueError, "interpolate", lambda: F.interpolate(x4(), scale_factor=-1.0), "-1")
case("F.interpolate", ValueError, "interpolate", lambda: F.interpolate(x4(), size=0), "0")
case("F.interpolate", ValueError, "interpolate", lambda: F.interpolate(x4(), size=(2**32, 2**32)), "too large")
case("F.interpolate", ValueError, "interpolate", lambda: F.interpolate(x4(), scale_factor=float("inf")), "inf")
case("F.upsample", ValueError, "interpolate", lambda: F.upsample(x4(), size=2, mode="linear"), "'linear'")
case("F.pixel_shuffle", ValueError, "pixel_shuffle", lambda: F.pixel_shuffle(x4(), 2), "2")
case("F.pixel_shuffle", ValueError, "pixel_shuffle", lambda: F.pixel_shuffle(x4(), 0), "0")
case("F.pixel_unshuffle", ValueError, "pixel_unshuffle", lambda: F.pixel_unshuffle(t(1, 1, 3, 3), 2), "3")
case("F.flatten", ValueError, "flatten", lambda: F.flatten(x4(), 5), "out of range")
case("F.cross_entropy", ValueError, "cross_entropy", lambda: F.cross_entropy(t(4, 3), ints(0, 1, 3, 2)), "target 3")
case("F.cross_entropy", TypeError, "cross_entropy", lambda: F.cross_entropy(t(4, 3), t(4)), "float32")
case(
    "F.cross_entropy",
    ValueError,
    "cross_entropy",
    lambda: F.cross_entropy(t(2, 3), ints(0, 1), label_smoothing=1.5),
    "1.5",
)
case(
    "F.cross_entropy",
    ValueError,
    "cross_entropy",
    lambda: F.cross_entropy(t(2, 3), ints(0, 1), reduction="avg"),
    "'avg'",
)
case("F.cross_entropy", ValueError, "cross_entropy", lambda: F.cross_entropy(t(2, 3), ints(0, 1), weight=t(2)), "(2,)")
case("F.nll_loss", ValueError, "nll_loss", lambda: F.nll_loss(t(4, 3), ints(0, 1, 2)), "(3,)")
case("F.nll_loss", ValueError, "nll_loss", lambda: F.nll_loss(t(2, 3), ints(0, -1)), "target -1")
case("F.mse_loss", ValueError, "mse_loss", lambda: F.mse_loss(t(2, 3), t(3, 2)), "(2, 3)", "(3, 2)")
case("F.mse_loss", ValueError, "mse_loss", lambda: F.mse_loss(t(2), t(2), reduction="all"), "'all'")
case("F.l1_loss", ValueError, "l1_loss", lambda: F.l1_loss(t(2, 3), t(4)), "(4,)")
case("F.smooth_l1_loss", ValueError, "smooth_l1_loss", lambda: F.smooth_l1_loss(t(2), t(2), beta=-1.0), "beta", "-1")
case("F.huber_loss", ValueError, "huber_loss", lambda: F.huber_loss(t(2), t(2), delta=0.0), "delta", "0")
case("F.huber_loss", ValueError, "huber_loss", lambda: F.huber_loss(t(2), t(3)), "(3,)")
case(
    "F.binary_cross_entropy",
    ValueError,
    "binary_cross_entropy",
    lambda: F.binary_cross_entropy(t(2).sigmoid(), t(3)),
    "(3,)",
)
case(
    "F.binary_cross_entropy",
    TypeError,
    "binary_cross_entropy",
    lambda: F.binary_cross_entropy(t(2).sigmoid(), ints(0, 1)),
    "int64",
)
case(
    "F.binary_cross_entropy_with_logits",
    ValueError,
    "binary_cross_entropy_with_logits",
    lambda: F.binary_cross_entropy_with_logits(t(2), t(3)),
    "(3,)",
)
case(
    "F.binary_cross_entropy_with_logits",
    ValueError,
    "binary_cross_entropy_with_logits",
    lambda: F.binary_cross_entropy_with_logits(t(2, 3), t(2, 3), pos_weight=t(2)),
    "(2,)",
)
case("F.kl_div", ValueError, "kl_div", lambda: F.kl_div(t(2, 3), t(3)), "(3,)")
case("F.kl_div", ValueError, "kl_div", lambda: F.kl_div(t(2), t(2), reduction="avg"), "'avg'")
case(
    "F.margin_ranking_loss", ValueError, "margin_ranking_loss", lambda: F.margin_ranking_loss(t(2), t(3), t(2)), "(3,)"
)
case("F.multi_margin_loss", ValueError, "multi_margin_loss", lambda: F.multi_margin_loss(t(2, 3), ints(0, 1), p=3), "p")
case("F.multi_margin_loss", ValueError, "multi_margin_loss", lambda: F.multi_margin_loss(t(2, 3), ints(0, 7)), "7")

# ========================================================================================= nn layers ========
case("nn.Linear", ValueError, "Linear", lambda: nn.Linear(2**31, 2**31), "(2147483648, 2147483648)", "too large")

case("nn.Linear", TypeError, "Linear", lambda: nn.Linear(2.5, 3), "2.5")
case("nn.Linear", ValueError, "Linear", lambda: nn.Linear(3, -1), "-1")
case("nn.Linear", ValueError, "linear", lambda: nn.Linear(3, 2)(t(2, 4)), "(2, 4)")
case("nn.Conv2d", ValueError, "Conv2d", lambda: nn.Conv2d(0, 4, 3), "in_channels")
case("nn.Conv2d", ValueError, "Conv2d", lambda: nn.Conv2d(3, 4, 3, groups=2), "groups")
case("nn.Conv2d", TypeError, "Conv2d", lambda: nn.Conv2d(3, 4, 3.0), "3.0")
case("nn.Conv2d", ValueError, "Conv2d", lambda: nn.Conv2d(3, 4, 0), "kernel_size")
case("nn.Conv2d", ValueError, "Conv2d", lambda: nn.Conv2d(3, 4, 3, stride=0), "stride")
case("nn.Conv2d", ValueError, "Conv2d", lambda: nn.Conv2d(3, 4, 3, padding_mode="mirror"), "'mirror'")
case("nn.Conv2d", ValueError, "Conv2d", lambda: nn.Conv2d(3, 4, 3, padding=-2), "-2")
case("nn.Conv2d", ValueError, "conv2d", lambda: nn.Conv2d(3, 4, 3)(x4()), "(1, 2, 4, 4)")
case("nn.Conv1d", ValueError, "Conv1d", lambda: nn.Conv1d(2, 4, 0), "kernel_size")
case("nn.Conv1d", TypeError, "Conv1d", lambda: nn.Conv1d(2, "4", 3), "'4'")
case("nn.ConvTranspose2d", ValueError, "ConvTranspose2d", lambda: nn.ConvTranspose2d(2, 4, 3, stride=0), "stride")
case("nn.ConvTranspose2d", ValueError, "ConvTranspose2d", lambda: nn.ConvTranspose2d(2, 4, 3, output_padding=-1), "-1")
case("nn.ConvTranspose1d", ValueError, "ConvTranspose1d", lambda: nn.ConvTranspose1d(2, 3, 3, groups=2), "groups")
case("nn.MaxPool2d", ValueError, "MaxPool2d", lambda: nn.MaxPool2d(0), "kernel_size")
case("nn.MaxPool2d", TypeError, "MaxPool2d", lambda: nn.MaxPool2d(2.5), "2.5")
case("nn.MaxPool2d", ValueError, "max_pool2d", lambda: nn.MaxPool2d(2, padding=3)(x4()), "padding")
case("nn.AvgPool2d", ValueError, "AvgPool2d", lambda: nn.AvgPool2d(2, stride=-1), "-1")
case("nn.AvgPool2d", ValueError, "AvgPool2d", lambda: nn.AvgPool2d(2, divisor_override=0), "divisor")
case("nn.LPPool2d", ValueError, "LPPool2d", lambda: nn.LPPool2d(0, 2), "norm_type")
case("nn.AdaptiveAvgPool2d", ValueError, "AdaptiveAvgPool2d", lambda: nn.AdaptiveAvgPool2d(0), "0")
case("nn.AdaptiveAvgPool2d", TypeError, "AdaptiveAvgPool2d", lambda: nn.AdaptiveAvgPool2d("a"), "'a'")
case("nn.AdaptiveMaxPool2d", ValueError, "AdaptiveMaxPool2d", lambda: nn.AdaptiveMaxPool2d((2, -1)), "-1")
case("nn.MaxUnpool2d", ValueError, "MaxUnpool2d", lambda: nn.MaxUnpool2d(0), "kernel_size")
case("nn.BatchNorm2d", ValueError, "BatchNorm2d", lambda: nn.BatchNorm2d(0), "num_features")
case("nn.BatchNorm2d", TypeError, "BatchNorm2d", lambda: nn.BatchNorm2d(2.0), "2.0")
case("nn.BatchNorm2d", ValueError, "BatchNorm2d", lambda: nn.BatchNorm2d(2, eps=-1.0), "eps")

case("nn.BatchNorm2d", ValueError, "batch_norm", lambda: nn.BatchNorm2d(3)(x4()), "(3,)")
case("nn.BatchNorm1d", ValueError, "BatchNorm1d", lambda: nn.BatchNorm1d(-2), "-2")
case("nn.BatchNorm1d", ValueError, "BatchNorm1d", lambda: nn.BatchNorm1d(2)(x4()), "(1, 2, 4, 4)")
case("nn.SyncBatchNorm", ValueError, "SyncBatchNorm", lambda: nn.SyncBatchNorm(3)(x4()), "(1, 2, 4, 4)")
case("nn.SyncBatchNorm", ValueError, "SyncBatchNorm", lambda: nn.SyncBatchNorm(2)(t(2)), "(2,)")
case("nn.SyncBatchNorm", NotImplementedError, "SyncBatchNorm", lambda: nn.SyncBatchNorm(2, process_group=0), "0")
case("nn.GroupNorm", ValueError, "GroupNorm", lambda: nn.GroupNorm(3, 4), "3", "4")
case("nn.GroupNorm", ValueError, "GroupNorm", lambda: nn.GroupNorm(0, 4), "num_groups")
case("nn.InstanceNorm2d", ValueError, "InstanceNorm2d", lambda: nn.InstanceNorm2d(0), "num_features")
case("nn.LayerNorm", ValueError, "LayerNorm", lambda: nn.LayerNorm(0), "0")
case("nn.LayerNorm", TypeError, "LayerNorm", lambda: nn.LayerNorm("4"), "'4'")
case("nn.LayerNorm", ValueError, "layer_norm", lambda: nn.LayerNorm(5)(x4()), "(5,)")
case("nn.LocalResponseNorm", ValueError, "LocalResponseNorm", lambda: nn.LocalResponseNorm(0), "size")
case("nn.Dropout", ValueError, "Dropout", lambda: nn.Dropout(1.5), "1.5")
case("nn.Dropout", TypeError, "Dropout", lambda: nn.Dropout("a"), "'a'")
case("nn.Dropout2d", ValueError, "Dropout2d", lambda: nn.Dropout2d(-0.5), "-0.5")
case("nn.AlphaDropout", ValueError, "AlphaDropout", lambda: nn.AlphaDropout(2), "2")
case("nn.ReLU", TypeError, "relu", lambda: nn.ReLU()(bools(1)), "bool")
case("nn.ReLU6", TypeError, "relu6", lambda: nn.ReLU6()("x"), "str")
case("nn.LeakyReLU", TypeError, "LeakyReLU", lambda: nn.LeakyReLU("a"), "'a'")
case("nn.ELU", TypeError, "ELU", lambda: nn.ELU(alpha=None), "None")
case("nn.SELU", TypeError, "selu", lambda: nn.SELU()(ints(1)), "int64")
case("nn.GELU", ValueError, "GELU", lambda: nn.GELU("fast"), "'fast'")
case("nn.SiLU", TypeError, "silu", lambda: nn.SiLU()(None), "NoneType")
case("nn.Swish", TypeError, "Swish", lambda: nn.Swish(beta="a"), "'a'")
case("nn.Sigmoid", TypeError, "sigmoid", lambda: nn.Sigmoid()(ints(1)), "int64")
case("nn.Tanh", TypeError, "tanh", lambda: nn.Tanh()([1.0]), "list")
case("nn.Hardsigmoid", TypeError, "hardsigmoid", lambda: nn.Hardsigmoid()(ints(1)), "int64")
case("nn.Hardswish", TypeError, "hardswish", lambda: nn.Hardswish()(ints(1)), "int64")
case("nn.Softplus", ValueError, "Softplus", lambda: nn.Softplus(beta=0), "beta")
case("nn.Softmax", ValueError, "softmax", lambda: nn.Softmax(dim=3)(t(2, 3)), "dim 3")
case("nn.Softmax", TypeError, "Softmax", lambda: nn.Softmax(dim="a"), "'a'")
case("nn.LogSoftmax", TypeError, "LogSoftmax", lambda: nn.LogSoftmax(dim=1.5), "1.5")
case("nn.PReLU", ValueError, "PReLU", lambda: nn.PReLU(0), "num_parameters")
case("nn.PReLU", ValueError, "prelu", lambda: nn.PReLU(3)(x4()), "(3,)")
case("nn.Maxout", ValueError, "Maxout", lambda: nn.Maxout(0), "pieces")
case("nn.Flatten", ValueError, "flatten", lambda: nn.Flatten(5)(x4()), "out of range")
case("nn.Flatten", TypeError, "Flatten", lambda: nn.Flatten("1"), "'1'")

case("nn.PixelShuffle", ValueError, "PixelShuffle", lambda: nn.PixelShuffle(0), "upscale_factor")
case("nn.PixelUnshuffle", TypeError, "PixelUnshuffle", lambda: nn.PixelUnshuffle(1.5), "1.5")
case("nn.Upsample", ValueError, "Upsample", lambda: nn.Upsample(scale_factor=2, mode="cubic"), "'cubic'")
case("nn.Upsample", ValueError, "Upsample", lambda: nn.Upsample(), "size", "scale_factor")
case(
    "nn.UpsamplingBilinear2d",
    ValueError,
    "UpsamplingBilinear2d",
    lambda: nn.UpsamplingBilinear2d(scale_factor=-2),
    "-2",
)
case("nn.UpsamplingNearest2d", ValueError, "UpsamplingNearest2d", lambda: nn.UpsamplingNearest2d(size=0), "0")
case("nn.NonLocalBlock2d", ValueError, "NonLocalBlock2d", lambda: nn.NonLocalBlock2d(0), "in_channels")
case("nn.NonLocalBlock2d", ValueError, "NonLocalBlock2d", lambda: nn.NonLocalBlock2d(4, mode="dot"), "'dot'")
case("nn.Sequential", TypeError, "Sequential", lambda: nn.Sequential(3), "int")
case("nn.ModuleList", TypeError, "ModuleList", lambda: nn.ModuleList([nn.ReLU(), "x"]), "str")
case("nn.Module", TypeError, "Module", lambda: nn.Module().add_module("a", 3), "int")
case(
    "nn.Module",
    RuntimeError,
    "load_state_dict",
    lambda: nn.Linear(2, 2).load_state_dict({"weight": pc.zeros(2, 2)}),
    "bias",
)
case(
    "nn.Module",
    RuntimeError,
    "load_state_dict",
    lambda: nn.Linear(2, 2).load_state_dict({"weight": pc.zeros(3, 2), "bias": pc.zeros(2)}),
    "(3, 2)",
)
case(
    "nn.Module",
    TypeError,
    "load_state_dict",
    lambda: nn.Linear(2, 2).load_state_dict("x"),
    "str",
)
case("nn.Module", TypeError, "dtype", lambda: nn.Linear(2, 2).to(3.5), "3.5")
case("nn.Module", NotImplementedError, "Module", lambda: nn.Module()(t(2)), "forward")
case("nn.Parameter", TypeError, "Parameter", lambda: nn.Parameter([1.0, 2.0]), "list")
case(
    "nn.Parameter",
    TypeError,
    "requires_grad_",
    lambda: nn.Parameter(ints(1, 2)),
    "int64",
)
# ---- losses
case("nn.CrossEntropyLoss", ValueError, "CrossEntropyLoss", lambda: nn.CrossEntropyLoss(reduction="avg"), "'avg'")
case("nn.CrossEntropyLoss", ValueError, "CrossEntropyLoss", lambda: nn.CrossEntropyLoss(label_smoothing=-0.1), "-0.1")
case("nn.NLLLoss", ValueError, "NLLLoss", lambda: nn.NLLLoss(reduction="max"), "'max'")
case("nn.NLLLoss", TypeError, "NLLLoss", lambda: nn.NLLLoss(ignore_index=1.5), "1.5")
case("nn.MSELoss", ValueError, "MSELoss", lambda: nn.MSELoss(reduction=None), "None")
case("nn.MSELoss", ValueError, "mse_loss", lambda: nn.MSELoss()(t(2), t(3)), "(3,)")
case("nn.L1Loss", ValueError, "L1Loss", lambda: nn.L1Loss(reduction="median"), "'median'")
case("nn.SmoothL1Loss", ValueError, "SmoothL1Loss", lambda: nn.SmoothL1Loss(beta=-1), "-1")
case("nn.HuberLoss", ValueError, "HuberLoss", lambda: nn.HuberLoss(delta=0), "delta")
case("nn.BCELoss", ValueError, "BCELoss", lambda: nn.BCELoss(reduction="x"), "'x'")
case("nn.BCEWithLogitsLoss", TypeError, "BCEWithLogitsLoss", lambda: nn.BCEWithLogitsLoss(pos_weight=[1.0]), "list")
case("nn.KLDivLoss", ValueError, "KLDivLoss", lambda: nn.KLDivLoss(reduction="avg"), "'avg'")
case("nn.MarginRankingLoss", TypeError, "MarginRankingLoss", lambda: nn.MarginRankingLoss(margin="a"), "'a'")
case("nn.MultiMarginLoss", ValueError, "MultiMarginLoss", lambda: nn.MultiMarginLoss(p=3), "3")

# ---- issue 14 (nnmods): containers, composite layers and functionals
case("nn.ModuleDict", TypeError, "ModuleDict", lambda: nn.ModuleDict(3), "int")
case("nn.ModuleDict", ValueError, "ModuleDict", lambda: nn.ModuleDict([("a",)]), "#0", "length 1")
case("nn.ParameterList", TypeError, "ParameterList", lambda: nn.ParameterList(pc.zeros(2)), "Tensor")
case("nn.ParameterDict", TypeError, "ParameterDict", lambda: nn.ParameterDict({1: param(2)}), "1")
case("nn.Bilinear", TypeError, "Bilinear", lambda: nn.Bilinear(2, 3.0, 4), "3.0")
case("nn.Bilinear", ValueError, "bilinear", lambda: nn.Bilinear(2, 3, 4)(t(5, 2), t(5, 4)), "(5, 4)")
case("nn.Unflatten", TypeError, "Unflatten", lambda: nn.Unflatten(1, 6), "6")
case("nn.Unflatten", ValueError, "unflatten", lambda: nn.Unflatten(1, (3, 3))(t(2, 6)), "(3, 3)", "6")
case("nn.MaxPool1d", ValueError, "MaxPool1d", lambda: nn.MaxPool1d(0), "kernel_size")
case("nn.AvgPool1d", TypeError, "AvgPool1d", lambda: nn.AvgPool1d(2.5), "2.5")
case("nn.AdaptiveAvgPool1d", ValueError, "AdaptiveAvgPool1d", lambda: nn.AdaptiveAvgPool1d(0), "0")
case("nn.Mish", TypeError, "mish", lambda: nn.Mish()(ints(1)), "int64")
case("nn.Hardtanh", ValueError, "Hardtanh", lambda: nn.Hardtanh(1.0, -1.0), "max_val")
case("nn.ZeroPad2d", ValueError, "ZeroPad2d", lambda: nn.ZeroPad2d((1, 2, 3)), "(1, 2, 3)")
case("nn.ConstantPad2d", TypeError, "ConstantPad2d", lambda: nn.ConstantPad2d(1, None), "None")
case("nn.ReflectionPad2d", TypeError, "ReflectionPad2d", lambda: nn.ReflectionPad2d("2"), "'2'")
case("nn.ReplicationPad2d", ValueError, "ReplicationPad2d", lambda: nn.ReplicationPad2d((1, 1)), "(1, 1)")
case("nn.ChannelShuffle", ValueError, "ChannelShuffle", lambda: nn.ChannelShuffle(0), "groups")
case("nn.ChannelShuffle", ValueError, "channel_shuffle", lambda: nn.ChannelShuffle(3)(x4()), "2", "3")
case("nn.CosineEmbeddingLoss", ValueError, "CosineEmbeddingLoss", lambda: nn.CosineEmbeddingLoss(reduction="x"), "'x'")
case("nn.TripletMarginLoss", ValueError, "TripletMarginLoss", lambda: nn.TripletMarginLoss(margin=0), "margin")
case("F.bilinear", ValueError, "bilinear", lambda: F.bilinear(t(2, 3), t(2, 4), t(5, 3)), "(5, 3)")
case("F.max_pool1d", ValueError, "max_pool1d", lambda: F.max_pool1d(t(1, 2, 5), 2, padding=2), "padding=2")
case("F.max_pool1d", ValueError, "max_pool1d", lambda: F.max_pool1d(x4(), 2), "(1, 2, 4, 4)")
case("F.avg_pool1d", ValueError, "avg_pool1d", lambda: F.avg_pool1d(t(1, 2, 3), 5), "kernel_size=5")
case("F.adaptive_avg_pool1d", TypeError, "adaptive_avg_pool1d", lambda: F.adaptive_avg_pool1d(t(1, 2, 3), 1.5), "1.5")
case("F.mish", TypeError, "mish", lambda: F.mish("x"), "str")
case("F.hardtanh", ValueError, "hardtanh", lambda: F.hardtanh(t(2), 2.0, 1.0), "2.0", "1.0")
case("F.channel_shuffle", ValueError, "channel_shuffle", lambda: F.channel_shuffle(t(2, 6), 2), "(2, 6)")
case("F.normalize", ValueError, "normalize", lambda: F.normalize(t(2, 3), p=-1), "-1")
case("F.cosine_similarity", ValueError, "cosine_similarity", lambda: F.cosine_similarity(t(2, 3), t(4)), "(4,)")
case("F.pairwise_distance", TypeError, "pairwise_distance", lambda: F.pairwise_distance(t(2, 3), ints(1)), "int64")
case(
    "F.cosine_embedding_loss",
    ValueError,
    "cosine_embedding_loss",
    lambda: F.cosine_embedding_loss(t(3, 4), t(3, 4), t(3, 1)),
    "(3, 1)",
)
case(
    "F.triplet_margin_loss",
    ValueError,
    "triplet_margin_loss",
    lambda: F.triplet_margin_loss(t(3, 4), t(3, 4), t(4)),
    "(4,)",
)

# ---- nn.init and nn.utils
case(
    "init.calculate_gain",
    ValueError,
    "calculate_gain",
    lambda: init.calculate_gain("swish"),
    "'swish'",
)
case(
    "init.calculate_gain",
    ValueError,
    "calculate_gain",
    lambda: init.calculate_gain("leaky_relu", "a"),
    "'a'",
)
case(
    "init.constant_",
    TypeError,
    "constant_",
    lambda: init.constant_(t(2), "a"),
    "'a'",
)
case(
    "init.constant_",
    TypeError,
    "constant_",
    lambda: init.constant_([1.0], 0.0),
    "list",
)
case("init.dirac_", ValueError, "dirac_", lambda: init.dirac_(t(2, 3)), "(2, 3)")
case(
    "init.dirac_",
    ValueError,
    "dirac_",
    lambda: init.dirac_(t(4, 2, 3, 3), groups=3),
    "3",
)
case("init.eye_", ValueError, "eye_", lambda: init.eye_(t(2, 3, 4)), "(2, 3, 4)")
case(
    "init.kaiming_normal_",
    ValueError,
    "kaiming_normal_",
    lambda: init.kaiming_normal_(t(3, 3), mode="fan"),
    "'fan'",
)
case(
    "init.kaiming_normal_",
    ValueError,
    "kaiming_normal_",
    lambda: init.kaiming_normal_(t(3)),
    "(3,)",
)
case(
    "init.kaiming_uniform_",
    ValueError,
    "kaiming_uniform_",
    lambda: init.kaiming_uniform_(t(3, 3), nonlinearity="swish"),
    "'swish'",
)
case(
    "init.kaiming_uniform_",
    ValueError,
    "kaiming_uniform_",
    lambda: init.kaiming_uniform_(t(3, 3), a="x"),
    "'x'",
)
case(
    "init.layer_default_",
    ValueError,
    "layer_default_",
    lambda: init.layer_default_(t(3)),
    "(3,)",
)
case(
    "init.layer_default_",
    TypeError,
    "layer_default_",
    lambda: init.layer_default_("w"),
    "str",
)
case(
    "init.lecun_normal_",
    ValueError,
    "lecun_normal_",
    lambda: init.lecun_normal_(t(3)),
    "(3,)",
)
case(
    "init.lecun_uniform_",
    TypeError,
    "lecun_uniform_",
    lambda: init.lecun_uniform_(None),
    "None",
)
case("init.normal_", ValueError, "normal_", lambda: init.normal_(t(3), std=-1.0), "-1.0")
case("init.normal_", TypeError, "normal_", lambda: init.normal_(t(3), mean="a"), "'a'")
case("init.ones_", TypeError, "ones_", lambda: init.ones_(np.zeros(3)), "ndarray")
case("init.zeros_", TypeError, "zeros_", lambda: init.zeros_([0.0]), "list")
case(
    "init.orthogonal_",
    ValueError,
    "orthogonal_",
    lambda: init.orthogonal_(t(3)),
    "(3,)",
)
case(
    "init.trunc_normal_",
    ValueError,
    "trunc_normal_",
    lambda: init.trunc_normal_(t(3), a=2.0, b=-2.0),
    "2.0",
    "-2.0",
)
case(
    "init.trunc_normal_",
    ValueError,
    "trunc_normal_",
    lambda: init.trunc_normal_(t(3), std=0.0),
    "std",
)
case("init.uniform_", ValueError, "uniform_", lambda: init.uniform_(t(3), 1.0, 0.0), "1.0", "0.0")
case(
    "init.xavier_normal_",
    ValueError,
    "xavier_normal_",
    lambda: init.xavier_normal_(t(3)),
    "(3,)",
)
case(
    "init.xavier_uniform_",
    TypeError,
    "xavier_uniform_",
    lambda: init.xavier_uniform_(t(3, 3), gain="a"),
    "'a'",
)
case(
    "utils.clip_grad_norm_",
    ValueError,
    "clip_grad_norm_",
    lambda: nn_utils.clip_grad_norm_([param(2)], -1.0),
    "-1.0",
)
case(
    "utils.clip_grad_norm_",
    TypeError,
    "clip_grad_norm_",
    lambda: nn_utils.clip_grad_norm_(3, 1.0),
    "int",
)
case(
    "utils.clip_grad_norm_",
    ValueError,
    "clip_grad_norm_",
    lambda: nn_utils.clip_grad_norm_([param(2)], 1.0, norm_type=0.0),
    "0.0",
)
case(
    "utils.clip_grad_value_",
    ValueError,
    "clip_grad_value_",
    lambda: nn_utils.clip_grad_value_([param(2)], -1.0),
    "-1.0",
)
case(
    "utils.clip_grad_value_",
    TypeError,
    "clip_grad_value_",
    lambda: nn_utils.clip_grad_value_([param(2)], "a"),
    "'a'",
)
case(
    "utils.l1_penalty",
    TypeError,
    "l1_penalty",
    lambda: nn_utils.l1_penalty([param(2)]),
    "list",
)
case(
    "utils.l2_penalty",
    TypeError,
    "l2_penalty",
    lambda: nn_utils.l2_penalty("model"),
    "str",
)

# ---- pycnn.ops
case(
    "ops.deform_conv2d",
    ValueError,
    "deform_conv2d",
    lambda: pc.ops.deform_conv2d(x4(), t(1, 9, 2, 2), w3()),
    "(1, 9, 2, 2)",
)
case(
    "ops.deform_conv2d",
    ValueError,
    "deform_conv2d",
    lambda: pc.ops.deform_conv2d(x4(), t(1, 18, 2, 2), w3(), stride=0),
    "stride",
)
case("ops.deform_conv2d", TypeError, "deform_conv2d", lambda: pc.ops.deform_conv2d(x4(), "offset", w3()), "str")
case("ops.DeformConv2d", ValueError, "DeformConv2d", lambda: pc.ops.DeformConv2d(2, 3, 3, groups=2), "groups")
case("ops.DeformConv2d", ValueError, "DeformConv2d", lambda: pc.ops.DeformConv2d(2, 3, 0), "kernel_size")


# =========================================================================================== optim ========
def _p():
    return [param(2)]


for _name in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta"):
    _cls = getattr(pc.optim, _name)
    case(f"optim.{_name}", ValueError, _name, lambda c=_cls: c(_p(), lr=-1.0), "learning rate", "-1.0")
    case(f"optim.{_name}", TypeError, _name, lambda c=_cls: c(_p(), lr="a"), "learning rate", "'a'")
    case(f"optim.{_name}", ValueError, _name, lambda c=_cls: c(_p(), lr=float("nan")), "nan")
    case(f"optim.{_name}", ValueError, _name, lambda c=_cls: c(_p(), weight_decay=-0.1), "weight_decay", "-0.1")
    case(f"optim.{_name}", ValueError, _name, lambda c=_cls: c([]), "empty")
    case(f"optim.{_name}", TypeError, _name, lambda c=_cls: c(param(2)), "Tensor")
    case(f"optim.{_name}", TypeError, _name, lambda c=_cls: c([1.0]), "float")
    case(f"optim.{_name}", TypeError, f"{_name}.load_state_dict", lambda c=_cls: c(_p()).load_state_dict("x"), "str")
    case(
        f"optim.{_name}",
        ValueError,
        f"{_name}.load_state_dict",
        lambda c=_cls: c(_p()).load_state_dict({"state": {}, "param_groups": []}),
        "0",
        "1",
    )
case("optim.SGD", ValueError, "SGD", lambda: pc.optim.SGD(_p(), momentum=-0.5), "momentum", "-0.5")
case("optim.SGD", ValueError, "SGD", lambda: pc.optim.SGD(_p(), nesterov=True), "Nesterov")
case("optim.SGD", ValueError, "SGD.load_state_dict", lambda: sgd().load_state_dict({"state": {}}), "param_groups")
case(
    "optim.Adam", ValueError, "Adam", lambda: pc.optim.Adam(_p(), betas=(1.0, 0.999)), "beta parameter at index 0: 1.0"
)
case("optim.Adam", ValueError, "Adam", lambda: pc.optim.Adam(_p(), eps=-1e-8), "eps")
case("optim.Adam", TypeError, "Adam", lambda: pc.optim.Adam(_p(), betas=0.9), "0.9")
case("optim.AdamW", ValueError, "AdamW", lambda: pc.optim.AdamW(_p(), betas=(0.9, -0.1)), "-0.1")
case("optim.RMSprop", ValueError, "RMSprop", lambda: pc.optim.RMSprop(_p(), alpha=-0.1), "alpha")
case("optim.RMSprop", ValueError, "RMSprop", lambda: pc.optim.RMSprop(_p(), momentum=-1.0), "momentum")
case("optim.Adagrad", ValueError, "Adagrad", lambda: pc.optim.Adagrad(_p(), lr_decay=-1.0), "lr_decay")
case(
    "optim.Adagrad",
    ValueError,
    "Adagrad",
    lambda: pc.optim.Adagrad(_p(), initial_accumulator_value=-1.0),
    "initial_accumulator_value",
)
case("optim.Adadelta", ValueError, "Adadelta", lambda: pc.optim.Adadelta(_p(), rho=1.5), "rho", "1.5")
case("optim.Optimizer", ValueError, "Optimizer", lambda: pc.optim.Optimizer([], {}), "empty")
case("optim.Optimizer", TypeError, "SGD.add_param_group", lambda: sgd().add_param_group([param(2)]), "list")
case(
    "optim.Optimizer",
    ValueError,
    "SGD.add_param_group",
    lambda: sgd().add_param_group({"params": sgd().param_groups[0]["params"] * 2}),
    "duplicate",
)
case("optim.Optimizer", TypeError, "SGD.step", lambda: sgd().step(closure=3), "3")


# ---- schedulers
def _sched(cls, *args, **kwargs):
    return lambda: cls(sgd(), *args, **kwargs)


case(
    "lr_scheduler.CosineAnnealingLR",
    ValueError,
    "CosineAnnealingLR",
    lambda: L.CosineAnnealingLR(sgd(), T_max=0).step(),
    "T_max",
    "0",
)
case("lr_scheduler.CosineAnnealingLR", TypeError, "CosineAnnealingLR", _sched(L.CosineAnnealingLR, "10"), "'10'")

case("lr_scheduler.CyclicLR", ValueError, "CyclicLR", _sched(L.CyclicLR, 0.01, 0.1, step_size_up=0), "step_size_up")
case("lr_scheduler.CyclicLR", ValueError, "CyclicLR", _sched(L.CyclicLR, 0.01, 0.1, mode="saw"), "'saw'")
case(
    "lr_scheduler.CyclicLR",
    ValueError,
    "CyclicLR",
    _sched(L.CyclicLR, 0.01, 0.1, step_size_up=2, step_size_down=-1),
    "step_size_down",
)
case("lr_scheduler.StepLR", TypeError, "StepLR.load_state_dict", lambda: L.StepLR(sgd(), 2).load_state_dict("x"), "str")
case("lr_scheduler.StepLR", ValueError, "StepLR", _sched(L.StepLR, 0), "step_size", "0")
case("lr_scheduler.StepLR", TypeError, "StepLR", _sched(L.StepLR, 1.5), "1.5")
case("lr_scheduler.StepLR", TypeError, "StepLR", lambda: L.StepLR("opt", 2), "str")
case("lr_scheduler.LambdaLR", TypeError, "LambdaLR", _sched(L.LambdaLR, lr_lambda=3), "3")
case("lr_scheduler.LambdaLR", ValueError, "LambdaLR", _sched(L.LambdaLR, [lambda e: 1.0] * 2), "2", "1")
case("lr_scheduler.MultiplicativeLR", TypeError, "MultiplicativeLR", _sched(L.MultiplicativeLR, "f"), "'f'")

case("lr_scheduler.MultiStepLR", TypeError, "MultiStepLR", _sched(L.MultiStepLR, 3), "3")
case("lr_scheduler.ConstantLR", ValueError, "ConstantLR", _sched(L.ConstantLR, factor=1.5), "1.5")

case(
    "lr_scheduler.LinearLR",
    ValueError,
    "LinearLR",
    _sched(L.LinearLR, start_factor=0),
    "Starting multiplicative factor",
    "0",
)
case(
    "lr_scheduler.LinearLR",
    ValueError,
    "LinearLR",
    _sched(L.LinearLR, end_factor=2.0),
    "Ending multiplicative factor",
    "2.0",
)
case("lr_scheduler.ExponentialLR", TypeError, "ExponentialLR", _sched(L.ExponentialLR, "a"), "'a'")

case("lr_scheduler.PolynomialLR", ValueError, "PolynomialLR", _sched(L.PolynomialLR, total_iters=0), "total_iters")
case(
    "lr_scheduler.CosineAnnealingWarmRestarts",
    ValueError,
    "CosineAnnealingWarmRestarts",
    _sched(L.CosineAnnealingWarmRestarts, 0),
    "T_0",
)
case(
    "lr_scheduler.CosineAnnealingWarmRestarts",
    ValueError,
    "CosineAnnealingWarmRestarts",
    _sched(L.CosineAnnealingWarmRestarts, 2, T_mult=0),
    "T_mult",
)
case("lr_scheduler.OneCycleLR", ValueError, "OneCycleLR", _sched(L.OneCycleLR, 0.1), "total_steps")
case("lr_scheduler.OneCycleLR", ValueError, "OneCycleLR", _sched(L.OneCycleLR, 0.1, total_steps=0), "0")
case(
    "lr_scheduler.OneCycleLR", ValueError, "OneCycleLR", _sched(L.OneCycleLR, 0.1, total_steps=10, pct_start=1.5), "1.5"
)
case(
    "lr_scheduler.OneCycleLR",
    ValueError,
    "OneCycleLR",
    _sched(L.OneCycleLR, 0.1, total_steps=10, anneal_strategy="exp"),
    "exp",
)
case("lr_scheduler.ReduceLROnPlateau", ValueError, "ReduceLROnPlateau", _sched(L.ReduceLROnPlateau, factor=1.0), "1.0")
case("lr_scheduler.ReduceLROnPlateau", ValueError, "ReduceLROnPlateau", _sched(L.ReduceLROnPlateau, mode="up"), "up")
case(
    "lr_scheduler.ReduceLROnPlateau",
    ValueError,
    "ReduceLROnPlateau",
    _sched(L.ReduceLROnPlateau, threshold_mode="x"),
    "threshold mode x",
)
case(
    "lr_scheduler.ReduceLROnPlateau",
    TypeError,
    "ReduceLROnPlateau.step",
    lambda: L.ReduceLROnPlateau(sgd()).step("bad"),
    "'bad'",
)


def _sequential_without_milestones():
    opt = sgd()
    L.SequentialLR(opt, [L.StepLR(opt, 2), L.StepLR(opt, 2)], milestones=[])


case("lr_scheduler.SequentialLR", ValueError, "SequentialLR", _sequential_without_milestones, "milestones")
case(
    "lr_scheduler.SequentialLR",
    ValueError,
    "SequentialLR",
    lambda: L.SequentialLR(sgd(), [L.StepLR(sgd(), 2)], milestones=[1]),
    "optimizer",
)
case("lr_scheduler.ChainedScheduler", ValueError, "ChainedScheduler", lambda: L.ChainedScheduler([]), "no scheduler")
case("lr_scheduler.ChainedScheduler", TypeError, "ChainedScheduler", lambda: L.ChainedScheduler([3]), "int")
case("lr_scheduler.LRScheduler", TypeError, "LRScheduler", lambda: L.LRScheduler(None), "None")
case("lr_scheduler.LRScheduler", KeyError, "StepLR", lambda: L.StepLR(sgd(), 2, last_epoch=5), "initial_lr")

# ============================================================================================ data ========
case(
    "data.default_collate",
    ValueError,
    "default_collate",
    lambda: pc.data.default_collate([pc.zeros(2), pc.zeros(3)]),
    "(2,)",
    "(3,)",
)
case("data.default_collate", TypeError, "default_collate", lambda: pc.data.default_collate([]), "empty")
case("data.default_collate", TypeError, "default_collate", lambda: pc.data.default_collate([object()]), "object")
case(
    "data.default_collate",
    RuntimeError,
    "default_collate",
    lambda: pc.data.default_collate([(1, 2), (1,)]),
    "same number",
)
case(
    "data.default_collate",
    ValueError,
    "default_collate",
    lambda: pc.data.default_collate([np.zeros(2), np.zeros(3)]),
    "(2,)",
    "(3,)",
)
case(
    "data.DataLoader",
    ValueError,
    "DataLoader",
    lambda: pc.data.DataLoader([1, 2], batch_size=0),
    "batch_size",
)
case("data.DataLoader", ValueError, "DataLoader", lambda: pc.data.DataLoader([1, 2], num_workers=-1), "num_workers")
case(
    "data.DataLoader",
    ValueError,
    "DataLoader",
    lambda: pc.data.DataLoader([1, 2], shuffle=True, sampler=[0, 1]),
    "sampler",
)
case(
    "data.DataLoader",
    TypeError,
    "DataLoader",
    lambda: pc.data.DataLoader([1, 2], batch_size="4"),
    "'4'",
)
case("data.DataLoader", ValueError, "DataLoader", lambda: pc.data.DataLoader([1, 2], timeout=-1), "timeout")
case("data.TensorDataset", ValueError, "TensorDataset", lambda: pc.data.TensorDataset(t(3), t(4)), "3", "4")
case(
    "data.TensorDataset",
    TypeError,
    "TensorDataset",
    lambda: pc.data.TensorDataset([1, 2]),
    "list",
)
case(
    "data.Subset",
    IndexError,
    "Subset",
    lambda: pc.data.Subset([1, 2], [5])[0],
    "5",
)
case("data.ConcatDataset", ValueError, "ConcatDataset", lambda: pc.data.ConcatDataset([]), "at least one")
case("data.ConcatDataset", IndexError, "ConcatDataset", lambda: pc.data.ConcatDataset([[1], [2]])[7], "7")
case("data.random_split", ValueError, "random_split", lambda: pc.data.random_split(list(range(5)), [2, 2]), "5")
case("data.random_split", ValueError, "random_split", lambda: pc.data.random_split(list(range(5)), [0.5, 0.6]), "0.6")
case(
    "data.stratified_split",
    ValueError,
    "stratified_split",
    lambda: pc.data.stratified_split(list(range(5)), 1.5, labels=[0] * 5),
    "1.5",
)
case(
    "data.RandomSampler",
    ValueError,
    "RandomSampler",
    lambda: pc.data.RandomSampler([1, 2], num_samples=0),
    "num_samples",
)
case("data.RandomSampler", TypeError, "RandomSampler", lambda: pc.data.RandomSampler([1, 2], replacement="no"), "'no'")
case(
    "data.DistributedSampler",
    ValueError,
    "DistributedSampler",
    lambda: pc.data.DistributedSampler([1, 2], num_replicas=2, rank=2),
    "rank",
    "2",
)
case(
    "data.DistributedSampler",
    RuntimeError,
    "DistributedSampler",
    lambda: pc.data.DistributedSampler([1, 2]),
    "init_process_group",
)
case(
    "data.SequentialSampler",
    TypeError,
    "SequentialSampler",
    lambda: len(pc.data.SequentialSampler(3)),
    "int",
)
case(
    "data.SubsetRandomSampler",
    TypeError,
    "SubsetRandomSampler",
    lambda: pc.data.SubsetRandomSampler(5),
    "int",
)
case(
    "data.WeightedRandomSampler",
    ValueError,
    "WeightedRandomSampler",
    lambda: pc.data.WeightedRandomSampler([1.0, -1.0], 2),
    "-1.0",
)
case(
    "data.WeightedRandomSampler",
    ValueError,
    "WeightedRandomSampler",
    lambda: pc.data.WeightedRandomSampler([1.0], 0),
    "num_samples",
)
case("data.BatchSampler", ValueError, "BatchSampler", lambda: pc.data.BatchSampler([0, 1], 0), "batch_size")
case("data.BatchSampler", ValueError, "BatchSampler", lambda: pc.data.BatchSampler([0, 1], 2, drop_last="x"), "'x'")
case(
    "data.Sampler",
    NotImplementedError,
    "Sampler",
    lambda: iter(pc.data.Sampler()),
    "__iter__",
)
case(
    "data.Dataset",
    NotImplementedError,
    "Dataset",
    lambda: pc.data.Dataset()[0],
    "__getitem__",
)
case(
    "data.IterableDataset",
    NotImplementedError,
    "IterableDataset",
    lambda: iter(pc.data.IterableDataset()),
    "__iter__",
)
# ---- transforms
case("transforms.Normalize", ValueError, "Normalize", lambda: T.Normalize([0.5], [0.0]), "std")
case("transforms.Normalize", ValueError, "Normalize", lambda: T.Normalize([0.5, 0.5], [1.0])(t(3, 4, 4)), "3")
case("transforms.Resize", ValueError, "Resize", lambda: T.Resize(0), "0")
case("transforms.Resize", TypeError, "Resize", lambda: T.Resize("big"), "'big'")
case("transforms.CenterCrop", ValueError, "CenterCrop", lambda: T.CenterCrop(-1), "-1")
case("transforms.RandomCrop", ValueError, "RandomCrop", lambda: T.RandomCrop(8)(t(1, 4, 4)), "8")
case("transforms.RandomCrop", ValueError, "RandomCrop", lambda: T.RandomCrop(2, padding_mode="x"), "'x'")
case("transforms.Pad", ValueError, "Pad", lambda: T.Pad(-1), "-1")
case("transforms.Pad", ValueError, "Pad", lambda: T.Pad(1, padding_mode="wrap"), "'wrap'")
case("transforms.RandomHorizontalFlip", ValueError, "RandomHorizontalFlip", lambda: T.RandomHorizontalFlip(2.0), "2.0")
case("transforms.RandomVerticalFlip", ValueError, "RandomVerticalFlip", lambda: T.RandomVerticalFlip(-1), "-1")
case("transforms.RandomGrayscale", ValueError, "RandomGrayscale", lambda: T.RandomGrayscale(1.5), "1.5")
case("transforms.Grayscale", ValueError, "Grayscale", lambda: T.Grayscale(2), "2")
case("transforms.ColorJitter", ValueError, "ColorJitter", lambda: T.ColorJitter(brightness=-1), "-1")
case("transforms.ColorJitter", ValueError, "ColorJitter", lambda: T.ColorJitter(hue=0.8), "0.8")
case("transforms.RandomAffine", ValueError, "RandomAffine", lambda: T.RandomAffine(-5), "-5")
case("transforms.RandomAffine", ValueError, "RandomAffine", lambda: T.RandomAffine(0, translate=(2.0, 0)), "2.0")
case("transforms.RandomRotation", ValueError, "RandomRotation", lambda: T.RandomRotation(-1), "-1")
case(
    "transforms.RandomResizedCrop",
    ValueError,
    "RandomResizedCrop",
    lambda: T.RandomResizedCrop(4, scale=(0.9, 0.1)),
    "0.9",
)
case("transforms.RandomResizedCrop", ValueError, "RandomResizedCrop", lambda: T.RandomResizedCrop(0), "0")
case("transforms.RandomErasing", ValueError, "RandomErasing", lambda: T.RandomErasing(p=2), "2")
case("transforms.RandomErasing", ValueError, "RandomErasing", lambda: T.RandomErasing(scale=(0.5, 0.1)), "0.5")
case("transforms.RandomApply", ValueError, "RandomApply", lambda: T.RandomApply([T.ToTensor()], p=1.5), "1.5")
case("transforms.RandomChoice", ValueError, "RandomChoice", lambda: T.RandomChoice([]), "at least one")
case(
    "transforms.RandomChoice",
    ValueError,
    "RandomChoice",
    lambda: T.RandomChoice([T.ToTensor()], p=[0.5, 0.5]),
    "(1)",
    "[0.5, 0.5]",
)
case("transforms.RandomOrder", TypeError, "RandomOrder", lambda: T.RandomOrder([3]), "int")
case("transforms.Compose", TypeError, "Compose", lambda: T.Compose([3]), "int")
case(
    "transforms.Compose",
    TypeError,
    "Compose",
    lambda: T.Compose(T.ToTensor()),
    "ToTensor",
)
case("transforms.Lambda", TypeError, "Lambda", lambda: T.Lambda(3), "int")
case("transforms.ToTensor", TypeError, "ToTensor", lambda: T.ToTensor()("image"), "str")
case("transforms.ToTensor", ValueError, "ToTensor", lambda: T.ToTensor()(np.zeros((2, 2, 2, 2))), "(2, 2, 2, 2)")
case(
    "transforms.Transform",
    NotImplementedError,
    "Transform",
    lambda: T.Transform()(t(1, 2, 2)),
    "__call__",
)
case(
    "transforms.RandomTransform",
    TypeError,
    "RandomTransform",
    lambda: T.RandomTransform(generator=3),
    "3",
)
case("transforms.InterpolationMode", ValueError, "Resize", lambda: T.Resize(4, interpolation="cubic"), "'cubic'")
case(
    "transforms.compute_mean_std",
    ValueError,
    "compute_mean_std",
    lambda: T.compute_mean_std(np.zeros((0, 1, 2, 2))),
    "empty",
)
case(
    "transforms.compute_mean_std",
    ValueError,
    "compute_mean_std",
    lambda: T.compute_mean_std(np.zeros((2, 2, 2)), batch_size=0),
    "batch_size",
)
case("transforms.functional", ValueError, "hflip", lambda: T.functional.hflip(t(4)), "(4,)")

# ======================================================================================== datasets ========
_NOWHERE = "/nonexistent/pycnn-data"
case("datasets.MNIST", RuntimeError, "MNIST", lambda: pc.datasets.MNIST(_NOWHERE), _NOWHERE)

case("datasets.FashionMNIST", RuntimeError, "FashionMNIST", lambda: pc.datasets.FashionMNIST(_NOWHERE), _NOWHERE)
case("datasets.KMNIST", RuntimeError, "KMNIST", lambda: pc.datasets.KMNIST(_NOWHERE), _NOWHERE)
case("datasets.CIFAR10", RuntimeError, "CIFAR10", lambda: pc.datasets.CIFAR10(_NOWHERE), _NOWHERE)
case("datasets.CIFAR100", ValueError, "CIFAR100", lambda: pc.datasets.CIFAR100(_NOWHERE, label_type="x"), "'x'")
case("datasets.CIFAR100", RuntimeError, "CIFAR100", lambda: pc.datasets.CIFAR100(_NOWHERE), _NOWHERE)
case("datasets.ImageFolder", RuntimeError, "ImageFolder", lambda: pc.datasets.ImageFolder(_NOWHERE), _NOWHERE)
case("datasets.ImageFolder", ValueError, "ImageFolder", lambda: pc.datasets.ImageFolder("/tmp", mode="XYZ"), "'XYZ'")
case(
    "datasets.DatasetFolder",
    RuntimeError,
    "DatasetFolder",
    lambda: pc.datasets.DatasetFolder(_NOWHERE, loader=open),
    _NOWHERE,
)
case("datasets.DatasetFolder", TypeError, "DatasetFolder", lambda: pc.datasets.DatasetFolder("/tmp", loader=3), "int")
case(
    "datasets.find_classes",
    RuntimeError,
    "find_classes",
    lambda: pc.datasets.find_classes(_NOWHERE),
    _NOWHERE,
)
case(
    "datasets.make_dataset",
    RuntimeError,
    "make_dataset",
    lambda: pc.datasets.make_dataset(_NOWHERE, {"a": 0}, extensions=(".png",)),
    _NOWHERE,
)
case(
    "datasets.make_dataset",
    ValueError,
    "make_dataset",
    lambda: pc.datasets.make_dataset("/tmp", {"a": 0}),
    "extensions",
)
case(
    "datasets.pil_loader",
    FileNotFoundError,
    "pil_loader",
    lambda: pc.datasets.pil_loader(_NOWHERE + "/a.png"),
    _NOWHERE,
)
case(
    "datasets.read_idx",
    FileNotFoundError,
    "read_idx",
    lambda: pc.datasets.read_idx(_NOWHERE + "/x.idx"),
    _NOWHERE,
)
case("datasets.get_dataset", ValueError, "get_dataset", lambda: pc.datasets.get_dataset("imagenet"), "'imagenet'")
case("datasets.get_dataset", TypeError, "get_dataset", lambda: pc.datasets.get_dataset(3), "int")
case("datasets.mnist_subset", ValueError, "mnist_subset", lambda: pc.datasets.mnist_subset("val"), "'val'")
case(
    "datasets.MNISTSubset",
    TypeError,
    "MNISTSubset",
    lambda: pc.datasets.MNISTSubset(train="x"),
    "'x'",
)
case(
    "datasets.ArrayImageDataset",
    ValueError,
    "ArrayImageDataset",
    lambda: pc.datasets.ArrayImageDataset(np.zeros((3, 1, 2, 2), np.uint8), np.zeros(2, np.int64), ["a"]),
    "3",
    "2",
)
case("datasets.to_float_image", TypeError, "image", lambda: pc.datasets.to_float_image("x"), "<U1")
case("datasets.to_float_image", TypeError, "image", lambda: pc.datasets.to_float_image(np.zeros(3)), "(3,)")
case(
    "datasets.calculate_md5",
    FileNotFoundError,
    "calculate_md5",
    lambda: pc.datasets.calculate_md5(_NOWHERE + "/f"),
    _NOWHERE,
)
case(
    "datasets.check_integrity",
    TypeError,
    "check_integrity",
    lambda: pc.datasets.check_integrity(None),
    "None",
)
case(
    "datasets.download_file",
    ValueError,
    "download",
    lambda: pc.datasets.download_file([], "/tmp", "f", None),
    "urls",
)
case(
    "datasets.extract_archive",
    RuntimeError,
    "extract",
    lambda: pc.datasets.extract_archive(_NOWHERE + "/a.tar.gz", "/tmp"),
    _NOWHERE,
)
case(
    "datasets.extract_archive",
    RuntimeError,
    "extract",
    lambda: pc.datasets.extract_archive("/tmp/x.rar", "/tmp"),
    "x.rar",
)

# ========================================================================================== models ========
# The class each constructor function builds: its errors name the class.
_MODEL_CLASS = {"alexnet": "AlexNet", "alexnet_original": "AlexNetOriginal", "googlenet": "GoogLeNet", "lenet5": "LeNet5",
                "mobilenet_v2": "MobileNetV2", "nin": "NiN", "zfnet": "ZFNet", "resnet20": "CifarResNet",
                "resnet32": "CifarResNet", "resnet56": "CifarResNet"}  # fmt: skip
for _prefix, _cls_name in (
    ("resnet", "ResNet"),
    ("vgg", "VGG"),
    ("densenet", "DenseNet"),
    ("squeezenet", "SqueezeNet"),
):
    _MODEL_CLASS.update({n: _cls_name for n in pc.models.__all__ if n.startswith(_prefix) and n not in _MODEL_CLASS})
for _name, _cls_name in _MODEL_CLASS.items():
    _ctor = getattr(pc.models, _name)
    case(f"models.{_name}", ValueError, _cls_name, lambda c=_ctor: c(num_classes=0), "num_classes", "0")
    case(f"models.{_name}", TypeError, _cls_name, lambda c=_ctor: c(num_classes="10"), "'10'")
    case(f"models.{_name}", TypeError, _cls_name, lambda c=_ctor: c(num_classes=2.5), "2.5")
case("models.lenet5", ValueError, "LeNet5", lambda: pc.models.lenet5(num_classes=0), "num_classes")
case("models.lenet5", ValueError, "LeNet5", lambda: pc.models.lenet5(input_size=4), "4")
case("models.lenet5", ValueError, "LeNet5", lambda: pc.models.lenet5(in_channels=0), "in_channels")
case("models.LeNet5", ValueError, "LeNet5", lambda: pc.models.LeNet5(num_classes=-3), "-3")
case("models.LeNet5", ValueError, "LeNet5", lambda: pc.models.LeNet5()(t(1, 3, 28, 28)), "(1, 3, 28, 28)")
case("models.AlexNet", ValueError, "AlexNet", lambda: pc.models.AlexNet(num_classes=0), "0")
case("models.AlexNet", ValueError, "AlexNet", lambda: pc.models.AlexNet(dropout=1.5), "1.5")
case("models.AlexNetOriginal", ValueError, "AlexNetOriginal", lambda: pc.models.AlexNetOriginal(num_classes=0), "0")
case("models.ZFNet", ValueError, "ZFNet", lambda: pc.models.ZFNet(num_classes=-1), "-1")
case("models.VGG", TypeError, "VGG", lambda: pc.models.VGG("features"), "str")
case("models.VGG", ValueError, "VGG", lambda: pc.models.VGG(nn.Sequential(), num_classes=0), "0")
case("models.ResNet", ValueError, "ResNet", lambda: pc.models.ResNet(pc.models.BasicBlock, [2, 2, 2]), "[2, 2, 2]")
case(
    "models.ResNet",
    ValueError,
    "ResNet",
    lambda: pc.models.ResNet(pc.models.BasicBlock, [2, 2, 2, 2], num_classes=0),
    "0",
)
case("models.BasicBlock", ValueError, "BasicBlock", lambda: pc.models.BasicBlock(64, 64, groups=2), "groups")
case("models.BasicBlock", ValueError, "BasicBlock", lambda: pc.models.BasicBlock(0, 64), "inplanes")
case("models.Bottleneck", ValueError, "Bottleneck", lambda: pc.models.Bottleneck(0, 64), "inplanes")
case("models.CifarResNet", ValueError, "CifarResNet", lambda: pc.models.CifarResNet(21), "21")
case("models.CifarResNet", ValueError, "CifarResNet", lambda: pc.models.CifarResNet(20, num_classes=0), "0")
case("models.DenseNet", ValueError, "DenseNet", lambda: pc.models.DenseNet(growth_rate=0), "growth_rate")
case("models.DenseNet", ValueError, "DenseNet", lambda: pc.models.DenseNet(drop_rate=1.5), "1.5")
case("models.GoogLeNet", ValueError, "GoogLeNet", lambda: pc.models.GoogLeNet(num_classes=0), "0")
case("models.MobileNetV2", ValueError, "MobileNetV2", lambda: pc.models.MobileNetV2(width_mult=0), "width_mult")
case(
    "models.MobileNetV2",
    ValueError,
    "MobileNetV2",
    lambda: pc.models.MobileNetV2(inverted_residual_setting=[[1, 16, 1]]),
    "[[1, 16, 1]]",
)
case("models.NiN", ValueError, "NiN", lambda: pc.models.NiN(in_channels=0), "in_channels")
case("models.SqueezeNet", ValueError, "SqueezeNet", lambda: pc.models.SqueezeNet(version="2_0"), "'2_0'")
case("models.SqueezeNet", ValueError, "SqueezeNet", lambda: pc.models.SqueezeNet(num_classes=0), "0")


# =========================================================================================== train ========
def _loader():
    return pc.data.DataLoader(pc.data.TensorDataset(t(4, 3), ints(0, 1, 0, 1)), batch_size=2)


def _lin():
    return nn.Linear(3, 2)


case(
    "train.fit",
    TypeError,
    "fit",
    lambda: pc.train.fit(_lin(), _loader(), None, nn.CrossEntropyLoss(), sgd(), epochs="2"),
    "'2'",
)
case(
    "train.fit",
    ValueError,
    "fit",
    lambda: pc.train.fit(_lin(), _loader(), None, nn.CrossEntropyLoss(), sgd(), epochs=1, scheduler_interval="hour"),
    "'hour'",
)
case("train.Trainer", TypeError, "Trainer", lambda: pc.train.Trainer(_lin(), _loader()), "loss_fn", "None")
case(
    "train.Trainer",
    ValueError,
    "Trainer",
    lambda: pc.train.Trainer(_lin(), _loader(), loss_fn=nn.CrossEntropyLoss(), optimizer=sgd(), epochs=-1),
    "-1",
)
case("train.evaluate", TypeError, "evaluate", lambda: pc.train.evaluate(_lin(), [1, 2]), "int")
case("train.evaluate", ValueError, "linear", lambda: pc.train.evaluate(nn.Linear(5, 2), _loader()), "(2, 3)")
case(
    "train.predict",
    TypeError,
    "predict",
    lambda: pc.train.predict("model", _loader()),
    "str",
)
case(
    "train.lr_find",
    ValueError,
    "lr_find",
    lambda: pc.train.lr_find(_lin(), _loader(), nn.CrossEntropyLoss(), sgd(), start_lr=1.0, end_lr=0.1),
    "1.0",
)
case(
    "train.lr_find",
    ValueError,
    "lr_find",
    lambda: pc.train.lr_find(_lin(), _loader(), nn.CrossEntropyLoss(), sgd(), step_mode="log"),
    "'log'",
)

case("train.EarlyStopping", ValueError, "EarlyStopping", lambda: pc.train.EarlyStopping(mode="up"), "'up'")
case("train.EarlyStopping", ValueError, "EarlyStopping", lambda: pc.train.EarlyStopping(patience=-1), "-1")
case(
    "train.ModelCheckpoint",
    ValueError,
    "ModelCheckpoint",
    lambda: pc.train.ModelCheckpoint("/tmp", mode="sideways"),
    "'sideways'",
)
case(
    "train.ModelCheckpoint",
    ValueError,
    "ModelCheckpoint",
    lambda: pc.train.ModelCheckpoint("/tmp", every_n_epochs=0),
    "every_n_epochs",
)
case("train.GradientClipping", ValueError, "GradientClipping", lambda: pc.train.GradientClipping(), "max_norm")
case("train.GradientClipping", ValueError, "GradientClipping", lambda: pc.train.GradientClipping(max_norm=-1), "-1")
case(
    "train.LRSchedulerCallback",
    ValueError,
    "LRSchedulerCallback",
    lambda: pc.train.LRSchedulerCallback(L.StepLR(sgd(), 1), interval="hour"),
    "'hour'",
)
case(
    "train.LRSchedulerCallback",
    TypeError,
    "LRSchedulerCallback",
    lambda: pc.train.LRSchedulerCallback(3),
    "int",
)
case(
    "train.NaNGuard",
    TypeError,
    "NaNGuard",
    lambda: pc.train.NaNGuard(check_grads="x"),
    "'x'",
)
case(
    "train.TerminateOnNaN",
    TypeError,
    "TerminateOnNaN",
    lambda: pc.train.TerminateOnNaN(raise_error="x"),
    "'x'",
)
case(
    "train.find_nonfinite_layer",
    TypeError,
    "find_nonfinite_layer",
    lambda: pc.train.find_nonfinite_layer("model", t(2, 3)),
    "str",
)
case(
    "train.CSVLogger",
    OSError,
    "CSVLogger",
    lambda: pc.train.CSVLogger("/dev/null/log.csv").on_fit_begin(None),
    "/dev/null",
)
case(
    "train.JSONLogger",
    OSError,
    "JSONLogger",
    lambda: pc.train.JSONLogger("/dev/null/log.json").on_fit_begin(None),
    "/dev/null",
)
case("train.ProgressBar", ValueError, "ProgressBar", lambda: pc.train.ProgressBar(mininterval=-1), "-1")
case(
    "train.TensorBoardLogger",
    ValueError,
    "TensorBoardLogger",
    lambda: pc.train.TensorBoardLogger("/tmp/tb", backend="wandb"),
    "'wandb'",
)
case(
    "train.TensorBoardLogger",
    ValueError,
    "TensorBoardLogger",
    lambda: pc.train.TensorBoardLogger("/tmp/tb", log_every_n_steps=0),
    "log_every_n_steps",
)
case("train.FigureWriter", ValueError, "FigureWriter", lambda: pc.train.FigureWriter("/tmp", every_n_epochs=0), "0")


case(
    "train.save_checkpoint",
    TypeError,
    "save_checkpoint",
    lambda: pc.train.save_checkpoint("/tmp/pycnn-table-ck.safetensors", "model"),
    "str",
)
case(
    "train.load_checkpoint",
    FileNotFoundError,
    "load_checkpoint",
    lambda: pc.train.load_checkpoint(_NOWHERE + "/c.safetensors"),
    _NOWHERE,
)
case(
    "train.checkpoint_state",
    TypeError,
    "checkpoint_state",
    lambda: pc.train.checkpoint_state("model"),
    "str",
)
case(
    "train.plot_confusion_matrix",
    ValueError,
    "plot_confusion_matrix",
    lambda: pc.train.plot_confusion_matrix(np.zeros((2, 3)), ["a", "b"], "/tmp/cm.png"),
    "(2, 3)",
)
case("train.plot_filters", ValueError, "plot_filters", lambda: pc.train.plot_filters(t(3), "/tmp/f.png"), "(3,)")
case(
    "train.plot_history",
    TypeError,
    "plot_history",
    lambda: pc.train.plot_history(3, "/tmp/h.png"),
    "int",
)
case(
    "train.plot_misclassified",
    ValueError,
    "plot_misclassified",
    lambda: pc.train.plot_misclassified(t(2, 1, 4, 4), [0], [1, 0], ["a", "b"], "/tmp/m.png"),
    "2",
    "1",
)

# ========================================================================================= metrics ========
case("metrics.accuracy", ValueError, "accuracy", lambda: pc.metrics.accuracy(t(4, 3), ints(0, 1)), "(4, 3)", "(2,)")
case("metrics.accuracy", TypeError, "accuracy", lambda: pc.metrics.accuracy("out", ints(0)), "str")
case(
    "metrics.top_k_accuracy",
    ValueError,
    "top_k_accuracy",
    lambda: pc.metrics.top_k_accuracy(t(4, 3), ints(0, 1, 2, 0), k=5),
    "5",
    "3",
)
case(
    "metrics.top_k_accuracy",
    ValueError,
    "top_k_accuracy",
    lambda: pc.metrics.top_k_accuracy(t(4, 3), ints(0, 1, 2, 0), k=0),
    "0",
)
case(
    "metrics.confusion_matrix",
    ValueError,
    "confusion_matrix",
    lambda: pc.metrics.confusion_matrix(ints(0, 5), ints(0, 1), num_classes=3),
    "5",
)
case(
    "metrics.confusion_matrix",
    ValueError,
    "confusion_matrix",
    lambda: pc.metrics.confusion_matrix(ints(0, 1), ints(0, 1, 2)),
    "(3,)",
)
case(
    "metrics.precision",
    ValueError,
    "precision",
    lambda: pc.metrics.precision(ints(0, 1), ints(0, 1), average="weighted-ish"),
    "'weighted-ish'",
)
case("metrics.recall", ValueError, "recall", lambda: pc.metrics.recall(ints(0, 1), ints(0)), "(1,)")
case(
    "metrics.f1_score",
    ValueError,
    "f1_score",
    lambda: pc.metrics.f1_score(ints(0, 1), ints(0, 1), zero_division=2.0),
    "2.0",
)
case(
    "metrics.precision_recall_f1",
    ValueError,
    "precision_recall_f1",
    lambda: pc.metrics.precision_recall_f1(ints(0, 1), ints(0, 1), average="x"),
    "'x'",
)
case(
    "metrics.classification_report",
    ValueError,
    "classification_report",
    lambda: pc.metrics.classification_report(ints(0, 1), ints(0, 1), class_names=["a"]),
    "[0, 1)",
    "[1]",
)
case("metrics.ConfusionMatrix", ValueError, "ConfusionMatrix", lambda: pc.metrics.ConfusionMatrix(0), "0")
case(
    "metrics.ConfusionMatrix",
    ValueError,
    "ConfusionMatrix",
    lambda: pc.metrics.ConfusionMatrix(2).update(ints(0, 3), ints(0, 1)),
    "3",
)

# ============================================================================================ cuda ========
case("cuda.set_device", TypeError, "device", lambda: pc.cuda.set_device(1.5), "1.5")
case("cuda.set_device", ValueError, "cuda.set_device", lambda: pc.cuda.set_device("cpu"), "cpu")
case("cuda.manual_seed", ValueError, "manual_seed", lambda: pc.cuda.manual_seed(-1), "-1")
case("cuda.manual_seed_all", TypeError, "manual_seed", lambda: pc.cuda.manual_seed_all("a"), "'a'")
case("cuda.get_device_name", ValueError, "device", lambda: pc.cuda.get_device_name("tpu"), "'tpu'")
case("cuda.current_stream", ValueError, "device", lambda: pc.cuda.current_stream("tpu:0"), "'tpu'")
case("cuda.synchronize", TypeError, "device", lambda: pc.cuda.synchronize(2.5), "2.5")
case("cuda.memory_allocated", ValueError, "cuda.memory_stats", lambda: pc.cuda.memory_allocated("cpu"), "cpu")
case("cuda.memory_reserved", TypeError, "device", lambda: pc.cuda.memory_reserved([0]), "[0]")
case("cuda.max_memory_allocated", ValueError, "device", lambda: pc.cuda.max_memory_allocated("gpu"), "'gpu'")
case("cuda.max_memory_reserved", ValueError, "device", lambda: pc.cuda.max_memory_reserved("gpu"), "'gpu'")
case("cuda.memory_stats", ValueError, "device", lambda: pc.cuda.memory_stats("x"), "'x'")
case("cuda.reset_peak_memory_stats", ValueError, "device", lambda: pc.cuda.reset_peak_memory_stats("y"), "'y'")
case("cuda.Stream", ValueError, "cuda.Stream", lambda: pc.cuda.Stream("cpu"), "cpu")
case("cuda.stream", TypeError, "stream", lambda: pc.cuda.stream("s"), "str")

# ============================================================================================= CLI ========
case("cli.train", SystemExit, "pycnn train", lambda: cli_run("train", "--epochs", "0"), "--epochs", "0")
case("cli.train", SystemExit, "pycnn train", lambda: cli_run("train", "--batch-size", "-4"), "-4")
case("cli.train", SystemExit, "pycnn train", lambda: cli_run("train", "--optimizer", "lbfgs"), "'lbfgs'")
case("cli.train", SystemExit, "pycnn train", lambda: cli_run("train", "--model", "gpt2"), "'gpt2'")
case("cli.train", SystemExit, "pycnn train", lambda: cli_run("train", "--dataset", "imagenet"), "'imagenet'")
case("cli.train", SystemExit, "pycnn train", lambda: cli_run("train", "--lr", "fast"), "'fast'")
case("cli.train", SystemExit, "pycnn train", lambda: cli_run("train", "--val-split", "1.5"), "1.5")
case("cli.train", SystemExit, "pycnn train", lambda: cli_run("train", "--schedule", "linear"), "'linear'")
case(
    "cli.train",
    SystemExit,
    "pycnn train",
    lambda: cli_run("train", "--schedule", "plateau", "--val-split", "0"),
    "--val-split",
)
case("cli.train", SystemExit, "pycnn train", lambda: cli_run("train", "--device", "tpu"), "'tpu'")
case("cli.evaluate", SystemExit, "pycnn evaluate", lambda: cli_run("evaluate", _NOWHERE + "/m.safetensors"), _NOWHERE)
case("cli.evaluate", SystemExit, "pycnn evaluate", lambda: cli_run("evaluate", "x", "--batch-size", "0"), "0")
case(
    "cli.export",
    SystemExit,
    "pycnn export",
    lambda: cli_run("export", _NOWHERE + "/m.safetensors", "m.pycnn"),
    _NOWHERE,
)
case("cli.export", SystemExit, "pycnn export", lambda: cli_run("export", "x", "y", "--batch-size", "0"), "0")
case(
    "cli.summary", SystemExit, "pycnn summary", lambda: cli_run("summary", "lenet5", "--input-shape", "1,28"), "'1,28'"
)
case("cli.summary", SystemExit, "pycnn summary", lambda: cli_run("summary", "resnet9"), "'resnet9'")
case("cli.summary", SystemExit, "pycnn summary", lambda: cli_run("summary", "lenet5", "--num-classes", "0"), "0")
case("cli.bench", SystemExit, "pycnn bench", lambda: cli_run("bench", "--model", "gpt2"), "'gpt2'")
case("cli.bench", SystemExit, "pycnn bench", lambda: cli_run("bench", "--threads", "0"), "0")
case("cli.bench", SystemExit, "pycnn bench", lambda: cli_run("bench", "--mode", "eval"), "'eval'")

# ================================================================ sorting, selection and scans (issue 14) ========
case("pc.sort Tensor.sort", ValueError, "sort", lambda: t(2, 3).sort(2), "dim 2")
case("pc.sort", TypeError, "sort", lambda: pc.sort(t(3), descending="yes"), "'yes'")
case("pc.argsort Tensor.argsort", ValueError, "argsort", lambda: pc.argsort(t(2, 3), -3), "dim -3")
case("pc.topk Tensor.topk", ValueError, "topk", lambda: pc.topk(t(2, 3), 4), "k 4", "size 3")
case("Tensor.topk", TypeError, "topk", lambda: t(3).topk(1.5), "1.5")
case("pc.cumsum Tensor.cumsum", ValueError, "cumsum", lambda: pc.cumsum(t(2, 3), 2), "dim 2")
case("Tensor.cumsum_", ValueError, "cumsum_", lambda: t(2).cumsum_(1), "dim 1")
case("pc.prod Tensor.prod", ValueError, "prod", lambda: t(2, 3).prod(-3), "dim -3")
case("pc.prod", TypeError, "prod", lambda: pc.prod(t(2), 0, keepdim="no"), "'no'")
case("pc.unique Tensor.unique", ValueError, "unique", lambda: pc.unique(t(2, 3), dim=2), "dim 2")
case("pc.unique", TypeError, "unique", lambda: pc.unique(t(2), return_counts="yes"), "'yes'")
case("pc.nonzero Tensor.nonzero", TypeError, "nonzero", lambda: pc.nonzero(t(2), as_tuple=2), "2")

# ---------------------------------------------------------------- indexing: gather / scatter / Embedding --
case("pc.gather Tensor.gather", IndexError, "gather", lambda: pc.gather(t(3, 4), 1, ints([0, 4])), "4", "size 4")
case("pc.gather", TypeError, "gather", lambda: pc.gather(t(3, 4), 1, t(1, 1)), "int64")
case(
    "pc.scatter Tensor.scatter",
    ValueError,
    "scatter",
    lambda: t(3, 4).scatter(1, ints([0]), t(1, 1), reduce="sub"),
    "'sub'",
)
case("Tensor.scatter_", IndexError, "scatter_", lambda: t(3, 4).scatter_(0, ints([3]), 1.0), "3", "size 3")
case(
    "pc.scatter_add Tensor.scatter_add",
    TypeError,
    "scatter_add",
    lambda: pc.scatter_add(t(2), 0, ints(0), t(1, dtype=np.float64)),
    "float64",
)
case(
    "Tensor.scatter_add_",
    ValueError,
    "scatter_add_",
    lambda: t(2, 2).scatter_add_(0, ints([0, 1, 0]), t(2, 2)),
    "(1, 3)",
)
case("nn.Embedding", ValueError, "Embedding", lambda: nn.Embedding(5, 3, padding_idx=5), "padding_idx", "5")
# ---- math and shape functions (pycnn/_math_ops.py) ----
case("pc.mm Tensor.mm", ValueError, "mm", lambda: t(2, 3).mm(t(2, 3)), "(2, 3)")
case("pc.bmm Tensor.bmm", ValueError, "bmm", lambda: t(2, 2, 3).bmm(t(3, 3, 2)), "(3, 3, 2)")
case("pc.addmm Tensor.addmm", ValueError, "addmm", lambda: t(3).addmm(t(2, 3), t(3, 2)), "(3,)")
case("pc.outer Tensor.outer", ValueError, "outer", lambda: t(2).outer(t(2, 2)), "(2, 2)")
case("pc.einsum", ValueError, "einsum", lambda: pc.einsum("ii->i", t(2, 3)), "'i'", "[2, 3]")
case("pc.einsum", TypeError, "einsum", lambda: pc.einsum(3, t(2)), "int")
case("pc.linspace", ValueError, "linspace", lambda: pc.linspace(0, 1, -2), "-2")
case("pc.eye", ValueError, "eye", lambda: pc.eye(-1), "-1")
case("pc.numel", TypeError, "numel", lambda: pc.numel([1.0]), "list")
case("pc.reshape", TypeError, "reshape", lambda: pc.reshape(t(2, 3), None), "None")
case("pc.transpose", ValueError, "transpose", lambda: pc.transpose(t(2, 3), 0, 2), "dim 2")
case("pc.permute", TypeError, "permute", lambda: pc.permute(t(2, 3), (0, "1")), "'1'")
case("pc.squeeze", ValueError, "squeeze", lambda: pc.squeeze(t(2, 3), (0, 2)), "dim 2")
case("pc.unsqueeze", ValueError, "unsqueeze", lambda: pc.unsqueeze(t(2), 3), "3")
case("pc.softmax", TypeError, "softmax", lambda: pc.softmax([1.0], 0), "list")
case("pc.log_softmax", TypeError, "log_softmax", lambda: pc.log_softmax([1.0], 0), "list")
case("pc.select Tensor.select", IndexError, "select", lambda: t(2, 3).select(1, 3), "index 3")
case("pc.unbind Tensor.unbind", IndexError, "unbind", lambda: pc.tensor(1.0).unbind(), "0-d")
case("pc.unflatten Tensor.unflatten", ValueError, "unflatten", lambda: t(2, 6).unflatten(1, (4, 2)), "(4, 2)")
case("Tensor.repeat", ValueError, "repeat", lambda: t(2, 3).repeat(2), "1 repeat sizes")
case("pc.roll Tensor.roll", ValueError, "roll", lambda: t(2, 3).roll((1, 2), 0), "differ")
case("pc.flip Tensor.flip", ValueError, "flip", lambda: t(2, 3).flip(0, -2), "repeated")
case("pc.broadcast_tensors", ValueError, "broadcast_tensors", lambda: pc.broadcast_tensors(t(3), t(4)), "(4,)")
case("pc.meshgrid", ValueError, "meshgrid", lambda: pc.meshgrid(t(2), indexing="yx"), "'yx'")
case("pc.tril Tensor.tril", ValueError, "tril", lambda: t(3).tril(), "(3,)")
case("pc.triu Tensor.triu", TypeError, "triu", lambda: t(3, 3).triu(1.5), "1.5")
case("pc.diag Tensor.diag", ValueError, "diag", lambda: t(2, 2, 2).diag(), "(2, 2, 2)")
case("pc.amax Tensor.amax", ValueError, "amax", lambda: t(2, 0).amax(1), "size 0")
case("pc.amin Tensor.amin", ValueError, "amin", lambda: t(2, 3).amin((1, -1)), "repeated")
case("pc.norm Tensor.norm", ValueError, "norm", lambda: t(2, 3).norm("nuc"), "'nuc'")
case("pc.norm", TypeError, "norm", lambda: pc.norm(ints(1, 2)), "int64")
case("pc.dist Tensor.dist", ValueError, "dist", lambda: t(2).dist(t(2), "nuc"), "'nuc'")
case("pc.cdist", ValueError, "cdist", lambda: pc.cdist(t(2, 3), t(2, 4)), "(2, 4)")
case("pc.multinomial", ValueError, "multinomial", lambda: pc.multinomial(pc.tensor([1.0, -1.0]), 1), "non-negative")
case("pc.bernoulli", ValueError, "bernoulli", lambda: pc.bernoulli(pc.tensor([0.5, 1.5])), "[0, 1]")
case("pc.normal", ValueError, "normal", lambda: pc.normal(t(2), pc.tensor([1.0, -1.0])), "non-negative")
case("pc.round Tensor.round", TypeError, "round", lambda: t(2).round(decimals=1.5), "1.5")
for _op in ("floor", "ceil", "trunc", "sign", "reciprocal", "rsqrt", "square"):
    case(f"pc.{_op}", TypeError, _op, lambda o=_op: getattr(pc, o)([1.0]), "list")

# ================================================================================ the table's tests ========
# conv3d and unfold / fold (F.conv3d, F.unfold and F.fold are re-exports, which _public does not enumerate:
# their own bad-input tests are in test_conv3d.py and test_fold.py)
case("nn.Conv3d", ValueError, "Conv3d", lambda: nn.Conv3d(3, 4, 3, groups=2), "groups")
case("nn.Conv3d", ValueError, "Conv3d", lambda: nn.Conv3d(3, 4, (3, 3)), "kernel_size", "3 ints")
case("nn.Conv3d", ValueError, "Conv3d", lambda: nn.Conv3d(3, 4, 3, padding_mode="circular"), "'circular'")
case("nn.Conv3d", ValueError, "conv3d", lambda: nn.Conv3d(3, 4, 2)(t(1, 2, 3, 3, 3)), "C=3", "(1, 2, 3, 3, 3)")
case("nn.Unfold", ValueError, "Unfold", lambda: nn.Unfold((1, 2, 3)), "kernel_size", "(1, 2, 3)")
case("nn.Unfold", ValueError, "unfold", lambda: nn.Unfold(2)(t(4, 4)), "(4, 4)")
case("nn.Unfold", ValueError, "unfold", lambda: nn.Unfold(2, stride=0)(x4()), "stride")
case("nn.Fold", TypeError, "Fold", lambda: nn.Fold(None, 2), "output_size", "None")
case("nn.Fold", ValueError, "fold", lambda: nn.Fold(4, 2)(t(1, 8, 5)), "sliding blocks", "(1, 8, 5)")

# ---- pycnn.distributed and DistributedDataParallel (one rank: each case runs in its own forked child, where
# init_process_group starts a singleton MPI process; the pytest process itself never starts MPI) ----
dist = pc.distributed


def _grouped(call):
    """call() with the default process group initialised (world size 1) in the forked child."""

    def run():
        pytest.importorskip("mpi4py")
        dist.init_process_group(backend="mpi", timeout=30)
        return call()

    return run


case("distributed.get_rank", RuntimeError, "get_rank", lambda: dist.get_rank(), "init_process_group")
case("distributed.get_world_size", RuntimeError, "get_world_size", lambda: dist.get_world_size(), "not initialized")
case("distributed.get_backend", RuntimeError, "get_backend", lambda: dist.get_backend(), "not initialized")
case("distributed.barrier", RuntimeError, "barrier", lambda: dist.barrier(), "not initialized")
case("distributed.all_reduce", RuntimeError, "all_reduce", lambda: dist.all_reduce(t(2)), "init_process_group")
case(
    "distributed.init_process_group",
    ValueError,
    "init_process_group",
    lambda: dist.init_process_group("gloo"),
    "'gloo'",
)
case(
    "distributed.init_process_group",
    ValueError,
    "init_process_group",
    lambda: dist.init_process_group(init_method="tcp://h:1"),
    "tcp://h:1",
)
case(
    "distributed.init_process_group",
    ValueError,
    "init_process_group",
    lambda: dist.init_process_group(timeout=-5),
    "-5",
)
case(
    "distributed.init_process_group",
    ValueError,
    "init_process_group",
    _grouped(lambda: (dist.destroy_process_group(), dist.init_process_group(world_size=4))),
    "world_size=4",
    "1",
)
case(
    "distributed.init_process_group",
    RuntimeError,
    "init_process_group",
    _grouped(lambda: dist.init_process_group()),
    "already initialized",
)
case("distributed.all_reduce", TypeError, "all_reduce", _grouped(lambda: dist.all_reduce([1.0, 2.0])), "list")
case("distributed.all_reduce", ValueError, "all_reduce", _grouped(lambda: dist.all_reduce(t(2), op="mean")), "'mean'")
case(
    "distributed.all_reduce",
    TypeError,
    "all_reduce",
    _grouped(lambda: dist.all_reduce(pc.ones(2, dtype=pc.int64), op=dist.ReduceOp.AVG)),
    "int64",
)
case(
    "distributed.all_reduce",
    NotImplementedError,
    "all_reduce",
    _grouped(lambda: dist.all_reduce(t(2), group="g")),
    "group=None",
)
case("distributed.broadcast", ValueError, "broadcast", _grouped(lambda: dist.broadcast(t(2), src=1)), "[0, 1)", "1")
case(
    "distributed.all_gather",
    ValueError,
    "all_gather",
    _grouped(lambda: dist.all_gather([t(2), t(2)], t(2))),
    "world_size=1",
    "2",
)
case(
    "distributed.all_gather", ValueError, "all_gather", _grouped(lambda: dist.all_gather([t(3)], t(2))), "(3,)", "(2,)"
)
case(
    "distributed.all_gather_into_tensor",
    ValueError,
    "all_gather_into_tensor",
    _grouped(lambda: dist.all_gather_into_tensor(t(3, 2), t(2, 2))),
    "(3, 2)",
    "(2, 2)",
)
case(
    "distributed.reduce_scatter",
    ValueError,
    "reduce_scatter",
    _grouped(lambda: dist.reduce_scatter(t(2), [t(2, dtype=np.float64)])),
    "float64",
    "float32",
)
case(
    "distributed.reduce_scatter_tensor",
    ValueError,
    "reduce_scatter_tensor",
    _grouped(lambda: dist.reduce_scatter_tensor(t(2), t(5))),
    "(5,)",
)
case(
    "distributed.broadcast_object_list",
    TypeError,
    "broadcast_object_list",
    _grouped(lambda: dist.broadcast_object_list((1, 2))),
    "tuple",
)
case(
    "distributed.all_gather_object",
    ValueError,
    "all_gather_object",
    _grouped(lambda: dist.all_gather_object([None, None], 1)),
    "world_size=1",
)
case(
    "distributed.is_initialized",
    RuntimeError,
    "all_reduce",
    _grouped(lambda: (dist.destroy_process_group(), dist.is_initialized() or dist.all_reduce(t(2)))),
    "not initialized",
)
case(
    "parallel.DistributedDataParallel",
    RuntimeError,
    "DistributedDataParallel",
    lambda: nn.parallel.DistributedDataParallel(nn.Linear(2, 2)),
    "init_process_group",
)
case(
    "parallel.DistributedDataParallel",
    TypeError,
    "DistributedDataParallel",
    _grouped(lambda: nn.parallel.DistributedDataParallel(lambda x: x)),
    "function",
)
case(
    "parallel.DistributedDataParallel",
    ValueError,
    "DistributedDataParallel",
    _grouped(lambda: nn.parallel.DistributedDataParallel(nn.Linear(2, 2), bucket_cap_mb=0)),
    "bucket_cap_mb",
    "0",
)
case(
    "Tensor.register_post_accumulate_grad_hook",
    RuntimeError,
    "register_post_accumulate_grad_hook",
    lambda: t(2).register_post_accumulate_grad_hook(print),
    "leaf",
)
case(
    "Tensor.register_post_accumulate_grad_hook",
    TypeError,
    "register_post_accumulate_grad_hook",
    lambda: t(2).requires_grad_().register_post_accumulate_grad_hook(1),
    "int",
)


TABLE_IDS = []
for _i, (_names, *_rest) in enumerate(CASES):
    TABLE_IDS.append(f"{_i:03d}-{_names[0]}")


def _params():
    return [pytest.param(row, id=case_id) for case_id, row in zip(TABLE_IDS, CASES)]


@pytest.mark.parametrize("row", _params())
def test_bad_input(row):
    names, exc, op, call, texts = row
    raised, message = run_forked(call)
    assert raised, f"{names[0]}: no error was raised"
    assert exc.__name__ in raised, f"{names[0]}: expected {exc.__name__}, got {raised[0]}: {message}"
    prefix = f"{op}:" if op.startswith("pycnn ") else f"[{op}]"
    assert message.startswith(prefix), f"{names[0]}: the message does not start with {prefix!r}: {message!r}"
    for text in texts:
        assert text in message, f"{names[0]}: {text!r} not in {message!r}"


def test_the_table_has_at_least_400_cases():
    assert len(CASES) >= 400, len(CASES)


# ------------------------------------------------------------------------------------ coverage ----
def _public(module):
    """A namespace's public names: its __all__, or (nn.functional) the functions it defines."""
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [
        n
        for n, v in vars(module).items()
        if not n.startswith("_") and inspect.isfunction(v) and v.__module__ == module.__name__
    ]


NAMESPACES = {
    "pc": pc,
    "nn": nn,
    "F": F,
    "init": init,
    "utils": nn_utils,
    "optim": pc.optim,
    "lr_scheduler": L,
    "data": pc.data,
    "transforms": T,
    "datasets": pc.datasets,
    "models": pc.models,
    "train": pc.train,
    "serialization": serialization,
    "ops": pc.ops,
    "metrics": pc.metrics,
    "cuda": pc.cuda,
    "backends": pc.backends,
    "program": pc.program,
    "onnx": pc.onnx,
    "distributed": pc.distributed,
    "parallel": nn.parallel,
}

# Public names with no bad-input case, each with the reason. Submodules are not listed: the namespaces
# above enumerate them (test_every_submodule_is_enumerated checks that).
ALLOWLIST = {
    # constants and types that take no argument a user passes
    "pc.__version__": "a string constant",
    "program.runner_path": "takes no argument",
    "pc.float": "a dtype constant",
    "pc.float32": "a dtype constant",
    "pc.float64": "a dtype constant",
    "pc.double": "a dtype constant",
    "pc.int64": "a dtype constant",
    "pc.long": "a dtype constant",
    "pc.int": "a dtype constant",
    "pc.int32": "a dtype constant",
    "pc.uint8": "a dtype constant",
    "pc.bool": "a dtype constant",
    "pc.half": "a dtype constant",
    "pc.float16": "a dtype constant",
    "pc.bfloat16": "a dtype constant",
    "datasets.DATASET_NAMES": "a tuple constant",
    "datasets.IMG_EXTENSIONS": "a tuple constant",
    "datasets.MNIST_SUBSET_PATH": "a path constant",
    "pc.cmake_prefix_path": "a path constant (the CMake package of the C++ library)",
    "data.WorkerInfo": "a record the DataLoader builds for its workers, never built by a user",
    "data.get_worker_info": "takes no argument",
    # queries with no argument: nothing to get wrong
    "pc.get_default_dtype": "takes no argument",
    "pc.get_num_threads": "takes no argument",
    "pc.initial_seed": "takes no argument",
    "pc.is_grad_enabled": "takes no argument",
    "datasets.default_root": "takes no argument",
    "datasets.load_mnist_subset_arrays": "takes no argument (reads the bundled file)",
    "cuda.current_device": "takes no argument",
    "cuda.device_count": "takes no argument",
    "cuda.empty_cache": "takes no argument",
    "cuda.initial_seed": "takes no argument",
    "cuda.is_available": "takes no argument",
    "cuda.is_built": "takes no argument",
    "cuda.seed": "takes no argument",
    # Tensor attributes and argument-free methods that any tensor answers
    "Tensor.device": "a read-only property",
    "Tensor.dtype": "a read-only property",
    "Tensor.shape": "a read-only property",
    "Tensor.ndim": "a read-only property",
    "Tensor.is_cuda": "a read-only property",
    "Tensor.is_leaf": "a read-only property",
    "Tensor.grad_fn": "set by autograd; a read-only property for users",
    "Tensor.dim": "takes no argument",
    "Tensor.numel": "takes no argument",
    "Tensor.bool": "takes no argument",
    "Tensor.byte": "takes no argument",
    "Tensor.int": "takes no argument",
    "Tensor.half": "takes no argument",
    "Tensor.bfloat16": "takes no argument",
    "Tensor.is_floating_point": "takes no argument",
    "Tensor.isnan": "takes no argument (every dtype is accepted)",
    "Tensor.isinf": "takes no argument (every dtype is accepted)",
    "Tensor.isfinite": "takes no argument (every dtype is accepted)",
    "Tensor.logical_not": "takes no argument (every dtype is accepted)",
    "Tensor.exp": "takes no argument (every dtype is accepted: integers compute in float)",
    "Tensor.log": "takes no argument (every dtype is accepted: integers compute in float)",
    "Tensor.sqrt": "takes no argument (every dtype is accepted: integers compute in float)",
    "Tensor.tanh": "takes no argument (every dtype is accepted: integers compute in float)",
    "Tensor.sigmoid": "takes no argument (every dtype is accepted: integers compute in float)",
    "Tensor.is_contiguous": "takes no argument",
    "Tensor.is_pinned": "takes no argument",
    "Tensor.data_ptr": "takes no argument",
    "Tensor.tolist": "takes no argument",
    "Tensor.double": "takes no argument",
    "Tensor.float": "takes no argument",
    "Tensor.long": "takes no argument",
    "Tensor.clone": "takes no argument",
    "Tensor.contiguous": "takes no argument",
    "Tensor.detach": "takes no argument",
    "Tensor.cpu": "takes no argument",
    "Tensor.pin_memory": "takes no argument; its refusals (no CUDA, a CUDA tensor) are tested in test_cuda.py: a forked "
    "child cannot use the parent's CUDA context",
    "Tensor.T": "a property: any rank is accepted (all dims reversed, as torch's)",
    "Tensor.requires_grad": "a plain attribute, read by every op's hot loop (a checked property would cost each op); "
    "requires_grad_() and the factories' requires_grad= are the checked ways to set it, and have cases",
    "Tensor.element_size": "a method without arguments (the dtype's item size)",
    "Tensor.nbytes": "a read-only property",
    "Tensor.storage_offset": "a method without arguments",
    "Tensor.detach_": "a method without arguments",
    "Tensor.floor": "a method without arguments",
    "Tensor.ceil": "a method without arguments",
    "Tensor.trunc": "a method without arguments",
    "Tensor.sign": "a method without arguments",
    "Tensor.reciprocal": "a method without arguments",
    "Tensor.rsqrt": "a method without arguments",
    "Tensor.square": "a method without arguments",
    "pc.is_tensor": "any object is an answer (False for what is not a tensor)",
    "pc.no_grad": "a context manager that takes no argument",
    "pc.enable_grad": "a context manager that takes no argument",
    "backends.cuda": "a namespace of flags (matmul.allow_tf32, any truthy value, as torch's)",
    "pc.dtype": "a type: its instances are the dtype constants, never built by users",
    "nn.Identity": "takes and ignores any arguments, as torch's",
    "train.LRFinderResult": "a dataclass of results that lr_find builds",
    "train.Callback": "a base class with no arguments; its hooks do nothing",
    "train.History": "a record of a run that fit builds",
    "distributed.DistributedError": "an exception type",
    "distributed.ReduceOp": "a namespace of constants",
    "distributed.Work": "built by the collectives (async_op=True), never by users",
    "distributed.destroy_process_group": "takes no argument (a no-op without a group)",
    "distributed.is_available": "takes no argument",
    "distributed.is_nccl_available": "takes no argument",
}


def _public_names():
    names = []
    for key, module in NAMESPACES.items():
        for n in _public(module):
            if not isinstance(getattr(module, n), types.ModuleType) or key == "transforms" and n == "functional":
                names.append(f"{key}.{n}")
    names += [f"Tensor.{n}" for n in dir(pc.Tensor) if not n.startswith("_")]
    names += [f"cli.{c}" for c in cli.build_parser()._subparsers._group_actions[0].choices]
    return names


def test_every_public_name_has_a_case():
    covered = {n for row in CASES for n in row[0]}
    missing = [n for n in _public_names() if n not in covered and n not in ALLOWLIST]
    assert not missing, f"{len(missing)} public names have no bad-input case and are not on the allowlist: {missing}"


def test_the_table_and_allowlist_name_only_public_names():
    public = set(_public_names())
    unknown = sorted({n for row in CASES for n in row[0]} - public)
    assert not unknown, f"cases cover names that are not public: {unknown}"
    stale = sorted(n for n in ALLOWLIST if n not in public or n in {m for row in CASES for m in row[0]})
    assert not stale, f"allowlist entries that are not public or that have a case: {stale}"


def test_every_submodule_is_enumerated():
    # pc.utils.data is pc.data under torch's name: its names are enumerated there
    enumerated = {id(m) for m in NAMESPACES.values()} | {
        id(pc.data.transforms.functional),
        id(pc.utils),
        id(pc.utils.data),
    }
    for key, module in NAMESPACES.items():
        for n in _public(module):
            value = getattr(module, n)
            if isinstance(value, types.ModuleType):
                assert id(value) in enumerated, f"{key}.{n} is a public submodule the coverage test does not enumerate"
