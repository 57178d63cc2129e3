"""pycnn.models: ready-made networks (torchvision-style constructors returning nn.Modules)."""
from .lenet import LeNet5, lenet5

__all__ = ["LeNet5", "lenet5"]
