// The one device dispatch of the op entry points. After validation and allocation an entry point calls
//   PYCNN_DISPATCH(device, kernel<T>, args...)
// which runs cpu::kernel<T>(args...) for a CPU tensor, or cuda::kernel<T>(args...) with the tensor's device
// made current (so that a cuda:1 tensor's kernel runs on device 1, on that device's current stream). Both
// namespaces declare each kernel with the same signature (ops/cpu/cpu_ops.h, ops/cuda/cuda_ops.h); in a
// build without CUDA the cuda:: side is a body that throws, and unreachable because no tensor can live on a
// GPU there. An op whose CUDA kernel is not written yet calls check_cpu (ops/checks.h) instead.
#pragma once
#include "pycnn/core/cuda_runtime.h"  // defines: cuda::DeviceGuard
#include "pycnn/ops/cpu/cpu_ops.h"
#include "pycnn/ops/cuda/cuda_ops.h"

// The guard is a temporary of the full expression: it lives until the kernel call returns.
#define PYCNN_DISPATCH(device, kernel, ...)                                                        \
  ((device).is_cuda() ? (::pycnn::cuda::DeviceGuard((device)), ::pycnn::cuda::kernel(__VA_ARGS__)) \
                      : ::pycnn::cpu::kernel(__VA_ARGS__))
