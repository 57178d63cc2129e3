// Bindings of the op entry points (ops/ops.h). Each releases the GIL while the kernel runs, so Python
// threads (a data loader, say) keep going; outputs that were not asked for come back as None.
#include "bindings/common.h"

namespace pycnn::bindings {

static Conv2dArgs conv_args(std::pair<int64_t, int64_t> stride, std::pair<int64_t, int64_t> padding,
                            std::pair<int64_t, int64_t> dilation, int64_t groups) {
  return Conv2dArgs{stride.first, stride.second, padding.first, padding.second, dilation.first, dilation.second, groups};
}

static Pool2dArgs pool_args(std::pair<int64_t, int64_t> kernel, std::pair<int64_t, int64_t> stride,
                            std::pair<int64_t, int64_t> padding, std::pair<int64_t, int64_t> dilation, bool ceil_mode,
                            bool count_include_pad, int64_t divisor_override) {
  return Pool2dArgs{kernel.first, kernel.second, stride.first,     stride.second,     padding.first,
                    padding.second, dilation.first, dilation.second, ceil_mode, count_include_pad, divisor_override};
}

using Pair = std::pair<int64_t, int64_t>;
using OptTensor = std::optional<Tensor>;

void init_ops(py::module_& m) {
  m.def("matmul", [](const Tensor& a, const Tensor& b) {
    py::gil_scoped_release nogil;
    return matmul(a, b);
  }, "(M, K) @ (K, N) -> (M, N)");
  m.def("gemm", [](bool ta, bool tb, double alpha, const Tensor& a, const Tensor& b, double beta, Tensor& c) {
    py::gil_scoped_release nogil;
    gemm(ta, tb, alpha, a, b, beta, c);
  }, "c = alpha * op(a) @ op(b) + beta * c, in place");

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
    return py::make_tuple(none_if_undefined(std::get<0>(r)), std::get<1>(r), none_if_undefined(std::get<2>(r)));
  });

  m.def("conv2d_forward", [](const Tensor& x, const Tensor& w, const OptTensor& b, Pair stride, Pair padding,
                             Pair dilation, int64_t groups) {
    py::gil_scoped_release nogil;
    return conv2d_forward(x, w, undefined_if_none(b), conv_args(stride, padding, dilation, groups));
  });
  m.def("conv2d_backward", [](const Tensor& dout, const Tensor& x, const Tensor& w, Pair stride, Pair padding,
                              Pair dilation, int64_t groups, bool need_dx, bool need_dw, bool need_db) {
    std::tuple<Tensor, Tensor, Tensor> r;
    {
      py::gil_scoped_release nogil;
      r = conv2d_backward(dout, x, w, conv_args(stride, padding, dilation, groups), need_dx, need_dw, need_db);
    }
    return py::make_tuple(none_if_undefined(std::get<0>(r)), none_if_undefined(std::get<1>(r)),
                          none_if_undefined(std::get<2>(r)));
  });

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

  m.def("relu_forward", [](const Tensor& x) {
    py::gil_scoped_release nogil;
    return relu_forward(x);
  });
  m.def("relu_backward", [](const Tensor& dout, const Tensor& y) {
    py::gil_scoped_release nogil;
    return relu_backward(dout, y);
  });

  m.def("binary", [](const std::string& op, const Tensor& a, const Tensor& b) {
    BinaryOp o = parse_op<BinaryOp>(op);
    py::gil_scoped_release nogil;
    return binary(o, a, b);
  }, "add/sub/mul/div with broadcasting");
  m.def("binary_backward", [](const std::string& op, const Tensor& dout, const Tensor& a, const Tensor& b,
                              bool need_da, bool need_db) {
    BinaryOp o = parse_op<BinaryOp>(op);
    std::tuple<Tensor, Tensor> r;
    {
      py::gil_scoped_release nogil;
      r = binary_backward(o, dout, a, b, need_da, need_db);
    }
    return py::make_tuple(none_if_undefined(std::get<0>(r)), none_if_undefined(std::get<1>(r)));
  });
  m.def("binary_op_names", &op_names<BinaryOp>, "the binary ops' names, in the order of ops.h's list");
  m.def("broadcast_shapes", [](const Shape& a, const Shape& b) {
    return py::tuple(py::cast(broadcast_shapes(a, b, "broadcast_shapes")));
  });

  m.def("sum", [](const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
    py::gil_scoped_release nogil;
    return sum(x, dims, keepdim);
  }, "sum over dims (all when empty)");
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

  m.def("log_softmax_forward", [](const Tensor& x, int64_t dim) {
    py::gil_scoped_release nogil;
    return log_softmax_forward(x, dim);
  });
  m.def("log_softmax_backward", [](const Tensor& dout, const Tensor& y, int64_t dim) {
    py::gil_scoped_release nogil;
    return log_softmax_backward(dout, y, dim);
  });
  m.def("softmax_forward", [](const Tensor& x, int64_t dim) {
    py::gil_scoped_release nogil;
    return softmax_forward(x, dim);
  });
  m.def("softmax_backward", [](const Tensor& dout, const Tensor& y, int64_t dim) {
    py::gil_scoped_release nogil;
    return softmax_backward(dout, y, dim);
  });
}

}  // namespace pycnn::bindings
