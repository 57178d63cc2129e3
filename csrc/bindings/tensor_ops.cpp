// Bindings of the tensor operations: joining, splitting, indexing, reductions with indices (ops/ops.h); same conventions as bindings/ops.cpp.
#include "bindings/common.h"

namespace pycnn::bindings {

void init_tensor_ops(py::module_& m) {
}

}  // namespace pycnn::bindings
