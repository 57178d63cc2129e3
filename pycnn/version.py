"""pycnn's version, as the compiled core reports it (the project version CMake was configured with)."""

from . import _C

__version__ = getattr(_C, "__version__", "0.0.0")
