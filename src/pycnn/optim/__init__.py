"""pycnn.optim: optimizers (state and update kernels in the C++ core) and learning-rate schedulers."""
from . import lr_scheduler
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "lr_scheduler"]
