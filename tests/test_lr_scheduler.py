"""Tests for the learning-rate schedulers added beyond tests/test_optim.py's basic ones: every scheduler's lr
(and cycled momentum / betas[0]) sequence against torch.optim.lr_scheduler on several option sets and
three param groups with different lrs, ReduceLROnPlateau on a metric sequence, closed forms written out
here, state-dict round trips in the middle of a schedule, and torch's argument errors.
"""

import copy
import math
import warnings

import numpy as np
import pytest

import pycnn as pc
from pycnn import nn
from pycnn.optim import SGD, Optimizer, lr_scheduler

BASE_LRS = (0.1, 0.03, 0.5)


def _pc_sgd(momentum=0.9):
    groups = [
        {"params": [nn.Parameter(pc.ones(2))]},
        {"params": [nn.Parameter(pc.ones(2))], "lr": BASE_LRS[1]},
        {"params": [nn.Parameter(pc.ones(2))], "lr": BASE_LRS[2], "momentum": 0.5},
    ]
    return SGD(groups, lr=BASE_LRS[0], momentum=momentum)


def _torch_sgd(torch, momentum=0.9):
    def param():
        return torch.nn.Parameter(torch.ones(2))

    groups = [
        {"params": [param()]},
        {"params": [param()], "lr": BASE_LRS[1]},
        {"params": [param()], "lr": BASE_LRS[2], "momentum": 0.5},
    ]
    return torch.optim.SGD(groups, lr=BASE_LRS[0], momentum=momentum)


