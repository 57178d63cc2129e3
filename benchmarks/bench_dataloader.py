"""DataLoader throughput: batches/s and images/s on the bundled MNIST subset (4,000 training digits),
batch 64, shuffled, num_workers 0/1/2 (persistent workers), with and without a per-sample Python
transform (a random horizontal flip in NumPy), next to torch's DataLoader on the same arrays and to
LeNet-5's training rate (the loader must never be the bottleneck); plus a heavier per-sample transform,
where workers can pay off given free cores. Also the worker-to-main transport options the DataLoader
chose between. Run: python benchmarks/bench_dataloader.py [--quick]
"""

import argparse
import multiprocessing as mp
import os
import platform
import socket
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pycnn as pc
from pycnn.data import DataLoader, Dataset, TensorDataset
from pycnn.data._worker import encode_message, recv_message, send_message

from _common import lenet, make_steps, median_time, print_table, try_import_torch

BATCH = 64


class RandomFlip(Dataset):
    """Per-sample Python transform: flip the image left-right with probability 1/2 (no __getitems__, so
    the loader goes sample by sample and collates)."""

    def __init__(self, base):
        self.base = base

    def __len__(self):
        return len(self.base)

    def __getitem__(self, i):
        x, y = self.base[i]
        if pc.default_generator().numpy.random() < 0.5:
            x = np.ascontiguousarray(x[..., ::-1])
        return x, y


def crop_and_blur(img, top, left):
    """A heavier per-sample transform (~0.2 ms): pad 2, 28x28 crop at (top, left) in [0, 4], 3x3 box blur."""
    padded = np.pad(img, ((0, 0), (2, 2), (2, 2)))
    out = padded[:, top : top + 28, left : left + 28]
    p = np.pad(out, ((0, 0), (1, 1), (1, 1)), mode="edge")
    out = sum(p[:, i : i + 28, j : j + 28] for i in range(3) for j in range(3)) / np.float32(9)
    return out.astype(np.float32)


class RandomCropBlur(RandomFlip):
    def __getitem__(self, i):
        x, y = self.base[i]
        return crop_and_blur(x, *pc.default_generator().numpy.integers(0, 5, size=2)), y


def torch_datasets(torch, x, y):
    """torch's TensorDataset and the two transforms over the same arrays (NumPy's global stream)."""

    class TorchTransformed(torch.utils.data.Dataset):
        def __init__(self, heavy):
            self.heavy = heavy

        def __len__(self):
            return len(x)

        def __getitem__(self, i):
            img = x[i]
            if self.heavy:
                img = crop_and_blur(img, *np.random.randint(0, 5, size=2))
            elif np.random.random() < 0.5:
                img = np.ascontiguousarray(img[..., ::-1])
            return img, y[i]

    return [
        torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
        TorchTransformed(False),
        TorchTransformed(True),
    ]


