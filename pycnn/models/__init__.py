"""pycnn.models: ready-made networks (torchvision-style constructors returning nn.Modules)."""
from .lenet import LeNet5, lenet5
from .alexnet import AlexNet, AlexNetOriginal, alexnet, alexnet_original
from .zfnet import ZFNet, zfnet
from .vgg import VGG, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn
from .resnet import (BasicBlock, Bottleneck, ResNet, CifarResNet, resnet18, resnet34, resnet50, resnet101,
                     resnet152, resnet18_cifar, resnet20, resnet32, resnet56)
from .nin import NiN, nin
from .squeezenet import SqueezeNet, squeezenet1_0, squeezenet1_1
from .mobilenet import MobileNetV2, mobilenet_v2
from .googlenet import GoogLeNet, googlenet
from .densenet import DenseNet, densenet121, densenet161, densenet169, densenet201

__all__ = [
    "LeNet5", "lenet5", "AlexNet", "AlexNetOriginal", "alexnet", "alexnet_original", "ZFNet", "zfnet",
    "VGG", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
    "BasicBlock", "Bottleneck", "ResNet", "CifarResNet", "resnet18", "resnet34", "resnet50", "resnet101",
    "resnet152", "resnet18_cifar", "resnet20", "resnet32", "resnet56", "NiN", "nin",
    "SqueezeNet", "squeezenet1_0", "squeezenet1_1", "MobileNetV2", "mobilenet_v2", "GoogLeNet", "googlenet",
    "DenseNet", "densenet121", "densenet161", "densenet169", "densenet201",
]
