"""Threading: set_num_threads/get_num_threads, bitwise-identical results for 1 and 2 threads (the CPU is
deterministic by default), the baseline SIMD kernels against AVX2, and fork safety: a process forked
after OpenMP ran must still compute (libgomp's pool does not survive fork; pycnn then runs serially).
"""

import multiprocessing
import os
import signal
import time

import numpy as np
import pytest

import pycnn as pc
import pycnn.nn.functional as F

from helpers import randn


@pytest.fixture
def restore_threads():
    before = pc.get_num_threads()
    yield
    pc.set_num_threads(before)


def test_set_get_num_threads(restore_threads):
    for n in (1, 2, 3):
        pc.set_num_threads(n)
        assert pc.get_num_threads() == n
    for bad in (0, -2, 2.0, None):
        with pytest.raises(ValueError, match=r"^\[set_num_threads\]"):
            pc.set_num_threads(bad)
    assert pc.get_num_threads() == 3  # a rejected value changes nothing
    with pytest.raises(ValueError, match=r"^\[set_num_threads\]"):
        pc._C.set_num_threads(0)  # the core checks too


def _conv_step(n, dtype):
    """Forward and all three gradients of a conv layer big enough to use threads in every path."""
    x = pc.tensor(randn(n, 8, 24, 24, dtype=dtype, seed=1), requires_grad=True)
    w = pc.tensor(randn(16, 8, 3, 3, dtype=dtype, seed=2), requires_grad=True)
    b = pc.tensor(randn(16, dtype=dtype, seed=3), requires_grad=True)
    y = F.conv2d(x, w, b, stride=1, padding=1)
    y.backward(pc.tensor(randn(*y.shape, dtype=dtype, seed=4)))
    return [np.asarray(y.detach()).copy()] + [np.asarray(t.grad).copy() for t in (x, w, b)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 3, 8], ids=["batch1", "batch3", "batch8"])
def test_conv2d_bitwise_identical_for_1_and_2_threads(n, dtype, restore_threads):
    pc.set_num_threads(1)
    one = _conv_step(n, dtype)
    pc.set_num_threads(2)
    two = _conv_step(n, dtype)
    for name, a, b in zip(["y", "dx", "dw", "db"], one, two):
        np.testing.assert_array_equal(a, b, err_msg=f"{name} differs between 1 and 2 threads")


def _lenet_training(steps=2):
    pc.manual_seed(0)
    model = pc.models.lenet5()
    opt = pc.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    x = pc.tensor(randn(16, 1, 28, 28, dtype=np.float32, seed=5))
    target = pc.tensor(np.arange(16) % 10)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, [p.detach().numpy().copy() for p in model.parameters()]


def test_lenet_training_step_bitwise_identical_for_1_and_2_threads(restore_threads):
    pc.set_num_threads(1)
    losses1, params1 = _lenet_training()
    pc.set_num_threads(2)
    losses2, params2 = _lenet_training()
    assert losses1 == losses2
    for a, b in zip(params1, params2):
        np.testing.assert_array_equal(a, b)


def test_matmul_bitwise_identical_for_1_and_2_threads(restore_threads):
    a, b = randn(300, 200, dtype=np.float32, seed=1), randn(200, 150, dtype=np.float32, seed=2)
    pc.set_num_threads(1)
    one = np.asarray(pc.tensor(a) @ pc.tensor(b)).copy()
    pc.set_num_threads(2)
    np.testing.assert_array_equal(np.asarray(pc.tensor(a) @ pc.tensor(b)), one)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_kernel_set_matches_the_portable_one(simd_level, dtype):
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    a, b = randn(67, 131, dtype=dtype, seed=1), randn(131, 45, dtype=dtype, seed=2)
    assert pc._C.simd_level() == simd_level
    simd_mm, simd_conv = np.asarray(pc.tensor(a) @ pc.tensor(b)).copy(), _conv_step(2, dtype)
    pc._C._set_simd_level("baseline")
    base_mm, base_conv = np.asarray(pc.tensor(a) @ pc.tensor(b)).copy(), _conv_step(2, dtype)
    np.testing.assert_allclose(simd_mm, base_mm, rtol=rtol, atol=rtol * 10)
    for a_, b_ in zip(simd_conv, base_conv):
        np.testing.assert_allclose(a_, b_, rtol=rtol, atol=rtol * 100)
    np.testing.assert_allclose(simd_mm, a.astype(np.float64) @ b.astype(np.float64), rtol=rtol * 10, atol=rtol * 100)


# ---------------------------------------------------------------- fork safety ----


def _child_work():
    """conv2d + matmul in a forked child; True when the results are right."""
    x, w = randn(2, 3, 12, 12, seed=1), randn(4, 3, 3, 3, seed=2)
    y = np.asarray(F.conv2d(pc.tensor(x), pc.tensor(w), padding=1))
    a, b = randn(120, 80, seed=3), randn(80, 60, seed=4)
    mm = np.asarray(pc.tensor(a) @ pc.tensor(b))
    ok_mm = np.allclose(mm, a @ b, rtol=1e-10)
    ok_conv = y.shape == (2, 4, 12, 12) and np.isfinite(y).all()
    return bool(ok_mm and ok_conv)


def _warm_parent_pool():
    """Runs threaded kernels in the parent so that OpenMP's thread pool exists when we fork."""
    pc.set_num_threads(2)
    _conv_step(1, np.float32)
    _conv_step(4, np.float32)


def _wait(pid, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail(f"the forked child hung for {timeout} s after OpenMP ran in the parent (killed)")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_after_threads_does_not_hang(restore_threads):
    _warm_parent_pool()
    pid = os.fork()
    if pid == 0:  # child: never return into pytest
        code = 1
        try:
            code = 0 if _child_work() else 2
        except BaseException:  # noqa: BLE001  (a forked child must reach os._exit, whatever happens)
            code = 3
        finally:
            os._exit(code)
    status = _wait(pid)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, f"child failed, wait status {status}"
    assert _child_work()  # the parent's own pool still works after the fork


def _mp_target(queue):
    queue.put(_child_work())


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_multiprocessing_fork_context(restore_threads):
    _warm_parent_pool()
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_mp_target, args=(queue,))
    proc.start()
    proc.join(timeout=30)
    if proc.is_alive():
        proc.kill()
        proc.join()
        pytest.fail("the multiprocessing 'fork' child hung after OpenMP ran in the parent (killed)")
    assert proc.exitcode == 0
    assert queue.get(timeout=5) is True
