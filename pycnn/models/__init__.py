"""pycnn.models: ready-made networks (torchvision-style constructors returning nn.Modules)."""

from .alexnet import AlexNet, AlexNetOriginal, alexnet, alexnet_original
from .densenet import DenseNet, densenet121, densenet161, densenet169, densenet201
from .googlenet import GoogLeNet, googlenet
from .lenet import LeNet5, lenet5
from .mobilenet import MobileNetV2, mobilenet_v2
from .nin import NiN, nin
from .resnet import (
    BasicBlock,
    Bottleneck,
    CifarResNet,
    ResNet,
    resnet18,
    resnet18_cifar,
    resnet20,
    resnet32,
    resnet34,
    resnet50,
    resnet56,
    resnet101,
    resnet152,
)
from .squeezenet import SqueezeNet, squeezenet1_0, squeezenet1_1
from .vgg import VGG, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn
from .zfnet import ZFNet, zfnet

__all__ = [
    "VGG",
    "AlexNet",
    "AlexNetOriginal",
    "BasicBlock",
    "Bottleneck",
    "CifarResNet",
    "DenseNet",
    "GoogLeNet",
    "LeNet5",
    "MobileNetV2",
    "NiN",
    "ResNet",
    "SqueezeNet",
    "ZFNet",
    "alexnet",
    "alexnet_original",
    "densenet121",
    "densenet161",
    "densenet169",
    "densenet201",
    "googlenet",
    "lenet5",
    "mobilenet_v2",
    "nin",
    "resnet18",
    "resnet18_cifar",
    "resnet20",
    "resnet32",
    "resnet34",
    "resnet50",
    "resnet56",
    "resnet101",
    "resnet152",
    "squeezenet1_0",
    "squeezenet1_1",
    "vgg11",
    "vgg11_bn",
    "vgg13",
    "vgg13_bn",
    "vgg16",
    "vgg16_bn",
    "vgg19",
    "vgg19_bn",
    "zfnet",
]
