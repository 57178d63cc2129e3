"""Tests for pycnn.nn: Module bookkeeping, state dicts, init, and layer numerics.

Layer outputs are checked against plain NumPy references written here; when torch is installed the same
layers are also compared with torch.nn (outputs and gradients, with copied weights).
"""

import math
from collections import OrderedDict

import numpy as np
import pytest

import pycnn as pc
from pycnn import nn
from pycnn.nn import init

from helpers import check_module_device_matches_cpu


def _np(t):
    """A copy of t's values on the host, whatever its device."""
    return np.array(t.detach().cpu().numpy())


def _torch():
    return pytest.importorskip("torch")


class _Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.scale = nn.Parameter(pc.ones(3))
        self.register_buffer("running", pc.zeros(3))
        self.register_buffer("scratch", pc.zeros(2), persistent=False)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.fc(x)) * self.scale


# ---------------------------------------------------------------- registration


def test_registration_order_and_names():
    m = _Block()
    assert [n for n, _ in m.named_parameters()] == ["scale", "fc.weight", "fc.bias"]
    assert [n for n, _ in m.named_buffers()] == ["running", "scratch"]
    assert [n for n, _ in m.named_children()] == ["fc", "act"]
    assert [n for n, _ in m.named_modules()] == ["", "fc", "act"]
    assert list(m.state_dict().keys()) == ["scale", "running", "fc.weight", "fc.bias"]
    assert m.fc.weight.shape == (3, 4) and m.fc.bias.shape == (3,)
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in m.parameters())
    assert [tuple(p.shape) for p in m.parameters(recurse=False)] == [(3,)]


def test_setattr_rules():
    m = _Block()
    with pytest.raises(TypeError):
        m.scale = pc.ones(3)  # a plain tensor cannot replace a registered parameter
    m.scale = None
    assert "scale" not in dict(m.named_parameters())
    with pytest.raises(TypeError):
        m.fc = 3
    m.running = pc.ones(3)  # buffers accept plain tensors
    assert _np(m.state_dict()["running"]).tolist() == [1, 1, 1]
    del m.fc
    assert "fc" not in dict(m.named_children())
    with pytest.raises(AttributeError):
        _ = m.does_not_exist
    with pytest.raises(KeyError):
        m.register_buffer("a.b", pc.zeros(1))


def test_shared_modules_are_deduplicated():
    lin = nn.Linear(3, 3)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(seq.parameters())) == 2
    assert [n for n, _ in seq.named_modules()] == ["", "0", "1"]
    assert list(seq.state_dict().keys()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_parameter_shares_memory_and_repr():
    t = pc.zeros(2, 3)
    p = nn.Parameter(t)
    assert isinstance(p, pc.Tensor) and p.requires_grad and p.is_leaf
    with pc.no_grad():
        t.fill_(2.0)
    assert _np(p).tolist() == [[2.0] * 3] * 2
    assert repr(p).startswith("Parameter containing:")
    assert not nn.Parameter(pc.zeros(1), requires_grad=False).requires_grad


def test_sequential_container_api():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq) == 3
    assert isinstance(seq[0], nn.Linear) and isinstance(seq[-1], nn.Linear)
    head = seq[1:]
    assert isinstance(head, nn.Sequential) and list(head._modules.keys()) == ["1", "2"]
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear"]
    seq.append(nn.ReLU())
    assert len(seq) == 4 and list(seq.state_dict().keys())[-1] == "2.bias"
    with pytest.raises(IndexError):
        seq[10]
    named = nn.Sequential(OrderedDict([("conv", nn.Conv2d(1, 2, 3)), ("act", nn.ReLU())]))
    assert list(named.state_dict().keys()) == ["conv.weight", "conv.bias"]

    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(ml) == 3 and len(list(ml.parameters())) == 6
    assert list(ml.state_dict().keys())[:2] == ["0.weight", "0.bias"]


# ------------------------------------------------------------------ state dict


