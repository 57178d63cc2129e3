"""CUDA: with a GPU, round trips and matmul against the CPU (llm.c's validate_result); without one (or
without a CUDA build), the queries say so and asking for a CUDA tensor raises a clear RuntimeError.
"""

import subprocess
import sys

import numpy as np
import pytest

import pycnn as pc

from helpers import SUBPROCESS_CWD, randn

HAVE_CUDA = pc.cuda.is_available()


# ---------------------------------------------------------------- without a GPU (never skipped) ----


def test_queries_are_consistent():
    assert isinstance(pc.cuda.is_available(), bool)
    assert isinstance(pc.cuda.device_count(), int) and pc.cuda.device_count() >= 0
    assert pc.cuda.is_available() == (pc.cuda.device_count() > 0)
    if not pc.cuda.is_built():
        assert not pc.cuda.is_available() and pc.cuda.device_count() == 0


@pytest.mark.skipif(HAVE_CUDA, reason="a GPU is present")
def test_no_gpu_reports_none():
    assert pc.cuda.is_available() is False
    assert pc.cuda.device_count() == 0


@pytest.mark.skipif(HAVE_CUDA, reason="a GPU is present")
@pytest.mark.parametrize(
    "make",
    [
        lambda: pc.zeros(2).to("cuda"),
        lambda: pc.zeros(2).cuda(),
        lambda: pc.zeros(2, device="cuda"),
        lambda: pc.tensor([1.0], device="cuda"),
        lambda: pc.randn(2, 2).to("cuda:0"),
        lambda: pc.cuda.get_device_name(0),
    ],
    ids=["to", "cuda", "zeros_device", "tensor_device", "to_index", "device_name"],
)
def test_no_gpu_cuda_tensor_raises_clearly(make):
    with pytest.raises(RuntimeError) as info:
        make()
    msg = str(info.value)
    assert msg.startswith("[") and "CUDA" in msg, msg


@pytest.mark.skipif(HAVE_CUDA, reason="a GPU is present")
def test_no_gpu_request_does_not_crash_the_interpreter():
    code = (
        "import pycnn as pc\n"
        "try:\n    pc.zeros(2).to('cuda')\nexcept RuntimeError as e:\n    print('OK', e)\n"
        "print(pc.cuda.is_available(), pc.cuda.device_count())\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False, cwd=SUBPROCESS_CWD
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "OK" in proc.stdout and "False 0" in proc.stdout


# ---------------------------------------------------------------- with a GPU ----


@pytest.mark.cuda
@pytest.mark.skipif(not HAVE_CUDA, reason="CUDA is not available")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_to_cuda_round_trip(dtype):
    a = randn(3, 5, 7, dtype=dtype, seed=1)
    t = pc.tensor(a).to("cuda")
    assert t.is_cuda and t.device == pc.device("cuda", 0) and t.dtype.numpy == dtype
    assert t.shape == a.shape
    back = t.to("cpu")
    assert not back.is_cuda
    np.testing.assert_array_equal(np.asarray(back), a)
    np.testing.assert_array_equal(np.asarray(pc.tensor(a).cuda().cpu()), a)
    assert "cuda" in repr(t)
    with pytest.raises(RuntimeError):
        np.asarray(t)  # device memory is not NumPy's


@pytest.mark.cuda
@pytest.mark.skipif(not HAVE_CUDA, reason="CUDA is not available")
@pytest.mark.parametrize("shape", [(1, 1, 1), (17, 33, 9), (128, 256, 64), (300, 70, 513)])
def test_matmul_cuda_matches_cpu(shape):
    M, K, N = shape
    a, b = randn(M, K, dtype=np.float32, seed=2), randn(K, N, dtype=np.float32, seed=3)
    cpu = np.asarray(pc.tensor(a) @ pc.tensor(b))
    gpu = (pc.tensor(a).to("cuda") @ pc.tensor(b).to("cuda")).to("cpu")
    np.testing.assert_allclose(np.asarray(gpu), cpu, rtol=1e-4, atol=1e-4)


@pytest.mark.cuda
@pytest.mark.skipif(not HAVE_CUDA, reason="CUDA is not available")
def test_matmul_cuda_gradients_match_cpu():
    a, b = randn(6, 4, seed=4), randn(4, 5, seed=5)
    grads = []
    for device in ("cpu", "cuda"):
        ta = pc.tensor(a, requires_grad=True)
        tb = pc.tensor(b, requires_grad=True)
        y = ta.to(device) @ tb.to(device)
        y.backward(pc.tensor(np.ones((6, 5))).to(device))
        grads.append((np.asarray(ta.grad), np.asarray(tb.grad)))
    for g_cpu, g_gpu in zip(*grads):
        np.testing.assert_allclose(g_gpu, g_cpu, rtol=1e-12)


@pytest.mark.cuda
@pytest.mark.skipif(not HAVE_CUDA, reason="CUDA is not available")
def test_mixed_devices_raise():
    with pytest.raises(RuntimeError, match=r"^\["):
        pc.randn(2, 3) @ pc.randn(3, 2).to("cuda")
