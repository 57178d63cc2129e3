"""VGG (Simonyan & Zisserman, 2014) in torchvision's layout: features / avgpool / classifier.

`features` is one Sequential of 3x3 convolutions (padding 1), [BatchNorm2d], ReLU and 2x2 max-pools, indexed
exactly as torchvision's, so keys such as features.0.weight or classifier.6.bias and their shapes match and
converted torchvision checkpoints load. avgpool is AdaptiveAvgPool2d((7, 7)), so inputs other than 224x224
(>= 32x32) also work. Shapes for (N, 3, 224, 224): features -> (N, 512, 7, 7) -> classifier -> (N, classes).
"""

from .. import nn
from ..nn import functional as F
from ..nn._arguments import positive_int, probability

__all__ = ["VGG", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn"]

# Output channels per conv; "M" is a 2x2/2 max-pool. Configurations A, B, D, E of the paper.
CFGS = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


def make_layers(cfg, batch_norm=False, in_channels=3):
    layers = []
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers.append(nn.Conv2d(in_channels, v, kernel_size=3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(v))
            layers.append(nn.ReLU(inplace=True))
            in_channels = v
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """VGG network.

    Args:
        features (Sequential): the convolutional part (see make_layers).
        num_classes (int): Default: 1000.
        init_weights (bool): torchvision's initialisation (He-normal fan_out convs, N(0, 0.01) linears, zero
            biases); False keeps each layer's default initialisation (faster to build). Default: True.
        dropout (float): dropout probability in the classifier. Default: 0.5.
    """

    def __init__(self, features, num_classes=1000, init_weights=True, dropout=0.5):
        super().__init__()
        positive_int(num_classes, "num_classes", "VGG")
        probability(dropout, "dropout", "VGG")
        if not isinstance(features, nn.Module):
            raise TypeError(f"[VGG] expected features to be an nn.Module, got {type(features).__name__}")
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0.0, 0.01)
                    nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(F.flatten(x, 1))


def _vgg(cfg, batch_norm, num_classes, kwargs):
    return VGG(make_layers(CFGS[cfg], batch_norm), num_classes=num_classes, **kwargs)


def vgg11(num_classes=1000, **kwargs):
    """VGG-11, configuration A (132,863,336 parameters for 1000 classes)."""
    return _vgg("A", False, num_classes, kwargs)


def vgg11_bn(num_classes=1000, **kwargs):
    """VGG-11 with batch normalisation (132,868,840 parameters)."""
    return _vgg("A", True, num_classes, kwargs)


def vgg13(num_classes=1000, **kwargs):
    """VGG-13, configuration B (133,047,848 parameters)."""
    return _vgg("B", False, num_classes, kwargs)


def vgg13_bn(num_classes=1000, **kwargs):
    """VGG-13 with batch normalisation (133,053,736 parameters)."""
    return _vgg("B", True, num_classes, kwargs)


def vgg16(num_classes=1000, **kwargs):
    """VGG-16, configuration D (138,357,544 parameters)."""
    return _vgg("D", False, num_classes, kwargs)


def vgg16_bn(num_classes=1000, **kwargs):
    """VGG-16 with batch normalisation (138,365,992 parameters)."""
    return _vgg("D", True, num_classes, kwargs)


def vgg19(num_classes=1000, **kwargs):
    """VGG-19, configuration E (143,667,240 parameters)."""
    return _vgg("E", False, num_classes, kwargs)


def vgg19_bn(num_classes=1000, **kwargs):
    """VGG-19 with batch normalisation (143,678,248 parameters)."""
    return _vgg("E", True, num_classes, kwargs)
