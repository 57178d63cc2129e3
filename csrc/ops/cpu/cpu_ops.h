// CPU kernels behind the op entry points (ops/ops.h). They take validated, contiguous inputs and
// preallocated outputs; raw pointers and sizes, no checks. One file per op family in ops/cpu/.
#pragma once
#include <cstdint>

#include "ops/ops.h"

namespace pycnn::cpu {

// dst and src have the same shape (src may be a broadcast view); converts dtype.
void copy_strided(const Tensor& dst, const Tensor& src);
void fill(const Tensor& dst, double value);  // dst contiguous

// Row-major C = alpha * op(A) @ op(B) + beta * C, op(A) (M, K), op(B) (K, N); A is (M, K) with row
// stride lda, or (K, M) when trans_a. Packed, cache-blocked, SIMD micro-kernel, OpenMP threads
// (serial when called inside a parallel region). beta == 0 ignores C's old contents (NaN included).
template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
          const T* B, int64_t ldb, T beta, T* C, int64_t ldc);
// Triple loop, for tests of the fast one.
template <typename T>
void gemm_naive(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
                const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

}  // namespace pycnn::cpu

namespace pycnn::cpu {

// ---- activation.cpp: flat arrays of n elements ----
template <typename T> void relu_forward(const T* x, T* y, int64_t n);
template <typename T> void relu_backward(const T* dout, const T* y, T* dx, int64_t n);

// ---- elementwise.cpp: a and b are broadcast views with out's shape ----
template <typename T> void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out);

// ---- reduce.cpp: x contiguous (A, R, B), reduce over R, out (A, B) ----
template <typename T> void sum_arb(const T* x, T* out, int64_t A, int64_t R, int64_t B);
template <typename T> void argmax_arb(const T* x, int64_t* out, int64_t A, int64_t R, int64_t B);

// ---- loss.cpp ----
// log picks log_softmax over softmax
template <typename T> void softmax_forward(const T* x, T* y, int64_t A, int64_t R, int64_t B, bool log);
template <typename T>
void softmax_backward(const T* dout, const T* y, T* dx, int64_t A, int64_t R, int64_t B, bool log);
template <typename T>
void nll_forward(const T* log_probs, const int64_t* target, T* loss, int64_t N, int64_t C, Reduction reduction);
template <typename T>
void nll_backward(const T* dout, const int64_t* target, T* dx, int64_t N, int64_t C, Reduction reduction);
template <typename T>
void cross_entropy_backward(const T* dout, const T* log_probs, const int64_t* target, T* dx, int64_t N, int64_t C,
                            Reduction reduction);

// ---- conv2d.cpp: contiguous x (N, C, H, W), w (OC, C/groups, KH, KW), b (OC,) or undefined ----
template <typename T>
void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y, const Conv2dArgs& args);
// The direct 7-loop convolution: the reference the fast one is tested against (tests/cpp/test_conv.cpp).
template <typename T>
void conv2d_forward_naive(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y, const Conv2dArgs& args);
// dx / dw may be undefined (not wanted); both are fully written when defined
template <typename T>
void conv2d_backward(const Tensor& dout, const Tensor& x, const Tensor& w, const Tensor& dx, const Tensor& dw,
                     const Conv2dArgs& args);

// ---- pool2d.cpp: contiguous planes of (H, W), planes = N*C ----
template <typename T>
void max_pool2d_forward(const T* x, T* y, int64_t* indices, int64_t planes, int64_t H, int64_t W, int64_t OH,
                        int64_t OW, const Pool2dArgs& args);
template <typename T>
void max_pool2d_backward(const T* dout, const int64_t* indices, T* dx, int64_t planes, int64_t HW, int64_t OHW);
template <typename T>
void avg_pool2d_forward(const T* x, T* y, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                        const Pool2dArgs& args);
template <typename T>
void avg_pool2d_backward(const T* dout, T* dx, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                         const Pool2dArgs& args);

// ---- optim.cpp: in-place update of n elements; buf is null without momentum ----
template <typename T>
void sgd_step(T* param, const T* grad, T* buf, int64_t n, const SgdArgs& args, bool first_step);

// ---- nonlinearities and elementwise math (activation.cpp) ----
// @activation-kernels

// ---- normalisation and regularisation (norm.cpp) ----
// @norm-kernels

// ---- pooling variants and upsampling (resize.cpp) ----
// @resize-kernels

// ---- losses (losses.cpp) ----
// @losses-kernels

}  // namespace pycnn::cpu
