"""Monitoring callbacks and figures of pycnn.train (loggers.py, plots.py).

The callbacks are driven by `fake_fit`, a hand-written training loop over LeNet-5 on a few hundred bundled
MNIST digits that exposes the Trainer's attributes on a SimpleNamespace and records what it fed (step
losses, logs, parameters and last-batch gradients). The outputs are then read back independently: event
files with TensorBoard's own EventAccumulator, CSV with the csv module, PNGs with Pillow.
"""

import csv
import io
import json
import os
import re
import subprocess
import sys
import types

import numpy as np
import pytest

import pycnn as pc
import pycnn.train as pt
from pycnn.datasets import mnist_subset
from pycnn.train.plots import _atomic_open

from helpers import SUBPROCESS_CWD

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TB_BACKENDS = ("tensorboardX", "tensorboard")


# ----------------------------------------------------------------------------------------------------------
# A hand-written loop with the Trainer's interface
# ----------------------------------------------------------------------------------------------------------


def fake_fit(callbacks, epochs=2, n_train=160, n_val=64, batch_size=64, seed=0):
    """Train LeNet-5 with SGD, calling the callbacks' hooks where the Trainer does.

    160 training digits in batches of 64 give batches of 64, 64 and 32 (so sample weighting matters).
    The learning rate halves every epoch. Returns (trainer namespace, record of what was fed).
    """
    pc.manual_seed(seed)
    model = pc.models.lenet5()
    data = mnist_subset("train")
    train_loader = pc.data.DataLoader(pc.data.Subset(data, list(range(n_train))), batch_size=batch_size)
    val_loader = pc.data.DataLoader(pc.data.Subset(data, list(range(n_train, n_train + n_val))), batch_size=batch_size)
    opt = pc.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = pc.nn.CrossEntropyLoss()
    t = types.SimpleNamespace(
        model=model,
        optimizer=opt,
        scheduler=None,
        loss_fn=loss_fn,
        train_loader=train_loader,
        val_loader=val_loader,
        epochs=epochs,
        device="cpu",
        epoch=0,
        global_step=0,
        batch_index=0,
        batch=None,
        outputs=None,
        loss=None,
        batch_logs={},
        logs={},
        history=[],
        stop_training=False,
        stop_reason=None,
    )
    record = types.SimpleNamespace(step_loss={}, step_lr={}, step_sizes={}, params={}, grads={})

    def call(hook):
        for cb in callbacks:
            getattr(cb, hook)(t)

    call("on_fit_begin")
    for epoch in range(1, epochs + 1):
        t.epoch = epoch
        opt.param_groups[0]["lr"] = 0.05 * 0.5 ** (epoch - 1)
        call("on_epoch_begin")
        model.train()
        loss_sum = correct = seen = 0
        for i, (x, y) in enumerate(train_loader):
            t.batch_index, t.batch = i, (x, y)
            call("on_batch_begin")
            opt.zero_grad()
            out = model(x)
            loss = loss_fn(out, y)
            loss.backward()
            t.outputs, t.loss = out.detach(), loss.item()
            right = int((out.argmax(1).numpy() == y.numpy()).sum())
            t.batch_logs = {"loss": t.loss, "acc": right / len(y), "lr": opt.param_groups[0]["lr"]}
            call("on_after_backward")
            if i == len(train_loader) - 1:
                record.grads[epoch] = {n: p.grad.numpy().copy() for n, p in model.named_parameters()}
            opt.step()
            t.global_step += 1
            call("on_batch_end")
            record.step_loss[t.global_step] = t.loss
            record.step_lr[t.global_step] = t.batch_logs["lr"]
            record.step_sizes[t.global_step] = len(y)
            loss_sum, correct, seen = loss_sum + t.loss * len(y), correct + right, seen + len(y)
        # Gradients are gone by epoch end (set_to_none), as after a Trainer's zero_grad: the TensorBoard
        # logger must have captured them at the last on_after_backward.
        opt.zero_grad()
        model.eval()
        val_loss = val_right = val_seen = 0
        with pc.no_grad():
            for x, y in val_loader:
                out = model(x)
                val_loss += loss_fn(out, y).item() * len(y)
                val_right += int((out.argmax(1).numpy() == y.numpy()).sum())
                val_seen += len(y)
        t.logs = {
            "epoch": epoch,
            "train_loss": loss_sum / seen,
            "train_acc": correct / seen,
            "val_loss": val_loss / val_seen,
            "val_acc": val_right / val_seen,
            "lr": opt.param_groups[0]["lr"],
            "epoch_time": 0.37 + 1.1 * epoch,
            "train_images_per_s": 1234.5 * epoch,
        }
        record.params[epoch] = {n: p.detach().numpy().copy() for n, p in model.named_parameters()}
        call("on_epoch_end")
        t.history.append(dict(t.logs))
    call("on_fit_end")
    return t, record


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One fake fit with every file-writing callback attached (both TensorBoard backends)."""
    out = tmp_path_factory.mktemp("monitoring")
    callbacks = {
        "csv": pt.CSVLogger(out / "logs" / "metrics.csv"),
        "json": pt.JSONLogger(out / "logs" / "metrics.jsonl", per_step=True),
        "figures": pt.FigureWriter(out / "figures"),
    }
    for backend in TB_BACKENDS:
        callbacks[backend] = pt.TensorBoardLogger(out / "tb" / backend, log_every_n_steps=2, backend=backend)
    trainer, record = fake_fit(list(callbacks.values()))
    return types.SimpleNamespace(out=out, trainer=trainer, record=record, callbacks=callbacks)


# ----------------------------------------------------------------------------------------------------------
# TensorBoard
# ----------------------------------------------------------------------------------------------------------


def _accumulator(log_dir):
    ea_module = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    ea = ea_module.EventAccumulator(
        str(log_dir), size_guidance={ea_module.SCALARS: 0, ea_module.HISTOGRAMS: 0, ea_module.IMAGES: 0}
    )  # 0: keep every event
    ea.Reload()
    return ea


def _f32(x):
    return float(np.float32(x))  # TensorBoard stores scalars as float32


def _minmax(a):
    lo, hi = a.min(), a.max()
    return (a - lo) / (hi - lo)


@pytest.mark.parametrize("backend", TB_BACKENDS)
def test_tensorboard_event_file(run, backend):
    PIL_Image = pytest.importorskip("PIL.Image")
    ea = _accumulator(run.out / "tb" / backend)
    tags = ea.Tags()
    rec, history = run.record, run.trainer.history

    # Per-step scalars: steps 2, 4, 6 of the 6 steps (3 batches x 2 epochs), exactly the values fed.
    loss_steps = {e.step: e.value for e in ea.Scalars("train/loss_step")}
    assert loss_steps == {s: _f32(rec.step_loss[s]) for s in (2, 4, 6)}
    assert {e.step: e.value for e in ea.Scalars("train/lr")} == {s: _f32(rec.step_lr[s]) for s in (2, 4, 6)}
    assert rec.step_lr[2] != rec.step_lr[6]  # the lr really changed between epochs

    # Per-epoch scalars, x axis = epoch.
    epoch_tags = {
        "train_loss": "train/loss",
        "train_acc": "train/acc",
        "val_loss": "val/loss",
        "val_acc": "val/acc",
        "lr": "lr",
        "train_images_per_s": "throughput/img_per_s",
        "epoch_time": "time/epoch_s",
    }
    for key, tag in epoch_tags.items():
        assert {e.step: e.value for e in ea.Scalars(tag)} == {h["epoch"]: _f32(h[key]) for h in history}, tag
    assert sorted(tags["scalars"]) == sorted(["train/loss_step", "train/lr", *epoch_tags.values()])

    # Histograms of every parameter and of its last-batch gradient (gone by on_epoch_end), each epoch.
    names = [n for n, _ in run.trainer.model.named_parameters()]
    assert len(names) == 10
    for name in names:
        for kind, source in (("params", rec.params), ("grads", rec.grads)):
            events = ea.Histograms(f"{kind}/{name}")
            assert [e.step for e in events] == [1, 2]
            for e in events:
                values = source[e.step][name].astype(np.float64).reshape(-1)
                h = e.histogram_value
                assert h.num == values.size
                assert h.min == pytest.approx(values.min(), rel=1e-6, abs=1e-9)
                assert h.max == pytest.approx(values.max(), rel=1e-6, abs=1e-9)
                assert h.sum == pytest.approx(values.sum(), rel=1e-4, abs=1e-6)
                assert h.sum_squares == pytest.approx(values @ values, rel=1e-4)
    assert set(tags["histograms"]) == {f"{k}/{n}" for k in ("params", "grads") for n in names}

    # The conv1 filter grid: 6 filters of 5x5 -> 3 columns x 2 rows of 5*8 px cells with 2 px padding.
    images = ea.Images("filters/features.0")
    assert [im.step for im in images] == [1, 2]
    last = images[-1]
    assert (last.width, last.height) == (3 * (5 * 8 + 2) + 2, 2 * (5 * 8 + 2) + 2)
    png = PIL_Image.open(io.BytesIO(last.encoded_image_string))
    pixels = np.asarray(png.convert("RGB"), dtype=np.float64)
    assert pixels.shape == (last.height, last.width, 3)
    weight = rec.params[2]["features.0.weight"]
    for f in range(6):
        row, col = divmod(f, 3)
        top, left = 2 + row * 42, 2 + col * 42
        cell = pixels[top : top + 40, left : left + 40, 0]
        expected = np.kron(_minmax(weight[f, 0].astype(np.float64)), np.ones((8, 8))) * 255
        np.testing.assert_allclose(cell, expected, atol=1.0)
        assert np.array_equal(pixels[top : top + 40, left : left + 40, 1], cell)  # gray: R == G == B


def test_tensorboard_backend_choice_and_missing(monkeypatch, tmp_path):
    # Without Pillow, tensorboardX cannot encode images: 'auto' then takes the tensorboard package's writer
    # (its own PNG encoder), unless images are off.
    with monkeypatch.context() as m:
        m.setitem(sys.modules, "PIL", None)
        assert pt.TensorBoardLogger(tmp_path, images=True).backend == "tensorboard"
        assert pt.TensorBoardLogger(tmp_path, images=False).backend == "tensorboardX"
    # tensorboardX hidden: 'auto' falls back to the tensorboard package's writer.
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    assert pt.TensorBoardLogger(tmp_path).backend == "tensorboard"
    with pytest.raises(ImportError, match=r"pycnn\[tensorboard\]"):
        pt.TensorBoardLogger(tmp_path, backend="tensorboardX")
    # Neither: a clear ImportError naming the extra.
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    with pytest.raises(ImportError, match=r"pip install \"pycnn\[tensorboard\]\""):
        pt.TensorBoardLogger(tmp_path)


def test_tensorboard_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match=r"^\[TensorBoardLogger\] log_every_n_steps"):
        pt.TensorBoardLogger(tmp_path, log_every_n_steps=0)
    with pytest.raises(ValueError, match=r"^\[TensorBoardLogger\] backend"):
        pt.TensorBoardLogger(tmp_path, backend="tensorflow")


# ----------------------------------------------------------------------------------------------------------
# CSV and JSON Lines
# ----------------------------------------------------------------------------------------------------------


def _read_csv(path):
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        return header, [dict(zip(header, row)) for row in reader]


def test_csv_rows_equal_logs(run):
    header, rows = _read_csv(run.out / "logs" / "metrics.csv")
    history = run.trainer.history
    assert header == list(history[0])
    assert len(rows) == len(history) == 2
    for row, logs in zip(rows, history):
        assert int(row["epoch"]) == logs["epoch"]
        for key, value in logs.items():
            assert float(row[key]) == value, key  # repr round-trips floats exactly


def _logs(rng, epoch, keys):
    return {"epoch": epoch, **{k: float(rng.uniform(0.01, 3.0)) for k in keys}}


def test_csv_header_grows_and_append(tmp_path):
    rng = np.random.default_rng(1)
    path = tmp_path / "sub" / "m.csv"
    fed = [
        _logs(rng, 1, ["train_loss"]),
        _logs(rng, 2, ["train_loss", "val_loss"]),
        _logs(rng, 3, ["train_loss", "val_loss"]),
    ]
    logger = pt.CSVLogger(path)
    t = types.SimpleNamespace(logs=None)
    logger.on_fit_begin(t)
    for logs in fed:
        t.logs = logs
        logger.on_epoch_end(t)
    header, rows = _read_csv(path)
    assert header == ["epoch", "train_loss", "val_loss"]
    assert rows[0]["val_loss"] == ""  # the first epoch had no validation
    for row, logs in zip(rows, fed):
        assert {k: float(v) for k, v in row.items() if v != ""} == logs

    # append=True (a resume) keeps the rows and the header, and can still widen it.
    more = [_logs(rng, 4, ["train_loss", "val_loss"]), _logs(rng, 5, ["train_loss", "val_loss", "lr"])]
    logger = pt.CSVLogger(path, append=True)
    logger.on_fit_begin(t)
    for logs in more:
        t.logs = logs
        logger.on_epoch_end(t)
    header, rows = _read_csv(path)
    assert header == ["epoch", "train_loss", "val_loss", "lr"]
    assert len(rows) == 5
    for row, logs in zip(rows, fed + more):
        assert {k: float(v) for k, v in row.items() if v != ""} == logs
    assert [p.name for p in path.parent.iterdir()] == ["m.csv"]  # no temporary file left behind

    # append=False starts afresh.
    logger = pt.CSVLogger(path)
    logger.on_fit_begin(t)
    t.logs = fed[0]
    logger.on_epoch_end(t)
    header, rows = _read_csv(path)
    assert header == ["epoch", "train_loss"] and len(rows) == 1


def test_csv_and_json_resume_drop_redone_epochs(tmp_path):
    # A run logged epochs 1-3, crashed after the checkpoint of epoch 2; the Trainer resumes at epoch 3.
    rng = np.random.default_rng(4)
    fed = [_logs(rng, e, ["train_loss", "val_loss"]) for e in (1, 2, 3)]
    redo = _logs(rng, 3, ["train_loss", "val_loss"])
    loggers = [pt.CSVLogger(tmp_path / "m.csv"), pt.JSONLogger(tmp_path / "m.jsonl")]
    t = types.SimpleNamespace(logs=None, start_epoch=1)
    for logger in loggers:
        logger.on_fit_begin(t)
        for logs in fed:
            t.logs = logs
            logger.on_epoch_end(t)
        logger.on_fit_end(t)
    with open(tmp_path / "m.jsonl", "a") as f:
        f.write('{"epoch": 4, "train_lo')  # the crash cut a line short

    t = types.SimpleNamespace(logs=redo, start_epoch=3)
    for logger in [pt.CSVLogger(tmp_path / "m.csv"), pt.JSONLogger(tmp_path / "m.jsonl")]:  # append=False
        logger.on_fit_begin(t)
        logger.on_epoch_end(t)
        logger.on_fit_end(t)
    _, rows = _read_csv(tmp_path / "m.csv")
    assert [{k: float(v) for k, v in row.items()} for row in rows] == fed[:2] + [redo]
    lines = (tmp_path / "m.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == fed[:2] + [redo]


def test_json_lines_equal_logs(run):
    lines = (run.out / "logs" / "metrics.jsonl").read_text().splitlines()
    objects = [json.loads(line) for line in lines]
    epochs = [o for o in objects if "step" not in o]
    steps = [o for o in objects if "step" in o]
    assert epochs == run.trainer.history
    rec = run.record
    assert [o["step"] for o in steps] == sorted(rec.step_loss) == list(range(1, 7))
    assert [o["loss"] for o in steps] == [rec.step_loss[s] for s in range(1, 7)]
    assert [o["lr"] for o in steps] == [rec.step_lr[s] for s in range(1, 7)]
    assert [o["epoch"] for o in steps] == [1, 1, 1, 2, 2, 2]
    assert [o["batch"] for o in steps] == [0, 1, 2, 0, 1, 2]
    # Order in the file: an epoch's steps, then its summary.
    assert ["step" in o for o in objects] == [True] * 3 + [False] + [True] * 3 + [False]


def test_json_append_and_non_finite(tmp_path):
    rng = np.random.default_rng(2)
    path = tmp_path / "m.jsonl"
    t = types.SimpleNamespace(logs=None)
    first = _logs(rng, 1, ["train_loss", "val_acc"])
    logger = pt.JSONLogger(path)
    logger.on_fit_begin(t)
    t.logs = first
    logger.on_epoch_end(t)
    # Flushed at the epoch end: readable before on_fit_end.
    assert [json.loads(x) for x in path.read_text().splitlines()] == [first]
    logger.on_fit_end(t)

    second = {"epoch": 2, "train_loss": float("nan"), "lr": np.float32(0.5)}
    logger = pt.JSONLogger(path, append=True)
    logger.on_fit_begin(t)
    t.logs = second
    logger.on_epoch_end(t)
    logger.on_fit_end(t)
    objects = [json.loads(x) for x in path.read_text().splitlines()]
    assert objects == [first, {"epoch": 2, "train_loss": None, "lr": 0.5}]

    # append=True after a line cut short: the next object starts on a line of its own.
    with open(path, "a") as f:
        f.write('{"epoch": 3, "tr')
    logger = pt.JSONLogger(path, append=True)
    t.logs = {"epoch": 3, "train_loss": 0.25}
    logger.on_epoch_end(t)
    logger.close()
    assert json.loads(path.read_text().splitlines()[-1]) == {"epoch": 3, "train_loss": 0.25}


def test_json_resume_drops_a_line_nested_too_deeply(tmp_path):
    # json.loads recursed past the interpreter's limit on such a line: the resume raised RecursionError.
    path = tmp_path / "m.jsonl"
    first = {"epoch": 1, "train_loss": 0.5}
    path.write_text(json.dumps(first) + "\n" + "[" * 100_000 + "\n" + json.dumps({"epoch": 2}) + "\n")
    t = types.SimpleNamespace(logs={"epoch": 2, "train_loss": 0.25}, start_epoch=2)
    logger = pt.JSONLogger(path)
    logger.on_fit_begin(t)
    logger.on_epoch_end(t)
    logger.on_fit_end(t)
    assert [json.loads(line) for line in path.read_text().splitlines()] == [first, t.logs]


def test_csv_resume_of_a_file_csv_cannot_read_raises_value_error(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("epoch,train_loss\n1," + "9" * 200_000 + "\n")  # past csv.field_size_limit()
    t = types.SimpleNamespace(logs={"epoch": 2, "train_loss": 0.25}, start_epoch=2)
    with pytest.raises(ValueError, match=r"^\[CSVLogger\] cannot continue the log .*m\.csv"):
        pt.CSVLogger(path).on_fit_begin(t)


def test_loggers_name_themselves_and_the_file_when_it_cannot_be_created(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    for logger in (pt.CSVLogger(blocker / "m.csv"), pt.JSONLogger(blocker / "m.jsonl")):
        with pytest.raises(OSError, match=rf"^\[{type(logger).__name__}\] cannot .*{re.escape(str(blocker))}"):
            logger.on_fit_begin(types.SimpleNamespace(logs=None, start_epoch=1))
    with pytest.raises(TypeError, match=r"^\[JSONLogger\] expected per_step to be a bool"):
        pt.JSONLogger(tmp_path / "m.jsonl", per_step="yes")


_KILLED_WRITE = """
import os, signal, sys
from pycnn.train.plots import _atomic_open

