"""The training loop: fit / Trainer, evaluate and predict.

Trainer.fit() is the whole loop in plain Python: for each epoch, for each batch: forward, loss, backward,
optimizer step, with callback hooks in between (callbacks.py holds the contract), then validation.
Everything a callback may read is an attribute of the Trainer (see its docstring). Per batch the loop
adds one loss.item() and one argmax to a hand-written loop, nothing else, so it costs no speed.
evaluate() and predict() are the test-time helpers: eval mode, no_grad, the model's modes restored.
In a process group of several ranks (pycnn.distributed) the same loop trains data-parallel; _distributed.py
holds the few collectives it adds, and Trainer's docstring says what changes.
"""

import time

import numpy as np

from .. import _tensor_ops as _tops
from .._convert import int_arg
from .._types import as_device, float64
from ..autograd import no_grad
from ..data import DistributedSampler
from ..metrics import ConfusionMatrix, _as_numpy
from ..nn import Module
from ..nn._arguments import one_of
from ..nn.parallel import DistributedDataParallel
from . import _distributed
from .callbacks import LRSchedulerCallback
from .checkpoint import load_checkpoint, restore_callback_states, restore_rng_state

__all__ = ["History", "Trainer", "evaluate", "fit", "predict"]


class History(list):
    """The per-epoch log dicts of a fit, oldest first (a list); as_dict() gives the column view."""

    def as_dict(self):
        """{key: [value per epoch]} over every key any epoch logged (None where an epoch lacks it)."""
        keys = []
        for logs in self:
            keys.extend(k for k in logs if k not in keys)
        return {k: [logs.get(k) for logs in self] for k in keys}

    def __repr__(self):
        keys = list(self.as_dict())
        return f"History({len(self)} epoch(s); keys: {', '.join(keys)})"


# ------------------------------------------------------------------------------------------------ helpers


def _split_batch(batch, device, owner):
    """The (inputs, targets) of a loader's batch, moved to `device` when one is given."""
    if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
        length = f" of length {len(batch)}" if isinstance(batch, (tuple, list)) else ""
        raise TypeError(
            f"[{owner}] expected the loader to yield (inputs, targets) pairs, got a {type(batch).__name__}{length}"
        )
    inputs, targets = batch[0], batch[1]
    if device is not None:
        inputs, targets = _move(inputs, device), _move(targets, device)
    return inputs, targets


def _move(t, device):
    """t on `device`; a batch in pinned memory (DataLoader(pin_memory=True)) is copied without waiting."""
    pinned = t.is_pinned() if hasattr(t, "is_pinned") else False
    return t.to(device, non_blocking=True) if pinned else t.to(device)


def _predicted_and_true(outputs, targets, owner):
    """Class predictions and true classes as NumPy int arrays: argmax over dim 1 of (N, C, ...) logits;
    targets are class indices (N, ...) or one-hot / probabilities shaped like the outputs."""
    if outputs.ndim < 2:
        raise ValueError(
            f"[{owner}] accuracy needs logits of shape (N, C), got outputs of shape "
            f"{tuple(outputs.shape)}; pass metrics=() for other tasks"
        )
    predicted = _as_numpy(outputs.argmax(1), owner, "outputs")
    if targets.ndim == outputs.ndim:
        true = _as_numpy(targets.argmax(1), owner, "targets")
    elif targets.ndim == outputs.ndim - 1 and not targets.dtype.is_floating_point:
        true = _as_numpy(targets, owner, "targets")
    else:
        raise ValueError(
            f"[{owner}] accuracy needs class-index targets of shape {tuple(outputs.shape[:1])} "
            f"or one-hot targets of shape {tuple(outputs.shape)}, got {targets.dtype} targets "
            f"of shape {tuple(targets.shape)}; pass metrics=() for other tasks"
        )
    return predicted, true


def _correct_on_device(outputs, targets, owner="fit"):
    """The number of correct predictions as a 0-d float64 tensor on the outputs' device (no host read);
    the same rules as _predicted_and_true, whose errors it raises."""
    if outputs.ndim < 2 or not (
        targets.ndim == outputs.ndim or (targets.ndim == outputs.ndim - 1 and not targets.dtype.is_floating_point)
    ):
        _predicted_and_true(outputs, targets, owner)  # raises the shape error
    predicted = outputs.argmax(1)
    true = targets.argmax(1) if targets.ndim == outputs.ndim else targets
    return _tops.compare(predicted, true, "eq").to(float64).sum()


