"""Figures for pycnn.train: training curves, confusion matrix, conv filters, misclassified images (PNG).

Plain functions that take NumPy arrays or pycnn Tensors and write one PNG each, plus FigureWriter, a callback
that redraws the curves during fit. matplotlib is imported only when a figure is drawn, and only its
object-oriented API is used (Figure + the Agg canvas): no pyplot, no global backend switch, no window.
Every PNG is written atomically (temporary file in the same directory, then os.replace; see _atomic_open).
"""

import contextlib
import math
import os
import tempfile

import numpy as np

from ..nn import Conv2d
from ..serialization import _default_file_mode, _fsync_directory, _remove_stale_temporaries, _temp_prefix
from .callbacks import Callback

__all__ = ["FigureWriter", "plot_confusion_matrix", "plot_filters", "plot_history", "plot_misclassified"]

_DPI = 100


# ----------------------------------------------------------------------------------------------------------
# Helpers shared with loggers.py (atomic writes, conv filter grids)
# ----------------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _atomic_open(path, mode="wb", newline=None):
    """Open a temporary file next to `path`; on a clean exit fsync it and rename it over `path`.

    An exception while writing leaves any previous file at `path` untouched (and no temp file). The temporary
    is named as pycnn.save names its own (`.NAME.pycnn-save-<pid>-<random>.tmp`): one left by a process
    killed mid-write (kill -9) is removed by the next write to `path`, once that pid is gone.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    # mkstemp creates 0o600 files; the figure/log gets the permissions a plain open() would give.
    file_mode = _default_file_mode(path)
    _remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f"{_temp_prefix(path)}{os.getpid()}-", suffix=".tmp")
    try:
        kwargs = {} if "b" in mode else {"encoding": "utf-8", "newline": newline}
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, file_mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _as_numpy(x, name, what):
    """NumPy copy-free view of a pycnn Tensor (any device) or array-like; TypeError for anything else."""
    if hasattr(x, "detach") and hasattr(x, "numpy"):
        x = x.detach()
        if hasattr(x, "cpu"):
            x = x.cpu()
        return x.numpy()
    try:
        return np.asarray(x)
    except Exception as exc:
        raise TypeError(f"[{name}] {what} must be a pycnn Tensor or array-like, got {type(x).__name__}") from exc


def _first_conv2d(model):
    """(qualified name, module) of the first nn.Conv2d in model.named_modules() order, or (None, None)."""
    for name, module in model.named_modules():
        if isinstance(module, Conv2d):
            return name, module
    return None, None


def _filter_images(weight, name="plot_filters"):
    """Per-filter display images of a conv weight (OC, C, KH, KW): float array (OC, KH, KW, 3) in [0, 1].

    C == 3 is shown as RGB, C == 1 as gray, any other C by its channel 0 (gray). Each filter is min-max
    normalised on its own, so a filter's pattern is visible whatever its scale; a constant filter is 0.5.
    """
    w = np.asarray(weight, dtype=np.float64)
    if w.ndim != 4 or min(w.shape) == 0:
        raise ValueError(
            f"[{name}] expected a conv weight of shape (out_channels, in_channels, kH, kW), got shape {tuple(w.shape)}"
        )
    w = w if w.shape[1] == 3 else w[:, :1]
    w = np.nan_to_num(w, nan=0.0, posinf=0.0, neginf=0.0)
    lo = w.min(axis=(1, 2, 3), keepdims=True)
    span = w.max(axis=(1, 2, 3), keepdims=True) - lo
    w = np.where(span > 0, (w - lo) / np.where(span > 0, span, 1.0), 0.5)
    w = w.transpose(0, 2, 3, 1)  # (OC, KH, KW, C)
    return np.repeat(w, 3, axis=3) if w.shape[3] == 1 else w


def _filter_grid(weight, scale=1, padding=1, pad_value=1.0, name="plot_filters"):
    """Tile the filters of a conv weight (OC, C, KH, KW) into one RGB image, row by row.

    ncols = ceil(sqrt(OC)), nrows = ceil(OC / ncols); each filter is enlarged `scale` times (nearest
    neighbour) and every cell is surrounded by `padding` pixels of `pad_value`, so the image is
        height = nrows * (KH * scale + padding) + padding,   width = ncols * (KW * scale + padding) + padding.
    Returns:
        float64 array (height, width, 3) in [0, 1] (see _filter_images for the colour rules).
    """
    tiles = _filter_images(weight, name)
    n, kh, kw, _ = tiles.shape
    tiles = tiles.repeat(scale, axis=1).repeat(scale, axis=2)
    ncols = math.ceil(math.sqrt(n))
    nrows = math.ceil(n / ncols)
    ch, cw = kh * scale, kw * scale
    grid = np.full((nrows * (ch + padding) + padding, ncols * (cw + padding) + padding, 3), pad_value)
    for i in range(n):
        r, c = divmod(i, ncols)
        top, left = padding + r * (ch + padding), padding + c * (cw + padding)
        grid[top : top + ch, left : left + cw] = tiles[i]
    return grid


# ----------------------------------------------------------------------------------------------------------
# matplotlib plumbing
# ----------------------------------------------------------------------------------------------------------


def _new_figure(width, height, owner="pycnn.train.plots"):
    """A matplotlib Figure bound to the Agg canvas (no pyplot state, nothing is ever shown); `owner` names
    the caller in the ImportError raised when matplotlib is missing."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(f'[{owner}] drawing figures needs matplotlib: pip install "pycnn[plot]"') from exc
    fig = Figure(figsize=(width, height), dpi=_DPI)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path):
    """Write `fig` as a PNG to `path` atomically; returns path as a str."""
    path = os.fspath(path)
    with _atomic_open(path, "wb") as f:
        fig.savefig(f, format="png", dpi=_DPI)
    return path


