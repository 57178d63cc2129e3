// Winograd F(4x4, 3x3) transforms of a row of up to kWinoLanes adjacent tiles (winograd_kernel.h), compiled
// per kernel set. Both transforms are separable: a 1-D transform down the columns, vectorised along the
// image row (contiguous), then one along the rows, vectorised across tiles (tile l's columns are 4l .. 4l+5,
// a stride-4 deinterleave). Each 1-D transform is a fixed combination of six vectors for Lavin & Gray's
// interpolation points 0, +-1, +-2, infinity. Read bt/at first: they are the 1-D matrices.
#include "ops/cpu/simd/winograd_kernel.h"

namespace pycnn::cpu::PYCNN_KNS {

namespace {

constexpr int L = kWinoLanes;

// o[k * os + l] = (B^T z)[k] for the six vectors z[k * zs + l], l < n. B^T rows:
//   [4 0 -5 0 1 0] [0 -4 -4 1 1 0] [0 4 -4 -1 1 0] [0 -2 -1 2 1 0] [0 2 -1 -2 1 0] [0 4 0 -5 0 1]
inline void bt(const float* __restrict z, int64_t zs, float* __restrict o, int64_t os, int n) {
  for (int l = 0; l < n; ++l) {
    const float z0 = z[l], z1 = z[zs + l], z2 = z[2 * zs + l], z3 = z[3 * zs + l], z4 = z[4 * zs + l],
                z5 = z[5 * zs + l];
    const float a = z4 - 4.0f * z2, b = z3 - 4.0f * z1;  // shared by rows 1, 2
    const float c = z4 - z2, d = 2.0f * (z3 - z1);       // shared by rows 3, 4
    o[l] = 4.0f * z0 - 5.0f * z2 + z4;
    o[os + l] = a + b;
    o[2 * os + l] = a - b;
    o[3 * os + l] = c + d;
    o[4 * os + l] = c - d;
    o[5 * os + l] = 4.0f * z1 - 5.0f * z3 + z5;
  }
}

// o[k * os + l] = (A^T z)[k] + bias, k < 4, l < n. A^T rows: [1 1 1 1 1 0] [0 1 -1 2 -2 0] [0 1 1 4 4 0]
// [0 1 -1 8 -8 1].
inline void at(const float* __restrict z, int64_t zs, float* __restrict o, int64_t os, float bias, int n) {
  for (int l = 0; l < n; ++l) {
    const float z0 = z[l], z1 = z[zs + l], z2 = z[2 * zs + l], z3 = z[3 * zs + l], z4 = z[4 * zs + l],
                z5 = z[5 * zs + l];
    const float s12 = z1 + z2, d12 = z1 - z2, s34 = z3 + z4, d34 = z3 - z4;
    o[l] = z0 + s12 + s34 + bias;
    o[os + l] = d12 + 2.0f * d34 + bias;
    o[2 * os + l] = s12 + 4.0f * s34 + bias;
    o[3 * os + l] = d12 + 8.0f * d34 + z5 + bias;
  }
}

constexpr int kRowWidth = 4 * L + 2;  // the input columns of L adjacent tiles

}  // namespace

void winograd_input_f43(const float* rows, int64_t rs, int n, float* v, int64_t v_stride) {
  float t[6 * kRowWidth];  // B^T down the columns: row k at t + k * kRowWidth
  bt(rows, rs, t, kRowWidth, 4 * n + 2);
  float z[6 * L];  // row k of every tile, column j at z + j * L
  for (int k = 0; k < 6; ++k) {
    const float* tk = t + k * kRowWidth;
    for (int l = 0; l < n; ++l)
      for (int j = 0; j < 6; ++j) z[j * L + l] = tk[4 * l + j];
    bt(z, L, v + k * 6 * v_stride, v_stride, n);
  }
}

void winograd_output_f43(const float* m, int64_t m_stride, int n, float bias, float* rows, int64_t rs) {
  float t[24 * L];  // A^T down the columns: row r, column j at t + (r * 6 + j) * L
  for (int j = 0; j < 6; ++j) at(m + j * m_stride, 6 * m_stride, t + j * L, 6 * L, 0.0f, n);
  float o[4 * L];  // output row r, column c of every tile at o + c * L
  for (int r = 0; r < 4; ++r) {
    at(t + r * 6 * L, L, o, L, bias, n);
    float* out = rows + r * rs;
    for (int l = 0; l < n; ++l)
      for (int c = 0; c < 4; ++c) out[4 * l + c] = o[c * L + l];
  }
}

}  // namespace pycnn::cpu::PYCNN_KNS
