"""torch.utils's place for what scripts reach as ``torch.utils.data``: ``pycnn.utils.data`` is ``pycnn.data``."""

from . import data

__all__ = ["data"]
