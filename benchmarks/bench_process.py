"""Training and inference img/s and peak RSS of one library, alone in its process (so the RSS is its own):
pycnn.bench's Workload (a model built from `pycnn.nn` or `torch.nn`, a fixed random batch, SGD momentum 0.9).

Run: python benchmarks/bench_process.py pycnn|torch MODEL BATCH THREADS [SECONDS]
(MODEL: lenet5, vgg_small, resnet18_cifar, mobilenet_v2_cifar). Run it once per library, in turn, and
compare the two lines; with `python3 -c "while True: pass" &` beside it, it measures a busy neighbour.
"""

import resource
import sys
import time

import numpy as np

from pycnn import bench


def main(argv):
    libname, model, batch, threads = argv[0], argv[1], int(argv[2]), int(argv[3])
    seconds = float(argv[4]) if len(argv) > 4 else 4.0
    if libname == "torch":
        import torch as lib
    else:
        import pycnn as lib
    lib.set_num_threads(threads)
    shape = (batch, 1, 28, 28) if model == "lenet5" else (batch, 3, 32, 32)
    work = bench.Workload(lib, getattr(bench, model), shape)

    def rate(fn):  # median of timed steps over `seconds` (at least 3), after two warm-up steps
        fn()
        fn()
        runs, end = [], time.perf_counter() + seconds
        while time.perf_counter() < end or len(runs) < 3:
            t0 = time.perf_counter()
            fn()
            runs.append(time.perf_counter() - t0)
        return batch / float(np.median(runs))

    work.model.train()
    train_rate = rate(work.train_step)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    work.model.eval()
    infer_rate = rate(work.infer)
    print(
        f"{libname} {model} batch {batch}, {threads} threads: train {train_rate:,.1f} img/s, "
        f"infer {infer_rate:,.1f} img/s, peak RSS (training) {rss:,.0f} MB"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
