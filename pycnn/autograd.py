"""Reverse-mode autograd: a graph of Function nodes, walked in reverse topological order.

Gradient convention: kernels *write* their outputs (every backward returns fresh gradient tensors);
the engine *accumulates* them (``grad = g if grad is None else grad + g``). A Function's ``forward`` and
``backward`` sit together and each calls one core op (``pycnn._C``); they see core tensors (``_C.Tensor``),
never pycnn.Tensor, so the per-op Python cost is one wrapper and one call.
"""

import functools
import re
import threading
import weakref

import numpy as np

from . import _C
from ._types import LOW_PRECISION, can_cast

_state = threading.local()

# The recorder of pycnn.program.trace while a trace runs (None otherwise): Function.apply reports each op it
# ran, write_inplace each in-place result, and Tensor's value accessors refuse traced tensors.
_tracer = None


def is_grad_enabled():
    return getattr(_state, "enabled", True)


def set_grad_enabled(mode):
    if not isinstance(mode, (bool, int)) or mode not in (0, 1):
        raise TypeError(f"[set_grad_enabled] expected a bool, got {type(mode).__name__} {mode!r}")
    _state.enabled = bool(mode)


class _GradMode:
    """Context manager and decorator that sets grad mode and restores the previous one."""

    mode = True

    def __enter__(self):
        self._prev = is_grad_enabled()
        set_grad_enabled(self.mode)

    def __exit__(self, *exc):
        set_grad_enabled(self._prev)

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Disables graph recording: ``with pycnn.no_grad(): ...`` or ``@pycnn.no_grad()``."""

    mode = False


class enable_grad(_GradMode):
    mode = True


class inference_mode(_GradMode):
    """torch.inference_mode: ``with pycnn.inference_mode(): ...`` or ``@pycnn.inference_mode()`` records no
    graph, as no_grad does (pycnn tensors carry no autograd state that inference could skip beyond that);
    ``inference_mode(False)`` leaves the grad mode as it is."""

    def __init__(self, mode=True):
        if not isinstance(mode, bool):
            raise TypeError(f"[inference_mode] expected mode to be a bool, got {type(mode).__name__} {mode!r}")
        self.enabled = mode

    def __enter__(self):
        self._prev = is_grad_enabled()
        if self.enabled:
            set_grad_enabled(False)

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(self.enabled):
                return fn(*args, **kwargs)

        return wrapper


class TensorBase:
    """What the graph needs of a tensor: its core memory (``_impl``), ``requires_grad``, ``grad`` and
    ``grad_fn``. ``pycnn.Tensor`` (tensor.py) derives from it, adds the user API and defines ``_make``, which
    the graph uses to wrap the core tensors that ops return; so this module never imports tensor.py.
    """

    __slots__ = ("__dict__", "__weakref__", "_grad", "_impl", "grad_fn", "requires_grad")

    @property
    def grad(self):
        """The gradient accumulated by backward (None until then); assignable (None, or a tensor of this shape)."""
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, TensorBase):
                raise TypeError(f"[grad] expected a tensor or None, got {type(value).__name__}")
            if value._impl.shape != self._impl.shape:
                raise ValueError(
                    f"[grad] assigned grad has shape {tuple(value._impl.shape)}, the tensor {tuple(self._impl.shape)}"
                )
        self._grad = value

    @classmethod
    def _make(cls, impl, requires_grad=False, grad_fn=None):
        """A new tensor (always a plain ``pycnn.Tensor``, also when called on a subclass) around ``impl``."""
        raise NotImplementedError


class Function:
    """One differentiable op. Subclasses define static ``forward(ctx, *args)`` and ``backward(ctx, *grads)``.

    ``forward`` receives core tensors in place of pycnn Tensors and returns a core tensor (or a tuple whose
    first item is the differentiable output). ``backward`` returns one gradient per forward argument (None
    for non-tensors or inputs that need none). ``ctx.needs_input_grad`` tells which are wanted.

    A node's ``inputs`` are edges ``(tensor, its grad_fn when recorded)``: an in-place op may later give the
    tensor a new grad_fn, and this node must still send its gradient to the old one.
    """

    __slots__ = ("__dict__", "inputs", "needs_input_grad", "saved", "saved_versions")

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = cls()
        raw, needs, make = [], [], None  # one pass over the arguments: this loop is every op's Python cost
        for a in args:
            if isinstance(a, TensorBase):
                raw.append(a._impl)
                needs.append(a.requires_grad)
                make = make or a._make  # every op has a tensor argument
            else:
                raw.append(a)
                needs.append(False)
        record = is_grad_enabled() and any(needs)
        ctx.needs_input_grad = needs
        try:
            out = cls.forward(ctx, *raw, **kwargs)
        except (ValueError, MemoryError) as e:
            raise _named_after(ctx, e) from None
        except TypeError:
            # float16 / bfloat16 are stored, not computed: the op runs in float32 between two casts (found
            # only when the core refuses the dtype, so that other ops pay nothing for it)
            if not any(isinstance(a, TensorBase) and a._impl.dtype in LOW_PRECISION for a in args):
                raise
            return _apply_in_float32(cls, args, kwargs)
        if _tracer is not None:
            _tracer.record(cls, args, kwargs, out)
        if record:
            ctx.inputs = [(a, a.grad_fn) if n else None for a, n in zip(args, needs)]
        if isinstance(out, tuple):
            first = make(out[0], record, ctx if record else None)
            return (first,) + tuple(make(o, False, None) for o in out[1:])
        return make(out, record, ctx if record else None)

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError(f"[{type(ctx).__name__}] defines no backward(ctx, *grads): it cannot be differentiated")

    def save_for_backward(self, *tensors):
        """Keeps core tensors (or None) for backward, with their versions: backward refuses one that an
        in-place op has changed since."""
        self.saved = tensors
        self.saved_versions = [t._version if isinstance(t, _C.Tensor) else None for t in tensors]

    @property
    def saved_tensors(self):
        return self.saved

    def __repr__(self):  # Conv2dFn -> <Conv2dBackward>, as torch names its nodes; op families by their op
        op = self.__dict__.get("op")
        name = op.title().replace("_", "") if isinstance(op, str) else type(self).__name__.removesuffix("Fn")
        return f"<{name}Backward>"


def _apply_in_float32(cls, args, kwargs):
    """cls applied to args with their float16/bfloat16 tensors cast to float32 (differentiable casts), its
    floating outputs cast back to the first low-precision input's dtype, as torch's results keep it."""
    low = next(a._impl.dtype for a in args if isinstance(a, TensorBase) and a._impl.dtype in LOW_PRECISION)
    up = [
        CastFn.apply(a, "float32") if isinstance(a, TensorBase) and a._impl.dtype in LOW_PRECISION else a for a in args
    ]
    out = cls.apply(*up, **kwargs)
    back = lambda o: CastFn.apply(o, low) if o._impl.dtype == "float32" else o
    return tuple(back(o) for o in out) if isinstance(out, tuple) else back(out)


class CastFn(Function):
    """A dtype conversion; its backward converts the gradient back."""

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x.dtype
        return x.to_dtype(dtype)

    @staticmethod
    def backward(ctx, dout):
        return dout.to_dtype(ctx.dtype)


def _named_after(node, error):
    """A node's allocation error named after its op (Conv2dFn -> [conv2d], UnaryFn('exp') -> [exp])."""
    op = node.__dict__.get("op")
    if not isinstance(op, str):
        op = re.sub(r"(?<=[a-z0-9])(?=[A-Z][a-z])", "_", type(node).__name__.removesuffix("Fn")).lower()
    return renamed_allocation_error(error, op)


