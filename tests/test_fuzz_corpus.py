"""Replays the fuzzing corpus, tests/fuzz_corpus/<target>/*, through the targets' contract (tools/fuzz/targets.py)
with plain pytest, no atheris: every file a fuzzer once found a bug with stays fixed. The corpus holds the
seeds (tools/fuzz/make_seeds.py) and the findings (finding-*), each with a unit test next to its fix.
"""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "fuzz_corpus"


def _load_targets():
    spec = importlib.util.spec_from_file_location("pycnn_fuzz_targets", ROOT / "tools" / "fuzz" / "targets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


targets = _load_targets()


def test_every_target_has_a_corpus():
    folders = {d.name for d in CORPUS.iterdir() if d.is_dir()}
    assert folders == set(targets.TARGETS)
    for name in folders:
        assert any((CORPUS / name).glob("seed-*")), name


def test_corpus_stays_small():
    total = sum(f.stat().st_size for f in CORPUS.rglob("*") if f.is_file())
    assert total < 512 * 1024, f"the committed corpus is {total} bytes; keep it to a few hundred KB"


@pytest.mark.parametrize("name", sorted(targets.TARGETS))
def test_replay_corpus(name):
    if name == "image":
        pytest.importorskip("PIL")
    failures = []
    for path in sorted((CORPUS / name).iterdir()):
        try:
            targets.replay(name, path)
        except Exception as exc:  # noqa: BLE001  (report every file that breaks the contract, not the first)
            failures.append(f"{path.name}: {type(exc).__name__}: {str(exc)[:300]}")
    assert not failures, "\n".join(failures)
