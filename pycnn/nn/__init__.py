"""pycnn.nn: layers, containers, losses, initialisers and the functional API, with torch.nn's names.

Layers are Modules (module.py) holding Parameters (parameter.py); their forward calls
pycnn.nn.functional, whose ops call the C++ core.
"""
from . import functional, init, utils
from .parameter import Parameter
from .module import Module
from .container import Sequential, ModuleList
from .linear import Linear, Flatten, Identity
from .conv import Conv2d
from .conv import Conv1d, ConvTranspose1d, ConvTranspose2d
from .activation import (ReLU, Sigmoid, Tanh, ReLU6, LeakyReLU, PReLU, ELU, SELU, SiLU, Swish, GELU, Softplus,
                         Hardswish, Hardsigmoid, Softmax, LogSoftmax, Maxout)
from .pooling import MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d, MaxUnpool2d, LPPool2d
from .upsampling import Upsample, UpsamplingNearest2d, UpsamplingBilinear2d, PixelShuffle, PixelUnshuffle
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm, GroupNorm, InstanceNorm2d, LocalResponseNorm
from .dropout import Dropout, Dropout2d, AlphaDropout
from .nonlocal_block import NonLocalBlock2d
from .loss import (CrossEntropyLoss, NLLLoss, BCELoss, BCEWithLogitsLoss, MSELoss, L1Loss, SmoothL1Loss,
                   HuberLoss, KLDivLoss, MarginRankingLoss, MultiMarginLoss)

__all__ = [
    "functional", "init", "utils", "Parameter", "Module", "Sequential", "ModuleList", "Linear", "Flatten",
    "Identity", "Conv2d",
    "Conv1d", "ConvTranspose1d", "ConvTranspose2d",
    "ReLU", "Sigmoid", "Tanh", "ReLU6", "LeakyReLU", "PReLU", "ELU", "SELU", "SiLU", "Swish", "GELU", "Softplus",
    "Hardswish", "Hardsigmoid", "Softmax", "LogSoftmax", "Maxout",
    "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "MaxUnpool2d", "LPPool2d",
    "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "PixelShuffle", "PixelUnshuffle",
    "BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm", "InstanceNorm2d", "LocalResponseNorm",
    "Dropout", "Dropout2d", "AlphaDropout",
    "NonLocalBlock2d",
    "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "MSELoss", "L1Loss", "SmoothL1Loss",
    "HuberLoss", "KLDivLoss", "MarginRankingLoss", "MultiMarginLoss",
]