def renamed_allocation_error(error, op):
    """The core names the allocation ("[empty] cannot allocate ...", "[shape] ... is too large") when a result
    would not fit: the user's error names the op that asked for it instead. Other errors pass unchanged."""
    msg = str(error)
    if not msg.startswith(("[empty] ", "[shape] ")):
        return error
    return type(error)(f"[{op}] result: {msg[msg.index(']') + 2 :]}")


def _inputs_of(node):
    """A node's inputs; backward frees them (without retain_graph), so a second walk is an error."""
    inputs = getattr(node, "inputs", None)
    if inputs is None:
        raise RuntimeError(
            "[backward] trying to backward through the graph a second time; pass retain_graph=True the first time"
        )
    return inputs


def _topological_order(roots):
    """Nodes reachable from roots, each before all of its inputs' nodes (iterative DFS, no recursion limit)."""
    order, visited = [], set()
    stack = [(root, False) for root in reversed(roots)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for edge in _inputs_of(node):
            if edge is not None and edge[1] is not None and id(edge[1]) not in visited:
                stack.append((edge[1], False))
    order.reverse()
    return order


def _root_gradient(tensor, gradient, op):
    """The gradient a walk starts from: ``gradient`` (a core tensor of tensor's shape), or 1 for a one-element
    tensor."""
    if not tensor.requires_grad:
        raise RuntimeError(f"[{op}] the tensor does not require grad and has no grad_fn")
    if gradient is None:
        if tensor._impl.numel() != 1:
            raise RuntimeError(
                f"[{op}] grad can be implicitly created only for scalar outputs, got shape "
                f"{tuple(tensor._impl.shape)}; pass a gradient"
            )
        return _C.full(list(tensor._impl.shape), 1.0, tensor._impl.dtype, tensor._impl.device)
    if gradient.shape != tensor._impl.shape:
        raise ValueError(
            f"[{op}] gradient of shape {tuple(gradient.shape)} does not match the tensor's shape "
            f"{tuple(tensor._impl.shape)}"
        )
    return gradient


def backward(tensor, gradient=None, retain_graph=False):
    """Accumulates d tensor / d leaf into every leaf's ``.grad`` that requires grad. ``gradient`` is a core
    tensor of tensor's shape, or None for a one-element tensor (then 1)."""
    outer, _state.callbacks = getattr(_state, "callbacks", None), []
    try:
        _walk([(tensor, _root_gradient(tensor, gradient, "backward"))], retain_graph, _accumulate_leaf, post=True)
        while _state.callbacks:  # a callback may queue another
            _state.callbacks.pop(0)()
    finally:
        _state.callbacks = outer


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """The gradients of ``outputs`` (a tensor or a sequence) with respect to ``inputs`` (likewise), as a tuple,
    without touching any ``.grad`` (torch.autograd.grad). ``grad_outputs``: one tensor per output (None: 1 for
    a one-element output). An input the outputs do not depend on gives None with ``allow_unused=True``."""
    if create_graph:
        raise NotImplementedError("[grad] create_graph=True (gradients of gradients) is not supported")
    outputs = [outputs] if isinstance(outputs, TensorBase) else list(outputs)
    inputs = [inputs] if isinstance(inputs, TensorBase) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, TensorBase):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"[grad] got {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    for i, t in enumerate(inputs):
        if not isinstance(t, TensorBase) or not t.requires_grad:
            raise RuntimeError(f"[grad] input {i} is not a tensor that requires grad")
    roots = [(t, _root_gradient(t, None if g is None else g._impl, "grad")) for t, g in zip(outputs, grad_outputs)]
    wanted = {(id(t) if t.grad_fn is None else id(t.grad_fn)): None for t in inputs}

    def capture(key, g):
        if key in wanted:
            wanted[key] = g if wanted[key] is None else _C.binary("add", wanted[key], g)

    _walk(roots, bool(retain_graph), lambda t, g, copy: capture(id(t), g), capture)
    out = []
    for i, t in enumerate(inputs):
        g = wanted[id(t) if t.grad_fn is None else id(t.grad_fn)]
        if g is None and not allow_unused:
            raise RuntimeError(f"[grad] input {i} is not used by the outputs; pass allow_unused=True")
        out.append(None if g is None else t._make(g))
    return tuple(out)