class _BetaOptimizer(Optimizer):
    """An Adam-shaped optimizer ('betas' in its defaults) whose update is a no-op: lets the momentum-cycling
    schedulers' betas[0] path be tested whether or not pycnn has Adam."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999)):
        super().__init__(params, {"lr": lr, "betas": betas})

    def _update(self, param, grad, state, group):
        pass


def _pc_beta_opt():
    return _BetaOptimizer(
        [
            {"params": [nn.Parameter(pc.ones(2))]},
            {"params": [nn.Parameter(pc.ones(2))], "lr": BASE_LRS[1], "betas": (0.8, 0.99)},
        ],
        lr=BASE_LRS[0],
    )


def _torch_adam(torch):
    return torch.optim.Adam(
        [
            {"params": [torch.nn.Parameter(torch.ones(2))]},
            {"params": [torch.nn.Parameter(torch.ones(2))], "lr": BASE_LRS[1], "betas": (0.8, 0.99)},
        ],
        lr=BASE_LRS[0],
    )


def _momenta(opt):
    """The value a cycling scheduler drives in each group: 'momentum', or betas[0] for Adam-style groups."""
    return [g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups]


def _record(sched, opt, steps):
    """lrs and momenta after construction and after each of `steps` (optimizer step, scheduler step)."""
    lrs, moms = [list(sched.get_last_lr())], [_momenta(opt)]
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append(list(sched.get_last_lr()))
        moms.append(_momenta(opt))
        assert [g["lr"] for g in opt.param_groups] == lrs[-1]
    return np.array(lrs), np.array(moms)


# Each case builds a scheduler from a module (pycnn's or torch's lr_scheduler) and an optimizer.
CASES = {
    "constant_default": lambda m, o: m.ConstantLR(o),
    "constant": lambda m, o: m.ConstantLR(o, factor=0.5, total_iters=7),
    "constant_zero_iters": lambda m, o: m.ConstantLR(o, factor=0.25, total_iters=0),
    "linear_default": lambda m, o: m.LinearLR(o),
    "linear_warmup": lambda m, o: m.LinearLR(o, start_factor=0.1, end_factor=0.8, total_iters=12),
    "linear_decay_to_zero": lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.0, total_iters=40),
    "polynomial_default": lambda m, o: m.PolynomialLR(o),
    "polynomial": lambda m, o: m.PolynomialLR(o, total_iters=25, power=2.0),
    "polynomial_sqrt": lambda m, o: m.PolynomialLR(o, total_iters=50, power=0.5),
    "multiplicative": lambda m, o: m.MultiplicativeLR(o, lambda epoch: 0.97 if epoch % 3 else 0.9),
    "warm_restarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=5),
    "warm_restarts_mult": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.001),
    "cyclic_triangular": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.2, step_size_up=4),
    "cyclic_triangular2": lambda m, o: m.CyclicLR(
        o,
        base_lr=[0.01, 0.001, 0.05],
        max_lr=[0.2, 0.02, 0.9],
        step_size_up=3,
        step_size_down=5,
        mode="triangular2",
        base_momentum=0.7,
        max_momentum=[0.9, 0.95, 0.8],
    ),
    "cyclic_exp_range": lambda m, o: m.CyclicLR(
        o, base_lr=0.01, max_lr=0.3, step_size_up=6, mode="exp_range", gamma=0.97
    ),
    "cyclic_custom_iterations": lambda m, o: m.CyclicLR(
        o,
        base_lr=0.02,
        max_lr=0.1,
        step_size_up=5,
        scale_fn=lambda x: 1.0 / (1.0 + 0.1 * x),
        scale_mode="iterations",
        cycle_momentum=False,
    ),
    "onecycle": lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=60),
    "onecycle_epochs_linear": lambda m, o: m.OneCycleLR(
        o,
        max_lr=[0.4, 0.05, 2.0],
        epochs=6,
        steps_per_epoch=10,
        anneal_strategy="linear",
        pct_start=0.25,
        div_factor=10.0,
        final_div_factor=100.0,
    ),
    "onecycle_three_phase": lambda m, o: m.OneCycleLR(
        o, max_lr=0.8, total_steps=64, three_phase=True, base_momentum=[0.8, 0.85, 0.7], max_momentum=0.99
    ),
    "onecycle_no_momentum": lambda m, o: m.OneCycleLR(
        o, max_lr=0.5, total_steps=70, pct_start=0.4, cycle_momentum=False
    ),
    "sequential_warmup_cosine": lambda m, o: m.SequentialLR(
        o,
        [m.LinearLR(o, start_factor=0.1, total_iters=5), m.CosineAnnealingLR(o, T_max=20, eta_min=0.001)],
        milestones=[5],
    ),
    "sequential_three": lambda m, o: m.SequentialLR(
        o,
        [
            m.ConstantLR(o, factor=0.2, total_iters=10),
            m.ExponentialLR(o, gamma=0.9),
            m.StepLR(o, step_size=4, gamma=0.5),
        ],
        milestones=[4, 15],
    ),
    "sequential_single": lambda m, o: m.SequentialLR(o, [m.PolynomialLR(o, total_iters=30)], milestones=[]),
    "chained": lambda m, o: m.ChainedScheduler([m.ExponentialLR(o, gamma=0.95), m.StepLR(o, step_size=10, gamma=0.5)]),
    "chained_warmup_multistep": lambda m, o: m.ChainedScheduler(
        [m.LinearLR(o, start_factor=0.2, total_iters=8), m.MultiStepLR(o, milestones=[20, 35], gamma=0.3)], optimizer=o
    ),
}

STEPS = 60


@pytest.mark.parametrize("name", sorted(CASES))
def test_sequence_matches_torch(name):
    torch = pytest.importorskip("torch")
    opt = _pc_sgd()
    lrs, moms = _record(CASES[name](lr_scheduler, opt), opt, STEPS)
    topt = _torch_sgd(torch)
    tlrs, tmoms = _record(CASES[name](torch.optim.lr_scheduler, topt), topt, STEPS)
    np.testing.assert_allclose(lrs, tlrs, rtol=1e-13, atol=1e-17)
    np.testing.assert_allclose(moms, tmoms, rtol=1e-13, atol=0)
    assert lrs.shape == (STEPS + 1, 3) and not np.allclose(lrs, [BASE_LRS] * (STEPS + 1))  # it did something


# Closed forms written from the definitions (independently of torch), on the first group's base lr.
def _onecycle_closed_form(step, total=60, max_lr=1.0, div=25.0, final_div=1e4, pct=0.3):
    initial, peak_end = max_lr / div, pct * total - 1
    low = initial / final_div
    if step <= peak_end:
        frac = step / peak_end
        return max_lr + (initial - max_lr) * (1 + math.cos(math.pi * frac)) / 2
    frac = (step - peak_end) / (total - 1 - peak_end)
    return low + (max_lr - low) * (1 + math.cos(math.pi * frac)) / 2


def _restarts_closed_form(epoch, base, T_0=3, T_mult=2, eta_min=0.001):
    T_i, T_cur = T_0, epoch
    while T_cur >= T_i:  # walk the periods 3, 6, 12, ...
        T_cur -= T_i
        T_i *= T_mult
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * T_cur / T_i)) / 2


CLOSED_FORMS = {
    "constant": lambda base, e: base * (0.5 if e < 7 else 1.0),
    "linear_warmup": lambda base, e: base * (0.1 + 0.7 * min(e, 12) / 12),
    "polynomial": lambda base, e: base * (1 - min(e, 25) / 25) ** 2,
    "warm_restarts_mult": lambda base, e: _restarts_closed_form(e, base),
    "cyclic_triangular": lambda base, e: 0.01 + 0.19 * (1 - abs((e % 8) - 4) / 4),
}


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_sequence_matches_closed_form(name):
    opt = _pc_sgd()
    lrs, _ = _record(CASES[name](lr_scheduler, opt), opt, STEPS)
    expected = [[CLOSED_FORMS[name](base, e) for base in BASE_LRS] for e in range(STEPS + 1)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-9, atol=1e-15)


def test_onecycle_closed_form_and_momentum():
    opt = _pc_sgd()
    lrs, moms = _record(lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=60), opt, 59)
    np.testing.assert_allclose(lrs[:, 0], [_onecycle_closed_form(s) for s in range(60)], rtol=1e-12)
    # Momentum moves opposite to the lr: max_momentum (0.95) at the ends, base_momentum (0.85) at the peak.
    peak = int(np.argmax(lrs[:, 0]))
    assert peak == 17 and moms[peak, 0] == pytest.approx(0.85) and moms[0, 0] == pytest.approx(0.95)
    assert moms[-1, 0] == pytest.approx(0.95) and lrs[-1, 0] == pytest.approx(1.0 / 25 / 1e4)
    assert [g["max_lr"] for g in opt.param_groups] == [1.0] * 3
    sched = lr_scheduler.OneCycleLR(_pc_sgd(), max_lr=1.0, total_steps=3)
    for _ in range(3):
        sched.step()  # steps 1..total_steps are allowed (last_epoch == total_steps) ...
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        sched.step()  # ... one more is an error, as in torch


BETA_CASES = {
    "onecycle": lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=60),
    "onecycle_three_phase": lambda m, o: m.OneCycleLR(
        o, max_lr=[0.8, 0.1], total_steps=64, three_phase=True, base_momentum=[0.8, 0.7], max_momentum=0.97
    ),
    "cyclic_triangular2": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.2, step_size_up=3, mode="triangular2"),
}


@pytest.mark.parametrize("name", sorted(BETA_CASES))
def test_momentum_cycling_on_betas(name):
    """Adam-style groups get betas[0] cycled and betas[1] kept, as torch does with Adam."""
    torch = pytest.importorskip("torch")
    opt = _pc_beta_opt()
    lrs, moms = _record(BETA_CASES[name](lr_scheduler, opt), opt, STEPS)
    topt = _torch_adam(torch)
    tlrs, tmoms = _record(BETA_CASES[name](torch.optim.lr_scheduler, topt), topt, STEPS)
    np.testing.assert_allclose(lrs, tlrs, rtol=1e-13, atol=1e-17)
    np.testing.assert_allclose(moms, tmoms, rtol=1e-13, atol=0)
    assert [g["betas"][1] for g in opt.param_groups] == [0.999, 0.99]
    assert all("momentum" not in g for g in opt.param_groups)
    assert len(set(moms[:, 0])) > 5  # betas[0] really moves


def test_onecycle_cycles_betas_of_pycnn_adam():
    torch = pytest.importorskip("torch")
    p = nn.Parameter(pc.ones(3))
    opt = pc.optim.Adam([p], lr=0.01, betas=(0.9, 0.98))
    lrs, moms = _record(lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=40), opt, 40)
    topt = torch.optim.Adam([torch.nn.Parameter(torch.ones(3))], lr=0.01, betas=(0.9, 0.98))
    tlrs, tmoms = _record(torch.optim.lr_scheduler.OneCycleLR(topt, max_lr=0.1, total_steps=40), topt, 40)
    np.testing.assert_allclose(lrs, tlrs, rtol=1e-13)
    np.testing.assert_allclose(moms, tmoms, rtol=1e-13)
    assert opt.param_groups[0]["betas"][1] == 0.98


def test_onecycle_training_matches_torch():
    """The cycled lr and momentum reach the SGD update: parameters after 30 steps equal torch's."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    p0 = rng.standard_normal(5)
    grads = [rng.standard_normal(5) for _ in range(30)]
    p = nn.Parameter(pc.tensor(p0))
    opt = SGD([p], lr=0.1, nesterov=False)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=30, anneal_strategy="linear")
    tp = torch.nn.Parameter(torch.tensor(p0))
    topt = torch.optim.SGD([tp], lr=0.1)
    tsched = torch.optim.lr_scheduler.OneCycleLR(topt, max_lr=0.5, total_steps=30, anneal_strategy="linear")
    for g in grads:
        p.grad = pc.tensor(g)
        tp.grad = torch.tensor(g)
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
    np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_warm_restarts_fractional_epochs():
    """Per-batch use: step(epoch + i / iters) follows the closed form at fractional T_cur, as torch does."""
    torch = pytest.importorskip("torch")
    iters = 7
    opt, topt = _pc_sgd(), _torch_sgd(torch)
    sched = lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2, eta_min=0.002)
    tsched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(topt, T_0=2, T_mult=2, eta_min=0.002)
    ours, theirs = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch emits no deprecation warning here, neither do we
        for epoch in range(9):
            for i in range(iters):
                e = epoch + i / iters
                opt.step()
                sched.step(e)
                topt.step()
                tsched.step(e)
                ours.append(sched.get_last_lr())
                theirs.append(tsched.get_last_lr())
                expected = _restarts_closed_form(e, BASE_LRS[0], T_0=2, T_mult=2, eta_min=0.002)
                assert ours[-1][0] == pytest.approx(expected, rel=1e-9)
                assert sched.last_epoch == epoch
    np.testing.assert_allclose(ours, theirs, rtol=1e-13)
    # Mixing in a plain step() continues from the integer epoch, as torch's does.
    opt.step(), topt.step()
    sched.step()
    tsched.step()
    np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-13)
    with pytest.raises(ValueError, match="non-negative epoch"):
        sched.step(-1)


