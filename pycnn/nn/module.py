"""Module: the base class of every layer and model.

Assigning a Parameter, a Module or (via register_buffer) a Tensor as an attribute registers it, in order,
so parameters(), state_dict() and repr() walk the tree the same way PyTorch does and produce the same
names ("features.0.weight"). Subclasses define __init__ (build children) and forward(); calling the
module runs forward.
"""

import itertools
from collections import OrderedDict, namedtuple

import numpy as np

from .._types import _DTYPES, float32, float64
from ..autograd import no_grad
from ..tensor import Tensor
from .parameter import Parameter

__all__ = ["Module"]


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What load_state_dict(strict=False) could not match; prints like PyTorch's."""

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _addindent(text, num_spaces):
    """Indent every line of `text` except the first (children are printed after "(name): ")."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    pad = " " * num_spaces
    return lines[0] + "\n" + "\n".join(pad + line for line in lines[1:])


def _is_floating(t):
    return t.dtype.is_floating_point


def _shape_str(shape):
    return "(" + ", ".join(str(int(s)) for s in shape) + ")"


def zero_grads(params, set_to_none=True):
    """Reset the gradients of `params` (Module.zero_grad and Optimizer.zero_grad): to None, or to zeros in
    place; a parameter without a gradient is left as it is."""
    for p in params:
        if p.grad is None:
            continue
        if set_to_none:
            p.grad = None
        else:
            p.grad.zero_()


class Module:
    """Base class for all neural network modules.

    Subclasses call ``super().__init__()`` first, then assign layers/parameters as attributes, and
    implement ``forward``. ``module(x)`` calls ``module.forward(x)``.
    """

    # Set to True in subclasses whose forward must not be called (e.g. ModuleList).
    training: bool

    def __init__(self):
        # object.__setattr__ because our own __setattr__ relies on these dicts existing.
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", OrderedDict())

    # ------------------------------------------------------------------ forward
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'[{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------ registration
    def _check_init(self, what):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {what} before Module.__init__() call")

    @staticmethod
    def _check_name(name, kind, owner):
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain ".", got: {name}')
        if hasattr(owner, name) and not owner._is_registered(name):
            raise KeyError(f"attribute '{name}' already exists")

    def _is_registered(self, name):
        return name in self._parameters or name in self._buffers or name in self._modules

    def register_parameter(self, name, param):
        """Register a Parameter (or None, meaning "absent", e.g. bias=False) under `name`."""
        self._check_init("parameters")
        self._check_name(name, "parameter", self)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                "(pycnn.nn.Parameter or None required)"
            )
        if param is not None and param.grad_fn is not None:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'.")
        self._buffers.pop(name, None)
        self._modules.pop(name, None)
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Register a non-learnable tensor (e.g. running statistics) under `name`.

        Args:
            name (str): attribute name.
            tensor (Tensor or None): the buffer; None means absent (skipped by state_dict).
            persistent (bool): whether the buffer is part of state_dict().
        """
        self._check_init("buffers")
        self._check_name(name, "buffer", self)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' (pycnn Tensor or None required)"
            )
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        """Register a child module (or None) under `name`."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"[{type(self).__name__}] {type(module).__name__} is not a Module subclass")
        self._check_init("child modules")
        self._check_name(name, "module", self)
        self._parameters.pop(name, None)
        self._buffers.pop(name, None)
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name, value):
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self.__dict__.pop(name, None)
            self._buffers.pop(name, None)
            self._modules.pop(name, None)
            self._non_persistent_buffers_set.discard(name)
            if value.grad_fn is not None:
                raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'.")
            params[name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                    "(pycnn.nn.Parameter or None expected)"
                )
            params[name] = None
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self.__dict__.pop(name, None)
            params.pop(name, None)
            self._buffers.pop(name, None)
            self._non_persistent_buffers_set.discard(name)
            self._modules[name] = value
        elif params is not None and name in self._modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module '{name}' "
                    "(pycnn.nn.Module or None expected)"
                )
            self._modules[name] = None
        elif params is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as buffer '{name}' (pycnn Tensor or None expected)"
                )
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # Only called when normal lookup fails: registered entries live in the three dicts.
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            entries = d.get(store)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        keys = set(super().__dir__())
        keys.update(self._parameters, self._buffers, self._modules)
        return sorted(k for k in keys if not k[0].isdigit())

    # --------------------------------------------------------------- iteration
    def _named_members(self, get_members, prefix="", recurse=True, remove_duplicate=True):
        # Identity-based memo: Tensor equality may be elementwise, so never hash/compare tensors by value.
        seen = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in get_members(module):
                if value is None:
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield (module_prefix + "." + name if module_prefix else name), value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """Yield (name, Parameter) pairs, children first-registered first; a shared Parameter once."""
        yield from self._named_members(lambda m: m._parameters.items(), prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """Yield the Parameters of this module (and its descendants when recurse=True)."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        """Yield (name, Tensor) pairs for the registered buffers."""
        yield from self._named_members(lambda m: m._buffers.items(), prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def named_children(self):
        """Yield (name, module) for the immediate children (each module once)."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """Yield (name, module) for this module and every descendant, depth first (self first, name '')."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub_prefix = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub_prefix, remove_duplicate)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def get_submodule(self, target):
        """Return the descendant at dotted path `target` ('' is self)."""
        module = self
        if target == "":
            return module
        for item in target.split("."):
            if item not in module._modules or module._modules[item] is None:
                raise AttributeError(f"{module._get_name()} has no attribute `{item}`")
            module = module._modules[item]
        return module

    # ------------------------------------------------------------- state dict
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """Return an OrderedDict name -> tensor of parameters and persistent buffers.

        Tensors are detached aliases (they share memory with the module) unless keep_vars=True, which
        returns the Parameters themselves. Keys use PyTorch's names, e.g. "0.weight", "features.3.bias".
        """
        if destination is None:
            destination = OrderedDict()
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        return destination

    def _load_own_state(self, state_dict, prefix, missing, unexpected_prefixes_used, error_msgs):
        persistent_buffers = {k: v for k, v in self._buffers.items() if k not in self._non_persistent_buffers_set}
        local = itertools.chain(self._parameters.items(), persistent_buffers.items())
        for name, own in local:
            if own is None:
                continue
            key = prefix + name
            if key not in state_dict:
                missing.append(key)
                continue
            unexpected_prefixes_used.add(key)
            value = state_dict[key]
            if not isinstance(value, (Tensor, np.ndarray)):
                error_msgs.append(
                    f'While copying the parameter named "{key}", expected a Tensor or numpy '
                    f"array from checkpoint but received {type(value).__name__}"
                )
                continue
            if tuple(value.shape) != tuple(own.shape):
                error_msgs.append(
                    f"size mismatch for {key}: copying a param with shape "
                    f"{_shape_str(value.shape)} from checkpoint, the shape in current model "
                    f"is {_shape_str(own.shape)}."
                )
                continue
            if isinstance(value, np.ndarray):
                value = np.asarray(value, order="C")
            try:
                with no_grad():
                    own.copy_(value)
            except Exception as exc:  # noqa: BLE001  (report every failing key at once, like torch)
                error_msgs.append(
                    f'While copying the parameter named "{key}", whose dimensions in the '
                    f"model are {_shape_str(own.shape)} and whose dimensions in the checkpoint "
                    f"are {_shape_str(value.shape)}, an exception occurred : {exc}."
                )

    def load_state_dict(self, state_dict, strict=True):
        """Copy tensors from `state_dict` into this module's parameters and buffers, in place.

        Args:
            state_dict (Mapping[str, Tensor | numpy.ndarray]): e.g. from state_dict() or pycnn.load().
            strict (bool): if True, missing or unexpected keys raise RuntimeError.
        Returns:
            namedtuple (missing_keys, unexpected_keys).
        Raises:
            RuntimeError listing every problem (missing/unexpected keys, size mismatches); shape
            mismatches raise even when strict=False, as in PyTorch.
        """
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(f"[load_state_dict] Expected state_dict to be dict-like, got {type(state_dict).__name__}.")
        missing, error_msgs = [], []
        used = set()
        for prefix_name, module in self.named_modules():
            prefix = prefix_name + "." if prefix_name else ""
            module._load_own_state(state_dict, prefix, missing, used, error_msgs)
        unexpected = [k for k in state_dict if k not in used]

        if strict:
            if unexpected:
                error_msgs.insert(
                    0, "Unexpected key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in unexpected))
                )
            if missing:
                error_msgs.insert(0, "Missing key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in missing)))
        if error_msgs:
            raise RuntimeError(
                "[load_state_dict] Error(s) in loading state_dict for {}:\n\t{}".format(
                    self._get_name(), "\n\t".join(error_msgs)
                )
            )
        return _IncompatibleKeys(missing, unexpected)

    # ----------------------------------------------------------------- modes
    def train(self, mode=True):
        """Set training mode on this module and all descendants; returns self."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        """Set evaluation mode (training=False); returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all parameters: to None (default) or to zeros in place."""
        zero_grads(self.parameters(), set_to_none)

    def apply(self, fn):
        """Call fn(module) on every descendant (children first) and then on self; returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------- device / dtype
    def _apply_to_tensors(self, convert):
        """Replace every parameter's and buffer's data with convert(tensor).

        Parameters keep their identity (optimizers holding them stay valid): the new core tensor is
        swapped into the existing Parameter, as torch does with ``param.data = new``. Gradients follow.
        """
        for module in self.modules():
            for p in module._parameters.values():
                if p is None:
                    continue
                new = convert(p.detach())
                if new._impl is not p._impl:
                    p._impl = new._impl
                if p.grad is not None:
                    g = convert(p.grad)
                    if g is not p.grad:
                        p.grad = g
            for name, b in module._buffers.items():
                if b is not None:
                    new = convert(b)
                    if new is not b:
                        module._buffers[name] = new
        return self

    def to(self, *args, **kwargs):
        """Move and/or cast parameters and buffers; returns self.

        Accepts ``to(device)``, ``to(dtype)``, ``to(device, dtype)`` and the keywords device= / dtype=.
        Only floating-point tensors are cast to a new dtype (integer buffers keep theirs), as in PyTorch.
        """
        device = kwargs.pop("device", None)
        dtype = kwargs.pop("dtype", None)
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for arg in args:
            if isinstance(arg, Tensor):
                device, dtype = arg.device, arg.dtype
            elif hasattr(arg, "itemsize") and hasattr(arg, "numpy"):
                dtype = arg
            elif isinstance(arg, str) and arg in _DTYPES:  # to("float64"), as Tensor.to takes it
                dtype = _DTYPES[arg]
            else:
                device = arg
        if dtype is not None and not dtype.is_floating_point:
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired dtype={dtype.name}")

        def convert(t):
            out = t
            if device is not None:
                out = out.to(device)
            if dtype is not None and _is_floating(out) and out.dtype != dtype:
                out = out.to(dtype)
            return out

        return self._apply_to_tensors(convert)

    def float(self):
        return self.to(float32)

    def double(self):
        return self.to(float64)

    def half(self):
        """Parameters and floating buffers in float16 (stored; ops compute in float32 and give float16)."""
        return self.to(_DTYPES["float16"])

    def bfloat16(self):
        return self.to(_DTYPES["bfloat16"])

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        if device is None:
            return self.to("cuda")
        return self.to(f"cuda:{device}" if isinstance(device, int) else device)

    # ------------------------------------------------------------------ repr
    def extra_repr(self):
        """Extra text shown inside this module's parentheses in repr(); subclasses override."""
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _addindent(repr(module), 2) for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                body = extra_lines[0]
            else:
                body = "\n  " + "\n  ".join(lines) + "\n"
        return self._get_name() + "(" + body + ")"
