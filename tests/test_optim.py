"""Tests for pycnn.optim: SGD against a NumPy implementation of PyTorch's rule (and torch.optim.SGD when
installed), optimizer state dicts, argument checks, and lr schedulers against torch's lr sequences.
"""

import copy
import math

import numpy as np
import pytest

import pycnn as pc
from pycnn import nn
from pycnn.optim import SGD, lr_scheduler


def _np(t):
    """A copy of t's values on the host, whatever its device."""
    return np.array(t.detach().cpu().numpy())


SGD_CONFIGS = [
    {"lr": 0.1},
    {"lr": 0.05, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.3},
    {"lr": 0.05, "momentum": 0.8, "nesterov": True},
    {"lr": 0.02, "momentum": 0.9, "weight_decay": 0.01},
    {"lr": 0.02, "momentum": 0.9, "weight_decay": 0.05, "nesterov": True, "maximize": True},
    {"lr": 0.03, "weight_decay": 0.1, "maximize": True},
]


def _sgd_reference(p, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    """PyTorch's SGD rule, written out plainly."""
    p = p.copy()
    buf = None
    for g in grads:
        g = -g if maximize else g.copy()
        g = g + weight_decay * p
        if momentum != 0:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
    return p, buf


def _grad_sequence(shape, steps=20, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for _ in range(steps)]


def _run_pycnn_sgd(p0, grads, device="cpu", **cfg):
    p = nn.Parameter(pc.tensor(p0, device=device))
    opt = SGD([p], **cfg)
    for g in grads:
        p.grad = pc.tensor(g, device=device)
        opt.step()
    buf = opt.state[p].get("momentum_buffer")
    return _np(p), (None if buf is None else _np(buf))


@pytest.mark.parametrize("cfg", SGD_CONFIGS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
def test_sgd_matches_numpy_rule(cfg, device):
    p0 = np.random.default_rng(42).standard_normal((3, 4))
    grads = _grad_sequence(p0.shape)
    ours, our_buf = _run_pycnn_sgd(p0, grads, device, **cfg)
    ref, ref_buf = _sgd_reference(p0, grads, **cfg)
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-12)
    if cfg.get("momentum", 0):
        np.testing.assert_allclose(our_buf, ref_buf, rtol=1e-12, atol=1e-12)
    else:
        assert our_buf is None


@pytest.mark.parametrize("cfg", SGD_CONFIGS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
def test_sgd_matches_torch(cfg):
    torch = pytest.importorskip("torch")
    p0 = np.random.default_rng(7).standard_normal((5, 2))
    grads = _grad_sequence(p0.shape, seed=3)
    ours, _ = _run_pycnn_sgd(p0, grads, **cfg)
    tp = torch.nn.Parameter(torch.from_numpy(p0.copy()))
    topt = torch.optim.SGD([tp], **cfg)
    for g in grads:
        tp.grad = torch.from_numpy(g)
        topt.step()
    np.testing.assert_allclose(ours, tp.detach().numpy(), rtol=1e-10, atol=1e-10)


def test_sgd_param_groups_skip_missing_grads_and_closure():
    a = nn.Parameter(pc.ones(2, dtype=pc.float64))
    b = nn.Parameter(pc.ones(2, dtype=pc.float64))
    c = nn.Parameter(pc.ones(2, dtype=pc.float64))
    opt = SGD([{"params": [a]}, {"params": [b, c], "lr": 0.5}], lr=0.1, momentum=0.9)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 0.5
    assert opt.param_groups[1]["momentum"] == 0.9
    a.grad = pc.ones(2, dtype=pc.float64)
    b.grad = pc.ones(2, dtype=pc.float64)
    assert opt.step(lambda: 3.0) == 3.0
    np.testing.assert_allclose(_np(a), [0.9, 0.9])
    np.testing.assert_allclose(_np(b), [0.5, 0.5])
    np.testing.assert_allclose(_np(c), [1.0, 1.0])  # no grad: untouched, no state
    assert c not in opt.state
    opt.zero_grad(set_to_none=False)
    assert np.all(_np(a.grad) == 0)
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_sgd_trains_a_linear_model(device):
    pc.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3).astype(np.float32)
    model = nn.Linear(3, 1).to(device)
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    xt, yt = pc.tensor(x, device=device), pc.tensor(y, device=device)
    for _ in range(100):
        opt.zero_grad()
        diff = model(xt) - yt
        loss = (diff * diff).mean()
        loss.backward()
        opt.step()
    assert loss.item() < 1e-3


def test_optimizer_state_dict_layout_and_round_trip():
    p0 = np.random.default_rng(1).standard_normal((2, 3))
    q0 = np.random.default_rng(2).standard_normal(4)
    grads_p, grads_q = _grad_sequence(p0.shape, 10, 5), _grad_sequence(q0.shape, 10, 6)

    def make():
        p, q = nn.Parameter(pc.tensor(p0)), nn.Parameter(pc.tensor(q0))
        opt = SGD([{"params": [p]}, {"params": [q], "lr": 0.01}], lr=0.1, momentum=0.9, nesterov=True)
        return p, q, opt

    p, q, opt = make()
    for i in range(5):
        p.grad, q.grad = pc.tensor(grads_p[i]), pc.tensor(grads_q[i])
        opt.step()
    sd = opt.state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert sd["param_groups"][0]["params"] == [0] and sd["param_groups"][1]["params"] == [1]
    assert sd["param_groups"][1]["lr"] == 0.01 and sd["param_groups"][0]["nesterov"] is True
    assert set(sd["state"]) == {0, 1} and list(sd["state"][0]) == ["momentum_buffer"]
    sd = copy.deepcopy(
        {
            "state": {k: {n: _np(v) for n, v in s.items()} for k, s in sd["state"].items()},
            "param_groups": sd["param_groups"],
        }
    )  # numpy state loads too

    p2, q2, opt2 = make()
    with pc.no_grad():
        p2.copy_(p)
        q2.copy_(q)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["params"][0] is p2
    for i in range(5, 10):
        for a, b, g in ((p, p2, grads_p[i]), (q, q2, grads_q[i])):
            a.grad, b.grad = pc.tensor(g), pc.tensor(g)
        opt.step()
        opt2.step()
    np.testing.assert_array_equal(_np(p), _np(p2))
    np.testing.assert_array_equal(_np(q), _np(q2))

    with pytest.raises(ValueError, match="number of parameter groups"):
        SGD([p], lr=0.1).load_state_dict(sd)


def test_optimizer_state_dict_matches_torch_layout():
    torch = pytest.importorskip("torch")
    p0 = np.random.default_rng(3).standard_normal(3)
    p = nn.Parameter(pc.tensor(p0))
    tp = torch.nn.Parameter(torch.from_numpy(p0.copy()))
    opt, topt = SGD([p], lr=0.1, momentum=0.5), torch.optim.SGD([tp], lr=0.1, momentum=0.5)
    for o, param, g in ((opt, p, pc.tensor(p0)), (topt, tp, torch.from_numpy(p0))):
        param.grad = g
        o.step()
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert list(sd["state"]) == list(tsd["state"])
    assert list(sd["state"][0]) == list(tsd["state"][0])
    np.testing.assert_allclose(_np(sd["state"][0]["momentum_buffer"]), tsd["state"][0]["momentum_buffer"].numpy())
    ours_group, their_group = sd["param_groups"][0], tsd["param_groups"][0]
    for key in ("params", "lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize"):
        assert ours_group[key] == their_group[key], key
    # a torch optimizer state dict (tensors as numpy) loads into ours
    opt2 = SGD([nn.Parameter(pc.tensor(p0))], lr=1.0)
    opt2.load_state_dict(
        {
            "state": {0: {"momentum_buffer": tsd["state"][0]["momentum_buffer"].numpy()}},
            "param_groups": tsd["param_groups"],
        }
    )
    assert opt2.param_groups[0]["lr"] == 0.1


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"lr": -0.1}, "Invalid learning rate"),
        ({"lr": 0.1, "momentum": -0.5}, "Invalid momentum"),
        ({"lr": 0.1, "weight_decay": -1}, "Invalid weight_decay"),
        ({"lr": 0.1, "nesterov": True}, "Nesterov momentum requires"),
        ({"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "nesterov": True}, "Nesterov momentum requires"),
    ],
)
def test_sgd_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SGD([nn.Parameter(pc.zeros(1))], **kwargs)


