"""Programs: a model's forward recorded as a fixed sequence of ops, saved to one file that C++ runs without
Python (``pycnn::Program``, ``pycnn-run``) and that ``pycnn.onnx.export`` translates. The format:
docs/program-format.md.

    prog = pycnn.export(model, torch_like_example_input, "model.pycnn")   # trace, check, save
    prog = pycnn.program.load("model.pycnn"); y = prog(x)                   # run it from Python
"""

import os

import numpy as np

from .. import _C
from .._types import LOW_PRECISION
from ..autograd import TensorBase
from ..creation import tensor
from ._program import Program, load
from ._trace import record

__all__ = ["Program", "export", "load", "runner_path", "trace"]


def trace(model, example_inputs, *, input_names=None, output_names=None, dynamic_batch=True):
    """Records model(*example_inputs) (in eval mode, without gradients) as a Program.

    Args:
        model: an ``nn.Module`` (its parameters and buffers keep their state-dict names in the program) or any
            callable taking and returning tensors.
        example_inputs: a tensor or a tuple/list of tensors.
        input_names, output_names: names for the program's inputs and outputs (default "input"/"output",
            numbered when there are several).
        dynamic_batch: whether the program takes any size of dim 0 (every reshape then keeps dim 0).
    Raises:
        NotImplementedError: the forward runs an op programs do not hold (the message names it).
        RuntimeError: the forward turns a tensor computed from the input into a Python value (item(),
            bool(), int(), float(), tolist(), numpy(), iteration): control flow on data cannot be recorded.
    """
    inputs = _tensors(example_inputs)
    names = _names(input_names, len(inputs), "input")
    graph, constants = record(model, inputs, names, output_names, bool(dynamic_batch))
    return Program(graph, {name: inputs[0]._make(impl) for name, impl in constants.items()})


def export(model, example_inputs, f, *, input_names=None, output_names=None, dynamic_batch=True, check=True):
    """Traces ``model`` on ``example_inputs``, checks the program and writes it to ``f`` (atomically).

    The check runs the program and the model on a second random input of the same shape (and, with
    dynamic_batch, of another batch size) and requires equal outputs: a difference means the forward used
    something the trace could not see (a value computed outside pycnn's ops, a Python branch on a shape).
    Returns the Program. ``pycnn export CKPT OUT`` does the same for a checkpoint of ``pycnn train``.
    """
    prog = trace(model, example_inputs, input_names=input_names, output_names=output_names, dynamic_batch=dynamic_batch)
    if check:
        _check(model, prog, _tensors(example_inputs), dynamic_batch)
    prog.save(f)
    return prog


def runner_path():
    """The path of ``pycnn-run``, the C++ program runner installed with pycnn (None when this build has none)."""
    path = os.path.join(os.path.dirname(_C.__file__), "bin", "pycnn-run")  # beside _C in the built package
    return path if os.path.exists(path) else None


def _tensors(example_inputs):
    inputs = tuple(example_inputs) if isinstance(example_inputs, (tuple, list)) else (example_inputs,)
    if not inputs or not all(isinstance(t, TensorBase) for t in inputs):
        raise TypeError(
            f"[export] example_inputs must be a tensor or a tuple/list of tensors, got {type(example_inputs).__name__}"
        )
    return inputs


def _names(names, n, stem):
    if names is None:
        return [stem] if n == 1 else [f"{stem}{i}" for i in range(n)]
    names = list(names)
    if len(names) != n or not all(isinstance(x, str) for x in names) or len(set(names)) != n:
        raise ValueError(f"[export] expected {n} distinct {stem}_names (str), got {names!r}")
    return names


def _check(model, prog, inputs, dynamic_batch):
    rng = np.random.default_rng(20261206)
    trials = [tuple(_random_like(t, rng, t.shape) for t in inputs)]
    if dynamic_batch and all(t.ndim >= 1 for t in inputs):
        trials.append(tuple(_random_like(t, rng, (t.shape[0] + 1, *t.shape[1:])) for t in inputs))
    training = getattr(model, "training", False)
    if training:
        model.eval()
    try:
        for k, xs in enumerate(trials):
            _compare(model, prog, xs, other_batch=k == 1)
    finally:
        if training:
            model.train()


def _compare(model, prog, xs, other_batch):
    hint = " (pass dynamic_batch=False to export a program of the example's batch size only)" if other_batch else ""
    try:
        want = _as_tuple(model(*xs))
        got = _as_tuple(prog(*xs))
    except Exception as e:
        raise ValueError(f"[export] the program could not be checked on a second input{hint}: {e}") from e
    for i, (w, g) in enumerate(zip(want, got)):
        a, b = _values(w), _values(g)
        if a.shape != b.shape or not np.array_equal(a, b, equal_nan=True):
            diff = np.max(np.abs(a - b)) if a.shape == b.shape else f"shapes {b.shape} vs {a.shape}"
            raise ValueError(
                f"[export] output {i} of the program differs from the model's on a second input of shape "
                f"{tuple(xs[0].shape)} (max difference {diff}): the forward used a value the trace could not see "
                f"(computed outside pycnn's ops, or a Python branch on the input){hint}"
            )


def _as_tuple(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _values(t):
    t = t.detach()
    return np.asarray((t.float() if t.dtype in LOW_PRECISION else t).cpu(), dtype=np.float64)


def _random_like(t, rng, shape):
    """A random tensor of t's dtype and device: normal for floating types, in t's range for integers."""
    name = t.dtype.name
    if name == "bool":
        a = rng.random(shape) < 0.5
    elif t.dtype.is_floating_point:
        a = rng.standard_normal(shape)
    else:
        values = np.asarray(t.detach().cpu())
        lo, hi = (int(values.min()), int(values.max())) if values.size else (0, 1)
        a = rng.integers(lo, hi + 1, size=shape)
    return tensor(a, dtype=t.dtype, device=t.device)