def _walk(roots, retain_graph, to_leaf, at_node=None, post=False):
    """Runs every node reachable from roots [(tensor, core gradient)] once, in reverse topological order,
    summing the gradients that reach a node before running it. A leaf's gradient goes to
    ``to_leaf(tensor, g, copy)``; ``at_node(id(node), g)`` sees each node's total gradient (for grad()).
    With ``post``, a leaf's post-accumulate-grad hooks run once its last gradient of this walk is in."""
    grads, nodes, hooked = {}, [], _hooks_used
    for t, g in roots:
        if t.grad_fn is None:
            to_leaf(t, _leaf_hooks(t, g) if hooked else g, copy=True)
            if post and _post_hooks_used:
                _run_post_hooks(t)
        else:
            key = id(t.grad_fn)
            grads[key] = g if key not in grads else _C.binary("add", grads[key], g)
            nodes.append(t.grad_fn)
    order = _topological_order(nodes)
    pending = _leaf_edge_counts(order) if post and _post_hooks_used else None
    for node in order:
        g = grads.pop(id(node), None)
        if g is None:
            if pending:
                _leaf_edges_done(node, pending)
            continue
        if hooked:
            g = _node_hooks(node, g)
        if at_node is not None:
            at_node(id(node), g)
        inputs = _inputs_of(node)
        _check_saved_versions(node)
        in_grads = node.backward(node, g)
        if not isinstance(in_grads, tuple):
            in_grads = (in_grads,)
        for edge, ig in zip(inputs, in_grads):
            if edge is None or ig is None:
                continue
            t, fn = edge
            if ig.shape != t._impl.shape:
                raise RuntimeError(
                    f"[backward] {type(node).__name__} returned a gradient of shape "
                    f"{tuple(ig.shape)} for an input of shape {tuple(t._impl.shape)}"
                )
            if fn is None:
                to_leaf(t, _leaf_hooks(t, ig) if hooked else ig, copy=ig is g)
            else:
                key = id(fn)
                prev = grads.get(key)
                grads[key] = ig if prev is None else _C.binary("add", prev, ig)
        if pending:
            _leaf_edges_done(node, pending)
        if not retain_graph:
            del node.inputs
            node.saved = node.saved_versions = None


