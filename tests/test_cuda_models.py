"""Whole models on CUDA against the CPU (llm.c's test_gpt2.c in miniature): three SGD steps of LeNet-5,
ResNet-20 and MobileNetV2 from the same weights give the same losses and weights; a ResNet-20 training step
reads nothing back to the host but the loss the test asks for; device memory stays flat over 1,000 steps.
Every test here needs a GPU (skipped otherwise).
"""

import copy

import numpy as np
import pytest

import pycnn as pc

from helpers import convolutions_as_on_cuda

pytestmark = pytest.mark.cuda

MODELS = {
    "lenet5": (lambda: pc.models.lenet5(), (8, 1, 28, 28)),
    "resnet20": (lambda: pc.models.resnet20(), (8, 3, 32, 32)),
    # dropout off: CPU and CUDA draw their masks from different generators
    "mobilenet_v2": (lambda: pc.models.mobilenet_v2(num_classes=10, width_mult=0.5, dropout=0.0), (4, 3, 32, 32)),
}


def _batch(shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    y = rng.integers(0, 10, shape[0]).astype(np.int64)
    return pc.tensor(x), pc.tensor(y)


def _train(model, device, batches, steps):
    model.to(device)
    opt = pc.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    loss_fn = pc.nn.CrossEntropyLoss()
    losses = []
    for step in range(steps):
        x, y = batches[step % len(batches)]
        loss = loss_fn(model(x.to(device)), y.to(device))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, {k: v.cpu().numpy() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_three_sgd_steps_match_cpu(name):
    build, shape = MODELS[name]
    pc.manual_seed(0)
    cpu_model = build()
    gpu_model = copy.deepcopy(cpu_model)
    batches = [_batch(shape, seed) for seed in range(3)]
    with convolutions_as_on_cuda("cuda"):  # the CPU by implicit GEMM too, not Winograd
        cpu_losses, cpu_state = _train(cpu_model, "cpu", batches, 3)
    gpu_losses, gpu_state = _train(gpu_model, "cuda", batches, 3)
    assert all(p.is_cuda for p in gpu_model.parameters())
    np.testing.assert_allclose(gpu_losses, cpu_losses, rtol=1e-4)
    for key, value in cpu_state.items():
        np.testing.assert_allclose(gpu_state[key], value, rtol=1e-4, atol=1e-4, err_msg=f"{name}: {key}")


def _resnet20_step():
    pc.manual_seed(0)
    model = pc.models.resnet20().cuda()
    opt = pc.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    loss_fn = pc.nn.CrossEntropyLoss()
    x, y = _batch((8, 3, 16, 16), 1)
    x, y = x.cuda(), y.cuda()

    def step():
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return step


def test_resnet20_step_reads_nothing_back_but_the_loss():
    step = _resnet20_step()
    step().item()  # warm-up: first-use reads (a BatchNorm's batch count, once) do not count
    pc.cuda.synchronize()
    before = pc._C.cuda_host_transfer_count()
    loss = step()
    after_step = pc._C.cuda_host_transfer_count()
    loss.item()
    after_item = pc._C.cuda_host_transfer_count()
    assert after_step == before, f"{after_step - before} hidden device<->host copies in one training step"
    assert after_item == after_step + 1


def test_resnet20_memory_is_flat_over_1000_steps():
    step = _resnet20_step()
    for _ in range(10):
        step()
    pc.cuda.synchronize()
    settled = pc.cuda.memory_allocated()
    reserved = pc.cuda.memory_reserved()
    for _ in range(990):
        step()
    pc.cuda.synchronize()
    assert pc.cuda.memory_allocated() == settled
    assert pc.cuda.memory_reserved() <= reserved * 1.1 + (2 << 20)


def test_fit_on_cuda_matches_cpu_and_reads_little():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((96, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 96).astype(np.int64)
    ds = pc.data.TensorDataset(pc.tensor(x), pc.tensor(y))
    histories = {}
    for device in ("cpu", "cuda"):
        pc.manual_seed(0)
        model = pc.models.lenet5()
        loader = pc.data.DataLoader(ds, batch_size=16, pin_memory=device == "cuda")
        opt = pc.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        model.to(device)  # before counting: fit's own move is then a no-op
        before = pc._C.cuda_host_transfer_count()
        histories[device] = pc.train.fit(
            model, loader, None, pc.nn.CrossEntropyLoss(), opt, epochs=2, device=device, log_every=4
        )
        transfers = pc._C.cuda_host_transfer_count() - before
    # per epoch: 6 batches x 2 copies to the device, a loss and an accuracy read at batch 4, two sums
    assert transfers <= 2 * (6 * 2 + 2 + 2) + 4, transfers
    for cpu_logs, gpu_logs in zip(histories["cpu"], histories["cuda"]):
        assert gpu_logs["train_loss"] == pytest.approx(cpu_logs["train_loss"], rel=1e-4)
        assert gpu_logs["train_acc"] == pytest.approx(cpu_logs["train_acc"], abs=1.5 / 96)
