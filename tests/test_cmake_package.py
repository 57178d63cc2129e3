"""The C++ library as an installed pycnn ships it (issue 12): pycnn/lib/libpycnn_core.so.0.1, which pycnn._C links
(the kernels exist once, in the library), the headers under pycnn/include/pycnn/, and the CMake package that
pycnn.cmake_prefix_path points CMake at. The last test builds examples/embed against that package, as a user
would, and runs it.

The ELF checks use binutils (readelf, nm) and the build needs cmake and a C++ compiler; each skips without them.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import pycnn as pc
from pycnn import _C

from helpers import cmake_build, elf_dynamic, tool

REPO = Path(__file__).resolve().parents[1]
PREFIX = Path(pc.cmake_prefix_path)
CMAKE_DIR = PREFIX / "lib" / "cmake" / "pycnn"

# A developer's copy of _C in the source tree (tests run against it without an install) has no package around.
pytestmark = pytest.mark.skipif(
    PREFIX == REPO / "pycnn" and not CMAKE_DIR.is_dir(),
    reason="pycnn._C is a copy in the source tree, not an installed pycnn (pip install . or -e .)",
)


def _defined_symbols(path):
    return subprocess.run(
        [tool("nm"), "-D", "-C", "--defined-only", str(path)], capture_output=True, text=True, check=True
    ).stdout


def test_cmake_prefix_path_is_the_folder_of_the_compiled_module():
    assert PREFIX == Path(_C.__file__).resolve().parent
    assert isinstance(pc.cmake_prefix_path, str) and os.path.isabs(pc.cmake_prefix_path)


def test_the_package_holds_the_library_headers_and_cmake_files():
    # One file, named as its soname: a wheel (a zip file) would store symlinks as copies of the library.
    libs = sorted(p.name for p in (PREFIX / "lib").glob("libpycnn_core.so*"))
    assert len(libs) == 1 and re.fullmatch(r"libpycnn_core\.so\.\d+\.\d+", libs[0]), libs
    include = PREFIX / "include" / "pycnn"
    for header in ["tensor.h", "ops.h", "core/tensor.h", "core/check.h", "ops/ops.h"]:
        assert (include / header).is_file(), include / header
    for name in ["pycnnConfig.cmake", "pycnnConfigVersion.cmake", "pycnnTargets.cmake"]:
        assert (CMAKE_DIR / name).is_file(), CMAKE_DIR / name


def test_the_exported_target_is_relocatable_and_names_no_cuda_target():
    targets = "".join(p.read_text() for p in CMAKE_DIR.glob("pycnnTargets*.cmake"))
    # Every path of the imported target is relative to the package's own location, wherever pip put it.
    paths = re.findall(r'(?:IMPORTED_LOCATION\w*|INTERFACE_INCLUDE_DIRECTORIES) "([^"]*)"', targets)
    assert paths and all(p.startswith("${_IMPORT_PREFIX}/") for p in paths), paths
    # A consumer needs no CUDA toolkit: cudart is private to the library.
    interface = re.findall(r'INTERFACE_LINK_LIBRARIES "([^"]*)"', targets)
    assert not any("CUDA::" in s or "cudart" in s for s in interface), interface


def test_C_links_the_shared_core_and_holds_no_kernels():
    (core,) = (PREFIX / "lib").glob("libpycnn_core.so*")
    needed, runpath = elf_dynamic(_C.__file__)
    assert core.name in needed, needed
    assert "$ORIGIN/lib" in ":".join(runpath).split(":"), runpath
    # The op entry points and the kernels are defined in the library, not in _C (which only converts arguments).
    in_core, in_c = _defined_symbols(core), _defined_symbols(_C.__file__)
    for symbol in ["pycnn::conv2d_forward(", "pycnn::matmul(", "pycnn::Tensor::empty("]:
        assert symbol in in_core, symbol
        assert symbol not in in_c, f"{symbol} is defined in _C too"
    assert "pycnn::cpu::" not in in_c
    # And the process uses the library of this package.
    with open("/proc/self/maps") as maps:
        loaded = {line.split()[-1] for line in maps if "libpycnn_core" in line}
    assert loaded and all(Path(p).resolve().parent == core.resolve().parent for p in loaded), loaded


def test_embed_example_builds_against_the_installed_package(tmp_path):
    build = tmp_path / "build"
    cmake_build(REPO / "examples" / "embed", build)
    exe = build / "embed"
    needed, _ = elf_dynamic(exe)
    assert any(n.startswith("libpycnn_core.so") for n in needed), needed
    assert not any(n.startswith("libpython") for n in needed), needed
    # No LD_LIBRARY_PATH: the executable finds the package's library by itself (CMake's RUNPATH).
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    run = subprocess.run([str(exe)], capture_output=True, text=True, env=env, timeout=60, check=False)
    assert run.returncode == 0 and "embed: OK" in run.stdout, run.stdout + run.stderr
    if shutil.which("ldd"):
        resolved = subprocess.run(["ldd", str(exe)], capture_output=True, text=True, env=env, check=True).stdout
        # "libpycnn_core.so.0.1 => /path/libpycnn_core.so.0.1 (0x...)"
        line = next(x for x in resolved.splitlines() if "libpycnn_core" in x)
        assert Path(line.split("=>")[1].split()[0]).resolve().parent == (PREFIX / "lib").resolve(), line