@pytest.mark.parametrize("name", ["constant", "linear_warmup", "polynomial", "multiplicative"])
def test_step_with_epoch_uses_closed_form_like_torch(name):
    torch = pytest.importorskip("torch")
    opt, topt = _pc_sgd(), _torch_sgd(torch)
    sched, tsched = CASES[name](lr_scheduler, opt), CASES[name](torch.optim.lr_scheduler, topt)
    for epoch in [3, 4, 9, 15, 2, 30, 31]:
        with pytest.warns(UserWarning):
            sched.step(epoch)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tsched.step(epoch)
        np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-13)


# ---------------------------------------------------------------- ReduceLROnPlateau


def _plateau_metrics(n=60, seed=0):
    """A loss-like curve: falls, then plateaus with noise, then falls again, then plateaus."""
    rng = np.random.default_rng(seed)
    base = np.concatenate(
        [np.linspace(2.0, 1.0, 12), np.full(18, 1.0), np.linspace(1.0, 0.5, 10), np.full(n - 40, 0.5)]
    )
    return base + 0.003 * rng.standard_normal(n)


PLATEAU_CASES = [
    {"patience": 2},
    {"patience": 0, "factor": 0.5},
    {
        "mode": "max",
        "factor": 0.5,
        "patience": 3,
        "threshold": 0.01,
        "threshold_mode": "abs",
        "cooldown": 2,
        "min_lr": [0.02, 0.001, 0.3],
    },
    {"patience": 1, "cooldown": 3, "min_lr": 0.01, "threshold": 0.05},
    {"patience": 1, "factor": 0.9, "eps": 0.006},  # reductions smaller than eps are skipped
]


