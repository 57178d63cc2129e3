"""Optimizer update throughput, pycnn vs torch.optim, on a ResNet-18-sized parameter set (11.2M float32
parameters in seven conv-weight tensors, each with a gradient). One step updates every parameter once.
GB/s counts the bytes each step must move at least: param, grad and state read, param and state written.
torch runs with its defaults (on CPU: one tensor at a time, several passes per step) and, where it has
one, its fused CPU kernel. Memory ceiling on the project machine: ~31 GB/s (shared/BENCHMARKS.md).
Run: python benchmarks/bench_optim.py [--threads 2] [--repeats 5]
"""

import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pycnn as pc

from _common import print_table, threads_and_repeats

# 4 x 512x512x3x3 + 3 x 256x256x3x3 = 11,206,656 parameters: ResNet-18 without its classifier
SHAPES = [(512, 512, 3, 3)] * 4 + [(256, 256, 3, 3)] * 3

# name: (constructor name, options, state tensors per parameter); torch's defaults for the rest
OPTIMIZERS = {
    "SGD momentum": ("SGD", {"lr": 0.01, "momentum": 0.9}, 1),
    "Adam": ("Adam", {"lr": 1e-3}, 2),
    "AdamW": ("AdamW", {"lr": 1e-3}, 2),
    "RMSprop": ("RMSprop", {"lr": 1e-3}, 1),
    "Adagrad": ("Adagrad", {"lr": 1e-2}, 1),
}
FUSED = {"SGD", "Adam", "AdamW", "Adagrad"}  # torch optimizers with a fused CPU kernel


def make_params(lib, rng):
    params = []
    for shape in SHAPES:
        p = lib.from_numpy(rng.standard_normal(shape).astype(np.float32) * 0.05)
        p = lib.nn.Parameter(p)
        p.grad = lib.from_numpy(rng.standard_normal(shape).astype(np.float32) * 1e-3)
        params.append(p)
    return params


def make_step(lib, ctor, opts):
    params = make_params(lib, np.random.default_rng(0))
    opt = ctor(params, **opts)
    opt.step()  # creates the state outside the timing
    return opt.step


def interleaved_medians(steps, repeats, inner=3):
    """Median over `repeats` of the mean time of `inner` calls of each step function, in seconds. The
    implementations take turns within each repeat, so load from other processes hits them alike."""
    times = [[] for _ in steps]
    for _ in range(repeats):
        for k, step in enumerate(steps):
            t0 = time.perf_counter()
            for _ in range(inner):
                step()
            times[k].append((time.perf_counter() - t0) / inner)
    return [statistics.median(t) for t in times]


def main():
    args, torch = threads_and_repeats(__doc__)
    n = sum(int(np.prod(s)) for s in SHAPES)
    rows = []
    for label, (name, opts, n_state) in OPTIMIZERS.items():
        nbytes = n * 4 * (2 * (1 + n_state) + 1)  # param and state read and written, grad read
        steps = [make_step(pc, getattr(pc.optim, name), opts)]
        if torch:
            steps.append(make_step(torch, getattr(torch.optim, name), opts))
            if name in FUSED:
                steps.append(make_step(torch, getattr(torch.optim, name), dict(opts, fused=True)))
        t, *theirs = interleaved_medians(steps, args.repeats)
        del steps  # frees this row's parameters and state before the next
        row = [label, f"{nbytes / 1e6:.0f}", f"{t * 1e3:.1f}", f"{nbytes / t / 1e9:.1f}"]
        if torch:
            tt = theirs[0]
            row += [f"{tt * 1e3:.1f}", f"{nbytes / tt / 1e9:.1f}", f"{tt / t:.2f}x"]
            row += [f"{theirs[1] * 1e3:.1f}", f"{theirs[1] / t:.2f}x"] if len(theirs) > 1 else ["-", "-"]
        rows.append(row)
    header = ["optimizer", "MB/step", "pycnn ms", "pycnn GB/s"]
    if torch:
        header += ["torch ms", "torch GB/s", "speed vs torch", "torch fused ms", "speed vs fused"]
    print_table(
        f"Optimizer step, {n / 1e6:.1f}M float32 params in {len(SHAPES)} tensors, {args.threads} threads, "
        f"medians of {args.repeats} (x = pycnn speed / torch speed)",
        header,
        rows,
    )


if __name__ == "__main__":
    main()
