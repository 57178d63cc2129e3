"""Callbacks for pycnn.train: small objects the Trainer calls at fixed points of the loop.

A callback overrides only the hooks it needs; each hook gets the running Trainer, whose attributes are the
whole interface (see Trainer's docstring: model, optimizer, epoch, global_step, batch, outputs, loss,
batch_logs, logs, history, stop_training). Hooks run in the order the callbacks were given.
state_dict()/load_state_dict() carry what a callback must remember across a resume (best score, counters).
"""

__all__ = ["Callback"]


class Callback:
    """Base class: every hook is a no-op.

    Order of calls in one fit:
        on_fit_begin
        for each epoch: on_epoch_begin,
            for each batch: on_batch_begin, (forward, loss, backward), on_after_backward,
                            (optimizer.step), on_batch_end
            (validation), on_epoch_end          # trainer.logs is complete here
        on_fit_end                              # also after an early stop or a NaN stop
    """

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
        """JSON-serialisable state to store in a checkpoint (default: nothing)."""
        return {}

    def load_state_dict(self, state):
        pass