def test_optimizer_bad_params():
    p = nn.Parameter(pc.zeros(2))
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError):
        SGD(p, lr=0.1)  # a bare tensor, not an iterable of them
    with pytest.raises(ValueError, match="more than one parameter group"):
        SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(TypeError):
        SGD([1.0], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        SGD([p * 2], lr=0.1)


# ---------------------------------------------------------------- schedulers

SCHEDULERS = {
    "step": lambda m, opt: m.StepLR(opt, step_size=7, gamma=0.5),
    "multistep": lambda m, opt: m.MultiStepLR(opt, milestones=[5, 12, 12, 20], gamma=0.3),
    "exponential": lambda m, opt: m.ExponentialLR(opt, gamma=0.9),
    "cosine": lambda m, opt: m.CosineAnnealingLR(opt, T_max=10, eta_min=0.01),
    "cosine_no_min": lambda m, opt: m.CosineAnnealingLR(opt, T_max=7),
    "lambda": lambda m, opt: m.LambdaLR(opt, lambda epoch: 0.95**epoch + 0.01 * epoch),
}

CLOSED_FORMS = {
    "step": lambda base, e: base * 0.5 ** (e // 7),
    "multistep": lambda base, e: base * 0.3 ** sum(1 for m in [5, 12, 12, 20] if m <= e),
    "exponential": lambda base, e: base * 0.9**e,
    "cosine": lambda base, e: 0.01 + (base - 0.01) * (1 + math.cos(math.pi * e / 10)) / 2,
    "cosine_no_min": lambda base, e: base * (1 + math.cos(math.pi * e / 7)) / 2,
    "lambda": lambda base, e: base * (0.95**e + 0.01 * e),
}


def _lr_sequence(sched, opt, steps=30):
    lrs = [sched.get_last_lr()]
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr())
    return np.array(lrs)


def _two_group_sgd():
    return SGD([{"params": [nn.Parameter(pc.zeros(1))]}, {"params": [nn.Parameter(pc.zeros(1))], "lr": 0.3}], lr=0.1)


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_scheduler_matches_closed_form(name):
    opt = _two_group_sgd()
    sched = SCHEDULERS[name](lr_scheduler, opt)
    lrs = _lr_sequence(sched, opt)
    expected = np.array([[CLOSED_FORMS[name](base, e) for base in (0.1, 0.3)] for e in range(31)])
    np.testing.assert_allclose(lrs, expected, rtol=1e-9, atol=1e-15)
    assert [g["lr"] for g in opt.param_groups] == list(lrs[-1])
    assert sched.last_epoch == 30 and [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.3]


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_scheduler_matches_torch(name):
    torch = pytest.importorskip("torch")
    opt = _two_group_sgd()
    ours = _lr_sequence(SCHEDULERS[name](lr_scheduler, opt), opt)
    topt = torch.optim.SGD(
        [{"params": [torch.nn.Parameter(torch.zeros(1))]}, {"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.3}],
        lr=0.1,
    )
    theirs = _lr_sequence(SCHEDULERS[name](torch.optim.lr_scheduler, topt), topt)
    np.testing.assert_allclose(ours, theirs, rtol=1e-14, atol=0)


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_scheduler_state_dict_resume(name):
    opt = _two_group_sgd()
    sched = SCHEDULERS[name](lr_scheduler, opt)
    for _ in range(8):
        opt.step()
        sched.step()
    sd = sched.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 8
    opt_sd = copy.deepcopy(opt.state_dict())
    expected = _lr_sequence(sched, opt, 10)

    opt2 = _two_group_sgd()
    opt2.load_state_dict(opt_sd)
    sched2 = SCHEDULERS[name](lr_scheduler, opt2)
    sched2.load_state_dict(sd)
    np.testing.assert_allclose(_lr_sequence(sched2, opt2, 10), expected, rtol=1e-12)


def test_scheduler_errors():
    opt = _two_group_sgd()
    with pytest.raises(TypeError):
        lr_scheduler.StepLR(object(), step_size=2)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(opt, step_size=2, last_epoch=3)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas"):
        lr_scheduler.LambdaLR(opt, [lambda e: 1.0])
