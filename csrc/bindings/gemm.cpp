// Bindings of matrix multiplication (ops/gemm.cpp) and the TF32 switch of the CUDA GEMM (ops/cuda/gemm.cu);
// conventions in bindings/common.h.
#include "common.h"
#include "pycnn/ops/cuda/cuda_ops.h"  // defines: cuda::set_allow_tf32, cuda::allow_tf32

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
  m.def("cuda_set_allow_tf32", &cuda::set_allow_tf32, py::arg("allow"),
        "let float GEMMs on CUDA use TF32 tensor cores (relative error ~1e-3); off by default");
  m.def("cuda_allow_tf32", &cuda::allow_tf32, "whether float GEMMs on CUDA may use TF32 tensor cores");
}

}  // namespace pycnn::bindings