def test_state_dict_aliases_and_round_trip():
    pc.manual_seed(0)
    a = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
    pc.manual_seed(1)
    b = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
    sd = a.state_dict()
    assert list(sd.keys()) == ["0.weight", "0.bias", "3.weight", "3.bias"]
    assert all(not v.requires_grad for v in sd.values())
    with pc.no_grad():
        a[0].bias.fill_(0.5)  # state_dict tensors alias the parameters
    assert np.all(_np(sd["0.bias"]) == 0.5)

    weight_before = b[0].weight
    result = b.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert b[0].weight is weight_before  # copied in place: optimizers keep valid references
    for k in sd:
        np.testing.assert_array_equal(_np(b.state_dict()[k]), _np(sd[k]))
    x = pc.randn(2, 1, 6, 6)
    np.testing.assert_array_equal(_np(a(x)), _np(b(x)))

    # numpy arrays are accepted as well
    b.load_state_dict({k: _np(v) * 0 for k, v in sd.items()})
    assert np.all(_np(b[3].weight) == 0)


def test_load_state_dict_errors():
    m = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    sd = m.state_dict()
    missing = OrderedDict((k, v) for k, v in sd.items() if k != "0.bias")
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "0.bias"'):
        m.load_state_dict(missing)
    extra = OrderedDict(sd)
    extra["9.weight"] = pc.zeros(1)
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "9.weight"'):
        m.load_state_dict(extra)
    result = m.load_state_dict(missing, strict=False)
    assert result.missing_keys == ["0.bias"] and result.unexpected_keys == []
    result = m.load_state_dict(extra, strict=False)
    assert result.unexpected_keys == ["9.weight"]

    bad = OrderedDict(sd)
    bad["2.weight"] = pc.zeros(2, 3)
    for strict in (True, False):  # shape mismatches are errors even when not strict, as in torch
        with pytest.raises(
            RuntimeError,
            match=r"size mismatch for 2.weight: copying a param with shape "
            r"\(2, 3\) from checkpoint, the shape in current model is \(1, 3\)",
        ):
            m.load_state_dict(bad, strict=strict)
    with pytest.raises(RuntimeError, match="Error"):
        m.load_state_dict({**sd, "0.weight": "not a tensor"})


# ------------------------------------------------------------ modes and grads


def test_train_eval_zero_grad_apply():
    m = _Block()
    assert m.training and m.fc.training
    assert m.eval() is m
    assert not m.training and not m.fc.training and not m.act.training
    m.train()
    assert m.fc.training
    with pytest.raises(ValueError):
        m.train("yes")

    m(pc.randn(5, 4)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(np.all(_np(p.grad) == 0) for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())

    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen == ["Linear", "ReLU", "_Block"]


def test_to_double_keeps_parameter_identity(device):
    m = nn.Sequential(nn.Linear(3, 2))
    w = m[0].weight
    before = _np(w)
    assert m.double() is m
    assert m[0].weight is w and w.dtype == pc.float64 and m[0].bias.dtype == pc.float64
    np.testing.assert_allclose(_np(w), before)
    assert m.to(device) is m and m[0].weight is w  # moving keeps the identity too (optimizers hold it)
    y = m(pc.randn(4, 3, dtype=pc.float64).to(device))
    assert y.dtype == pc.float64
    m.float()
    assert w.dtype == pc.float32 and _np(w).dtype == np.float32
    assert m.to("float64") is m and w.dtype == pc.float64  # a dtype name, as Tensor.to takes it


def test_repr_matches_torch_format():
    seq = nn.Sequential(
        nn.Conv2d(1, 6, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Sequential(nn.Linear(864, 10, bias=False)),
        nn.CrossEntropyLoss(),
    )
    expected = (
        "Sequential(\n"
        "  (0): Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))\n"
        "  (1): ReLU()\n"
        "  (2): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)\n"
        "  (3): Flatten(start_dim=1, end_dim=-1)\n"
        "  (4): Sequential(\n"
        "    (0): Linear(in_features=864, out_features=10, bias=False)\n"
        "  )\n"
        "  (5): CrossEntropyLoss()\n"
        ")"
    )
    assert repr(seq) == expected
    conv = nn.Conv2d(4, 8, (3, 1), stride=2, padding=1, dilation=2, groups=2, bias=False)
    assert repr(conv) == (
        "Conv2d(4, 8, kernel_size=(3, 1), stride=(2, 2), padding=(1, 1), dilation=(2, 2), groups=2, bias=False)"
    )
    assert repr(nn.AvgPool2d(3, 1, 1)) == "AvgPool2d(kernel_size=3, stride=1, padding=1)"
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)"

    torch = pytest.importorskip("torch")
    tseq = torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Sequential(torch.nn.Linear(864, 10, bias=False)),
        torch.nn.CrossEntropyLoss(),
    )
    assert repr(seq) == repr(tseq)
    tconv = torch.nn.Conv2d(4, 8, (3, 1), stride=2, padding=1, dilation=2, groups=2, bias=False)
    assert repr(conv) == repr(tconv)


