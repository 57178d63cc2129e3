"""Callbacks for pycnn.train: small objects the Trainer calls at fixed points of the loop.

A callback overrides only the hooks it needs; each hook gets the running Trainer, whose attributes are the
whole interface (see Trainer's docstring: model, optimizer, epoch, global_step, batch, outputs, loss,
batch_logs, logs, history, stop_training). Hooks run in the order the callbacks were given, stable-sorted
by their `order`. state_dict()/load_state_dict() carry what a callback must remember across a resume.
After the base class come the core callbacks: LRSchedulerCallback, EarlyStopping, ModelCheckpoint,
GradientClipping and NaNGuard (with find_nonfinite_layer, its forward replay).
"""

import math
import os

from .. import _C
from .. import distributed as dist
from .._convert import bool_arg
from ..autograd import no_grad
from ..nn import Module
from ..nn.utils import clip_grad_norm_, clip_grad_value_
from ..optim.lr_scheduler import ReduceLROnPlateau
from ..random import cuda_generator, default_generator
from ..serialization import save
from ..tensor import Tensor
from . import _distributed
from .checkpoint import checkpoint_state

__all__ = [
    "Callback",
    "EarlyStopping",
    "GradientClipping",
    "LRSchedulerCallback",
    "ModelCheckpoint",
    "NaNGuard",
    "TerminateOnNaN",
    "find_nonfinite_layer",
]


class Callback:
    """Base class: every hook is a no-op.

    Order of calls in one fit:
        on_fit_begin
        for each epoch: on_epoch_begin,
            for each batch: on_batch_begin, (forward, loss, backward), on_after_backward,
                            (optimizer.step), on_batch_end
            (validation), on_epoch_end          # trainer.logs is complete here
        on_fit_end                              # also after an early stop or a NaN stop

    Callbacks run in the order given, stable-sorted by their class attribute `order` (default 0; the
    scheduler callback uses -10 so later callbacks see the stepped lr, ModelCheckpoint 10 so it saves
    everyone's updated state). A resumed fit calls load_state_dict() right after on_fit_begin, so a
    callback may reset itself in on_fit_begin.

    In distributed training a callback with rank_zero_only = True (the progress bar, loggers, figures and
    checkpoints) runs on rank 0 alone; the others run on every rank, where trainer.logs are the same.
    """

    order = 0
    rank_zero_only = False

    def on_fit_begin(self, trainer):
        pass

    def on_epoch_begin(self, trainer):
        pass

    def on_batch_begin(self, trainer):
        pass

    def on_after_backward(self, trainer):
        """Gradients are ready and the optimizer has not stepped: clip or inspect them here."""

    def on_batch_end(self, trainer):
        pass

    def on_epoch_end(self, trainer):
        pass

    def on_fit_end(self, trainer):
        pass

    def state_dict(self):
        """State to store in a checkpoint (default: nothing): JSON values (None, bool, int, float, str,
        lists, tuples, dicts) and numpy arrays or Tensors, which the checkpoint stores as tensors."""
        return {}

    def load_state_dict(self, state):
        pass


# ------------------------------------------------------------------------------------------------ helpers


def _resolve_mode(mode, monitor, owner):
    """'min' or 'max'; 'auto' reads the name: accuracies and scores go up, everything else (losses) down."""
    if mode not in ("min", "max", "auto"):
        raise ValueError(f"[{owner}] mode must be 'min', 'max' or 'auto', got {mode!r}")
    if mode != "auto":
        return mode
    higher_is_better = ("acc", "f1", "precision", "recall", "auc", "iou", "score")
    return "max" if any(word in monitor.lower() for word in higher_is_better) else "min"


def _monitored(logs, monitor, owner):
    """logs[monitor] as a float, or a RuntimeError listing what the logs do hold."""
    if monitor not in logs:
        raise RuntimeError(
            f"[{owner}] monitor={monitor!r} is not in the epoch logs; available: "
            f"{sorted(logs)} (val_* keys need a val_loader)"
        )
    return float(logs[monitor])


def _is_improvement(current, best, mode, min_delta=0.0):
    """current beats best by more than min_delta (NaN never does)."""
    if best is None:
        return not math.isnan(current)
    if mode == "min":
        return current < best - min_delta
    return current > best + min_delta


