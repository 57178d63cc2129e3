"""Small pieces shared by the optimizers in this package: the step counter and state-tensor creation.

State values stay Tensors and plain Python numbers (what pycnn.save and the train checkpoints store).
"""

from .._convert import number_arg
from ..creation import full

__all__ = ["check_hyper", "impls", "init_state", "next_step", "state_like"]


def check_hyper(op, label, value, low=0.0, high=None, high_open=False):
    """A hyper-parameter: a real number in [low, high] ([low, high) with high_open; no upper bound for None),
    else torch's "Invalid <label>: <value>" prefixed with [op] (a TypeError for a non-number; NaN is out)."""
    number_arg(value, op, label)
    below_high = high is None or (value < high if high_open else value <= high)
    if not (value >= low and below_high):
        raise ValueError(f"[{op}] Invalid {label}: {value}")
    return value


def next_step(state):
    """Increment and return state['step'] as a Python float.

    torch keeps 'step' as a 0-d float tensor; a torch state dict loaded through numpy arrives as a 0-d
    Tensor, which becomes a float again on the next step. Floats count exactly up to 2**53 steps.
    """
    step = state.get("step", 0.0)
    if not isinstance(step, (int, float)):
        step = step.item()  # a 0-d Tensor or numpy array
    step = float(step) + 1.0
    state["step"] = step
    return step


def state_like(param, fill_value=0.0):
    """A new state tensor with param's shape, dtype and device, filled with fill_value."""
    return full(tuple(param.shape), float(fill_value), dtype=param.dtype, device=param.device)


def init_state(state, param, *names):
    """On a parameter's first update (its state has no names[0] yet): 'step' = 0 and a zero tensor shaped
    like param under each of names, in this order (torch's key order)."""
    if names[0] in state:
        return
    state["step"] = 0.0
    for name in names:
        state[name] = state_like(param)


def impls(tensors):
    """The C++ tensors of a list of Tensors, for the multi-tensor kernels."""
    return [t._impl for t in tensors]
