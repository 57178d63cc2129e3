// Bindings of the nonlinearities (ops/activation.cpp): ReLU, softmax and log_softmax, the unary family, PReLU
// and Maxout; conventions in bindings/common.h. The unary family takes its op by name (ops.h: PYCNN_UNARY_OPS).
#include <string>

#include "common.h"

namespace pycnn::bindings {

void init_activation(py::module_& m) {
  m.def("relu_forward", [](const Tensor& x) {
    py::gil_scoped_release nogil;
    return relu_forward(x);
  });
  m.def("relu_backward", [](const Tensor& dout, const Tensor& y) {
    py::gil_scoped_release nogil;
    return relu_backward(dout, y);
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

  m.def(
      "unary_forward",
      [](const std::string& op, const Tensor& x, double alpha, double beta) {
        UnaryOp o = parse_enum<UnaryOp>(op);
        py::gil_scoped_release nogil;
        return unary_forward(o, x, alpha, beta);
      },
      "y = op(x) elementwise; alpha/beta are the op's scalars (see ops.h)");
  m.def(
      "unary_backward",
      [](const std::string& op, const Tensor& dout, const std::optional<Tensor>& x, const std::optional<Tensor>& y,
         double alpha, double beta) {
        UnaryOp o = parse_enum<UnaryOp>(op);
        py::gil_scoped_release nogil;
        return unary_backward(o, dout, undefined_if_none(x), undefined_if_none(y), alpha, beta);
      },
      "dx from x, or from y where unary_grad_uses_output(op)");
  m.def("unary_grad_uses_output",
        [](const std::string& op) { return unary_grad_uses_output(parse_enum<UnaryOp>(op)); });
  m.def("unary_op_names", &enum_names<UnaryOp>, "the unary ops' names, in the order of ops.h's list");

  m.def("prelu_forward", [](const Tensor& x, const Tensor& weight) {
    py::gil_scoped_release nogil;
    return prelu_forward(x, weight);
  });
  m.def(
      "prelu_backward",
      [](const Tensor& dout, const Tensor& x, const Tensor& weight, bool need_dx, bool need_dweight) {
        std::tuple<Tensor, Tensor> r;
        {
          py::gil_scoped_release nogil;
          r = prelu_backward(dout, x, weight, need_dx, need_dweight);
        }
        return none_if_undefined(r);
      },
      "(dx, dweight), each None unless asked for");

  m.def(
      "maxout_forward",
      [](const Tensor& x, int64_t pieces) {
        py::gil_scoped_release nogil;
        return maxout_forward(x, pieces);
      },
      "(N, C*k, *) -> (y, int64 indices in [0, k)), both (N, C, *)");
  m.def("maxout_backward", [](const Tensor& dout, const Tensor& indices, int64_t pieces) {
    py::gil_scoped_release nogil;
    return maxout_backward(dout, indices, pieces);
  });
}

}  // namespace pycnn::bindings
