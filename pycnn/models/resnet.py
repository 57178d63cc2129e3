"""ResNets (He et al., 2015): torchvision's ImageNet resnet18..152 and CIFAR variants.

State dict names and shapes match torchvision's (conv1, bn1, layer1..4.N.{conv1,bn1,...,downsample.0/1}, fc),
so converted torchvision checkpoints load with load_state_dict. Shapes for a (N, 3, 224, 224) input:
stem -> (N, 64, 56, 56), layer1..4 halve the size from layer2 on, avgpool -> (N, C, 1, 1), fc -> (N, classes).

CIFAR variants (32x32 inputs): resnet20/32/56 follow the paper's section 4.2 (3x3 stem with 16 channels,
three stages of 16/32/64 channels, 6n+2 layers), but use option-B shortcuts (1x1 conv + BN where the shape
changes) rather than the paper's parameter-free zero-padding option A, so every block is an ordinary
BasicBlock with torchvision-style `downsample`; this adds a few thousand parameters (resnet20: 272,474 for
10 classes instead of the paper's ~0.27M with option A). resnet18_cifar is resnet18 with a 3x3 stride-1
stem and no max-pool (11,173,962 parameters for 10 classes).
"""

from .. import nn
from ..nn import functional as F
from ..nn._arguments import positive_int

__all__ = [
    "BasicBlock",
    "Bottleneck",
    "CifarResNet",
    "ResNet",
    "resnet18",
    "resnet18_cifar",
    "resnet20",
    "resnet32",
    "resnet34",
    "resnet50",
    "resnet56",
    "resnet101",
    "resnet152",
]


def conv3x3(in_planes, out_planes, stride=1, groups=1, dilation=1):
    return nn.Conv2d(
        in_planes,
        out_planes,
        kernel_size=3,
        stride=stride,
        padding=dilation,
        groups=groups,
        bias=False,
        dilation=dilation,
    )


def conv1x1(in_planes, out_planes, stride=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual connection: (N, inplanes, H, W) -> (N, planes, H/s, W/s)."""

    expansion = 1

    def __init__(
        self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1, norm_layer=None
    ):
        super().__init__()
        positive_int(inplanes, "inplanes", "BasicBlock")
        positive_int(planes, "planes", "BasicBlock")
        norm_layer = norm_layer or nn.BatchNorm2d
        if groups != 1 or base_width != 64:
            raise ValueError("[BasicBlock] only supports groups=1 and base_width=64")
        if dilation > 1:
            raise ValueError("[BasicBlock] dilation > 1 is not supported")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (stride here, as torchvision's "ResNet V1.5"), 1x1 expand by 4, plus the shortcut."""

    expansion = 4

    def __init__(
        self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1, norm_layer=None
    ):
        super().__init__()
        positive_int(inplanes, "inplanes", "Bottleneck")
        positive_int(planes, "planes", "Bottleneck")
        norm_layer = norm_layer or nn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


def _init_weights(model, zero_init_residual):
    # torchvision's initialisation: He-normal (fan_out) convolutions, BN weight 1 / bias 0 (the defaults).
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
    if zero_init_residual:
        for m in model.modules():
            if isinstance(m, Bottleneck):
                nn.init.zeros_(m.bn3.weight)
            elif isinstance(m, BasicBlock):
                nn.init.zeros_(m.bn2.weight)


class ResNet(nn.Module):
    """torchvision's ResNet.

    Args:
        block: BasicBlock or Bottleneck.
        layers (list of 4 ints): blocks per stage.
        num_classes (int): logits. Default: 1000.
        zero_init_residual (bool): zero the last BN weight of each block. Default: False.
        groups, width_per_group: ResNeXt / wide-ResNet settings (Bottleneck only).
        cifar_stem (bool): 3x3 stride-1 stem conv and no max-pool (for 32x32 inputs). Default: False.
    Shapes:
        (N, 3, H, W) -> (N, num_classes); any H, W >= 32 (ImageNet stem) thanks to adaptive pooling.
    """

    def __init__(
        self,
        block,
        layers,
        num_classes=1000,
        zero_init_residual=False,
        groups=1,
        width_per_group=64,
        norm_layer=None,
        cifar_stem=False,
    ):
        super().__init__()
        positive_int(num_classes, "num_classes", "ResNet")
        if not isinstance(layers, (list, tuple)) or len(layers) != 4:
            raise ValueError(f"[ResNet] expected layers to be 4 block counts, got {layers!r}")
        self._norm_layer = norm_layer or nn.BatchNorm2d
        self.inplanes = 64
        self.dilation = 1
        self.groups = groups
        self.base_width = width_per_group
        if cifar_stem:
            self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=3, stride=1, padding=1, bias=False)
        else:
            self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = self._norm_layer(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.Identity() if cifar_stem else nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        _init_weights(self, zero_init_residual)

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride), self._norm_layer(planes * block.expansion)
            )
        layers = [
            block(
                self.inplanes, planes, stride, downsample, self.groups, self.base_width, self.dilation, self._norm_layer
            )
        ]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(
                block(
                    self.inplanes,
                    planes,
                    groups=self.groups,
                    base_width=self.base_width,
                    dilation=self.dilation,
                    norm_layer=self._norm_layer,
                )
            )
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = F.flatten(self.avgpool(x), 1)
        return self.fc(x)


