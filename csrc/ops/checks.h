// Shared input checks for the op entry points; every message starts with "[op]" and names the shapes.
#pragma once
#include <algorithm>  // defines: std::find

#include "pycnn/core/tensor.h"

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

// Positive stride and dilation, non-negative padding: the sliding-window arguments of every convolution
// (Args has stride_h/_w, pad_h/_w, dilation_h/_w).
template <typename Args>
void check_stride_pad_dilation(const Args& a, const char* op) {
  PYCNN_CHECK(a.stride_h > 0 && a.stride_w > 0, "[", op, "] stride must be positive, got (", a.stride_h, ", ",
              a.stride_w, ")");
  PYCNN_CHECK(a.pad_h >= 0 && a.pad_w >= 0, "[", op, "] padding must be non-negative, got (", a.pad_h, ", ", a.pad_w,
              ")");
  PYCNN_CHECK(a.dilation_h > 0 && a.dilation_w > 0, "[", op, "] dilation must be positive, got (", a.dilation_h, ", ",
              a.dilation_w, ")");
}

// What every convolution (plain or transposed) checks first: float 4-D input and weight on one device,
// positive stride, dilation, groups and kernel, non-negative padding. `weight_layout` names the weight's
// dims for the message.
template <typename Args>
void check_conv_args(const Tensor& x, const Tensor& w, const Args& a, const char* op, const char* weight_layout) {
  check_floating(x, op, "input");
  check_same(x, w, op, "input", "weight");
  check_rank(x, 4, op, "input", "(N, C, H, W)");
  check_rank(w, 4, op, "weight", weight_layout);
  check_stride_pad_dilation(a, op);
  PYCNN_CHECK(a.groups > 0, "[", op, "] groups must be positive, got ", a.groups);
  PYCNN_CHECK(w.size(2) > 0 && w.size(3) > 0, "[", op, "] kernel size must be positive, weight is ",
              shape_str(w.shape()));
}

// An output shape whose bytes (at 8 per element, the widest dtype) fit in int64, checked before Tensor::empty
// sees it, so that "too large" names this op rather than the allocator. A shape with a 0 dim holds nothing.
inline void check_output_shape(const Shape& s, const char* op) {
  if (std::find(s.begin(), s.end(), 0) != s.end()) return;
  int64_t bytes = 8;
  for (int64_t d : s)
    PYCNN_CHECK(!__builtin_mul_overflow(bytes, d, &bytes), "[", op, "] output shape ", shape_str(s), " is too large");
}

// Ops without a CUDA kernel yet say so instead of failing somewhere deeper.
inline void check_cpu(const Tensor& t, const char* op) {
  PYCNN_CHECK_RUNTIME(t.device().is_cpu(), "[", op, "] has no CUDA kernel yet; move the tensor to the CPU with .cpu()");
}

}  // namespace pycnn
