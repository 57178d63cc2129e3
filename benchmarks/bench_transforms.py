"""Data augmentation: the per-image loop (`t(img)` for every sample) against the vectorised `t.batch(imgs)`
on one batch, for the usual recipes. Milliseconds per batch, medians of repeats; NumPy only, one thread.
Run: python benchmarks/bench_transforms.py [--threads 1]
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pycnn as pc
import pycnn.data.transforms as T

from _common import median_time, print_table, set_threads

CIFAR_MEAN, CIFAR_STD = (0.4914, 0.4822, 0.4465), (0.247, 0.243, 0.261)

# name: (batch shape, transform)
CASES = {
    "cifar: crop32 pad4 + hflip + normalize": (
        (256, 3, 32, 32),
        T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.Normalize(CIFAR_MEAN, CIFAR_STD)]),
    ),
    "RandomCrop(32, padding=4)": ((256, 3, 32, 32), T.RandomCrop(32, padding=4)),
    "RandomHorizontalFlip": ((256, 3, 32, 32), T.RandomHorizontalFlip()),
    "Normalize": ((256, 3, 32, 32), T.Normalize(CIFAR_MEAN, CIFAR_STD)),
    "RandomResizedCrop(32)": ((256, 3, 32, 32), T.RandomResizedCrop(32)),
    "ColorJitter(.4, .4, .4, .1)": ((256, 3, 32, 32), T.ColorJitter(0.4, 0.4, 0.4, 0.1)),
    "RandomRotation(15, bilinear)": ((256, 3, 32, 32), T.RandomRotation(15, interpolation="bilinear")),
    "RandomAffine(10, (.1, .1), (.9, 1.1))": ((256, 3, 32, 32), T.RandomAffine(10, (0.1, 0.1), (0.9, 1.1))),
    "RandomErasing(p=0.5)": ((256, 3, 32, 32), T.RandomErasing()),
    "mnist: RandomAffine + Normalize": (
        (256, 1, 28, 28),
        T.Compose([T.RandomAffine(10, (0.1, 0.1)), T.Normalize((0.1307,), (0.3081,))]),
    ),
    "imagenet-ish: RRC224 + hflip on 256x256": (
        (32, 3, 256, 256),
        T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip()]),
    ),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    set_threads(args.threads)
    rng = np.random.default_rng(0)
    pc.manual_seed(0)
    rows = []
    for name, (shape, t) in CASES.items():
        x = rng.random(shape, dtype=np.float32)
        loop = median_time(lambda: np.stack([t(img) for img in x]), repeats=3, inner=1, warmup=1)
        batch = median_time(lambda: t.batch(x), repeats=7, inner=3, warmup=2)
        rows.append(
            (name, "x".join(map(str, shape)), f"{loop * 1e3:.2f}", f"{batch * 1e3:.2f}", f"{loop / batch:.1f}x")
        )
    print_table(
        "transforms: per-image loop vs .batch (ms per batch)",
        ("transform", "batch", "loop ms", "batch ms", "speed-up"),
        rows,
    )


if __name__ == "__main__":
    main()
