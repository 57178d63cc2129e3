#!/usr/bin/env bash
# Formatting and lint as CI checks them: ruff (Python: lint and format) and clang-format (C++ and CUDA), at
# the versions pinned in pyproject.toml's "lint" extra, which this script installs into the active Python
# environment first. `tools/lint.sh --fix` rewrites the files instead of failing on them.
set -euo pipefail
cd "$(dirname "$0")/.."

pins=$(python3 -c 'import re, pathlib
extra = re.search(r"^lint = \[(.*?)\]", pathlib.Path("pyproject.toml").read_text(), re.M).group(1)
print(" ".join(re.findall(r"\"([^\"]+)\"", extra)))')
python3 -m pip install --quiet $pins

mapfile -t cxx < <(git ls-files '*.h' '*.cpp' '*.cu' '*.cuh')
if [ "${1:-}" = "--fix" ]; then
  ruff check --fix .
  ruff format .
  clang-format -i "${cxx[@]}"
else
  ruff check .
  ruff format --check .
  clang-format --dry-run -Werror "${cxx[@]}"
  echo "lint: ruff and clang-format found nothing to change (${#cxx[@]} C++/CUDA files)"
fi
