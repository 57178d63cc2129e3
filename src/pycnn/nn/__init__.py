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
from .pooling import MaxPool2d, AvgPool2d
from .activation import ReLU
from .loss import CrossEntropyLoss, NLLLoss
from . import parameter, module, container, linear, conv, pooling, activation, loss

__all__ = ["Module", "Parameter", "Sequential", "ModuleList", "Linear", "Flatten", "Identity", "Conv2d",
           "ReLU", "MaxPool2d", "AvgPool2d", "CrossEntropyLoss", "NLLLoss", "init", "functional"]
