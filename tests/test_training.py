"""End to end: LeNet-5 trained on the bundled MNIST digits. A seeded run is bitwise reproducible and
learns; and the first steps of training match PyTorch's losses step for step (float64, same weights,
same batches), so every forward, backward and update in the loop agrees with the reference library.
"""

import numpy as np
import pytest

import pycnn as pc
from pycnn.datasets import mnist_subset


def train_lenet(seed, steps, batch_size=64, lr=0.05):
    """Trains LeNet-5 for `steps` SGD steps from `seed`; returns (model, losses)."""
    pc.manual_seed(seed)
    model = pc.models.lenet5()
    loader = pc.data.DataLoader(
        mnist_subset("train"), batch_size=batch_size, shuffle=True, generator=pc.Generator().manual_seed(seed)
    )
    opt = pc.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
    loss_fn = pc.nn.CrossEntropyLoss()
    losses = []
    while len(losses) < steps:
        for images, labels in loader:
            loss = loss_fn(model(images), labels)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
            if len(losses) == steps:
                break
    return model, losses


def accuracy(model, dataset):
    model.eval()
    loader = pc.data.DataLoader(dataset, batch_size=500)
    correct = total = 0
    with pc.no_grad():
        for images, labels in loader:
            correct += int((model(images).argmax(1).numpy() == labels.numpy()).sum())
            total += len(labels)
    return correct / total


def test_seeded_training_learns_and_is_bitwise_reproducible():
    model_a, losses_a = train_lenet(seed=0, steps=250)  # four epochs of the 4,000 training digits
    model_b, losses_b = train_lenet(seed=0, steps=250)
    assert losses_a == losses_b
    for (name, a), (_, b) in zip(model_a.state_dict().items(), model_b.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    assert np.mean(losses_a[-10:]) < 0.2 * np.mean(losses_a[:10])
    # measured 0.956 at this seed (seeds 1 and 2: 0.958, 0.966); a slow seed (3) is at 0.80 here
    assert accuracy(model_a, mnist_subset("test")) > 0.93


def test_different_seeds_give_different_weights():
    model_a, _ = train_lenet(seed=1, steps=3)
    model_b, _ = train_lenet(seed=2, steps=3)
    assert not np.array_equal(model_a.features[0].weight.detach().numpy(), model_b.features[0].weight.detach().numpy())


def test_first_steps_match_torch_losses():
    torch = pytest.importorskip("torch")
    pc.manual_seed(0)
    model = pc.models.lenet5().double()
    tmodel = torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 16, 5),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(256, 120),
        torch.nn.ReLU(),
        torch.nn.Linear(120, 84),
        torch.nn.ReLU(),
        torch.nn.Linear(84, 10),
    ).double()
    with torch.no_grad():
        for tp, p in zip(tmodel.parameters(), model.parameters()):
            tp.copy_(torch.from_numpy(p.detach().numpy().copy()))
    opt = pc.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4, nesterov=True)
    topt = torch.optim.SGD(tmodel.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4, nesterov=True)
    data = mnist_subset("train", dtype=pc.float64)
    loader = pc.data.DataLoader(data, batch_size=32, shuffle=True, generator=pc.Generator().manual_seed(0))
    for step, (images, labels) in enumerate(loader):
        loss = pc.nn.functional.cross_entropy(model(images), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        tloss = torch.nn.functional.cross_entropy(
            tmodel(torch.from_numpy(images.numpy())), torch.from_numpy(labels.numpy())
        )
        topt.zero_grad()
        tloss.backward()
        topt.step()
        assert loss.item() == pytest.approx(tloss.item(), rel=1e-9, abs=1e-12), f"step {step}"
        if step == 15:
            break
    for (name, p), tp in zip(model.named_parameters(), tmodel.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=1e-8, atol=1e-10, err_msg=name)
