"""The README's Python tutorial runs as written (one epoch instead of five, in a temporary directory).

It reads Debian's Fashion-MNIST (apt-get install dataset-fashion-mnist); without that package the test
is skipped, as the README says the data must be there.
"""

import re
from pathlib import Path

import pytest

import pycnn as pc

from helpers import mpirun

README = Path(__file__).resolve().parent.parent / "README.md"


def python_tutorial():
    text = README.read_text()
    start = text.index("The same run from Python")
    block = re.search(r"```python\n(.*?)```", text[start:], re.DOTALL)
    assert block, "the README lost its Python tutorial block"
    return block.group(1)


@pytest.mark.slow
def test_readme_python_tutorial_runs(tmp_path, monkeypatch, capsys):
    if not Path("/usr/share/datasets/fashion-mnist").is_dir():
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    code = python_tutorial()
    assert "epochs=5" in code and "T_max=5" in code
    code = code.replace("epochs=5", "epochs=1").replace("T_max=5", "T_max=1")
    monkeypatch.chdir(tmp_path)
    pc.set_num_threads(2)
    exec(compile(code, str(README), "exec"), {})  # noqa: S102  (the README's own tutorial code)
    out = capsys.readouterr().out
    accuracy = float(re.search(r"test accuracy ([0-9.]+)%", out).group(1))
    assert accuracy > 75.0  # one epoch of LeNet-5 on Fashion-MNIST lands near 83%
    assert (tmp_path / "runs" / "py" / "history.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "runs" / "py" / "best.safetensors").is_file()
    assert len((tmp_path / "runs" / "py" / "log.csv").read_text().splitlines()) == 2


def test_readme_distributed_script_runs_on_two_ranks(tmp_path):
    text = README.read_text()
    start = text.index("In a script, the torch recipe")
    code = re.search(r"```python\n(.*?)```", text[start:], re.DOTALL).group(1)
    assert "range(5)" in code
    (tmp_path / "script.py").write_text(code.replace("range(5)", "range(1)"))
    done = mpirun([tmp_path / "script.py"], n=2, timeout=240, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    state = pc.load(str(tmp_path / "model.safetensors"))
    assert set(state) == set(pc.models.lenet5().state_dict())
