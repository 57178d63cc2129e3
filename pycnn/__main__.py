"""`python -m pycnn ...` and the `pycnn` console script (pyproject: pycnn = "pycnn.__main__:main").

The commands themselves live in pycnn/cli.py.
"""

import sys

from pycnn.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