with _atomic_open(sys.argv[1], "w") as f:
    f.write("half a log")
    f.flush()
    os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.skipif(os.name != "posix", reason="kill -9 and pid liveness are POSIX")
def test_kill_9_during_an_atomic_write_leaves_a_temporary_the_next_write_removes(tmp_path):
    # The temporaries of figures and log rewrites are named like pycnn.save's: the next write cleans up.
    path = tmp_path / "m.csv"
    path.write_text("before\n")
    done = subprocess.run(
        [sys.executable, "-c", _KILLED_WRITE, str(path)], cwd=SUBPROCESS_CWD, timeout=120, check=False
    )
    assert done.returncode == -9
    (orphan,) = set(os.listdir(tmp_path)) - {path.name}
    assert orphan.startswith(".m.csv.pycnn-save-") and orphan.endswith(".tmp")
    assert path.read_text() == "before\n"
    with _atomic_open(path, "w") as f:
        f.write("after\n")
    assert os.listdir(tmp_path) == [path.name]
    assert path.read_text() == "after\n"


# ----------------------------------------------------------------------------------------------------------
# Progress bar
# ----------------------------------------------------------------------------------------------------------

SUMMARY = re.compile(
    r"^epoch (\d+)/2  train loss (\d+\.\d{4})  train acc (\d+\.\d{2})%  "
    r"val loss (\d+\.\d{4})  val acc (\d+\.\d{2})%  lr ([\d.e-]+)  ([\d,]+) img/s  "
    r"(\d+\.\d) s$"
)


