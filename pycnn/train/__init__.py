"""pycnn.train: the training loop (fit / Trainer, evaluate, predict), callbacks, checkpoints, monitoring
(progress bar, CSV/JSON logs, TensorBoard, matplotlib figures) and the learning-rate finder. Pure Python.

    history = pc.train.fit(model, train_loader, val_loader, pc.nn.CrossEntropyLoss(), optimizer, epochs=10,
                           scheduler=sched, callbacks=[pc.train.EarlyStopping(patience=3)])
"""

from .callbacks import (
    Callback,
    EarlyStopping,
    GradientClipping,
    LRSchedulerCallback,
    ModelCheckpoint,
    NaNGuard,
    TerminateOnNaN,
    find_nonfinite_layer,
)
from .checkpoint import checkpoint_state, load_checkpoint, save_checkpoint
from .loggers import CSVLogger, JSONLogger, ProgressBar, TensorBoardLogger
from .lr_finder import LRFinderResult, lr_find
from .plots import FigureWriter, plot_confusion_matrix, plot_filters, plot_history, plot_misclassified
from .trainer import History, Trainer, evaluate, fit, predict

__all__ = [
    "CSVLogger",
    "Callback",
    "EarlyStopping",
    "FigureWriter",
    "GradientClipping",
    "History",
    "JSONLogger",
    "LRFinderResult",
    "LRSchedulerCallback",
    "ModelCheckpoint",
    "NaNGuard",
    "ProgressBar",
    "TensorBoardLogger",
    "TerminateOnNaN",
    "Trainer",
    "checkpoint_state",
    "evaluate",
    "find_nonfinite_layer",
    "fit",
    "load_checkpoint",
    "lr_find",
    "plot_confusion_matrix",
    "plot_filters",
    "plot_history",
    "plot_misclassified",
    "predict",
    "save_checkpoint",
]
