"""Shared pytest fixtures.

``device`` runs a test once on the CPU and once on CUDA; the CUDA run is skipped unless pycnn was built
with CUDA and a GPU is present (Caffe's TestDtypesAndDevices, MLX's mlx_tests.py). Tests marked
``@pytest.mark.cuda`` are skipped the same way. ``simd_level`` runs a test once per CPU kernel set this
machine can run ("baseline", "avx2", ...). Numerical helpers live in tests/helpers.py.
"""

import pytest

import pycnn


def _cuda_available():
    try:
        return pycnn.cuda.is_available()
    except Exception:  # noqa: BLE001  (a broken CUDA runtime counts as no CUDA)
        return False


@pytest.fixture(params=["cpu", "cuda"])
def device(request):
    """The device name a test runs on: "cpu", or "cuda" when a GPU is usable (skipped otherwise)."""
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


@pytest.fixture(params=pycnn._C.supported_simd_levels())
def simd_level(request):
    """The CPU kernel set a test runs with, for every one this CPU supports; the default comes back after."""
    default = pycnn._C.simd_level()
    pycnn._C.set_simd_level(request.param)
    yield request.param
    pycnn._C.set_simd_level(default)
