"""Monitoring callbacks for pycnn.train: a tqdm progress bar with per-epoch summary lines, CSV and JSON Lines
logs, and TensorBoard event files (scalars, parameter/gradient histograms, first-layer filter images).

Each class is a Callback reading the running Trainer's attributes (epoch, global_step, batch, loss,
batch_logs, logs, history, model; see callbacks.py). Files are flushed at every epoch end, so a crash keeps
every completed epoch. The TensorBoard writer is tensorboardX when installed, else the tensorboard package's
own event-file writer (no TensorFlow needed); both are imported only when a TensorBoardLogger is created.
"""

import csv
import json
import math
import os
import struct
import sys
import time
import zlib

import numpy as np

from .._convert import bool_arg
from ..serialization import os_error, path_arg
from .callbacks import Callback
from .plots import _atomic_open, _filter_grid, _first_conv2d

__all__ = ["CSVLogger", "JSONLogger", "ProgressBar", "TensorBoardLogger"]


def _plain(value):
    """A log value as a plain Python scalar (numpy scalars and 0-d Tensors via .item()); str otherwise."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "item"):
        try:
            return value.item()
        except (TypeError, ValueError, RuntimeError):  # not a single element
            pass
    return str(value)


def _loader_length(loader):
    """len(loader), or None for loaders without a length (iterable-style)."""
    try:
        return len(loader)
    except TypeError:
        return None


def _batch_size(batch):
    """Number of samples in a (inputs, targets) batch; 1 when it cannot be told."""
    try:
        targets = batch[1]
        return int(targets.shape[0]) if hasattr(targets, "shape") else len(targets)
    except (TypeError, IndexError, AttributeError):
        return 1


def _fsync(f):
    f.flush()
    try:
        os.fsync(f.fileno())
    except OSError:  # some filesystems/pipes cannot fsync; flushing is the part that matters
        pass


def _make_parent(path):
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)


# ----------------------------------------------------------------------------------------------------------
# Progress bar
# ----------------------------------------------------------------------------------------------------------


class ProgressBar(Callback):
    """A tqdm bar per epoch over the training batches, then one summary line per epoch on stdout.

    The bar shows the running (sample-weighted) mean loss and accuracy of the epoch so far and redraws at
    most every `mininterval` seconds. The summary line reads, e.g.
        epoch 3/10  train loss 0.1234  train acc 96.12%  val loss 0.1500  val acc 95.40%  lr 0.05
        12,345 img/s  3.2 s
    (on one line; keys missing from the logs are left out).

    Args:
        leave (bool): keep each finished bar on screen (default: erased, the summary line stays).
        file (file object, optional): where the bar goes; default: sys.stderr at the time of the epoch.
        disable (bool, optional): True hides the bar (the summary lines are still printed). None or False
            shows it, also when the output is not a terminal.
        mininterval (float): minimum seconds between two redraws of the bar.
    In distributed training it runs on rank 0 only, showing rank 0's batches and the epoch's logs, which
    are summed over all ranks.
    """

    rank_zero_only = True

    def __init__(self, leave=False, file=None, disable=None, mininterval=0.1):
        if mininterval < 0:
            raise ValueError(f"[ProgressBar] mininterval must be >= 0, got {mininterval}")
        self.leave = leave
        self.file = file
        self.disable = bool(disable)
        self.mininterval = mininterval
        self._bar = None
        self._loss_sum = self._acc_sum = 0.0
        self._seen = self._acc_seen = 0

    @staticmethod
    def format_summary(logs, epochs=None):
        """The one-line epoch summary for a logs dict (see the class docstring)."""
        epoch = logs.get("epoch", "?")
        parts = [f"epoch {epoch}/{epochs}" if epochs else f"epoch {epoch}"]
        for key, label, fmt in (
            ("train_loss", "train loss", "{:.4f}"),
            ("train_acc", "train acc", "{:.2%}"),
            ("val_loss", "val loss", "{:.4f}"),
            ("val_acc", "val acc", "{:.2%}"),
            ("lr", "lr", "{:.4g}"),
        ):
            if logs.get(key) is not None:
                parts.append(f"{label} {fmt.format(logs[key])}")
        if logs.get("train_images_per_s") is not None:
            parts.append(f"{logs['train_images_per_s']:,.0f} img/s")
        if logs.get("epoch_time") is not None:
            parts.append(f"{logs['epoch_time']:.1f} s")
        return "  ".join(parts)

    def _close_bar(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def on_epoch_begin(self, trainer):
        from tqdm import tqdm

        self._close_bar()
        self._loss_sum = self._acc_sum = 0.0
        self._seen = self._acc_seen = 0
        epochs = getattr(trainer, "epochs", None)
        self._bar = tqdm(
            total=_loader_length(trainer.train_loader),
            desc=f"epoch {trainer.epoch}/{epochs}",
            unit="batch",
            leave=self.leave,
            file=self.file or sys.stderr,
            disable=self.disable,
            mininterval=self.mininterval,
            dynamic_ncols=True,
        )

    def on_batch_end(self, trainer):
        if self._bar is None:
            return
        logs = getattr(trainer, "batch_logs", None) or {}
        n = _batch_size(trainer.batch)
        loss = logs.get("loss", trainer.loss)
        postfix = {}
        if loss is not None:
            self._loss_sum += float(loss) * n
            self._seen += n
            postfix["loss"] = f"{self._loss_sum / self._seen:.4f}"
        if logs.get("acc") is not None:
            self._acc_sum += float(logs["acc"]) * n
            self._acc_seen += n
            postfix["acc"] = f"{self._acc_sum / self._acc_seen:.2%}"
        # refresh=False: update() redraws, and only when mininterval has passed (cheap for fast steps).
        self._bar.set_postfix(postfix, refresh=False)
        self._bar.update(1)

    def on_epoch_end(self, trainer):
        self._close_bar()
        line = self.format_summary(trainer.logs, getattr(trainer, "epochs", None))
        print(line, file=sys.stdout, flush=True)

    def on_fit_end(self, trainer):
        self._close_bar()  # a stop in the middle of an epoch leaves a bar open


# ----------------------------------------------------------------------------------------------------------
# CSV and JSON Lines
# ----------------------------------------------------------------------------------------------------------


def _resumed_from_epoch(trainer):
    """The Trainer's first epoch when it resumes a run (start_epoch > 1), else None."""
    start = getattr(trainer, "start_epoch", None)
    return start if isinstance(start, int) and not isinstance(start, bool) and start > 1 else None


