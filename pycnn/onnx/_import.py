"""pc.onnx.load: an ONNX CNN -> OnnxModule, an nn.Module whose forward interprets the graph with pycnn's
functional ops, so autograd runs through it and it can be fine-tuned.

At load, each initializer becomes a Parameter (float ones read as tensors), a buffer (BatchNormalization's
running statistics and integer tensors) or a static value (a Reshape's shape, a Clip bound, a Pad's pads:
arguments that pycnn takes as Python numbers); every node is checked against ``_OPS`` so an unsupported op
or attribute fails at load, naming itself. ``forward`` then runs the nodes in order, one handler each.
"""

import math
import os
import re

import numpy as np

from .. import _tensor_ops as tops
from .._convert import check_tensor
from .._types import bool_, float16, float32, float64, int32, int64, uint8
from ..creation import tensor
from ..nn import functional as F
from ..nn.module import Module
from ..nn.parameter import Parameter
from ..serialization import open_file, os_error, path_arg
from ._export import import_onnx

_DTYPES = {1: float32, 2: uint8, 6: int32, 7: int64, 9: bool_, 10: float16, 11: float64}

# ONNX inputs that pycnn takes as Python values, by op: position -> what it is (for messages)
_STATIC = {
    "Reshape": {1: "shape"},
    "Clip": {1: "min", 2: "max"},
    "Pad": {1: "pads", 2: "constant_value", 3: "axes"},
    "Dropout": {1: "ratio", 2: "training_mode"},
    "Squeeze": {1: "axes"},
    "Unsqueeze": {1: "axes"},
    "Pow": {1: "exponent"},
    "Gather": {1: "indices"},
    "Slice": {1: "starts", 2: "ends", 3: "axes", 4: "steps"},
    "ConstantOfShape": {0: "shape"},
}
# inputs that are statistics, not learned: BatchNormalization's running mean and variance
_BUFFER_INPUTS = {"BatchNormalization": {3, 4}}


def load(f):
    """Reads an ONNX model (a path, a binary file object or a ModelProto) as a trainable OnnxModule.

    The graph runs in pycnn: its float initializers are Parameters (under sanitized names: ``layer1.0.weight``
    -> ``layer1_0_weight``), BatchNormalization's mean/var are buffers. ``model.train()`` makes
    BatchNormalization use batch statistics and update its running ones (as nn.BatchNorm2d, with torch's
    momentum = 1 - ONNX's) and Dropout drop; the module starts in eval mode, ONNX's inference meaning.
    """
    if hasattr(f, "SerializeToString"):
        return OnnxModule(f)
    if hasattr(f, "read"):
        data = f.read()
    else:
        with open_file(f, "rb", "onnx.load") as file:
            data = file.read()
    if not isinstance(data, bytes):
        raise TypeError(f"[onnx.load] the file object must be opened in binary mode, read gave {type(data).__name__}")
    onnx = import_onnx("onnx.load")
    try:
        proto = onnx.load_from_string(data)
    except Exception as e:  # noqa: BLE001  (protobuf's DecodeError and friends: not an ONNX model)
        raise ValueError(f"[onnx.load] {f!r:.100} is not an ONNX model ({len(data)} bytes): {e}") from None
    if not proto.graph.node:
        raise ValueError(f"[onnx.load] {f!r:.100} holds no ONNX graph ({len(data)} bytes)")
    external = any(t.data_location == onnx.TensorProto.EXTERNAL for t in proto.graph.initializer)
    if external and not hasattr(f, "read"):
        _load_external(proto, path_arg(f, "onnx.load"), onnx)
    return OnnxModule(proto)


