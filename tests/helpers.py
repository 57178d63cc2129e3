"""Numerical test helpers shared by the op tests.

gradcheck(fn, inputs)      float64 central finite differences against pycnn's autograd, for every
                           floating input (Caffe's test_gradient_check_util.hpp, with its kink tolerance).
check_torch(pfn, tfn, ins) the same inputs through pycnn and PyTorch: forward values and input gradients
                           must agree (tinygrad's helper_test_op). Skips when torch is not installed.
randn / distinct           non-trivial random inputs: never zeros, and for max-like ops no near-ties.
"""

from pathlib import Path

import numpy as np
import pytest

import pycnn as pc

# A Python process started in the repository root would import the source tree's pycnn/ (which holds no
# compiled core) before the installed package: the tests start their subprocesses in this folder instead.
SUBPROCESS_CWD = Path(__file__).resolve().parent


def randn(*shape, dtype=np.float64, seed=0, away_from_zero=0.0):
    """Standard normal samples; with away_from_zero=d every |value| is at least d (for ReLU's kink)."""
    rng = np.random.default_rng(seed)
    x = np.asarray(rng.standard_normal(shape))
    if away_from_zero:
        x = np.sign(x) * (np.abs(x) + away_from_zero)
        x = np.where(x == 0, away_from_zero, x)
    return np.asarray(x, dtype=dtype)


