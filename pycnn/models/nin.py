"""Network in Network (Lin et al., 2013), the CIFAR-10 configuration of the authors' Caffe model.

Three "mlpconv" blocks, each a spatial convolution followed by two 1x1 convolutions (the per-pixel MLP),
all with ReLU: 192-160-96 (5x5), max-pool 3/2; 192-192-192 (5x5), avg-pool 3/2; 192-192-classes (3x3);
then global average pooling replaces fully connected layers. Pools use ceil_mode so 32 -> 16 -> 8, as
Caffe rounds up. Shapes: (N, 3, 32, 32) -> (N, num_classes); 966,986 parameters for 10 classes.
"""

from .. import nn
from ..nn import functional as F
from ..nn._arguments import positive_int, probability

__all__ = ["NiN", "nin"]


def _mlpconv(in_channels, channels, kernel_size, padding):
    return [
        nn.Conv2d(in_channels, channels[0], kernel_size, padding=padding),
        nn.ReLU(inplace=True),
        nn.Conv2d(channels[0], channels[1], 1),
        nn.ReLU(inplace=True),
        nn.Conv2d(channels[1], channels[2], 1),
        nn.ReLU(inplace=True),
    ]


class NiN(nn.Module):
    def __init__(self, num_classes=10, in_channels=3, dropout=0.5):
        super().__init__()
        positive_int(num_classes, "num_classes", "NiN")
        probability(dropout, "dropout", "NiN")
        positive_int(in_channels, "in_channels", "NiN")
        self.features = nn.Sequential(
            *_mlpconv(in_channels, (192, 160, 96), 5, 2),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            nn.Dropout(dropout),
            *_mlpconv(96, (192, 192, 192), 5, 2),
            nn.AvgPool2d(kernel_size=3, stride=2, ceil_mode=True),
            nn.Dropout(dropout),
            *_mlpconv(192, (192, 192, num_classes), 3, 1),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))

    def forward(self, x):
        return F.flatten(self.avgpool(self.features(x)), 1)


def nin(num_classes=10, **kwargs):
    """Network in Network for 32x32 inputs (966,986 parameters for 10 classes)."""
    return NiN(num_classes=num_classes, **kwargs)
