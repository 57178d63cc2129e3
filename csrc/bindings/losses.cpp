// Bindings of the losses ops (ops/ops.h); same conventions as bindings/ops.cpp.
#include "bindings/common.h"

namespace pycnn::bindings {

void init_losses(py::module_& m) {
}

}  // namespace pycnn::bindings