def test_progress_bar_summary_and_postfix(capsys):
    trainer, rec = fake_fit([pt.ProgressBar(leave=True, mininterval=0.0)])
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) == 2
    for line, logs in zip(lines, trainer.history):
        m = SUMMARY.match(line)
        assert m, line
        assert int(m.group(1)) == logs["epoch"]
        assert float(m.group(2)) == pytest.approx(logs["train_loss"], abs=5e-5)
        assert float(m.group(3)) == pytest.approx(100 * logs["train_acc"], abs=5e-3)
        assert float(m.group(4)) == pytest.approx(logs["val_loss"], abs=5e-5)
        assert float(m.group(5)) == pytest.approx(100 * logs["val_acc"], abs=5e-3)
        assert float(m.group(6)) == pytest.approx(logs["lr"])
        assert int(m.group(7).replace(",", "")) == round(logs["train_images_per_s"])
        assert float(m.group(8)) == pytest.approx(logs["epoch_time"], abs=0.05)

    # The bar (stderr) ends each epoch on the running sample-weighted mean loss (batches of 64, 64, 32).
    for epoch, steps in ((1, (1, 2, 3)), (2, (4, 5, 6))):
        mean = sum(rec.step_loss[s] * rec.step_sizes[s] for s in steps) / 160
        assert f"epoch {epoch}/2" in captured.err
        assert f"loss={mean:.4f}" in captured.err
    assert "acc=" in captured.err and "3/3" in captured.err

    fake_fit([pt.ProgressBar(disable=True)], epochs=1)
    captured = capsys.readouterr()
    assert "loss=" not in captured.err
    assert re.match(SUMMARY.pattern.replace("/2", "/1"), captured.out.strip())


