"""DenseNet-121/161/169/201 (Huang et al., 2017) in torchvision's layout.

Each dense layer is BN-ReLU-1x1 conv (to bn_size * growth_rate) - BN-ReLU-3x3 conv (to growth_rate) applied
to the concatenation of all earlier feature maps of its block; transitions halve channels (1x1 conv) and the
spatial size (2x2 average pooling). Names and shapes match torchvision:
features.{conv0,norm0,denseblockB.denselayerL.{norm1,conv1,norm2,conv2},transitionB.{norm,conv},norm5},
classifier. densenet121: 7,978,856 parameters for 1000 classes.
Shapes: (N, 3, 224, 224) -> features (N, 1024, 7, 7) -> (N, num_classes).
"""

from collections import OrderedDict

from .. import nn
from .._tensor_ops import cat
from ..nn import functional as F
from ..nn._arguments import positive_int, probability

__all__ = ["DenseNet", "densenet121", "densenet161", "densenet169", "densenet201"]


class _DenseLayer(nn.Module):
    def __init__(self, num_input_features, growth_rate, bn_size, drop_rate):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(num_input_features)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(num_input_features, bn_size * growth_rate, kernel_size=1, stride=1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, kernel_size=3, stride=1, padding=1, bias=False)
        self.drop_rate = float(drop_rate)

    def forward(self, features):
        x = cat(features, 1) if isinstance(features, (list, tuple)) else features
        x = self.conv1(self.relu1(self.norm1(x)))
        x = self.conv2(self.relu2(self.norm2(x)))
        if self.drop_rate > 0:
            x = F.dropout(x, p=self.drop_rate, training=self.training)
        return x


class _DenseBlock(nn.Module):
    """(N, C, H, W) -> (N, C + num_layers * growth_rate, H, W)."""

    def __init__(self, num_layers, num_input_features, bn_size, growth_rate, drop_rate):
        super().__init__()
        for i in range(num_layers):
            self.add_module(
                f"denselayer{i + 1}", _DenseLayer(num_input_features + i * growth_rate, growth_rate, bn_size, drop_rate)
            )

    def forward(self, init_features):
        features = [init_features]
        for layer in self._modules.values():
            features.append(layer(features))
        return cat(features, 1)


class _Transition(nn.Sequential):
    def __init__(self, num_input_features, num_output_features):
        super().__init__(
            OrderedDict(
                [
                    ("norm", nn.BatchNorm2d(num_input_features)),
                    ("relu", nn.ReLU(inplace=True)),
                    ("conv", nn.Conv2d(num_input_features, num_output_features, kernel_size=1, stride=1, bias=False)),
                    ("pool", nn.AvgPool2d(kernel_size=2, stride=2)),
                ]
            )
        )


class DenseNet(nn.Module):
    """Args: growth_rate (32), block_config ((6, 12, 24, 16)), num_init_features (64), bn_size (4),
    drop_rate (0), num_classes (1000)."""

    def __init__(
        self,
        growth_rate=32,
        block_config=(6, 12, 24, 16),
        num_init_features=64,
        bn_size=4,
        drop_rate=0.0,
        num_classes=1000,
    ):
        super().__init__()
        positive_int(num_classes, "num_classes", "DenseNet")
        positive_int(growth_rate, "growth_rate", "DenseNet")
        probability(drop_rate, "drop_rate", "DenseNet")
        layers = OrderedDict(
            [
                ("conv0", nn.Conv2d(3, num_init_features, kernel_size=7, stride=2, padding=3, bias=False)),
                ("norm0", nn.BatchNorm2d(num_init_features)),
                ("relu0", nn.ReLU(inplace=True)),
                ("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
            ]
        )
        num_features = num_init_features
        for i, num_layers in enumerate(block_config):
            layers[f"denseblock{i + 1}"] = _DenseBlock(num_layers, num_features, bn_size, growth_rate, drop_rate)
            num_features += num_layers * growth_rate
            if i != len(block_config) - 1:
                layers[f"transition{i + 1}"] = _Transition(num_features, num_features // 2)
                num_features //= 2
        layers["norm5"] = nn.BatchNorm2d(num_features)
        self.features = nn.Sequential(layers)
        self.classifier = nn.Linear(num_features, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = F.relu(self.features(x))
        x = F.adaptive_avg_pool2d(x, (1, 1))
        return self.classifier(F.flatten(x, 1))


def densenet121(num_classes=1000, **kwargs):
    """DenseNet-121 (7,978,856 parameters for 1000 classes)."""
    return DenseNet(32, (6, 12, 24, 16), 64, num_classes=num_classes, **kwargs)


def densenet161(num_classes=1000, **kwargs):
    """DenseNet-161 (28,681,000 parameters)."""
    return DenseNet(48, (6, 12, 36, 24), 96, num_classes=num_classes, **kwargs)


def densenet169(num_classes=1000, **kwargs):
    """DenseNet-169 (14,149,480 parameters)."""
    return DenseNet(32, (6, 12, 32, 32), 64, num_classes=num_classes, **kwargs)


def densenet201(num_classes=1000, **kwargs):
    """DenseNet-201 (20,013,928 parameters)."""
    return DenseNet(32, (6, 12, 48, 32), 64, num_classes=num_classes, **kwargs)
