"""Tests for Adam, AdamW, RMSprop, Adagrad and Adadelta (pycnn.optim, C++ update kernels).

Each optimizer runs 20 steps on the same parameters and gradient sequence as a plain NumPy transcription
of PyTorch's rule (written below, operation for operation) and as torch.optim (when installed); then
param groups, add_param_group, zero_grad, state dicts (our round trip and torch's), bad input, and a
short LeNet training run. Read the NumPy references first: they are the specification.
"""

import copy

import numpy as np
import pytest

import pycnn as pc
from pycnn import nn, optim

# ---------------------------------------------------------------- NumPy references of torch's rules
# Scalars stay Python floats, so NumPy rounds them to the array's dtype as torch does (NEP 50).


def _lerp(a, b, w):
    """torch.lerp with a scalar weight, which torch rounds to the tensor's dtype first."""
    w = a.dtype.type(w)
    return a + w * (b - a) if abs(w) < 0.5 else b - (b - a) * (a.dtype.type(1) - w)


def _adam_ref(
    p,
    grads,
    lr=1e-3,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0,
    amsgrad=False,
    maximize=False,
    decoupled_weight_decay=False,
    state=None,
):
    beta1, beta2 = betas
    p = p.copy()
    st = state or {"step": 0.0, "exp_avg": np.zeros_like(p), "exp_avg_sq": np.zeros_like(p)}
    st = {k: np.copy(v) if isinstance(v, np.ndarray) else v for k, v in st.items()}
    if amsgrad:
        st.setdefault("max_exp_avg_sq", np.zeros_like(p))
    for g in grads:
        st["step"] += 1
        t = st["step"]
        g = -g if maximize else g
        if weight_decay != 0:
            if decoupled_weight_decay:
                p = p * (1 - lr * weight_decay)
            else:
                g = g + weight_decay * p
        st["exp_avg"] = _lerp(st["exp_avg"], g, 1 - beta1)
        st["exp_avg_sq"] = st["exp_avg_sq"] * beta2 + ((1 - beta2) * g) * g
        second = st["exp_avg_sq"]
        if amsgrad:
            st["max_exp_avg_sq"] = second = np.maximum(st["max_exp_avg_sq"], second)
        denom = np.sqrt(second) / (1 - beta2**t) ** 0.5 + eps
        p = p + (-(lr / (1 - beta1**t))) * st["exp_avg"] / denom
    return p, st


def _adamw_ref(
    p, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, maximize=False, state=None
):
    return _adam_ref(
        p, grads, lr, betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay=True, state=state
    )


def _rmsprop_ref(
    p, grads, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, maximize=False, state=None
):
    p = p.copy()
    st = state or {"step": 0.0, "square_avg": np.zeros_like(p)}
    st = {k: np.copy(v) if isinstance(v, np.ndarray) else v for k, v in st.items()}
    if momentum > 0:
        st.setdefault("momentum_buffer", np.zeros_like(p))
    if centered:
        st.setdefault("grad_avg", np.zeros_like(p))
    for g in grads:
        st["step"] += 1
        g = -g if maximize else g
        if weight_decay != 0:
            g = g + weight_decay * p
        st["square_avg"] = st["square_avg"] * alpha + ((1 - alpha) * g) * g
        if centered:
            st["grad_avg"] = _lerp(st["grad_avg"], g, 1 - alpha)
            avg = np.sqrt(st["square_avg"] - st["grad_avg"] * st["grad_avg"]) + eps
        else:
            avg = np.sqrt(st["square_avg"]) + eps
        if momentum > 0:
            st["momentum_buffer"] = st["momentum_buffer"] * momentum + g / avg
            p = p + (-lr) * st["momentum_buffer"]
        else:
            p = p + (-lr) * g / avg
    return p, st


def _adagrad_ref(
    p, grads, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, maximize=False, state=None
):
    p = p.copy()
    st = state or {"step": 0.0, "sum": np.full_like(p, initial_accumulator_value)}
    st = {k: np.copy(v) if isinstance(v, np.ndarray) else v for k, v in st.items()}
    for g in grads:
        st["step"] += 1
        g = -g if maximize else g
        if weight_decay != 0:
            g = g + weight_decay * p
        clr = lr / (1 + (st["step"] - 1) * lr_decay)
        st["sum"] = st["sum"] + g * g
        p = p + (-clr) * g / (np.sqrt(st["sum"]) + eps)
    return p, st


