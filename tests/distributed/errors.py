"""Run under mpirun with a scenario name: what each rank sees when the ranks disagree or one goes missing.
Caught errors are printed as "rank R: <message>"; the scenarios that kill or abort end the job instead."""

import os
import signal
import sys
import time

import pycnn as pc
import pycnn.distributed as dist


def caught(call):
    try:
        call()
    except dist.DistributedError as e:
        print(f"rank {dist.get_rank()}: {e}", flush=True)
        return e
    raise AssertionError(f"rank {dist.get_rank()}: no DistributedError")


def main(scenario):
    dist.init_process_group(timeout=float(os.environ.get("TIMEOUT", "60")))
    rank = dist.get_rank()
    if scenario == "shape":
        caught(lambda: dist.all_reduce(pc.ones(3, 4 + rank)))
        caught(lambda: dist.all_reduce(pc.ones(2)))  # the group is broken now, on every rank
    elif scenario == "dtype":
        caught(lambda: dist.broadcast(pc.ones(5, dtype="float32" if rank == 0 else "float64")))
    elif scenario == "collective":
        dist.barrier()
        caught(lambda: dist.all_reduce(pc.ones(2)) if rank == 0 else dist.broadcast(pc.ones(2), src=0))
    elif scenario == "timeout":
        if rank == 1:
            time.sleep(3 * dist._group._group.timeout)
        start = time.monotonic()
        caught(lambda: dist.all_reduce(pc.ones(2)))
        print(f"rank {rank}: waited {time.monotonic() - start:.2f} s", flush=True)
    elif scenario == "uncaught":
        if rank == 1:
            raise ValueError("a bug on rank 1")
        dist.all_reduce(pc.ones(2))
        time.sleep(60)  # the abort ends this rank long before
    elif scenario == "killed":
        if rank == 1:
            os.kill(os.getpid(), signal.SIGKILL)
        dist.all_reduce(pc.ones(2))
        time.sleep(60)
    print(f"rank {rank}: done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
