// Bindings of 2-D convolution (ops/conv2d.cpp); conventions in bindings/common.h.
#include "bindings/common.h"

namespace pycnn::bindings {

void init_conv2d(py::module_& m) {
  m.def("conv2d_forward", [](const Tensor& x, const Tensor& w, const OptTensor& b, Pair stride, Pair padding,
                             Pair dilation, int64_t groups) {
    py::gil_scoped_release nogil;
    return conv2d_forward(x, w, undefined_if_none(b), conv2d_args(stride, padding, dilation, groups));
  });
  m.def("conv2d_backward", [](const Tensor& dout, const Tensor& x, const Tensor& w, Pair stride, Pair padding,
                              Pair dilation, int64_t groups, bool need_dx, bool need_dw, bool need_db) {
    std::tuple<Tensor, Tensor, Tensor> r;
    {
      py::gil_scoped_release nogil;
      r = conv2d_backward(dout, x, w, conv2d_args(stride, padding, dilation, groups), need_dx, need_dw, need_db);
    }
    return none_if_undefined(r);
  });
}

}  // namespace pycnn::bindings
