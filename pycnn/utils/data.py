"""``pycnn.utils.data``: pycnn.data under torch's name (``torch.utils.data.DataLoader`` in a script that imports
pycnn as torch finds pycnn's)."""

from ..data import *
from ..data import __all__  # noqa: F401
