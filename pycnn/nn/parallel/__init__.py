"""Data parallelism over processes: ``DistributedDataParallel`` (with ``pycnn.distributed``)."""

from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
