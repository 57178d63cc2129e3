"""pycnn.data: datasets, samplers and the DataLoader (PyTorch's torch.utils.data names).

dataset.py holds the datasets and splits, sampler.py the samplers, dataloader.py the DataLoader (and
_worker.py what runs in its worker processes), collate.py default_collate. Bundled datasets (the MNIST
subset) live in pycnn.datasets.
"""
from .dataset import (ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split,
                      stratified_split)
from .collate import default_collate
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
                      WeightedRandomSampler)
from .dataloader import DataLoader
from ._worker import WorkerInfo, get_worker_info
from . import transforms

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "random_split",
           "stratified_split", "DataLoader", "get_worker_info", "WorkerInfo", "Sampler", "SequentialSampler",
           "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler", "default_collate"]