def _is_finite(t):
    """True when a Tensor holds no nan/inf. One pass in C++ on the CPU (sum of |x| in double: a nan or an
    inf anywhere makes it non-finite, finite float32 values cannot overflow it)."""
    if not t.dtype.is_floating_point:
        return True
    if t.device.type == "cpu":
        return math.isfinite(_C.lp_sum(t._impl, 1.0))
    return math.isfinite(float(t.detach().abs().sum().item()))


def _first_tensor(out):
    """The tensor to inspect in a module's output (tuples: the first tensor in them)."""
    if isinstance(out, Tensor):
        return out
    if isinstance(out, (tuple, list)):
        for item in out:
            found = _first_tensor(item)
            if found is not None:
                return found
    return None


# ------------------------------------------------------------------------------------------------ callbacks


class LRSchedulerCallback(Callback):
    """Steps a learning-rate scheduler: after every optimizer step (interval='batch') or at every epoch end.

    fit(..., scheduler=s) adds one for you. ReduceLROnPlateau is stepped with logs[monitor] at epoch end.

    Args:
        scheduler: a pycnn.optim.lr_scheduler object.
        interval (str): 'epoch' (default) or 'batch' (OneCycleLR, CyclicLR, warm-up schedules).
        monitor (str): the epoch-log key ReduceLROnPlateau watches. Default: 'val_loss'.
    It runs before the other callbacks (order -10), so a checkpoint written at this epoch's end already
    holds the stepped scheduler and resumes with the right learning rate.
    """

    order = -10

    def __init__(self, scheduler, interval="epoch", monitor="val_loss"):
        if not callable(getattr(scheduler, "step", None)):
            raise TypeError(
                "[LRSchedulerCallback] expected a learning-rate scheduler (pycnn.optim.lr_scheduler), "
                f"got {type(scheduler).__name__}"
            )
        if interval not in ("epoch", "batch"):
            raise ValueError(f"[LRSchedulerCallback] interval must be 'epoch' or 'batch', got {interval!r}")
        self.scheduler = scheduler
        self.interval = interval
        self.monitor = monitor
        self.is_plateau = _is_plateau_scheduler(scheduler)
        if self.is_plateau and interval == "batch":
            raise ValueError(
                f"[LRSchedulerCallback] ReduceLROnPlateau watches an epoch metric ({monitor!r}); use interval='epoch'"
            )

    def on_batch_end(self, trainer):
        # A batch whose update was skipped (NaNGuard) must not advance the schedule either.
        if self.interval == "batch" and not trainer.skip_step:
            self.scheduler.step()

    def on_epoch_end(self, trainer):
        if self.interval != "epoch":
            return
        if self.is_plateau:
            self.scheduler.step(_monitored(trainer.logs, self.monitor, "LRSchedulerCallback"))
        else:
            self.scheduler.step()


def _is_plateau_scheduler(scheduler):
    if isinstance(scheduler, ReduceLROnPlateau):
        return True
    return type(scheduler).__name__ == "ReduceLROnPlateau"  # torch's, or a user's duck-typed one


