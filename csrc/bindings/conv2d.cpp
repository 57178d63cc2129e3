// Bindings of 2-D convolution (ops/conv2d.cpp); conventions in bindings/common.h.
#include "common.h"
#include "pycnn/ops/cpu/winograd.h"  // defines: Conv2dAlgo, set_conv2d_algorithm, conv2d_algorithm, conv2d_algorithm_for

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
  m.def(
      "_set_conv2d_algorithm", [](const std::string& name) { cpu::set_conv2d_algorithm(parse_enum<Conv2dAlgo>(name)); },
      "CPU convolution algorithm: 'auto' (the shape rule), 'gemm' or 'winograd' (wherever it applies); the "
      "environment's PYCNN_CONV2D_ALGO sets it at start-up.");
  m.def("_conv2d_algorithm", [] { return enum_name(cpu::conv2d_algorithm()); });
  m.def(
      "_conv2d_algorithm_for",
      [](const Shape& x, const Shape& w, Pair stride, Pair padding, Pair dilation, int64_t groups,
         const std::string& dtype, const std::string& pass) {
        return enum_name(cpu::conv2d_algorithm_for(x, w, conv2d_args(stride, padding, dilation, groups),
                                                   parse_dtype(dtype), parse_enum<Conv2dPass>(pass)));
      },
      py::arg("x_shape"), py::arg("w_shape"), py::arg("stride"), py::arg("padding"), py::arg("dilation"),
      py::arg("groups"), py::arg("dtype"), py::arg("pass_") = "forward",
      "'gemm' or 'winograd': the algorithm that a CPU conv2d pass ('forward', 'input_grad' or 'weight_grad') of "
      "these shapes runs now.");
}

}  // namespace pycnn::bindings
