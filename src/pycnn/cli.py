"""The `pycnn` command line: `pycnn train` (or `python -m pycnn train`).

`train` fits LeNet-5 on the bundled MNIST subset with SGD + momentum and a cosine schedule, printing one
line per epoch and the final held-out accuracy. The loop is deliberately plain Python; read it top to
bottom as the reference training recipe.
"""
import argparse
import os
import sys
import time


def _all_cores():
    """CPU cores this process may run on (respects taskset/cgroup affinity where the OS reports it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def build_parser():
    """argparse parser for the `pycnn` command and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="pycnn", description="pycnn: convolutional networks with a C++ core and a PyTorch-like API.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = sub.add_parser(
        "train", help="train LeNet-5 on the bundled MNIST subset",
        description="Train LeNet-5 on the bundled 5,000-digit MNIST subset (4,000 train / 1,000 test) "
                    "with SGD + momentum and a cosine learning-rate schedule stepped once per epoch; "
                    "prints per-epoch loss, accuracies and speed, then the final test accuracy.")
    train.add_argument("--epochs", type=int, default=12,
                       help="passes over the training split (default: %(default)s)")
    train.add_argument("--batch-size", type=int, default=64,
                       help="training images per SGD step (default: %(default)s)")
    train.add_argument("--lr", type=float, default=0.05,
                       help="initial learning rate, cosine-annealed to 0 over --epochs "
                            "(default: %(default)s)")
    train.add_argument("--momentum", type=float, default=0.9,
                       help="SGD momentum (default: %(default)s)")
    train.add_argument("--weight-decay", type=float, default=5e-4,
                       help="SGD L2 weight decay (default: %(default)s)")
    train.add_argument("--seed", type=int, default=0,
                       help="seeds the weight init and the shuffle order: same seed, same result "
                            "(default: %(default)s)")
    train.add_argument("--threads", type=int, default=None,
                       help=f"CPU threads for the core (default: all cores, here {_all_cores()})")
    train.add_argument("--out", default=None, metavar="PATH",
                       help="save the trained weights (state dict) as safetensors to PATH "
                            "(default: not saved)")
    train.add_argument("--no-progress", action="store_true", help="hide the per-epoch tqdm progress bar")
    return parser


def evaluate(model, loader):
    """Accuracy of `model` over `loader`; leaves the model in eval mode, builds no graph."""
    import pycnn as pc

    model.eval()
    correct = total = 0
    with pc.no_grad():
        for images, labels in loader:
            pred = model(images).argmax(1).numpy()
            correct += int((pred == labels.numpy()).sum())
            total += pred.shape[0]
    return correct / total


def train(args):
    """Run the `train` subcommand; returns the final test accuracy."""
    from tqdm import tqdm

    import pycnn as pc
    from pycnn.datasets import mnist_subset

    for name in ("epochs", "batch_size", "threads"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            raise SystemExit(f"pycnn train: --{name.replace('_', '-')} must be positive, got {value}")
    pc.set_num_threads(args.threads or _all_cores())

    train_set, test_set = mnist_subset("train"), mnist_subset("test")
    pc.manual_seed(args.seed)
    model = pc.models.lenet5(num_classes=10)
    shuffle_gen = pc.Generator()
    shuffle_gen.manual_seed(args.seed)
    train_loader = pc.data.DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                                      generator=shuffle_gen)
    test_loader = pc.data.DataLoader(test_set, batch_size=500)
    criterion = pc.nn.CrossEntropyLoss()
    optimizer = pc.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum,
                             weight_decay=args.weight_decay)
    scheduler = pc.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)

    print(f"LeNet-5 on the MNIST subset: {len(train_set)} train / {len(test_set)} test images, "
          f"{args.epochs} epochs, batch {args.batch_size}, lr {args.lr}, momentum {args.momentum}, "
          f"weight decay {args.weight_decay}, seed {args.seed}, {pc.get_num_threads()} threads", flush=True)
    start = time.perf_counter()
    test_acc = 0.0
    for epoch in range(1, args.epochs + 1):
        model.train()
        loss_sum = correct = seen = 0
        epoch_start = time.perf_counter()
        bar = tqdm(train_loader, desc=f"epoch {epoch}/{args.epochs}", leave=False, unit="batch",
                   disable=args.no_progress, file=sys.stderr, dynamic_ncols=True)
        for images, labels in bar:
            logits = model(images)
            loss = criterion(logits, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

            n = labels.shape[0]
            batch_loss = loss.item()
            loss_sum += batch_loss * n
            correct += int((logits.argmax(1).numpy() == labels.numpy()).sum())
            seen += n
            bar.set_postfix(loss=f"{batch_loss:.4f}", refresh=False)
        bar.close()
        train_time = time.perf_counter() - epoch_start
        scheduler.step()

        test_acc = evaluate(model, test_loader)
        print(f"epoch {epoch:3d}/{args.epochs}  train loss {loss_sum / seen:.4f}  "
              f"train acc {100 * correct / seen:6.2f}%  test acc {100 * test_acc:6.2f}%  "
              f"{seen / train_time:8.0f} train img/s", flush=True)

    total = time.perf_counter() - start
    print(f"final test accuracy {100 * test_acc:.2f}%  total time {total:.1f} s", flush=True)
    if args.out:
        pc.save(model.state_dict(), args.out)
        print(f"saved weights to {args.out}", flush=True)
    return test_acc


def main(argv=None):
    """Entry point of `pycnn` and `python -m pycnn`; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "train":
        train(args)
        return 0
    parser.print_help()
    return 2
