"""The deploy path end to end, as the README gives it: `pycnn train --out`, `pycnn export`, then
examples/deploy (a C++ application built against the installed package with find_package(pycnn)) classifies a
PGM digit without Python."""

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import pycnn as pc
from pycnn.cli import main as cli_main

from helpers import cmake_build, elf_dynamic, expect_error

REPO = Path(__file__).resolve().parents[1]
DIGIT = REPO / "examples" / "deploy" / "digit7.pgm"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A LeNet-5 checkpoint of `pycnn train --out` (one epoch) and its program from `pycnn export`."""
    root = tmp_path_factory.mktemp("deploy")
    assert cli_main(["train", "--epochs", "1", "--no-progress", "--out", str(root / "run")]) == 0
    checkpoint, program = root / "run" / "best.safetensors", root / "lenet.pycnn"
    assert cli_main(["export", str(checkpoint), str(program)]) == 0
    return checkpoint, program


def _pgm_pixels(path):
    data = Path(path).read_bytes()
    assert data.startswith(b"P5\n28 28\n255\n")
    return np.frombuffer(data[len(b"P5\n28 28\n255\n") :], np.uint8).reshape(1, 1, 28, 28)


def test_exported_program_normalises_as_training_did(trained, capsys):
    checkpoint, program = trained
    prog = pc.program.load(program)
    assert prog.input_names == ["image"] and prog.output_names == ["logits"]
    info = pc.train.load_checkpoint(checkpoint)["extra"]
    model = pc.cli.build_model(info["model"], info["num_classes"], info["in_channels"], info["image_size"])
    pc.train.load_checkpoint(checkpoint, model=model)
    images = pc.rand(3, 1, 28, 28)
    normalised = (images - info["mean"][0]) / info["std"][0]
    with pc.no_grad():
        want = model.eval()(normalised)
    np.testing.assert_allclose(np.asarray(prog(images)), np.asarray(want), rtol=1e-5, atol=1e-5)


def test_cli_export_errors(trained, tmp_path):
    checkpoint, _ = trained
    assert cli_main(["export", str(tmp_path / "missing.safetensors"), str(tmp_path / "m.pycnn")]) == 1
    with pytest.raises(SystemExit):
        cli_main(["export", str(checkpoint), str(tmp_path / "m.pycnn"), "--batch-size", "0"])
    expect_error(ValueError, "program.load", lambda: pc.program.load(checkpoint), "not a pycnn program")


def test_deploy_example_classifies_a_digit_from_cpp(trained, tmp_path):
    _, program = trained
    cmake_build(REPO / "examples" / "deploy", tmp_path / "build")
    exe = tmp_path / "build" / "deploy"
    needed, _ = elf_dynamic(exe)
    assert any(n.startswith("libpycnn_core.so") for n in needed), needed
    assert not any(n.startswith("libpython") for n in needed), needed
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}  # it finds the package's library itself
    run = subprocess.run(
        [str(exe), str(program), str(DIGIT)], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.split("\n")
    predicted = int(lines[0].removeprefix("class "))
    probs = np.array([float(line.split()[1]) for line in lines[1:11]])
    # the same program from Python, on the same pixels scaled to [0, 1]
    x = pc.tensor(_pgm_pixels(DIGIT).astype(np.float32) / 255)
    want = np.asarray(pc.softmax(pc.program.load(program)(x), dim=1))[0]
    assert predicted == int(np.argmax(want))
    np.testing.assert_allclose(probs, want, atol=2e-6)
    # a file that is not a 28x28 P5 image: a clear error and a non-zero status
    (tmp_path / "bad.pgm").write_bytes(b"P2\n28 28\n255\n0 0 0")
    bad = subprocess.run(
        [str(exe), str(program), str(tmp_path / "bad.pgm")], capture_output=True, text=True, env=env, check=False
    )
    assert bad.returncode == 1 and "[deploy]" in bad.stderr and "P5" in bad.stderr, bad.stderr