class EarlyStopping(Callback):
    """Stops training when a monitored epoch metric has stopped improving.

    Args:
        monitor (str): epoch-log key, e.g. 'val_loss' (default) or 'val_acc'.
        mode (str): 'min', 'max' or 'auto' (default: 'max' for accuracy-like names, else 'min').
        patience (int): epochs without improvement before stopping (0: stop at the first one). Default: 5.
        min_delta (float): an improvement must beat the best value by more than this. Default: 0.
        restore_best_weights (bool): at fit end, load the weights of the best epoch (kept as a copy of the
            model's state dict each time the metric improves). Default: True.
        verbose (bool): print a line when it stops and when it restores. Default: True.
    Attributes: best, best_epoch, wait (epochs since the best), stopped_epoch (None unless it stopped).
    """

    def __init__(
        self, monitor="val_loss", mode="auto", patience=5, min_delta=0.0, restore_best_weights=True, verbose=True
    ):
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"[EarlyStopping] patience must be an int >= 0, got {patience!r}")
        if not min_delta >= 0:
            raise ValueError(f"[EarlyStopping] min_delta must be >= 0, got {min_delta!r}")
        self.monitor = monitor
        self.mode = _resolve_mode(mode, monitor, "EarlyStopping")
        self.patience = patience
        self.min_delta = float(min_delta)
        self.restore_best_weights = restore_best_weights
        self.verbose = verbose
        self._reset()

    def _reset(self):
        self.best = None
        self.best_epoch = None
        self.wait = 0
        self.stopped_epoch = None
        self.best_weights = None

    def on_fit_begin(self, trainer):
        self._reset()  # a resumed fit restores the saved state right after this hook

    def on_epoch_end(self, trainer):
        current = _monitored(trainer.logs, self.monitor, "EarlyStopping")
        if _is_improvement(current, self.best, self.mode, self.min_delta):
            self.best, self.best_epoch, self.wait = current, trainer.epoch, 0
            if self.restore_best_weights:
                self.best_weights = {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = trainer.epoch
            trainer.stop_training = True
            trainer.stop_reason = (
                f"EarlyStopping: {self.monitor} did not improve for {self.wait} epoch(s) "
                f"(best {self.best:.6g} at epoch {self.best_epoch})"
            )
            if self.verbose and _distributed.is_main_process():  # every rank decides alike; one says so
                print(trainer.stop_reason)

    def on_fit_end(self, trainer):
        if self.restore_best_weights and self.best_weights is not None:
            trainer.model.load_state_dict(self.best_weights)
            if self.verbose and self.best_epoch != trainer.epoch and _distributed.is_main_process():
                print(
                    f"EarlyStopping: restored the weights of epoch {self.best_epoch} ({self.monitor} = {self.best:.6g})"
                )

    def state_dict(self):
        return {
            "best": self.best,
            "best_epoch": self.best_epoch,
            "wait": self.wait,
            "stopped_epoch": self.stopped_epoch,
            "best_weights": self.best_weights,
        }

    def load_state_dict(self, state):
        self.best = state["best"]
        self.best_epoch = state["best_epoch"]
        self.wait = state["wait"]
        self.stopped_epoch = state["stopped_epoch"]
        weights = state.get("best_weights")
        self.best_weights = None if weights is None else {k: v.detach().clone() for k, v in weights.items()}


class ModelCheckpoint(Callback):
    """Writes full checkpoints (model, optimizer, scheduler, RNG, history, callback states; see
    pycnn.train.checkpoint) at epoch ends, each atomically.

    Files in `dirpath`:
        <filename formatted with the epoch logs>   e.g. epoch003-0.1234.safetensors, pruned to the k kept
        best.safetensors                           the best epoch by `monitor` so far (save_best)
        last.safetensors                           the most recent save (save_last); resume from it
    A file is removed only after the new one is safely on disk, and a crash while writing leaves the
    previous file intact (save writes a temporary file and renames it).

    Args:
        dirpath (str or os.PathLike): directory, created if needed.
        filename (str or None): str.format pattern over the epoch logs plus 'epoch' and 'step'
            (global_step); None writes only best/last. Default: 'epoch{epoch:03d}-{val_loss:.4f}.safetensors'.
        monitor (str or None): epoch-log key that ranks checkpoints. Default: 'val_loss'.
        mode (str): 'min', 'max' or 'auto' (by the monitor's name). Default: 'auto'.
        save_best_only (bool): write the per-epoch file only when the monitor improves. Default: False.
        save_top_k (int or None): keep the k best per-epoch files by the monitor. Default: None (all).
        keep_last_k (int or None): keep the k most recent per-epoch files. With save_top_k too, a file is
            kept when either rule keeps it. Default: None.
        save_best (bool), save_last (bool): maintain best.safetensors / last.safetensors. Default: True.
        every_n_epochs (int): only consider epochs divisible by n. Default: 1.
        verbose (bool): print a line per save. Default: False.
        extra (dict, optional): JSON-able data stored in every checkpoint (e.g. how to rebuild the model);
            load_checkpoint returns it as 'extra'.
    Attributes: best (monitor value), best_epoch, best_model_path, last_model_path, saved (list of
    {'filename', 'epoch', 'score'} for the per-epoch files on disk, oldest first).
    """

    order = 10  # last: the checkpoint then holds the other callbacks' state after this epoch's update
    rank_zero_only = True  # in distributed training every rank holds the same weights: rank 0 writes them

    def __init__(
        self,
        dirpath,
        filename="epoch{epoch:03d}-{val_loss:.4f}.safetensors",
        monitor="val_loss",
        mode="auto",
        save_best_only=False,
        save_top_k=None,
        keep_last_k=None,
        save_best=True,
        save_last=True,
        every_n_epochs=1,
        verbose=False,
        extra=None,
    ):
        for name, k in (("save_top_k", save_top_k), ("keep_last_k", keep_last_k)):
            if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
                raise ValueError(f"[ModelCheckpoint] {name} must be None or an int >= 1, got {k!r}")
        if isinstance(every_n_epochs, bool) or not isinstance(every_n_epochs, int) or every_n_epochs < 1:
            raise ValueError(f"[ModelCheckpoint] every_n_epochs must be an int >= 1, got {every_n_epochs!r}")
        if monitor is None and (save_top_k is not None or save_best_only):
            raise ValueError(
                "[ModelCheckpoint] save_top_k and save_best_only rank checkpoints by a monitor; monitor is None"
            )
        self.dirpath = os.fspath(dirpath)
        self.filename = filename
        self.monitor = monitor
        self.mode = _resolve_mode(mode, monitor, "ModelCheckpoint") if monitor is not None else None
        self.save_best_only = save_best_only
        self.save_top_k = save_top_k
        self.keep_last_k = keep_last_k
        self.save_best = save_best and monitor is not None
        self.save_last = save_last
        self.every_n_epochs = every_n_epochs
        self.verbose = verbose
        self.extra = extra
        self.best = None
        self.best_epoch = None
        self.saved = []

    @property
    def best_model_path(self):
        return os.path.join(self.dirpath, "best.safetensors") if self.best_epoch is not None else None

    @property
    def last_model_path(self):
        path = os.path.join(self.dirpath, "last.safetensors")
        return path if self.save_last and os.path.exists(path) else None

    def _format_filename(self, trainer):
        fields = dict(trainer.logs)
        fields.update(epoch=trainer.epoch, step=trainer.global_step)
        try:
            return self.filename.format(**fields)
        except (KeyError, IndexError) as exc:
            raise ValueError(
                f"[ModelCheckpoint] filename {self.filename!r} uses {exc} which is not in the "
                f"epoch logs; available: {sorted(fields)}"
            ) from None

    def _kept(self, entries):
        """The entries the k rules keep (all of them when neither is set), in their original order."""
        if self.save_top_k is None and self.keep_last_k is None:
            return list(entries)
        keep = set()
        if self.save_top_k is not None:

            def rank(entry):  # best first; NaN scores last; among equal scores the newer file first
                score = entry["score"]
                if math.isnan(score):
                    return (1, 0.0, -entry["epoch"])
                return (0, score if self.mode == "min" else -score, -entry["epoch"])

            ranked = sorted(entries, key=rank)
            keep.update(e["filename"] for e in ranked[: self.save_top_k])
        if self.keep_last_k is not None:
            keep.update(e["filename"] for e in entries[-self.keep_last_k :])
        return [e for e in entries if e["filename"] in keep]

    def on_epoch_end(self, trainer):
        if trainer.epoch % self.every_n_epochs != 0:
            return
        current = _monitored(trainer.logs, self.monitor, "ModelCheckpoint") if self.monitor else None
        improved = self.monitor is not None and _is_improvement(current, self.best, self.mode)
        write_named = self.filename is not None and (improved or not self.save_best_only)
        named = self._format_filename(trainer) if write_named else None

        # Plan the new bookkeeping first, so the checkpoint written now already describes itself.
        previous = self.state_dict()
        if improved:
            self.best, self.best_epoch = current, trainer.epoch
        removed = []
        if named is not None:
            entries = [e for e in self.saved if e["filename"] != named]  # same name: overwritten in place
            entries.append({"filename": named, "epoch": trainer.epoch, "score": current})
            self.saved = self._kept(entries)
            kept = {e["filename"] for e in self.saved}
            removed = [e["filename"] for e in entries if e["filename"] not in kept and e["filename"] != named]
            if named not in kept:
                named = None  # worse than the k kept ones: not worth writing
        targets = [named] if named is not None else []
        if improved and self.save_best:
            targets.append("best.safetensors")
        if self.save_last:
            targets.append("last.safetensors")
        try:
            os.makedirs(self.dirpath, exist_ok=True)
            tensors, metadata = checkpoint_state(None, extra=self.extra, trainer=trainer)
            for target in targets:
                save(tensors, os.path.join(self.dirpath, target), metadata=metadata)
        except BaseException:
            self.load_state_dict(previous)  # nothing was deleted; the previous files are intact
            raise
        for filename in removed:  # only now that the new files are on disk
            try:
                os.remove(os.path.join(self.dirpath, filename))
            except FileNotFoundError:
                pass
        if self.verbose and targets:
            print(f"ModelCheckpoint: epoch {trainer.epoch} saved to {', '.join(targets)} in {self.dirpath}")

    def state_dict(self):
        return {"best": self.best, "best_epoch": self.best_epoch, "saved": [dict(e) for e in self.saved]}

    def load_state_dict(self, state):
        self.best = state["best"]
        self.best_epoch = state["best_epoch"]
        self.saved = [dict(e) for e in state["saved"]]


class GradientClipping(Callback):
    """Clips gradients after backward and before the optimizer step (pycnn.nn.utils.clip_grad_*_).

    Args:
        max_norm (float or None): rescale so the joint norm of all gradients is at most max_norm.
        norm_type (float): p of that norm (float('inf') for the max). Default: 2.
        clip_value (float or None): clamp every gradient element to [-clip_value, clip_value] (applied
            before the norm clipping when both are given).
    The total norm before clipping is logged as trainer.batch_logs['grad_norm'] (None on a GPU batch whose
    loss the trainer does not read back: see Trainer's log_every).
    """

    def __init__(self, max_norm=None, norm_type=2.0, clip_value=None):
        if max_norm is None and clip_value is None:
            raise ValueError("[GradientClipping] give max_norm, clip_value or both")
        if max_norm is not None and not max_norm > 0:
            raise ValueError(f"[GradientClipping] max_norm must be positive, got {max_norm!r}")
        if clip_value is not None and not clip_value >= 0:
            raise ValueError(f"[GradientClipping] clip_value must be >= 0, got {clip_value!r}")
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.clip_value = clip_value
        self._params = None

    def on_fit_begin(self, trainer):
        self._params = list(trainer.model.parameters())

    def on_after_backward(self, trainer):

        if self._params is None:
            self._params = list(trainer.model.parameters())
        if self.clip_value is not None:
            clip_grad_value_(self._params, self.clip_value)
        if self.max_norm is not None:
            total = clip_grad_norm_(self._params, self.max_norm, self.norm_type)
            # on a GPU, read back only on the batches whose loss the trainer reads (its log_every)
            unread = total.is_cuda and trainer.loss is None
            trainer.batch_logs["grad_norm"] = None if unread else float(total.item())


class NaNGuard(Callback):
    """Stops training at the first non-finite loss or gradient, and says where it came from.

    Every batch it checks the loss and (check_grads) every gradient, after backward and before the
    optimizer step, which it then skips, so the weights stay finite. The message names:
      - for a non-finite loss: the first layer (module name from named_modules) whose output went
        non-finite. Only then are the modules wrapped (as pycnn.summary does: Module has no hooks) and
        the batch's forward is run once more under no_grad with the same dropout randomness; the RNG and
        the buffers (BatchNorm statistics) are put back afterwards. Or the input batch, or the loss function
        when the model's outputs are finite.
      - for a finite loss with a non-finite gradient: the first parameter (named_parameters order).

    Args:
        check_grads (bool): also check gradients every batch. Default: True.
        find_layer (bool): do the forward rerun described above. Default: True.
        raise_error (bool): raise RuntimeError instead of stopping cleanly. Default: False.
        verbose (bool): print the message. Default: True.
    It sets trainer.stop_training, trainer.stop_reason and trainer.skip_step; `message` keeps the text.
    """

    order = -5  # before GradientClipping, which would otherwise hide an inf gradient as nan or zeros

    def __init__(self, check_grads=True, find_layer=True, raise_error=False, verbose=True):
        owner = type(self).__name__
        self.check_grads = bool_arg(check_grads, "check_grads", owner)
        self.find_layer = bool_arg(find_layer, "find_layer", owner)
        self.raise_error = bool_arg(raise_error, "raise_error", owner)
        self.verbose = bool_arg(verbose, "verbose", owner)
        self.message = None
        self._rng_state = None
        self._named_params = None

    def on_fit_begin(self, trainer):
        self.message = None
        self._named_params = list(trainer.model.named_parameters())

    def on_batch_begin(self, trainer):
        if self.find_layer:  # so the rerun draws the same dropout masks (CUDA dropout has its own generator)
            self._rng_state = _dropout_generator(trainer.batch[0]).get_state()

    def on_after_backward(self, trainer):
        where = f"epoch {trainer.epoch}, batch {trainer.batch_index} (global step {trainer.global_step})"
        if _distributed.active():  # only the rank that saw it prints: say which one
            where += f" on rank {dist.get_rank()}"
        # trainer.loss is None on a GPU batch whose loss was not read back (Trainer's log_every): checking
        # it, or the gradients, would read from the device at every step; both are checked at the reads.
        if trainer.loss is None:
            return
        if not math.isfinite(trainer.loss):
            culprit = self._find_culprit(trainer) if self.find_layer else "(find_layer=False: not searched)"
            self._stop(trainer, f"NaNGuard: non-finite loss ({trainer.loss}) at {where}; {culprit}")
            return
        if self.check_grads:
            if self._named_params is None:
                self._named_params = list(trainer.model.named_parameters())
            for name, p in self._named_params:
                if p.grad is not None and not _is_finite(p.grad):
                    self._stop(
                        trainer,
                        f"NaNGuard: non-finite gradient at {where}; first parameter with a "
                        f"non-finite gradient: '{name}' (shape {tuple(p.shape)})",
                    )
                    return

    def _stop(self, trainer, message):
        self.message = message
        trainer.stop_training = True
        trainer.skip_step = True
        trainer.stop_reason = message
        if self.raise_error:
            raise RuntimeError(message)
        if self.verbose:
            print(message)

    def _find_culprit(self, trainer):
        inputs = trainer.batch[0]
        if not _is_finite(inputs):
            return "the input batch itself holds non-finite values"
        if trainer.outputs is not None and _is_finite(trainer.outputs):
            return "the model's outputs are finite: the loss function produced it"
        name = find_nonfinite_layer(trainer.model, inputs, self._rng_state)
        if name is None:
            return "a rerun of the forward pass was finite (could not locate the layer)"
        module = trainer.model.get_submodule(name)
        label = f"'{name}'" if name else "the model's own forward"
        return f"first layer with a non-finite output: {label} ({type(module).__name__})"


class TerminateOnNaN(NaNGuard):
    """Keras' name for NaNGuard: the same callback, with the same arguments."""


def _dropout_generator(inputs):
    """The generator dropout on `inputs`' device draws its mask seeds from (pycnn.nn.functional._dropout)."""
    return cuda_generator() if isinstance(inputs, Tensor) and inputs.is_cuda else default_generator()


def find_nonfinite_layer(model, inputs, rng_state=None):
    """Name (from named_modules; '' is the model itself) of the first module whose output is non-finite
    in a forward pass of `inputs` under no_grad, or None. Modules finish in post-order, so the first one
    to finish with a bad output is the innermost culprit. Buffers and the RNG are restored afterwards.

    Args:
        model (nn.Module), inputs (Tensor): the batch to replay, in the model's current mode.
        rng_state: the dropout generator's state to replay from (the one the failing forward started with):
            default_generator()'s for CPU inputs, pycnn.random.cuda_generator()'s for CUDA inputs.
    """
    if not isinstance(model, Module):
        raise TypeError(f"[find_nonfinite_layer] expected model to be a pycnn.nn.Module, got {type(model).__name__}")
    if not isinstance(inputs, Tensor):
        raise TypeError(f"[find_nonfinite_layer] expected inputs to be a pycnn.Tensor, got {type(inputs).__name__}")
    found = []

    def wrap(name, module):
        original = module.forward

        def forward(*args, **kwargs):
            out = original(*args, **kwargs)
            tensor = _first_tensor(out)
            if not found and tensor is not None and not _is_finite(tensor):
                found.append(name)
            return out

        return forward

    generator = _dropout_generator(inputs)
    saved_rng = generator.get_state()
    saved_buffers = [(b, b.detach().clone()) for b in model.buffers()]
    wrapped = []
    try:
        for name, module in model.named_modules():
            wrapped.append((module, module.__dict__.get("forward")))
            module.__dict__["forward"] = wrap(name, module)
        if rng_state is not None:
            generator.set_state(rng_state)
        with no_grad():
            model(inputs)
    finally:
        for module, own in wrapped:
            if own is not None:
                module.__dict__["forward"] = own
            else:
                module.__dict__.pop("forward", None)
        generator.set_state(saved_rng)
        with no_grad():
            for buffer, copy in saved_buffers:
                buffer.copy_(copy)
        for module in model.modules():
            # a BatchNorm's count mirror (GPU) counted the replay: the restored buffer is read again instead
            module.__dict__.pop("_nbt_mirror", None)
    return found[0] if found else None