def images_per_s(make_loader, n_images, repeats, min_batches):
    """Median over `repeats` of images/s over enough whole epochs to make `min_batches` batches."""
    loader = make_loader()
    epochs = max(1, -(-min_batches // len(loader)))
    for _ in loader:  # warm-up epoch (starts persistent workers)
        pass
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(epochs):
            for _ in loader:
                pass
        rates.append(epochs * n_images / (time.perf_counter() - t0))
    del loader
    return statistics.median(rates)


def lenet_training_rate(repeats):
    train, _ = make_steps(pc, lenet, (BATCH, 1, 28, 28))
    return BATCH / median_time(train, repeats=repeats, inner=20, warmup=3)


# ---------------------------------------------------------------------------------------------- transport


def _send_socket(sock, batch, n):
    for i in range(n):
        send_message(sock, encode_message((i, batch.copy())))


def _send_queue(q, batch, n):
    for i in range(n):
        q.put((i, batch.copy()))


def transport_rates(repeats, n=1000):
    """Batches/s from one forked process to this one: the DataLoader's sockets with out-of-band pickle
    buffers, versus a multiprocessing.Queue (pickling the arrays in band)."""
    ctx = mp.get_context("fork")
    batch = np.random.default_rng(0).standard_normal((BATCH, 1, 28, 28)).astype(np.float32)
    rates = {"socket + pickle 5 out-of-band (chosen)": [], "multiprocessing.Queue": []}
    for _ in range(repeats):
        main_end, worker_end = socket.socketpair()
        p = ctx.Process(target=_send_socket, args=(worker_end, batch, n))
        p.start()
        worker_end.close()
        t0 = time.perf_counter()
        for _ in range(n):
            recv_message(main_end)
        rates["socket + pickle 5 out-of-band (chosen)"].append(n / (time.perf_counter() - t0))
        p.join()
        main_end.close()

        q = ctx.Queue()
        p = ctx.Process(target=_send_queue, args=(q, batch, n))
        p.start()
        t0 = time.perf_counter()
        for _ in range(n):
            q.get()
        rates["multiprocessing.Queue"].append(n / (time.perf_counter() - t0))
        p.join()
    return {k: statistics.median(v) for k, v in rates.items()}


# ---------------------------------------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="one repeat, fewer batches (a smoke run)")
    ap.add_argument("--workers", type=int, nargs="*", default=[0, 1, 2])
    args = ap.parse_args()
    repeats, min_batches = (1, 60) if args.quick else (3, 300)
    torch = try_import_torch()
    print(
        f"# pycnn DataLoader vs torch {torch.__version__ if torch else '(absent)'} on "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; MNIST subset train split, "
        f"batch {BATCH}, shuffle; medians of {repeats}"
    )

    mnist = pc.datasets.mnist_subset("train")
    x, y = mnist.arrays
    n = len(x)
    train_rate = lenet_training_rate(max(3, repeats))
    names = ["none (fast path)", "random flip per sample", "crop + blur per sample (~0.2 ms)"]
    base = TensorDataset(x, y)
    datasets = dict(zip(names, [base, RandomFlip(base), RandomCropBlur(base)]))
    if torch:
        torch.manual_seed(0)
        torch_sets = dict(zip(names, torch_datasets(torch, x, y)))

    rows = []
    for transform, ds in datasets.items():
        batches = 1 if transform == names[2] else min_batches  # the heavy transform: one epoch per repeat
        for nw in args.workers:
            extra = {"persistent_workers": True} if nw else {}
            rate = images_per_s(
                lambda: DataLoader(ds, batch_size=BATCH, shuffle=True, seed=0, num_workers=nw, **extra),
                n,
                repeats,
                batches,
            )
            row = [transform, nw, f"{rate / BATCH:,.0f}", f"{rate:,.0f}", f"{rate / train_rate:.1f}x"]
            if torch:
                tds = torch_sets[transform]
                trate = images_per_s(
                    lambda: torch.utils.data.DataLoader(tds, batch_size=BATCH, shuffle=True, num_workers=nw, **extra),
                    n,
                    repeats,
                    batches,
                )
                row += [f"{trate:,.0f}", f"{rate / trate:.2f}x"]
            rows.append(row)
    header = ["transform", "workers", "batches/s", "images/s", "vs LeNet-5 training"]
    if torch:
        header += ["torch images/s", "pycnn / torch"]
    print(
        f"\nLeNet-5 training (pycnn, batch {BATCH}, {pc.get_num_threads() if hasattr(pc, 'get_num_threads') else '?'}"
        f" threads): {train_rate:,.0f} images/s"
    )
    print_table("DataLoader throughput (workers > 0 are persistent; an epoch is 63 batches)", header, rows)

    # What starting workers costs per epoch without persistent_workers.
    ds = datasets["none (fast path)"]
    for nw in [w for w in args.workers if w]:
        persistent = images_per_s(
            lambda: DataLoader(ds, batch_size=BATCH, shuffle=True, seed=0, num_workers=nw, persistent_workers=True),
            n,
            repeats,
            min_batches,
        )
        fresh = images_per_s(
            lambda: DataLoader(ds, batch_size=BATCH, shuffle=True, seed=0, num_workers=nw), n, repeats, min_batches
        )
        print(
            f"start-up: {nw} worker(s), fast path: {n / fresh * 1e3:.1f} ms per epoch when started every epoch "
            f"vs {n / persistent * 1e3:.1f} ms persistent"
        )

    print_table(
        "Worker -> main transport, one process, batches of 64 MNIST images (batches/s)",
        ["method", "batches/s"],
        [[k, f"{v:,.0f}"] for k, v in transport_rates(repeats).items()],
    )


if __name__ == "__main__":
    main()
