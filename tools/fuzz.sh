#!/usr/bin/env bash
# Fuzz one file reader with atheris (pip install ".[fuzz]"): tools/fuzz.sh NAME SECONDS [SEED]
#   NAME: load, checkpoint, idx, cifar, tar or image (tools/fuzz/targets.py), or all (each in turn, SECONDS
#   each); SEED fixes libFuzzer's random choices (CI uses 1). Starts from tests/fuzz_corpus/NAME/; new
#   interesting inputs and crash files go to $FUZZ_OUT (default /tmp/pycnn-fuzz/NAME), out of the repository:
#   copy one into the corpus on purpose, with the fix it proves. Exits non-zero on a finding.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 2 ]; then
  echo "usage: tools/fuzz.sh NAME|all SECONDS [SEED]" >&2
  exit 2
fi
name=$1 seconds=$2 seed=${3:-}
if [ "$name" = all ]; then
  for target in $(python tools/fuzz/targets.py); do
    FUZZ_OUT=${FUZZ_OUT:+$FUZZ_OUT/$target} "$0" "$target" "$seconds" ${seed:+"$seed"}
  done
  exit 0
fi
out=${FUZZ_OUT:-/tmp/pycnn-fuzz/$name}
mkdir -p "$out/new" "$out/crashes" "tests/fuzz_corpus/$name"
dict=tools/fuzz/dict/$name.dict  # the format's tokens: parsers written in C give no coverage to find them
# libFuzzer writes new inputs to the first corpus folder only, so the committed one stays as it is.
# -max_len covers the largest seed; -timeout and -rss_limit_mb make hangs and memory blow-ups findings too.
# FUZZ_RUNS=N stops after N inputs (with a seed, the same inputs every time: what CI uses), SECONDS bounding it.
python tools/fuzz/fuzz.py "$name" \
  -max_total_time="$seconds" ${FUZZ_RUNS:+-runs="$FUZZ_RUNS"} ${seed:+-seed="$seed"} -dict="$dict" \
  -max_len=16384 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$out/crashes/" "$out/new" "tests/fuzz_corpus/$name" 2>&1 \
  | grep --line-buffered -vE '^INFO: Instrumenting|^#[0-9]+\s+(NEW|REDUCE) ' || { echo "tools/fuzz.sh: $name found a bug: see $out/crashes/" >&2; exit 1; }