def _load_external(proto, path, onnx):
    """Weights saved beside the model (models over 2 GB): read from the model's folder."""
    try:
        onnx.external_data_helper.load_external_data_for_model(proto, os.path.dirname(os.path.abspath(path)))
    except OSError as e:
        raise os_error(e, "onnx.load", f"cannot read the external weights of {path}") from None
    except Exception as e:  # noqa: BLE001  (onnx's checker refuses a missing or misplaced weights file)
        raise ValueError(f"[onnx.load] cannot read the external weights of {path}: {e}") from None


def _sanitize(name, taken):
    """An attribute name for an ONNX value name: non-identifier characters become '_', made unique."""
    base = re.sub(r"\W", "_", name) or "value"
    base = "v_" + base if base[0].isdigit() else base
    out, k = base, 1
    while out in taken:
        out, k = f"{base}_{k}", k + 1
    taken.add(out)
    return out


class OnnxModule(Module):
    """An ONNX graph as a pycnn module. Build it with ``pc.onnx.load``.

    forward(*inputs) takes the graph's inputs in order (pycnn tensors) and returns its output, or a tuple
    when the graph has several.
    """

    def __init__(self, proto):
        super().__init__()
        if not hasattr(proto, "graph") or not hasattr(proto, "opset_import"):
            raise TypeError(f"[OnnxModule] expected an onnx.ModelProto (use pc.onnx.load), got {type(proto).__name__}")
        onnx = import_onnx("onnx.load")
        graph = proto.graph
        self._opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), None)
        if self._opset is None:
            raise ValueError("[onnx.load] the model imports no version of the default ONNX opset")
        arrays = {i.name: _initializer(i, onnx) for i in graph.initializer}
        self._nodes = [_parse(n, onnx) for n in graph.node]
        constants = {n["outputs"][0]: _constant_value(n) for n in self._nodes if n["op"] == "Constant"}
        arrays.update(constants)
        self._inputs = [i.name for i in graph.input if i.name not in arrays]
        self._outputs = [o.name for o in graph.output]
        self._static, self._slots, self._env = {}, {}, None
        self._register(arrays, set(constants))
        used = {i for n in self._nodes for i in n["inputs"]} | set(self._outputs)
        defined = set(self._inputs) | set(arrays)
        for n in self._nodes:
            _check_node(n, self._opset, used, defined)
            defined.update(n["outputs"])
        missing = [o for o in self._outputs if o not in defined]
        if missing:
            raise ValueError(f"[onnx.load] the graph's outputs {missing} are not computed by any node")
        self.eval()  # an ONNX graph means inference; model.train() to fine-tune

    def _register(self, arrays, constants):
        """Each initializer/Constant: a Parameter (a float initializer), a buffer (BatchNorm statistics, integer
        tensors, Constant nodes' values), or a numpy value only (read only as a shape, a bound, ...)."""
        static_only, buffer_use, taken = set(arrays), set(constants), set(dir(self))
        for n in self._nodes:
            for pos, name in enumerate(n["inputs"]):
                if name in arrays and pos not in _STATIC.get(n["op"], {}):
                    static_only.discard(name)
                if pos in _BUFFER_INPUTS.get(n["op"], ()):
                    buffer_use.add(name)
        static_only -= set(self._outputs)
        for name, array in arrays.items():
            if name in static_only:
                self._static[name] = array
                continue
            slot = _sanitize(name, taken)
            self._slots[name] = slot
            t = tensor(np.ascontiguousarray(array))
            if array.dtype.kind == "f" and name not in buffer_use:
                self.register_parameter(slot, Parameter(t))
            else:
                if array.dtype.kind != "f" or name in constants:  # also read as a shape, an index, a bound
                    self._static[name] = array
                self.register_buffer(slot, t)

    def forward(self, *inputs):
        if len(inputs) != len(self._inputs):
            raise ValueError(
                f"[onnx.load] the graph takes {len(self._inputs)} inputs {self._inputs}, got {len(inputs)}"
            )
        for name, x in zip(self._inputs, inputs):
            check_tensor(x, "OnnxModule", f"input {name!r}")
        env = {name: getattr(self, slot) for name, slot in self._slots.items()}
        env.update((name, v) for name, v in self._static.items() if name not in self._slots)
        env.update(zip(self._inputs, inputs))
        self._env = env
        for n in self._nodes:
            if n["op"] == "Constant":
                continue
            try:
                outs = self._run(n, env)
            except (ValueError, TypeError, IndexError, RuntimeError) as e:  # an op refusing its arguments
                raise type(e)(f"[OnnxModule] node {n['name']!r} ({n['op']}): {e}") from e
            outs = outs if isinstance(outs, tuple) else (outs,)
            env.update(zip(n["outputs"], outs))
        self._env = None
        result = tuple(_tensor_arg(env[o], False) for o in self._outputs)
        return result[0] if len(result) == 1 else result

    def _run(self, n, env):
        host = self._host_args(n, env)
        if host is not None:
            return np.asarray(_HOST_OPS[n["op"]](n, host))
        static = _STATIC.get(n["op"], {})
        args = [_tensor_arg(env.get(i), pos in static) for pos, i in enumerate(n["inputs"])]
        return _OPS[n["op"]](self, n, args)

    def _host_args(self, node, env):
        """The node's inputs as numpy arrays when it computes on shapes and constants (torch's exports build a
        Pad's pads or a view's shape from Shape -> Gather -> Unsqueeze -> Concat); None to run it on tensors.
        Parameters (absent from _static) never go to the host: they must stay in the autograd graph."""
        if node["op"] not in _HOST_OPS:
            return None
        if node["op"] == "Shape":
            return [env[node["inputs"][0]]]
        values = []
        for name in node["inputs"]:
            v = env.get(name)
            if not name or isinstance(v, np.ndarray):
                values.append(v)
            elif name in self._static:
                values.append(self._static[name])
            else:
                return None
        return values

    def static(self, node, pos, default=None):
        """Input ``pos`` of ``node`` as a numpy array (a constant, or computed from shapes), or default if absent."""
        names = node["inputs"]
        if pos >= len(names) or not names[pos]:
            return default
        value = (self._env or {}).get(names[pos])
        if isinstance(value, np.ndarray):
            return value
        if names[pos] not in self._static:
            what = _STATIC.get(node["op"], {}).get(pos, f"input {pos}")
            raise NotImplementedError(
                f"[onnx.load] {node['op']} (node {node['name']!r}): its {what} {names[pos]!r} is computed from "
                "tensors; only a constant or a value computed from shapes and constants is supported"
            )
        return self._static[names[pos]]

    def extra_repr(self):
        return f"inputs={self._inputs}, outputs={self._outputs}, nodes={len(self._nodes)}, opset={self._opset}"