# ---- hooks: Tensor.register_hook and retain_grad ----
_hooks_used = False  # until the first hook, backward skips looking for them (a dict lookup per node)
_post_hooks_used = False  # likewise for post-accumulate-grad hooks (a count of leaf edges per backward)


class RemovableHandle:
    """What ``register_hook`` returns: ``handle.remove()`` takes the hook away."""

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def register_hook(tensor, hook):
    """``hook(grad) -> Tensor or None`` runs when the gradient with respect to ``tensor`` is computed; a
    returned tensor replaces the gradient. A leaf keeps its hooks; a non-leaf's belong to its node."""
    if not tensor.requires_grad:
        raise RuntimeError("[register_hook] cannot register a hook on a tensor that does not require grad")
    if not callable(hook):
        raise TypeError(f"[register_hook] expected a callable hook(grad), got {type(hook).__name__}")
    global _hooks_used
    _hooks_used = True
    owner = tensor if tensor.grad_fn is None else tensor.grad_fn
    owner.__dict__["make"] = tensor._make  # how to hand a core gradient to the hook
    hooks = owner.__dict__.setdefault("grad_hooks", [])
    hooks.append(hook)
    return RemovableHandle(hooks, hook)


def retain_grad(tensor):
    """A non-leaf keeps (accumulates) its gradient in ``.grad`` at the next backward; a no-op for a leaf."""
    global _hooks_used
    if not tensor.requires_grad:
        raise RuntimeError("[retain_grad] can't retain the gradient of a tensor that does not require grad")
    if tensor.grad_fn is not None:
        _hooks_used = True
        tensor.grad_fn.__dict__["retains"] = weakref.ref(tensor)


def register_post_accumulate_grad_hook(tensor, hook):
    """``hook(tensor)`` runs during backward once the leaf's ``.grad`` holds all of this backward's gradient
    (torch's register_post_accumulate_grad_hook; DistributedDataParallel starts reducing a gradient there)."""
    op = "register_post_accumulate_grad_hook"
    if not tensor.requires_grad or tensor.grad_fn is not None:
        raise RuntimeError(f"[{op}] only a leaf tensor that requires grad accumulates a gradient")
    if not callable(hook):
        raise TypeError(f"[{op}] expected a callable hook(tensor), got {type(hook).__name__}")
    global _post_hooks_used
    _post_hooks_used = True
    hooks = tensor.__dict__.setdefault("post_accumulate_hooks", [])
    hooks.append(hook)
    return RemovableHandle(hooks, hook)