def _parse_metrics(metrics):
    """('accuracy', fn, ...) -> (want_accuracy, [(name, fn)]); fn(outputs, targets) returns a batch mean."""
    want_accuracy, functions = False, []
    for metric in metrics or ():
        if metric in ("accuracy", "acc"):
            want_accuracy = True
        elif callable(metric):
            functions.append((getattr(metric, "__name__", type(metric).__name__), metric))
        else:
            raise ValueError(
                f"[fit] unknown metric {metric!r}: use 'accuracy' or a callable "
                "fn(outputs, targets) -> float (logged as train_<name> and val_<name>)"
            )
    return want_accuracy, functions


def _check_loop_arguments(epochs, scheduler_interval, op):
    """The epoch count and scheduler interval of fit / Trainer, checked where they enter."""
    if int_arg(epochs, "epochs", op) < 0:
        raise ValueError(f"[{op}] epochs must be an int >= 0, got {epochs!r}")
    one_of(scheduler_interval, ("epoch", "batch"), "scheduler_interval", op)


def _check_model(model, op):
    if not isinstance(model, Module):
        raise TypeError(f"[{op}] expected model to be a pycnn.nn.Module, got {type(model).__name__}")


class _Modes:
    """Context manager: eval mode + no_grad inside; every module's training flag restored on exit."""

    def __init__(self, model):
        self.model = model

    def __enter__(self):
        self.saved = [(m, m.training) for m in self.model.modules()]
        self.model.eval()
        self.no_grad = no_grad()
        self.no_grad.__enter__()
        return self

    def __exit__(self, *exc):
        self.no_grad.__exit__(*exc)
        for module, mode in self.saved:
            object.__setattr__(module, "training", mode)
        return False


def _evaluate_loop(model, loader, loss_fn, device, want_accuracy, metric_fns, num_classes, owner, reduce=False):
    """One pass over `loader` in eval mode; sample-weighted means of the loss and metrics.
    want_accuracy=None decides on the first batch: accuracy only for class-index targets. On a GPU the loss
    and accuracy sums stay on the device and are read once, at the end (a confusion matrix still reads each
    batch's predictions). reduce=True sums the counts over the ranks of the process group first (every
    rank must call it), so each rank returns the metrics of all the ranks' shards together."""
    seen, loss_sum, correct = 0, 0.0, 0
    device_loss_sum = device_correct = None
    sums = {name: 0.0 for name, _ in metric_fns}
    confusion = ConfusionMatrix(num_classes) if num_classes else None
    with _Modes(model):
        for batch in loader:
            inputs, targets = _split_batch(batch, device, owner)
            outputs = model(inputs)
            if want_accuracy is None:
                want_accuracy = (
                    outputs.ndim >= 2 and targets.ndim == outputs.ndim - 1 and not targets.dtype.is_floating_point
                )
            n = len(targets)
            seen += n
            on_gpu = outputs.is_cuda
            if loss_fn is not None:
                loss = loss_fn(outputs, targets)
                if on_gpu:
                    weighted = loss * float(n)
                    device_loss_sum = weighted if device_loss_sum is None else device_loss_sum + weighted
                else:
                    loss_sum += float(loss.item()) * n
            if on_gpu and want_accuracy and confusion is None:
                batch_correct = _correct_on_device(outputs, targets, owner)
                device_correct = batch_correct if device_correct is None else device_correct + batch_correct
            elif want_accuracy or confusion is not None:
                predicted, true = _predicted_and_true(outputs, targets, owner)
                correct += int(np.count_nonzero(predicted == true))
                if confusion is not None:
                    if true.min() < 0 or true.max() >= num_classes or predicted.max() >= num_classes:
                        raise ValueError(
                            f"[{owner}] num_classes={num_classes} but the classes seen span "
                            f"{min(true.min(), predicted.min())}..{max(true.max(), predicted.max())}"
                        )
                    confusion.update(predicted, true)
            for name, metric in metric_fns:
                sums[name] += float(metric(outputs, targets)) * n
    if device_loss_sum is not None:
        loss_sum = float(device_loss_sum.item())
    if device_correct is not None:
        correct = int(round(device_correct.item()))
    if reduce:  # a rank with an empty shard still takes part (and learns want_accuracy from the others)
        names = list(sums)
        totals = _distributed.sum_over_ranks([seen, loss_sum, correct, bool(want_accuracy), *sums.values()])
        seen, loss_sum, correct, want_accuracy = int(totals[0]), totals[1], int(totals[2]), totals[3] > 0
        sums = dict(zip(names, totals[4:]))
    if seen == 0:
        raise RuntimeError(f"[{owner}] the loader yielded no batches")
    result = {"num_samples": seen}
    if loss_fn is not None:
        result["loss"] = loss_sum / seen
    if want_accuracy or confusion is not None:
        result["accuracy"] = correct / seen
    for name, total in sums.items():
        result[name] = total / seen
    if confusion is not None:
        matrix = confusion.compute()
        result["confusion_matrix"] = _distributed.sum_array_over_ranks(matrix) if reduce else matrix
    return result


