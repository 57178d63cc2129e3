"""Data-parallel training on MPI: what pycnn.distributed costs over raw MPI, and what 2 ranks buy.

    python benchmarks/bench_distributed.py [--ranks 2] [--steps 20] [--sizes 4096,...]

1. all_reduce (float32 sum, in place) against mpi4py's own Allreduce on a NumPy buffer of the same size, in
   place (the same semantics) and out of place (the OSU benchmark's form), interleaved call by call on the
   same ranks: median microseconds, the bus bandwidth (bytes x 2(p-1)/p / time, the bytes each rank sends
   in a ring all-reduce) and pycnn's overhead over the in-place call, with and without the call check
   (PYCNN_DIST_CHECK=0). Each call runs back to back on its own buffer in blocks, the three alternating;
   the table gives each one's fastest block (a shared machine's other work only ever slows a block).
2. Training throughput (images/s, SGD with momentum): LeNet-5 (batch 64) and ResNet-20 (batch 64, 32x32) in
   one process on all the cores (threads = ranks) against DistributedDataParallel on `ranks` processes of one
   thread with batch 64/ranks each: the same global batch.
3. Overlap: for the DDP runs, the share of the gradient communication that ran while backward was still
   computing (from DistributedDataParallel.timeline): hidden / (hidden + exposed after backward), and the ms a
   step waits after backward.

The script starts itself under mpirun (`--worker ...`); the launcher is the one beside this Python.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

import pycnn as pc
import pycnn.distributed as dist
from pycnn.nn.parallel import DistributedDataParallel

from _common import print_table

HERE = os.path.dirname(os.path.abspath(__file__))
SIZES = [4096, 65536, 262144, 1 << 20, 4 << 20, 16 << 20, 64 << 20]  # bytes
MODELS = {"lenet5": (1, 28), "resnet20": (3, 32)}


# ---- workers (run under mpirun) ----
def worker_allreduce(sizes, out):
    from mpi4py import MPI  # here, not at the top: importing it starts MPI, which the driver must not

    dist.init_process_group(backend="mpi")
    comm, rows = MPI.COMM_WORLD.Dup(), []
    for nbytes in sizes:
        n = nbytes // 4
        t = pc.tensor(np.random.default_rng(0).standard_normal(n).astype(np.float32))
        # each call its own memory, so that none finds its buffer in cache from another's call; the in-place
        # raw call on memory from pycnn's allocator (a NumPy view of a tensor), as pycnn's own call: the same
        # sizes run at different speeds on memory from different allocators (transparent huge pages)
        raw = np.asarray(pc.tensor(np.random.default_rng(1).standard_normal(n).astype(np.float32))._impl)
        sent = np.random.default_rng(2).standard_normal(n).astype(np.float32)
        received = np.empty_like(sent)
        calls = [
            lambda: dist.all_reduce(t),
            lambda: _unchecked(dist.all_reduce, t),
            lambda: comm.Allreduce(MPI.IN_PLACE, raw, op=MPI.SUM),  # the same in-place semantics
            lambda: comm.Allreduce(sent, received, op=MPI.SUM),  # the OSU benchmark's out-of-place form
        ]
        # OSU-style: each call back to back on its own buffer (its steady state), in blocks that alternate
        # between the three, so that a change of the machine's pace hits all of them alike
        inner = max(2, min(200, (16 << 20) // nbytes))
        times = [[] for _ in calls]
        for block in range(22):
            for call, series in zip(calls, times):
                comm.Barrier()
                start = time.perf_counter()
                for _ in range(inner):
                    call()
                if block >= 2:  # warm-up
                    series.append((time.perf_counter() - start) / inner)
        rows.append((nbytes, *(float(np.min(series)) for series in times)))  # the least disturbed block
    if dist.get_rank() == 0:
        with open(out, "w") as f:
            json.dump({"ranks": dist.get_world_size(), "rows": rows}, f)


def _unchecked(collective, *args):
    """The collective as with PYCNN_DIST_CHECK=0: without the call check."""
    group = dist._group.current("bench")
    group.checking = False
    try:
        collective(*args)
    finally:
        group.checking = True


def _batches(model_name, batch):
    channels, size = MODELS[model_name]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, channels, size, size)).astype(np.float32)
    return x, rng.integers(0, 10, batch)


def worker_train(model_name, global_batch, steps, out):
    distributed = "OMPI_COMM_WORLD_SIZE" in os.environ or "PMI_SIZE" in os.environ
    if distributed:
        dist.init_process_group(backend="mpi")
    ranks = dist.get_world_size() if distributed else 1
    pc.manual_seed(0)
    model = getattr(pc.models, model_name)(num_classes=10)
    net = DistributedDataParallel(model) if distributed else model
    opt = pc.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    x, y = _batches(model_name, global_batch // ranks)
    x, y = pc.tensor(x), pc.tensor(y)
    loss_fn = pc.nn.CrossEntropyLoss()
    times, hidden, exposed = [], [], []
    for step in range(steps + 3):
        if distributed:
            dist.barrier()
        s = time.perf_counter()
        opt.zero_grad()
        loss_fn(net(x), y).backward()
        opt.step()
        if step >= 3:
            times.append(time.perf_counter() - s)
            if distributed:
                h, e = _overlap(net.timeline)
                hidden.append(h)
                exposed.append(e)
    if not distributed or dist.get_rank() == 0:
        result = {"images_per_s": global_batch / float(np.median(times)), "ranks": ranks}
        if distributed:
            result.update(hidden=float(np.sum(hidden)), exposed=float(np.sum(exposed)))
        with open(out, "w") as f:
            json.dump(result, f)


def _overlap(timeline):
    """(seconds of communication while backward ran, seconds after it): the union of the buckets' intervals
    split at the end of backward."""
    end, covered, last = timeline["backward_end"], [0.0, 0.0], -np.inf
    for a, b, _ in sorted(timeline["buckets"]):
        a = max(a, last)
        if b <= a:
            continue
        covered[0] += max(0.0, min(b, end) - a)
        covered[1] += max(0.0, b - max(a, end))
        last = b
    return covered[0], covered[1]


# ---- the driver ----
def _read(path):
    with open(path) as f:
        return json.load(f)


def _mpirun(ranks, args, threads=1):
    bindir = os.path.dirname(sys.executable)
    launcher = next((os.path.join(bindir, n) for n in ("mpirun", "mpiexec") if os.path.exists(os.path.join(bindir, n))), "mpirun")  # fmt: skip
    extra = ["--oversubscribe", "--bind-to", "none"] + (["--allow-run-as-root"] if os.geteuid() == 0 else [])
    command = [launcher, "-n", str(ranks), *extra, sys.executable, __file__, *args]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    subprocess.run(command, check=True, env=env, cwd=HERE, timeout=1800)


def _single(args, threads):
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    subprocess.run([sys.executable, __file__, *args], check=True, env=env, cwd=HERE, timeout=1800)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)), help="message sizes in bytes")
    ap.add_argument("--models", default="lenet5,resnet20")
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        kind, *rest = args.worker
        if kind == "allreduce":
            worker_allreduce([int(s) for s in rest[0].split(",")], rest[1])
        else:
            worker_train(rest[0], int(rest[1]), int(rest[2]), rest[3])
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "allreduce.json")
        _mpirun(args.ranks, ["--worker", "allreduce", args.sizes, out])
        report = _read(out)
        p, rows = report["ranks"], []
        for nbytes, ours, unchecked, theirs, osu in report["rows"]:
            busbw = lambda t: nbytes * 2 * (p - 1) / p / t / 1e9
            rows.append((
                f"{nbytes / 1024:g} KB" if nbytes < 1 << 20 else f"{nbytes >> 20} MB", f"{ours * 1e6:.1f}",
                f"{unchecked * 1e6:.1f}", f"{theirs * 1e6:.1f}", f"{osu * 1e6:.1f}", f"{busbw(ours):.2f}", f"{busbw(theirs):.2f}",
                f"{(ours - theirs) * 1e6:+.1f}", f"{(ours / theirs - 1) * 100:+.1f}%",
                f"{(unchecked / theirs - 1) * 100:+.1f}%",
            ))  # fmt: skip
        header = [
            "message",
            "pycnn us",
            "unchecked us",
            "mpi4py in place us",
            "mpi4py out of place us",
            "pycnn GB/s (bus)",
            "mpi4py GB/s (bus)",
            "pycnn - in place us",
            "overhead",
            "overhead unchecked",
        ]
        print_table(f"all_reduce, float32 sum in place, {p} ranks on one machine (best of 20 blocks)", header, rows)
        rows = []
        for name in args.models.split(","):
            one, many = os.path.join(tmp, f"{name}-1.json"), os.path.join(tmp, f"{name}-n.json")
            _single(["--worker", "train", name, str(args.batch), str(args.steps), one], threads=args.ranks)
            _mpirun(args.ranks, ["--worker", "train", name, str(args.batch), str(args.steps), many])
            a, b = _read(one), _read(many)
            share = b["hidden"] / max(1e-12, b["hidden"] + b["exposed"])
            rows.append((
                name, f"{a['images_per_s']:.0f}", f"{b['images_per_s']:.0f}", f"{b['images_per_s'] / a['images_per_s']:.2f}",
                f"{share * 100:.0f}%", f"{b['exposed'] / args.steps * 1e3:.2f}",
            ))  # fmt: skip
        header = [
            "model",
            f"1 rank x {args.ranks} threads (img/s)",
            f"{args.ranks} ranks x 1 thread (img/s)",
            "ratio",
            "comm hidden behind backward",
            "ms waited after backward",
        ]
        print_table(f"training throughput, global batch {args.batch}, median of {args.steps} steps", header, rows)


if __name__ == "__main__":
    main()
