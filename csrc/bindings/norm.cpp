// Bindings of the normalisation and regularisation ops (ops/ops.h); same conventions as bindings/ops.cpp.
#include "bindings/common.h"

namespace pycnn::bindings {

void init_norm(py::module_& m) {
}

}  // namespace pycnn::bindings
