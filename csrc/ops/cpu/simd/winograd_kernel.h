// Winograd F(4x4, 3x3) tile transforms (simd/winograd_kernel.cpp), compiled once per kernel set like every
// file of simd/ (simd/kernels.h declares them per set, simd.h's WinogradKernels holds them); ops/cpu/winograd.cpp
// gathers the tiles and runs the GEMMs.
// Each call transforms a run of up to kWinoLanes horizontally adjacent tiles, one tile per lane, in plain
// loops over the image row or over lanes that the compiler vectorises at the set's width (no intrinsics).
#pragma once
#include <cstdint>

namespace pycnn::cpu {

// The most tiles per transform call (n <= kWinoLanes).
constexpr int kWinoLanes = 16;

// winograd_input_f43: the six input rows under n adjacent tiles, rows[i * rs + w] for i < 6, w < 4n + 2 (tile
//   l's 6x6 patch d is columns 4l .. 4l + 5); writes (B^T d B)[i][j] of tile l to v[(i * 6 + j) * v_stride + l].
// winograd_output_f43: tile l's 36 products at m[xi * m_stride + l]; writes its 4x4 output A^T m A + bias to
//   rows[r * rs + 4l + c], r, c < 4.
// winograd_dout_f43: the four rows of an output gradient under n adjacent tiles, rows[r * rs + w] for r < 4,
//   w < 4n (tile l's 4x4 block dy is columns 4l .. 4l + 3); writes (A dy A^T)[i][j] of tile l to
//   m[(i * 6 + j) * m_stride + l] (the adjoint of winograd_output_f43).
// winograd_weight_grad_f43: n filters' 36 gradients dU, element xi of filter s at du[xi * du_stride + s];
//   writes G^T dU G, tap (kh, kw) of filter s to g[(kh * 3 + kw) * n + s] (the adjoint of winograd_weight_f43).
// winograd_weight_f43: n 3x3 filters, tap (kh, kw) of filter s at g[(kh * 3 + kw) * n + s]; writes G g G^T,
//   element xi of filter s to u[xi * u_stride + s].
#define PYCNN_DECLARE_WINOGRAD_KERNELS                                                                    \
  void winograd_input_f43(const float* rows, int64_t rs, int n, float* v, int64_t v_stride);              \
  void winograd_output_f43(const float* m, int64_t m_stride, int n, float bias, float* rows, int64_t rs); \
  void winograd_weight_f43(const float* g, int n, float* u, int64_t u_stride);                            \
  void winograd_dout_f43(const float* rows, int64_t rs, int n, float* m, int64_t m_stride);               \
  void winograd_weight_grad_f43(const float* du, int64_t du_stride, int n, float* g);

}  // namespace pycnn::cpu
