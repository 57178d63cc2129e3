"""Checkpoints (pycnn.train.checkpoint, ModelCheckpoint) and bitwise resume.

The key test trains LeNet-5 with dropout on 512 bundled digits (SGD with momentum, or Adam, and a cosine
schedule) for 4 epochs straight, and again for 2 epochs, then rebuilds everything from a different seed,
resumes from the checkpoint and trains 2 more: weights and history must be bitwise identical. One variant
does the resume in a fresh Python process. The rest: what a checkpoint file holds, the JSON round trip of
odd state (tuples, Counters, int keys, arrays), and a crash in the middle of a save.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import pycnn as pc
from pycnn.datasets import mnist_subset
from pycnn.train import Callback, EarlyStopping, ModelCheckpoint, fit, load_checkpoint, save_checkpoint

from helpers import SUBPROCESS_CWD

OPTIMIZERS = ["sgd"] + (["adam"] if hasattr(pc.optim, "Adam") else [])
LOADERS = ["generator"] + (["default"] if hasattr(pc.data.DataLoader, "state_dict") else [])
VOLATILE = ("epoch_time", "train_images_per_s")  # wall-clock timings differ between runs


def lenet5_dropout():
    nn = pc.nn
    return nn.Sequential(
        nn.Conv2d(1, 6, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(256, 120),
        nn.ReLU(),
        nn.Dropout(0.3),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, 10),
    )


class Snapshots(Callback):
    """The weights at every epoch end (before EarlyStopping's restore at fit end)."""

    def __init__(self):
        self.weights = {}

    def on_epoch_end(self, trainer):
        self.weights[trainer.epoch] = {k: v.numpy().copy() for k, v in trainer.model.state_dict().items()}


class Feeder(Callback):
    order = -20

    def __init__(self, key, values):
        self.key, self.values = key, values

    def on_epoch_end(self, trainer):
        trainer.logs[self.key] = self.values[trainer.epoch - 1]


def setup_run(seed, loader_seed, optimizer, checkpoint_dir, loader_kind="generator"):
    """Everything built fresh: (model, train loader, val loader, optimizer, scheduler, callbacks)."""
    pc.manual_seed(seed)
    data = mnist_subset("train")
    train_set, val_set = pc.data.Subset(data, range(512)), pc.data.Subset(data, range(512, 768))
    model = lenet5_dropout()
    if loader_kind == "generator":
        train = pc.data.DataLoader(
            train_set, batch_size=64, shuffle=True, generator=pc.Generator().manual_seed(loader_seed)
        )
    else:  # seeded from pc.default_generator() at construction; only its state_dict() can restore it
        train = pc.data.DataLoader(train_set, batch_size=64, shuffle=True)
    val = pc.data.DataLoader(val_set, batch_size=128)
    if optimizer == "sgd":
        opt = pc.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    else:
        opt = pc.optim.Adam(model.parameters(), lr=2e-3)
    sched = pc.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4)
    # val_score peaks at epoch 2, so EarlyStopping's best weights come from before the resume and must
    # travel in the checkpoint; ModelCheckpoint's top-k bookkeeping must too.
    callbacks = [
        Feeder("val_score", [0.1, 0.9, 0.5, 0.3]),
        EarlyStopping(monitor="val_score", patience=10, verbose=False),
        ModelCheckpoint(checkpoint_dir, save_top_k=2),
        Snapshots(),
    ]
    return model, train, val, opt, sched, callbacks


def run(seed, loader_seed, optimizer, checkpoint_dir, epochs, resume=None, loader_kind="generator"):
    model, train, val, opt, sched, callbacks = setup_run(seed, loader_seed, optimizer, checkpoint_dir, loader_kind)
    if resume is not None:
        pc.randn(100)  # stir the global generator further: the checkpoint must set it back
    history = fit(
        model, train, val, pc.nn.CrossEntropyLoss(), opt, epochs, scheduler=sched, callbacks=callbacks, resume=resume
    )
    return model, history, callbacks[-1].weights


