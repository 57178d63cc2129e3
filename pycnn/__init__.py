"""pycnn: convolutional networks on a C++ core (SIMD + OpenMP, optional CUDA) with a PyTorch-like API.

    import pycnn as pc
    x = pc.randn(8, 1, 28, 28)
    model = pc.models.lenet5()
    loss = pc.nn.CrossEntropyLoss()(model(x), pc.tensor([0, 1, 2, 3, 4, 5, 6, 7]))
    loss.backward()

This file only gathers the public names from the modules that define them.
"""
import os as _os

try:
    from . import _C
except ImportError as _e:  # a source tree without its compiled core, or a failed build: say what to do
    _here = _os.path.dirname(_os.path.abspath(__file__))
    if _os.path.exists(_os.path.join(_here, "..", "csrc")):
        _hint = (f"you are importing pycnn from its source tree ({_here}), which holds no compiled core. Install "
                 "it (pip install .) and run from another directory, or run `pytest` rather than `python -m "
                 "pytest` (which puts the source tree first on sys.path); for development, "
                 "pip install -e . --no-build-isolation")
    else:
        _hint = "the installation looks broken; reinstall pycnn (pip install --force-reinstall pycnn)"
    raise ImportError(f"pycnn's compiled core (pycnn._C) could not be imported: {_hint}") from _e

from . import cuda
from ._tensor_ops import (
    abs, argmax, argmin, cat, chunk, clamp, concat, exp, flatten, index_select, log, masked_select, matmul, max,
    maximum, mean, min, minimum, narrow, relu, sigmoid, split, sqrt, stack, std, sum, tanh, var, where,
)
from ._types import device, double, dtype, float, float32, float64, int64, long
from .autograd import Function, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .creation import (
    arange, as_tensor, empty, from_numpy, full, get_default_dtype, ones, ones_like, rand, randint, randn, randperm,
    set_default_dtype, tensor, zeros, zeros_like,
)
from .random import Generator, default_generator, initial_seed, manual_seed
from .tensor import Tensor
from .threads import get_num_threads, set_num_threads
from .version import __version__

from . import data, datasets, metrics, models, nn, ops, optim, train  # noqa: E402  (subpackages, after the core)
from .serialization import load, save  # noqa: E402
from .summary import summary  # noqa: E402