def _adadelta_ref(p, grads, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, maximize=False, state=None):
    p = p.copy()
    st = state or {"step": 0.0, "square_avg": np.zeros_like(p), "acc_delta": np.zeros_like(p)}
    st = {k: np.copy(v) if isinstance(v, np.ndarray) else v for k, v in st.items()}
    for g in grads:
        st["step"] += 1
        g = -g if maximize else g
        if weight_decay != 0:
            g = g + weight_decay * p
        st["square_avg"] = st["square_avg"] * rho + ((1 - rho) * g) * g
        delta = np.sqrt(st["acc_delta"] + eps) / np.sqrt(st["square_avg"] + eps) * g
        st["acc_delta"] = st["acc_delta"] * rho + ((1 - rho) * delta) * delta
        p = p + (-lr) * delta
    return p, st


REFERENCES = {
    "Adam": _adam_ref,
    "AdamW": _adamw_ref,
    "RMSprop": _rmsprop_ref,
    "Adagrad": _adagrad_ref,
    "Adadelta": _adadelta_ref,
}

CONFIGS = [
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.02, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "betas": (0.3, 0.8), "eps": 1e-3, "maximize": True}),  # lerp's large-weight branch
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.05, "maximize": True}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.3, "amsgrad": True}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.0, "maximize": True}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.005, "alpha": 0.9, "momentum": 0.5, "centered": True, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.3, "centered": True, "maximize": True}),  # lerp's large-weight branch
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.05, "initial_accumulator_value": 0.5, "eps": 1e-3, "maximize": True}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.5, "weight_decay": 0.1, "maximize": True}),
]


def _cfg_id(case):
    name, cfg = case
    return name + "(" + ",".join(f"{k}={v}" for k, v in cfg.items()) + ")"


def _np(t):
    """A copy of t's values on the host, whatever its device."""
    return np.array(t.detach().cpu().numpy())


def _grads(shape, steps=20, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(dtype) for _ in range(steps)]


def _run_pycnn(name, p0, grads, cfg, device="cpu"):
    p = nn.Parameter(pc.tensor(p0, device=device))
    opt = getattr(optim, name)([p], **cfg)
    for g in grads:
        p.grad = pc.tensor(g, device=device)
        opt.step()
    return p, opt


def _run_torch(torch, name, p0, grads, cfg):
    tp = torch.nn.Parameter(torch.from_numpy(p0.copy()))
    topt = getattr(torch.optim, name)([tp], **cfg)
    for g in grads:
        tp.grad = torch.from_numpy(g.copy())
        topt.step()
    return tp, topt


def _state_np(state):
    return {k: (_np(v) if isinstance(v, pc.Tensor) else v) for k, v in state.items()}


# float64: the kernels and the references perform the same operations, so only compiler contraction could
# separate them; float32 rounds each operation to 24 bits, and near-cancelling elements drift more.
TOL = {np.float64: {"rtol": 1e-12, "atol": 1e-14}, np.float32: {"rtol": 1e-5, "atol": 1e-6}}
TORCH_TOL = {np.float64: {"rtol": 1e-10, "atol": 1e-12}, np.float32: {"rtol": 1e-4, "atol": 1e-5}}


def tol(dtype, device):
    """On the CPU the kernels repeat the references' operations (TOL); another device's compiler contracts
    multiply-adds into FMAs and its sqrt/division may round differently over 20 steps: torch's tolerance."""
    return TOL[dtype] if device == "cpu" else TORCH_TOL[dtype]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", CONFIGS, ids=_cfg_id)
def test_matches_numpy_reference(case, dtype, device):
    name, cfg = case
    p0 = np.random.default_rng(42).standard_normal((7, 5)).astype(dtype)
    grads = _grads(p0.shape, dtype=dtype)
    p, opt = _run_pycnn(name, p0, grads, cfg, device)
    ref_p, ref_state = REFERENCES[name](p0, grads, **cfg)
    assert p.dtype == (pc.float64 if dtype == np.float64 else pc.float32) and p.device == pc.device(device)
    np.testing.assert_allclose(_np(p), ref_p, **tol(dtype, device))
    state = _state_np(opt.state[p])
    assert sorted(state) == sorted(ref_state)
    assert state["step"] == 20.0 and isinstance(state["step"], float)
    for key, value in ref_state.items():
        if key != "step":
            assert state[key].dtype == dtype, key
            assert opt.state[p][key].device == p.device, key  # the state lives with the parameter
            np.testing.assert_allclose(state[key], value, **tol(dtype, device), err_msg=key)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", CONFIGS, ids=_cfg_id)