def stable(history):
    return [{k: v for k, v in logs.items() if k not in VOLATILE} for logs in history]


def assert_same_weights(a, b):
    assert list(a) == list(b)
    for name in a:
        assert np.array_equal(a[name], b[name]), name


@pytest.mark.parametrize("loader_kind", LOADERS)
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_resume_is_bitwise_identical_to_a_straight_run(tmp_path, optimizer, loader_kind):
    straight_model, straight_history, straight_epochs = run(
        0, 7, optimizer, tmp_path / "straight", 4, loader_kind=loader_kind
    )
    _, _first_history, first_epochs = run(0, 7, optimizer, tmp_path / "resumed", 2, loader_kind=loader_kind)
    assert_same_weights(first_epochs[2], straight_epochs[2])

    last = tmp_path / "resumed" / "last.safetensors"
    model, history, epochs = run(1234, 99, optimizer, tmp_path / "resumed", 4, resume=last, loader_kind=loader_kind)
    assert sorted(epochs) == [3, 4]  # only the two remaining epochs ran
    assert_same_weights(epochs[4], straight_epochs[4])  # the training itself, before any restore
    assert_same_weights(
        {k: v.numpy() for k, v in model.state_dict().items()},
        {k: v.numpy() for k, v in straight_model.state_dict().items()},
    )
    # and EarlyStopping restored the epoch-2 weights in both runs (its copy came through the checkpoint)
    assert_same_weights({k: v.numpy() for k, v in model.state_dict().items()}, straight_epochs[2])
    assert stable(history) == stable(straight_history) and len(history) == 4
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    # the same files, by name and content, in both checkpoint directories
    assert sorted(os.listdir(tmp_path / "resumed")) == sorted(os.listdir(tmp_path / "straight"))
    for name in os.listdir(tmp_path / "straight"):
        a, b = pc.load(tmp_path / "straight" / name), pc.load(tmp_path / "resumed" / name)
        assert_same_weights({k: v.numpy() for k, v in a.items()}, {k: v.numpy() for k, v in b.items()})


def test_resume_in_a_new_process(tmp_path):
    _, straight_history, straight_epochs = run(0, 7, "sgd", tmp_path / "straight", 4)
    run(0, 7, "sgd", tmp_path / "resumed", 2)
    script = f"""
import json, sys
sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
import pycnn as pc
from test_checkpoint_resume import run, stable
_, history, epochs = run(1234, 99, "sgd", {str(tmp_path / "resumed")!r}, 4,
                         resume={str(tmp_path / "resumed" / "last.safetensors")!r})
pc.save({{k: v for k, v in epochs[4].items()}}, {str(tmp_path / "epoch4.safetensors")!r})
print(json.dumps(stable(history)))
"""
    env = dict(os.environ, OMP_NUM_THREADS=str(pc.get_num_threads()))
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
        cwd=SUBPROCESS_CWD,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    history = json.loads(done.stdout.strip().splitlines()[-1])
    assert history == stable(straight_history)
    weights = {k: v.numpy() for k, v in pc.load(tmp_path / "epoch4.safetensors").items()}
    assert_same_weights(weights, straight_epochs[4])


# ------------------------------------------------------------------------------------------------ file contents


def small_setup(seed):
    pc.manual_seed(seed)
    model = pc.nn.Sequential(pc.nn.Linear(5, 4), pc.nn.BatchNorm1d(4), pc.nn.Linear(4, 3))
    opt = (
        pc.optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.95))
        if hasattr(pc.optim, "Adam")
        else pc.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    )
    sched = pc.optim.lr_scheduler.MultiStepLR(opt, milestones=[2, 2, 5], gamma=0.5)  # a Counter inside
    return model, opt, sched


def train_steps(model, opt, sched, steps, seed):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        x = pc.tensor(rng.standard_normal((6, 5)).astype(np.float32))
        y = pc.tensor(rng.integers(0, 3, 6))
        loss = pc.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()


