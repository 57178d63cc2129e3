// The CUDA backend's entry points. Implemented in ops/cuda/*.cu when CUDA is built, and by
// ops/cuda_stub.cpp otherwise (device_count() == 0; everything else throws "built without CUDA").
// A build with CUDA on a machine without a driver or GPU also reports 0 devices, without error.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/device.h"

namespace pycnn::cuda {

bool is_built();
int device_count();  // 0 without a driver or GPU, never throws
const char* device_name(int index);
void* device_malloc(size_t nbytes, int index);
void device_free(void* ptr, int index);
void copy_between_devices(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes);

// Row-major C = alpha * op(A) @ op(B) + beta * C on the current device (same contract as cpu::gemm).
template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
          int64_t ldb, T beta, T* C, int64_t ldc);

}  // namespace pycnn::cuda