def test_matches_torch(case, dtype):
    torch = pytest.importorskip("torch")
    name, cfg = case
    p0 = np.random.default_rng(7).standard_normal((4, 6)).astype(dtype)
    grads = _grads(p0.shape, seed=3, dtype=dtype)
    p, opt = _run_pycnn(name, p0, grads, cfg)
    tp, topt = _run_torch(torch, name, p0, grads, cfg)
    np.testing.assert_allclose(_np(p), tp.detach().numpy(), **TORCH_TOL[dtype])
    ours, theirs = opt.state[p], topt.state[tp]
    assert sorted(ours) == sorted(theirs)
    for key, value in theirs.items():
        if key == "step":
            assert ours[key] == value.item()
        else:
            np.testing.assert_allclose(_np(ours[key]), value.numpy(), **TORCH_TOL[dtype], err_msg=key)


@pytest.mark.parametrize("case", [c for c in CONFIGS if c[1]][::2], ids=_cfg_id)
def test_large_tensor_with_threads(case, device):
    """Threads split the tensor and the kernels work in blocks (on a GPU: thread blocks and a grid-stride
    loop): odd sizes must cover every element once."""
    name, cfg = case
    n = 3 * 65536 + 1001  # several parallel chunks, a partial block at each chunk's end
    p0 = np.random.default_rng(5).standard_normal(n)
    grads = _grads(n, steps=3, seed=8)
    before = pc.get_num_threads()
    pc.set_num_threads(2)
    try:
        p, _ = _run_pycnn(name, p0, grads, cfg, device)
    finally:
        pc.set_num_threads(before)
    np.testing.assert_allclose(_np(p), REFERENCES[name](p0, grads, **cfg)[0], **tol(np.float64, device))


# ---------------------------------------------------------------- groups, add_param_group, zero_grad

GROUP_CASES = [
    ("Adam", {"amsgrad": True}),
    ("AdamW", {}),
    ("RMSprop", {"momentum": 0.9, "centered": True}),
    ("Adagrad", {"lr_decay": 0.01}),
    ("Adadelta", {}),
]


@pytest.mark.parametrize("case", GROUP_CASES, ids=_cfg_id)
def test_param_groups_have_their_own_options(case, device):
    name, cfg = case
    a0, b0 = np.random.default_rng(1).standard_normal(6), np.random.default_rng(2).standard_normal((2, 3))
    ga, gb = _grads(a0.shape, seed=4), _grads(b0.shape, seed=5)
    a, b = nn.Parameter(pc.tensor(a0, device=device)), nn.Parameter(pc.tensor(b0, device=device))
    opt = getattr(optim, name)([{"params": [a]}, {"params": [b], "lr": 0.003, "weight_decay": 0.2}], lr=0.02, **cfg)
    assert opt.param_groups[0]["lr"] == 0.02 and opt.param_groups[1]["lr"] == 0.003
    assert opt.param_groups[1]["weight_decay"] == 0.2
    for i in range(20):
        a.grad, b.grad = pc.tensor(ga[i], device=device), pc.tensor(gb[i], device=device)
        opt.step()
    ref = REFERENCES[name]
    np.testing.assert_allclose(_np(a), ref(a0, ga, lr=0.02, **cfg)[0], **tol(np.float64, device))
    np.testing.assert_allclose(_np(b), ref(b0, gb, lr=0.003, **cfg, weight_decay=0.2)[0], **tol(np.float64, device))


