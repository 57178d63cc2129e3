"""The ops a program may hold (docs/program-format.md): each is one autograd Function, whose ``forward``
parameters name the node's tensor inputs and attributes."""

import inspect

from .. import autograd_ops as ag
from ..autograd import CastFn

# Function -> (op name, the forward parameters that are tensors, in order; a *-parameter takes the rest)
OPS = {
    ag.Conv2dFn: ("conv2d", ("x", "w", "b")),
    ag.LinearFn: ("linear", ("x", "w", "b")),
    ag.BatchNormFn: ("batch_norm", ("x", "w", "b", "running_mean", "running_var")),
    ag.ReLUFn: ("relu", ("x",)),
    ag.UnaryFn: ("unary", ("x",)),
    ag.BinaryFn: ("binary", ("a", "b")),
    ag.MaxPool2dFn: ("max_pool2d", ("x",)),
    ag.AvgPool2dFn: ("avg_pool2d", ("x",)),
    ag.AdaptiveAvgPool2dFn: ("adaptive_avg_pool2d", ("x",)),
    ag.LocalResponseNormFn: ("local_response_norm", ("x",)),
    ag.CatFn: ("cat", ("xs",)),
    ag.ReshapeFn: ("reshape", ("x",)),
    ag.SoftmaxFn: ("softmax", ("x",)),
    ag.LogSoftmaxFn: ("log_softmax", ("x",)),
    CastFn: ("cast", ("x",)),
    # beyond the zoo: what custom CNNs' forwards commonly run (x.mean(dims), upsampling, transposed convs, ...)
    ag.SumFn: ("sum", ("x",)),
    ag.PermuteFn: ("permute", ("x",)),
    ag.CloneFn: ("clone", ("x",)),
    ag.MatMulFn: ("matmul", ("a", "b")),
    ag.PReLUFn: ("prelu", ("x", "weight")),
    ag.ConvTranspose2dFn: ("conv_transpose2d", ("x", "w", "b")),
    ag.AdaptiveMaxPool2dFn: ("adaptive_max_pool2d", ("x",)),
    ag.InterpolateFn: ("interpolate", ("x",)),
    ag.PadFn: ("pad", ("x",)),
    ag.LayerNormFn: ("layer_norm", ("x", "w", "b")),
    ag.GroupNormFn: ("group_norm", ("x", "w", "b")),
    ag.PixelShuffleFn: ("pixel_shuffle", ("x",)),
}
FUNCTIONS = {name: fn for fn, (name, _) in OPS.items()}
SUPPORTED = ", ".join(sorted(FUNCTIONS))


def signature(fn):
    """fn.forward's signature without ctx (cached: inspect is slow)."""
    sig = _SIGNATURES.get(fn)
    if sig is None:
        full = inspect.signature(fn.forward)
        sig = _SIGNATURES[fn] = full.replace(parameters=list(full.parameters.values())[1:])
    return sig


_SIGNATURES = {}
VAR = inspect.Parameter.VAR_POSITIONAL
