// Bindings of the pooling variants and upsampling ops (ops/ops.h); same conventions as bindings/ops.cpp.
#include "bindings/common.h"

namespace pycnn::bindings {

void init_resize(py::module_& m) {
}

}  // namespace pycnn::bindings