class CifarResNet(nn.Module):
    """The CIFAR ResNet of He et al. section 4.2 (6n+2 layers), with option-B (1x1 conv) shortcuts.

    Args:
        depth (int): 6n+2, e.g. 20, 32, 44, 56, 110.
        num_classes (int): Default: 10.
    Shapes:
        (N, 3, 32, 32) -> stem (N, 16, 32, 32) -> layer1 (16, 32x32) -> layer2 (32, 16x16)
        -> layer3 (64, 8x8) -> avgpool -> fc (N, num_classes).
    """

    def __init__(self, depth, num_classes=10):
        super().__init__()
        positive_int(num_classes, "num_classes", "CifarResNet")
        if (depth - 2) % 6 != 0 or depth < 8:
            raise ValueError(f"[CifarResNet] depth must be 6n+2 (20, 32, 56, ...), got {depth}")
        n = (depth - 2) // 6
        self.inplanes = 16
        self.conv1 = conv3x3(3, 16)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(16, n, 1)
        self.layer2 = self._make_layer(32, n, 2)
        self.layer3 = self._make_layer(64, n, 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(64, num_classes)
        _init_weights(self, False)

    def _make_layer(self, planes, blocks, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes, stride), nn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(F.flatten(self.avgpool(x), 1))


def resnet18(num_classes=1000, **kwargs):
    """ResNet-18 (11,689,512 parameters for 1000 classes)."""
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes=num_classes, **kwargs)


def resnet34(num_classes=1000, **kwargs):
    """ResNet-34 (21,797,672 parameters for 1000 classes)."""
    return ResNet(BasicBlock, [3, 4, 6, 3], num_classes=num_classes, **kwargs)


def resnet50(num_classes=1000, **kwargs):
    """ResNet-50 (25,557,032 parameters for 1000 classes)."""
    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes=num_classes, **kwargs)


def resnet101(num_classes=1000, **kwargs):
    """ResNet-101 (44,549,160 parameters for 1000 classes)."""
    return ResNet(Bottleneck, [3, 4, 23, 3], num_classes=num_classes, **kwargs)


def resnet152(num_classes=1000, **kwargs):
    """ResNet-152 (60,192,808 parameters for 1000 classes)."""
    return ResNet(Bottleneck, [3, 8, 36, 3], num_classes=num_classes, **kwargs)


def resnet18_cifar(num_classes=10, **kwargs):
    """ResNet-18 for 32x32 inputs: 3x3 stride-1 stem, no max-pool (11,173,962 parameters for 10 classes)."""
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes=num_classes, cifar_stem=True, **kwargs)


def resnet20(num_classes=10):
    """CIFAR ResNet-20 with option-B shortcuts (see CifarResNet)."""
    return CifarResNet(20, num_classes)


def resnet32(num_classes=10):
    """CIFAR ResNet-32 with option-B shortcuts (see CifarResNet)."""
    return CifarResNet(32, num_classes)


def resnet56(num_classes=10):
    """CIFAR ResNet-56 with option-B shortcuts (see CifarResNet)."""
    return CifarResNet(56, num_classes)
