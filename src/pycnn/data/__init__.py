"""pycnn.data: datasets, samplers and the DataLoader (PyTorch's torch.utils.data names).

Bundled datasets (the MNIST subset) live in pycnn.datasets.
"""
from .dataset import Dataset, Subset, TensorDataset, random_split
from .collate import default_collate
from .dataloader import BatchSampler, DataLoader, RandomSampler, Sampler, SequentialSampler
from . import transforms

__all__ = ["Dataset", "TensorDataset", "Subset", "random_split", "DataLoader", "Sampler",
           "SequentialSampler", "RandomSampler", "BatchSampler", "default_collate"]