def distinct(*shape, dtype=np.float64, seed=0, gap=0.05):
    """Values in random order whose pairwise distance is at least `gap` and none near zero: max pooling
    and argmax then have a unique winner that a finite-difference step cannot flip."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape)) if shape else 1
    values = (rng.permutation(n) - n / 2.0 + 0.5) * gap  # ..., -1.5g, -0.5g, 0.5g, 1.5g, ...
    return values.reshape(shape).astype(dtype)


def _is_float_array(a):
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def gradcheck(fn, inputs, eps=1e-6, atol=1e-6, rtol=1e-5, seed=0, max_kink_fraction=0.1):
    """Checks pycnn's gradients of fn(*inputs) against float64 central differences.

    fn takes pycnn Tensors and returns one Tensor of any shape. inputs are NumPy arrays (floating ones are
    converted to float64 and differentiated; integer ones become int64 tensors passed through) or other
    values passed through unchanged. The scalar checked is sum(cotangent * fn(...)) for a fixed random
    cotangent, so one backward covers the whole Jacobian's action.

    Kinks (ReLU at 0, max-pool ties): where the one-sided differences on either side of a point disagree,
    a kink lies within eps of it and the derivative is undefined there; such points are skipped, and the
    test fails if more than max_kink_fraction of an input's points are skipped (inputs should be chosen
    away from kinks in the first place).
    """
    arrays = [np.array(a, dtype=np.float64) if _is_float_array(a) else a for a in inputs]

    def make_inputs(values, requires_grad):
        out = []
        for a in values:
            if _is_float_array(a):
                out.append(pc.tensor(a, dtype=pc.float64, requires_grad=requires_grad))
            elif isinstance(a, np.ndarray):
                out.append(pc.tensor(a.astype(np.int64)))
            else:
                out.append(a)
        return out

    tensors = make_inputs(arrays, True)
    out = fn(*tensors)
    assert out.dtype == pc.float64, f"gradcheck needs a float64 output, got {out.dtype}"
    cotangent = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(pc.tensor(cotangent, dtype=pc.float64))

    def objective(values):
        with pc.no_grad():
            y = fn(*make_inputs(values, False))
        return float(np.sum(cotangent * np.asarray(y)))

    f0 = objective(arrays)
    for k, (a, t) in enumerate(zip(arrays, tensors)):
        if not _is_float_array(a):
            continue
        assert t.grad is not None, f"input {k}: no gradient was computed"
        analytic = np.asarray(t.grad).astype(np.float64)
        assert analytic.shape == a.shape, f"input {k}: gradient shape {analytic.shape} != input shape {a.shape}"
        numeric = np.zeros_like(a)
        kinks = np.zeros(a.shape, dtype=bool)
        flat, nflat = a.reshape(-1), numeric.reshape(-1)
        kflat = kinks.reshape(-1)
        for i in range(flat.size):
            orig = flat[i]
            flat[i] = orig + eps
            fp = objective(arrays)
            flat[i] = orig - eps
            fm = objective(arrays)
            flat[i] = orig
            nflat[i] = (fp - fm) / (2 * eps)
            forward, backward = (fp - f0) / eps, (f0 - fm) / eps
            # smooth: the one-sided slopes differ by O(eps * f''); at a kink by O(1)
            kflat[i] = abs(forward - backward) > 1e-3 * (1.0 + abs(nflat[i]))
        assert kinks.mean() <= max_kink_fraction, (
            f"input {k}: {kinks.sum()} of {kinks.size} points sit on kinks; choose inputs away from them"
        )
        ok = ~kinks
        np.testing.assert_allclose(
            analytic[ok], numeric[ok], atol=atol, rtol=rtol, err_msg=f"gradcheck: input {k} (shape {a.shape})"
        )


def _outputs(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def check_torch(
    pycnn_fn, torch_fn, inputs, atol=1e-6, rtol=1e-5, grad_atol=None, grad_rtol=None, check_grad=True, seed=0
):
    """Runs the same inputs through pycnn_fn and torch_fn and compares forward values and gradients.

    inputs are NumPy arrays: floating ones become differentiable tensors of the same dtype in both
    libraries, integer ones int64 tensors. Outputs may be a tensor or a tuple; integer outputs (indices)
    must match exactly. Gradients come from backward with the same random cotangent on the first output.
    """
    torch = pytest.importorskip("torch")
    p_in, t_in = [], []
    for a in inputs:
        if _is_float_array(a):
            p_in.append(pc.tensor(a, requires_grad=check_grad))
            t_in.append(torch.tensor(a, requires_grad=check_grad))
        elif isinstance(a, np.ndarray):
            p_in.append(pc.tensor(a.astype(np.int64)))
            t_in.append(torch.tensor(a.astype(np.int64)))
        else:
            p_in.append(a)
            t_in.append(a)
    p_out, t_out = _outputs(pycnn_fn(*p_in)), _outputs(torch_fn(*t_in))
    assert len(p_out) == len(t_out), f"pycnn returned {len(p_out)} outputs, torch {len(t_out)}"
    for i, (p, t) in enumerate(zip(p_out, t_out)):
        pv, tv = np.asarray(p.detach()), t.detach().numpy()
        assert pv.shape == tv.shape, f"output {i}: pycnn shape {pv.shape} != torch shape {tv.shape}"
        if tv.dtype.kind in "iu":
            np.testing.assert_array_equal(pv, tv, err_msg=f"output {i} (integer) differs from torch")
        else:
            assert pv.dtype == tv.dtype, f"output {i}: pycnn dtype {pv.dtype} != torch dtype {tv.dtype}"
            np.testing.assert_allclose(pv, tv, atol=atol, rtol=rtol, err_msg=f"output {i} differs from torch")
    if not check_grad:
        return
    cot = np.random.default_rng(seed).standard_normal(tuple(t_out[0].shape)).astype(t_out[0].detach().numpy().dtype)
    p_out[0].backward(pc.tensor(cot))
    t_out[0].backward(torch.tensor(cot))
    for k, (a, p, t) in enumerate(zip(inputs, p_in, t_in)):
        if not _is_float_array(a):
            continue
        assert p.grad is not None, f"input {k}: pycnn computed no gradient"
        np.testing.assert_allclose(
            np.asarray(p.grad),
            t.grad.numpy(),
            atol=atol if grad_atol is None else grad_atol,
            rtol=rtol if grad_rtol is None else grad_rtol,
            err_msg=f"gradient of input {k} differs from torch",
        )


check_op = check_torch  # the name STYLE.md uses


def conv2d_ref(x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    """Direct 2-D convolution in float64: x (N, C, H, W), w (OC, C/groups, KH, KW), symmetric padding."""
    x, w = x.astype(np.float64), w.astype(np.float64)
    N, _C, H, W = x.shape
    OC, Cg, KH, KW = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    OH = (H + 2 * ph - dh * (KH - 1) - 1) // sh + 1
    OW = (W + 2 * pw - dw * (KW - 1) - 1) // sw + 1
    OCg = OC // groups
    y = np.zeros((N, OC, OH, OW))
    for g in range(groups):
        xs, ws = xp[:, g * Cg : (g + 1) * Cg], w[g * OCg : (g + 1) * OCg]
        for i in range(OH):
            for j in range(OW):
                patch = xs[:, :, i * sh : i * sh + dh * (KH - 1) + 1 : dh, j * sw : j * sw + dw * (KW - 1) + 1 : dw]
                y[:, g * OCg : (g + 1) * OCg, i, j] = np.einsum("nckl,ockl->no", patch, ws)
    if b is not None:
        y += b.astype(np.float64)[None, :, None, None]
    return y


def torch_module_like(ours, theirs):
    """Copies our module's parameters into the torch module (their state_dict keys and shapes must match)."""
    torch = pytest.importorskip("torch")
    sd = ours.state_dict()
    tsd = theirs.state_dict()
    assert list(sd.keys()) == list(tsd.keys())
    for k in sd:
        assert tuple(sd[k].shape) == tuple(tsd[k].shape), k
    theirs.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in sd.items()})
    return theirs


def module_parity(ours, theirs, x, rtol, atol, output_size=None):
    """Forward values and input / parameter gradients of our module and a torch module given our parameters."""
    torch = pytest.importorskip("torch")
    theirs = torch_module_like(ours, theirs)
    xp, xt = pc.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yp = ours(xp) if output_size is None else ours(xp, output_size=output_size)
    yt = theirs(xt) if output_size is None else theirs(xt, output_size=output_size)
    np.testing.assert_allclose(np.asarray(yp.detach()), yt.detach().numpy(), rtol=rtol, atol=atol)
    dout = randn(*yt.shape, dtype=x.dtype, seed=9)
    yp.backward(pc.tensor(dout))
    yt.backward(torch.tensor(dout))
    np.testing.assert_allclose(np.asarray(xp.grad), xt.grad.numpy(), rtol=rtol, atol=atol)
    for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(np.asarray(p.grad), tp.grad.numpy(), err_msg=name, rtol=rtol, atol=atol)


def expect_error(exc, op, fn, *names):
    """fn() raises exc, the message starts with [op] and contains every one of names (shapes, values)."""
    with pytest.raises(exc) as info:
        fn()
    msg = str(info.value)
    assert msg.startswith(f"[{op}]"), msg
    for name in names:
        assert str(name) in msg, f"{name!r} not in {msg!r}"
