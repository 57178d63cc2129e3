"""pycnn.data: datasets, samplers and the DataLoader (PyTorch's torch.utils.data names).

dataset.py holds the datasets and splits, sampler.py the samplers (distributed.py the one that shards
a dataset over the ranks of a data-parallel job), dataloader.py the DataLoader (and
_worker.py what runs in its worker processes), collate.py default_collate. Bundled datasets (the MNIST
subset) live in pycnn.datasets.
"""

from . import transforms
from ._worker import WorkerInfo, get_worker_info
from .collate import default_collate
from .dataloader import DataLoader
from .dataset import ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split, stratified_split
from .distributed import DistributedSampler
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler, WeightedRandomSampler

__all__ = [
    "BatchSampler",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "DistributedSampler",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "WorkerInfo",
    "default_collate",
    "get_worker_info",
    "random_split",
    "stratified_split",
    "transforms",
]
