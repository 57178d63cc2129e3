"""Numerical test helpers shared by the op tests.

gradcheck(fn, inputs, device=...)
                           float64 central finite differences against pycnn's autograd, for every
                           floating input (Caffe's test_gradient_check_util.hpp, with its kink tolerance);
                           fn runs on `device`, the perturbations are made on a host copy.
check_device_matches_cpu(fn, inputs, device)
                           fn on CPU tensors and on device copies (contiguous and a strided,
                           non-contiguous view): values and input gradients must agree.
check_module_device_matches_cpu(module, x, device)
                           the same for a module and its copy moved to the device (parameter gradients too).
check_torch(pfn, tfn, ins) the same inputs through pycnn and PyTorch: forward values and input gradients
                           must agree (tinygrad's helper_test_op). Skips when torch is not installed.
randn / distinct           non-trivial random inputs: never zeros, and for max-like ops no near-ties.
run_forked(fn)             fn() in a forked child: what it raised, as (exception class names, message); a crash
                           or a hang fails the caller's test instead of killing the run.
"""

import contextlib
import copy
import faulthandler
import functools
import json
import os
import re
import selectors
import shutil
import signal
import subprocess
import time
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


def host(t, device=None):
    """A tensor's values as a NumPy array on the host, whatever its device; with device, the tensor must be
    there (an op's result, not silently computed elsewhere)."""
    if device is not None:
        _on_device(t, device)
    return np.asarray(t.detach().cpu())


def _on_device(t, device):
    """Asserts an op's result stayed on the device its inputs came from (no silent trip to the host)."""
    want = str(pc.device(device)).split(":")[0]
    got = str(t.device).split(":")[0]
    assert got == want, f"the result is on {t.device}, its inputs on {device}"


