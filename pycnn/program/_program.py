"""A recorded program: its graph, its constants, running it in Python, and its file (docs/program-format.md)."""

import json

from .. import serialization
from ..autograd import TensorBase, no_grad
from ._ops import FUNCTIONS, OPS, SUPPORTED, VAR, signature

FORMAT, VERSION = "pycnn.program", "1"


class Program:
    """A model's forward as a fixed sequence of pycnn ops (``pycnn.program.trace`` records one,
    ``pycnn.program.load`` reads one). Calling it runs the ops in Python, through the same kernels as the
    model, so its outputs equal the model's bitwise; ``save`` writes the file that ``pycnn::Program`` runs
    from C++. ``constants`` are the model's own tensors (not copies) until the program is saved or loaded."""

    def __init__(self, graph, constants):
        self.graph = graph
        self.constants = dict(constants)
        self._last_use = _last_uses(graph)

    @property
    def input_names(self):
        return [i["name"] for i in self.graph["inputs"]]

    @property
    def output_names(self):
        return [o["name"] for o in self.graph["outputs"]]

    def __repr__(self):
        ops = sorted({n["op"] for n in self.graph["nodes"]})
        return f"Program(inputs={self.input_names}, outputs={self.output_names}, {len(self.graph['nodes'])} ops: {ops})"

    def __call__(self, *inputs):
        values = {spec["id"]: _check_input(spec, x) for spec, x in zip(self.graph["inputs"], inputs)}
        if len(inputs) != len(self.graph["inputs"]):
            raise TypeError(f"[Program] takes {len(self.graph['inputs'])} inputs, got {len(inputs)}")
        for c in self.graph["constants"]:
            values[c["id"]] = self.constants[c["tensor"]]
        keep = {o["id"] for o in self.graph["outputs"]}
        with no_grad():
            for i, node in enumerate(self.graph["nodes"]):
                fn = FUNCTIONS[node["op"]]
                out = fn.apply(*_arguments(fn, node, values))
                values.update(zip(node["outputs"], out if isinstance(out, tuple) else (out,)))
                for vid in node["inputs"]:
                    if self._last_use.get(vid) == i and vid not in keep:
                        values.pop(vid, None)  # frees intermediates as a forward does
        outs = tuple(values[o["id"]] for o in self.graph["outputs"])
        return outs[0] if len(outs) == 1 else outs

    def to(self, device):
        """Moves the constants to ``device`` (in place, as Module.to); returns the program."""
        self.constants = {name: t.to(device) for name, t in self.constants.items()}
        return self

    def save(self, path):
        """Writes the program file (safetensors: the constants, and the graph in the metadata), atomically."""
        metadata = {"format": FORMAT, "version": VERSION, "program": json.dumps(self.graph, separators=(",", ":"))}
        serialization.save(self.constants, path, metadata=metadata)


def load(path):
    """Reads a program file written by ``pycnn.export`` / ``Program.save``, checking it as pycnn::Program does."""
    metadata = serialization.load_metadata(path)
    if metadata.get("format") != FORMAT:
        raise ValueError(f"[program.load] {path} is not a pycnn program (its metadata has no format '{FORMAT}')")
    if metadata.get("version") != VERSION:
        raise ValueError(
            f"[program.load] {path} is a version {metadata.get('version')!r} program; this pycnn reads version {VERSION}"
        )
    try:
        graph = json.loads(metadata.get("program", ""))
    except json.JSONDecodeError as e:
        raise ValueError(f"[program.load] {path}: the program is not valid JSON ({e})") from None
    constants = serialization.load(path)
    _validate(graph, constants, path)
    return Program(graph, constants)


def _check_input(spec, x):
    if not isinstance(x, TensorBase):
        raise TypeError(f"[Program] input {spec['name']} must be a tensor, got {type(x).__name__}")
    want, got = spec["shape"], list(x.shape)
    fits = len(got) == len(want) and all(
        g == w or (d == 0 and spec["dynamic_batch"]) for d, (g, w) in enumerate(zip(got, want))
    )
    if not fits or x.dtype.name != spec["dtype"]:
        raise ValueError(
            f"[Program] input {spec['name']} must be a {spec['dtype']} tensor of shape {tuple(want)}"
            f"{' (any batch size)' if spec['dynamic_batch'] else ''}, got {x.dtype.name} {tuple(got)}"
        )
    return x