def _initializer(t, onnx):
    if t.data_location == onnx.TensorProto.EXTERNAL:
        raise ValueError(f"[onnx.load] initializer {t.name!r} is stored in an external file: pass the model's path")
    try:
        return onnx.numpy_helper.to_array(t)
    except Exception as e:  # noqa: BLE001  (a damaged tensor: onnx raises ValueError, numpy TypeError, ...)
        raise ValueError(f"[onnx.load] initializer {t.name!r} cannot be read: {e}") from None


def _parse(node, onnx):
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    attrs = {k: v.decode() if isinstance(v, bytes) else v for k, v in attrs.items()}
    attrs = {k: onnx.numpy_helper.to_array(v) if isinstance(v, onnx.TensorProto) else v for k, v in attrs.items()}
    if node.domain not in ("", "ai.onnx"):
        raise NotImplementedError(f"[onnx.load] op {node.domain}.{node.op_type} (node {node.name!r}) is not supported")
    return {
        "op": node.op_type,
        "name": node.name,
        "inputs": list(node.input),
        "outputs": list(node.output),
        "attrs": attrs,
    }


def _constant_value(node):
    a = node["attrs"]
    if "value" in a:
        return a["value"]
    for key, dtype in (("value_float", np.float32), ("value_floats", np.float32), ("value_int", np.int64), ("value_ints", np.int64)):  # fmt: skip
        if key in a:
            return np.array(a[key], dtype)
    raise NotImplementedError(
        f"[onnx.load] Constant (node {node['name']!r}) with attributes {sorted(a)} is not supported"
    )


