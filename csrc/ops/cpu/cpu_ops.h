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
