// Bindings of max and average pooling (ops/pool2d.cpp); conventions in bindings/common.h.
#include "bindings/common.h"

namespace pycnn::bindings {

static Pool2dArgs pool_args(std::pair<int64_t, int64_t> kernel, std::pair<int64_t, int64_t> stride,
                            std::pair<int64_t, int64_t> padding, std::pair<int64_t, int64_t> dilation, bool ceil_mode,
                            bool count_include_pad, int64_t divisor_override) {
  return Pool2dArgs{kernel.first, kernel.second, stride.first,     stride.second,     padding.first,
                    padding.second, dilation.first, dilation.second, ceil_mode, count_include_pad, divisor_override};
}

void init_pool2d(py::module_& m) {
  m.def("max_pool2d_forward", [](const Tensor& x, Pair kernel, Pair stride, Pair padding, Pair dilation,
                                 bool ceil_mode) {
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
    return avg_pool2d_forward(x, pool_args(kernel, stride, padding, {1, 1}, ceil_mode, count_include_pad,
                                           divisor_override));
  });
  m.def("avg_pool2d_backward", [](const Tensor& dout, const Shape& x_shape, Pair kernel, Pair stride, Pair padding,
                                  bool ceil_mode, bool count_include_pad, int64_t divisor_override) {
    py::gil_scoped_release nogil;
    return avg_pool2d_backward(dout, x_shape, pool_args(kernel, stride, padding, {1, 1}, ceil_mode,
                                                        count_include_pad, divisor_override));
  });
}

}  // namespace pycnn::bindings
