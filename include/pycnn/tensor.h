// pycnn's public C++ API: tensors (shape, dtype, device, storage). Internal headers stay in csrc/ and are
// reached through this facade, so an application includes only <pycnn/...>.
#pragma once
#include "pycnn/core/device.h"
#include "pycnn/core/dtype.h"
#include "pycnn/core/tensor.h"
