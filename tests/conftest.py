"""Shared pytest fixtures.

``device`` runs a test once on the CPU and once on CUDA; the CUDA run is skipped unless pycnn was built
with CUDA and a GPU is present (Caffe's TestDtypesAndDevices, MLX's mlx_tests.py). Tests marked
``@pytest.mark.cuda`` are skipped the same way. ``simd_level`` runs a test once per CPU kernel set this
machine can run ("baseline", "avx2", ...). Numerical helpers live in tests/helpers.py.

Every op has a CUDA kernel, so a ``device="cuda"`` case that raises "[op] has no CUDA kernel yet" fails.
PYCNN_TEST_SECOND_DEVICE=cpu:0 runs the "cuda" cases on the CPU under another device name, to check the
tests' own device code without a GPU.
"""

import os

import pytest

import pycnn


def _cuda_available():
    try:
        return pycnn.cuda.is_available()
    except Exception:  # noqa: BLE001  (a broken CUDA runtime counts as no CUDA)
        return False


# PYCNN_TEST_SECOND_DEVICE=cpu:0 runs the "cuda" variants on the CPU under another name: every test's
# device branch (moving inputs, modules and results, comparing with the CPU) then runs without a GPU.
_SECOND_DEVICE = os.environ.get("PYCNN_TEST_SECOND_DEVICE")


@pytest.fixture(params=["cpu", "cuda"])
def device(request):
    """The device name a test runs on: "cpu", or "cuda" when a GPU is usable (skipped otherwise)."""
    if request.param == "cuda" and _SECOND_DEVICE:
        return _SECOND_DEVICE
    if request.param == "cuda" and not _cuda_available():
        pytest.skip("CUDA is not available (not built, or no GPU)")
    return request.param


def pytest_collection_modifyitems(config, items):
    if _cuda_available():
        return
    skip_cuda = pytest.mark.skip(reason="CUDA is not available (not built, or no GPU)")
    for item in items:
        if "cuda" in item.keywords and item.get_closest_marker("cuda") is not None:
            item.add_marker(skip_cuda)


@pytest.fixture(params=pycnn._C._simd_levels())
def simd_level(request):
    """The CPU kernel set a test runs with, for every one pycnn has: a set this CPU cannot run is reported as
    skipped (never silently untested); the default set comes back after."""
    if request.param not in pycnn._C.supported_simd_levels():
        pytest.skip(f"this CPU cannot run the '{request.param}' kernel set")
    default = pycnn._C.simd_level()
    pycnn._C._set_simd_level(request.param)
    yield request.param
    pycnn._C._set_simd_level(default)