def test_conv2d_argument_validation():
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 6, 3, groups=2)
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(4, 6, 3, groups=4)
    with pytest.raises(ValueError, match="groups"):
        nn.Conv2d(4, 4, 3, groups=0)
    with pytest.raises(ValueError):
        nn.Conv2d(1, 1, 3, padding_mode="mirror")
    with pytest.raises(ValueError):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    conv = nn.Conv2d(2, 4, 3, groups=2, padding="same")
    assert conv.weight.shape == (4, 1, 3, 3)
    assert conv(pc.randn(1, 2, 5, 5)).shape == (1, 4, 5, 5)
    assert nn.Conv2d(2, 4, 3, bias=False).bias is None


# ---------------------------------------------------------------------- init


def test_calculate_gain_and_fans():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    with pytest.raises(ValueError):
        init.calculate_gain("swish")
    assert init._calculate_fan_in_and_fan_out(pc.empty(16, 6, 5, 5)) == (150, 400)
    with pytest.raises(ValueError):
        init._calculate_fan_in_and_fan_out(pc.empty(5))


@pytest.mark.parametrize(
    "name, fn, expected_std",
    [
        ("kaiming_normal", lambda t: init.kaiming_normal_(t, nonlinearity="relu"), math.sqrt(2 / 400)),
        (
            "kaiming_normal_fan_out",
            lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"),
            math.sqrt(2 / 300),
        ),
        ("kaiming_uniform", lambda t: init.kaiming_uniform_(t, nonlinearity="relu"), math.sqrt(2 / 400)),
        ("kaiming_uniform_a5", lambda t: init.kaiming_uniform_(t, a=math.sqrt(5)), 1 / math.sqrt(3 * 400)),
        ("xavier_uniform", lambda t: init.xavier_uniform_(t), math.sqrt(2 / 700)),
        ("xavier_normal", lambda t: init.xavier_normal_(t, gain=2.0), 2 * math.sqrt(2 / 700)),
        ("normal", lambda t: init.normal_(t, 0.0, 0.3), 0.3),
        ("uniform", lambda t: init.uniform_(t, -1.0, 1.0), 1 / math.sqrt(3)),
    ],
)
def test_init_std_matches_formula(name, fn, expected_std):
    pc.manual_seed(0)
    t = pc.empty(300, 400, dtype=pc.float64)  # fan_in 400, fan_out 300
    assert fn(t) is t
    a = _np(t)
    # 120k samples: the sample std is within ~0.5% of the true one; 3% leaves a wide margin.
    assert abs(a.std() / expected_std - 1) < 0.03, name
    assert abs(a.mean()) < 0.02 * expected_std * 10
    if "uniform" in name:
        assert np.abs(a).max() <= expected_std * math.sqrt(3) * (1 + 1e-12)