@pytest.mark.parametrize("case", GROUP_CASES, ids=_cfg_id)
def test_add_param_group_mid_training(case, device):
    name, cfg = case
    a0, b0 = np.random.default_rng(1).standard_normal(5), np.random.default_rng(2).standard_normal(4)
    ga, gb = _grads(a0.shape, seed=4), _grads(b0.shape, seed=5)
    a, b = nn.Parameter(pc.tensor(a0, device=device)), nn.Parameter(pc.tensor(b0, device=device))
    opt = getattr(optim, name)([a], lr=0.02, **cfg)
    for i in range(20):
        if i == 8:
            opt.add_param_group({"params": [b], "lr": 0.01, "weight_decay": 0.1})
            assert opt.param_groups[1]["lr"] == 0.01 and sorted(opt.param_groups[1]) == sorted(opt.param_groups[0])
        a.grad = pc.tensor(ga[i], device=device)
        b.grad = pc.tensor(gb[i], device=device)
        opt.step()
    ref = REFERENCES[name]
    np.testing.assert_allclose(_np(a), ref(a0, ga, lr=0.02, **cfg)[0], **tol(np.float64, device))
    # b starts its own state (step 1) when it joins
    np.testing.assert_allclose(_np(b), ref(b0, gb[8:], lr=0.01, **cfg, weight_decay=0.1)[0], **tol(np.float64, device))
    assert opt.state[b]["step"] == 12.0 and opt.state[a]["step"] == 20.0


@pytest.mark.parametrize("name", ["Adam", "RMSprop", "Adagrad", "Adadelta"])
def test_zero_grad(name):
    torch = pytest.importorskip("torch")
    p0 = np.random.default_rng(3).standard_normal(5)
    g0 = np.random.default_rng(4).standard_normal(5)
    p, tp = nn.Parameter(pc.tensor(p0)), torch.nn.Parameter(torch.from_numpy(p0.copy()))
    opt, topt = getattr(optim, name)([p], lr=0.1), getattr(torch.optim, name)([tp], lr=0.1)
    p.grad, tp.grad = pc.tensor(g0), torch.from_numpy(g0.copy())
    opt.step()
    topt.step()
    grad_before = p.grad
    opt.zero_grad(set_to_none=False)
    topt.zero_grad(set_to_none=False)
    assert p.grad is grad_before and np.all(_np(p.grad) == 0)
    opt.step()  # a zero gradient still advances the state (Adam's momentum keeps moving p)
    topt.step()
    assert opt.state[p]["step"] == 2.0
    np.testing.assert_allclose(_np(p), tp.detach().numpy(), **TORCH_TOL[np.float64])
    opt.zero_grad()
    assert p.grad is None
    before = _np(p)
    opt.step()  # no gradient: the parameter and its state are left alone
    np.testing.assert_array_equal(_np(p), before)
    assert opt.state[p]["step"] == 2.0


# ---------------------------------------------------------------- state dicts


def _make_two_param_opt(name, cfg, p0, q0, device="cpu"):
    p, q = nn.Parameter(pc.tensor(p0, device=device)), nn.Parameter(pc.tensor(q0, device=device))
    opt = getattr(optim, name)([{"params": [p]}, {"params": [q], "lr": 0.004}], lr=0.01, **cfg)
    return p, q, opt


def _to_numpy_state_dict(sd):
    """A state dict whose tensors are numpy arrays: what a checkpoint file gives back."""
    return copy.deepcopy(
        {
            "state": {
                i: {k: (_np(v) if isinstance(v, pc.Tensor) else v) for k, v in s.items()}
                for i, s in sd["state"].items()
            },
            "param_groups": sd["param_groups"],
        }
    )


@pytest.mark.parametrize("case", CONFIGS[1::2], ids=_cfg_id)
def test_state_dict_round_trip_is_bitwise(case, device):
    name, cfg = case
    cfg = {k: v for k, v in cfg.items() if k != "lr"}
    p0, q0 = np.random.default_rng(1).standard_normal((3, 2)), np.random.default_rng(2).standard_normal(4)
    gp, gq = _grads(p0.shape, seed=5), _grads(q0.shape, seed=6)

    p, q, opt = _make_two_param_opt(name, cfg, p0, q0, device)
    for i in range(20):
        p.grad, q.grad = pc.tensor(gp[i], device=device), pc.tensor(gq[i], device=device)
        opt.step()
    uninterrupted = (_np(p), _np(q))

    p, q, opt = _make_two_param_opt(name, cfg, p0, q0, device)
    for i in range(10):
        p.grad, q.grad = pc.tensor(gp[i], device=device), pc.tensor(gq[i], device=device)
        opt.step()
    sd = opt.state_dict()
    # checkpoint-friendly: state values are Tensors and plain numbers only
    for s in sd["state"].values():
        assert all(isinstance(v, (pc.Tensor, float)) for v in s.values()), s
    assert sd["state"][0]["step"] == 10.0
    saved = _to_numpy_state_dict(sd)
    p_values, q_values = _np(p), _np(q)

    p2, q2, opt2 = _make_two_param_opt(name, cfg, p_values, q_values, device)
    opt2.load_state_dict(saved)  # NumPy state goes to its parameter's device
    assert all(v.device == p2.device for v in opt2.state[p2].values() if isinstance(v, pc.Tensor))
    assert opt2.param_groups[1]["lr"] == 0.004 and opt2.param_groups[0]["params"][0] is p2
    for i in range(10, 20):
        p2.grad, q2.grad = pc.tensor(gp[i], device=device), pc.tensor(gq[i], device=device)
        opt2.step()
    np.testing.assert_array_equal(_np(p2), uninterrupted[0])
    np.testing.assert_array_equal(_np(q2), uninterrupted[1])


