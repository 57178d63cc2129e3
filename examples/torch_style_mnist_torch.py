"""examples/torch_style_mnist.py run with PyTorch instead of pycnn, to compare the accuracy both reach.

It executes that script's own source with its pycnn imports swapped for torch's (so the recipe is the same
code, not a copy), on the same arrays: pycnn's bundled digits, normalised by pycnn, wrapped in a
torch.utils.data.TensorDataset. Takes the same options.

    python examples/torch_style_mnist_torch.py --epochs 3
"""

import sys
from pathlib import Path

import torch
import torch.utils.data

import pycnn.datasets

RECIPE = Path(__file__).with_name("torch_style_mnist.py")

# pycnn text -> torch text; each must occur in the recipe (a recipe that changed fails here, not silently).
SWAPS = {
    "import pycnn as torch": "import torch\nimport torch.utils.data",
    "import pycnn.nn as nn": "import torch.nn as nn",
    "import pycnn.nn.functional as F": "import torch.nn.functional as F",
    "import pycnn.optim as optim": "import torch.optim as optim",
    "from pycnn.optim.lr_scheduler import StepLR": "from torch.optim.lr_scheduler import StepLR",
    "from pycnn.datasets import mnist_subset\n": "",
    "torch.data.": "torch.utils.data.",
}


def mnist_subset(split):
    """pycnn's bundled digits as a torch TensorDataset: the very arrays the pycnn run trains on."""
    images, labels = pycnn.datasets.mnist_subset(split).arrays
    return torch.utils.data.TensorDataset(torch.from_numpy(images.copy()), torch.from_numpy(labels.copy()))


def load_recipe():
    """The recipe's namespace (Net, train, test, main), built on torch."""
    source = RECIPE.read_text(encoding="utf-8")
    for old, new in SWAPS.items():
        if old not in source:
            raise RuntimeError(f"{RECIPE.name} no longer contains {old!r}: update SWAPS")
        source = source.replace(old, new)
    namespace = {"__name__": "torch_style_mnist_on_torch", "mnist_subset": mnist_subset}
    exec(compile(source, str(RECIPE), "exec"), namespace)  # noqa: S102  (our own example file)
    return namespace


if __name__ == "__main__":
    load_recipe()["main"](sys.argv[1:])
