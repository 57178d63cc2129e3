"""SqueezeNet 1.0 and 1.1 (Iandola et al., 2016) in torchvision's layout.

A Fire module squeezes with a 1x1 convolution, then expands with parallel 1x1 and 3x3 convolutions whose
outputs are concatenated along channels. The classifier is a 1x1 convolution to num_classes followed by
global average pooling. Names and shapes match torchvision (features.N.squeeze/expand1x1/expand3x3,
classifier.1 = final conv). squeezenet1_1: 1,235,496 parameters for 1000 classes; squeezenet1_0: 1,248,424.
Shapes: (N, 3, 224, 224) -> features (N, 512, 13, 13) -> (N, num_classes).
"""

from .. import nn
from .._tensor_ops import cat
from ..nn import functional as F
from ..nn._arguments import positive_int, probability

__all__ = ["Fire", "SqueezeNet", "squeezenet1_0", "squeezenet1_1"]


class Fire(nn.Module):
    """(N, inplanes, H, W) -> (N, expand1x1_planes + expand3x3_planes, H, W)."""

    def __init__(self, inplanes, squeeze_planes, expand1x1_planes, expand3x3_planes):
        super().__init__()
        self.inplanes = inplanes
        self.squeeze = nn.Conv2d(inplanes, squeeze_planes, kernel_size=1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze_planes, expand1x1_planes, kernel_size=1)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze_planes, expand3x3_planes, kernel_size=3, padding=1)
        self.expand3x3_activation = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.squeeze_activation(self.squeeze(x))
        return cat([self.expand1x1_activation(self.expand1x1(x)), self.expand3x3_activation(self.expand3x3(x))], 1)


class SqueezeNet(nn.Module):
    """Args: version ("1_0" or "1_1"), num_classes (default 1000), dropout (default 0.5)."""

    def __init__(self, version="1_0", num_classes=1000, dropout=0.5):
        super().__init__()
        positive_int(num_classes, "num_classes", "SqueezeNet")
        probability(dropout, "dropout", "SqueezeNet")
        self.num_classes = num_classes
        pool = lambda: nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)
        if version == "1_0":
            self.features = nn.Sequential(
                nn.Conv2d(3, 96, kernel_size=7, stride=2),
                nn.ReLU(inplace=True),
                pool(),
                Fire(96, 16, 64, 64),
                Fire(128, 16, 64, 64),
                Fire(128, 32, 128, 128),
                pool(),
                Fire(256, 32, 128, 128),
                Fire(256, 48, 192, 192),
                Fire(384, 48, 192, 192),
                Fire(384, 64, 256, 256),
                pool(),
                Fire(512, 64, 256, 256),
            )
        elif version == "1_1":
            self.features = nn.Sequential(
                nn.Conv2d(3, 64, kernel_size=3, stride=2),
                nn.ReLU(inplace=True),
                pool(),
                Fire(64, 16, 64, 64),
                Fire(128, 16, 64, 64),
                pool(),
                Fire(128, 32, 128, 128),
                Fire(256, 32, 128, 128),
                pool(),
                Fire(256, 48, 192, 192),
                Fire(384, 48, 192, 192),
                Fire(384, 64, 256, 256),
                Fire(512, 64, 256, 256),
            )
        else:
            raise ValueError(f"[SqueezeNet] unsupported version {version!r}: 1_0 or 1_1 expected")
        final_conv = nn.Conv2d(512, num_classes, kernel_size=1)
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), final_conv, nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d((1, 1))
        )
        # torchvision's initialisation: N(0, 0.01) for the final conv, He-uniform for the others, zero biases.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                if m is final_conv:
                    nn.init.normal_(m.weight, mean=0.0, std=0.01)
                else:
                    nn.init.kaiming_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        return F.flatten(self.classifier(self.features(x)), 1)


def squeezenet1_0(num_classes=1000, **kwargs):
    """SqueezeNet 1.0 (1,248,424 parameters for 1000 classes)."""
    return SqueezeNet("1_0", num_classes=num_classes, **kwargs)


def squeezenet1_1(num_classes=1000, **kwargs):
    """SqueezeNet 1.1 (1,235,496 parameters; about 2.4x fewer FLOPs than 1.0)."""
    return SqueezeNet("1_1", num_classes=num_classes, **kwargs)
