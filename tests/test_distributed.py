"""pycnn.distributed and DistributedDataParallel on MPI: 2 ranks under mpirun (one thread each), running the
scripts in tests/distributed/, plus single-rank behaviour in forked children (MPI is never initialised in
the pytest process itself, whose later forks must not inherit it)."""

import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import pytest

import pycnn as pc

from helpers import mpirun, run_forked

SCRIPTS = Path(__file__).resolve().parent / "distributed"
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _lines(done, rank):
    return [line for line in done.stdout.splitlines() if line.startswith(f"rank {rank}: ")]


def _ok(done):
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done


# ---- collectives ----
def test_every_collective_dtype_and_layout_matches_numpy():
    done = _ok(mpirun([SCRIPTS / "collectives.py"], timeout=120))
    for rank in range(2):
        assert _lines(done, rank) == [f"rank {rank}: checked 446"], done.stdout


def test_collectives_without_the_call_check():
    done = _ok(mpirun([SCRIPTS / "collectives.py"], timeout=120, env={"PYCNN_DIST_CHECK": "0"}))
    assert _lines(done, 1) == ["rank 1: checked 446"], done.stdout


@pytest.mark.parametrize(
    ("scenario", "names"),
    [
        ("shape", ["(3, 5)", "(3, 4)", "all_reduce(sum)"]),
        ("dtype", ["float64", "float32", "broadcast from rank 0"]),
        ("collective", ["rank 1 called broadcast", "rank 0 called all_reduce(sum)"]),
    ],
)
def test_ranks_that_disagree_get_the_same_error_naming_the_rank(scenario, names):
    done = _ok(mpirun([SCRIPTS / "errors.py", scenario], timeout=120))
    for rank in range(2):
        first = _lines(done, rank)[0]
        assert "rank 1 called" in first and "where rank 0 called" in first, first
        assert all(n in first for n in names), (names, first)
        assert _lines(done, rank)[-1] == f"rank {rank}: done"
    if scenario == "shape":  # a later call on the broken group says why it is broken
        assert "broken by an earlier error" in _lines(done, 0)[1]


def test_a_rank_that_does_not_arrive_is_named_after_the_timeout():
    done = mpirun([SCRIPTS / "errors.py", "timeout"], timeout=120, env={"TIMEOUT": "1"})
    zero = _lines(done, 0)
    assert "rank 1 did not reach all_reduce(sum) of a float32 tensor of shape (2,)" in zero[0], zero
    assert "within 1 s" in zero[0] and "PYCNN_DIST_TIMEOUT" in zero[0]
    waited = float(re.search(r"waited ([0-9.]+) s", zero[1]).group(1))
    assert 0.9 < waited < 5.0, waited  # the timeout, then as long again for the others to report
    # rank 1 arrives after rank 0 gave up: its collective cannot finish, and the watchdog ends the job
    assert done.returncode != 0
    assert "rank 1 of 2: all_reduce (call #1) did not finish within 1 s" in done.stderr, done.stderr[-2000:]
    assert "rank 1: done" not in done.stdout


def test_an_uncaught_exception_on_one_rank_ends_the_job():
    done = mpirun([SCRIPTS / "errors.py", "uncaught"], timeout=120)
    assert done.returncode != 0
    assert "ValueError: a bug on rank 1" in done.stderr
    assert "rank 1 of 2 stopped on an uncaught ValueError; aborting all ranks" in done.stderr
    assert "rank 0: done" not in done.stdout


def test_a_killed_rank_ends_the_job_and_the_launcher_names_it():
    done = mpirun([SCRIPTS / "errors.py", "killed"], timeout=120)
    assert done.returncode != 0
    assert re.search(r"rank 1 .*exited on\s+signal 9", done.stdout + done.stderr), done.stderr[-2000:]