def _epoch_at_or_after(value, start):
    """Whether a logged 'epoch' value (number or its text) is >= start; unreadable values are not."""
    try:
        return float(value) >= start
    except (TypeError, ValueError):
        return False


class CSVLogger(Callback):
    """One CSV row per epoch, with the keys of trainer.logs as columns.

    The header comes from the first row's keys, in order. When a later epoch brings new keys (say
    'val_loss' appears once validation starts) the file is rewritten atomically with the wider header;
    older rows get empty cells there. Floats are written with repr, so they read back exactly.
    When the Trainer resumes a run (start_epoch > 1) the file is continued, whatever `append` says: rows of
    epochs >= start_epoch (logged after the checkpoint, before the crash) are dropped, as they are redone.

    Args:
        path (str or os.PathLike): the CSV file (parent directories are created).
        append (bool): keep the rows of an existing file instead of starting afresh.
    Raises (at on_fit_begin, or the first epoch end):
        OSError (its own type, the message naming the logger and the file) when the file cannot be created;
        ValueError when a file to continue cannot be read back as CSV (a field past the csv module's limit).
    """

    order = 5  # after the callbacks that add to trainer.logs, before ModelCheckpoint (10)
    rank_zero_only = True  # one file per run, written by rank 0 in distributed training

    def __init__(self, path, append=False):
        self.path = path_arg(path, "CSVLogger")
        self.append = bool_arg(append, "append", "CSVLogger")
        self._fieldnames = None
        self._started = False

    def _start(self, trainer):
        try:
            self._start_file(trainer)
        except OSError as exc:
            raise os_error(exc, "CSVLogger", f"cannot start the log {self.path!r}") from exc
        except csv.Error as exc:  # a field past csv's size limit, a NUL byte: not a log this logger wrote
            raise ValueError(f"[CSVLogger] cannot continue the log {self.path!r}: {exc}") from None

    def _start_file(self, trainer):
        _make_parent(self.path)
        self._fieldnames = None
        self._started = True
        resumed = _resumed_from_epoch(trainer)
        if not (self.append or resumed) or not os.path.exists(self.path) or os.path.getsize(self.path) == 0:
            open(self.path, "w", encoding="utf-8").close()  # start afresh (the file exists from now on)
            return
        with open(self.path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            self._fieldnames = next(reader, None)
            rows = list(reader)
        if resumed and self._fieldnames and "epoch" in self._fieldnames:
            col = self._fieldnames.index("epoch")
            kept = [r for r in rows if not (col < len(r) and _epoch_at_or_after(r[col], resumed))]
            if len(kept) != len(rows):
                with _atomic_open(self.path, "w", newline="") as f:
                    writer = csv.writer(f)
                    writer.writerow(self._fieldnames)
                    writer.writerows(kept)

    def on_fit_begin(self, trainer):
        self._start(trainer)

    def on_epoch_end(self, trainer):
        if not self._started:
            self._start(trainer)
        row = {str(k): _plain(v) for k, v in trainer.logs.items()}
        if self._fieldnames is None:
            self._fieldnames = list(row)
            with open(self.path, "w", newline="", encoding="utf-8") as f:
                writer = csv.DictWriter(f, self._fieldnames)
                writer.writeheader()
                writer.writerow(row)
                _fsync(f)
            return
        new_keys = [k for k in row if k not in self._fieldnames]
        if new_keys:
            with open(self.path, newline="", encoding="utf-8") as f:
                old_rows = list(csv.DictReader(f))
            self._fieldnames = self._fieldnames + new_keys
            with _atomic_open(self.path, "w", newline="") as f:
                writer = csv.DictWriter(f, self._fieldnames, restval="")
                writer.writeheader()
                writer.writerows(old_rows)
                writer.writerow(row)
            return
        with open(self.path, "a", newline="", encoding="utf-8") as f:
            csv.DictWriter(f, self._fieldnames, restval="").writerow(row)
            _fsync(f)


def _json_value(value):
    """JSON-ready value: plain scalars, with non-finite floats as null so every line is strict JSON."""
    value = _plain(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _json_line_kept(line, resumed):
    """On a resume, keep the complete lines of epochs before the resumed one. A line that does not parse is
    dropped: one cut short by the crash, or one nested too deeply for json (no logger wrote it)."""
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):  # json recurses once per nesting level
        return False
    return not (isinstance(obj, dict) and _epoch_at_or_after(obj.get("epoch"), resumed))


class JSONLogger(Callback):
    """JSON Lines: one object per epoch (trainer.logs), and optionally one per optimizer step.

    Step objects are {"epoch", "step" (global_step), "batch" (index in the epoch), **batch_logs}; epoch
    objects are the epoch's logs as they are and carry no "step" key, which tells the two kinds apart.
    Non-finite numbers (a diverged loss) are written as null. Resuming works as for CSVLogger: the file is
    continued, without the lines of the epochs that are redone (and without lines that do not parse: one cut
    short by a crash, or one nested too deeply to read).

    Args:
        path (str or os.PathLike): the .jsonl file (parent directories are created).
        per_step (bool): also write a line for every optimizer step.
        append (bool): add to an existing file instead of starting afresh.
    """

    order = 5  # after the callbacks that add to trainer.logs, before ModelCheckpoint (10)
    rank_zero_only = True  # one file per run, written by rank 0 in distributed training

    def __init__(self, path, per_step=False, append=False):
        self.path = path_arg(path, "JSONLogger")
        self.per_step = bool_arg(per_step, "per_step", "JSONLogger")
        self.append = bool_arg(append, "append", "JSONLogger")
        self._file = None

    def _open(self, trainer):
        try:
            self._open_file(trainer)
        except OSError as exc:
            raise os_error(exc, "JSONLogger", f"cannot open the log {self.path!r}") from exc

    def _open_file(self, trainer):
        _make_parent(self.path)
        resumed = _resumed_from_epoch(trainer)
        keep = (self.append or resumed) and os.path.exists(self.path)
        if keep and resumed:
            with open(self.path, encoding="utf-8") as f:
                lines = f.read().splitlines()
            kept = [line for line in lines if _json_line_kept(line, resumed)]
            if kept != lines:
                with _atomic_open(self.path, "w") as f:
                    f.write("".join(line + "\n" for line in kept))
        self._file = open(self.path, "a" if keep else "w", encoding="utf-8")  # noqa: SIM115  (closed in on_fit_end)
        if keep and self._file.tell() > 0:
            with open(self.path, "rb") as f:
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":  # a line cut short by a crash: do not glue the next one to it
                    self._file.write("\n")

    def _write(self, obj, trainer):
        if self._file is None:  # hooks called without on_fit_begin (a hand-written loop)
            self._open(trainer)
        self._file.write(json.dumps({str(k): _json_value(v) for k, v in obj.items()}) + "\n")

    def on_fit_begin(self, trainer):
        self.close()
        self._open(trainer)

    def on_batch_end(self, trainer):
        if self.per_step:
            self._write(
                {
                    "epoch": trainer.epoch,
                    "step": trainer.global_step,
                    "batch": trainer.batch_index,
                    **(trainer.batch_logs or {}),
                },
                trainer,
            )

    def on_epoch_end(self, trainer):
        self._write(trainer.logs, trainer)
        _fsync(self._file)

    def on_fit_end(self, trainer):
        self.close()

    def close(self):
        """Flush and close the file (on_fit_end does it; a later hook reopens it)."""
        if self._file is not None:
            _fsync(self._file)
            self._file.close()
            self._file = None


# ----------------------------------------------------------------------------------------------------------
# TensorBoard
# ----------------------------------------------------------------------------------------------------------


def _encode_png(rgb):
    """(H, W, 3) uint8 -> PNG bytes (8-bit RGB, no filtering), so the fallback writer needs no Pillow."""
    height, width, _ = rgb.shape

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    # Every scanline starts with its filter type byte (0: none).
    raw = np.concatenate([np.zeros((height, 1), np.uint8), rgb.reshape(height, width * 3)], axis=1)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw.tobytes(), 6))
        + chunk(b"IEND", b"")
    )


