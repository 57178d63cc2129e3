"""SGEMM side by side: pycnn.matmul vs NumPy (OpenBLAS) and torch.mm (MKL, when importable), square
float32 n x n at 1 and 2 threads. Prints GFLOP/s (median of repeats) and pycnn's ratio to each.

Run as   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_gemm.py [--sizes 256 512 ...]
(those two variables, set on some machines here, make NumPy's OpenBLAS pick slower kernels). NumPy's
thread count is set with threadpoolctl when installed, otherwise each thread count runs in a child
process started with OPENBLAS_NUM_THREADS/OMP_NUM_THREADS/MKL_NUM_THREADS.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

try:
    import threadpoolctl
except ImportError:
    threadpoolctl = None

try:
    import torch
except ImportError:
    torch = None

try:
    import pycnn as pc
except ImportError as e:  # the module may not be built yet
    pc = None
    _pc_error = e


def time_gflops(fn, n, repeats, min_time=0.05):
    """Median GFLOP/s of `repeats` timed runs; each run repeats fn until min_time seconds have passed."""
    flops = 2.0 * n**3
    fn()  # warm-up: buffers, thread pools
    calls = 1
    while True:  # calibrate calls per run
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        if time.perf_counter() - t0 >= min_time:
            break
        calls *= 2
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        rates.append(flops * calls / (time.perf_counter() - t0) / 1e9)
    return statistics.median(rates)


def measure(threads, sizes, repeats):
    """{library: {n: GFLOP/s}} at `threads` threads; NumPy's threads must already be limited."""
    rng = np.random.default_rng(0)
    out = {"numpy": {}, "pycnn": {}, "torch": {}}
    if torch is not None:
        torch.set_num_threads(threads)
    if pc is not None:
        pc.set_num_threads(threads)
    for n in sizes:
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        out["numpy"][n] = time_gflops(lambda: a @ b, n, repeats)
        if pc is not None:
            pa, pb = pc.from_numpy(a), pc.from_numpy(b)
            out["pycnn"][n] = time_gflops(lambda: pc.matmul(pa, pb), n, repeats)
        if torch is not None:
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            out["torch"][n] = time_gflops(lambda: torch.mm(ta, tb), n, repeats)
    return out


def measure_in_child(threads, sizes, repeats):
    env = dict(os.environ)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    cmd = [
        sys.executable,
        os.path.abspath(__file__),
        "--child",
        str(threads),
        "--repeats",
        str(repeats),
        "--sizes",
        *map(str, sizes),
    ]
    res = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    data = json.loads(res.stdout.strip().splitlines()[-1])
    return {lib: {int(n): v for n, v in d.items()} for lib, d in data.items()}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024, 2048])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--child", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args()

    if args.child:  # one thread count, NumPy limited through the environment; JSON to the parent
        print(json.dumps(measure(args.child, args.sizes, args.repeats)))
        return

    slow_vars = [v for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if v in os.environ]
    if slow_vars:
        print(
            f"note: {' and '.join(slow_vars)} set in the environment: NumPy's OpenBLAS may run slower "
            "kernels than it would by default. For a fair comparison run\n"
            "      env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_gemm.py\n"
        )
    if pc is None:
        print(f"note: pycnn is not importable ({_pc_error}); timing NumPy/torch only\n")
    if threadpoolctl is not None:
        for info in threadpoolctl.threadpool_info():
            if info.get("user_api") == "blas":
                print(
                    f"numpy BLAS: {info.get('internal_api')} {info.get('version')} ({info.get('architecture')} kernels)"
                )
    else:
        print("threadpoolctl not installed: NumPy threads set through the environment in child processes")
    print(f"float32 n x n @ n x n, GFLOP/s, median of {args.repeats} runs\n")

    libs = ["pycnn", "numpy"] + (["torch"] if torch is not None else [])
    header = f"{'n':>6} {'thr':>4} " + " ".join(f"{lib:>8}" for lib in libs)
    header += "  pycnn/numpy" + ("  pycnn/torch" if torch is not None else "")
    print(header)
    print("-" * len(header))
    for t in args.threads:
        if threadpoolctl is not None:
            with threadpoolctl.threadpool_limits(limits=t, user_api="blas"):
                res = measure(t, args.sizes, args.repeats)
        else:
            res = measure_in_child(t, args.sizes, args.repeats)
        for n in args.sizes:
            cells = [res[lib].get(n) for lib in libs]
            row = f"{n:>6} {t:>4} " + " ".join(f"{c:8.1f}" if c is not None else f"{'-':>8}" for c in cells)
            ours = res["pycnn"].get(n)
            for other in libs[1:]:
                row += f"  {ours / res[other][n]:11.2f}" if ours else f"  {'-':>11}"
            print(row, flush=True)


if __name__ == "__main__":
    main()