# ------------------------------------------------------------------------------------------------ Trainer


class Trainer:
    """Runs the training loop of `model` and calls the callbacks' hooks.

    Args:
        model (nn.Module): moved to `device` when one is given.
        train_loader: yields (inputs, targets) batches; the only data the weights learn from.
        val_loader (optional): evaluated after every epoch (eval mode, no_grad) for val_loss / val_acc.
        loss_fn: callable (outputs, targets) -> scalar Tensor, mean over the batch (e.g. CrossEntropyLoss).
        optimizer (optim.Optimizer).
        epochs (int): the last epoch to run (1-based; a resumed run continues up to it).
        scheduler (optional): stepped by an LRSchedulerCallback added here (at each epoch end, or after
            each optimizer step with scheduler_interval='batch'; ReduceLROnPlateau with logs['val_loss']).
        callbacks (iterable of Callback): run in order, stable-sorted by their `order` attribute.
        device (str, optional): move the model and every batch there ('cpu', 'cuda'). Default: leave as is.
        scheduler_interval (str): 'epoch' (default) or 'batch'.
        metrics (tuple): 'accuracy' (logs train_acc / val_acc) and/or callables fn(outputs, targets) ->
            float, logged as train_<fn name> / val_<fn name>. () for non-classification tasks.
        resume (str or os.PathLike, optional): a checkpoint from ModelCheckpoint / save_checkpoint: restores
            model, optimizer, scheduler, RNG and loader shuffle state, history and callback states, and
            continues from the epoch after the saved one, giving bitwise the same run as without the stop.
        start_epoch (int, optional): first epoch to run (default 1, or the checkpoint's epoch + 1).
        log_every (int, optional): read the batch loss and accuracy back to the host every log_every
            batches. On a GPU a read waits for the device, so the default there is 50: the epoch's
            train_loss / train_acc are summed on the device (exact, read once per epoch), and between reads
            `loss` and batch_logs' 'loss' / 'acc' are None (NaNGuard checks the loss at the reads).
            Default: 1 on the CPU (reading is free there), 50 on a GPU.

    Attributes (the interface callbacks read; they may set the last three):
        model, optimizer, scheduler, loss_fn, train_loader, val_loader, epochs, device, callbacks
        epoch: the current epoch, 1-based; after fit, the number of epochs completed.
        start_epoch: the first epoch this fit runs (> 1 when resumed); resumed_from: the checkpoint or None.
        global_step: optimizer steps done so far (over all epochs).
        batch_index: index of the current batch within the epoch.
        batch: (inputs, targets) of the current step, already on `device`.
        outputs: the model's outputs (logits) for the current batch, detached.
        loss: the current batch loss as a float (None on a batch whose loss was not read: see log_every).
        batch_logs: dict of the current batch: 'loss', 'acc' (with the accuracy metric), 'lr' (param group
            0), plus what callbacks add (GradientClipping: 'grad_norm').
        logs: dict of the current epoch, complete at on_epoch_end: 'epoch', 'lr' (at the epoch's start),
            'train_loss', 'train_acc', 'val_loss' and 'val_acc' (with a val_loader), 'epoch_time' (s,
            training + validation), 'train_images_per_s' (training only). Loss/accuracy are sample-weighted
            means over the epoch.
        history (History): the logs of every completed epoch (also those before a resume).
        stop_training (bool): set it to stop after the current batch (from a batch hook) or epoch. A stop
            during an epoch leaves that epoch incomplete: no validation, no on_epoch_end, no history entry.
        stop_reason (str or None): why training stopped early; set it along with stop_training.
        skip_step (bool): set it in on_after_backward to skip this batch's optimizer step (NaNGuard does).
    A KeyboardInterrupt also stops cleanly (stop_reason says so): on_fit_end runs and fit returns.

    Distributed (data-parallel) training: when pycnn.distributed's process group has more than one rank, fit
    runs the same loop on every rank (launch with mpirun -n N; see the README's "Distributed training"):
        - the model is wrapped in nn.parallel.DistributedDataParallel (kept as trainer.ddp_model; pass your
          own wrapper as model to choose its options). trainer.model stays the unwrapped module, so
          checkpoints load into a single-process model.
        - train_loader must shard the data with a pycnn.data.DistributedSampler (a ValueError says so
          otherwise); fit calls its set_epoch(epoch) before every epoch (also in one process).
        - the epoch's loss sums, correct counts, sample counts and metric sums are summed over the ranks
          before they are logged, and the times are the slowest rank's: every rank has the same logs and
          history. Validation sums over the ranks too: shard val_loader with DistributedSampler(val_set,
          shuffle=False, pad=False) for exact counts (with the default padding a few samples count twice,
          as in torch); an unsharded val_loader is evaluated whole on every rank.
        - callbacks whose rank_zero_only attribute is True (ProgressBar, the loggers, FigureWriter,
          ModelCheckpoint) run on rank 0 only, so one process prints and writes files.
        - decisions stay the same on every rank: a stop request (stop_training) on any rank stops all of
          them at the same batch or epoch, with the first rank's stop_reason, and a skip_step on any rank
          skips the step everywhere. The ranks also meet after every epoch's callbacks, so a resume on
          every rank reads the checkpoint rank 0 has finished writing.
    """

    def __init__(
        self,
        model,
        train_loader,
        val_loader=None,
        loss_fn=None,
        optimizer=None,
        epochs=1,
        scheduler=None,
        callbacks=(),
        device=None,
        scheduler_interval="epoch",
        metrics=("accuracy",),
        resume=None,
        start_epoch=None,
        log_every=None,
    ):
        if log_every is not None and (isinstance(log_every, bool) or not isinstance(log_every, int) or log_every < 1):
            raise ValueError(f"[Trainer] log_every must be an int >= 1 or None, got {log_every!r}")
        if loss_fn is None or not callable(loss_fn):
            raise TypeError(f"[Trainer] loss_fn must be callable (e.g. pc.nn.CrossEntropyLoss()), got {loss_fn!r}")
        if optimizer is None or not callable(getattr(optimizer, "step", None)):
            raise TypeError(f"[Trainer] optimizer must be an optimizer with step()/zero_grad(), got {optimizer!r}")
        _check_loop_arguments(epochs, scheduler_interval, "Trainer")
        epochs = int(epochs)
        if resume is not None and start_epoch is not None:
            raise ValueError("[Trainer] pass resume or start_epoch, not both (a resume starts after the saved epoch)")
        if start_epoch is not None and (
            isinstance(start_epoch, bool) or not isinstance(start_epoch, int) or start_epoch < 1
        ):
            raise ValueError(f"[Trainer] start_epoch must be an int >= 1, got {start_epoch!r}")
        callbacks = list(callbacks or ())
        for cb in callbacks:
            if not callable(getattr(cb, "on_epoch_end", None)):
                raise TypeError(f"[Trainer] callbacks must be pycnn.train.Callback objects, got {cb!r}")
        if scheduler is not None:
            if any(isinstance(cb, LRSchedulerCallback) and cb.scheduler is scheduler for cb in callbacks):
                raise ValueError(
                    "[Trainer] this scheduler is given both as scheduler= and in an "
                    "LRSchedulerCallback: it would be stepped twice"
                )
            callbacks.append(LRSchedulerCallback(scheduler, interval=scheduler_interval))
        else:
            # A scheduler given only through its callback is still saved in checkpoints.
            scheduler = next((cb.scheduler for cb in callbacks if isinstance(cb, LRSchedulerCallback)), None)
        self._want_accuracy, self._metric_fns = _parse_metrics(metrics)
        self.ddp_model = None
        if isinstance(model, DistributedDataParallel):  # the user's own wrapper: train through it
            self.ddp_model, model = model, model.module

        self.model = model
        self.train_loader = train_loader
        self.val_loader = val_loader
        self.loss_fn = loss_fn
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.epochs = epochs
        self.device = device
        self.callbacks = sorted(callbacks, key=lambda cb: getattr(cb, "order", 0))  # stable
        self._active = self.callbacks  # those this rank runs (fit drops rank_zero_only ones on ranks > 0)
        self._distributed = False
        self._train_model = None
        self.resumed_from = resume
        self.start_epoch = 1 if start_epoch is None else start_epoch
        self.log_every = log_every

        self.epoch = self.start_epoch - 1
        self.global_step = 0
        self.batch_index = None
        self.batch = None
        self.outputs = None
        self.loss = None
        self.batch_logs = {}
        self.logs = {}
        self.history = History()
        self.stop_training = False
        self.stop_reason = None
        self.skip_step = False

    def _call(self, hook):
        for cb in self._active:
            getattr(cb, hook)(self)

    def _agree_stop(self):
        """In a process group: every rank stops when any rank asked to, with the same stop_reason."""
        if not self._distributed:
            return
        (stop,) = _distributed.agree([self.stop_training])
        if stop:
            self.stop_reason = _distributed.first_reason(self.stop_reason if self.stop_training else None)
            self.stop_training = True

    def _prepare_ranks(self):
        """The model the training forward goes through, and the callbacks this rank runs."""
        self._distributed = _distributed.active()
        if self._distributed:
            _distributed.check_train_sampler(self.train_loader, "fit")
            if self.ddp_model is None:
                self.ddp_model = DistributedDataParallel(self.model)
        main = _distributed.is_main_process()
        self._active = [cb for cb in self.callbacks if main or not getattr(cb, "rank_zero_only", False)]
        self._train_model = self.ddp_model if self.ddp_model is not None else self.model

    def _restore_progress(self, checkpoint):
        """Counters and history from a checkpoint: the next epoch is the one after the saved one."""
        self.epoch = int(checkpoint.get("epoch") or 0)
        self.start_epoch = self.epoch + 1
        self.global_step = int(checkpoint.get("global_step") or 0)
        self.history = History(checkpoint.get("history") or [])

    def fit(self):
        """Train from start_epoch to epochs (resuming first if asked). Returns the History."""
        if self.device is not None:
            self.model.to(self.device)  # before a resume, so the optimizer state loads onto the device
        checkpoint = None
        if self.resumed_from is not None:  # in a process group every rank reads the same file
            checkpoint = load_checkpoint(self.resumed_from, self.model, self.optimizer, self.scheduler)
            self._restore_progress(checkpoint)
        self._prepare_ranks()
        self.stop_training = False
        self.stop_reason = None
        self._call("on_fit_begin")
        if checkpoint is not None:
            # After on_fit_begin, where callbacks reset themselves; RNG last, just before the first batch.
            restore_callback_states(self.callbacks, checkpoint["callbacks"])
            restore_rng_state(checkpoint, self.train_loader)
        self._agree_stop()
        try:
            for epoch in range(self.start_epoch, self.epochs + 1):
                if self.stop_training:
                    break
                self.epoch = epoch
                if not self._train_epoch():
                    self.epoch = epoch - 1  # the interrupted epoch does not count as completed
                    break
        except KeyboardInterrupt:
            self.stop_training = True
            self.stop_reason = f"interrupted by the user (KeyboardInterrupt) during epoch {self.epoch}"
            self.epoch -= 1
            if _distributed.is_main_process():
                print(self.stop_reason)
        self._call("on_fit_end")
        return self.history

    def _on_gpu(self):
        if self.device is not None:
            return as_device(self.device).type == "cuda"
        first = next(iter(self.model.parameters()), None)
        return first is not None and first.is_cuda

    def _train_epoch(self):
        """One epoch of training then validation; False when a stop request cut it short."""
        model, optimizer, loss_fn, device = self._train_model, self.optimizer, self.loss_fn, self.device
        # On a GPU the epoch's sums stay on the device and the batch values are read every log_every batches.
        on_gpu = self._on_gpu()
        log_every = self.log_every or (50 if on_gpu else 1)
        device_loss_sum = device_correct = None
        want_accuracy, metric_fns = self._want_accuracy, self._metric_fns
        self.logs = logs = {"epoch": self.epoch}
        _distributed.set_epoch(self.train_loader, self.epoch)
        model.train()
        self._call("on_epoch_begin")
        logs["lr"] = optimizer.param_groups[0]["lr"]
        num_batches = len(self.train_loader) if hasattr(self.train_loader, "__len__") else None
        seen, loss_sum, correct = 0, 0.0, 0
        sums = {name: 0.0 for name, _ in metric_fns}
        start = time.perf_counter()
        for index, batch in enumerate(self.train_loader):
            inputs, targets = _split_batch(batch, device, "fit")
            self.batch_index, self.batch, self.skip_step = index, (inputs, targets), False
            self._call("on_batch_begin")

            outputs = model(inputs)
            loss = loss_fn(outputs, targets)
            optimizer.zero_grad()
            loss.backward()

            n = len(targets)
            self.outputs = outputs.detach()
            read = (index + 1) % log_every == 0
            self.loss = loss_value = float(loss.item()) if read or not on_gpu else None
            # the keys stay the same on every batch (CSV loggers); None where nothing was read back
            self.batch_logs = batch_logs = {"loss": loss_value, "lr": optimizer.param_groups[0]["lr"]}
            if on_gpu:
                with no_grad():
                    weighted = loss.detach() * float(n)
                    device_loss_sum = weighted if device_loss_sum is None else device_loss_sum + weighted
                    if want_accuracy:
                        batch_correct = _correct_on_device(self.outputs, targets)
                        device_correct = batch_correct if device_correct is None else device_correct + batch_correct
                        batch_logs["acc"] = batch_correct.item() / n if read else None
            elif want_accuracy:
                predicted, true = _predicted_and_true(self.outputs, targets, "fit")
                batch_correct = int(np.count_nonzero(predicted == true))
                correct += batch_correct
                batch_logs["acc"] = batch_correct / n
            for name, metric in metric_fns:
                batch_logs[name] = value = float(metric(self.outputs, targets))
                sums[name] += value * n
            self._call("on_after_backward")
            if self._distributed:  # one rank skipping the step alone would leave the replicas different
                (self.skip_step,) = _distributed.agree([self.skip_step])
            if not self.skip_step:
                optimizer.step()
                self.global_step += 1
            self._call("on_batch_end")
            seen += n
            if not on_gpu:
                loss_sum += loss_value * n
            self._agree_stop()
            if self.stop_training and (num_batches is None or index + 1 < num_batches):
                return False
        train_time = time.perf_counter() - start
        if on_gpu and seen:  # the epoch's one read of its sums
            loss_sum = float(device_loss_sum.item())
            correct = int(round(device_correct.item())) if device_correct is not None else 0
        if self._distributed:  # the logs describe every rank's samples, and are the same on every rank
            names = list(sums)
            totals = _distributed.sum_over_ranks([seen, loss_sum, correct, *sums.values()])
            seen, loss_sum, correct = int(totals[0]), totals[1], int(totals[2])
            sums = dict(zip(names, totals[3:]))
        if seen == 0:
            raise RuntimeError("[fit] the train loader yielded no batches")

        logs["train_loss"] = loss_sum / seen
        if want_accuracy:
            logs["train_acc"] = correct / seen
        for name, total in sums.items():
            logs["train_" + name] = total / seen
        if self.val_loader is not None:
            val = _evaluate_loop(
                self.model, self.val_loader, loss_fn, device, want_accuracy, metric_fns, None, "fit", self._distributed
            )
            logs["val_loss"] = val["loss"]
            if want_accuracy:
                logs["val_acc"] = val["accuracy"]
            for name, _ in metric_fns:
                logs["val_" + name] = val[name]
        epoch_time = time.perf_counter() - start
        if self._distributed:
            train_time, epoch_time = _distributed.max_over_ranks([train_time, epoch_time])
        logs["epoch_time"] = epoch_time
        logs["train_images_per_s"] = seen / train_time if train_time > 0 else float("inf")
        # The same dict object: what callbacks add to trainer.logs at on_epoch_end lands in the history.
        self.history.append(logs)
        self._call("on_epoch_end")
        self._agree_stop()  # also where every rank waits for rank 0's checkpoint to be written
        return True


