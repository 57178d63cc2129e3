// gemm / matmul entry points: shape checks, then one dispatch on the device.
#include "pycnn/ops/dispatch.h"
#include "pycnn/ops/ops.h"

namespace pycnn {

void gemm(bool trans_a, bool trans_b, double alpha, const Tensor& a, const Tensor& b, double beta, Tensor& c) {
  PYCNN_CHECK(a.dim() == 2 && b.dim() == 2 && c.dim() == 2, "[gemm] expected 2-D tensors, got ", shape_str(a.shape()),
              ", ", shape_str(b.shape()), ", ", shape_str(c.shape()));
  PYCNN_CHECK_TYPE(a.dtype() == b.dtype() && a.dtype() == c.dtype(), "[gemm] dtype mismatch: ", dtype_name(a.dtype()),
                   ", ", dtype_name(b.dtype()), ", ", dtype_name(c.dtype()));
  PYCNN_CHECK_RUNTIME(a.device() == b.device() && a.device() == c.device(),
                      "[gemm] tensors on different devices: ", a.device().str(), ", ", b.device().str(), ", ",
                      c.device().str());
  const int64_t M = trans_a ? a.size(1) : a.size(0), K = trans_a ? a.size(0) : a.size(1);
  const int64_t N = trans_b ? b.size(0) : b.size(1), Kb = trans_b ? b.size(1) : b.size(0);
  PYCNN_CHECK(K == Kb && c.size(0) == M && c.size(1) == N, "[gemm] shapes do not match: op(a) is (", M, ", ", K,
              "), op(b) is (", Kb, ", ", N, "), c is ", shape_str(c.shape()));
  // The kernels want unit stride along rows; a transposed view is passed as the transposed flag.
  auto as_rowmajor = [](const Tensor& t, bool& trans) -> Tensor {
    if (t.strides()[1] == 1 && t.strides()[0] >= std::max<int64_t>(t.size(1), 1)) return t;
    if (t.strides()[0] == 1 && t.strides()[1] >= std::max<int64_t>(t.size(0), 1)) {
      trans = !trans;
      return t.transpose(0, 1);
    }
    return t.contiguous();
  };
  bool ta = trans_a, tb = trans_b;
  Tensor A = as_rowmajor(a, ta), B = as_rowmajor(b, tb);
  PYCNN_CHECK(c.is_contiguous(), "[gemm] the output must be contiguous, got strides ", shape_str(c.strides()));
  const int64_t lda = std::max<int64_t>(A.strides()[0], 1), ldb = std::max<int64_t>(B.strides()[0], 1);
  const int64_t ldc = std::max<int64_t>(N, 1);
  dispatch_floating(a.dtype(), "gemm", [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(c.device(), gemm<T>, ta, tb, M, N, K, T(alpha), A.data<T>(), lda, B.data<T>(), ldb, T(beta),
                   c.data<T>(), ldc);
  });
}

Tensor matmul(const Tensor& a, const Tensor& b) {
  PYCNN_CHECK(a.dim() == 2 && b.dim() == 2, "[matmul] expected 2-D tensors, got ", shape_str(a.shape()), " and ",
              shape_str(b.shape()));
  PYCNN_CHECK(a.size(1) == b.size(0), "[matmul] shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()),
              " cannot be multiplied");
  Tensor c = Tensor::empty({a.size(0), b.size(1)}, a.dtype(), a.device());
  gemm(false, false, 1.0, a, b, 0.0, c);
  return c;
}

}  // namespace pycnn
