"""Optimizer: the base class that owns param_groups and per-parameter state.

A subclass defines the update of a parameter group, ``_update_group(group, params, grads, states)``, which
calls one C++ multi-tensor kernel for the whole group (one launch on CUDA); step() calls it once per group
(per dtype and device within a group). A subclass may instead define the per-parameter ``_update(param, grad,
state, group)``, which the default ``_update_group`` calls for each parameter. state_dict() uses PyTorch's layout (state keyed by
the parameter's integer index across all groups; each group's 'params' is a list of indices), so a
checkpoint maps one to one onto torch's.
"""

import copy
from collections.abc import Iterable, Mapping, MutableMapping

import numpy as np

from ..autograd import enable_grad, no_grad
from ..creation import tensor as make_tensor
from ..nn.module import zero_grads
from ..tensor import Tensor

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Sentinel for a hyper-parameter that has no default (it must be given per group or globally)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


class _StateDict(MutableMapping):
    """param -> dict of state, keyed by identity.

    Tensors are not hashed by value (their == may be elementwise), so we key on id() and keep the param
    alive alongside its state. Missing params get a fresh {} on access, like torch's defaultdict(dict).
    """

    def __init__(self):
        self._data = {}  # id(param) -> (param, state)

    def __getitem__(self, param):
        entry = self._data.get(id(param))
        if entry is None:
            entry = self._data[id(param)] = (param, {})
        return entry[1]

    def __setitem__(self, param, value):
        self._data[id(param)] = (param, value)

    def __delitem__(self, param):
        del self._data[id(param)]

    def __contains__(self, param):
        return id(param) in self._data

    def __iter__(self):
        return (param for param, _ in self._data.values())

    def __len__(self):
        return len(self._data)

    def __repr__(self):
        return "{" + ", ".join(f"<param {tuple(p.shape)}>: {s}" for p, s in self._data.values()) + "}"


def _clone_value(value, like):
    """Copy a state value for load_state_dict: tensors/arrays become new Tensors with `like`'s float dtype."""
    if isinstance(value, (Tensor, np.ndarray)):
        t = value.detach().clone() if isinstance(value, Tensor) else make_tensor(np.asarray(value))
        if t.dtype.is_floating_point and t.dtype != like.dtype:
            t = t.to(like.dtype)
        if t.device != like.device:  # "cuda:0" state for a parameter on cuda:1 moves too
            t = t.to(like.device)
        return t
    if isinstance(value, dict):
        return {k: _clone_value(v, like) for k, v in value.items()}
    return copy.deepcopy(value)