def queue_callback(callback):
    """``callback()`` runs once the current backward pass has finished (called from a hook during backward)."""
    callbacks = getattr(_state, "callbacks", None)  # this thread's backward's (None outside one)
    if callbacks is None:
        raise RuntimeError("[queue_callback] can only be called during a backward pass (from a hook)")
    if not callable(callback):
        raise TypeError(f"[queue_callback] expected a callable, got {type(callback).__name__}")
    callbacks.append(callback)


def _post_hooks_of(t):
    return t.__dict__.get("post_accumulate_hooks")


def _leaf_edge_counts(order):
    """{id(leaf): how many edges of this walk reach it} for the leaves that have post-accumulate hooks."""
    counts = {}
    for node in order:
        for edge in _inputs_of(node):
            if edge is not None and edge[1] is None and _post_hooks_of(edge[0]):
                counts[id(edge[0])] = counts.get(id(edge[0]), 0) + 1
    return counts


def _leaf_edges_done(node, pending):
    """node has sent its gradients: a leaf none of whose edges are left has its complete gradient."""
    for edge in node.inputs:
        if edge is not None and edge[1] is None and id(edge[0]) in pending:
            key = id(edge[0])
            pending[key] -= 1
            if pending[key] == 0:
                del pending[key]
                _run_post_hooks(edge[0])


def _run_post_hooks(t):
    hooks = _post_hooks_of(t)
    if hooks and t.grad is not None:
        for hook in list(hooks):
            hook(t)


def _run_hooks(hooks, make, g):
    for hook in list(hooks):
        out = hook(make(g))
        if out is not None:
            if tuple(out._impl.shape) != tuple(g.shape):
                raise RuntimeError(
                    f"[register_hook] a hook returned a gradient of shape {tuple(out._impl.shape)} for one of "
                    f"shape {tuple(g.shape)}"
                )
            g = out._impl
    return g


def _leaf_hooks(t, g):
    hooks = t.__dict__.get("grad_hooks")
    return _run_hooks(hooks, t._make, g) if hooks else g


def _node_hooks(node, g):
    d = node.__dict__
    retains, hooks = d.get("retains"), d.get("grad_hooks")
    if hooks:
        g = _run_hooks(hooks, d["make"], g)
    if retains is not None and retains() is not None:
        t = retains()
        t.grad = t._make(g.clone()) if t.grad is None else t._make(_C.binary("add", t.grad._impl, g))
    return g


def check_inplace(tensor, op):
    """An in-place write to a leaf that requires grad is refused while recording: its gradient would be for
    values it no longer holds. Under no_grad it is allowed (initialisers, optimizer updates)."""
    if tensor.requires_grad and tensor.grad_fn is None and is_grad_enabled():
        raise RuntimeError(
            f"[{op}] a leaf tensor that requires grad is used in an in-place operation; "
            "wrap it in pycnn.no_grad(), or use the out-of-place op"
        )


def write_inplace(x, out, op):
    """The in-place form of an op (``F.relu(x, inplace=True)``): ``out``, computed out of place from x, is
    written into x's memory and x becomes the op's output in the graph. Returns x."""
    check_inplace(x, op)
    if out._impl.dtype != x._impl.dtype and not can_cast(out._impl.dtype, x._impl.dtype):
        raise TypeError(f"[{op}] result type {out._impl.dtype} can't be written into a {x._impl.dtype} tensor in place")
    node = out.grad_fn
    if node is not None and x._impl._storage_use_count > 1:
        raise RuntimeError(
            f"[{op}] in-place on a tensor whose memory another tensor views (a view or the base of one) is not "
            "supported while recording gradients: the other tensor's gradient would miss the change; "
            "use inplace=False"
        )
    saved = getattr(node, "saved", None)
    if saved:  # the node keeps a copy of x's old values, and x itself as its output
        saved = [x._impl.clone() if s is x._impl else s for s in saved]
    _C.copy_(x._impl, out._impl)
    if _tracer is not None:
        _tracer.rebind(x._impl, out._impl)
    if node is not None:
        if saved:
            node.save_for_backward(*(x._impl if s is out._impl else s for s in saved))
        x.grad_fn, x.requires_grad = node, True
    return x