def fit(
    model,
    train_loader,
    val_loader,
    loss_fn,
    optimizer,
    epochs,
    scheduler=None,
    callbacks=(),
    device=None,
    scheduler_interval="epoch",
    metrics=("accuracy",),
    resume=None,
    start_epoch=None,
    log_every=None,
):
    """Train `model`: builds a Trainer with these arguments (see Trainer) and runs it.

    Only train_loader and val_loader are touched; keep the test set for evaluate() at the very end.
    Returns:
        History: one log dict per epoch ('epoch', 'lr', 'train_loss', 'train_acc', 'val_loss', 'val_acc',
        'epoch_time', 'train_images_per_s'); history.as_dict() gives columns.
    """
    _check_loop_arguments(epochs, scheduler_interval, "fit")
    trainer = Trainer(
        model,
        train_loader,
        val_loader,
        loss_fn,
        optimizer,
        epochs,
        scheduler=scheduler,
        callbacks=callbacks,
        device=device,
        scheduler_interval=scheduler_interval,
        metrics=metrics,
        resume=resume,
        start_epoch=start_epoch,
        log_every=log_every,
    )
    return trainer.fit()


def evaluate(model, loader, loss_fn=None, device=None, num_classes=None):
    """Evaluate `model` on every batch of `loader` (e.g. the test set, once, at the end).

    Runs in eval mode under no_grad(); each module's training flag is restored afterwards.

    Args:
        model (nn.Module): already on `device`.
        loader: yields (inputs, targets), e.g. class indices (N,) for logits (N, C).
        loss_fn (optional): adds 'loss', the sample-weighted mean of the (mean-reduced) batch losses.
        device (str, optional): move each batch there.
        num_classes (int, optional): adds 'confusion_matrix'.
    Returns:
        dict: 'num_samples', 'accuracy' (for class-index targets, or one-hot with num_classes), 'loss' (with
        loss_fn) and 'confusion_matrix' (with num_classes: int64 NumPy (C, C), rows are true classes,
        columns predicted ones).
    In a process group, a loader sharded by a DistributedSampler (use shuffle=False, pad=False for exact
    counts) makes evaluate a collective: every rank must call it, and each gets the results over all the
    shards. Any other loader is evaluated on this rank alone.
    """
    if num_classes is not None and (
        isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1
    ):
        raise ValueError(f"[evaluate] num_classes must be a positive int, got {num_classes!r}")
    _check_model(model, "evaluate")
    if isinstance(model, DistributedDataParallel):
        model = model.module  # its forward would broadcast buffers in training mode; evaluation needs none of it
    reduce = _distributed.active() and isinstance(_distributed.sampler_of(loader), DistributedSampler)
    return _evaluate_loop(model, loader, loss_fn, device, None, [], num_classes, "evaluate", reduce)


