"""pycnn.cmake_prefix_path: where a C++ program finds the pycnn CMake package of this installation.

    cmake -DCMAKE_PREFIX_PATH=$(python -c 'import pycnn; print(pycnn.cmake_prefix_path)') ...
    find_package(pycnn REQUIRED)   # pycnn::core: libpycnn_core.so and <pycnn/...> headers

The wheel installs the core library, its headers and the CMake package next to the compiled module
(pycnn/lib/, pycnn/include/, pycnn/lib/cmake/pycnn/), so the prefix is the folder that holds _C. Taken from
_C.__file__, not from this file: an editable install keeps its compiled files in the build folder (and its
rebuild on import prints a line on stdout first: SKBUILD_EDITABLE_VERBOSE=0 silences it for a $(...) capture).
"""

import os

from . import _C

cmake_prefix_path = os.path.dirname(os.path.abspath(_C.__file__))
