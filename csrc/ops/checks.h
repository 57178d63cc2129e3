// Shared input checks for the op entry points; every message starts with "[op]" and names the shapes.
#pragma once
#include "core/tensor.h"

namespace pycnn {

inline void check_defined(const Tensor& t, const char* op, const char* name) {
  PYCNN_CHECK(t.defined(), "[", op, "] ", name, " is missing");
}

inline void check_floating(const Tensor& t, const char* op, const char* name) {
  check_defined(t, op, name);
  PYCNN_CHECK_TYPE(is_floating(t.dtype()), "[", op, "] expected ", name, " to be float32 or float64, got ",
                   dtype_name(t.dtype()));
}

inline void check_rank(const Tensor& t, int64_t rank, const char* op, const char* name, const char* layout) {
  PYCNN_CHECK(t.dim() == rank, "[", op, "] expected ", name, " of shape ", layout, ", got ", shape_str(t.shape()));
}

// b has a's dtype and device (inputs of one op must agree: no silent conversions).
inline void check_same(const Tensor& a, const Tensor& b, const char* op, const char* a_name, const char* b_name) {
  PYCNN_CHECK_TYPE(a.dtype() == b.dtype(), "[", op, "] ", a_name, " is ", dtype_name(a.dtype()), " but ", b_name,
                   " is ", dtype_name(b.dtype()));
  PYCNN_CHECK_RUNTIME(a.device() == b.device(), "[", op, "] ", a_name, " is on ", a.device().str(), " but ", b_name,
                      " is on ", b.device().str());
}

// Ops without a CUDA kernel yet say so instead of failing somewhere deeper.
inline void check_cpu(const Tensor& t, const char* op) {
  PYCNN_CHECK_RUNTIME(t.device().is_cpu(), "[", op, "] has no CUDA kernel yet; move the tensor to the CPU with .cpu()");
}

}  // namespace pycnn