def as_plain(value):
    """Optimizer/scheduler state with Tensors turned into arrays, for == comparisons."""
    if isinstance(value, pc.Tensor):
        return ("array", value.numpy().tolist())
    if isinstance(value, dict):
        return type(value), {k: as_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value), [as_plain(v) for v in value]
    return value


def test_checkpoint_file_layout_and_round_trip(tmp_path):
    model, opt, sched = small_setup(0)
    train_steps(model, opt, sched, 3, seed=1)
    extra = {
        "note": "lenet run",
        "array": np.arange(5, dtype=np.int64),
        "by_class": {3: (2.5, None)},
        "flag": True,
        "nan": float("nan"),
    }
    path = tmp_path / "ckpt.safetensors"
    save_checkpoint(path, model, opt, sched, epoch=3, extra=extra)

    tensors = pc.load(path)
    assert {"model.0.weight", "model.1.running_mean", "model.1.num_batches_tracked", "model.2.bias"} <= set(tensors)
    state_key = "exp_avg" if hasattr(pc.optim, "Adam") else "momentum_buffer"
    assert f"optimizer.state.0.{state_key}" in tensors and f"optimizer.state.5.{state_key}" in tensors
    np.testing.assert_array_equal(tensors["model.0.weight"].numpy(), model[0].weight.detach().numpy())
    doc = json.loads(pc.serialization.load_metadata(path)["checkpoint"])
    assert doc["epoch"] == 3 and doc["pycnn_version"] == pc.__version__
    assert "rng" in doc and "scheduler" in doc and "param_groups" in json.dumps(doc["optimizer"])

    fresh_model, fresh_opt, fresh_sched = small_setup(99)
    checkpoint = load_checkpoint(path, fresh_model, fresh_opt, fresh_sched)
    assert checkpoint["epoch"] == 3
    for (name, a), (_, b) in zip(model.state_dict().items(), fresh_model.state_dict().items()):
        assert np.array_equal(a.numpy(), b.numpy()), name
    assert as_plain(fresh_opt.state_dict()) == as_plain(opt.state_dict())
    assert as_plain(fresh_sched.state_dict()) == as_plain(sched.state_dict())
    assert type(fresh_sched.milestones).__name__ == "Counter"
    assert isinstance(fresh_opt.param_groups[0].get("betas", ()), tuple)
    got = checkpoint["extra"]
    assert got["note"] == "lenet run" and got["by_class"] == {3: (2.5, None)} and got["flag"] is True
    assert np.isnan(got["nan"])
    np.testing.assert_array_equal(got["array"].numpy(), np.arange(5))

    # both continue identically (the schedule passes the milestone at 5 here)
    train_steps(model, opt, sched, 3, seed=2)
    train_steps(fresh_model, fresh_opt, fresh_sched, 3, seed=2)
    for (name, a), (_, b) in zip(model.state_dict().items(), fresh_model.state_dict().items()):
        assert np.array_equal(a.numpy(), b.numpy()), name
    assert fresh_opt.param_groups[0]["lr"] == opt.param_groups[0]["lr"] == 0.01 * 0.5**3


def test_load_checkpoint_refuses_a_plain_state_dict(tmp_path):
    model, _, _ = small_setup(0)
    pc.save(model.state_dict(), tmp_path / "weights.safetensors")
    with pytest.raises(ValueError, match=r"^\[load_checkpoint\] .* is not a pycnn checkpoint"):
        load_checkpoint(tmp_path / "weights.safetensors", model)
    with pytest.raises(TypeError, match=r"^\[save_checkpoint\] cannot store 'extra.fn'"):
        save_checkpoint(tmp_path / "x.safetensors", model, extra={"fn": print})


# ------------------------------------------------------------------------------------------------ crash safety


