"""pycnn.summary: a per-layer table of output shapes, parameter counts and FLOPs, like torchinfo's summary.

It runs one forward pass on random input. Module has no hook mechanism, so each leaf module (one with no
children) gets its `forward` temporarily replaced, on the instance, by a wrapper that records the output;
the originals are restored in a `finally` block, also when the forward raises.

FLOP counting: only convolutions and linear layers are counted, as 2 x multiply-accumulates (one multiply +
one add each); bias additions, normalisation, activations, pooling and residual additions are not counted
(they are a few percent of the total for these networks). Conv2d MACs = N * C_out * H_out * W_out *
(C_in / groups) * KH * KW; Linear MACs = (elements of the output) * in_features. Numbers are for the whole
input batch, so pass batch size 1 for per-image FLOPs (ResNet-18 at 224x224: 3.63 GFLOPs = 1.81 GMACs).
"""

import itertools

import numpy as np

from .autograd import no_grad
from .creation import randn
from .nn import Conv2d, Linear, Module

__all__ = ["summary"]


def _shape_of(out):
    if isinstance(out, (tuple, list)):
        return [_shape_of(o) for o in out]
    shape = getattr(out, "shape", None)
    return tuple(int(s) for s in shape) if shape is not None else None


def _flops(module, out_shape):
    if isinstance(module, Conv2d) and isinstance(out_shape, tuple):
        kh, kw = module.weight.shape[2], module.weight.shape[3]
        macs = int(np.prod(out_shape)) * (module.in_channels // module.groups) * kh * kw
        return 2 * macs
    if isinstance(module, Linear) and isinstance(out_shape, tuple):
        return 2 * int(np.prod(out_shape)) * module.in_features
    return 0


def _wrap(module, name, rows):
    original = module.forward

    def forward(*args, **kwargs):
        out = original(*args, **kwargs)
        shape = _shape_of(out)
        rows.append(
            {
                "name": name,
                "type": type(module).__name__,
                "output_shape": shape,
                "params": sum(p.numel() for p in module.parameters(recurse=False)),
                "flops": _flops(module, shape),
            }
        )
        return out

    return forward


def summary(model, input_shape, dtype=None, device=None, print_table=True):
    """Run one forward on random input and report each leaf layer, in execution order.

    Args:
        model (nn.Module): the network. It runs in eval mode without gradients; its training flags are
            restored afterwards (so BatchNorm running statistics are not changed).
        input_shape (tuple of ints): full input shape including the batch, e.g. (1, 3, 224, 224).
        dtype, device: of the random input (default: the default dtype; the device of the model's first
            parameter or buffer, so that a model on a GPU gets its input there; CPU for a model without any).
        print_table (bool): print the table and totals. Default: True.
    Returns:
        list of dicts, one per leaf-module call: name (dotted path), type, output_shape (tuple, or a list for
        tuple outputs), params (the layer's own parameters; a layer called twice shows them twice), flops.
    """
    if not isinstance(model, Module):
        raise TypeError(f"[summary] expected an nn.Module, got {type(model).__name__}")
    if not isinstance(input_shape, (tuple, list)) or not all(
        isinstance(s, (int, np.integer)) and s > 0 for s in input_shape
    ):
        raise ValueError(
            f"[summary] input_shape must be a tuple of positive ints (with the batch), got {input_shape!r}"
        )
    rows = []
    leaves = [(name, m) for name, m in model.named_modules() if all(c is None for c in m._modules.values())]
    training = [(m, m.training) for m in model.modules()]
    wrapped = []
    try:
        for name, m in leaves:
            had_own = "forward" in m.__dict__
            wrapped.append((m, had_own, m.__dict__.get("forward")))
            m.__dict__["forward"] = _wrap(m, name or type(m).__name__, rows)
        model.eval()
        if device is None:
            first = next(itertools.chain(model.parameters(), model.buffers()), None)
            device = first.device if first is not None else "cpu"
        x = randn(*[int(s) for s in input_shape], dtype=dtype, device=device)
        with no_grad():
            model(x)
    finally:
        for m, had_own, own in wrapped:
            if had_own:
                m.__dict__["forward"] = own
            else:
                m.__dict__.pop("forward", None)
        for m, mode in training:
            m.training = mode
    if print_table:
        _print(model, rows)
    return rows


def _print(model, rows):
    total_params = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total_flops = sum(r["flops"] for r in rows)
    name_w = max([len("Layer (type)")] + [len(f"{r['name']} ({r['type']})") for r in rows])
    header = f"{'Layer (type)':<{name_w}}  {'Output shape':<22}  {'Params':>12}  {'FLOPs':>15}"
    lines = [header, "=" * len(header)]
    for r in rows:
        lines.append(
            f"{r['name'] + ' (' + r['type'] + ')':<{name_w}}  {r['output_shape']!s:<22}  "
            f"{r['params']:>12,}  {r['flops']:>15,}"
        )
    lines += [
        "=" * len(header),
        f"Total params: {total_params:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {total_params - trainable:,}",
        f"Total FLOPs (2 x MACs, conv/linear only): {total_flops:,} ({total_flops / 1e9:.2f} G)",
    ]
    print("\n".join(lines))