class Optimizer:
    """Base class for optimizers.

    Args:
        params (iterable): Parameters (Tensors with requires_grad) or dicts defining parameter groups,
            each with a 'params' entry and optional per-group options.
        defaults (dict): default values of the options, used where a group doesn't set them.
    """

    def __init__(self, params, defaults):
        self.defaults = defaults
        op = type(self).__name__
        if isinstance(params, Tensor) or not isinstance(params, Iterable):
            raise TypeError(
                f"[{op}] params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {type(params).__name__}"
            )
        self.state = _StateDict()
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError(f"[{op}] optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        """Add a group of parameters with its own options (e.g. a different lr for a fine-tuned head).

        Args:
            param_group (dict): 'params' (a Tensor or iterable of Tensors) plus option overrides.
        """
        op = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"[{op}.add_param_group] param_group must be a dict, but got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(
                f"[{op}.add_param_group] param_group needs a 'params' entry, got keys {sorted(param_group)}"
            )
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                f"[{op}] optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list "
                "instead."
            )
        else:
            params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"[{op}] optimizer can only optimize Tensors, but one of the params is {type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError(f"[{op}] can't optimize a non-leaf Tensor")
        group = {"params": params}
        for key, value in param_group.items():
            if key != "params":
                group[key] = value
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(
                    f"[{op}] parameter group didn't specify a value of required optimization parameter {name}"
                )
            group.setdefault(name, default)

        ids = {id(p) for p in params}
        if len(ids) != len(params):
            raise ValueError(f"[{op}.add_param_group] optimizer contains a parameter group with duplicate parameters")
        for other in self.param_groups:
            if any(id(p) in ids for p in other["params"]):
                raise ValueError(f"[{op}.add_param_group] some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all optimized parameters: to None (default) or to zeros in place."""
        for group in self.param_groups:
            zero_grads(group["params"], set_to_none)

    def _update(self, param, grad, state, group):
        """Update one parameter in place from its gradient; `state` is its (mutable) per-param dict."""
        raise NotImplementedError

    def _update_group(self, group, params, grads, states):
        """Update params (of one dtype and device) in place from grads; states[i] is params[i]'s state dict."""
        for param, grad, state in zip(params, grads, states):
            self._update(param, grad, state, group)

    def step(self, closure=None):
        """Perform one optimization step over every parameter that has a gradient.

        Args:
            closure (callable, optional): re-evaluates the model and returns the loss (run with grad
                enabled before the update).
        Returns:
            the closure's loss, or None.
        """
        loss = None
        if closure is not None and not callable(closure):
            raise TypeError(f"[{type(self).__name__}.step] expected closure to be callable or None, got {closure!r}")
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                # the multi-tensor kernels take tensors of one dtype and device: split a mixed group, in order
                kinds = {}
                for p in group["params"]:
                    if p.grad is not None:
                        kinds.setdefault((str(p.dtype), str(p.device)), []).append(p)
                for params in kinds.values():
                    self._update_group(group, params, [p.grad for p in params], [self.state[p] for p in params])
        return loss

    # ---------------------------------------------------------- checkpoints
    def state_dict(self):
        """Return {'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]} (torch's layout).

        State tensors are returned by reference; save or clone them before further steps if needed.
        """
        index_of = {}
        packed_groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            indices = []
            for p in group["params"]:
                if id(p) not in index_of:
                    index_of[id(p)] = len(index_of)
                indices.append(index_of[id(p)])
            packed_groups.append({"params": indices, **packed})
        packed_state = {index_of[id(p)]: s for p, s in self.state.items() if id(p) in index_of}
        return {"state": packed_state, "param_groups": packed_groups}

    def load_state_dict(self, state_dict):
        """Restore options and state saved by state_dict() (from pycnn or torch.optim with the same layout).

        State tensors are copied and cast to each parameter's floating dtype and device.
        """
        op = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"[{op}] expected a dict from state_dict(), got {type(state_dict).__name__}")
        for key in ("state", "param_groups"):
            if key not in state_dict:
                raise ValueError(f"[{op}] the state dict has no {key!r} entry (keys: {sorted(state_dict)})")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"[{op}] loaded state dict has a different number of parameter groups: {len(saved_groups)}, the "
                f"optimizer has {len(self.param_groups)}"
            )
        for ours, theirs in zip(self.param_groups, saved_groups):
            if len(ours["params"]) != len(theirs["params"]):
                raise ValueError(
                    f"[{op}] loaded state dict contains a parameter group that doesn't match the size of optimizer's "
                    f"group: {len(theirs['params'])} parameters, the optimizer's has {len(ours['params'])}"
                )
        id_map = {}
        for ours, theirs in zip(self.param_groups, saved_groups):
            for index, p in zip(theirs["params"], ours["params"]):
                id_map[index] = p

        new_state = _StateDict()
        for index, value in state_dict["state"].items():
            if index in id_map:
                p = id_map[index]
                new_state[p] = {k: _clone_value(v, p) for k, v in value.items()}
        new_groups = []
        for ours, theirs in zip(self.param_groups, saved_groups):
            group = {k: copy.deepcopy(v) for k, v in theirs.items() if k != "params"}
            group = {"params": ours["params"], **group}
            for name, default in self.defaults.items():  # options a saved group predates keep our default
                group.setdefault(name, default)
            new_groups.append(group)
        self.state = new_state
        self.param_groups = new_groups

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)
