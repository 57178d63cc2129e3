// Bindings of the reductions (ops/reduce.cpp); conventions in bindings/common.h.
#include "common.h"

namespace pycnn::bindings {

void init_reduce(py::module_& m) {
  m.def(
      "sum",
      [](const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
        py::gil_scoped_release nogil;
        return sum(x, dims, keepdim);
      },
      "sum over dims (all when empty)");
  m.def("sum_backward", [](const Tensor& dout, const Shape& x_shape, const std::vector<int64_t>& dims, bool keepdim) {
    py::gil_scoped_release nogil;
    return sum_backward(dout, x_shape, dims, keepdim);
  });
  m.def("sum_to", [](const Tensor& x, const Shape& shape) {
    py::gil_scoped_release nogil;
    return sum_to(x, shape);
  });
  m.def("argmax", [](const Tensor& x, int64_t dim) {
    py::gil_scoped_release nogil;
    return argmax(x, dim);
  });
}

}  // namespace pycnn::bindings