@pytest.mark.parametrize("kwargs", PLATEAU_CASES, ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()))
def test_reduce_on_plateau_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    metrics = _plateau_metrics()
    if kwargs.get("mode") == "max":
        metrics = -metrics  # an accuracy-like curve for mode='max'
    opt, topt = _pc_sgd(), _torch_sgd(torch)
    sched = lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    ours, theirs = [], []
    for i, value in enumerate(metrics):
        opt.step()
        topt.step()
        # A scalar Tensor works as well as a float (the trainer passes losses either way).
        sched.step(pc.tensor(np.array(value)) if i % 2 else float(value))
        tsched.step(float(value))
        ours.append(sched.get_last_lr() + [sched.num_bad_epochs, sched.cooldown_counter, sched.best])
        theirs.append(tsched.get_last_lr() + [tsched.num_bad_epochs, tsched.cooldown_counter, tsched.best])
    np.testing.assert_allclose(ours, theirs, rtol=1e-13)
    lrs = np.array(ours)[:, 0]
    assert lrs[-1] < lrs[0]  # it did reduce at least once
    assert sched.last_epoch == len(metrics)


def test_reduce_on_plateau_hand_example():
    # patience=1, factor=0.5, threshold 0 (abs): best 1.0 at epoch 1; epochs 2, 3 are not better (1.0, 1.2),
    # so num_bad_epochs reaches 2 > 1 at epoch 3 and the lr halves (0.1 -> 0.05); epoch 4 improves (0.9);
    # epochs 5, 6 don't (0.95, 0.9 is not < 0.9), so the lr halves again at epoch 6 -> 0.025.
    p = nn.Parameter(pc.ones(1))
    opt = SGD([p], lr=0.1)
    sched = lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1, threshold=0.0, threshold_mode="abs")
    lrs = []
    for value in [1.0, 1.0, 1.2, 0.9, 0.95, 0.9]:
        sched.step(value)
        lrs.append(sched.get_last_lr()[0])
    assert lrs == [0.1, 0.1, 0.05, 0.05, 0.05, 0.025]
    assert sched.best == 0.9