# ----------------------------------------------------------------------------------------------------------
# Figures
# ----------------------------------------------------------------------------------------------------------


def _check_png(path, min_size, max_size):
    Image = pytest.importorskip("PIL.Image")
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    with Image.open(path) as im:
        im.verify()
    with Image.open(path) as im:
        assert im.format == "PNG"
        w, h = im.size
        assert min_size[0] <= w <= max_size[0] and min_size[1] <= h <= max_size[1], (w, h)
        return np.asarray(im.convert("RGB"))


def test_plot_history(run, tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "h.png"
    assert pt.plot_history(run.trainer.history, path) == str(path)
    _check_png(path, (1000, 400), (1000, 400))  # 10 x 4 inches at 100 dpi
    # Deterministic: the same history gives the same bytes.
    pt.plot_history(run.trainer.history, tmp_path / "h2.png")
    assert (tmp_path / "h2.png").read_bytes() == path.read_bytes()
    # Train-only history (no validation) works too.
    pt.plot_history([{"epoch": 1, "train_loss": 1.2, "train_acc": 0.6}], tmp_path / "h3.png")
    _check_png(tmp_path / "h3.png", (1000, 400), (1000, 400))
    with pytest.raises(ValueError, match=r"^\[plot_history\]"):
        pt.plot_history([], tmp_path / "h4.png")


def test_figure_writer(run):
    fig_dir = run.out / "figures"
    assert sorted(p.name for p in fig_dir.iterdir()) == ["filters.png", "history.png"]
    _check_png(fig_dir / "history.png", (1000, 400), (1000, 400))
    _check_png(fig_dir / "filters.png", (150, 150), (1000, 1000))


@pytest.mark.parametrize("normalize", [False, True])
def test_plot_confusion_matrix(tmp_path, normalize):
    pytest.importorskip("matplotlib")
    rng = np.random.default_rng(3)
    cm = rng.integers(0, 50, size=(10, 10)) + np.diag(rng.integers(100, 200, size=10))
    path = tmp_path / "cm.png"
    pt.plot_confusion_matrix(pc.tensor(cm), [f"digit {i}" for i in range(10)], path, normalize=normalize)
    pixels = _check_png(path, (400, 400), (2000, 2000))
    assert pixels.std() > 10  # not a blank image
    with pytest.raises(ValueError, match=r"^\[plot_confusion_matrix\]"):
        pt.plot_confusion_matrix(cm[:3], None, tmp_path / "bad.png")
    with pytest.raises(ValueError, match=r"^\[plot_confusion_matrix\]"):
        pt.plot_confusion_matrix(cm, ["a", "b"], tmp_path / "bad.png")


@pytest.mark.parametrize("in_channels", [1, 3, 4])
def test_plot_filters(tmp_path, in_channels):
    pytest.importorskip("matplotlib")
    rng = np.random.default_rng(in_channels)
    path = tmp_path / f"filters{in_channels}.png"
    if in_channels == 1:
        pt.plot_filters(pc.models.lenet5(), path)  # a model: its first Conv2d
    else:
        pt.plot_filters(rng.standard_normal((16, in_channels, 3, 3)).astype(np.float32), path)
    pixels = _check_png(path, (150, 150), (1000, 1000)).astype(int)
    colour = np.abs(pixels[..., 0] - pixels[..., 1]).max() + np.abs(pixels[..., 1] - pixels[..., 2]).max()
    # RGB filters give coloured pixels; gray ones (C = 1, or channel 0 of C = 4) only gray (and the
    # default black title).
    assert (colour > 50) if in_channels == 3 else (colour == 0)
    with pytest.raises(ValueError, match=r"^\[plot_filters\]"):
        pt.plot_filters(pc.nn.Sequential(pc.nn.Linear(3, 2)), tmp_path / "none.png")
    with pytest.raises(ValueError, match=r"^\[plot_filters\]"):
        pt.plot_filters(np.ones((3, 3)), tmp_path / "none.png")


def test_filter_grid_layout():
    from pycnn.train.plots import _filter_grid

    rng = np.random.default_rng(5)
    w = rng.standard_normal((5, 3, 2, 3))
    grid = _filter_grid(w, scale=2, padding=1)
    # 5 filters -> 3 columns, 2 rows; cells of 4 x 6 pixels with 1 pixel of padding around each.
    assert grid.shape == (2 * (4 + 1) + 1, 3 * (6 + 1) + 1, 3)
    f = 4  # row 1, column 1
    cell = grid[1 + 5 : 1 + 5 + 4, 1 + 7 : 1 + 7 + 6]
    expected = np.kron(_minmax(w[f]).transpose(1, 2, 0), np.ones((2, 2, 1)))
    np.testing.assert_allclose(cell, expected)
    assert np.all(grid[1 + 5 :, 1 + 2 * 7 :] == 1.0)  # the empty sixth cell is background


def test_plot_misclassified(tmp_path):
    pytest.importorskip("matplotlib")
    rng = np.random.default_rng(6)
    images = rng.standard_normal((40, 1, 28, 28)).astype(np.float32)
    targets = rng.integers(0, 10, size=40)
    preds = targets.copy()
    preds[::3] = (preds[::3] + 1) % 10  # 14 wrong
    path = tmp_path / "wrong.png"
    pt.plot_misclassified(
        pc.tensor(images), preds, targets, [str(i) for i in range(10)], path, max_images=9, mean=0.1307, std=0.3081
    )
    _check_png(path, (300, 300), (1500, 1500))
    # RGB images, no denormalisation, and the "nothing wrong" case all draw.
    rgb = rng.standard_normal((4, 3, 16, 16))
    pt.plot_misclassified(rgb, [0, 1, 2, 3], [1, 1, 0, 3], None, tmp_path / "rgb.png")
    _check_png(tmp_path / "rgb.png", (100, 100), (1500, 1500))
    pt.plot_misclassified(rgb, [0, 1, 2, 3], [0, 1, 2, 3], None, tmp_path / "none.png")
    _check_png(tmp_path / "none.png", (100, 100), (1500, 1500))
    with pytest.raises(ValueError, match=r"^\[plot_misclassified\]"):
        pt.plot_misclassified(rgb, [0, 1], [0, 1, 2, 3], None, tmp_path / "bad.png")


def test_plots_need_matplotlib(monkeypatch, tmp_path):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")] + ["matplotlib"]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match=r"pip install \"pycnn\[plot\]\""):
        pt.plot_history([{"epoch": 1, "train_loss": 1.0}], tmp_path / "h.png")
    with pytest.raises(ImportError, match=r"pycnn\[plot\]"):
        pt.FigureWriter(tmp_path)
    assert not (tmp_path / "h.png").exists()


