"""A PyTorch-style MNIST script run on pycnn: the code a PyTorch user writes, with `import pycnn as torch`.

A small CNN (two 3x3 convolutions, max pooling, dropout, two linear layers) trained with Adadelta and a StepLR
schedule on pycnn's bundled digits (pycnn.datasets.mnist_subset: 4,000 training and 1,000 test digits).
examples/torch_style_mnist_torch.py runs this same file with PyTorch, for comparison.

    python examples/torch_style_mnist.py --epochs 3 --save-model
"""

import argparse

import pycnn as torch
import pycnn.nn as nn  # noqa: PLR0402  (the PyTorch form this script imitates)
import pycnn.nn.functional as F
import pycnn.optim as optim  # noqa: PLR0402
from pycnn.datasets import mnist_subset
from pycnn.optim.lr_scheduler import StepLR


class Net(nn.Module):
    """(N, 1, 28, 28) digits -> (N, 10) log-probabilities."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))  # (N, 32, 26, 26)
        x = F.relu(self.conv2(x))  # (N, 64, 24, 24)
        x = F.max_pool2d(x, 2)  # (N, 64, 12, 12)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)  # (N, 9216)
        x = F.relu(self.fc1(x))
        x = self.dropout2(x)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


def train(args, model, device, train_loader, optimizer, epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % args.log_interval == 0:
            seen = batch_idx * len(data)
            print(
                f"Train Epoch: {epoch} [{seen}/{len(train_loader.dataset)} "
                f"({100.0 * batch_idx / len(train_loader):.0f}%)]\tLoss: {loss.item():.6f}"
            )
            if args.dry_run:
                break


def test(model, device, test_loader):
    """Prints and returns (average loss, accuracy in %) on the test set."""
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction="sum").item()  # summed over the batch
            pred = output.argmax(dim=1, keepdim=True)  # the index of the largest log-probability
            correct += pred.eq(target.view_as(pred)).sum().item()
    n = len(test_loader.dataset)
    test_loss /= n
    accuracy = 100.0 * correct / n
    print(f"\nTest set: Average loss: {test_loss:.4f}, Accuracy: {correct}/{n} ({accuracy:.0f}%)\n")
    return test_loss, accuracy


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="PyTorch-style MNIST example")
    parser.add_argument("--batch-size", type=int, default=64, metavar="N", help="training batch size (default: 64)")
    parser.add_argument(
        "--test-batch-size", type=int, default=1000, metavar="N", help="testing batch size (default: 1000)"
    )
    parser.add_argument("--epochs", type=int, default=14, metavar="N", help="epochs to train (default: 14)")
    parser.add_argument("--lr", type=float, default=1.0, metavar="LR", help="learning rate (default: 1.0)")
    parser.add_argument("--gamma", type=float, default=0.7, metavar="M", help="lr step gamma (default: 0.7)")
    parser.add_argument("--no-cuda", action="store_true", help="disables CUDA training")
    parser.add_argument("--device", default=None, help="device to train on (default: cuda when available, else cpu)")
    parser.add_argument("--dry-run", action="store_true", help="quickly check a single pass")
    parser.add_argument("--seed", type=int, default=1, metavar="S", help="random seed (default: 1)")
    parser.add_argument(
        "--log-interval", type=int, default=10, metavar="N", help="batches to wait before logging training status"
    )
    parser.add_argument("--save-model", action="store_true", help="save the trained model")
    parser.add_argument("--save-path", default="mnist_cnn.pt", help="where --save-model writes (default: mnist_cnn.pt)")
    parser.add_argument("--train-size", type=int, default=None, help="train on N random digits only")
    parser.add_argument("--test-size", type=int, default=None, help="test on N random digits only")
    return parser.parse_args(argv)


def main(argv=None):
    """Trains and tests; returns the last epoch's test accuracy in %."""
    args = parse_args(argv)
    use_cuda = not args.no_cuda and torch.cuda.is_available()
    torch.manual_seed(args.seed)
    device = torch.device(args.device or ("cuda" if use_cuda else "cpu"))

    train_kwargs = {"batch_size": args.batch_size, "shuffle": True}
    test_kwargs = {"batch_size": args.test_batch_size}
    train_set, test_set = mnist_subset("train"), mnist_subset("test")
    # The bundled digits are stored class by class: a smaller run takes a random subset, not the first ones.
    if args.train_size is not None:
        train_set = torch.data.Subset(train_set, torch.randperm(len(train_set))[: args.train_size].tolist())
    if args.test_size is not None:
        test_set = torch.data.Subset(test_set, torch.randperm(len(test_set))[: args.test_size].tolist())
    train_loader = torch.data.DataLoader(train_set, **train_kwargs)
    test_loader = torch.data.DataLoader(test_set, **test_kwargs)

    model = Net().to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)
    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    accuracy = None
    for epoch in range(1, args.epochs + 1):
        train(args, model, device, train_loader, optimizer, epoch)
        _, accuracy = test(model, device, test_loader)
        scheduler.step()

    if args.save_model:
        torch.save(model.state_dict(), args.save_path)
    return accuracy


if __name__ == "__main__":
    main()
