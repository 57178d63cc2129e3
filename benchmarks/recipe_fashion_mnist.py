"""The issue-4 proof recipe, side by side: LeNet-5 on Fashion-MNIST, 5 epochs, augmented, in pycnn and PyTorch.

pycnn runs its own command line (`pycnn train --model lenet5 --dataset fashion-mnist --epochs 5 --augment`);
PyTorch runs the same recipe written out here: the same stratified 90/10 train/val split, normalisation
from the training split, random horizontal flips (what --augment means for Fashion-MNIST), LeNet-5 (ReLU, max-pool), SGD with
Nesterov momentum 0.9, lr 0.05, weight decay 5e-4, cosine schedule per epoch, batch 64, validation each
epoch, test once at the end. Both read Debian's dataset-fashion-mnist files (/usr/share/datasets/fashion-mnist).

    python benchmarks/recipe_fashion_mnist.py [--threads 2] [--seeds 0 1 2]
"""

import argparse
import gzip
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import lenet

ROOT = Path("/usr/share/datasets/fashion-mnist")


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def stratified_split(labels, val_fraction, rng):
    """Indices (train, val): val_fraction of every class, drawn at random."""
    train, val = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_val = int(round(len(idx) * val_fraction))
        val.append(idx[:n_val])
        train.append(idx[n_val:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))


def augment(images, rng):
    """A random horizontal flip per image, vectorised: (N, 1, H, W)."""
    flip = rng.random(len(images)) < 0.5
    out = images.copy()
    out[flip] = images[flip][..., ::-1]
    return out


def torch_recipe(seed, threads, epochs=5, batch_size=64, lr=0.05):
    import torch
    from torch import nn

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    x_all = read_idx(ROOT / "train-images-idx3-ubyte.gz").astype(np.float32)[:, None] / 255.0
    y_all = read_idx(ROOT / "train-labels-idx1-ubyte.gz").astype(np.int64)
    x_test = read_idx(ROOT / "t10k-images-idx3-ubyte.gz").astype(np.float32)[:, None] / 255.0
    y_test = read_idx(ROOT / "t10k-labels-idx1-ubyte.gz").astype(np.int64)
    train_idx, val_idx = stratified_split(y_all, 0.1, rng)
    mean, std = x_all[train_idx].mean(), x_all[train_idx].std()
    x_train, y_train = x_all[train_idx], y_all[train_idx]
    norm = lambda a: torch.from_numpy((a - mean) / std)
    x_val, x_test_t = norm(x_all[val_idx]), norm(x_test)
    y_val, y_test_t = torch.from_numpy(y_all[val_idx]), torch.from_numpy(y_test)

    model = lenet(nn)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4, nesterov=True)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    loss_fn = nn.CrossEntropyLoss()

    def accuracy(x, y):
        model.eval()
        with torch.no_grad():
            return float((model(x).argmax(1) == y).float().mean())

    for epoch in range(epochs):
        model.train()
        perm = rng.permutation(len(x_train))
        xs = norm(augment(x_train[perm], rng))
        ys = torch.from_numpy(y_train[perm])
        for lo in range(0, len(xs), batch_size):
            loss = loss_fn(model(xs[lo : lo + batch_size]), ys[lo : lo + batch_size])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        print(f"  torch epoch {epoch + 1}: val acc {100 * accuracy(x_val, y_val):.2f}%", flush=True)
    return accuracy(x_test_t, y_test_t), time.perf_counter() - start


def pycnn_recipe(seed, threads):
    cmd = [
        sys.executable,
        "-m",
        "pycnn",
        "train",
        "--model",
        "lenet5",
        "--dataset",
        "fashion-mnist",
        "--epochs",
        "5",
        "--augment",
        "--seed",
        str(seed),
        "--threads",
        str(threads),
        "--no-progress",
    ]
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    wall = time.perf_counter() - start
    for line in out.splitlines():
        if line.startswith("epoch"):
            print("  pycnn " + line, flush=True)
    return float(re.search(r"final test accuracy\s+([0-9.]+)%", out).group(1)) / 100, wall


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = parser.parse_args()
    if not ROOT.is_dir():
        sys.exit(f"{ROOT} not found: apt-get install dataset-fashion-mnist")
    rows = []
    for seed in args.seeds:
        p_acc, p_wall = pycnn_recipe(seed, args.threads)
        try:
            t_acc, t_wall = torch_recipe(seed, args.threads)
        except ImportError:
            t_acc = t_wall = float("nan")
        rows.append((seed, p_acc, p_wall, t_acc, t_wall))
        print(
            f"seed {seed}: pycnn {100 * p_acc:.2f}% in {p_wall:.1f} s (whole command) | "
            f"torch {100 * t_acc:.2f}% in {t_wall:.1f} s (load + train + test)",
            flush=True,
        )
    if len(rows) > 1:
        med = [statistics.median(r[i] for r in rows) for i in range(1, 5)]
        print(f"median: pycnn {100 * med[0]:.2f}% {med[1]:.1f} s | torch {100 * med[2]:.2f}% {med[3]:.1f} s")


if __name__ == "__main__":
    main()