def test_a_crash_mid_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    from pycnn import serialization

    original = serialization._write_tensor_bytes
    armed = {"on": False}

    def half_then_crash(f, arr):
        if not armed["on"]:
            return original(f, arr)
        raw = arr.reshape(-1).view(np.uint8)
        f.write(raw[: len(raw) // 2].data)
        raise OSError("disk full (simulated)")

    class Arm(Callback):
        def on_epoch_begin(self, trainer):
            armed["on"] = trainer.epoch == 2

    monkeypatch.setattr(serialization, "_write_tensor_bytes", half_then_crash)
    pc.manual_seed(0)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((40, 6)).astype(np.float32), rng.integers(0, 3, 40)
    model = pc.nn.Sequential(pc.nn.Linear(6, 8), pc.nn.ReLU(), pc.nn.Linear(8, 3))
    loader = pc.data.DataLoader(
        pc.data.TensorDataset(x, y), batch_size=8, shuffle=True, generator=pc.Generator().manual_seed(0)
    )
    opt = pc.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    snapshots = Snapshots()
    checkpoints = ModelCheckpoint(tmp_path, keep_last_k=1, monitor="train_loss", filename="epoch{epoch}.safetensors")
    with pytest.raises(OSError, match="disk full"):
        fit(model, loader, None, pc.nn.CrossEntropyLoss(), opt, 3, callbacks=[Arm(), snapshots, checkpoints])

    # epoch 1's files are all there (keep_last_k=1 did not delete epoch1 before epoch2 was on disk),
    # no temporary file is left, and the previous checkpoint loads with the epoch-1 weights
    assert sorted(os.listdir(tmp_path)) == ["best.safetensors", "epoch1.safetensors", "last.safetensors"]
    assert [e["epoch"] for e in checkpoints.saved] == [1]
    for name in ("last.safetensors", "epoch1.safetensors"):
        checkpoint = load_checkpoint(tmp_path / name)
        assert checkpoint["epoch"] == 1
        for key, value in snapshots.weights[1].items():
            assert np.array_equal(checkpoint["model"][key].numpy(), value), key

    # and training resumes from it once the disk is fine again
    armed["on"] = False
    monkeypatch.setattr(serialization, "_write_tensor_bytes", original)
    history = fit(
        model,
        loader,
        None,
        pc.nn.CrossEntropyLoss(),
        opt,
        3,
        callbacks=[ModelCheckpoint(tmp_path, keep_last_k=1, monitor="train_loss", filename="epoch{epoch}.safetensors")],
        resume=tmp_path / "last.safetensors",
    )
    assert [logs["epoch"] for logs in history] == [1, 2, 3]
    assert sorted(os.listdir(tmp_path)) == ["best.safetensors", "epoch3.safetensors", "last.safetensors"]


def test_load_checkpoint_into_a_trainer(tmp_path):
    model, train, val, opt, sched, callbacks = setup_run(0, 7, "sgd", tmp_path / "a")
    fit(model, train, val, pc.nn.CrossEntropyLoss(), opt, 2, scheduler=sched, callbacks=callbacks)
    model, train, val, opt, sched, callbacks = setup_run(5, 8, "sgd", tmp_path / "b")
    trainer = pc.train.Trainer(
        model, train, val, pc.nn.CrossEntropyLoss(), opt, 4, scheduler=sched, callbacks=callbacks
    )
    checkpoint = load_checkpoint(tmp_path / "a" / "last.safetensors", trainer=trainer)
    assert (trainer.epoch, trainer.start_epoch, trainer.global_step) == (2, 3, 16)  # 512 / 64 = 8 steps an epoch
    assert [logs["epoch"] for logs in trainer.history] == [1, 2] and trainer.history == checkpoint["history"]
    early_stopping = next(cb for cb in trainer.callbacks if isinstance(cb, EarlyStopping))
    assert (early_stopping.best, early_stopping.best_epoch) == (0.9, 2)  # Feeder's val_score peaks at epoch 2
    assert sched.last_epoch == 2 and opt.param_groups[0]["lr"] == checkpoint["optimizer"]["param_groups"][0]["lr"]


# ------------------------------------------------------------------------------- issue 11: damaged files


def _with_document(path, out, document=None, **metadata):
    """A copy of the checkpoint at `path` with its JSON document (or other metadata entries) replaced."""
    meta = dict(pc.serialization.load_metadata(path), **metadata)
    if document is not None:
        meta["checkpoint"] = document
    pc.save(pc.load(path), out, metadata=meta)
    return out


@pytest.mark.parametrize(
    "case,document,metadata,match",
    [
        ("deep-json", "[" * 100_000 + "]" * 100_000, {}, "nests too deeply"),
        ("deep-unpack", "[" * 900 + "]" * 900, {}, "nests too deeply|is a list"),
        ("bad-json", "{nope", {}, "document is invalid"),
        ("missing-tensor", '{"extra": {"__tensor__": "nope"}}', {}, "tensor 'nope', which the file does not hold"),
        ("unhashable-key", '{"extra": {"__items__": [[[[1]], 2]]}}', {}, "document is invalid"),
        ("bad-items", '{"extra": {"__items__": [1]}}', {}, r"not \[key, value\] pairs"),
        ("not-object", "[1, 2]", {}, "is a list, not an object"),
        ("bad-history", '{"history": 5}', {}, "'history' is a int"),
        ("bad-callbacks", '{"callbacks": [1]}', {}, "a callbacks entry is 1"),
        ("bad-version", None, {"format_version": "x" * 5000}, "format_version 'xxx.* is not a number"),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 40 else "",
)
def test_damaged_checkpoints_raise_value_error_naming_the_file(tmp_path, case, document, metadata, match):
    # These raised RecursionError, KeyError, TypeError or a ValueError naming no file before (issue 11).
    model, opt, sched = small_setup(0)
    save_checkpoint(tmp_path / "good.safetensors", model, opt, sched, epoch=1)
    path = _with_document(tmp_path / "good.safetensors", tmp_path / f"{case}.safetensors", document, **metadata)
    with pytest.raises(ValueError, match=match) as info:
        load_checkpoint(path)
    assert str(info.value).startswith("[load_checkpoint] ") and str(path) in str(info.value)


_KILLED_CHECKPOINT = """
import os, signal, sys
import numpy as np
import pycnn as pc
from pycnn import serialization
from pycnn.train import save_checkpoint

def half_then_sigkill(f, arr):
    raw = arr.reshape(-1).view(np.uint8)
    f.write(raw[: len(raw) // 2].data)
    os.kill(os.getpid(), signal.SIGKILL)

serialization._write_tensor_bytes = half_then_sigkill
save_checkpoint(sys.argv[1], pc.nn.Linear(5, 4), epoch=9)
"""


@pytest.mark.skipif(os.name != "posix", reason="kill -9 and pid liveness are POSIX")
def test_kill_9_during_save_checkpoint_keeps_the_previous_one_and_leaves_no_orphan(tmp_path):
    model, opt, sched = small_setup(0)
    path = tmp_path / "last.safetensors"
    save_checkpoint(path, model, opt, sched, epoch=1)
    done = subprocess.run(
        [sys.executable, "-c", _KILLED_CHECKPOINT, str(path)], cwd=SUBPROCESS_CWD, timeout=120, check=False
    )
    assert done.returncode == -9
    (orphan,) = set(os.listdir(tmp_path)) - {path.name}
    assert orphan.startswith(".last.safetensors.pycnn-save-") and orphan.endswith(".tmp")
    assert load_checkpoint(path, *small_setup(1))["epoch"] == 1  # the previous checkpoint is intact
    save_checkpoint(path, model, opt, sched, epoch=2)
    assert os.listdir(tmp_path) == [path.name]
    assert load_checkpoint(path)["epoch"] == 2
