"""Tests for pycnn.summary: rows (names, output shapes, parameter counts, FLOPs) checked against hand
counts, the printed totals, and that the temporary forward wrappers and training flags are always restored.
"""

import pytest

import pycnn as pc
from pycnn import models, nn


def _small_net():
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 8, 3, padding=1, groups=2, bias=False),
        nn.Flatten(),
        nn.Linear(8 * 4 * 4, 5),
    )


def test_rows_shapes_params_flops(capsys):
    rows = pc.summary(_small_net(), (2, 3, 8, 8))
    assert [r["name"] for r in rows] == ["0", "1", "2", "3", "4", "5", "6"]
    assert [r["type"] for r in rows] == ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Conv2d", "Flatten", "Linear"]
    assert [r["output_shape"] for r in rows] == [
        (2, 8, 8, 8),
        (2, 8, 8, 8),
        (2, 8, 8, 8),
        (2, 8, 4, 4),
        (2, 8, 4, 4),
        (2, 128),
        (2, 5),
    ]
    assert [r["params"] for r in rows] == [8 * 27 + 8, 16, 0, 0, 8 * 4 * 9, 0, 128 * 5 + 5]
    # conv: 2 * N*C_out*H*W * (C_in/groups)*KH*KW; linear: 2 * N*out * in.
    assert rows[0]["flops"] == 2 * (2 * 8 * 8 * 8) * 3 * 9
    assert rows[4]["flops"] == 2 * (2 * 8 * 4 * 4) * 4 * 9
    assert rows[6]["flops"] == 2 * (2 * 5) * 128
    assert all(r["flops"] == 0 for r in rows if r["type"] not in ("Conv2d", "Linear"))
    out = capsys.readouterr().out
    assert "Total params: 1,173" in out and "Trainable params: 1,173" in out
    assert f"{sum(r['flops'] for r in rows):,}" in out


def test_resnet18_totals_and_dotted_names(capsys):
    rows = pc.summary(models.resnet18(), (1, 3, 224, 224), print_table=False)
    assert capsys.readouterr().out == ""
    assert sum(r["flops"] for r in rows) == 3_628_146_688  # 1.81 GMACs, the usual published figure
    assert sum(r["params"] for r in rows) == 11_689_512
    names = [r["name"] for r in rows]
    assert names[0] == "conv1" and names[-1] == "fc" and "layer2.0.downsample.0" in names
    assert rows[-1]["output_shape"] == (1, 1000)


def test_leaf_called_twice_gets_two_rows():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            return self.fc(self.fc(x))

    rows = pc.summary(Twice(), (3, 4), print_table=False)
    assert [r["name"] for r in rows] == ["fc", "fc"] and rows[1]["flops"] == 2 * 12 * 4


def test_forward_and_training_restored_after_success_and_error():
    net = _small_net()
    net.train()
    net[1].eval()
    pc.summary(net, (1, 3, 8, 8), print_table=False)
    assert all("forward" not in m.__dict__ for m in net.modules())
    assert net.training and not net[1].training and net[0].training
    with pytest.raises(ValueError, match=r"^\[conv2d\]"):
        pc.summary(net, (1, 5, 8, 8), print_table=False)  # wrong channel count: conv 0 raises
    assert all("forward" not in m.__dict__ for m in net.modules())
    assert net.training and not net[1].training
    y = net(pc.randn(1, 3, 8, 8))
    assert y.shape == (1, 5)


def test_running_stats_untouched():
    net = _small_net()
    before = net[1].running_mean.numpy().copy()
    pc.summary(net, (2, 3, 8, 8), print_table=False)
    assert (net[1].running_mean.numpy() == before).all()


def test_bad_arguments():
    with pytest.raises(TypeError, match="summary"):
        pc.summary(lambda x: x, (1, 3))
    with pytest.raises(ValueError, match="input_shape"):
        pc.summary(_small_net(), 3)
    with pytest.raises(ValueError, match="input_shape"):
        pc.summary(_small_net(), (1, 0, 8, 8))
