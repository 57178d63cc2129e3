// Bindings of the convolution family: conv1d, transposed convolution, padding (ops/ops.h); same conventions as bindings/ops.cpp.
#include "bindings/common.h"

namespace pycnn::bindings {

void init_convs(py::module_& m) {
}

}  // namespace pycnn::bindings