def _arguments(fn, node, values):
    """fn.apply's arguments for a node: its input values and its attrs, in forward's parameter order."""
    tensor_params = OPS[fn][1]
    inputs = iter(node["inputs"])
    args = []
    for name, p in signature(fn).parameters.items():
        if name not in tensor_params:
            v = node["attrs"][name]
            args.append(tuple(v) if isinstance(v, list) else v)
        elif p.kind is VAR:
            args.extend(values[i] for i in inputs)
        else:
            i = next(inputs)
            args.append(None if i is None else values[i])
    if node["op"] == "reshape" and args[1] and args[1][0] == 0:
        args[1] = (args[0].shape[0], *args[1][1:])  # a leading 0 is the input's batch
    return args


def _last_uses(graph):
    last = {}
    for i, node in enumerate(graph["nodes"]):
        for vid in node["inputs"]:
            last[vid] = i
    return last


def _validate(graph, constants, path):
    """The structure pycnn::Program checks too: every id defined once before use, known ops, their attrs."""

    def bad(why):
        return ValueError(f"[program.load] {path}: {why}")

    if not isinstance(graph, dict) or not all(
        isinstance(graph.get(k), list) for k in ("inputs", "outputs", "constants", "nodes")
    ):
        raise bad("the program needs the lists inputs, outputs, constants and nodes")
    defined = set()

    def define(vid, what):
        if not isinstance(vid, int) or isinstance(vid, bool) or vid in defined:
            raise bad(f"{what} defines value id {vid!r}, which is not a new integer id")
        defined.add(vid)

    for spec in graph["inputs"]:
        if not isinstance(spec, dict) or not {"id", "name", "dtype", "shape", "dynamic_batch"} <= spec.keys():
            raise bad(f"input {spec!r} needs id, name, dtype, shape and dynamic_batch")
        define(spec["id"], f"input {spec['name']}")
    for c in graph["constants"]:
        if not isinstance(c, dict) or c.get("tensor") not in constants:
            raise bad(f"constant {c!r} names no tensor of the file")
        define(c.get("id"), f"constant {c['tensor']}")
    for i, node in enumerate(graph["nodes"]):
        _validate_node(i, node, defined, bad)
        for vid in node["outputs"]:
            define(vid, f"node {i} ({node['op']})")
    for o in graph["outputs"]:
        if not isinstance(o, dict) or o.get("id") not in defined:
            raise bad(f"output {o!r} is not a defined value")


def _validate_node(i, node, defined, bad):
    if not isinstance(node, dict) or node.get("op") not in FUNCTIONS:
        op = node.get("op") if isinstance(node, dict) else node
        raise bad(f"node {i}: unknown op {op!r} (known: {SUPPORTED})")
    fn = FUNCTIONS[node["op"]]
    if not isinstance(node.get("inputs"), list) or not isinstance(node.get("outputs"), list):
        raise bad(f"node {i} ({node['op']}) needs lists inputs and outputs")
    for vid in node["inputs"]:
        if vid is not None and vid not in defined:
            raise bad(f"node {i} ({node['op']}) reads value {vid!r} before it is defined")
    attrs = node.get("attrs")
    tensor_params = OPS[fn][1]
    missing = [n for n in signature(fn).parameters if n not in tensor_params and n not in (attrs or {})]
    if not isinstance(attrs, dict) or missing:
        raise bad(f"node {i} ({node['op']}) lacks the attributes {missing}")
    fixed = [n for n, p in signature(fn).parameters.items() if n in tensor_params and p.kind is not VAR]
    if len(fixed) != len(tensor_params) and len(node["inputs"]) < 1:
        raise bad(f"node {i} ({node['op']}) needs at least one input")
    if len(fixed) == len(tensor_params) and len(node["inputs"]) != len(fixed):
        raise bad(f"node {i} ({node['op']}) has {len(node['inputs'])} inputs, needs {len(fixed)}")
