#!/usr/bin/env bash
# Fuzz one file reader with atheris (pip install ".[fuzz]"): tools/fuzz.sh NAME SECONDS [SEED]
#   NAME: load, checkpoint, idx, cifar, tar or image (tools/fuzz/targets.py); SEED fixes libFuzzer's
#   random choices (CI uses 1). Starts from tests/fuzz_corpus/NAME/; new interesting inputs and crash
#   files go to $FUZZ_OUT (default /tmp/pycnn-fuzz/NAME), out of the repository: copy one into the corpus
#   on purpose, with the fix it proves. Exits non-zero on a finding.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 2 ]; then
  echo "usage: tools/fuzz.sh NAME SECONDS [SEED]" >&2
  exit 2
fi
name=$1 seconds=$2 seed=${3:-}
out=${FUZZ_OUT:-/tmp/pycnn-fuzz/$name}
mkdir -p "$out/new" "$out/crashes" "tests/fuzz_corpus/$name"
# libFuzzer writes new inputs to the first corpus folder only, so the committed one stays as it is.
# -max_len covers the largest seed (a checkpoint); -timeout and -rss_limit_mb turn hangs and memory
# blow-ups into findings too.
exec python tools/fuzz/fuzz.py "$name" \
  -max_total_time="$seconds" ${seed:+-seed="$seed"} \
  -max_len=16384 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$out/crashes/" "$out/new" "tests/fuzz_corpus/$name"
