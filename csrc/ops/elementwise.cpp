// add/sub/mul/div with NumPy broadcasting, forward and backward. The backward reduces each gradient back
// to its input's shape with sum_to (the rule for broadcasting: a broadcast input receives the sum).
#include "pycnn/ops/checks.h"
#include "pycnn/ops/dispatch.h"  // defines: PYCNN_DISPATCH
#include "pycnn/ops/ops.h"

namespace pycnn {

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    PYCNN_CHECK(da == db || da == 1 || db == 1, "[", op, "] shapes ", shape_str(a), " and ", shape_str(b),
                " cannot be broadcast together");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  const char* name = enum_name(op);
  check_defined(a, name, "the first operand");
  check_defined(b, name, "the second operand");
  // Integer division would trap on a zero divisor: Python divides integers in float, as torch's / does.
  PYCNN_CHECK_TYPE(op != BinaryOp::Div || is_floating(a.dtype()), "[div] expected float32 or float64 operands, got ",
                   dtype_name(a.dtype()));
  check_same(a, b, name, "the first operand", "the second operand");
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = Tensor::empty(shape, a.dtype(), a.device());
  const Tensor ae = a.expand(shape), be = b.expand(shape);
  StridedViews v;
  v.shape = &shape;
  v.strides[0] = &ae.strides();
  v.strides[1] = &be.strides();
  dispatch_all(a.dtype(), name, [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(a.device(), binary<T>, op, ae.data<T>(), be.data<T>(), out.data<T>(), v);
  });
  return out;
}

std::tuple<Tensor, Tensor> binary_backward(BinaryOp op, const Tensor& dout, const Tensor& a, const Tensor& b,
                                           bool need_da, bool need_db) {
  const char* name = enum_name(op);
  check_same(a, b, name, "the first operand", "the second operand");
  check_same(dout, a, name, "grad_output", "the first operand");
  PYCNN_CHECK(dout.shape() == broadcast_shapes(a.shape(), b.shape(), name), "[", name, "_backward] grad_output ",
              shape_str(dout.shape()), " does not match the broadcast of ", shape_str(a.shape()), " and ",
              shape_str(b.shape()));
  Tensor da, db;
  switch (op) {
    case BinaryOp::Add:
      if (need_da) da = sum_to(dout, a.shape());
      if (need_db) db = sum_to(dout, b.shape());
      break;
    case BinaryOp::Sub:
      if (need_da) da = sum_to(dout, a.shape());
      if (need_db) db = unary_forward(UnaryOp::Neg, sum_to(dout, b.shape()), 0, 0);
      break;
    case BinaryOp::Mul:
      if (need_da) da = sum_to(binary(BinaryOp::Mul, dout, b), a.shape());
      if (need_db) db = sum_to(binary(BinaryOp::Mul, dout, a), b.shape());
      break;
    case BinaryOp::Div: {
      Tensor dout_over_b = binary(BinaryOp::Div, dout, b);
      if (need_da) da = sum_to(dout_over_b, a.shape());
      // d(a/b)/db = -a/b^2 = -(dout/b) * (a/b)
      if (need_db)
        db = unary_forward(UnaryOp::Neg,
                           sum_to(binary(BinaryOp::Mul, dout_over_b, binary(BinaryOp::Div, a, b)), b.shape()), 0, 0);
      break;
    }
  }
  return {da, db};
}

}  // namespace pycnn
