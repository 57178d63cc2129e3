"""Small pieces shared by the optimizers in this package: the step counter and state-tensor creation.

State values stay Tensors and plain Python numbers (what pycnn.save and the train checkpoints store).
"""

from ..creation import full

__all__ = ["impls", "init_state", "next_step", "state_like"]


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
