"""pc.onnx.export: a traced pycnn program (docs/program-format.md) -> an ONNX ModelProto.

Read ``to_onnx`` first: it walks the program's nodes in order and hands each to one ``_op_<name>`` method of
``_Builder``, which appends ONNX nodes and initializers. Values are named by the program's ids: inputs and
outputs by their (or the caller's) names, constants by their state-dict names, the rest ``<op>.<id>``.
The onnx package is optional: it is imported by the functions that need it.
"""

import math
import os
import tempfile

import numpy as np

from ..program import Program, trace
from ..serialization import os_error, path_arg

# pycnn dtype name -> ONNX TensorProto data type (the numbers of onnx.proto, stable across versions)
_ONNX_DTYPE = {
    "float32": 1,
    "uint8": 2,
    "int32": 6,
    "int64": 7,
    "bool": 9,
    "float16": 10,
    "float64": 11,
    "bfloat16": 16,
}
MIN_OPSET = 13  # Softmax/LogSoftmax take one axis (not a flattening) and Squeeze/Reshape read inputs from 13


def import_onnx(op):
    """The onnx package, or an ImportError that says how to get it."""
    try:
        import onnx
    except ImportError:
        raise ImportError(f"[{op}] needs the onnx package: pip install onnx") from None
    return onnx


def export(model, args, f, input_names=None, output_names=None, dynamic_axes=None, opset_version=17):
    """Exports ``model`` (an nn.Module, or a Program from pycnn.program.trace) to ONNX, as torch.onnx.export.

    Args:
        model: the module to trace in eval mode on ``args``, or an already traced ``pycnn.program.Program``.
        args: a tensor or a tuple of tensors, the example inputs (unused for a Program).
        f: a path (written atomically: a temporary file renamed) or a binary file object.
        input_names, output_names: names of the graph's inputs and outputs (default: the program's).
        dynamic_axes: ``{"input": {0: "batch"}, "output": [0]}``: only axis 0 (the batch) can be dynamic.
        opset_version: the ONNX opset, 13 up to what the installed onnx knows.
    Returns the ONNX ModelProto.
    """
    dynamic = _batch_axes(dynamic_axes)
    onnx = import_onnx("onnx.export")
    _check_opset(opset_version, onnx)  # before the trace, which can take seconds
    if isinstance(model, Program):
        program = model
    else:
        args = tuple(args) if isinstance(args, (tuple, list)) else (args,)
        program = trace(model, args, input_names=input_names, output_names=output_names, dynamic_batch=bool(dynamic))
    proto = to_onnx(program, input_names, output_names, dynamic, opset_version, onnx)
    _write(proto.SerializeToString(), f)
    return proto


def _batch_axes(dynamic_axes):
    """torch's dynamic_axes -> {value name: symbolic name of its axis 0}; any other axis is refused."""
    if dynamic_axes is None:
        return {}
    if not isinstance(dynamic_axes, dict):
        raise TypeError(f"[onnx.export] dynamic_axes must be a dict, got {type(dynamic_axes).__name__}")
    out = {}
    for name, axes in dynamic_axes.items():
        if isinstance(axes, dict):
            named = dict(axes)
        elif isinstance(axes, (list, tuple)):
            named = {a: f"{name}_dynamic_axes_{i + 1}" for i, a in enumerate(axes)}
        else:
            raise TypeError(f"[onnx.export] dynamic_axes[{name!r}] must be a dict or a list, got {axes!r}")
        if set(named) != {0} or not isinstance(named[0], str):
            raise ValueError(
                f"[onnx.export] dynamic_axes[{name!r}] = {axes!r}: only axis 0 (the batch) can be dynamic, "
                "named by a str: a traced program fixes every other dim"
            )
        out[name] = named[0]
    return out


