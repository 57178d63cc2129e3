// CUDA_CHECK(call, op): turns a failed CUDA runtime call into a std::runtime_error whose message starts
// with "[op]", like every other error in the core, and names the call, file and line.
// After a kernel launch use CUDA_CHECK_LAUNCH(op): launches report their errors via cudaGetLastError.
// Only .cu files include this; C++ code sees the runtime through core/cuda_runtime.h.
#pragma once
#include <cuda_runtime.h>  // defines: cudaError_t, cudaGetErrorString, cudaGetLastError

#include <stdexcept>

#include "pycnn/core/check.h"  // defines: pycnn::str

namespace pycnn::cuda {

[[noreturn]] inline void throw_cuda_error(cudaError_t err, const char* op, const char* call, const char* file,
                                          int line) {
  // Clear the error so that a caught exception leaves the runtime usable (non-sticky errors only; a
  // sticky one such as an illegal address poisons the context whatever we do).
  cudaGetLastError();
  throw std::runtime_error(str("[", op, "] CUDA error ", cudaGetErrorName(err), ": ", cudaGetErrorString(err), " (",
                               call, " at ", file, ":", line, ")"));
}

}  // namespace pycnn::cuda

#define CUDA_CHECK(call, op)                                                                                     \
  do {                                                                                                           \
    cudaError_t pycnn_err_ = (call);                                                                             \
    if (pycnn_err_ != cudaSuccess) ::pycnn::cuda::throw_cuda_error(pycnn_err_, (op), #call, __FILE__, __LINE__); \
  } while (0)

#define CUDA_CHECK_LAUNCH(op) CUDA_CHECK(cudaGetLastError(), op)