def _refuse(node, what):
    raise NotImplementedError(f"[onnx.load] {node['op']} (node {node['name']!r}): {what} is not supported")


def _check_node(n, opset, used, defined):
    """Load-time refusals: an unknown op, a value read before it is made, a missing input or attribute, an
    attribute value the handler would get wrong, a used extra output."""
    op, a = n["op"], n["attrs"]
    if op not in _OPS:
        raise NotImplementedError(
            f"[onnx.load] op {op!r} (node {n['name']!r}) is not supported; supported: {sorted(_OPS)}"
        )
    undefined = [i for i in n["inputs"] if i and i not in defined]
    if undefined:
        raise ValueError(f"[onnx.load] {op} (node {n['name']!r}) reads {undefined}, which nothing before it defines")
    need = _MIN_INPUTS.get(op, 0 if op == "Constant" else 1)
    if len(n["inputs"]) < need or not all(n["inputs"][:need]):
        raise ValueError(f"[onnx.load] {op} (node {n['name']!r}) needs {need} inputs, got {n['inputs']}")
    absent = [k for k in _REQUIRED_ATTRS.get(op, ()) if k not in a]
    if absent:
        raise ValueError(f"[onnx.load] {op} (node {n['name']!r}) lacks its attribute(s) {absent}")
    extra = [o for o in n["outputs"][1:] if o and o in used]
    if extra and op in ("MaxPool", "Dropout", "BatchNormalization"):
        _refuse(n, f"reading its extra outputs {extra}")
    if a.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        _refuse(n, f"auto_pad={a['auto_pad']!r}")
    kernel = a.get("kernel_shape")
    if op in ("Conv", "MaxPool", "AveragePool") and kernel is not None and len(kernel) != 2:
        _refuse(n, f"a {len(kernel)}-D kernel {list(kernel)} (2-D only)")
    if op == "LRN" and a["size"] % 2 == 0:
        _refuse(n, f"even size {a['size']} (torch's window differs from ONNX's)")
    if op == "MaxPool" and a.get("storage_order", 0):
        _refuse(n, "storage_order=1")
    if op == "AveragePool" and _asymmetric(a.get("pads")):
        _refuse(n, f"asymmetric pads {list(a['pads'])}")
    if op in ("Softmax", "LogSoftmax") and opset < 13 and a.get("axis", 1) != -1:
        _refuse(n, f"opset {opset}'s flattening axis={a.get('axis', 1)} (export with opset 13 or newer)")
    if op == "Pad" and a.get("mode", "constant") not in _PAD_MODES:
        _refuse(n, f"mode={a['mode']!r}")
    if op == "Cast" and a["to"] not in _DTYPES:
        _refuse(n, f"cast to ONNX type {a['to']}")


