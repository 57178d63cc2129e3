"""AlexNet: torchvision's single-GPU variant (`alexnet`) and the 2012 paper's network (`alexnet_original`).

alexnet (61,100,840 parameters for 1000 classes) uses torchvision's names and shapes (features.{0,3,6,8,10},
classifier.{1,4,6}), 64/192/384/256/256 channels, no LRN. alexnet_original follows Krizhevsky et al. 2012:
96/256/384/384/256 channels, LocalResponseNorm after conv1 and conv2, overlapping 3x3/2 max-pooling, and
groups=2 in conv2/conv4/conv5 reproducing the two-GPU split (conv3 sees both halves); 60,965,224 parameters.
The paper's "224x224" input only works out as 227x227; here conv1 has padding 2, so 224x224 (55x55 after
conv1) and 227x227 (56x56, pooled to 27x27 too) both give 6x6x256 features.
LRN: the paper divides by (k + alpha * sum)^beta with k=2, n=5, alpha=1e-4; torch's (and pycnn's)
LocalResponseNorm divides alpha by the window size, so alpha=5e-4 is passed to match the paper.
"""

from .. import nn
from ..nn import functional as F
from ..nn._arguments import positive_int, probability

__all__ = ["AlexNet", "AlexNetOriginal", "alexnet", "alexnet_original"]


def alexnet_classifier(num_classes, dropout):
    """The fully connected head on the 256x6x6 features, shared by both AlexNets and ZFNet: (N, 9216) ->
    dropout, 4096, ReLU, dropout, 4096, ReLU -> (N, num_classes)."""
    return nn.Sequential(
        nn.Dropout(p=dropout),
        nn.Linear(256 * 6 * 6, 4096),
        nn.ReLU(inplace=True),
        nn.Dropout(p=dropout),
        nn.Linear(4096, 4096),
        nn.ReLU(inplace=True),
        nn.Linear(4096, num_classes),
    )


class AlexNet(nn.Module):
    """torchvision's AlexNet: (N, 3, 224, 224) -> features (N, 256, 6, 6) -> (N, num_classes)."""

    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__()
        positive_int(num_classes, "num_classes", "AlexNet")
        probability(dropout, "dropout", "AlexNet")
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = alexnet_classifier(num_classes, dropout)

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(F.flatten(x, 1))


class AlexNetOriginal(nn.Module):
    """The 2012 paper's AlexNet (see the module docstring): (N, 3, 224 or 227, same) -> (N, num_classes)."""

    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__()
        positive_int(num_classes, "num_classes", "AlexNetOriginal")
        probability(dropout, "dropout", "AlexNetOriginal")
        self.features = nn.Sequential(
            nn.Conv2d(3, 96, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.LocalResponseNorm(size=5, alpha=5e-4, beta=0.75, k=2.0),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(96, 256, kernel_size=5, padding=2, groups=2),
            nn.ReLU(inplace=True),
            nn.LocalResponseNorm(size=5, alpha=5e-4, beta=0.75, k=2.0),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(256, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 384, kernel_size=3, padding=1, groups=2),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1, groups=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.classifier = alexnet_classifier(num_classes, dropout)

    def forward(self, x):
        return self.classifier(F.flatten(self.features(x), 1))


def alexnet(num_classes=1000, **kwargs):
    """torchvision's AlexNet (61,100,840 parameters for 1000 classes)."""
    return AlexNet(num_classes=num_classes, **kwargs)


def alexnet_original(num_classes=1000, **kwargs):
    """The 2012 paper's AlexNet with LRN and grouped convolutions (60,965,224 parameters)."""
    return AlexNetOriginal(num_classes=num_classes, **kwargs)