# ---- DistributedDataParallel ----
def _ddp_script():
    spec = importlib.util.spec_from_file_location("ddp_scenarios", SCRIPTS / "ddp.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _one_process(ddp, dtype, halves):
    """The same 20 steps in this process, on one thread as each rank runs: parameters after every step."""
    snaps = {}
    snapshot = lambda k, m: snaps.update({f"{k}:{n}": p.detach().numpy().copy() for n, p in m.named_parameters()})
    threads = pc.get_num_threads()
    pc.set_num_threads(1)
    try:
        ddp.train_lenet(dtype, halves, ddp.lenet(dtype, seed=0), snapshot)
    finally:
        pc.set_num_threads(threads)
    return snaps


@pytest.mark.parametrize(("dtype", "rtol"), [("float32", 1e-6), ("float64", 1e-12)])
def test_two_ranks_of_32_train_lenet5_as_one_process_of_64(tmp_path, dtype, rtol):
    _ok(mpirun([SCRIPTS / "ddp.py", "equivalence", dtype, tmp_path], timeout=180))
    ranks = [dict(np.load(tmp_path / f"ddp-{dtype}-{r}.npz")) for r in range(2)]
    ddp, half = _ddp_script(), 32
    whole = _one_process(ddp, dtype, lambda k: [(2 * k * half, 2 * (k + 1) * half)])
    halves = _one_process(ddp, dtype, lambda k: [(2 * k * half, (2 * k + 1) * half), ((2 * k + 1) * half, 2 * (k + 1) * half)])  # fmt: skip
    assert len(ranks[0]) == len(whole) == 20 * len(list(ddp.lenet(dtype, 0).parameters()))
    for key, value in ranks[0].items():
        assert np.array_equal(value, ranks[1][key]), f"{key}: the ranks' parameters differ"
        # the same two half-batch gradients, summed in the same order: the same bits
        assert np.array_equal(value, halves[key]), f"{key}: {np.abs(value - halves[key]).max()}"
        scale = np.abs(whole[key]).max()
        assert np.abs(value - whole[key]).max() <= rtol * scale, f"{key}: {np.abs(value - whole[key]).max() / scale}"


def test_ddp_broadcasts_refuses_other_models_accumulates_without_sync_and_handles_unused_parameters():
    done = _ok(mpirun([SCRIPTS / "ddp.py", "behaviours"], timeout=120))
    for rank in range(2):
        assert _lines(done, rank) == [f"rank {rank}: behaviours ok"], done.stdout


def _union(intervals):
    total, end = 0.0, -np.inf
    for a, b in sorted(intervals):
        if b > end:
            total += b - max(a, end)
            end = b
    return total


def test_bucket_sums_start_and_progress_while_backward_runs(tmp_path):
    _ok(mpirun([SCRIPTS / "ddp.py", "overlap", tmp_path], timeout=120))
    for rank in range(2):
        t = json.loads((tmp_path / f"timeline-{rank}.json").read_text())
        buckets, end = t["buckets"], t["backward_end"]
        assert len(buckets) >= 3, buckets
        first_start, first_done, _ = buckets[0]
        assert first_start < end and first_done < end, (t, "the first bucket did not finish during backward")
        communicating = _union([(a, b) for a, b, _ in buckets])
        outstanding = _union([(max(a, end), b) for a, b, _ in buckets if b > end])
        assert outstanding < 0.5 * communicating, (outstanding, communicating)
        assert t["synced"] >= end


# ---- one process: world size 1, no launcher (mpi4py starts a singleton) ----
def _single_rank_behaviour():
    dist = pc.distributed
    pytest.importorskip("mpi4py")
    try:
        dist.get_rank()
        raise AssertionError("get_rank before init_process_group")
    except RuntimeError as e:
        assert str(e).startswith("[get_rank]") and "init_process_group" in str(e)
    dist.init_process_group(backend="mpi", timeout=30)
    assert (dist.get_rank(), dist.get_world_size(), dist.get_backend(), dist.is_initialized()) == (0, 1, "mpi", True)
    x = pc.randn(4, 3)
    before = x.numpy().copy()
    for op in ("sum", "avg", "max", "min", "product"):
        dist.all_reduce(x, op=op)
    assert np.array_equal(x.numpy(), before)
    version = x._impl._version
    dist.all_reduce(x)
    assert x._impl._version > version, "an in-place collective must bump the version counter"
    model = pc.nn.Linear(3, 2)
    net = pc.nn.parallel.DistributedDataParallel(model)
    assert list(net.state_dict()) == ["module.weight", "module.bias"]
    net(x).sum().backward()
    reference = pc.nn.Linear(3, 2)
    reference.load_state_dict(model.state_dict())
    reference(x).sum().backward()
    assert np.array_equal(model.weight.grad.numpy(), reference.weight.grad.numpy())
    try:
        dist.init_process_group()
        raise AssertionError("a second init_process_group")
    except RuntimeError as e:
        assert "already initialized" in str(e)
    dist.destroy_process_group()
    assert not dist.is_initialized()
    dist.init_process_group(world_size=1, rank=0)
    dist.destroy_process_group()


def test_one_rank_without_a_launcher():
    raised, message = run_forked(_single_rank_behaviour, timeout=60)
    assert raised == [], message


def test_is_available_answers_without_initialising():
    assert pc.distributed.is_available() in (True, False)
    assert pc.distributed.is_nccl_available() in (True, False)
    assert not pc.distributed.is_initialized()
