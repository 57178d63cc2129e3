#!/usr/bin/env bash
# AddressSanitizer + UndefinedBehaviorSanitizer over the C++ core: builds the core (libpycnn_core.so), the C++
# tests and pycnn._C with PYCNN_SANITIZE=address,undefined (CUDA off) in one build directory, runs ctest, then a
# quick subset of the Python tests against that _C. Any report aborts its process, so the run fails on the
# first finding.
#   tools/sanitize.sh [BUILD_DIR]     (default build-sanitize; the active Python needs the test extra's packages)
# No report needed a suppression; one in third-party code (numpy, torch) would go into a suppressions file
# with its reason, never one in pycnn's code.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=$(realpath -m "${1:-build-sanitize}")
python=$(command -v python3)
# pybind11 at the version the package build asks for (pip's isolated build environment does not keep it).
"$python" -c "import pybind11" 2>/dev/null ||
  "$python" -m pip install --quiet "$(grep -oE '"pybind11[^"]*"' pyproject.toml | tr -d '"')"

# -O1 -g1: ASan's advice for a usable speed, and line tables only (all a report's stack trace needs): about
# half the compile time of the build type's -O2 -g. RelWithDebInfo also keeps pybind11 from stripping _C and
# linking it with LTO (it does both in Release).
cmake -S . -B "$build" -G Ninja -DPYCNN_CUDA=OFF -DPYCNN_SANITIZE=address,undefined -DPYCNN_BUILD_TESTS=ON \
  -DPYCNN_BUILD_PYTHON=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
  -DPython_EXECUTABLE="$python" -Dpybind11_DIR="$("$python" -m pybind11 --cmakedir)"
cmake --build "$build"

export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# allocator_may_return_null: a huge allocation fails as it does without ASan (pycnn raises MemoryError, which
# the overflow tests check) instead of being reported as too big.
asan_common=allocator_may_return_null=1:strict_string_checks=1:detect_stack_use_after_return=1
ASAN_OPTIONS="$asan_common:detect_leaks=1" ctest --test-dir "$build" --output-on-failure

# The Python tests import a copy of pycnn/ that holds the sanitized _C. The interpreter is not instrumented:
# the ASan runtime must be preloaded to come first, and libstdc++ with it, or ASan finds no __cxa_throw to
# wrap and aborts at the first C++ exception. The interpreter never frees some of its memory: no leak check.
# _C links the shared core: the copy keeps its build-tree RUNPATH, so it loads "$build"/libpycnn_core.so,
# the instrumented one (checked below from the process's own mappings).
pkg="$build/python"
rm -rf "$pkg" && mkdir -p "$pkg"
cp -r pycnn "$pkg/pycnn"
cp "$build"/_C*.so "$pkg/pycnn/"
readelf -d "$build"/libpycnn_core.so | grep -q 'NEEDED.*libasan' || { echo "libpycnn_core.so is not instrumented"; exit 1; }
export PYTHONPATH="$pkg${PYTHONPATH:+:$PYTHONPATH}" ASAN_OPTIONS="$asan_common:detect_leaks=0"
export LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libstdc++.so)"
cd "$build"  # away from the repository root, whose pycnn/ has no _C
"$python" - "$pkg" "$build" <<'PY'
import sys
import pycnn
pkg, build = sys.argv[1:]
assert pycnn._C.__file__.startswith(pkg + "/"), pycnn._C.__file__
cores = {line.split()[-1] for line in open("/proc/self/maps") if "libpycnn_core" in line}
assert all(c.startswith(build + "/libpycnn_core.so") for c in cores) and cores, cores
PY

# About a minute of the tests that reach the most C++: every op family forward and backward on every kernel
# set (torch parity included: torch runs fine under ASan), optimizers, serialization, bad input and
# overflowing sizes (their child processes inherit the preload). -s: a report aborts pytest itself, and what
# pytest had captured would be lost with it (GCC's UBSan ignores log_path; sys capture breaks faulthandler).
tests=()
for name in ops conv2d convs depthwise winograd deform_conv norm losses activation resize tensor tensor_ops \
  dropout autograd nn optim optimizers serialization bad_input init nonlocal threads op_lists host_cache data models \
  dtypes sort_ops index_ops embedding conv3d fold grid_sample math_ops nn_breadth; do
  tests+=("$root/tests/test_$name.py")
done
"$python" -m pytest -q -s -p no:cacheprovider "${tests[@]}"