@pytest.mark.parametrize("case", CONFIGS[::2], ids=_cfg_id)
def test_state_dict_maps_onto_torch_both_ways(case):
    torch = pytest.importorskip("torch")
    name, cfg = case
    p0 = np.random.default_rng(9).standard_normal((3, 3))
    grads = _grads(p0.shape, seed=10)
    tp, topt = _run_torch(torch, name, p0, grads[:10], cfg)
    p, opt = _run_pycnn(name, p0, grads[:10], cfg)
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert list(sd["state"]) == list(tsd["state"]) and sorted(sd["state"][0]) == sorted(tsd["state"][0])
    for key in sd["param_groups"][0]:
        assert sd["param_groups"][0][key] == tsd["param_groups"][0][key], key

    # torch -> pycnn: tensors converted with .numpy() ('step' becomes a 0-d array), then 10 more steps each
    converted = {
        "state": {i: {k: v.numpy() for k, v in s.items()} for i, s in tsd["state"].items()},
        "param_groups": copy.deepcopy(tsd["param_groups"]),
    }
    p2 = nn.Parameter(pc.tensor(tp.detach().numpy().copy()))
    opt2 = getattr(optim, name)([p2], lr=123.0)  # the loaded groups replace these options
    opt2.load_state_dict(converted)
    assert opt2.param_groups[0]["lr"] == tsd["param_groups"][0]["lr"]
    # pycnn -> torch: our step is a float, which torch accepts as well
    tp2 = torch.nn.Parameter(torch.from_numpy(_np(p)))
    topt2 = getattr(torch.optim, name)([tp2])
    topt2.load_state_dict(
        {
            "state": {
                i: {k: (torch.from_numpy(_np(v)) if isinstance(v, pc.Tensor) else v) for k, v in s.items()}
                for i, s in sd["state"].items()
            },
            "param_groups": copy.deepcopy(sd["param_groups"]),
        }
    )
    for g in grads[10:]:
        tp.grad, p2.grad, tp2.grad = torch.from_numpy(g.copy()), pc.tensor(g), torch.from_numpy(g.copy())
        topt.step()
        opt2.step()
        topt2.step()
    np.testing.assert_allclose(_np(p2), tp.detach().numpy(), **TORCH_TOL[np.float64])
    np.testing.assert_allclose(tp2.detach().numpy(), tp.detach().numpy(), **TORCH_TOL[np.float64])
    assert opt2.state[p2]["step"] == 20.0


def test_adamw_stays_decoupled_after_loading_adam_groups():
    p0 = np.random.default_rng(0).standard_normal(4)
    p = nn.Parameter(pc.tensor(p0))
    adam = optim.Adam([p], lr=0.01, weight_decay=0.1)
    adamw = optim.AdamW([nn.Parameter(pc.tensor(p0))])
    adamw.load_state_dict(adam.state_dict())
    assert adamw.param_groups[0]["decoupled_weight_decay"] is True
    assert adamw.param_groups[0]["weight_decay"] == 0.1


def test_adagrad_creates_state_at_construction():
    p = nn.Parameter(pc.tensor(np.ones(3)))
    opt = optim.Adagrad([p], initial_accumulator_value=0.25)
    sd = opt.state_dict()
    assert sd["state"][0]["step"] == 0.0
    np.testing.assert_array_equal(_np(sd["state"][0]["sum"]), np.full(3, 0.25))


# ---------------------------------------------------------------- bad input