# ---------------------------------------------------------------- state dicts

RESUME_CASES = sorted(CASES) + ["plateau"]


def _build(name, opt):
    if name == "plateau":
        return lr_scheduler.ReduceLROnPlateau(opt, patience=1, cooldown=1, factor=0.5)
    return CASES[name](lr_scheduler, opt)


def _advance(name, sched, opt, steps, offset):
    metrics = _plateau_metrics(100, seed=1)
    lrs = []
    for i in range(steps):
        opt.step()
        sched.step(metrics[offset + i]) if name == "plateau" else sched.step()
        lrs.append(list(sched.get_last_lr()) + _momenta(opt))
    return np.array(lrs)


@pytest.mark.parametrize("name", RESUME_CASES)
def test_state_dict_resume_mid_schedule(name):
    opt = _pc_sgd()
    sched = _build(name, opt)
    _advance(name, sched, opt, 23, 0)
    sd = copy.deepcopy(sched.state_dict())
    opt_sd = copy.deepcopy(opt.state_dict())
    assert "optimizer" not in sd
    assert not any(isinstance(v, Optimizer) for v in sd.values())
    expected = _advance(name, sched, opt, 30, 23)

    # torch's order: build the scheduler on the fresh optimizer, then load the optimizer, then the scheduler.
    opt2 = _pc_sgd()
    sched2 = _build(name, opt2)
    opt2.load_state_dict(opt_sd)
    sched2.load_state_dict(sd)
    np.testing.assert_allclose(_advance(name, sched2, opt2, 30, 23), expected, rtol=1e-13, atol=1e-17)


@pytest.mark.parametrize(
    "name", ["cyclic_triangular", "onecycle", "warm_restarts_mult", "linear_warmup", "sequential_three", "chained"]
)
def test_state_dict_keys_match_torch(name):
    """Same layout as torch's (minus torch's private get_lr warning flag), so checkpoints map one to one."""
    torch = pytest.importorskip("torch")
    opt, topt = _pc_sgd(), _torch_sgd(torch)
    sched, tsched = CASES[name](lr_scheduler, opt), CASES[name](torch.optim.lr_scheduler, topt)
    for _ in range(5):
        opt.step(), topt.step()
        sched.step()
        tsched.step()

    def keys(sd):
        return {k for k in sd if k != "_get_lr_called_within_step"}

    sd, tsd = sched.state_dict(), tsched.state_dict()
    assert keys(sd) == keys(tsd)
    for ours, theirs in zip(sd.get("_schedulers", []), tsd.get("_schedulers", [])):
        assert keys(ours) == keys(theirs)
    # Loading torch's state dict into ours continues torch's sequence.
    sched.load_state_dict(copy.deepcopy(tsd))
    for _ in range(10):
        opt.step(), topt.step()
        sched.step()
        tsched.step()
        np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-13)


