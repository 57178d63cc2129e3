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
    from . import _C  # noqa: F401  (first, so that a missing core fails here, with a message that says why)
except ImportError as _e:
    _here = _os.path.dirname(_os.path.abspath(__file__))
    if not any(f.startswith("_C.") for f in _os.listdir(_here)) and _os.path.isdir(_os.path.join(_here, "../csrc")):
        raise ImportError(
            f"pycnn's compiled core (pycnn._C) could not be imported: you are importing pycnn from its source tree "
            f"({_here}), which holds no compiled core. Install it (pip install .) and run from another directory, "
            "or run `pytest` rather than `python -m pytest` (which puts the source tree first on sys.path); for "
            "development, pip install -e . --no-build-isolation"
        ) from None
    raise ImportError(f"pycnn's compiled core (pycnn._C) could not be loaded ({_e}); reinstall pycnn") from _e

from . import backends, cuda, data, datasets, metrics, models, nn, ops, optim, train, utils
from ._index_ops import gather, scatter, scatter_add
from ._logical_ops import (
    all,
    allclose,
    any,
    bincount,
    equal,
    is_floating_point,
    isclose,
    isfinite,
    isinf,
    isnan,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    masked_fill,
)
from ._sort_ops import argsort, cumsum, nonzero, prod, sort, topk, unique
from ._tensor_ops import (
    abs,
    argmax,
    argmin,
    cat,
    chunk,
    clamp,
    concat,
    exp,
    flatten,
    index_select,
    log,
    masked_select,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    narrow,
    relu,
    sigmoid,
    split,
    sqrt,
    stack,
    std,
    sum,
    tanh,
    var,
    where,
)
from ._types import (
    bfloat16,
    can_cast,
    device,
    dtype,
    float16,
    float32,
    float64,
    int32,
    int64,
    promote_types,
    result_type,
    uint8,
)
from ._types import bool_ as bool
from ._types import float16 as half
from ._types import float32 as float
from ._types import float64 as double
from ._types import int32 as int
from ._types import int64 as long
from .autograd import Function, enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    from_numpy,
    full,
    full_like,
    get_default_dtype,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    set_default_dtype,
    tensor,
    zeros,
    zeros_like,
)
from .random import Generator, default_generator, initial_seed, manual_seed
from .serialization import load, save
from .summary import summary
from .tensor import Tensor
from .threads import get_num_threads, set_num_threads
from .version import __version__

__all__ = [
    "Function",
    "Generator",
    "Tensor",
    "__version__",
    "abs",
    "all",
    "allclose",
    "any",
    "arange",
    "argmax",
    "argmin",
    "as_tensor",
    "backends",
    "bfloat16",
    "bincount",
    "bool",
    "can_cast",
    "cat",
    "chunk",
    "clamp",
    "concat",
    "cuda",
    "data",
    "datasets",
    "default_generator",
    "device",
    "double",
    "dtype",
    "empty",
    "empty_like",
    "enable_grad",
    "equal",
    "exp",
    "flatten",
    "float",
    "float16",
    "float32",
    "float64",
    "from_numpy",
    "full",
    "full_like",
    "gather",
    "get_default_dtype",
    "get_num_threads",
    "half",
    "index_select",
    "inference_mode",
    "initial_seed",
    "int",
    "int32",
    "int64",
    "is_floating_point",
    "is_grad_enabled",
    "isclose",
    "isfinite",
    "isinf",
    "isnan",
    "load",
    "log",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "long",
    "manual_seed",
    "masked_fill",
    "masked_select",
    "matmul",
    "max",
    "maximum",
    "mean",
    "metrics",
    "min",
    "minimum",
    "models",
    "narrow",
    "nn",
    "no_grad",
    "ones",
    "ones_like",
    "ops",
    "optim",
    "promote_types",
    "rand",
    "rand_like",
    "randint",
    "randn",
    "randn_like",
    "randperm",
    "relu",
    "result_type",
    "save",
    "scatter",
    "scatter_add",
    "set_default_dtype",
    "set_grad_enabled",
    "set_num_threads",
    "sigmoid",
    "split",
    "sqrt",
    "stack",
    "std",
    "sum",
    "summary",
    "tanh",
    "tensor",
    "train",
    "uint8",
    "utils",
    "var",
    "where",
    "zeros",
    "zeros_like",
]
__all__ += ["argsort", "cumsum", "nonzero", "prod", "sort", "topk", "unique"]  # sorting, selection, scans
