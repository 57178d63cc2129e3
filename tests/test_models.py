"""Tests for pycnn.models: LeNet-5 shapes, parameter count, state dict names, and parity with an
equivalent torch model when torch is installed.
"""

import numpy as np
import pytest

import pycnn as pc
from pycnn import models, nn


def _np(t):
    return np.array(t.detach().numpy())


def _torch_lenet(torch, num_classes=10, in_channels=1):
    tnn = torch.nn
    m = tnn.Module()
    m.features = tnn.Sequential(
        tnn.Conv2d(in_channels, 6, 5), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2)
    )
    m.classifier = tnn.Sequential(
        tnn.Linear(256, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(), tnn.Linear(84, num_classes)
    )
    return m


def test_lenet5_output_shape_and_dtype():
    pc.manual_seed(0)
    model = models.lenet5()
    assert isinstance(model, models.LeNet5) and isinstance(model, nn.Module)
    y = model(pc.randn(4, 1, 28, 28))
    assert y.shape == (4, 10) and y.dtype == pc.float32
    assert models.lenet5(num_classes=3, in_channels=3)(pc.randn(2, 3, 28, 28)).shape == (2, 3)


def test_lenet5_parameter_count():
    # conv1 6*1*5*5+6 = 156, conv2 16*6*5*5+16 = 2416, fc1 256*120+120 = 30840, fc2 120*84+84 = 10164,
    # fc3 84*10+10 = 850: 44,426 in all. (The 32x32 original, with 400 flattened features, has 61,706.)
    model = models.lenet5()
    assert sum(p.numel() for p in model.parameters()) == 44_426
    assert sum(p.numel() for p in models.lenet5(num_classes=2).parameters()) == 44_426 - 8 * 85


def test_lenet5_state_dict_keys():
    keys = list(models.lenet5().state_dict())
    assert keys == [
        "features.0.weight",
        "features.0.bias",
        "features.3.weight",
        "features.3.bias",
        "classifier.0.weight",
        "classifier.0.bias",
        "classifier.2.weight",
        "classifier.2.bias",
        "classifier.4.weight",
        "classifier.4.bias",
    ]
    shapes = {k: tuple(v.shape) for k, v in models.lenet5().state_dict().items()}
    assert shapes["features.3.weight"] == (16, 6, 5, 5) and shapes["classifier.0.weight"] == (120, 256)


def test_lenet5_rejects_wrong_input_size():
    with pytest.raises(ValueError, match=r"\[LeNet5\]"):
        models.lenet5()(pc.randn(1, 1, 32, 32))


def test_lenet5_backward_reaches_every_parameter():
    model = models.lenet5()
    loss = nn.CrossEntropyLoss()(model(pc.randn(3, 1, 28, 28)), pc.tensor([0, 4, 9]))
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.shape == p.shape, name


def test_lenet5_matches_torch():
    torch = pytest.importorskip("torch")
    theirs = _torch_lenet(torch)
    assert sum(p.numel() for p in theirs.parameters()) == 44_426
    ours = models.lenet5()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 1, 28, 28)).astype(np.float32)
    expected = theirs.classifier(torch.flatten(theirs.features(torch.from_numpy(x)), 1)).detach().numpy()
    np.testing.assert_allclose(_np(ours(pc.tensor(x))), expected, rtol=1e-4, atol=1e-5)