class _Decay:
    """A callable object: its attributes are saved in the state dict (plain functions are not)."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, epoch):
        return self.rate


def test_lambdas_are_not_saved_but_callable_objects_are():
    opt = _pc_sgd()
    fn = _Decay(0.9)
    sched = lr_scheduler.MultiplicativeLR(opt, [fn, lambda e: 0.5, fn])
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [{"rate": 0.9}, None, {"rate": 0.9}]
    fn2 = _Decay(0.1)
    sched2 = lr_scheduler.MultiplicativeLR(_pc_sgd(), [fn2, lambda e: 0.5, fn2])
    sched2.load_state_dict(sd)
    assert fn2.rate == 0.9

    cyc = lr_scheduler.CyclicLR(_pc_sgd(), 0.01, 0.1, step_size_up=3, scale_fn=_Decay(0.5))
    assert cyc.state_dict()["_scale_fn_custom"] == {"rate": 0.5}
    assert "_scale_fn_ref" not in lr_scheduler.CyclicLR(_pc_sgd(), 0.01, 0.1).state_dict()


# ---------------------------------------------------------------- argument errors

BAD = {
    "constant_factor": lambda m, o: m.ConstantLR(o, factor=1.5),
    "linear_start_zero": lambda m, o: m.LinearLR(o, start_factor=0.0),
    "linear_end": lambda m, o: m.LinearLR(o, end_factor=1.2),
    "restarts_T0": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=0),
    "restarts_T0_float": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=2.5),
    "restarts_Tmult": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=0),
    "restarts_eta": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, eta_min="0"),
    "onecycle_no_total": lambda m, o: m.OneCycleLR(o, max_lr=0.1),
    "onecycle_total": lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=0),
    "onecycle_epochs": lambda m, o: m.OneCycleLR(o, max_lr=0.1, epochs=-1, steps_per_epoch=10),
    "onecycle_steps_per_epoch": lambda m, o: m.OneCycleLR(o, max_lr=0.1, epochs=2, steps_per_epoch=1.5),
    "onecycle_pct": lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1.2),
    "onecycle_pct_int": lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1),
    "onecycle_anneal": lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=10, anneal_strategy="exp"),
    "onecycle_max_lr_len": lambda m, o: m.OneCycleLR(o, max_lr=[0.1, 0.2], total_steps=10),
    "cyclic_mode": lambda m, o: m.CyclicLR(o, 0.01, 0.1, mode="square"),
    "plateau_factor": lambda m, o: m.ReduceLROnPlateau(o, factor=1.0),
    "plateau_mode": lambda m, o: m.ReduceLROnPlateau(o, mode="maximum"),
    "plateau_threshold_mode": lambda m, o: m.ReduceLROnPlateau(o, threshold_mode="relative"),
    "plateau_min_lr_len": lambda m, o: m.ReduceLROnPlateau(o, min_lr=[0.1]),
    "sequential_empty": lambda m, o: m.SequentialLR(o, [], milestones=[]),
    "sequential_milestones": lambda m, o: m.SequentialLR(
        o, [m.ConstantLR(o), m.ExponentialLR(o, 0.9)], milestones=[3, 6]
    ),
    "sequential_plateau": lambda m, o: m.SequentialLR(o, [m.ConstantLR(o), m.ReduceLROnPlateau(o)], milestones=[3]),
    "chained_empty": lambda m, o: m.ChainedScheduler([]),
    "multiplicative_len": lambda m, o: m.MultiplicativeLR(o, [lambda e: 1.0]),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_arguments_raise_value_error_like_torch(name):
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match=r"^\[\w+\] "):
        BAD[name](lr_scheduler, _pc_sgd())
    with pytest.raises(ValueError):
        BAD[name](torch.optim.lr_scheduler, _torch_sgd(torch))


def test_other_argument_errors():
    opt = _pc_sgd()
    plain = Optimizer([nn.Parameter(pc.ones(1))], {"lr": 0.1})  # neither momentum nor betas
    with pytest.raises(ValueError, match="must support momentum or beta1"):
        lr_scheduler.OneCycleLR(plain, max_lr=0.1, total_steps=10)
    with pytest.raises(ValueError, match="must support momentum or beta1"):
        lr_scheduler.CyclicLR(plain, 0.01, 0.1)
    lr_scheduler.OneCycleLR(plain, max_lr=0.1, total_steps=10, cycle_momentum=False)  # fine without
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.OneCycleLR(object(), max_lr=0.1, total_steps=10)
    with pytest.raises(TypeError, match="should be a function"):
        lr_scheduler.MultiplicativeLR(opt, 0.9)
    other = _pc_sgd()
    with pytest.raises(ValueError, match="same optimizer"):
        lr_scheduler.ChainedScheduler([lr_scheduler.ConstantLR(opt), lr_scheduler.ConstantLR(other)])
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.LinearLR(_pc_sgd(), last_epoch=4)
