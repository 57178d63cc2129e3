"""examples/torch_style_mnist.py, the PyTorch-style script on pycnn: one short epoch on a few bundled digits,
then the calls it makes one by one against NumPy, and (with torch) the same recipe's forward and update
against PyTorch's (examples/torch_style_mnist_torch.py runs the recipe's own source on torch)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import pycnn as pc
import pycnn.nn.functional as F
from pycnn import nn

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"pycnn_example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


script = _load("torch_style_mnist")


def test_script_trains_one_short_epoch_and_saves(tmp_path, capsys):
    path = tmp_path / "mnist_cnn.pt"
    args = ["--epochs", "1", "--train-size", "768", "--test-size", "300", "--batch-size", "32"]
    accuracy = script.main([*args, "--log-interval", "8", "--save-model", "--save-path", str(path)])
    out = capsys.readouterr().out
    assert "Train Epoch: 1 [0/768 (0%)]\tLoss: " in out
    assert "Test set: Average loss: " in out and "/300 (" in out
    assert accuracy > 40, out  # chance is 10%; this recipe reaches ~60-80% here

    # The saved state dict loads back into a fresh Net and carries the trained weights.
    model = script.Net()
    model.load_state_dict(pc.load(str(path)))
    pc.manual_seed(1)
    test_set = pc.data.Subset(pc.datasets.mnist_subset("test"), pc.randperm(1000)[:300].tolist())
    _, reloaded = script.test(model, pc.device("cpu"), pc.data.DataLoader(test_set, batch_size=100))
    assert reloaded > 40


def _net_input(n=6, seed=0):
    return np.random.default_rng(seed).standard_normal((n, 1, 28, 28)).astype(np.float32)


def test_script_calls_one_by_one():
    pc.manual_seed(0)
    model = script.Net()
    model.eval()  # dropout is the identity: the output is a function of the weights alone
    x = _net_input()
    with pc.no_grad():
        output = model(pc.tensor(x))
    assert not output.requires_grad and output.shape == (6, 10)
    # log_softmax rows are log-probabilities
    np.testing.assert_allclose(np.exp(np.asarray(output)).sum(1), 1.0, rtol=1e-5)

    # the forward, written out: conv, relu, pool, flatten, linear
    h = F.max_pool2d(F.relu(model.conv2(F.relu(model.conv1(pc.tensor(x))))), 2)
    assert h.shape == (6, 64, 12, 12) and pc.flatten(h, 1).shape == (6, 9216)
    ref = F.log_softmax(model.fc2(F.relu(model.fc1(pc.flatten(h, 1)))), dim=1)
    np.testing.assert_allclose(np.asarray(output), np.asarray(ref.detach()), rtol=1e-5, atol=1e-6)

    target = pc.tensor([3, 1, 4, 1, 5, 9])
    total = F.nll_loss(output, target, reduction="sum").item()
    logp = np.asarray(output)
    assert isinstance(total, float)
    assert total == pytest.approx(-logp[np.arange(6), [3, 1, 4, 1, 5, 9]].sum(), rel=1e-5)

    pred = output.argmax(dim=1, keepdim=True)
    assert pred.shape == (6, 1) and pred.dtype == pc.int64
    np.testing.assert_array_equal(np.asarray(pred)[:, 0], logp.argmax(1))
    assert target.view_as(pred).shape == (6, 1)
    np.testing.assert_array_equal(np.asarray(pred.eq(target.view_as(pred)))[:, 0], logp.argmax(1) == target.tolist())


def test_correct_count_sums_the_comparison():
    # test(): correct += pred.eq(target.view_as(pred)).sum().item(), an integer count (torch: a bool sum is int64).
    pred = pc.tensor([[3], [1], [0], [1], [5], [2]])
    target = pc.tensor([3, 1, 4, 1, 5, 9])
    correct = pred.eq(target.view_as(pred)).sum().item()
    assert correct == 4 and isinstance(correct, int)


def test_optimizer_schedule_and_save_as_the_script_uses_them(tmp_path):
    pc.manual_seed(0)
    model = script.Net()
    optimizer = pc.optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = pc.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    before = {k: np.asarray(v).copy() for k, v in model.state_dict().items()}
    x, target = pc.tensor(_net_input(4)), pc.tensor([0, 1, 2, 3])
    optimizer.zero_grad()
    loss = F.nll_loss(model(x), target)
    loss.backward()
    optimizer.step()
    scheduler.step()
    scheduler.step()
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.49)
    after = model.state_dict()
    assert all(not np.array_equal(before[k], np.asarray(after[k])) for k in ("conv1.weight", "fc2.bias"))

    path = tmp_path / "m.pt"
    pc.save(model.state_dict(), str(path))
    fresh = script.Net()
    fresh.load_state_dict(pc.load(str(path)))
    for k, v in fresh.state_dict().items():
        np.testing.assert_array_equal(np.asarray(v), np.asarray(after[k]))
    assert isinstance(pc.cuda.is_available(), bool) and x.to(pc.device("cpu")).device == pc.device("cpu")
    assert isinstance(model.dropout1, nn.Dropout)


def _torch_net_like(model):
    """The recipe's Net built by torch (the torch twin of the example) with the pycnn model's weights."""
    torch = pytest.importorskip("torch")
    recipe = _load("torch_style_mnist_torch").load_recipe()
    twin = recipe["Net"]()
    twin.load_state_dict({k: torch.from_numpy(np.asarray(v).copy()) for k, v in model.state_dict().items()})
    return torch, twin


def test_recipe_matches_torch_forward_and_update():
    pc.manual_seed(0)
    model = script.Net()
    torch, twin = _torch_net_like(model)
    model.eval()
    twin.eval()
    x, target = _net_input(5, seed=2), np.array([7, 0, 2, 2, 9])
    out = model(pc.tensor(x))
    out_t = twin(torch.from_numpy(x))
    np.testing.assert_allclose(np.asarray(out.detach()), out_t.detach().numpy(), rtol=1e-4, atol=1e-5)

    # one Adadelta step and two StepLR steps, then the same forward again
    opt, opt_t = pc.optim.Adadelta(model.parameters(), lr=1.0), torch.optim.Adadelta(twin.parameters(), lr=1.0)
    sched = pc.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
    sched_t = torch.optim.lr_scheduler.StepLR(opt_t, step_size=1, gamma=0.7)
    F.nll_loss(out, pc.tensor(target)).backward()
    torch.nn.functional.nll_loss(out_t, torch.from_numpy(target)).backward()
    opt.step()
    opt_t.step()
    sched.step()
    sched_t.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(opt_t.param_groups[0]["lr"])
    with pc.no_grad(), torch.no_grad():
        np.testing.assert_allclose(
            np.asarray(model(pc.tensor(x))), twin(torch.from_numpy(x)).numpy(), rtol=1e-4, atol=1e-4
        )
