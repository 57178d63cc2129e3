// PYCNN_HD marks a function that runs on both the host and a CUDA device (__host__ __device__ under nvcc,
// nothing for the host compiler). The per-element bodies and index arithmetic of the CUDA kernels are written
// this way, so that the C++ tests can run them over a whole launch grid on the CPU.
#pragma once

#if defined(__CUDACC__)
#define PYCNN_HD __host__ __device__
#else
#define PYCNN_HD
#endif