_MIN_INPUTS = {
    **dict.fromkeys(["Conv", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Pow", "Reshape", "Gather", "Equal"], 2),
    "Slice": 3,
    "BatchNormalization": 5,
}
_REQUIRED_ATTRS = {"MaxPool": ["kernel_shape"], "AveragePool": ["kernel_shape"], "Concat": ["axis"], "LRN": ["size"], "Cast": ["to"]}  # fmt: skip


def _asymmetric(pads):
    return pads is not None and list(pads[: len(pads) // 2]) != list(pads[len(pads) // 2 :])


def _pads(x, a, value=0.0):
    """ONNX pads [top, left, bottom, right]: (x, symmetric (ph, pw)); an asymmetric padding is applied first."""
    t, left, b, r = list(a.get("pads", [0, 0, 0, 0]))
    if (t, left) == (b, r):
        return x, (t, left)
    return F.pad(x, [left, r, t, b], value=value), (0, 0)


# ---- the ops: handler(module, node, args) -> tensor or tuple of tensors
def _conv(m, n, args):
    a = n["attrs"]
    x, pad = _pads(args[0], a)
    bias = args[2] if len(args) > 2 else None
    return F.conv2d(x, args[1], bias, a.get("strides", 1), pad, a.get("dilations", 1), a.get("group", 1))


def _gemm(m, n, args):
    a = n["attrs"]
    x, w = args[0], args[1]
    c = args[2] if len(args) > 2 else None
    alpha, beta = a.get("alpha", 1.0), a.get("beta", 1.0)
    x = x.t() if a.get("transA", 0) else x
    if alpha == 1.0 and beta == 1.0 and (c is None or c.ndim == 1):
        return F.linear(x, w if a.get("transB", 0) else w.t(), c)
    y = tops.matmul(x, w.t() if a.get("transB", 0) else w) * alpha
    return y if c is None else y + c * beta


def _max_pool(m, n, args):
    a = n["attrs"]
    x, pad = _pads(args[0], a, -math.inf)
    kernel = a["kernel_shape"]
    return F.max_pool2d(x, kernel, a.get("strides", 1), pad, a.get("dilations", 1), bool(a.get("ceil_mode", 0)))


def _avg_pool(m, n, args):
    a = n["attrs"]
    pad = tuple(a.get("pads", [0, 0, 0, 0])[:2])
    kernel, stride = a["kernel_shape"], a.get("strides", 1)
    return F.avg_pool2d(args[0], kernel, stride, pad, bool(a.get("ceil_mode", 0)), bool(a.get("count_include_pad", 0)))


def _batch_norm(m, n, args):
    x, w, b, mean, var = args[:5]
    a = n["attrs"]
    momentum = 1.0 - a.get("momentum", 0.9)  # ONNX keeps `momentum` of the old statistics, torch of the new
    return F.batch_norm(x, mean, var, w, b, m.training, momentum, a.get("epsilon", 1e-5))


def _flatten(m, n, args):
    x, axis = args[0], n["attrs"].get("axis", 1)
    axis = axis + x.ndim if axis < 0 else axis
    return x.reshape(math.prod(x.shape[:axis]), -1)


def _reshape(m, n, args):
    x, shape = args[0], [int(s) for s in m.static(n, 1)]
    if not n["attrs"].get("allowzero", 0):
        shape = [x.shape[i] if s == 0 else s for i, s in enumerate(shape)]
    return x.reshape(*shape)


def _clip(m, n, args):
    a = n["attrs"]
    lo, hi = m.static(n, 1, a.get("min")), m.static(n, 2, a.get("max"))
    if lo is None and hi is None:
        return args[0]
    return args[0].clamp(None if lo is None else float(lo), None if hi is None else float(hi))


def _softmax(fn):
    return lambda m, n, args: fn(args[0], n["attrs"].get("axis", -1 if m._opset >= 13 else 1))


def _dropout(m, n, args):
    p = float(m.static(n, 1, n["attrs"].get("ratio", 0.5)))
    return F.dropout(args[0], p, training=m.training)


def _lrn(m, n, args):
    a = n["attrs"]
    return F.local_response_norm(args[0], a["size"], a.get("alpha", 1e-4), a.get("beta", 0.75), a.get("bias", 1.0))


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "edge": "replicate"}


def _pad(m, n, args):
    x, pads = args[0], [int(p) for p in m.static(n, 1, n["attrs"].get("pads", []))]
    axes = m.static(n, 3)
    axes = list(range(x.ndim)) if axes is None else [int(d) % x.ndim for d in axes]
    begin, end = dict(zip(axes, pads[: len(axes)])), dict(zip(axes, pads[len(axes) :]))
    torch_pads = []
    for d in reversed(range(x.ndim)):  # torch's order: the last dim first
        torch_pads += [begin.get(d, 0), end.get(d, 0)]
    while len(torch_pads) > 2 and torch_pads[-2:] == [0, 0]:
        torch_pads = torch_pads[:-2]
    value = m.static(n, 2, n["attrs"].get("value"))
    mode = _PAD_MODES[n["attrs"].get("mode", "constant")]
    return F.pad(x, torch_pads, mode, None if mode != "constant" or value is None else float(value))


def _axes(m, n):
    axes = m.static(n, 1, n["attrs"].get("axes"))
    return None if axes is None else [int(d) for d in np.atleast_1d(axes)]


def _squeeze(m, n, args):
    x, axes = args[0], _axes(m, n)
    if axes is None:
        return x.squeeze()
    for d in sorted((d % x.ndim for d in axes), reverse=True):
        x = x.squeeze(d)
    return x


def _unsqueeze(m, n, args):
    x, axes = args[0], _axes(m, n)
    rank = x.ndim + len(axes)
    for d in sorted(d % rank for d in axes):
        x = x.unsqueeze(d)
    return x


def _hard_sigmoid(m, n, args):
    alpha, beta = n["attrs"].get("alpha", 0.2), n["attrs"].get("beta", 0.5)
    return (args[0] * alpha + beta).clamp(0.0, 1.0)


def _binary(fn):
    return lambda m, n, args: fn(args[0], args[1])


def _unary(fn):
    return lambda m, n, args: fn(args[0])


def _tensor_arg(value, static):
    """A numpy value (a constant, or computed from shapes) as a tensor where a tensor op reads it."""
    return tensor(np.ascontiguousarray(value)) if isinstance(value, np.ndarray) and not static else value


def _host_only(m, n, args):
    _refuse(n, "computing on tensors (only on shapes and constants, as torch's exports do)")


def _host_axes(n, args, pos=1):
    axes = args[pos] if len(args) > pos and args[pos] is not None else n["attrs"].get("axes")
    return None if axes is None else [int(d) for d in np.atleast_1d(axes)]


def _host_unsqueeze(n, a):
    rank = a[0].ndim + len(_host_axes(n, a))
    return np.expand_dims(a[0], tuple(sorted(d % rank for d in _host_axes(n, a))))


def _host_squeeze(n, a):
    axes = _host_axes(n, a)
    return np.squeeze(a[0]) if axes is None else np.squeeze(a[0], tuple(d % a[0].ndim for d in axes))


def _host_slice(n, a):
    data, starts, ends = a[0], a[1], a[2]
    axes = a[3] if len(a) > 3 and a[3] is not None else range(len(starts))
    steps = a[4] if len(a) > 4 and a[4] is not None else [1] * len(starts)
    index = [slice(None)] * data.ndim
    for axis, start, end, step in zip(axes, starts, ends, steps):
        index[int(axis) % data.ndim] = slice(int(start), int(end), int(step))
    return data[tuple(index)]


def _host_reshape(n, a):
    shape = [int(d) for d in a[1]]
    if not n["attrs"].get("allowzero", 0):
        shape = [a[0].shape[i] if d == 0 else d for i, d in enumerate(shape)]
    return a[0].reshape(shape)


def _host_div(n, a):
    if a[0].dtype.kind in "iu":  # ONNX's integer division truncates
        return np.trunc(a[0] / a[1]).astype(a[0].dtype)
    return a[0] / a[1]


def _host_constant_of_shape(n, a):
    value = n["attrs"].get("value")
    fill = np.zeros(1, np.float32) if value is None else value
    return np.full([int(d) for d in a[0]], fill.reshape(-1)[0], fill.dtype)


def _host_shape(n, a):
    shape = np.array(a[0].shape, np.int64)
    return shape[n["attrs"].get("start", 0) : n["attrs"].get("end", len(shape))]


# numpy versions of the ops torch's exports apply to shapes: (node, numpy inputs) -> numpy
_HOST_OPS = {
    "Shape": _host_shape,
    "Gather": lambda n, a: np.take(a[0], a[1], axis=n["attrs"].get("axis", 0)),
    "Unsqueeze": _host_unsqueeze,
    "Squeeze": _host_squeeze,
    "Concat": lambda n, a: np.concatenate([np.atleast_1d(v) for v in a], n["attrs"]["axis"]),
    "ConstantOfShape": _host_constant_of_shape,
    "Slice": _host_slice,
    "Reshape": _host_reshape,
    "Transpose": lambda n, a: np.transpose(a[0], n["attrs"].get("perm")),
    "Cast": lambda n, a: a[0].astype(_NUMPY_TYPES[n["attrs"]["to"]]),
    "Equal": lambda n, a: np.equal(a[0], a[1]),
    "Add": lambda n, a: a[0] + a[1],
    "Sub": lambda n, a: a[0] - a[1],
    "Mul": lambda n, a: a[0] * a[1],
    "Div": _host_div,
    "Identity": lambda n, a: a[0],
}
_NUMPY_TYPES = {1: np.float32, 2: np.uint8, 6: np.int32, 7: np.int64, 9: np.bool_, 10: np.float16, 11: np.float64}

_OPS = {
    "Conv": _conv,
    "Gemm": _gemm,
    "MatMul": _binary(tops.matmul),
    "Add": _binary(lambda a, b: a + b),
    "Sub": _binary(lambda a, b: a - b),
    "Mul": _binary(lambda a, b: a * b),
    "Div": _binary(lambda a, b: a / b),
    "Pow": lambda m, n, args: args[0].pow(float(m.static(n, 1))),
    "Relu": _unary(F.relu),
    "Sigmoid": _unary(F.sigmoid),
    "Tanh": _unary(F.tanh),
    "LeakyRelu": lambda m, n, args: F.leaky_relu(args[0], n["attrs"].get("alpha", 0.01)),
    "Elu": lambda m, n, args: F.elu(args[0], n["attrs"].get("alpha", 1.0)),
    "HardSigmoid": _hard_sigmoid,
    "HardSwish": _unary(F.hardswish),
    "Softplus": _unary(F.softplus),
    "Exp": _unary(tops.exp),
    "Log": _unary(tops.log),
    "Sqrt": _unary(tops.sqrt),
    "Abs": _unary(tops.abs),
    "Neg": _unary(lambda x: -x),
    "Reciprocal": _unary(lambda x: 1.0 / x),
    "Clip": _clip,
    "MaxPool": _max_pool,
    "AveragePool": _avg_pool,
    "GlobalAveragePool": _unary(lambda x: F.adaptive_avg_pool2d(x, 1)),
    "GlobalMaxPool": _unary(lambda x: F.adaptive_max_pool2d(x, 1)),
    "BatchNormalization": _batch_norm,
    "LRN": _lrn,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Transpose": lambda m, n, args: args[0].permute(*n["attrs"].get("perm", range(args[0].ndim - 1, -1, -1))),
    "Squeeze": _squeeze,
    "Unsqueeze": _unsqueeze,
    "Concat": lambda m, n, args: tops.cat(args, n["attrs"]["axis"]),
    "Softmax": _softmax(F.softmax),
    "LogSoftmax": _softmax(F.log_softmax),
    "Identity": _unary(lambda x: x),
    "Dropout": _dropout,
    "Pad": _pad,
    "Cast": lambda m, n, args: args[0].to(_DTYPES[n["attrs"]["to"]]),
    "Constant": None,  # evaluated at load
    "Shape": None,  # on the host (below)
    "Gather": _host_only,
    "ConstantOfShape": _host_only,
    "Slice": _host_only,
    "Equal": _host_only,
}