class _TensorBoardXWriter:
    """tensorboardX.SummaryWriter behind the three calls TensorBoardLogger needs."""

    def __init__(self, log_dir):
        from tensorboardX import SummaryWriter

        self._writer = SummaryWriter(log_dir)

    def add_scalar(self, tag, value, step):
        self._writer.add_scalar(tag, value, step)

    def add_histogram(self, tag, values, step):
        self._writer.add_histogram(tag, values, step)

    def add_image(self, tag, rgb, step):
        self._writer.add_image(tag, rgb, step, dataformats="HWC")

    def flush(self):
        self._writer.flush()

    def close(self):
        self._writer.close()


class _EventFileWriter:
    """The tensorboard package's own event-file writer with hand-built Summary protos (no TensorFlow)."""

    _BINS = 30

    def __init__(self, log_dir):
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        self._event_pb2, self._summary_pb2 = event_pb2, summary_pb2
        self._writer = EventFileWriter(log_dir)

    def _add(self, value, step):
        summary = self._summary_pb2.Summary(value=[value])
        self._writer.add_event(self._event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary))

    def add_scalar(self, tag, value, step):
        self._add(self._summary_pb2.Summary.Value(tag=tag, simple_value=float(value)), step)

    def add_histogram(self, tag, values, step):
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        counts, edges = np.histogram(values, bins=self._BINS)
        # TensorBoard's buckets are (previous limit, limit]: the right edges are the limits.
        histo = self._summary_pb2.HistogramProto(
            min=float(values.min()),
            max=float(values.max()),
            num=float(values.size),
            sum=float(values.sum()),
            sum_squares=float(values @ values),
            bucket_limit=[float(e) for e in edges[1:]],
            bucket=[float(c) for c in counts],
        )
        self._add(self._summary_pb2.Summary.Value(tag=tag, histo=histo), step)

    def add_image(self, tag, rgb, step):
        image = self._summary_pb2.Summary.Image(
            height=rgb.shape[0], width=rgb.shape[1], colorspace=3, encoded_image_string=_encode_png(rgb)
        )
        self._add(self._summary_pb2.Summary.Value(tag=tag, image=image), step)

    def flush(self):
        self._writer.flush()

    def close(self):
        self._writer.close()