def _check_saved_versions(node):
    versions = getattr(node, "saved_versions", None)
    if not versions:
        return
    for i, (t, v) in enumerate(zip(node.saved, versions)):
        if v is not None and t._version != v:
            raise RuntimeError(
                f"[backward] tensor {i} saved by {node!r} for its gradient (a {t.dtype} tensor of shape "
                f"{tuple(t.shape)}) was modified by an in-place operation: it is at version {t._version}, "
                f"saved at version {v}; clone() it before changing it, or change it after backward"
            )


def _accumulate_leaf(t, g, copy):
    if t.grad is None:
        # A gradient passed straight through (x + y, say) is the caller's tensor: keep a copy of it.
        t.grad = t._make(g.clone() if copy else g)
    else:
        t.grad = t._make(_C.binary("add", t.grad._impl, g))


class GradcheckError(RuntimeError):
    """gradcheck found an analytic gradient that differs from the finite differences."""


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Checks the gradients of ``func(*inputs)`` (torch.autograd.gradcheck): for every float64 input that
    requires grad, the Jacobian from backward against central differences of step eps. Returns True, or
    raises GradcheckError naming the input and output (returns False with ``raise_exception=False``)."""
    inputs = (inputs,) if isinstance(inputs, TensorBase) else tuple(inputs)
    wrt = [i for i, t in enumerate(inputs) if isinstance(t, TensorBase) and t.requires_grad]
    if not wrt:
        raise ValueError("[gradcheck] no input requires grad")
    for i in wrt:
        if inputs[i]._impl.dtype != "float64":
            raise ValueError(f"[gradcheck] input {i} is {inputs[i]._impl.dtype}: finite differences need float64")

    def outputs():
        out = func(*inputs)
        return [o for o in (out if isinstance(out, (tuple, list)) else (out,)) if isinstance(o, TensorBase)]

    def flat(impl):
        return np.array(impl.to_device("cpu"), dtype=np.float64).reshape(-1)

    with no_grad():
        sizes = [o._impl.numel() for o in outputs()]
    numeric = [np.zeros((sum(sizes), inputs[i]._impl.numel())) for i in wrt]
    for j, i in enumerate(wrt):
        impl = inputs[i]._impl
        values = flat(impl)
        for k in range(values.size):
            columns = []
            for step in (eps, -eps):
                probe = values.copy()
                probe[k] += step
                _C.copy_(impl, _C.from_numpy(probe.reshape(impl.shape)).to_device(impl.device))
                with no_grad():
                    columns.append(np.concatenate([flat(o._impl) for o in outputs()]))
            numeric[j][:, k] = (columns[0] - columns[1]) / (2 * eps)
        _C.copy_(impl, _C.from_numpy(values.reshape(impl.shape)).to_device(impl.device))

    analytic = [np.zeros_like(n) for n in numeric]
    outs, row = outputs(), 0
    for o in outs:
        for e in range(o._impl.numel()):
            onehot = np.zeros(o._impl.numel())
            onehot[e] = 1.0
            seed = o._make(_C.from_numpy(onehot.reshape(o._impl.shape).astype(o._impl.dtype)))
            if o.requires_grad:
                gs = grad(o, [inputs[i] for i in wrt], seed, retain_graph=True, allow_unused=True)
                for j, g in enumerate(gs):
                    if g is not None:
                        analytic[j][row] = flat(g._impl)
            row += 1
    for j, i in enumerate(wrt):
        if not np.allclose(analytic[j], numeric[j], rtol=rtol, atol=atol):
            if not raise_exception:
                return False
            worst = np.unravel_index(np.argmax(np.abs(analytic[j] - numeric[j])), numeric[j].shape)
            raise GradcheckError(
                f"[gradcheck] Jacobian mismatch for input {i}: d output element {worst[0]} / d input element "
                f"{worst[1]} is {analytic[j][worst]:.6g} by backward, {numeric[j][worst]:.6g} by finite differences"
            )
    return True
