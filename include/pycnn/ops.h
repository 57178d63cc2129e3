// pycnn's public C++ API: every op's forward and backward (the same entry points the Python module calls),
// and the thread count (set_num_threads) the CPU kernels use.
#pragma once
#include "pycnn/core/parallel.h"
#include "pycnn/ops/ops.h"
#include "pycnn/tensor.h"
