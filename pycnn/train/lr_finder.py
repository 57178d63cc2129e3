"""The learning-rate range test ("LR finder"): train for a few hundred batches while the lr grows from tiny
to huge, record the loss, and suggest the lr where the loss falls fastest.

lr_find() does the sweep and then puts the model, the optimizer, the gradients, the train/eval flags, the
global random generator and the loader's shuffling state back exactly as they were, so it leaves no
trace; LRFinderResult holds the curve and draws it (matplotlib, imported only when plotting).
"""

import copy
import math
from dataclasses import dataclass, field

import numpy as np

from ..random import default_generator
from ..tensor import Tensor
from .plots import _new_figure, _save

__all__ = ["LRFinderResult", "lr_find"]


@dataclass
class LRFinderResult:
    """The curve recorded by lr_find().

    Attributes:
        lrs (list of float): lr used at each step.
        losses (list of float): exponentially smoothed losses, one per lr (what the suggestion uses).
        raw_losses (list of float): the batch losses as computed.
        suggested_lr (float or None): lr at the steepest descent of the smoothed loss (most negative slope
            against log lr, before the loss minimum); None when the curve is too short to tell.
        diverged (bool): True when the sweep stopped early because the loss blew up (or became non-finite).
        step_mode (str): 'exp' or 'linear', as swept.
    """

    lrs: list = field(default_factory=list)
    losses: list = field(default_factory=list)
    raw_losses: list = field(default_factory=list)
    suggested_lr: float = None
    diverged: bool = False
    step_mode: str = "exp"

    def plot(self, path, title="Learning-rate finder"):
        """Save a PNG of loss against lr (log x axis), raw and smoothed, with the suggestion marked.

        Args:
            path (str or PathLike): where to write the PNG.
            title (str): figure title.
        Returns:
            str: the path written.
        """
        if not self.lrs:
            raise RuntimeError("[LRFinderResult.plot] nothing to plot: the sweep recorded no step")
        figure = _new_figure(7, 4.5, owner="lr_find")
        ax = figure.add_subplot(1, 1, 1)
        ax.plot(self.lrs, self.raw_losses, color="tab:blue", alpha=0.3, linewidth=1, label="batch loss")
        ax.plot(self.lrs, self.losses, color="tab:blue", linewidth=2, label="smoothed loss")
        if self.suggested_lr is not None:
            at = self.lrs.index(self.suggested_lr)
            ax.axvline(self.suggested_lr, color="tab:red", linestyle="--", linewidth=1)
            ax.plot(
                [self.suggested_lr],
                [self.losses[at]],
                marker="o",
                color="tab:red",
                markersize=8,
                label=f"suggested lr = {self.suggested_lr:.2e}",
            )
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss")
        ax.set_title(title)
        # y range: from the lowest loss up to the start plus the depth of the descent, so the blow-up at
        # the end (up to diverge_th x the best) doesn't flatten the part of the curve that matters.
        low = min(min(self.raw_losses), min(self.losses))
        start, best = self.losses[0], min(self.losses)
        high = min(max(self.losses), start + max(start - best, 0.1 * abs(start)))
        margin = 0.05 * (high - low) + 1e-12
        ax.set_ylim(low - margin, high + margin)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend()
        figure.tight_layout()
        return _save(figure, path)


def _lr_schedule(start_lr, end_lr, num_iter, step_mode):
    fractions = np.arange(num_iter) / (num_iter - 1)
    if step_mode == "exp":
        return [float(start_lr * (end_lr / start_lr) ** f) for f in fractions]
    return [float(start_lr + (end_lr - start_lr) * f) for f in fractions]


def _suggest(lrs, losses, step_mode):
    """lr with the most negative slope of the smoothed loss (against log10 lr for 'exp'), looked for
    between the second point and the loss minimum: after the minimum the loss is already rising."""
    lowest = int(np.argmin(losses))
    if lowest < 2:
        return None
    x = np.log10(lrs) if step_mode == "exp" else np.asarray(lrs)
    slope = np.gradient(np.asarray(losses), x)
    steepest = 1 + int(np.argmin(slope[1 : lowest + 1]))
    return lrs[steepest]


class _Snapshot:
    """Everything the sweep changes, copied so that it can be put back bitwise."""

    def __init__(self, model, optimizer, loader):
        self.model_state = copy.deepcopy(model.state_dict())
        self.optimizer_state = copy.deepcopy(optimizer.state_dict())
        self.grads = [(p, None if p.grad is None else p.grad.detach().clone()) for p in model.parameters()]
        self.training = [(m, m.training) for m in model.modules()]
        self.rng_state = copy.deepcopy(default_generator().get_state())
        # A pycnn DataLoader draws its shuffles from its own generator: save that too (duck-typed, so any
        # loader with state_dict/load_state_dict is covered).
        saveable = all(callable(getattr(loader, name, None)) for name in ("state_dict", "load_state_dict"))
        self.loader_state = copy.deepcopy(loader.state_dict()) if saveable else None

    def restore(self, model, optimizer, loader):
        model.load_state_dict(self.model_state)
        optimizer.load_state_dict(self.optimizer_state)
        for p, grad in self.grads:
            p.grad = grad
        # Pre-order: each module's own call comes after its ancestors' (which also set it) and wins.
        for module, flag in self.training:
            module.train(flag)
        default_generator().set_state(self.rng_state)
        if self.loader_state is not None:
            loader.load_state_dict(self.loader_state)


