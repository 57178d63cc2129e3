"""Tests for the `pycnn` command line (pycnn/cli.py), run as `python -m pycnn` in a subprocess.

The training runs are short (1-3 epochs of the 4,000-digit MNIST subset) but end to end: data, split,
transforms, LeNet-5, optimizer, schedule, callbacks, checkpoints, figures, evaluation and resume.
"""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import pycnn as pc

from helpers import SUBPROCESS_CWD

TRAIN_FLAGS = [
    "--model",
    "--dataset",
    "--epochs",
    "--batch-size",
    "--optimizer",
    "--lr",
    "--schedule",
    "--augment",
    "--val-split",
    "--early-stop",
    "--out",
    "--resume",
    "--distributed",
    "--threads",
    "--device",
    "--seed",
    "--momentum",
    "--weight-decay",
    "--warmup",
    "--clip-grad",
    "--workers",
    "--data-root",
]
TIMEOUT_S = 600
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run_cli(*args, cwd=SUBPROCESS_CWD):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.run(
        [sys.executable, "-m", "pycnn", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        cwd=cwd,
        env=env,
        check=False,
    )


def final_accuracy(stdout):
    match = re.search(r"final test accuracy\s+([0-9.]+)%", stdout)
    assert match, f"no final accuracy line in:\n{stdout}"
    return float(match.group(1))


def epoch_lines(stdout):
    return [line for line in stdout.splitlines() if line.startswith("epoch")]


def test_help_lists_every_flag():
    result = run_cli("train", "--help")
    assert result.returncode == 0, result.stderr
    for flag in TRAIN_FLAGS:
        assert flag in result.stdout, f"{flag} missing from `pycnn train --help`"
    top = run_cli("--help")
    assert top.returncode == 0
    for command in ("train", "evaluate", "summary"):
        assert command in top.stdout


def test_no_command_prints_usage():
    result = run_cli()
    assert result.returncode != 0
    assert "usage" in (result.stdout + result.stderr).lower()


@pytest.mark.parametrize(
    "args",
    [
        ("train", "--epochs", "zero"),
        ("train", "--batch-size", "0"),
        ("train", "--val-split", "1.5"),
        ("train", "--model", "nosuchnet"),
        ("train", "--optimizer", "lbfgs"),
        ("train", "--schedule", "sawtooth"),
        ("train", "--dataset", "imagenet-22k", "--epochs", "1"),
        ("summary", "lenet5", "--input-shape", "1,28"),
    ],
)
def test_bad_flag_value_fails(args):
    result = run_cli(*args)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr


def test_summary_prints_parameters():
    result = run_cli("summary", "lenet5")
    assert result.returncode == 0, result.stderr
    assert "44,426" in result.stdout or "44426" in result.stdout  # LeNet-5's parameter count
    result = run_cli("summary", "resnet20", "--num-classes", "100")
    assert result.returncode == 0, result.stderr
    # ResNet-20 has 272,474 parameters with 10 classes; 100 classes add 90 x (64 + 1) to the fc layer.
    assert f"{272_474 + 90 * 65:,}" in result.stdout


def test_summary_uses_the_model_default_classes():
    # torchvision's ResNet-18 (1000 classes) has 11,689,512 parameters; the 10-class variant 11,181,642.
    result = run_cli("summary", "resnet18")
    assert result.returncode == 0, result.stderr
    assert "11,689,512" in result.stdout and "classes: 1000 (the model's default)" in result.stdout
    result = run_cli("summary", "resnet18", "--num-classes", "10")
    assert "11,181,642" in result.stdout and "classes: 10 (--num-classes)" in result.stdout


@pytest.mark.slow
def test_train_writes_everything_and_evaluate_agrees(tmp_path):
    out = tmp_path / "run"
    result = run_cli(
        "train",
        "--epochs",
        "2",
        "--augment",
        "--optimizer",
        "adam",
        "--schedule",
        "onecycle",
        "--out",
        str(out),
        "--no-progress",
        "--threads",
        "1",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = epoch_lines(result.stdout)
    assert len(lines) == 2
    for line in lines:
        assert "train loss" in line and "val acc" in line and "img/s" in line
        assert "test" not in line  # the test set is used once, after training
    acc = final_accuracy(result.stdout)
    assert acc > 80.0
    for name in ("best.safetensors", "last.safetensors", "log.csv", "log.jsonl", "run.json", "test_metrics.json"):
        assert (out / name).is_file(), f"{name} missing from {sorted(p.name for p in out.iterdir())}"
    for png in ("history.png", "filters.png", "confusion_matrix.png", "misclassified.png"):
        assert (out / png).read_bytes()[:8] == PNG_SIGNATURE, png
    assert any((out / "tensorboard").rglob("events.out.tfevents*"))
    rows = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2] and all(np.isfinite(r["val_loss"]) for r in rows)
    metrics = json.loads((out / "test_metrics.json").read_text())
    assert np.array(metrics["confusion_matrix"]).sum() == 1000
    assert metrics["test_accuracy"] * 100 == pytest.approx(acc, abs=0.006)

    evaluated = run_cli("evaluate", str(out / "last.safetensors"), "--threads", "1")
    assert evaluated.returncode == 0, evaluated.stdout + evaluated.stderr
    match = re.search(r"test accuracy\s+([0-9.]+)%", evaluated.stdout)
    assert match and float(match.group(1)) == pytest.approx(acc, abs=1e-9)
    assert "precision" in evaluated.stdout and "recall" in evaluated.stdout


@pytest.mark.slow
def test_resume_matches_uninterrupted_run(tmp_path):
    # Interrupt a 3-epoch run after epoch 2 by resuming from the epoch-2 checkpoint a straight run kept:
    # the resumed epoch 3 must reproduce the straight run's epoch 3 bit for bit.
    common = ("train", "--epochs", "3", "--augment", "--threads", "1", "--no-progress", "--seed", "5")
    straight = run_cli(*common, "--out", str(tmp_path / "a"))
    assert straight.returncode == 0, straight.stdout + straight.stderr
    epoch2 = sorted((tmp_path / "a").glob("epoch002*.safetensors"))
    assert epoch2, f"no epoch-2 checkpoint among {sorted(p.name for p in (tmp_path / 'a').iterdir())}"
    resumed = run_cli(*common, "--out", str(tmp_path / "c"), "--resume", str(epoch2[0]))
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr

    def numbers(line):  # everything but the timing columns
        return re.findall(r"(?:loss|acc) +[0-9.]+%?", line)

    assert [numbers(x) for x in epoch_lines(resumed.stdout)] == [numbers(x) for x in epoch_lines(straight.stdout)[2:]]
    a = pc.load(str(tmp_path / "a" / "last.safetensors"))
    c = pc.load(str(tmp_path / "c" / "last.safetensors"))
    model_keys = [k for k in a if k.startswith("model.")]
    assert model_keys
    for k in model_keys:
        assert np.array_equal(a[k].numpy(), c[k].numpy()), k
    assert final_accuracy(resumed.stdout) == final_accuracy(straight.stdout)


@pytest.mark.slow
def test_train_same_seed_same_result():
    args = ("train", "--epochs", "1", "--seed", "3", "--threads", "1", "--no-progress", "--augment")
    first, second = run_cli(*args), run_cli(*args)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr

    def losses_and_acc(stdout):
        return re.findall(r"train loss [0-9.]+|val acc +[0-9.]+%|final test accuracy [0-9.]+%", stdout)

    assert losses_and_acc(first.stdout) and losses_and_acc(first.stdout) == losses_and_acc(second.stdout)


# ------------------------------------------------------------------ other datasets and models, tiny files


@pytest.mark.slow
@pytest.mark.parametrize("model", ["lenet5", "resnet20"])
def test_train_cifar10_python_format(tmp_path, model):
    # 30 train / 6 test random images in CIFAR-10's python format: checks the 3-channel 32x32 path
    # (LeNet-5 at input_size 32, the CIFAR ResNet), reflected-shift + flip augmentation and evaluate.
    from test_datasets_real import make_cifar10_python

    make_cifar10_python(tmp_path / "data", np.random.default_rng(0), per_batch=6)
    out = tmp_path / "run"
    result = run_cli(
        "train",
        "--dataset",
        "cifar10",
        "--data-root",
        str(tmp_path / "data"),
        "--model",
        model,
        "--epochs",
        "1",
        "--batch-size",
        "8",
        "--augment",
        "--val-split",
        "0.2",
        "--threads",
        "1",
        "--no-progress",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "30 train" not in result.stdout and "6 test" in result.stdout  # 20% of 30 held out
    info = json.loads((out / "run.json").read_text())
    assert info["in_channels"] == 3 and info["image_size"] == 32 and info["classes"][0] == "airplane"
    evaluated = run_cli(
        "evaluate", str(out / "last.safetensors"), "--data-root", str(tmp_path / "data"), "--threads", "1"
    )
    assert evaluated.returncode == 0, evaluated.stdout + evaluated.stderr
    assert final_accuracy(result.stdout) == pytest.approx(
        float(re.search(r"test accuracy\s+([0-9.]+)%", evaluated.stdout).group(1)), abs=1e-9
    )


@pytest.mark.slow
def test_train_grayscale_idx_with_a_three_channel_model(tmp_path):
    # NiN is written for RGB: its first convolution is rebuilt for MNIST's one channel.
    from test_datasets_real import make_mnist

    make_mnist(tmp_path / "data", np.random.default_rng(1), n_train=30, n_test=10)
    result = run_cli(
        "train",
        "--dataset",
        "mnist",
        "--data-root",
        str(tmp_path / "data"),
        "--model",
        "nin",
        "--epochs",
        "1",
        "--batch-size",
        "10",
        "--optimizer",
        "adamw",
        "--schedule",
        "plateau",
        "--threads",
        "1",
        "--no-progress",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert 0.0 <= final_accuracy(result.stdout) <= 100.0


@pytest.mark.slow
def test_train_image_folder(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(2)
    for split, n in (("train", 12), ("test", 4)):
        for cls in ("circles", "squares"):
            for i in range(n):
                size = tuple(int(v) for v in rng.integers(20, 40, size=2))
                path = tmp_path / "imgs" / split / cls / f"{i}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(rng.integers(0, 256, size=size + (3,), dtype=np.uint8)).save(path)
    result = run_cli(
        "train",
        "--dataset",
        f"folder:{tmp_path / 'imgs'}",
        "--model",
        "lenet5",
        "--image-size",
        "32",
        "--epochs",
        "1",
        "--batch-size",
        "8",
        "--augment",
        "--threads",
        "1",
        "--no-progress",
        "--warmup",
        "1",
        "--schedule",
        "step",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "8 test" in result.stdout and "circles" in result.stdout


def test_alexnet_on_small_images_fails_clearly():
    result = run_cli("train", "--model", "alexnet", "--epochs", "1")
    assert result.returncode != 0
    assert "63x63" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_out_without_the_optional_extras_still_trains(tmp_path):
    # A plain `pip install .` has no matplotlib / TensorBoard: --out keeps checkpoints and logs and says
    # which figures it could not draw, instead of failing mid-run.
    code = (
        "import sys\n"
        "for name in ('matplotlib', 'tensorboardX', 'tensorboard'):\n"
        "    sys.modules[name] = None\n"
        "from pycnn.cli import main\n"
        f"main(['train', '--epochs', '1', '--threads', '1', '--no-progress', '--out', {str(tmp_path)!r}])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT_S, check=False, cwd=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'pip install "pycnn[plot]"' in result.stderr and 'pip install "pycnn[tensorboard]"' in result.stderr
    assert final_accuracy(result.stdout) > 50.0
    for name in ("last.safetensors", "log.csv", "test_metrics.json"):
        assert (tmp_path / name).is_file()
    assert not list(tmp_path.glob("*.png"))


@pytest.mark.parametrize(
    "args, message",
    [
        (("evaluate", "no-such-checkpoint.safetensors"), "No such file"),
        (("train", "--dataset", "cifar10", "--data-root", "{tmp}", "--epochs", "1"), "[CIFAR10] dataset not found"),
        (("train", "--device", "tpu", "--epochs", "1"), "expected 'cpu' or 'cuda'"),
    ],
)
def test_user_errors_print_a_message_not_a_traceback(tmp_path, args, message):
    result = run_cli(*(a.format(tmp=tmp_path) for a in args), cwd=tmp_path)
    assert result.returncode == 1
    assert f"pycnn {args[0]}: error:" in result.stderr and message in result.stderr
    assert "Traceback" not in result.stderr