def _write(data, f):
    """data to a binary file object, or to a path atomically (a temporary in the same directory, renamed)."""
    if hasattr(f, "write"):
        try:
            f.write(data)
        except TypeError:  # a file opened in text mode
            raise TypeError(f"[onnx.export] f must be a path or a binary file object, got {f!r:.80}") from None
        return
    path = path_arg(f, "onnx.export")
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    except OSError as e:
        raise os_error(e, "onnx.export", f"cannot write {path}") from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def to_onnx(program, input_names=None, output_names=None, dynamic=None, opset_version=17, onnx=None):
    """The ModelProto of a program (graph dict + constants), shape-inferred and checked."""
    onnx = onnx or import_onnx("onnx.export")
    _check_opset(opset_version, onnx)
    graph = program.graph
    b = _Builder(graph, program.constants, opset_version, onnx)
    ins = _names(input_names, graph["inputs"], "input_names")
    outs = _names(output_names, graph["outputs"], "output_names")
    dynamic = dict(dynamic or {})
    unknown = sorted(set(dynamic) - set(ins) - set(outs))
    if unknown:
        raise ValueError(f"[onnx.export] dynamic_axes names {unknown}, which are not inputs {ins} or outputs {outs}")
    for spec, name in zip(graph["inputs"], ins):
        b.add_input(spec, name, dynamic.get(name))
    for spec, name in zip(graph["outputs"], outs):
        b.final.setdefault(spec["id"], name)  # the node that makes an output writes it under its name
    for node_index, node in enumerate(graph["nodes"]):
        b.add_node(node_index, node)
    for spec, name in zip(graph["outputs"], outs):
        b.add_output(spec["id"], name)
    return b.finish(outs, dynamic)


def _check_opset(opset, onnx):
    newest = onnx.defs.onnx_opset_version()
    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= newest:
        raise ValueError(f"[onnx.export] opset_version must be an int in [{MIN_OPSET}, {newest}], got {opset!r}")


def _names(given, specs, what):
    default = [s.get("name") or f"{what[:-6]}{i}" for i, s in enumerate(specs)]
    if given is None:
        return default
    if not isinstance(given, (list, tuple)) or not all(isinstance(n, str) and n for n in given):
        raise TypeError(f"[onnx.export] {what} must be a list of non-empty str, got {given!r}")
    if len(given) > len(specs):
        raise ValueError(f"[onnx.export] {what} has {len(given)} names for {len(specs)} values: {list(given)}")
    return list(given) + default[len(given) :]  # torch names the first ones only when given fewer


