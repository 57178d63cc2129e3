"""Soak tests (marked slow; they run in the normal `pytest` and in CI): memory and processes must stay flat
over long runs. (a) 10,000 LeNet-5 SGD steps: the resident set after step 10,000 is within 5% of after step
500 (a leak of one small tensor per step would be ~10,000 allocations). (b) A DataLoader with two workers
made, iterated (fully or abandoned after one batch) and shut down 200 times: no child process or file
descriptor is left behind.
"""

import gc
import multiprocessing as mp
import os

import numpy as np
import pytest

import pycnn as pc
import pycnn.nn.functional as F
from pycnn.data import DataLoader, TensorDataset
from pycnn.models import lenet5
from pycnn.optim import SGD

pytestmark = pytest.mark.slow


def rss_bytes():
    """The resident set size now (statm's second field, in pages)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def open_fds():
    return sorted(os.listdir("/proc/self/fd"))


def child_pids():
    """Every live or unreaped child of this process, from the kernel's lists (one per thread)."""
    pids = set()
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/children") as f:
                pids.update(int(p) for p in f.read().split())
        except FileNotFoundError:  # a thread that ended meanwhile (or a kernel without the file)
            continue
    return pids


def test_lenet5_10000_steps_rss_flat():
    steps, batch = 10_000, 8
    pc.manual_seed(0)
    rng = np.random.default_rng(0)
    xs = [pc.tensor(rng.standard_normal((batch, 1, 28, 28)).astype(np.float32)) for _ in range(4)]
    ys = [pc.tensor(rng.integers(0, 10, batch)) for _ in range(4)]
    model = lenet5()
    opt = SGD(model.parameters(), lr=0.01, momentum=0.9)
    for step in range(1, steps + 1):
        loss = F.cross_entropy(model(xs[step % 4]), ys[step % 4])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step == 500:
            gc.collect()
            at_500 = rss_bytes()
    gc.collect()
    at_end = rss_bytes()
    assert np.isfinite(loss.item())
    growth = (at_end - at_500) / at_500
    print(f"RSS after step 500: {at_500 / 2**20:.1f} MiB, after step {steps}: {at_end / 2**20:.1f} MiB ({growth:+.2%})")
    assert abs(growth) <= 0.05, f"RSS went from {at_500} to {at_end} bytes between steps 500 and {steps}"


def test_dataloader_workers_200_starts_leave_nothing():
    data = np.arange(64 * 3, dtype=np.float32).reshape(64, 3)
    dataset = TensorDataset(pc.tensor(data), pc.tensor(np.arange(64)))
    gc.collect()
    fds, children = open_fds(), child_pids()
    for i in range(200):
        loader = DataLoader(dataset, batch_size=16, shuffle=True, num_workers=2, seed=i)
        if i % 2:  # abandoned after one batch: the iterator's shutdown, not the end of the epoch, stops workers
            batch = next(iter(loader))
            assert tuple(batch[0].shape) == (16, 3)
        else:
            labels = np.concatenate([np.asarray(y) for _, y in loader])
            assert sorted(labels) == list(range(64))
        del loader
    gc.collect()
    assert mp.active_children() == []
    assert child_pids() == children, f"children left: {child_pids() - children}"
    assert open_fds() == fds, f"{len(open_fds())} open fds after, {len(fds)} before"
