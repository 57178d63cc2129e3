// Bindings of matrix multiplication (ops/gemm.cpp); conventions in bindings/common.h.
#include "bindings/common.h"

namespace pycnn::bindings {

void init_gemm(py::module_& m) {
  m.def(
      "matmul",
      [](const Tensor& a, const Tensor& b) {
        py::gil_scoped_release nogil;
        return matmul(a, b);
      },
      "(M, K) @ (K, N) -> (M, N)");
  m.def(
      "gemm",
      [](bool ta, bool tb, double alpha, const Tensor& a, const Tensor& b, double beta, Tensor& c) {
        py::gil_scoped_release nogil;
        gemm(ta, tb, alpha, a, b, beta, c);
      },
      "c = alpha * op(a) @ op(b) + beta * c, in place");
}

}  // namespace pycnn::bindings