# ----------------------------------------------------------------------------------------------------------
# With the real Trainer
# ----------------------------------------------------------------------------------------------------------


class _LastGradients(pt.Callback):
    """Records every parameter's gradient at the epoch's last on_after_backward (after the loggers)."""

    order = 6

    def __init__(self):
        self.grads = {}

    def on_after_backward(self, trainer):
        if trainer.batch_index == len(trainer.train_loader) - 1:
            params = trainer.model.named_parameters()
            self.grads[trainer.epoch] = {n: p.grad.numpy().copy() for n, p in params}


def _loaders(seed, n_train=160, n_val=64):
    data = mnist_subset("train")
    train = pc.data.DataLoader(
        pc.data.Subset(data, list(range(n_train))),
        batch_size=64,
        shuffle=True,
        generator=pc.Generator().manual_seed(seed),
    )
    val = pc.data.DataLoader(pc.data.Subset(data, list(range(n_train, n_train + n_val))), batch_size=64)
    return train, val


def test_fit_with_every_monitoring_callback(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    pc.manual_seed(0)
    model = pc.models.lenet5()
    train_loader, val_loader = _loaders(0)
    opt = pc.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sched = pc.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    recorder = _LastGradients()
    callbacks = [
        pt.ProgressBar(leave=True),
        pt.CSVLogger(tmp_path / "m.csv"),
        pt.JSONLogger(tmp_path / "m.jsonl", per_step=True),
        pt.TensorBoardLogger(tmp_path / "tb", log_every_n_steps=1),
        pt.FigureWriter(tmp_path / "fig"),
        pt.GradientClipping(max_norm=1.0),
        recorder,
    ]
    history = pt.fit(
        model, train_loader, val_loader, pc.nn.CrossEntropyLoss(), opt, epochs=2, scheduler=sched, callbacks=callbacks
    )
    history = [dict(h) for h in history]
    assert [h["epoch"] for h in history] == [1, 2] and history[1]["lr"] == 0.025

    # Progress: two summary lines, the bar's running loss.
    captured = capsys.readouterr()
    assert [SUMMARY.match(line) is not None for line in captured.out.splitlines()] == [True, True]
    assert "loss=" in captured.err and "acc=" in captured.err

    # CSV and JSON Lines hold exactly the history.
    header, rows = _read_csv(tmp_path / "m.csv")
    assert header == list(history[0])
    assert [{k: float(v) for k, v in row.items()} for row in rows] == history
    objects = [json.loads(line) for line in (tmp_path / "m.jsonl").read_text().splitlines()]
    steps = [o for o in objects if "step" in o]
    assert [o for o in objects if "step" not in o] == history
    assert [o["step"] for o in steps] == list(range(1, 7))
    assert all(o["grad_norm"] > 0 for o in steps)  # GradientClipping's batch log reaches the step lines

    # TensorBoard: the same numbers, the (clipped) last-batch gradients, the filter grid.
    ea = _accumulator(tmp_path / "tb")
    assert {e.step: e.value for e in ea.Scalars("train/loss")} == {h["epoch"]: _f32(h["train_loss"]) for h in history}
    assert {e.step: e.value for e in ea.Scalars("val/acc")} == {h["epoch"]: _f32(h["val_acc"]) for h in history}
    assert [(e.step, e.value) for e in ea.Scalars("train/loss_step")] == [(o["step"], _f32(o["loss"])) for o in steps]
    assert [(e.step, e.value) for e in ea.Scalars("train/grad_norm")] == [
        (o["step"], _f32(o["grad_norm"])) for o in steps
    ]
    for name, _ in model.named_parameters():
        for e in ea.Histograms(f"grads/{name}"):
            values = recorder.grads[e.step][name].astype(np.float64).reshape(-1)
            assert e.histogram_value.num == values.size
            assert e.histogram_value.sum == pytest.approx(values.sum(), rel=1e-4, abs=1e-6)
            assert e.histogram_value.max == pytest.approx(values.max(), rel=1e-6, abs=1e-9)
    image = ea.Images("filters/features.0")[-1]
    assert (image.width, image.height) == (128, 86)

    _check_png(tmp_path / "fig" / "history.png", (1000, 400), (1000, 400))
    _check_png(tmp_path / "fig" / "filters.png", (150, 150), (1000, 1000))


def test_fit_resume_continues_the_logs(tmp_path):
    ckpt_dir = tmp_path / "ckpt"

    def run(epochs, resume=None):
        pc.manual_seed(0)
        model = pc.models.lenet5()
        train_loader, val_loader = _loaders(1)
        opt = pc.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        callbacks = [
            pt.CSVLogger(tmp_path / "m.csv"),
            pt.JSONLogger(tmp_path / "m.jsonl"),
            pt.ModelCheckpoint(ckpt_dir, filename=None, every_n_epochs=2),
        ]
        return [
            dict(h)
            for h in pt.fit(
                model,
                train_loader,
                val_loader,
                pc.nn.CrossEntropyLoss(),
                opt,
                epochs=epochs,
                callbacks=callbacks,
                resume=resume,
            )
        ]

    first = run(3)  # the checkpoint holds epoch 2; epoch 3 is logged, then "lost"
    _, rows = _read_csv(tmp_path / "m.csv")
    assert len(rows) == 3
    second = run(3, resume=ckpt_dir / "last.safetensors")  # redoes epoch 3 (append=False notwithstanding)
    assert second[:2] == first[:2]
    _, rows = _read_csv(tmp_path / "m.csv")
    assert [{k: float(v) for k, v in row.items()} for row in rows] == second
    assert [json.loads(x) for x in (tmp_path / "m.jsonl").read_text().splitlines()] == second
