// Bindings of the linear layer's forward and backward (ops/linear.cpp); conventions in bindings/common.h.
#include "common.h"

namespace pycnn::bindings {

void init_linear(py::module_& m) {
  m.def("linear_forward", [](const Tensor& x, const Tensor& w, const OptTensor& b) {
    py::gil_scoped_release nogil;
    return linear_forward(x, w, undefined_if_none(b));
  });
  m.def("linear_backward", [](const Tensor& dout, const Tensor& x, const Tensor& w, bool need_dx, bool has_bias) {
    std::tuple<Tensor, Tensor, Tensor> r;
    {
      py::gil_scoped_release nogil;
      r = linear_backward(dout, x, w, need_dx, has_bias);
    }
    return none_if_undefined(r);
  });
}

}  // namespace pycnn::bindings
