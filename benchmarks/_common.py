"""Shared by the benchmarks: timing with medians of repeats, thread control, the layer benchmarks'
command line, the side-by-side table. The models several benchmarks train (LeNet-5 as `lenet`, VGG-small)
and `make_steps` live in the package (pycnn.bench, which `pycnn bench` runs) and are re-exported here.

Figures on a shared 2-core machine are noisy: every benchmark runs pycnn and the reference in the same
process, interleaved, and reports medians and their ratio.
"""

import argparse
import statistics
import time

from pycnn.bench import lenet5 as lenet  # noqa: F401  (re-exported for the benchmark scripts)
from pycnn.bench import make_steps, vgg_small  # noqa: F401


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