def test_constant_zeros_ones_and_seed_reproducibility():
    t = pc.empty(3, 3)
    assert np.all(_np(init.constant_(t, 0.25)) == 0.25)
    assert np.all(_np(init.zeros_(t)) == 0)
    assert np.all(_np(init.ones_(t)) == 1)
    pc.manual_seed(123)
    a = [_np(p) for p in nn.Conv2d(3, 4, 3).parameters()]
    pc.manual_seed(123)
    b = [_np(p) for p in nn.Conv2d(3, 4, 3).parameters()]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize(
    "make, fan_in",
    [
        (lambda: nn.Linear(200, 300), 200),
        (lambda: nn.Conv2d(8, 300, 5), 8 * 25),
    ],
)
def test_default_init_bounds(make, fan_in):
    pc.manual_seed(0)
    layer = make()
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform(a=sqrt(5)) gives exactly this bound
    w, b = _np(layer.weight), _np(layer.bias)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.std() / (bound / math.sqrt(3)) - 1) < 0.05
    assert np.abs(w).max() > 0.95 * bound  # fills the whole interval, not a narrower one


def test_default_init_matches_torch_statistics():
    torch = _torch()
    torch.manual_seed(0)
    pc.manual_seed(0)
    for ours, theirs in [
        (nn.Linear(120, 84), torch.nn.Linear(120, 84)),
        (nn.Conv2d(6, 16, 5), torch.nn.Conv2d(6, 16, 5)),
    ]:
        for (n1, p1), (n2, p2) in zip(ours.named_parameters(), theirs.named_parameters()):
            assert n1 == n2 and tuple(p1.shape) == tuple(p2.shape)
            a, t = _np(p1), p2.detach().numpy()
            # same bound: both maxima sit just under the same value
            assert abs(np.abs(a).max() - np.abs(t).max()) < 0.05 * np.abs(t).max() + 0.02


# ----------------------------------------------------------- numpy references


def _pool_windows(x, k, s):
    _n, _c, h, w = x.shape
    oh, ow = (h - k) // s + 1, (w - k) // s + 1
    return np.stack([x[:, :, i : i + s * oh : s, j : j + s * ow : s] for i in range(k) for j in range(k)], axis=0)


def test_linear_relu_flatten_pool_loss_match_numpy(device):
    rng = np.random.default_rng(1)
    pc.manual_seed(0)
    lin = nn.Linear(5, 3).double().to(device)
    x = rng.standard_normal((4, 5))
    np.testing.assert_allclose(_np(lin(pc.tensor(x, device=device))), x @ _np(lin.weight).T + _np(lin.bias), rtol=1e-12)
    np.testing.assert_array_equal(_np(nn.ReLU()(pc.tensor(x, device=device))), np.maximum(x, 0))

    img = rng.standard_normal((2, 3, 8, 8))
    assert nn.Flatten()(pc.tensor(img, device=device)).shape == (2, 192)
    np.testing.assert_array_equal(_np(nn.Flatten(0, 1)(pc.tensor(img, device=device))), img.reshape(6, 8, 8))
    np.testing.assert_allclose(_np(nn.MaxPool2d(2)(pc.tensor(img, device=device))), _pool_windows(img, 2, 2).max(0))
    np.testing.assert_allclose(_np(nn.MaxPool2d(3, 2)(pc.tensor(img, device=device))), _pool_windows(img, 3, 2).max(0))
    np.testing.assert_allclose(
        _np(nn.AvgPool2d(2)(pc.tensor(img, device=device))), _pool_windows(img, 2, 2).mean(0), rtol=1e-12
    )

    logits = rng.standard_normal((6, 4))
    target = np.array([0, 3, 1, 1, 2, 0])
    logp = logits - logits.max(1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(1, keepdims=True))
    per = -logp[np.arange(6), target]
    for reduction, ref in (("mean", per.mean()), ("sum", per.sum()), ("none", per)):
        out = nn.CrossEntropyLoss(reduction=reduction)(
            pc.tensor(logits, device=device), pc.tensor(target, device=device)
        )
        np.testing.assert_allclose(_np(out), ref, rtol=1e-12)
        out = nn.NLLLoss(reduction=reduction)(pc.tensor(logp, device=device), pc.tensor(target, device=device))
        np.testing.assert_allclose(_np(out), ref, rtol=1e-12)
    with pytest.raises(ValueError):
        nn.CrossEntropyLoss(reduction="avg")
    with pytest.raises(NotImplementedError):
        nn.CrossEntropyLoss(size_average=True)


# ---------------------------------------------------------------- torch parity