OPS = {
    "Adam": "adam_step",
    "AdamW": "adam_step",
    "RMSprop": "rmsprop_step",
    "Adagrad": "adagrad_step",
    "Adadelta": "adadelta_step",
}
BAD_CASES = [
    ("Adam", {"amsgrad": True}),
    ("AdamW", {}),
    ("RMSprop", {"momentum": 0.9, "centered": True}),
    ("Adagrad", {}),
    ("Adadelta", {}),
]


@pytest.mark.parametrize("case", BAD_CASES, ids=_cfg_id)
def test_bad_gradients_raise_with_the_kernel_name(case):
    name, cfg = case
    op = OPS[name]
    p = nn.Parameter(pc.tensor(np.ones((3, 4))))
    opt = getattr(optim, name)([p], **cfg)
    with pytest.raises(ValueError, match=r"^\[grad\] assigned grad has shape \(4, 3\)"):
        p.grad = pc.tensor(np.ones((4, 3)))
    p._grad = pc.tensor(np.ones((4, 3)))  # past the setter's check: the kernel checks again
    with pytest.raises(ValueError, match=rf"\[{op}\] param \(3, 4\) and grad \(4, 3\) differ in shape"):
        opt.step()
    p.grad = pc.tensor(np.ones((3, 4), dtype=np.float32))
    with pytest.raises(TypeError, match=rf"\[{op}\] param is float64 but grad is float32"):
        opt.step()
    np.testing.assert_array_equal(_np(p), np.ones((3, 4)))  # nothing was updated

    q = pc.tensor(np.array([1, 2, 3]))  # an integer "parameter" (it can't require grad, but it is a leaf)
    q.grad = pc.tensor(np.array([1, 1, 1]))
    with pytest.raises(TypeError, match=rf"\[{op}\] expected param to be float32 or float64, got int64"):
        getattr(optim, name)([q]).step()


@pytest.mark.parametrize(
    "name, key", [("Adam", "exp_avg"), ("RMSprop", "square_avg"), ("Adagrad", "sum"), ("Adadelta", "acc_delta")]
)
def test_bad_state_raises_with_the_kernel_name(name, key):
    p = nn.Parameter(pc.tensor(np.ones((3, 4))))
    opt = getattr(optim, name)([p])
    p.grad = pc.tensor(np.ones((3, 4)))
    opt.step()
    sd = _to_numpy_state_dict(opt.state_dict())
    sd["state"][0][key] = np.ones((4, 3))  # a checkpoint of some other model
    opt.load_state_dict(sd)
    with pytest.raises(
        ValueError,
        match=rf"\[{OPS[name]}\] {key} must be a contiguous tensor of shape \(3, 4\), "
        r"got \(4, 3\)",
    ):
        opt.step()


@pytest.mark.parametrize(
    "name, kwargs, match",
    [
        ("Adam", {"lr": -1.0}, "Invalid learning rate: -1.0"),
        ("Adam", {"eps": -1e-8}, "Invalid epsilon value"),
        ("Adam", {"betas": (1.0, 0.999)}, "Invalid beta parameter at index 0: 1.0"),
        ("AdamW", {"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1: -0.1"),
        ("AdamW", {"weight_decay": -0.1}, "Invalid weight_decay value"),
        ("RMSprop", {"lr": -0.1}, "Invalid learning rate"),
        ("RMSprop", {"alpha": -0.5}, "Invalid alpha value"),
        ("RMSprop", {"momentum": -0.5}, "Invalid momentum value"),
        ("Adagrad", {"lr_decay": -1}, "Invalid lr_decay value"),
        ("Adagrad", {"initial_accumulator_value": -1}, "Invalid initial_accumulator_value value"),
        ("Adadelta", {"rho": 1.5}, "Invalid rho value: 1.5"),
        ("Adadelta", {"eps": -1}, "Invalid epsilon value"),
    ],
)
def test_bad_hyperparameters(name, kwargs, match):
    with pytest.raises(ValueError, match=match):
        getattr(optim, name)([nn.Parameter(pc.zeros(1))], **kwargs)
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match=match):  # the same message as torch's
        getattr(torch.optim, name)([torch.nn.Parameter(torch.zeros(1))], **kwargs)


def test_defaults_are_torchs():
    torch = pytest.importorskip("torch")
    for name in REFERENCES:
        ours = getattr(optim, name)([nn.Parameter(pc.zeros(1))]).defaults
        theirs = getattr(torch.optim, name)([torch.nn.Parameter(torch.zeros(1))]).defaults
        for key, value in ours.items():
            assert theirs[key] == value, (name, key)


