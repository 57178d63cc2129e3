"""ZFNet (Zeiler & Fergus, 2013): AlexNet with a 7x7 stride-2 first layer and a stride-2 5x5 second layer.

Layout (for (N, 3, 224, 224)): conv1 96x7x7/2 pad 1 -> (96, 110, 110), max-pool 3/2 -> 54, LRN;
conv2 256x5x5/2 -> (256, 25, 25), max-pool 3/2 -> 12, LRN; conv3/4 384x3x3, conv5 256x3x3 (pad 1),
max-pool 3/2 -> 5; AdaptiveAvgPool2d((6, 6)) (as in torchvision's AlexNet) gives the 6x6x256 = 9216
features the paper's fully connected 4096-4096-classes head expects for any input >= 224. Ungrouped
convolutions (one GPU), 62,357,608 parameters for 1000 classes.
"""

from .. import nn
from ..nn import functional as F
from ..nn._arguments import positive_int, probability
from .alexnet import alexnet_classifier

__all__ = ["ZFNet", "zfnet"]


class ZFNet(nn.Module):
    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__()
        positive_int(num_classes, "num_classes", "ZFNet")
        probability(dropout, "dropout", "ZFNet")
        self.features = nn.Sequential(
            nn.Conv2d(3, 96, kernel_size=7, stride=2, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.LocalResponseNorm(size=5, alpha=5e-4, beta=0.75, k=2.0),
            nn.Conv2d(96, 256, kernel_size=5, stride=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.LocalResponseNorm(size=5, alpha=5e-4, beta=0.75, k=2.0),
            nn.Conv2d(256, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = alexnet_classifier(num_classes, dropout)

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(F.flatten(x, 1))


def zfnet(num_classes=1000, **kwargs):
    """ZFNet (62,357,608 parameters for 1000 classes); see the module docstring for the layout."""
    return ZFNet(num_classes=num_classes, **kwargs)
