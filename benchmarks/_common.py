"""Shared by the benchmarks: timing with medians of repeats, thread control, and the side-by-side table.

Figures on a shared 2-core machine are noisy: every benchmark runs pycnn and the reference in the same
process, interleaved, and reports medians and their ratio.
"""

import statistics
import time


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


def print_table(title, header, rows):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    print(f"\n## {title}")
    print("| " + " | ".join(str(h).ljust(w) for h, w in zip(header, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |")
