// Bindings of max and average pooling (ops/pool2d.cpp); conventions in bindings/common.h.
#include "common.h"

namespace pycnn::bindings {

static Pool2dArgs pool_args(Pair kernel, Pair stride, Pair padding, Pair dilation, bool ceil_mode,
                            bool count_include_pad, int64_t divisor_override) {
  Pool2dArgs a;
  a.kernel_h = kernel.first, a.kernel_w = kernel.second;
  a.stride_h = stride.first, a.stride_w = stride.second;
  a.pad_h = padding.first, a.pad_w = padding.second;
  a.dilation_h = dilation.first, a.dilation_w = dilation.second;
  a.ceil_mode = ceil_mode;
  a.count_include_pad = count_include_pad;
  a.divisor_override = divisor_override;
  return a;
}

void init_pool2d(py::module_& m) {
  m.def("max_pool2d_forward",
        [](const Tensor& x, Pair kernel, Pair stride, Pair padding, Pair dilation, bool ceil_mode) {
          py::gil_scoped_release nogil;
          return max_pool2d_forward(x, pool_args(kernel, stride, padding, dilation, ceil_mode, true, 0));
        });
  m.def("max_pool2d_backward", [](const Tensor& dout, const Tensor& indices, const Shape& x_shape) {
    py::gil_scoped_release nogil;
    return max_pool2d_backward(dout, indices, x_shape);
  });
  m.def("avg_pool2d_forward", [](const Tensor& x, Pair kernel, Pair stride, Pair padding, bool ceil_mode,
                                 bool count_include_pad, int64_t divisor_override) {
    py::gil_scoped_release nogil;
    return avg_pool2d_forward(
        x, pool_args(kernel, stride, padding, {1, 1}, ceil_mode, count_include_pad, divisor_override));
  });
  m.def("avg_pool2d_backward", [](const Tensor& dout, const Shape& x_shape, Pair kernel, Pair stride, Pair padding,
                                  bool ceil_mode, bool count_include_pad, int64_t divisor_override) {
    py::gil_scoped_release nogil;
    return avg_pool2d_backward(
        dout, x_shape, pool_args(kernel, stride, padding, {1, 1}, ceil_mode, count_include_pad, divisor_override));
  });
}

}  // namespace pycnn::bindings
