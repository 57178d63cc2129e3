"""pycnn.datasets: small datasets bundled with pycnn, ready for pycnn.data.DataLoader.

mnist_subset(): 5,000 real MNIST digits (4,000 train / 1,000 test), see data/README.md for the credit.
"""
from .mnist import MNIST_SUBSET_PATH, load_mnist_subset_arrays, mnist_subset

__all__ = ["mnist_subset", "load_mnist_subset_arrays", "MNIST_SUBSET_PATH"]
