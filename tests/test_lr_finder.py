"""Tests for pycnn.train.lr_find: the sweep on LeNet-5 and a few hundred bundled MNIST digits (finite
losses, then divergence at a high lr; the suggestion inside the sweep and below the blow-up), the
smoothing and lr schedule written out here, bitwise restoration of everything the sweep touches, and
the PNG figure.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

import pycnn as pc
from pycnn import nn
from pycnn.train import LRFinderResult, lr_find

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def mnist_loader_factory():
    dataset = pc.datasets.mnist_subset("train")
    # The bundled digits are sorted by label: draw a fixed random few hundred so every batch mixes classes.
    indices = np.random.default_rng(0).choice(len(dataset), 320, replace=False).tolist()
    subset = pc.data.Subset(dataset, indices)

    def make(batch_size=32, shuffle=True):
        return pc.data.DataLoader(subset, batch_size=batch_size, shuffle=shuffle)

    return make


def _lenet_and_sgd(seed=0, lr=0.01):
    pc.manual_seed(seed)
    model = pc.models.lenet5()
    optimizer = pc.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=1e-4)
    return model, optimizer


def test_sweep_diverges_and_suggests_an_lr_below_the_blow_up(mnist_loader_factory, tmp_path):
    model, optimizer = _lenet_and_sgd()
    png = tmp_path / "finder.png"
    result = lr_find(
        model,
        mnist_loader_factory(),
        nn.CrossEntropyLoss(),
        optimizer,
        start_lr=1e-6,
        end_lr=10,
        num_iter=100,
        plot=str(png),
    )
    assert isinstance(result, LRFinderResult)
    n = len(result.lrs)
    assert len(result.losses) == len(result.raw_losses) == n
    assert np.all(np.isfinite(result.raw_losses)) and np.all(np.isfinite(result.losses))

    # Geometric schedule: lr_i = start * (end / start) ** (i / (num_iter - 1)).
    expected_lrs = 1e-6 * (10 / 1e-6) ** (np.arange(n) / 99)
    np.testing.assert_allclose(result.lrs, expected_lrs, rtol=1e-12)
    # Smoothing: s_0 = loss_0, s_i = 0.05 loss_i + 0.95 s_(i-1).
    smoothed = [result.raw_losses[0]]
    for loss in result.raw_losses[1:]:
        smoothed.append(0.05 * loss + 0.95 * smoothed[-1])
    np.testing.assert_allclose(result.losses, smoothed, rtol=1e-12)

    # At the start the loss is about ln(10) (10 classes, small random logits); at a high lr it blows up:
    # the sweep stops early, at the first smoothed loss above 5 x the best so far.
    assert abs(result.raw_losses[0] - np.log(10)) < 0.2
    assert result.diverged and n < 100 and result.lrs[-1] < 10
    assert result.losses[-1] > 5 * min(result.losses[:-1])
    assert all(s <= 5 * min(result.losses[: i + 1]) for i, s in enumerate(result.losses[:-1]))

    suggestion = result.suggested_lr
    assert suggestion in result.lrs
    assert 1e-6 <= suggestion < result.lrs[-1]
    assert result.lrs.index(suggestion) <= int(np.argmin(result.losses))  # on the descending side
    # It is the steepest point of the smoothed curve against log lr (before the minimum).
    slopes = np.gradient(result.losses, np.log10(result.lrs))
    i = result.lrs.index(suggestion)
    assert slopes[i] == pytest.approx(min(slopes[1 : int(np.argmin(result.losses)) + 1]))
    assert slopes[i] < 0

    data = png.read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 1024


def _snapshot(model, optimizer):
    params = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    state = {
        i: {k: (v.numpy().copy() if isinstance(v, pc.Tensor) else v) for k, v in s.items()}
        for i, s in optimizer.state_dict()["state"].items()
    }
    groups = [{k: v for k, v in g.items() if k != "params"} for g in optimizer.param_groups]
    grads = [None if p.grad is None else p.grad.numpy().copy() for p in model.parameters()]
    flags = [m.training for m in model.modules()]
    return params, state, groups, grads, flags, pc.default_generator().get_state()


def _assert_bitwise_equal(a, b):
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            _assert_bitwise_equal(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_bitwise_equal(x, y)
    else:
        assert a == b


def _small_bn_net():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.3),
        nn.Linear(4 * 13 * 13, 10),
    )


OPTIMIZERS = {
    "sgd_momentum": lambda params: pc.optim.SGD(params, lr=0.05, momentum=0.9, nesterov=True),
    "adam": lambda params: pc.optim.Adam(params, lr=1e-3),
}


@pytest.mark.parametrize("opt_name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("net", ["lenet", "bn_dropout"])
def test_leaves_no_trace(mnist_loader_factory, net, opt_name):
    pc.manual_seed(1)
    model = pc.models.lenet5() if net == "lenet" else _small_bn_net()
    optimizer = OPTIMIZERS[opt_name](model.parameters())
    loader = mnist_loader_factory(batch_size=16)
    loss_fn = nn.CrossEntropyLoss()
    # A few real steps first, so there are momentum buffers / moments, running stats and gradients.
    for step, (x, y) in enumerate(loader):
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()
        if step == 2:
            break
    optimizer.param_groups[0]["lr"] = 0.0123
    model.eval()
    if net == "bn_dropout":
        model[1].train()  # mixed flags survive too
    before = _snapshot(model, optimizer)

    result = lr_find(model, loader, loss_fn, optimizer, start_lr=1e-4, end_lr=1.0, num_iter=25)
    assert len(result.lrs) > 5
    _assert_bitwise_equal(_snapshot(model, optimizer), before)
    assert all(p is q for p, q in zip(optimizer.param_groups[0]["params"], model.parameters()))


def test_training_after_the_finder_is_unchanged(mnist_loader_factory):
    """Restoring the weights, optimizer and global generator makes a later run identical to one that
    never called lr_find (same shuffles, same dropout masks, same updates)."""

    def train(with_finder):
        pc.manual_seed(7)
        model = _small_bn_net()
        optimizer = pc.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        loader = mnist_loader_factory(batch_size=32)
        if with_finder:
            lr_find(model, loader, nn.CrossEntropyLoss(), optimizer, num_iter=15, end_lr=1.0)
        for step, (x, y) in enumerate(loader):
            optimizer.zero_grad()
            nn.CrossEntropyLoss()(model(x), y).backward()
            optimizer.step()
            if step == 4:
                break
        return {k: v.numpy().copy() for k, v in model.state_dict().items()}

    _assert_bitwise_equal(train(True), train(False))


def test_linear_mode_and_loader_cycling(mnist_loader_factory):
    model, optimizer = _lenet_and_sgd()
    loader = mnist_loader_factory(batch_size=128)  # 3 batches: the sweep restarts it several times
    assert len(loader) == 3
    result = lr_find(
        model,
        loader,
        nn.CrossEntropyLoss(),
        optimizer,
        start_lr=1e-4,
        end_lr=0.02,
        num_iter=12,
        step_mode="linear",
        smooth_f=1.0,
    )
    assert not result.diverged and len(result.lrs) == 12
    np.testing.assert_allclose(result.lrs, np.linspace(1e-4, 0.02, 12), rtol=1e-12)
    assert result.losses == result.raw_losses  # smooth_f = 1: no smoothing
    assert result.step_mode == "linear"


def test_plot_method_and_missing_matplotlib(mnist_loader_factory, tmp_path, monkeypatch):
    model, optimizer = _lenet_and_sgd()
    result = lr_find(
        model, mnist_loader_factory(), nn.CrossEntropyLoss(), optimizer, num_iter=20, start_lr=1e-3, end_lr=0.5
    )
    path = result.plot(tmp_path / "curve.png")
    data = Path(path).read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 1024

    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match=r'pip install "pycnn\[plot\]"'):
        result.plot(tmp_path / "again.png")
    with pytest.raises(RuntimeError, match=r"\[LRFinderResult.plot\] nothing to plot"):
        LRFinderResult().plot(tmp_path / "empty.png")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"start_lr": 0.0}, "start_lr must be > 0"),
        ({"start_lr": 1e-3, "end_lr": 1e-4}, "end_lr must be larger"),
        ({"num_iter": 1}, "num_iter must be an integer >= 2"),
        ({"step_mode": "cos"}, "step_mode must be 'exp' or 'linear'"),
        ({"smooth_f": 0.0}, r"smooth_f must be in \(0, 1\]"),
        ({"diverge_th": 1.0}, "diverge_th must be > 1"),
    ],
)
def test_bad_arguments(kwargs, match):
    model, optimizer = _lenet_and_sgd()
    loader = [(pc.randn(2, 1, 28, 28), pc.tensor(np.array([0, 1])))]
    with pytest.raises(ValueError, match=r"^\[lr_find\] " + match):
        lr_find(model, loader, nn.CrossEntropyLoss(), optimizer, **kwargs)


def test_bad_loaders():
    model, optimizer = _lenet_and_sgd()
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match=r"^\[lr_find\] train_loader yielded no batch"):
        lr_find(model, [], nn.CrossEntropyLoss(), optimizer)
    with pytest.raises(TypeError, match=r"^\[lr_find\] expected batches of \(inputs, targets\)"):
        lr_find(model, [pc.randn(2, 1, 28, 28)], nn.CrossEntropyLoss(), optimizer)
    _assert_bitwise_equal({k: v.numpy().copy() for k, v in model.state_dict().items()}, before)