class _Builder:
    """Accumulates the ONNX graph: names of program ids, their dtypes, nodes, initializers."""

    def __init__(self, graph, constants, opset, onnx):
        self.onnx, self.opset = onnx, opset
        self.names, self.dtypes, self.ranks = {}, {}, {}
        self.nodes, self.initializers, self.inputs, self.outputs = [], [], [], []
        self.used = set()  # ids that some node or output reads: max_pool2d's indices must not be
        self.shapes = {}  # initializer name -> dims
        self.out_ids, self.where, self.final = [], "constants", {}
        for node in graph["nodes"]:
            self.used.update(i for i in node["inputs"] if i is not None)
        self.used.update(o["id"] for o in graph["outputs"])
        self._constants(graph.get("constants", []), constants)

    # ---- values
    def _constants(self, specs, tensors):
        for spec in specs:
            name = spec["tensor"]
            if name not in tensors:
                raise ValueError(f"[onnx.export] constant {spec['id']} names tensor {name!r}, which the program lacks")
            t = tensors[name]
            self.names[spec["id"]] = name
            self.dtypes[spec["id"]] = str(t.dtype).replace("pycnn.", "")
            self.ranks[spec["id"]] = t.ndim
            if spec["id"] in self.used:
                self.const(name, _to_numpy(t))

    def add_input(self, spec, name, dim_param):
        shape = list(spec["shape"])
        if dim_param is not None:
            if not spec.get("dynamic_batch"):
                raise ValueError(
                    f"[onnx.export] dynamic_axes makes input {name!r} axis 0 dynamic, but the program was traced "
                    "with a fixed batch (dynamic_batch false): its reshapes may hold the batch size"
                )
            shape[0] = dim_param
        dtype = spec["dtype"]
        self._set(spec["id"], name, dtype, len(shape))
        self.inputs.append(self.onnx.helper.make_tensor_value_info(name, _onnx_dtype(dtype), shape))

    def add_output(self, vid, name):
        if vid not in self.names:
            raise ValueError(f"[onnx.export] output id {vid} is not defined by the program")
        if self.names[vid] != name:  # an input, a constant or a value read twice: an Identity gives it its name
            self._node("Identity", [self.names[vid]], [name])
        self.outputs.append(name)
        self.out_ids.append(vid)

    def _set(self, vid, name, dtype, rank):
        if vid in self.names:
            raise ValueError(f"[onnx.export] value id {vid} is defined twice")
        self.names[vid], self.dtypes[vid], self.ranks[vid] = name, dtype, rank

    def const(self, name, array):
        """An initializer made by the exporter (a Reshape's shape, a Clip bound, ...); returns its name."""
        array = np.asarray(array)
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        self.shapes[name] = list(array.shape)
        return name

    def _node(self, op_type, inputs, outputs, **attrs):
        self.nodes.append(self.onnx.helper.make_node(op_type, inputs, outputs, name=outputs[0], **attrs))
        return outputs[0]

    # ---- nodes
    def add_node(self, index, node):
        op = node.get("op")
        handler = getattr(self, f"_op_{op}", None) if isinstance(op, str) else None
        if handler is None:
            supported = sorted(m[4:] for m in dir(self) if m.startswith("_op_"))
            raise NotImplementedError(
                f"[onnx.export] op {op!r} (node {index}) has no ONNX translation; supported: {supported}"
            )
        ins = node["inputs"]
        for i in ins:
            if i is not None and i not in self.names:
                raise ValueError(f"[onnx.export] node {index} ({op}) reads value {i}, which is not defined before it")
        self.where = f"node {index} ({op})"
        outs = [self.final.get(o, f"{op}.{o}") for o in node["outputs"]]
        rank = self.ranks[ins[0]] if ins and ins[0] is not None else 0
        dtype = self.dtypes[ins[0]] if ins and ins[0] is not None else "float32"
        for vid, name in zip(node["outputs"], outs):
            self._set(vid, name, dtype, rank)
        try:
            handler([None if i is None else self.names[i] for i in ins], outs, node.get("attrs", {}), node)
        except (KeyError, TypeError, ValueError) as e:
            if str(e).startswith("[onnx.export]"):
                raise
            raise ValueError(f"[onnx.export] {self.where}: a missing or malformed attribute or input ({e!r})") from None

    def _refuse(self, what):
        raise NotImplementedError(f"[onnx.export] {self.where}: {what} has no ONNX translation")

    def _op_conv2d(self, ins, outs, a, node):
        (ph, pw), w = a["padding"], self._constant_shape(node["inputs"][1])
        kernel = {"kernel_shape": list(w[2:])} if w else {}
        args = [n for n in ins if n is not None]
        self._node(
            "Conv", args, outs, strides=list(a["stride"]), pads=[ph, pw, ph, pw], dilations=list(a["dilation"]),
            group=int(a["groups"]), **kernel,
        )  # fmt: skip

    def _constant_shape(self, vid):
        return self.shapes.get(self.names.get(vid))

    def _op_linear(self, ins, outs, a, node):
        if self.ranks[node["inputs"][0]] != 2:
            self._refuse(f"linear of a rank-{self.ranks[node['inputs'][0]]} input (Gemm takes 2-D)")
        self._node("Gemm", [n for n in ins if n is not None], outs, transB=1)

    def _op_batch_norm(self, ins, outs, a, node):
        x, w, b, rm, rv = (ins + [None] * 5)[:5]
        if a.get("training") or rm is None or rv is None:
            self._refuse("batch_norm with batch statistics (training, or no running stats)")
        channels = self._constant_shape(node["inputs"][3])
        if channels is None:
            self._refuse("batch_norm whose running_mean is not a constant")
        dtype = _numpy_dtype(self.dtypes[node["inputs"][0]])
        w = w or self.const(outs[0] + ".weight", np.ones(channels, dtype))
        b = b or self.const(outs[0] + ".bias", np.zeros(channels, dtype))
        self._node("BatchNormalization", [x, w, b, rm, rv], outs, epsilon=float(a["eps"]))

    def _op_relu(self, ins, outs, a, node):
        self._node("Relu", ins, outs)

    def _op_unary(self, ins, outs, a, node):
        op, alpha, beta = a["op"], float(a.get("alpha", 0.0)), float(a.get("beta", 0.0))
        x, y, dtype = ins[0], outs[0], _numpy_dtype(self.dtypes[node["inputs"][0]])
        if op in _UNARY_SIMPLE:
            self._node(_UNARY_SIMPLE[op], [x], [y])
        elif op in ("relu6", "clamp"):
            lo, hi = (0.0, 6.0) if op == "relu6" else (alpha, beta)
            bounds = [self.const(f"{y}.min", np.array(lo, dtype)) if lo != -math.inf else "",
                      self.const(f"{y}.max", np.array(hi, dtype)) if hi != math.inf else ""]  # fmt: skip
            self._node("Clip", [x] + bounds, [y])
        elif op in ("leaky_relu", "elu"):
            self._node("LeakyRelu" if op == "leaky_relu" else "Elu", [x], [y], alpha=alpha)
        elif op == "hardsigmoid":
            self._node("HardSigmoid", [x], [y], alpha=1.0 / 6.0, beta=0.5)
        elif op == "hardswish":
            if self.opset < 14:
                self._refuse(f"hardswish at opset {self.opset} (HardSwish is opset 14)")
            self._node("HardSwish", [x], [y])
        elif op == "softplus" and beta >= 20.0:  # past torch's threshold the two differ by log1p(e^-20) ~ 2e-9
            scaled = self._node("Mul", [x, self.const(y + ".beta", np.array(alpha, dtype))], [y + ".bx"])
            soft = self._node("Softplus", [scaled], [y + ".sp"])
            self._node("Div", [soft, self.const(y + ".divisor", np.array(alpha, dtype))], [y])
        elif op == "silu":
            self._node("Mul", [x, self._node("Sigmoid", [x], [y + ".sigmoid"])], [y])
        elif op == "square":
            self._node("Mul", [x, x], [y])
        elif op == "rsqrt":
            self._node("Reciprocal", [self._node("Sqrt", [x], [y + ".sqrt"])], [y])
        elif op == "pow":
            self._node("Pow", [x, self.const(y + ".exponent", np.array(alpha, dtype))], [y])
        elif op == "gelu":
            self._gelu(x, y, dtype)
        else:
            self._refuse(f"unary op {op!r}")

    def _gelu(self, x, y, dtype):
        """x * (1 + erf(x / sqrt 2)) / 2: ONNX has Gelu only from opset 20."""
        scaled = self._node("Mul", [x, self.const(y + ".rsqrt2", np.array(math.sqrt(0.5), dtype))], [y + ".s"])
        erf1 = self._node("Add", [self._node("Erf", [scaled], [y + ".erf"]), self.const(y + ".one", np.array(1, dtype))], [y + ".e1"])  # fmt: skip
        half = self._node("Mul", [x, self.const(y + ".half", np.array(0.5, dtype))], [y + ".h"])
        self._node("Mul", [half, erf1], [y])

    def _op_binary(self, ins, outs, a, node):
        ops = {"add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div"}
        if a.get("op") not in ops:
            self._refuse(f"binary op {a.get('op')!r}")
        self.ranks[node["outputs"][0]] = max(self.ranks[i] for i in node["inputs"])
        self._node(ops[a["op"]], ins, outs)

    def _op_max_pool2d(self, ins, outs, a, node):
        if len(node["outputs"]) > 1 and node["outputs"][1] in self.used:
            self._refuse("max_pool2d whose indices are used")
        self.dtypes[node["outputs"][-1]] = "int64"
        (ph, pw) = a["padding"]
        self._node(
            "MaxPool", ins, outs[:1], kernel_shape=list(a["kernel"]), strides=list(a["stride"]),
            pads=[ph, pw, ph, pw], dilations=list(a["dilation"]), ceil_mode=int(bool(a["ceil_mode"])),
        )  # fmt: skip

    def _op_avg_pool2d(self, ins, outs, a, node):
        if a.get("divisor_override") not in (None, 0):
            self._refuse(f"avg_pool2d with divisor_override={a['divisor_override']}")
        (ph, pw) = a["padding"]
        self._node(
            "AveragePool", ins, outs, kernel_shape=list(a["kernel"]), strides=list(a["stride"]),
            pads=[ph, pw, ph, pw], ceil_mode=int(bool(a["ceil_mode"])),
            count_include_pad=int(bool(a["count_include_pad"])),
        )  # fmt: skip

    def _op_adaptive_avg_pool2d(self, ins, outs, a, node):
        oh, ow = a["output_size"]
        if (oh, ow) == (1, 1):
            self._node("GlobalAveragePool", ins, outs)
            return
        h, w = self._spatial(ins[0])
        if h % oh == 0 and w % ow == 0:
            kernel = [h // oh, w // ow]
            self._node("AveragePool", ins, outs, kernel_shape=kernel, strides=kernel)
            return
        # Overlapping or growing bins: the pooling is separable, y = P_h @ x @ P_w^T with P's rows the bins'
        # averaging weights, two MatMuls with constant matrices.
        dtype = _numpy_dtype(self.dtypes[node["inputs"][0]])
        rows = self._node("MatMul", [self.const(outs[0] + ".rows", _bins(h, oh, dtype)), ins[0]], [outs[0] + ".h"])
        self._node("MatMul", [rows, self.const(outs[0] + ".cols", _bins(w, ow, dtype).T.copy())], outs)

    def _spatial(self, name):
        """The static (H, W) of a value, from ONNX shape inference on the graph built so far."""
        dims = _dims(self._infer([name]).get(name))
        if len(dims) == 4 and all(d.HasField("dim_value") for d in dims[2:]):
            return dims[2].dim_value, dims[3].dim_value
        self._refuse(f"a pool over {name!r}, whose spatial size shape inference cannot tell,")

    def _infer(self, outputs):
        """Shape inference -> {value name: ValueInfoProto}, on the light graph (below)."""
        inputs = {i.name for i in self.inputs}
        bare = [self.onnx.helper.make_empty_tensor_value_info(n) for n in outputs if n not in inputs]
        inferred = self.onnx.shape_inference.infer_shapes(self._model(bare, [], light=True), strict_mode=True)
        found = list(inferred.graph.input) + list(inferred.graph.value_info) + list(inferred.graph.output)
        return {v.name: v for v in found}

    def _op_local_response_norm(self, ins, outs, a, node):
        size = int(a["size"])
        if size % 2 == 0:  # torch's even window is [c - size/2, c + size/2 - 1], ONNX's one channel later
            self._refuse(f"local_response_norm of even size {size}")
        self._node("LRN", ins, outs, size=size, alpha=float(a["alpha"]), beta=float(a["beta"]), bias=float(a["k"]))

    def _op_cat(self, ins, outs, a, node):
        self._node("Concat", ins, outs, axis=int(a["dim"]))

    def _op_reshape(self, ins, outs, a, node):
        shape = [int(s) for s in a["shape"]]
        if 0 in shape[1:]:
            self._refuse(f"reshape to {shape} (a 0 past dim 0)")
        self.ranks[node["outputs"][0]] = len(shape)
        self._node("Reshape", [ins[0], self.const(outs[0] + ".shape", np.array(shape, np.int64))], outs)

    def _op_softmax(self, ins, outs, a, node):
        self._node("Softmax", ins, outs, axis=int(a["dim"]))

    def _op_log_softmax(self, ins, outs, a, node):
        self._node("LogSoftmax", ins, outs, axis=int(a["dim"]))

    def _op_cast(self, ins, outs, a, node):
        dtype = str(a["dtype"]).replace("pycnn.", "")
        self.dtypes[node["outputs"][0]] = dtype
        self._node("Cast", ins, outs, to=_onnx_dtype(dtype))

    # ---- ops past the zoo's
    def _op_sum(self, ins, outs, a, node):
        rank = self.ranks[node["inputs"][0]]
        dims = sorted({int(d) % rank for d in a["dims"]}) if rank else []
        dims = dims or list(range(rank))  # no dims: all of them
        keep = bool(a["keepdim"])
        self.ranks[node["outputs"][0]] = rank if keep else rank - len(dims)
        axes = self.const(outs[0] + ".axes", np.array(dims, np.int64))
        self._node("ReduceSum", [ins[0], axes], outs, keepdims=int(keep))

    def _op_permute(self, ins, outs, a, node):
        rank = self.ranks[node["inputs"][0]]
        self._node("Transpose", ins, outs, perm=[int(d) % rank for d in a["dims"]])

    def _op_clone(self, ins, outs, a, node):
        self._node("Identity", ins, outs)

    def _op_matmul(self, ins, outs, a, node):
        self._node("MatMul", ins, outs)

    def _op_prelu(self, ins, outs, a, node):
        # pycnn's weight (C,) runs along dim 1; ONNX's slope broadcasts from the right, so (C, 1, ..., 1)
        rank, slope = self.ranks[node["inputs"][0]], ins[1]
        if rank > 2:
            shape = self.const(outs[0] + ".slope_shape", np.array([-1] + [1] * (rank - 2), np.int64))
            slope = self._node("Reshape", [slope, shape], [outs[0] + ".slope"])
        self._node("PRelu", [ins[0], slope], outs)

    def _op_conv_transpose2d(self, ins, outs, a, node):
        (ph, pw), w = a["padding"], self._constant_shape(node["inputs"][1])
        kernel = {"kernel_shape": list(w[2:])} if w else {}
        self._node(
            "ConvTranspose", [n for n in ins if n is not None], outs, strides=list(a["stride"]),
            pads=[ph, pw, ph, pw], dilations=list(a["dilation"]), group=int(a["groups"]),
            output_padding=list(a["output_padding"]), **kernel,
        )  # fmt: skip

    def _op_adaptive_max_pool2d(self, ins, outs, a, node):
        if len(node["outputs"]) > 1 and node["outputs"][1] in self.used:
            self._refuse("adaptive_max_pool2d whose indices are used")
        self.dtypes[node["outputs"][-1]] = "int64"
        oh, ow = a["output_size"]
        if (oh, ow) == (1, 1):
            self._node("GlobalMaxPool", ins, outs[:1])
            return
        h, w = self._spatial(ins[0])
        if h % oh or w % ow:
            self._refuse(f"adaptive_max_pool2d from {h}x{w} to {oh}x{ow} (bins of different sizes)")
        kernel = [h // oh, w // ow]
        self._node("MaxPool", ins, outs[:1], kernel_shape=kernel, strides=kernel)

    # pycnn's interpolate mode -> ONNX Resize's mode, coordinate transformation, nearest rounding
    _RESIZE = {
        "nearest": ("nearest", "asymmetric", "floor"),
        "nearest-exact": ("nearest", "half_pixel", "round_prefer_ceil"),
        "bilinear": ("linear", "pytorch_half_pixel", "floor"),
    }

    def _op_interpolate(self, ins, outs, a, node):
        if a["mode"] not in self._RESIZE or self.ranks[node["inputs"][0]] != 4:
            self._refuse(f"interpolate of mode {a['mode']!r} on a rank-{self.ranks[node['inputs'][0]]} input")
        mode, transform, rounding = self._RESIZE[a["mode"]]
        align, (sh, sw), y = bool(a["align_corners"]), a["scales"], outs[0]
        if align:
            transform = "align_corners"
        if sh and sw and not align:  # the user's scale factors: torch maps back with them, as Resize's scales do
            scales, sizes = self.const(y + ".scales", np.array([1, 1, sh, sw], np.float32)), ""
        else:  # (N, C) of the input (the batch may be dynamic), then the output size
            shape = self._node("Shape", [ins[0]], [y + ".shape"])
            ends = [self.const(y + ".from", np.array([0], np.int64)), self.const(y + ".to", np.array([2], np.int64))]
            nc = self._node("Slice", [shape, *ends], [y + ".nc"])
            size = self.const(y + ".hw", np.array(a["size"], np.int64))
            scales, sizes = "", self._node("Concat", [nc, size], [y + ".sizes"], axis=0)
        self._node(
            "Resize", [ins[0], "", scales, sizes], outs, mode=mode, coordinate_transformation_mode=transform,
            nearest_mode=rounding,
        )  # fmt: skip

    def _op_pad(self, ins, outs, a, node):
        modes = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}
        pads, rank = [int(p) for p in a["pads"]], self.ranks[node["inputs"][0]]
        if a["mode"] not in modes or min(pads, default=0) < 0:
            self._refuse(f"pad of mode {a['mode']!r} with pads {pads}")
        begins, ends = [0] * rank, [0] * rank
        for i in range(len(pads) // 2):  # torch's order: the last dim first, (before, after) each
            begins[rank - 1 - i], ends[rank - 1 - i] = pads[2 * i], pads[2 * i + 1]
        inputs = [ins[0], self.const(outs[0] + ".pads", np.array(begins + ends, np.int64))]
        if a["mode"] == "constant":
            dtype = _numpy_dtype(self.dtypes[node["inputs"][0]])
            inputs.append(self.const(outs[0] + ".value", np.array(a["value"], dtype)))
        self._node("Pad", inputs, outs, mode=modes[a["mode"]])

    def _op_layer_norm(self, ins, outs, a, node):
        x, w, b = (ins + [None] * 3)[:3]
        if self.opset < 17 or w is None:
            self._refuse(f"layer_norm {'without weight' if w is None else f'at opset {self.opset}'} (LayerNormalization is opset 17, with a scale)")  # fmt: skip
        if b is None:
            dtype = _numpy_dtype(self.dtypes[node["inputs"][0]])
            b = self.const(outs[0] + ".bias", np.zeros(self._constant_shape(node["inputs"][1]), dtype))
        self._node("LayerNormalization", [x, w, b], outs, axis=-int(a["normalized_ndim"]), epsilon=float(a["eps"]))

    def _op_group_norm(self, ins, outs, a, node):
        self._refuse("group_norm (ONNX's GroupNormalization scales per group before opset 21, torch per channel)")

    def _op_pixel_shuffle(self, ins, outs, a, node):
        if self.ranks[node["inputs"][0]] != 4:
            self._refuse(f"pixel_shuffle of a rank-{self.ranks[node['inputs'][0]]} input")
        self._node("DepthToSpace", ins, outs, blocksize=int(a["r"]), mode="CRD")

    # ---- the model
    def _model(self, outputs, value_info, light=False):
        """The ModelProto. light: weights enter as typed inputs, not data: shape inference and the checker only
        need their shapes, and copying hundreds of MB into a throwaway model would dominate the export."""
        helper, inputs, inits = self.onnx.helper, list(self.inputs), self.initializers
        if light:
            big = {name for name, dims in self.shapes.items() if math.prod(dims) > 64}  # shapes and scalars stay
            inits = [i for i in self.initializers if i.name not in big]
            inputs += [
                helper.make_tensor_value_info(i.name, i.data_type, list(i.dims))
                for i in self.initializers
                if i.name in big
            ]
        graph = helper.make_graph(self.nodes, "pycnn", inputs, outputs, inits, value_info=value_info)
        opsets = [helper.make_opsetid("", self.opset)]
        ir = helper.find_min_ir_version_for(opsets)  # the oldest IR that holds the opset: older runtimes read it
        return helper.make_model(graph, opset_imports=opsets, ir_version=ir, producer_name="pycnn")

    def finish(self, out_names, dynamic):
        """Output types from shape inference (dim 0 symbolic where dynamic_axes asks), checked, then the model."""
        onnx = self.onnx
        shapes = self._infer(self.outputs)
        outputs = []
        for vid, name in zip(self.out_ids, out_names):
            dims = [d.dim_value if d.HasField("dim_value") else d.dim_param for d in _dims(shapes.get(name))]
            if name in dynamic:
                if not dims:
                    raise ValueError(f"[onnx.export] dynamic_axes names output {name!r}, which has no axis 0")
                dims[0] = dynamic[name]
            outputs.append(onnx.helper.make_tensor_value_info(name, _onnx_dtype(self.dtypes[vid]), dims))
        known = set(out_names) | {i.name for i in self.inputs} | set(self.shapes)
        value_info = [v for name, v in shapes.items() if name not in known]
        onnx.checker.check_model(self._model(outputs, value_info, light=True), full_check=True)
        return self._model(outputs, value_info)


def _bins(size, out, dtype):
    """(out, size): row i averages adaptive pooling's bin i, [floor(i size / out), ceil((i + 1) size / out))."""
    p = np.zeros((out, size), dtype)
    for i in range(out):
        lo, hi = (i * size) // out, -((-(i + 1) * size) // out)
        p[i, lo:hi] = 1.0 / (hi - lo)
    return p


def _dims(value_info):
    if value_info is None or not value_info.type.tensor_type.HasField("shape"):
        return []
    return list(value_info.type.tensor_type.shape.dim)


# unary ops that are one ONNX op of the same meaning, with no attribute
_UNARY_SIMPLE = {
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "selu": "Selu",  # ONNX's default alpha and gamma are torch's constants
    "exp": "Exp",
    "log": "Log",
    "sqrt": "Sqrt",
    "abs": "Abs",
    "neg": "Neg",
    "floor": "Floor",
    "ceil": "Ceil",
    "round": "Round",  # both round half to even
    "sign": "Sign",
    "reciprocal": "Reciprocal",
}


def _onnx_dtype(name):
    if name not in _ONNX_DTYPE:
        raise NotImplementedError(f"[onnx.export] dtype {name!r} has no ONNX type; supported: {sorted(_ONNX_DTYPE)}")
    return _ONNX_DTYPE[name]


def _numpy_dtype(name):
    return np.dtype({"float16": "float16", "float64": "float64"}.get(name, "float32"))


def _to_numpy(t):
    if str(t.dtype).endswith("bfloat16"):
        raise NotImplementedError("[onnx.export] bfloat16 constants are not exported: cast the model to float32")
    return np.ascontiguousarray(t.detach().cpu().numpy())
