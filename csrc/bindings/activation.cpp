// Bindings of the nonlinearities and elementwise math ops (ops/ops.h); same conventions as bindings/ops.cpp.
#include "bindings/common.h"

namespace pycnn::bindings {

void init_activation(py::module_& m) {
}

}  // namespace pycnn::bindings
