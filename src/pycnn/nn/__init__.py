"""pycnn.nn: layers, containers, losses, initialisers and the functional API, with torch.nn's names.

Layers are Modules (module.py) holding Parameters (parameter.py); their forward calls
pycnn.nn.functional, whose ops call the C++ core.
"""
from . import functional
from . import init
from .parameter import Parameter
from .module import Module
from .container import Sequential, ModuleList
from .linear import Linear, Flatten, Identity
from .conv import Conv2d
from .normalization import (BatchNorm1d, BatchNorm2d, LayerNorm, GroupNorm, InstanceNorm2d,
                            LocalResponseNorm)
from .dropout import Dropout, Dropout2d, AlphaDropout
from . import normalization, dropout, utils
from .pooling import MaxPool2d, AvgPool2d
from .pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d, MaxUnpool2d, LPPool2d
from .upsampling import Upsample, UpsamplingNearest2d, UpsamplingBilinear2d, PixelShuffle, PixelUnshuffle
from . import upsampling
from .activation import ReLU
from .activation import (Sigmoid, Tanh, ReLU6, LeakyReLU, PReLU, ELU, SELU, SiLU, Swish, GELU, Softplus,
                         Hardswish, Hardsigmoid, Softmax, LogSoftmax, Maxout)
from .loss import CrossEntropyLoss, NLLLoss
from .loss import (BCELoss, BCEWithLogitsLoss, MSELoss, L1Loss, SmoothL1Loss, HuberLoss, KLDivLoss,
                   MarginRankingLoss, MultiMarginLoss)
from . import parameter, module, container, linear, conv, pooling, activation, loss

__all__ = ["Module", "Parameter", "Sequential", "ModuleList", "Linear", "Flatten", "Identity", "Conv2d",
           "ReLU", "Sigmoid", "Tanh", "ReLU6", "LeakyReLU", "PReLU", "ELU", "SELU", "SiLU", "Swish",
           "GELU", "Softplus", "Hardswish", "Hardsigmoid", "Softmax", "LogSoftmax", "Maxout", "MaxPool2d", "AvgPool2d",
           "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "MSELoss", "L1Loss",
           "SmoothL1Loss", "HuberLoss", "KLDivLoss", "MarginRankingLoss", "MultiMarginLoss", "init", "functional"]
__all__ += ["AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "MaxUnpool2d", "LPPool2d", "Upsample",
            "UpsamplingNearest2d", "UpsamplingBilinear2d", "PixelShuffle", "PixelUnshuffle"]
__all__ += ["BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm", "InstanceNorm2d", "LocalResponseNorm",
            "Dropout", "Dropout2d", "AlphaDropout", "utils"]
