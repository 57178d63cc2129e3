"""Recording a forward pass into a program (docs/program-format.md).

While a trace runs, ``pycnn.autograd`` reports to the recorder every op a Function ran (``record``), every
in-place write (``rebind``) and every attempt to read a tensor's values into Python (``refuse_value``). Tensors
are known by the identity of their core tensor; the recorder keeps each one alive so that no identity is reused.
"""

import itertools
import math
import threading

from .. import _C, autograd
from ..autograd import TensorBase, no_grad
from ._ops import OPS, SUPPORTED, VAR, signature


class _Recorder:
    def __init__(self, names, dynamic_batch):
        self.names = names  # id(core tensor) -> the model's name for it (a parameter or buffer)
        self.dynamic_batch = dynamic_batch
        self.thread = threading.get_ident()  # ops other threads run meanwhile are not the model's
        self.ids, self.versions = {}, {}  # id(core tensor) -> value id, and its version when it got it
        self.from_input = set()  # value ids computed from an input
        self.alive = []
        self.inputs, self.constants, self.nodes = [], [], []
        self.tensors = {}  # constant name -> core tensor

    def _define(self, impl):
        vid = len(self.alive)
        self.alive.append(impl)
        self.ids[id(impl)] = vid
        self.versions[id(impl)] = impl._version
        return vid

    def add_input(self, t, name):
        vid = self._define(t._impl)
        self.from_input.add(vid)
        shape = list(t.shape)
        self.inputs.append(
            {"id": vid, "name": name, "dtype": t._impl.dtype, "shape": shape, "dynamic_batch": self.dynamic_batch}
        )

    def value(self, impl, op):
        """The value id of a core tensor an op reads; one the trace has not seen is a constant."""
        vid = self.ids.get(id(impl))
        if vid is None:
            return self._constant(impl)
        if impl._version != self.versions[id(impl)]:
            raise RuntimeError(
                f"[export] an input of {op} was changed in place by an operation the trace cannot record "
                "(only the in-place forms of pycnn's ops, such as relu_ or +=, are recorded)"
            )
        return vid

    def _constant(self, impl):
        name = self.names.get(id(impl))
        if name is None or name in self.tensors:
            name = next(
                f"constant.{i}" for i in itertools.count(len(self.tensors)) if f"constant.{i}" not in self.tensors
            )
        vid = self._define(impl)
        self.constants.append({"id": vid, "tensor": name})
        self.tensors[name] = impl
        return vid

    def record(self, fn, args, kwargs, out):
        if threading.get_ident() != self.thread:
            return
        spec = OPS.get(fn)
        if spec is None:
            raise NotImplementedError(
                f"[export] op {fn.__name__.removesuffix('Fn')} is not supported by pycnn programs "
                f"(supported: {SUPPORTED})"
            )
        op, tensor_params = spec
        bound = signature(fn).bind(*args, **kwargs)
        bound.apply_defaults()
        inputs, attrs = [], {}
        for name, v in bound.arguments.items():
            if name not in tensor_params:
                attrs[name] = _attr(v, op, name)
            elif signature(fn).parameters[name].kind is VAR:
                inputs.extend(self.value(_impl(t, op, name), op) for t in v)
            else:
                inputs.append(None if v is None else self.value(_impl(v, op, name), op))
        outputs = [self._define(o) for o in (out if isinstance(out, tuple) else (out,))]
        if any(i in self.from_input for i in inputs if i is not None):
            self.from_input.update(outputs)
            if op == "reshape" and self.dynamic_batch:
                _keep_batch(attrs, _impl(bound.arguments["x"], op, "x").shape)
        self.nodes.append({"op": op, "inputs": inputs, "outputs": outputs, "attrs": attrs})

    def rebind(self, x_impl, out_impl):
        """x was overwritten in place with out's values: from now on x is out's value."""
        if threading.get_ident() != self.thread:
            return
        vid = self.value(out_impl, "an in-place op")
        self.alive.append(x_impl)
        self.ids[id(x_impl)] = vid
        self.versions[id(x_impl)] = x_impl._version

    def refuse_value(self, t, what):
        if threading.get_ident() == self.thread and self.ids.get(id(t._impl)) in self.from_input:
            raise RuntimeError(
                f"[export] {what} of a tensor computed from the input: a program records tensor ops only, so the "
                "forward must not turn such a tensor into a Python value or branch on its data"
            )

    def graph(self, outputs, output_names):
        outs = [{"id": self.value(o._impl, "the output"), "name": n} for o, n in zip(outputs, output_names)]
        return {"inputs": self.inputs, "outputs": outs, "constants": self.constants, "nodes": self.nodes}


def _impl(v, op, name):
    if isinstance(v, TensorBase):
        return v._impl
    if isinstance(v, _C.Tensor):
        return v
    raise TypeError(f"[export] {op}'s {name} is a {type(v).__name__}, not a tensor")


def _keep_batch(attrs, in_shape):
    """A reshape that keeps the batch writes dim 0 as 0 (the input's dim 0), so the program takes any batch."""
    shape = list(attrs["shape"])
    if shape and len(in_shape) and shape[0] == in_shape[0]:
        attrs["shape"] = [0, *shape[1:]]


def _attr(v, op, name):
    """v as a JSON value."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int) or type(v).__name__.startswith(("int", "uint")):
        return int(v)
    if isinstance(v, float) or type(v).__name__.startswith("float"):
        if not math.isfinite(v):
            raise ValueError(f"[export] attribute {name} of {op} is {v}, which a program cannot hold")
        return float(v)
    if isinstance(v, (tuple, list)):
        return [_attr(x, op, name) for x in v]
    raise TypeError(f"[export] attribute {name} of {op} is a {type(v).__name__}, which a program cannot hold")


def record(model, inputs, input_names, output_names, dynamic_batch):
    """Runs model(*inputs) in eval mode under no_grad and returns (graph, constants as core tensors)."""
    named = []
    if hasattr(model, "named_parameters"):
        named = itertools.chain(model.named_parameters(), model.named_buffers())
    recorder = _Recorder({id(t._impl): name for name, t in named}, dynamic_batch)
    for t, name in zip(inputs, input_names):
        recorder.add_input(t, name)
    if autograd._tracer is not None:
        raise RuntimeError("[export] a trace is already running")
    training = getattr(model, "training", False)
    if training:
        model.eval()
    autograd._tracer = recorder
    try:
        with no_grad():
            out = model(*inputs)
    finally:
        autograd._tracer = None
        if training:
            model.train()
    outputs = out if isinstance(out, (tuple, list)) else (out,)
    if not outputs or not all(isinstance(o, TensorBase) for o in outputs):
        raise TypeError(f"[export] the model must return a tensor or a tuple/list of tensors, got {type(out).__name__}")
    names = output_names or (["output"] if len(outputs) == 1 else [f"output{i}" for i in range(len(outputs))])
    if len(names) != len(outputs):
        raise ValueError(f"[export] {len(names)} output_names for the model's {len(outputs)} outputs")
    return recorder.graph(outputs, names), recorder.tensors
