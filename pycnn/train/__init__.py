"""pycnn.train: the training loop (fit / Trainer, evaluate, predict), callbacks, checkpoints, monitoring
(progress bar, CSV/JSON logs, TensorBoard, matplotlib figures) and the learning-rate finder. Pure Python.

    history = pc.train.fit(model, train_loader, val_loader, pc.nn.CrossEntropyLoss(), optimizer, epochs=10,
                           scheduler=sched, callbacks=[pc.train.EarlyStopping(patience=3)])
"""
from .callbacks import *  # noqa: F401,F403
from .callbacks import __all__ as _callbacks_all
from .trainer import *  # noqa: F401,F403
from .trainer import __all__ as _trainer_all
from .checkpoint import *  # noqa: F401,F403
from .checkpoint import __all__ as _checkpoint_all
from .loggers import *  # noqa: F401,F403
from .loggers import __all__ as _loggers_all
from .plots import *  # noqa: F401,F403
from .plots import __all__ as _plots_all
from .lr_finder import *  # noqa: F401,F403
from .lr_finder import __all__ as _lr_finder_all

__all__ = (_callbacks_all + _trainer_all + _checkpoint_all + _loggers_all + _plots_all + _lr_finder_all)