def gradcheck(fn, inputs, eps=1e-6, atol=1e-6, rtol=1e-5, seed=0, max_kink_fraction=0.1, device="cpu"):
    """Checks pycnn's gradients of fn(*inputs) against float64 central differences.

    fn takes pycnn Tensors and returns one Tensor of any shape. inputs are NumPy arrays (floating ones are
    converted to float64 and differentiated; bool ones stay bool, other integer ones become int64 tensors passed through) or other
    values passed through unchanged. The scalar checked is sum(cotangent * fn(...)) for a fixed random
    cotangent, so one backward covers the whole Jacobian's action.

    The tensors are made on `device` and fn runs there (forward, backward and every perturbed forward);
    the perturbations are made on the host arrays, which are copied to the device for each evaluation.

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
                out.append(pc.tensor(a, dtype=pc.float64, device=device, requires_grad=requires_grad))
            elif isinstance(a, np.ndarray):
                out.append(pc.tensor(_index_array(a), device=device))
            else:
                out.append(a)
        return out

    tensors = make_inputs(arrays, True)
    out = fn(*tensors)
    assert out.dtype == pc.float64, f"gradcheck needs a float64 output, got {out.dtype}"
    _on_device(out, device)
    cotangent = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(pc.tensor(cotangent, dtype=pc.float64, device=device))

    def objective(values):
        with pc.no_grad():
            y = fn(*make_inputs(values, False))
        return float(np.sum(cotangent * host(y)))

    f0 = objective(arrays)
    for k, (a, t) in enumerate(zip(arrays, tensors)):
        if not _is_float_array(a):
            continue
        assert t.grad is not None, f"input {k}: no gradient was computed"
        _on_device(t.grad, device)
        analytic = host(t.grad).astype(np.float64)
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


def _index_array(a):
    """A non-float input array as the tests pass it: bool stays bool (a mask), other integers become int64."""
    return a if a.dtype == np.bool_ else a.astype(np.int64)


def _device_input(a, device, requires_grad, strided):
    """(leaf, argument) for one input. strided: the argument is a non-contiguous view into storage twice as
    large whose other half is NaN (every stride doubled), so a kernel that ignores strides reads NaN. The
    view itself is the leaf (cut out of the graph first), so its gradient needs no indexing backward."""
    if _is_float_array(a):
        if strided and a.ndim > 0:
            base = pc.tensor(np.stack([a, np.full_like(a, np.nan)], axis=-1), device=device)
            view = base[..., 0].detach().requires_grad_(requires_grad)
            assert a.size <= 1 or not view.is_contiguous()
            return view, view
        leaf = pc.tensor(a, device=device, requires_grad=requires_grad)
        return leaf, leaf
    if isinstance(a, np.ndarray):
        return None, pc.tensor(_index_array(a), device=device)
    return None, a


def _run_device(fn, inputs, device, strided, grad, seed):
    """fn's outputs and its inputs' gradients (for a fixed cotangent on the first output), on the host."""
    pairs = [_device_input(a, device, grad, strided) for a in inputs]
    out = _outputs(fn(*[arg for _, arg in pairs]))
    for o in out:
        _on_device(o, device)
    values = [host(o) for o in out]
    first = out[0]
    if not grad or not first.dtype.is_floating_point:
        return values, []
    cot = np.random.default_rng(seed).standard_normal(first.shape).astype(values[0].dtype)
    first.backward(pc.tensor(cot, device=device))
    grads = []
    for leaf, _ in pairs:
        if leaf is None:
            continue
        assert leaf.grad is not None, "an input got no gradient"
        _on_device(leaf.grad, device)
        grads.append(host(leaf.grad))
    return values, grads


@contextlib.contextmanager
def convolutions_as_on_cuda(device):
    """For a comparison with another device: the CPU convolutions by implicit GEMM, as CUDA computes them,
    not Winograd (whose rounding differs by ~10x; tests/test_winograd.py bounds it), so the two differ by
    summation order only."""
    if device == "cpu":
        yield
        return
    before = pc._C._conv2d_algorithm()
    pc._C._set_conv2d_algorithm("gemm")
    try:
        yield
    finally:
        pc._C._set_conv2d_algorithm(before)


def check_device_matches_cpu(
    fn,
    inputs,
    device,
    rtol=1e-5,
    atol=1e-6,
    grad=True,
    noncontiguous=True,
    grad_rtol=None,
    grad_atol=None,
    seed=0,
    deterministic=True,
):
    """fn(*inputs) on `device` (contiguous inputs, and a strided non-contiguous view of each floating input)
    against fn on contiguous CPU inputs: every output (integer ones exactly) and, with grad, the gradient of
    every floating input for a fixed cotangent on the first output.

    inputs are NumPy arrays (floating ones keep their dtype, so float32 inputs test the float32 kernels;
    integer ones become int64 tensors) or other values passed through. rtol/atol are the per-op float32
    tolerances (float64 agrees far tighter). On the CPU only the non-contiguous variant runs: the
    contiguous one is the reference itself. deterministic: on another device a second run must give bitwise
    the same values and gradients (no floating-point atomics in sums).
    """
    with convolutions_as_on_cuda(device):
        _check_device_matches_cpu(
            fn, inputs, device, rtol, atol, grad, noncontiguous, grad_rtol, grad_atol, seed, deterministic
        )


def _check_device_matches_cpu(
    fn, inputs, device, rtol, atol, grad, noncontiguous, grad_rtol, grad_atol, seed, deterministic
):
    ref_values, ref_grads = _run_device(fn, inputs, "cpu", False, grad, seed)
    variants = [False, True] if noncontiguous else [False]
    if device == "cpu":
        variants = [v for v in variants if v]
    for strided in variants:
        name = f"{device} {'strided' if strided else 'contiguous'}"
        values, grads = _run_device(fn, inputs, device, strided, grad, seed)
        assert len(values) == len(ref_values)
        for i, (v, r) in enumerate(zip(values, ref_values)):
            assert v.shape == r.shape and v.dtype == r.dtype, (
                f"output {i} on {name}: {v.dtype}{v.shape} != {r.dtype}{r.shape}"
            )
            if r.dtype.kind in "iub":
                np.testing.assert_array_equal(v, r, err_msg=f"output {i} on {name} differs from the CPU")
            else:
                np.testing.assert_allclose(
                    v, r, rtol=rtol, atol=atol, err_msg=f"output {i} on {name} differs from the CPU"
                )
        for k, (g, r) in enumerate(zip(grads, ref_grads)):
            np.testing.assert_allclose(
                g,
                r,
                rtol=rtol if grad_rtol is None else grad_rtol,
                atol=atol if grad_atol is None else grad_atol,
                err_msg=f"gradient of floating input {k} on {name} differs from the CPU",
            )
        if deterministic and device != "cpu" and not strided:
            again_values, again_grads = _run_device(fn, inputs, device, strided, grad, seed)
            for i, (a, v) in enumerate(zip(again_values, values)):
                np.testing.assert_array_equal(a, v, err_msg=f"output {i} on {device} differs between two runs")
            for k, (a, g) in enumerate(zip(again_grads, grads)):
                np.testing.assert_array_equal(a, g, err_msg=f"gradient {k} on {device} differs between two runs")


def _module_runs(module, x, device, seed, call_kwargs):
    runs = []
    for dev, mod in (("cpu", copy.deepcopy(module)), (device, copy.deepcopy(module).to(device))):
        strided = len(runs) == 1 and device == "cpu" and np.ndim(x) > 0
        leaf, xt = _device_input(np.asarray(x), dev, True, strided)
        y = mod(xt, **call_kwargs)
        _on_device(y, dev)
        cot = np.random.default_rng(seed).standard_normal(y.shape).astype(host(y).dtype)
        y.backward(pc.tensor(cot, device=dev))
        params = {n: host(p.grad) for n, p in mod.named_parameters() if p.grad is not None}
        buffers = {n: host(b) for n, b in mod.named_buffers()}
        runs.append((host(y), host(leaf.grad), params, buffers))
    return runs


def check_module_device_matches_cpu(module, x, device, rtol=1e-5, atol=1e-6, seed=0, **call_kwargs):
    """module(x) on the CPU against a deep copy of the module moved to `device`: output, the input's
    gradient, every parameter's gradient (for a fixed cotangent) and the buffers after the call (running
    statistics), within the per-op float32 tolerances. On the CPU the copy gets a strided view of x."""
    with convolutions_as_on_cuda(device):
        runs = _module_runs(module, x, device, seed, call_kwargs)
    (y0, g0, p0, b0), (y1, g1, p1, b1) = runs
    np.testing.assert_allclose(y1, y0, rtol=rtol, atol=atol, err_msg=f"output on {device}")
    np.testing.assert_allclose(g1, g0, rtol=rtol, atol=atol, err_msg=f"input gradient on {device}")
    assert p1.keys() == p0.keys()
    for n in p0:
        np.testing.assert_allclose(p1[n], p0[n], rtol=rtol, atol=atol, err_msg=f"gradient of {n} on {device}")
    assert b1.keys() == b0.keys()
    for n in b0:  # running statistics and counters
        np.testing.assert_allclose(b1[n], b0[n], rtol=rtol, atol=atol, err_msg=f"buffer {n} on {device}")


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
            a = _index_array(a)
            p_in.append(pc.tensor(a))
            t_in.append(torch.tensor(a))
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


def module_parity(ours, theirs, x, rtol, atol, output_size=None, device="cpu"):
    """Forward values and input / parameter gradients of our module and a torch module given our parameters.
    On another device: a copy of our module moved there against a copy on the CPU (torch is not used)."""
    if device != "cpu":
        kwargs = {} if output_size is None else {"output_size": output_size}
        check_module_device_matches_cpu(ours, x, device, rtol=rtol, atol=atol, **kwargs)
        return
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


def run_forked(fn, timeout=30.0):
    """fn() in a forked child, with faulthandler on (a crash prints the child's stack): returns what it raised
    as (names of the exception's classes, most derived first, message), or ([], "") when it raised nothing.
    A child that dies of a signal or runs past timeout seconds fails the calling test, naming how."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report and leave at once, never returning into pytest
        status = 3  # unless the report below gets written
        try:
            os.close(read_end)
            faulthandler.enable()
            try:
                fn()
                result = [[], ""]
            except BaseException as e:  # noqa: BLE001  (SystemExit and KeyboardInterrupt are answers too)
                # str() of a KeyError is the repr of its message: report the message itself
                message = e.args[0] if isinstance(e, KeyError) and len(e.args) == 1 else str(e)
                result = [[c.__name__ for c in type(e).__mro__], str(message)]
            with os.fdopen(write_end, "wb") as out:
                out.write(json.dumps(result, default=str).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    data = _read_until_closed(read_end, pid, timeout)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        pytest.fail(f"the child crashed: signal {signal.Signals(os.WTERMSIG(status)).name}")
    assert os.WEXITSTATUS(status) == 0 and data, f"the child failed to report (exit status {status})"
    names, message = json.loads(data)
    return names, message


def _read_until_closed(fd, pid, timeout):
    chunks = []
    with selectors.DefaultSelector() as sel, os.fdopen(fd, "rb", buffering=0) as f:
        sel.register(f, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while True:
            if not sel.select(max(0.0, deadline - time.monotonic())):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                pytest.fail(f"the child ran past {timeout} s")
            chunk = f.read(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


# The deploy issue's zoo (model, a small input shape it accepts): shared by the program, C++ and ONNX tests
ZOO = [
    ("lenet5", (2, 1, 28, 28)),
    ("alexnet", (2, 3, 64, 64)),
    ("alexnet_original", (1, 3, 224, 224)),
    ("zfnet", (1, 3, 112, 112)),
    ("vgg11", (2, 3, 32, 32)),
    ("vgg16_bn", (2, 3, 32, 32)),
    ("nin", (2, 3, 32, 32)),
    ("googlenet", (2, 3, 64, 64)),
    ("resnet18", (2, 3, 64, 64)),
    ("resnet50", (1, 3, 64, 64)),
    ("resnet20", (2, 3, 32, 32)),
    ("densenet121", (1, 3, 64, 64)),
    ("squeezenet1_1", (2, 3, 64, 64)),
    ("mobilenet_v2", (2, 3, 32, 32)),
]


@functools.cache
def zoo_model(name):
    """pc.models.<name>() in eval mode with excite's weights and statistics, built once per test session: VGG's and AlexNet's 60-140 M
    weights take seconds to initialise. Tests must not change it."""
    pc.manual_seed(1)
    return excite(getattr(pc.models, name)()).eval()


def excite(model, seed=0):
    """He-normal weights and random BatchNorm statistics and affine parameters: at their own initialisation
    some zoo models (GoogLeNet, MobileNetV2) output nearly their last bias, whatever the input, which would
    compare nothing; and a program that ignored the running statistics would differ."""
    rng = np.random.default_rng(seed)
    with pc.no_grad():
        for m in model.modules():
            if isinstance(m, (pc.nn.Conv2d, pc.nn.Linear)):
                std = np.sqrt(2.0 / m.weight[0].numel())
                m.weight.copy_(pc.tensor((rng.standard_normal(m.weight.shape) * std).astype(np.float32)))
            elif isinstance(m, pc.nn.BatchNorm2d):
                for t, lo, hi in ((m.running_mean, -0.2, 0.2), (m.running_var, 0.5, 1.5), (m.weight, 0.5, 1), (m.bias, -0.2, 0.2)):  # fmt: skip
                    t.copy_(pc.tensor(rng.uniform(lo, hi, m.num_features).astype(np.float32)))
    return model


# ---- C++ programs built against the installed package (the deploy and embedding examples)
def tool(name):
    """The path of a command-line tool, or a skip when it is not installed."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path


def elf_dynamic(path):
    """readelf -d: the NEEDED libraries and the RUNPATH/RPATH entries of an ELF file."""
    out = subprocess.run([tool("readelf"), "-d", str(path)], capture_output=True, text=True, check=True).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.*?)\]", out)
    runpath = re.findall(r"\((?:RUNPATH|RPATH)\)\s+Library (?:runpath|rpath): \[(.*?)\]", out)
    return needed, runpath


def cmake_build(source, build):
    """Configures and builds a CMake project against this pycnn's CMake package (pycnn.cmake_prefix_path), as a
    user's application would; skips without cmake or a C++ compiler."""
    cmake = tool("cmake")
    cxx = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")
    if not cxx or not shutil.which(cxx):
        pytest.skip("no C++ compiler")
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    configure = [cmake, "-S", str(source), "-B", str(build), *generator, "-DCMAKE_BUILD_TYPE=Release"]
    configure += [f"-DCMAKE_PREFIX_PATH={pc.cmake_prefix_path}", f"-DCMAKE_CXX_COMPILER={cxx}"]
    for command in [configure, [cmake, "--build", str(build)]]:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def torch_resnet18(torch, num_classes=1000, width=64):
    """ResNet-18 in plain torch.nn with torchvision's module names (torchvision does not install beside torch
    2.13 here); width scales every stage (64: torchvision's; narrower ones make quick tests)."""
    tnn = torch.nn

    class BasicBlock(tnn.Module):
        def __init__(self, inplanes, planes, stride):
            super().__init__()
            self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(planes)
            self.relu = tnn.ReLU()
            self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = tnn.BatchNorm2d(planes)
            self.downsample = None
            if stride != 1 or inplanes != planes:
                self.downsample = tnn.Sequential(
                    tnn.Conv2d(inplanes, planes, 1, stride, bias=False), tnn.BatchNorm2d(planes)
                )

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            return self.relu(self.bn2(self.conv2(out)) + identity)

    class ResNet(tnn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = tnn.Conv2d(3, width, 7, 2, 3, bias=False)
            self.bn1 = tnn.BatchNorm2d(width)
            self.relu = tnn.ReLU()
            self.maxpool = tnn.MaxPool2d(3, 2, 1)
            inplanes = width
            for i in range(4):
                planes = width << i
                blocks = [BasicBlock(inplanes, planes, 1 if i == 0 else 2), BasicBlock(planes, planes, 1)]
                setattr(self, f"layer{i + 1}", tnn.Sequential(*blocks))
                inplanes = planes
            self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
            self.fc = tnn.Linear(inplanes, num_classes)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return ResNet()


# ---- multi-process runs under MPI (the distributed tests) ----
def mpi_launcher():
    """mpirun (Open MPI) or mpiexec (MPICH) beside this Python or on PATH; skips the test when mpi4py or a
    launcher is missing (CI installs both through the test extra)."""
    pytest.importorskip("mpi4py")
    here = Path(os.sys.executable).parent
    for name in ("mpirun", "mpiexec"):
        path = here / name if (here / name).exists() else shutil.which(name)
        if path:
            return str(path)
    pytest.skip("no MPI launcher (mpirun or mpiexec) is installed")


@functools.cache
def _is_open_mpi(launcher):
    done = subprocess.run([launcher, "--version"], capture_output=True, text=True, check=False, timeout=60)
    return "open mpi" in (done.stdout + done.stderr).lower() or "prte" in (done.stdout + done.stderr).lower()


def mpirun(args, n=2, timeout=180, env=None, cwd=SUBPROCESS_CWD):
    """`mpirun -n n python args...` with one CPU thread per rank; returns the CompletedProcess (text output).
    Open MPI refuses to run as root and to start more ranks than it counts cores unless told; a run that
    outlives timeout seconds is killed with its ranks and fails the test."""
    launcher = mpi_launcher()
    command = [launcher, "-n", str(n)]
    if _is_open_mpi(launcher):
        command += ["--oversubscribe", "--bind-to", "none"]
        if os.geteuid() == 0:
            command.append("--allow-run-as-root")
    command += [os.sys.executable, *map(str, args)]
    full_env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1", **(env or {})}
    with subprocess.Popen(
        command, cwd=cwd, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    ) as proc:  # fmt: skip
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            pytest.fail(f"{' '.join(command)} ran past {timeout} s\n{out[-3000:]}\n{err[-3000:]}")
    return subprocess.CompletedProcess(command, proc.returncode, out, err)
