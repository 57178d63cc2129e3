"""LeNet-5 for 28x28 inputs (MNIST-sized) by default, with no padding in the first convolution.

Shapes for a (N, 1, 28, 28) input: conv 5x5 -> (N, 6, 24, 24), pool -> (N, 6, 12, 12), conv 5x5 ->
(N, 16, 8, 8), pool -> (N, 16, 4, 4), flatten -> (N, 256), then 256 -> 120 -> 84 -> num_classes.
This differs from the 1998 paper's 32x32 input (16*5*5 = 400 features, 61,706 parameters); here the
model has 44,426 parameters for 10 classes. input_size=32 gives the paper's 400 features (CIFAR-sized inputs).
"""

from .. import nn
from ..nn import functional as F
from ..nn._arguments import positive_int

__all__ = ["LeNet5", "lenet5"]


class LeNet5(nn.Module):
    """LeNet-5 with ReLU and max pooling.

    Args:
        num_classes (int): number of output logits. Default: 10.
        in_channels (int): input channels (1 for grayscale). Default: 1.
        input_size (int): height and width of the (square) input, at least 16. Default: 28.
    Shapes:
        input (N, in_channels, input_size, input_size) -> logits (N, num_classes).
    Submodules (state dict keys): features.{0,3}.{weight,bias} (convolutions),
        classifier.{0,2,4}.{weight,bias} (fully connected layers).
    """

    def __init__(self, num_classes=10, in_channels=1, input_size=28):
        super().__init__()
        positive_int(num_classes, "num_classes", "LeNet5")
        positive_int(in_channels, "in_channels", "LeNet5")
        if input_size < 16:
            raise ValueError(f"[LeNet5] input_size must be at least 16, got {input_size}")
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.input_size = (input_size, input_size)
        side = ((input_size - 4) // 2 - 4) // 2  # two (5x5 valid conv, 2x2 pool) stages
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, kernel_size=5),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Linear(16 * side * side, 120),
            nn.ReLU(),
            nn.Linear(120, 84),
            nn.ReLU(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x):
        # Check here: otherwise a wrong input size surfaces as a confusing matmul error in classifier.0.
        if x.ndim != 4 or tuple(x.shape[1:]) != (self.in_channels,) + self.input_size:
            raise ValueError(
                f"[LeNet5] expected input of shape (N, {self.in_channels}, {self.input_size[0]}, "
                f"{self.input_size[1]}), "
                f"got {tuple(x.shape)}"
            )
        x = self.features(x)
        x = F.flatten(x, 1)
        return self.classifier(x)


def lenet5(num_classes=10, in_channels=1, input_size=28):
    """Build a LeNet5 (see LeNet5). Weights use PyTorch's default initialisation."""
    return LeNet5(num_classes=num_classes, in_channels=in_channels, input_size=input_size)