def predict(model, loader, device=None, return_targets=False):
    """The model's outputs for every sample of `loader`, in order, as one NumPy array.

    Runs in eval mode under no_grad(); each module's training flag is restored afterwards.

    Args:
        model (nn.Module): already on `device`.
        loader: yields input batches, or (inputs, targets) pairs.
        device (str, optional): move each batch there.
        return_targets (bool): also return the targets (needs (inputs, targets) batches).
    Returns:
        logits as a NumPy array (N, C) (generally (N, ...)), or (logits, targets) with return_targets.
    In a process group each rank predicts what its own loader yields; nothing is gathered.
    """
    _check_model(model, "predict")
    outputs, targets = [], []
    with _Modes(model):
        for batch in loader:
            if isinstance(batch, (tuple, list)):
                inputs = batch[0]
                if return_targets:
                    if len(batch) < 2:
                        raise ValueError("[predict] return_targets=True needs (inputs, targets) batches")
                    targets.append(np.array(_as_numpy(batch[1], "predict", "targets")))
            else:
                if return_targets:
                    raise ValueError(
                        "[predict] return_targets=True needs (inputs, targets) batches, got "
                        f"{type(batch).__name__} batches"
                    )
                inputs = batch
            if device is not None:
                inputs = _move(inputs, device)
            outputs.append(np.array(_as_numpy(model(inputs), "predict", "outputs")))
    if not outputs:
        raise RuntimeError("[predict] the loader yielded no batches")
    logits = np.concatenate(outputs)
    return (logits, np.concatenate(targets)) if return_targets else logits
