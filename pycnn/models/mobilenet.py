"""MobileNetV2 (Sandler et al., 2018) in torchvision's layout.

features.0 is a 3x3/2 conv-BN-ReLU6 stem, features.1..17 are inverted residual blocks (each a `conv`
Sequential: [1x1 expand conv-BN-ReLU6], 3x3 depthwise conv-BN-ReLU6, 1x1 linear projection conv, BN),
features.18 a 1x1 conv-BN-ReLU6 to 1280 channels; then global average pooling and classifier
(Dropout, Linear). Keys and shapes match torchvision (features.1.conv.0.0.weight, classifier.1.weight, ...).
3,504,872 parameters for 1000 classes. Shapes: (N, 3, 224, 224) -> (N, 1280, 7, 7) -> (N, num_classes).
"""

from .. import nn
from .._convert import number_arg
from ..nn import functional as F
from ..nn._arguments import positive_int, probability

__all__ = ["InvertedResidual", "MobileNetV2", "mobilenet_v2"]


def _make_divisible(v, divisor, min_value=None):
    # Round channels to a multiple of divisor without going more than 10% below v (as the reference code).
    min_value = min_value or divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def conv_bn_relu6(in_planes, out_planes, kernel_size=3, stride=1, groups=1):
    """torchvision's Conv2dNormActivation: Sequential(conv (no bias), BatchNorm2d, ReLU6)."""
    padding = (kernel_size - 1) // 2
    return nn.Sequential(
        nn.Conv2d(in_planes, out_planes, kernel_size, stride, padding, groups=groups, bias=False),
        nn.BatchNorm2d(out_planes),
        nn.ReLU6(inplace=True),
    )


class InvertedResidual(nn.Module):
    """(N, inp, H, W) -> (N, oup, H/stride, W/stride); residual when stride == 1 and inp == oup."""

    def __init__(self, inp, oup, stride, expand_ratio):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"[InvertedResidual] stride should be 1 or 2, got {stride}")
        self.stride = stride
        hidden_dim = int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == oup
        layers = []
        if expand_ratio != 1:
            layers.append(conv_bn_relu6(inp, hidden_dim, kernel_size=1))
        layers += [
            conv_bn_relu6(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim),
            nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False),
            nn.BatchNorm2d(oup),
        ]
        self.conv = nn.Sequential(*layers)
        self.out_channels = oup

    def forward(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(nn.Module):
    """Args: num_classes (1000), width_mult (1.0), round_nearest (8), dropout (0.2)."""

    def __init__(self, num_classes=1000, width_mult=1.0, inverted_residual_setting=None, round_nearest=8, dropout=0.2):
        super().__init__()
        positive_int(num_classes, "num_classes", "MobileNetV2")
        if not number_arg(width_mult, "MobileNetV2", "width_mult") > 0:
            raise ValueError(f"[MobileNetV2] width_mult must be positive, got {width_mult}")
        probability(dropout, "dropout", "MobileNetV2")
        input_channel, last_channel = 32, 1280
        # t (expansion), c (channels), n (repeats), s (first stride)
        setting = inverted_residual_setting or [
            [1, 16, 1, 1],
            [6, 24, 2, 2],
            [6, 32, 3, 2],
            [6, 64, 4, 2],
            [6, 96, 3, 1],
            [6, 160, 3, 2],
            [6, 320, 1, 1],
        ]
        if any(len(row) != 4 for row in setting):
            raise ValueError(f"[MobileNetV2] inverted_residual_setting rows must be [t, c, n, s], got {setting}")
        input_channel = _make_divisible(input_channel * width_mult, round_nearest)
        self.last_channel = _make_divisible(last_channel * max(1.0, width_mult), round_nearest)
        features = [conv_bn_relu6(3, input_channel, stride=2)]
        for t, c, n, s in setting:
            output_channel = _make_divisible(c * width_mult, round_nearest)
            for i in range(n):
                features.append(InvertedResidual(input_channel, output_channel, s if i == 0 else 1, t))
                input_channel = output_channel
        features.append(conv_bn_relu6(input_channel, self.last_channel, kernel_size=1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(self.last_channel, num_classes))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.classifier(F.flatten(x, 1))


def mobilenet_v2(num_classes=1000, **kwargs):
    """MobileNetV2 (3,504,872 parameters for 1000 classes at width_mult=1.0)."""
    return MobileNetV2(num_classes=num_classes, **kwargs)
