"""Training and inference throughput, pycnn vs PyTorch, on the workloads of shared/BENCHMARKS.md:
LeNet-5 (batch 64) and VGG-small (batch 64) on a fixed synthetic batch, SGD momentum 0.9 and
cross-entropy, at 2 and 1 threads; plus the per-op overhead in microseconds (small networks are
overhead-bound). Run: python benchmarks/bench_train.py [--quick]
"""

import argparse
import os
import platform
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pycnn as pc

from _common import lenet, make_steps, median_time, print_table, set_threads, try_import_torch, vgg_small

WORKLOADS = {  # name: (builder, input shape)
    "LeNet-5": (lenet, (64, 1, 28, 28)),
    "VGG-small": (vgg_small, (64, 3, 32, 32)),
}


def op_overhead(torch):
    """Microseconds per tiny op (forward, and forward + backward) where the kernel does ~nothing."""
    rows = []
    libs = [("pycnn", pc)] + ([("torch", torch)] if torch else [])
    for name, lib in libs:
        a = lib.ones(4, requires_grad=True)
        b = lib.ones(4, requires_grad=True)
        fwd = median_time(lambda: a + b, repeats=5, inner=2000)

        def fwd_bwd():
            (a * b).sum().backward()

        fb = median_time(fwd_bwd, repeats=5, inner=500)
        with lib.no_grad():
            nograd = median_time(lambda: a + b, repeats=5, inner=2000)
        rows.append((name, f"{fwd * 1e6:.1f}", f"{nograd * 1e6:.1f}", f"{fb * 1e6:.1f}"))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    ap.add_argument("--threads", type=int, nargs="*", default=[2, 1])
    args = ap.parse_args()
    torch = try_import_torch()
    repeats = 3 if args.quick else 5
    print(
        f"# pycnn {pc.__version__} ({pc._C.simd_level()}) vs torch {torch.__version__ if torch else '(absent)'}"
        f" on {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    )
    rows = []
    for name, (builder, shape) in WORKLOADS.items():
        for threads in args.threads:
            set_threads(threads, torch)
            steps = {"pycnn": make_steps(pc, builder, shape)}
            if torch:
                steps["torch"] = make_steps(torch, builder, shape)
            inner = max(1, int(20 / (shape[1] * 4))) if name != "LeNet-5" else 20
            res = {}
            for lib, (train, infer) in steps.items():
                res[lib] = (
                    shape[0] / median_time(train, repeats, inner, warmup=2),
                    shape[0] / median_time(infer, repeats, inner, warmup=2),
                )
            pt, pi = res["pycnn"]
            row = [name, threads, f"{pt:,.0f}", f"{pi:,.0f}"]
            if torch:
                tt, ti = res["torch"]
                row += [f"{tt:,.0f}", f"{ti:,.0f}", f"{pt / tt:.2f}x", f"{pi / ti:.2f}x"]
            rows.append(row)
    header = ["model", "threads", "pycnn train img/s", "pycnn infer img/s"]
    if torch:
        header += ["torch train img/s", "torch infer img/s", "train ratio", "infer ratio"]
    print_table("Throughput (synthetic fixed batch, SGD momentum 0.9, cross-entropy)", header, rows)
    set_threads(1, torch)
    print_table(
        "Per-op overhead, microseconds (1 thread, 4-element tensors)",
        ["library", "a + b (graph)", "a + b (no_grad)", "(a * b).sum().backward()"],
        op_overhead(torch),
    )


if __name__ == "__main__":
    main()