_WRITERS = {"tensorboardX": _TensorBoardXWriter, "tensorboard": _EventFileWriter}


def _backend_usable(backend, images):
    """None when `backend` can be imported (with Pillow for tensorboardX images), else the exception."""
    try:
        if backend == "tensorboardX":
            import tensorboardX  # noqa: F401

            if images:
                import PIL  # noqa: F401  (tensorboardX encodes images with Pillow)
        else:
            import tensorboard.compat.proto.summary_pb2
            import tensorboard.summary.writer.event_file_writer  # noqa: F401
    except Exception as exc:  # noqa: BLE001  (ImportError, or a broken install: protobuf version clash, ...)
        return exc
    return None


class TensorBoardLogger(Callback):
    """Writes TensorBoard event files under log_dir (view them with `tensorboard --logdir DIR`).

    Logged:
        every log_every_n_steps optimizer steps (x axis: global_step): 'train/loss_step', 'train/lr', and
            'train/grad_norm' when batch_logs has it (GradientClipping);
        every epoch (x axis: epoch): 'train/loss', 'train/acc', 'val/loss', 'val/acc', 'lr',
            'throughput/img_per_s', 'time/epoch_s', and any other number in trainer.logs ('train_x' as
            'train/x', 'val_x' as 'val/x', others under their own name);
        every epoch, with histograms=True: 'params/<name>' for every parameter and 'grads/<name>' for its
            gradient as it was after the epoch's last backward (captured then: zero_grad may drop it later);
        every epoch, with images=True: 'filters/<conv name>', the first nn.Conv2d's filters as one RGB
            grid (see plots._filter_grid; each filter min-max normalised, shown FILTER_SCALE times larger).
    The writer opens at on_fit_begin, is flushed every epoch and closed at on_fit_end.

    Args:
        log_dir (str or os.PathLike): directory of the event files.
        log_every_n_steps (int): period of the per-step scalars.
        histograms (bool), images (bool): see above.
        backend ('auto', 'tensorboardX' or 'tensorboard'): 'auto' takes tensorboardX when it is installed
            (and Pillow, when images=True), else the tensorboard package's own event-file writer.
    Raises:
        ImportError: no usable backend (pip install "pycnn[tensorboard]").
    """

    order = 5  # after the callbacks that add to the logs (and clip gradients), before ModelCheckpoint (10)
    rank_zero_only = True  # one file per run, written by rank 0 in distributed training
    FILTER_SCALE = 8
    FILTER_PADDING = 2
    EPOCH_TAGS = {"train_images_per_s": "throughput/img_per_s", "epoch_time": "time/epoch_s", "epoch": None}

    @classmethod
    def epoch_tag(cls, key):
        """The TensorBoard tag of an epoch-log key (None: not logged)."""
        if key in cls.EPOCH_TAGS:
            return cls.EPOCH_TAGS[key]
        for split in ("train", "val"):
            if key.startswith(split + "_"):
                return f"{split}/{key[len(split) + 1 :]}"
        return key

    def __init__(self, log_dir, log_every_n_steps=10, histograms=True, images=True, backend="auto"):
        if not isinstance(log_every_n_steps, int) or log_every_n_steps <= 0:
            raise ValueError(f"[TensorBoardLogger] log_every_n_steps must be a positive int, got {log_every_n_steps!r}")
        if backend not in ("auto", *_WRITERS):
            raise ValueError(
                f"[TensorBoardLogger] backend must be 'auto', 'tensorboardX' or 'tensorboard', got {backend!r}"
            )
        errors = {}
        for name in _WRITERS if backend == "auto" else (backend,):
            errors[name] = _backend_usable(name, images)
            if errors[name] is None:
                self.backend = name
                break
        else:
            why = "; ".join(f"{name}: {exc}" for name, exc in errors.items())
            raise ImportError(
                "[TensorBoardLogger] writing TensorBoard event files needs tensorboardX "
                f"(+ Pillow for images) or tensorboard ({why}): "
                'pip install "pycnn[tensorboard]"'
            )
        self.log_dir = os.fspath(log_dir)
        self.log_every_n_steps = log_every_n_steps
        self.histograms = histograms
        self.images = images
        self.writer = None
        self._grads = None
        self._last_step = None

    def on_fit_begin(self, trainer):
        self.close()
        self._last_step = None
        self.writer = _WRITERS[self.backend](self.log_dir)

    def _ensure_writer(self):
        if self.writer is None:
            self.writer = _WRITERS[self.backend](self.log_dir)
        return self.writer

    def on_after_backward(self, trainer):
        if not self.histograms:
            return
        # Copy only on the epoch's last batch (copying every step would cost a model-sized copy per step);
        # without a loader length every step is copied and the last copy wins.
        n = _loader_length(trainer.train_loader)
        if n is not None and trainer.batch_index < n - 1:
            return
        self._grads = {
            name: p.grad.detach().cpu().numpy().copy()
            for name, p in trainer.model.named_parameters()
            if p.grad is not None
        }

    def on_batch_end(self, trainer):
        step = trainer.global_step
        # A skipped optimizer step (NaNGuard) leaves global_step as it was: log each step once, and
        # nothing before the first step.
        if step == 0 or step % self.log_every_n_steps != 0 or step == self._last_step:
            return
        self._last_step = step
        writer = self._ensure_writer()
        logs = getattr(trainer, "batch_logs", None) or {}
        loss = logs.get("loss", trainer.loss)
        if loss is not None:
            writer.add_scalar("train/loss_step", float(loss), step)
        for key, tag in (("lr", "train/lr"), ("grad_norm", "train/grad_norm")):
            if logs.get(key) is not None:
                writer.add_scalar(tag, float(logs[key]), step)

    def on_epoch_end(self, trainer):
        writer = self._ensure_writer()
        epoch, logs = trainer.epoch, trainer.logs
        for key, value in logs.items():
            value, tag = _plain(value), self.epoch_tag(str(key))
            if tag is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
                writer.add_scalar(tag, float(value), epoch)
        if self.histograms:
            self._write_histograms(trainer.model, epoch)
        if self.images:
            name, conv = _first_conv2d(trainer.model)
            if conv is not None:
                grid = _filter_grid(
                    conv.weight.detach().cpu().numpy(),
                    scale=self.FILTER_SCALE,
                    padding=self.FILTER_PADDING,
                    name="TensorBoardLogger",
                )
                writer.add_image(f"filters/{name}", (grid * 255.0 + 0.5).astype(np.uint8), epoch)
        writer.flush()

    def _write_histograms(self, model, epoch):
        grads, self._grads = self._grads or {}, None
        for name, p in model.named_parameters():
            weights = p.detach().cpu().numpy()
            for tag, values in ((f"params/{name}", weights), (f"grads/{name}", grads.get(name))):
                if values is None:
                    continue
                values = np.asarray(values, dtype=np.float64).reshape(-1)
                values = values[np.isfinite(values)]  # a histogram of NaNs is an error in both writers
                if values.size:
                    self.writer.add_histogram(tag, values, epoch)

    def on_fit_end(self, trainer):
        self.close()

    def close(self):
        if self.writer is not None:
            self.writer.close()
            self.writer = None