def _check_args(start_lr, end_lr, num_iter, step_mode, smooth_f, diverge_th):
    if step_mode not in ("exp", "linear"):
        raise ValueError(f"[lr_find] step_mode must be 'exp' or 'linear', got {step_mode!r}")
    if not start_lr > 0:
        raise ValueError(f"[lr_find] start_lr must be > 0, got {start_lr}")
    if not end_lr > start_lr:
        raise ValueError(f"[lr_find] end_lr must be larger than start_lr, got start_lr={start_lr}, end_lr={end_lr}")
    if not isinstance(num_iter, int) or num_iter < 2:
        raise ValueError(f"[lr_find] num_iter must be an integer >= 2, got {num_iter!r}")
    if not 0 < smooth_f <= 1:
        raise ValueError(f"[lr_find] smooth_f must be in (0, 1], got {smooth_f}")
    if not diverge_th > 1:
        raise ValueError(f"[lr_find] diverge_th must be > 1, got {diverge_th}")


def _batches(loader):
    """Batches forever, restarting the loader when it runs out."""
    while True:
        empty = True
        for batch in loader:
            empty = False
            yield batch
        if empty:
            raise ValueError("[lr_find] train_loader yielded no batch")


def _split(batch, device):
    if not isinstance(batch, (list, tuple)) or len(batch) < 2:
        raise TypeError(f"[lr_find] expected batches of (inputs, targets), got {type(batch).__name__}")
    inputs, targets = batch[0], batch[1]
    if isinstance(inputs, Tensor) and device is not None and inputs.device != device:
        inputs = inputs.to(device)
    if isinstance(targets, Tensor) and device is not None and targets.device != device:
        targets = targets.to(device)
    return inputs, targets


def lr_find(
    model,
    train_loader,
    loss_fn,
    optimizer,
    start_lr=1e-7,
    end_lr=10,
    num_iter=100,
    step_mode="exp",
    smooth_f=0.05,
    diverge_th=5,
    plot=None,
):
    """Learning-rate range test: one optimizer step per batch with the lr swept from start_lr to end_lr.

    The lr of every param group is set to the swept value. The loss is smoothed as
    s_i = smooth_f * loss_i + (1 - smooth_f) * s_(i-1); the sweep stops early once s_i exceeds diverge_th
    times the best smoothed loss so far, or a loss is not finite. Afterwards the model's parameters and
    buffers, the optimizer's state and options, the gradients, the train/eval flags and the global random
    generator are restored exactly, and so is the loader's shuffling state when it has state_dict() (a
    pycnn DataLoader does): the call leaves no trace. (Restoring a loader stopped in the middle of an
    epoch makes it resume that epoch, as DataLoader.load_state_dict does.)

    Args:
        model (Module): the model to probe.
        train_loader (iterable): yields (inputs, targets) batches; restarted when exhausted.
        loss_fn (callable): loss_fn(model(inputs), targets) -> scalar Tensor.
        optimizer (Optimizer): updates the model's parameters.
        start_lr (float): first lr. Default: 1e-7.
        end_lr (float): last lr. Default: 10.
        num_iter (int): number of steps (batches). Default: 100.
        step_mode (str): 'exp' (geometric sweep, default) or 'linear'.
        smooth_f (float): weight of the new loss in the running average, in (0, 1]. Default: 0.05.
        diverge_th (float): stop when the smoothed loss exceeds diverge_th x the best. Default: 5.
        plot (str or PathLike, optional): also save the curve to this PNG path.
    Returns:
        LRFinderResult.
    """
    _check_args(start_lr, end_lr, num_iter, step_mode, smooth_f, diverge_th)
    params = list(model.parameters())
    device = params[0].device if params else None
    result = LRFinderResult(step_mode=step_mode)
    snapshot = _Snapshot(model, optimizer, train_loader)
    try:
        model.train()
        batches = _batches(train_loader)
        best = math.inf
        for lr in _lr_schedule(start_lr, end_lr, num_iter, step_mode):
            for group in optimizer.param_groups:
                group["lr"] = lr
            inputs, targets = _split(next(batches), device)
            optimizer.zero_grad()
            loss = loss_fn(model(inputs), targets)
            value = float(loss.item())
            if not math.isfinite(value):
                result.diverged = True
                break
            loss.backward()
            optimizer.step()
            smoothed = value if not result.losses else smooth_f * value + (1 - smooth_f) * result.losses[-1]
            result.lrs.append(lr)
            result.raw_losses.append(value)
            result.losses.append(smoothed)
            best = min(best, smoothed)
            if smoothed > diverge_th * best:
                result.diverged = True
                break
    finally:
        snapshot.restore(model, optimizer, train_loader)
    result.suggested_lr = _suggest(result.lrs, result.losses, step_mode) if result.lrs else None
    if plot is not None:
        result.plot(plot)
    return result