# ---------------------------------------------------------------- end to end


@pytest.mark.slow
def test_lenet_adam_on_mnist_subset_loss_decreases():
    pc.manual_seed(0)
    data = pc.datasets.mnist_subset("train")  # stored sorted by class: draw 256 digits of every class
    rng = np.random.default_rng(0)
    pick = pc.tensor(rng.choice(len(data), size=256, replace=False))
    x, y = data.tensors[0].index_select(0, pick), data.tensors[1].index_select(0, pick)
    assert len(np.unique(y.numpy())) == 10
    model = pc.models.lenet5()
    opt = optim.Adam(model.parameters(), lr=2e-3)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for _ in range(30):
        idx = pc.tensor(rng.choice(256, size=64, replace=False))
        xb, yb = x.index_select(0, idx), y.index_select(0, idx)
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    with pc.no_grad():
        final = loss_fn(model(x), y).item()
    assert np.isfinite(losses).all()
    assert losses[0] > 2.0  # chance level is log(10) = 2.30
    assert np.mean(losses[-5:]) < 0.6 * np.mean(losses[:5]), losses
    assert final < 0.6 * losses[0], (final, losses)


def test_kernels_check_missing_state_and_step():
    from pycnn import _C

    def t(*shape):
        return pc.tensor(np.ones(shape))._impl

    with pytest.raises(ValueError, match=r"\[adam_step\] max_exp_avg_sq is missing"):
        _C.adam_step_(t(3), t(3), t(3), t(3), None, 0.1, 0.9, 0.999, 1e-8, 0.0, True, False, False, 1.0)
    with pytest.raises(ValueError, match=r"\[adam_step\] step must be >= 1"):
        _C.adam_step_(t(3), t(3), t(3), t(3), None, 0.1, 0.9, 0.999, 1e-8, 0.0, False, False, False, 0.0)
    with pytest.raises(ValueError, match=r"\[rmsprop_step\] grad_avg is missing"):
        _C.rmsprop_step_(t(3), t(3), t(3), None, None, 0.1, 0.99, 1e-8, 0.0, 0.0, True, False)
    with pytest.raises(ValueError, match=r"\[rmsprop_step\] momentum_buffer is missing"):
        _C.rmsprop_step_(t(3), t(3), t(3), None, None, 0.1, 0.99, 1e-8, 0.0, 0.9, False, False)
    with pytest.raises(ValueError, match=r"\[adagrad_step\] step must be >= 1"):
        _C.adagrad_step_(t(3), t(3), t(3), 0.1, 0.0, 0.0, 1e-10, False, 0.5)
    with pytest.raises(ValueError, match=r"\[adadelta_step\] acc_delta must be a contiguous tensor of shape \(3,\)"):
        _C.adadelta_step_(t(3), t(3), t(3), t(2), 1.0, 0.9, 1e-6, 0.0, False)


def test_non_contiguous_gradient(device):
    p0 = np.random.default_rng(0).standard_normal((3, 4))
    g = np.random.default_rng(1).standard_normal((4, 3))
    p = nn.Parameter(pc.tensor(p0, device=device))
    opt = optim.Adam([p], lr=0.1)
    p.grad = pc.tensor(g, device=device).transpose(0, 1)  # a strided view of shape (3, 4)
    opt.step()
    want = _adam_ref(p0, [np.ascontiguousarray(g.T)], lr=0.1)[0]
    np.testing.assert_allclose(_np(p), want, **tol(np.float64, device))


def test_load_state_dict_fills_options_an_older_checkpoint_lacks():
    # A state dict saved before an option existed (here: AdamW's 'decoupled_weight_decay', 'maximize')
    # loads with that option at the optimizer's default instead of dropping it.
    p = pc.tensor(np.random.default_rng(0).standard_normal(5), requires_grad=True)
    opt = pc.optim.AdamW([p], lr=0.01)
    sd = opt.state_dict()
    for key in ("decoupled_weight_decay", "maximize"):
        del sd["param_groups"][0][key]
    fresh = pc.optim.AdamW([p], lr=0.5)
    fresh.load_state_dict(sd)
    group = fresh.param_groups[0]
    assert group["lr"] == 0.01 and group["maximize"] is False
    assert group["decoupled_weight_decay"] == fresh.defaults["decoupled_weight_decay"]
