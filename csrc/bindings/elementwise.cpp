// Bindings of add/sub/mul/div with broadcasting (ops/elementwise.cpp); conventions in bindings/common.h.
// The op is taken by name (ops.h: PYCNN_BINARY_OPS).
#include "common.h"

namespace pycnn::bindings {

void init_elementwise(py::module_& m) {
  m.def(
      "binary",
      [](const std::string& op, const Tensor& a, const Tensor& b) {
        BinaryOp o = parse_enum<BinaryOp>(op);
        py::gil_scoped_release nogil;
        return binary(o, a, b);
      },
      "add/sub/mul/div with broadcasting");
  m.def("binary_backward",
        [](const std::string& op, const Tensor& dout, const Tensor& a, const Tensor& b, bool need_da, bool need_db) {
          BinaryOp o = parse_enum<BinaryOp>(op);
          std::tuple<Tensor, Tensor> r;
          {
            py::gil_scoped_release nogil;
            r = binary_backward(o, dout, a, b, need_da, need_db);
          }
          return none_if_undefined(r);
        });

  m.def("binary_op_names", &enum_names<BinaryOp>, "the binary ops' names, in the order of ops.h's list");
  m.def("broadcast_shapes",
        [](const Shape& a, const Shape& b) { return py::tuple(py::cast(broadcast_shapes(a, b, "broadcast_shapes"))); });
}

}  // namespace pycnn::bindings