def _class_label(class_names, index):
    if class_names is not None and 0 <= index < len(class_names):
        return str(class_names[index])
    return str(index)


# ----------------------------------------------------------------------------------------------------------
# Public figures
# ----------------------------------------------------------------------------------------------------------


def plot_history(history, path):
    """Loss and accuracy curves (train and validation) against the epoch, in two panels.

    Args:
        history (list[dict]): per-epoch logs as kept by the Trainer: 'epoch', 'train_loss', 'train_acc'
            (fraction in [0, 1]), and optionally 'val_loss', 'val_acc'. Missing keys are left out.
        path (str or os.PathLike): the PNG to write (1000 x 400 pixels).
    Returns:
        str: path.
    """
    if not isinstance(history, (list, tuple)):
        raise TypeError(f"[plot_history] history must be a list of per-epoch dicts, got {type(history).__name__}")
    bad = [h for h in history if not isinstance(h, dict)]
    if bad:
        raise TypeError(
            f"[plot_history] history must be a list of per-epoch dicts, got an item {type(bad[0]).__name__}"
        )
    if len(history) == 0:
        raise ValueError("[plot_history] history is empty: nothing to plot")
    epochs = [h.get("epoch", i + 1) for i, h in enumerate(history)]

    fig = _new_figure(10, 4)
    ax_loss, ax_acc = fig.subplots(1, 2)
    panels = ((ax_loss, "loss", 1.0, "loss"), (ax_acc, "acc", 100.0, "accuracy (%)"))
    for ax, key, factor, ylabel in panels:
        for split, style in (("train", "o-"), ("val", "s--")):
            points = [
                (e, h[f"{split}_{key}"] * factor)
                for e, h in zip(epochs, history)
                if h.get(f"{split}_{key}") is not None
            ]
            if points:
                xs, ys = zip(*points)
                ax.plot(xs, ys, style, markersize=3, label="train" if split == "train" else "validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.set_title("Loss" if key == "loss" else "Accuracy")
        ax.grid(True, alpha=0.3)
        if ax.lines:
            ax.legend()
        # Integer epochs on the x axis (matplotlib would otherwise show 1.5, 2.5, ... for short runs).
        ax.xaxis.get_major_locator().set_params(integer=True)
    fig.suptitle(f"Training history ({len(history)} epochs)")
    fig.tight_layout()
    return _save(fig, path)


def plot_confusion_matrix(cm, class_names, path, normalize=False):
    """Confusion matrix as an annotated heat map: rows are the true class, columns the predicted one.

    Args:
        cm (array-like or Tensor): (K, K) counts, cm[i, j] = samples of class i predicted as j.
        class_names (sequence of str or None): K labels (None: 0..K-1).
        path (str or os.PathLike): the PNG to write.
        normalize (bool): show each row divided by its sum (the per-class recall on the diagonal).
    Returns:
        str: path.
    """
    cm = _as_numpy(cm, "plot_confusion_matrix", "cm").astype(np.float64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] == 0:
        raise ValueError(f"[plot_confusion_matrix] cm must be a square (K, K) matrix, got shape {cm.shape}")
    k = cm.shape[0]
    if class_names is not None and len(class_names) != k:
        raise ValueError(f"[plot_confusion_matrix] {len(class_names)} class names for a {k}x{k} matrix")
    values = cm
    if normalize:
        rows = cm.sum(axis=1, keepdims=True)
        values = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
    labels = [_class_label(class_names, i) for i in range(k)]

    side = min(max(4.0, 0.55 * k + 2.5), 20.0)
    fig = _new_figure(side + 1.0, side)
    ax = fig.subplots()
    image = ax.imshow(
        values, cmap="Blues", interpolation="nearest", vmin=0.0, vmax=1.0 if normalize else max(values.max(), 1.0)
    )
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    long_names = max(len(s) for s in labels) > 3
    ax.set_xticklabels(labels, rotation=45 if long_names else 0, ha="right" if long_names else "center")
    ax.set_yticklabels(labels)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title("Confusion matrix (rows normalised)" if normalize else "Confusion matrix")
    # Past ~30 classes the numbers no longer fit in their cells; the colours still tell the story.
    if k <= 30:
        threshold = values.max() / 2.0
        fontsize = 9 if k <= 12 else 6
        for i in range(k):
            for j in range(k):
                text = f"{values[i, j]:.2f}" if normalize else f"{int(round(cm[i, j]))}"
                ax.text(
                    j,
                    i,
                    text,
                    ha="center",
                    va="center",
                    fontsize=fontsize,
                    color="white" if values[i, j] > threshold else "black",
                )
    fig.tight_layout()
    return _save(fig, path)


def plot_filters(weight, path):
    """The filters of a convolution as an image grid (C=1 gray, C=3 RGB, other C: channel 0 in gray).

    Args:
        weight (Tensor, array or nn.Module): a conv weight (out_channels, in_channels, kH, kW), or a model
            whose first nn.Conv2d (in named_modules() order) is drawn.
        path (str or os.PathLike): the PNG to write.
    Returns:
        str: path.
    Each filter is min-max normalised on its own (the grid shows patterns, not relative magnitudes).
    """
    title = "conv filters"
    if hasattr(weight, "named_modules"):
        conv_name, conv = _first_conv2d(weight)
        if conv is None:
            raise ValueError(f"[plot_filters] {type(weight).__name__} has no nn.Conv2d layer")
        weight, title = conv.weight, f"conv filters: {conv_name}"
    w = _as_numpy(weight, "plot_filters", "weight")
    grid = _filter_grid(w, scale=1, padding=1)
    title += f" ({' x '.join(str(s) for s in w.shape)})"

    # About 6 inches for the wider side; nearest-neighbour keeps each weight a crisp square.
    aspect = grid.shape[0] / grid.shape[1]
    width = 6.0 if aspect <= 1 else max(2.5, 6.0 / aspect)
    fig = _new_figure(width, width * aspect + 0.6)
    ax = fig.subplots()
    ax.imshow(grid, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(title)
    fig.tight_layout()
    return _save(fig, path)


def _broadcast_channel_stat(value, channels, name, what):
    v = np.asarray(value, dtype=np.float64).reshape(-1)
    if v.size not in (1, channels):
        raise ValueError(f"[{name}] {what} has {v.size} values for images with {channels} channels")
    return v.reshape(1, -1, 1, 1)


def plot_misclassified(images, predictions, targets, class_names, path, max_images=25, mean=None, std=None, title=None):
    """A grid of misclassified images, each titled "true -> predicted" (max_images of them, spread evenly
    over the misclassified ones in order, so a set sorted by class shows several classes).

    Args:
        images (Tensor or array): (N, C, H, W) floats, as fed to the model.
        predictions, targets (Tensor or array): (N,) class indices.
        class_names (sequence of str or None): labels for the titles (None: the indices).
        path (str or os.PathLike): the PNG to write.
        max_images (int): at most this many images are drawn.
        mean, std (float or per-channel sequence, optional): the normalisation to undo (x * std + mean)
            before display. Without them each image is min-max scaled on its own.
        title (str, optional): the figure's title (default: counts of wrong, all and shown images).
    Returns:
        str: path.
    """
    name = "plot_misclassified"
    x = _as_numpy(images, name, "images").astype(np.float64)
    pred = _as_numpy(predictions, name, "predictions").reshape(-1)
    true = _as_numpy(targets, name, "targets").reshape(-1)
    if x.ndim != 4:
        raise ValueError(f"[{name}] images must be (N, C, H, W), got shape {x.shape}")
    if not (x.shape[0] == pred.shape[0] == true.shape[0]):
        raise ValueError(
            f"[{name}] {x.shape[0]} images, {pred.shape[0]} predictions and {true.shape[0]} "
            "targets: the counts must match"
        )
    if not isinstance(max_images, int) or max_images <= 0:
        raise ValueError(f"[{name}] max_images must be a positive int, got {max_images!r}")
    channels = x.shape[1]
    wrong = np.flatnonzero(pred != true)
    shown = wrong[np.unique(np.linspace(0, len(wrong) - 1, max_images).astype(np.int64))] if len(wrong) else wrong

    x = x[shown]
    if mean is not None or std is not None:
        x = x * _broadcast_channel_stat(1.0 if std is None else std, channels, name, "std") + _broadcast_channel_stat(
            0.0 if mean is None else mean, channels, name, "mean"
        )
        x = np.clip(x, 0.0, 1.0)
    elif len(x):
        lo = x.min(axis=(1, 2, 3), keepdims=True)
        span = x.max(axis=(1, 2, 3), keepdims=True) - lo
        x = np.where(span > 0, (x - lo) / np.where(span > 0, span, 1.0), 0.5)
    if channels != 3:
        x = x[:, :1]  # gray: channel 0 (RGB is the only multi-channel layout we can show as is)

    n = len(shown)
    ncols = max(1, math.ceil(math.sqrt(n)))
    nrows = max(1, math.ceil(n / ncols))
    fig = _new_figure(1.6 * ncols + 0.4, 1.75 * nrows + 0.6)
    if n == 0:
        ax = fig.subplots()
        ax.set_axis_off()
        ax.text(0.5, 0.5, f"no misclassified images among {len(true)}", ha="center", va="center")
    else:
        axes = np.asarray(fig.subplots(nrows, ncols, squeeze=False)).reshape(-1)
        for ax in axes:
            ax.set_axis_off()
        for ax, img, idx in zip(axes, x, shown):
            if img.shape[0] == 3:
                ax.imshow(img.transpose(1, 2, 0), interpolation="nearest")
            else:
                ax.imshow(img[0], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
            ax.set_title(
                f"{_class_label(class_names, int(true[idx]))} -> {_class_label(class_names, int(pred[idx]))}",
                fontsize=9,
            )
    fig.suptitle(title or f"Misclassified (true -> predicted): {len(wrong)} of {len(true)} wrong, {n} shown")
    fig.tight_layout()
    return _save(fig, path)


class FigureWriter(Callback):
    """Redraws the training curves during fit, and the first conv layer's filters at the end.

    Files in out_dir: history.png (every `every_n_epochs` epochs and at the end of fit) and filters.png
    (at the end of fit, when the model has an nn.Conv2d). The confusion matrix and misclassified images
    need the test set: draw them after evaluation with plot_confusion_matrix / plot_misclassified.

    Args:
        out_dir (str or os.PathLike): directory for the PNGs (created when missing).
        every_n_epochs (int): redraw period of history.png.
    """

    order = 5  # with the loggers: after the callbacks that add to the logs
    rank_zero_only = True  # one set of figures per run, drawn by rank 0 in distributed training
    HISTORY_FILE = "history.png"
    FILTERS_FILE = "filters.png"

    def __init__(self, out_dir, every_n_epochs=1):
        if not isinstance(every_n_epochs, int) or every_n_epochs <= 0:
            raise ValueError(f"[FigureWriter] every_n_epochs must be a positive int, got {every_n_epochs!r}")
        _new_figure(1, 1)  # fail now, not after the first epoch, when matplotlib is missing
        self.out_dir = os.fspath(out_dir)
        self.every_n_epochs = every_n_epochs

    @property
    def history_path(self):
        return os.path.join(self.out_dir, self.HISTORY_FILE)

    @property
    def filters_path(self):
        return os.path.join(self.out_dir, self.FILTERS_FILE)

    @staticmethod
    def _history(trainer):
        # Whether the Trainer appends this epoch's logs to history before or after on_epoch_end, draw it.
        history = list(getattr(trainer, "history", None) or [])
        logs = getattr(trainer, "logs", None)
        if logs and (not history or history[-1].get("epoch") != logs.get("epoch")):
            history.append(logs)
        return history

    def on_epoch_end(self, trainer):
        if trainer.epoch % self.every_n_epochs == 0:
            plot_history(self._history(trainer), self.history_path)

    def on_fit_end(self, trainer):
        history = self._history(trainer)
        if history:
            plot_history(history, self.history_path)
        if _first_conv2d(trainer.model)[1] is not None:
            plot_filters(trainer.model, self.filters_path)