def _copy_to_torch(ours, theirs):
    torch = _torch()
    with torch.no_grad():
        for (n1, p1), (n2, p2) in zip(ours.named_parameters(), theirs.named_parameters()):
            assert n1 == n2 and tuple(p1.shape) == tuple(p2.shape)
            p2.copy_(torch.from_numpy(_np(p1)))


@pytest.mark.parametrize("case", ["linear", "conv", "conv_groups", "maxpool", "avgpool", "net"])
def test_layers_match_torch_forward_and_backward(case, device):
    torch = _torch()
    tnn = torch.nn
    pc.manual_seed(0)
    builders = {
        "linear": (lambda m: m.Linear(7, 5), (3, 7)),
        "conv": (lambda m: m.Conv2d(3, 4, 3, stride=2, padding=1), (2, 3, 9, 9)),
        "conv_groups": (lambda m: m.Conv2d(4, 6, (3, 2), dilation=(1, 2), groups=2, bias=False), (2, 4, 7, 8)),
        "maxpool": (lambda m: m.MaxPool2d(3, stride=2, padding=1), (2, 3, 9, 9)),
        "avgpool": (lambda m: m.AvgPool2d(2, padding=1, count_include_pad=False), (2, 3, 7, 7)),
        "net": (
            lambda m: m.Sequential(m.Conv2d(2, 3, 3), m.ReLU(), m.MaxPool2d(2), m.Flatten(), m.Linear(3 * 3 * 3, 4)),
            (3, 2, 8, 8),
        ),
    }
    build, shape = builders[case]
    ours, theirs = build(nn).double(), build(tnn).double()
    _copy_to_torch(ours, theirs)
    ours.to(device)
    x = np.random.default_rng(2).standard_normal(shape)
    g = np.random.default_rng(3).standard_normal(tuple(theirs(torch.from_numpy(x)).shape))

    xp = pc.tensor(x, requires_grad=True, device=device)
    yp = ours(xp)
    (yp * pc.tensor(g, device=device)).sum().backward()
    xt = torch.from_numpy(x).requires_grad_(True)
    yt = theirs(xt)
    (yt * torch.from_numpy(g)).sum().backward()

    np.testing.assert_allclose(_np(yp), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(_np(xp.grad), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    for (name, p1), (_, p2) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(_np(p1.grad), p2.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


def test_cross_entropy_matches_torch(device):
    torch = _torch()
    logits = np.random.default_rng(4).standard_normal((5, 7))
    target = np.array([1, 0, 6, 3, 3])
    lp = pc.tensor(logits, requires_grad=True, device=device)
    nn.CrossEntropyLoss()(lp, pc.tensor(target, device=device)).backward()
    lt = torch.from_numpy(logits).requires_grad_(True)
    torch.nn.CrossEntropyLoss()(lt, torch.from_numpy(target)).backward()
    np.testing.assert_allclose(_np(lp.grad), lt.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_state_dict_keys_match_torch():
    torch = _torch()
    ours = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(864, 10))
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(864, 10)
    )
    assert list(ours.state_dict()) == list(theirs.state_dict())
    # a torch state dict (as numpy) loads into the pycnn model and gives the same outputs
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(5).standard_normal((2, 1, 28, 28)).astype(np.float32)
    np.testing.assert_allclose(
        _np(ours(pc.tensor(x))), theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-4, atol=1e-5
    )


def test_small_cnn_device_matches_cpu(device):
    """A conv / batch-norm / pool / linear stack moved to the device: output, input and parameter gradients and
    the running statistics against the same stack on the CPU (float32: sums over a few hundred products)."""
    pc.manual_seed(3)
    m = nn.Sequential(
        nn.Conv2d(3, 5, 3, padding=1),
        nn.BatchNorm2d(5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(5, 4, (3, 2), stride=(1, 2), groups=1),
        nn.AvgPool2d(2, ceil_mode=True),
        nn.Flatten(),
        nn.Linear(4 * 2 * 1, 7),
    )
    x = np.random.default_rng(6).standard_normal((3, 3, 11, 9)).astype(np.float32)
    check_module_device_matches_cpu(m, x, device, rtol=1e-4, atol=1e-5)
