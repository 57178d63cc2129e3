"""Shared by the benchmarks: timing with medians of repeats, thread control, the layer benchmarks'
command line, the side-by-side table, and the LeNet-5 that several benchmarks train.

Figures on a shared 2-core machine are noisy: every benchmark runs pycnn and the reference in the same
process, interleaved, and reports medians and their ratio.
"""

import argparse
import statistics
import time

import numpy as np


def median_time(fn, repeats=5, inner=10, warmup=3):
    """Median over `repeats` of the mean time of `inner` calls, in seconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - t0) / inner)
    return statistics.median(times)


def try_import_torch():
    try:
        import torch

        return torch
    except ImportError:
        return None


def set_threads(n, torch=None):
    import pycnn as pc

    pc.set_num_threads(n)
    if torch is not None:
        torch.set_num_threads(n)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)
    except ImportError:
        pass


def threads_and_repeats(description, threads=2, repeats=5):
    """Parse --threads and --repeats, then run pycnn (and torch, when installed) with that many threads.
    Returns (args, torch or None)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--threads", type=int, default=threads)
    ap.add_argument("--repeats", type=int, default=repeats)
    args = ap.parse_args()
    torch = try_import_torch()
    set_threads(args.threads, torch)
    return args, torch


def print_table(title, header, rows):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    print(f"\n## {title}")
    print("| " + " | ".join(str(h).ljust(w) for h, w in zip(header, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |")


def lenet(nn):
    """LeNet-5 (ReLU, max-pool) for (N, 1, 28, 28) inputs, built from `nn` (pycnn.nn or torch.nn)."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(256, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, 10),
    )


def make_steps(lib, builder, shape, seed=0):
    """(train_step, infer_step) closures for pycnn (lib = pc) or torch (lib = torch): builder(lib.nn) on a
    fixed random batch of `shape` with 10 classes, SGD momentum 0.9 and cross-entropy."""
    rng = np.random.default_rng(seed)
    x_np = rng.standard_normal(shape).astype(np.float32)
    y_np = rng.integers(0, 10, size=shape[0]).astype(np.int64)
    lib.manual_seed(seed)
    model = builder(lib.nn)
    x, y = lib.from_numpy(x_np), lib.from_numpy(y_np)
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = lib.nn.CrossEntropyLoss()

    def train():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    def infer():
        with lib.no_grad():
            model(x)

    return train, infer
