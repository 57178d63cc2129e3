// Bindings of copy_ and fill_ (ops/copy.cpp); conventions in bindings/common.h.
#include "common.h"

namespace pycnn::bindings {

void init_copy(py::module_& m) {
  m.def(
      "copy_",
      [](Tensor& dst, const Tensor& src) {
        py::gil_scoped_release nogil;
        copy_(dst, src);
      },
      "dst[...] = src (same shape, src may be broadcast), converting the dtype.");
  m.def("fill_", [](Tensor& dst, double v) { fill_(dst, v); });
}

}  // namespace pycnn::bindings
