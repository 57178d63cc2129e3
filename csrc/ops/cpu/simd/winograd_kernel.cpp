// Winograd F(4x4, 3x3) transforms of a row of up to kWinoLanes adjacent tiles (winograd_kernel.h), compiled
// per kernel set. Both transforms are separable 1-D transforms (bt6, at6: Lavin & Gray's interpolation points
// 0, +-1, +-2, infinity), applied down the columns and then along the rows of each tile. The input's column
// pass runs along the image row (contiguous, full vector width); then each group of four tiles is turned
// into vectors of one column for four tiles by 4x4 transposes (tile l's columns are 4l .. 4l + 5, so
// neighbours overlap by two) and finished in 4-float vectors, stored straight to V. The output transform
// works on groups of four tiles throughout and transposes back before storing the 4x4 tiles' rows.
// GCC vector extensions only (no intrinsics), so every kernel set compiles the same code.
#include "pycnn/ops/cpu/simd/winograd_kernel.h"

namespace pycnn::cpu::PYCNN_KNS {

namespace {

constexpr int L = kWinoLanes;
constexpr int kRowWidth = 4 * L + 2;  // the input columns under L adjacent tiles

typedef float V4 __attribute__((vector_size(16)));
typedef int I4 __attribute__((vector_size(16)));

// o = B^T z. B^T rows: [4 0 -5 0 1 0] [0 -4 -4 1 1 0] [0 4 -4 -1 1 0] [0 -2 -1 2 1 0] [0 2 -1 -2 1 0]
// [0 4 0 -5 0 1]. X is float or V4.
template <typename X>
inline void bt6(const X* z, X* o) {
  const X a = z[4] - 4.0f * z[2], b = z[3] - 4.0f * z[1];  // rows 1, 2
  const X c = z[4] - z[2], d = 2.0f * (z[3] - z[1]);       // rows 3, 4
  o[0] = 4.0f * z[0] - 5.0f * z[2] + z[4];
  o[1] = a + b;
  o[2] = a - b;
  o[3] = c + d;
  o[4] = c - d;
  o[5] = 4.0f * z[1] - 5.0f * z[3] + z[5];
}

// o = A^T z (4 values). A^T rows: [1 1 1 1 1 0] [0 1 -1 2 -2 0] [0 1 1 4 4 0] [0 1 -1 8 -8 1].
template <typename X>
inline void at6(const X* z, X* o) {
  const X s12 = z[1] + z[2], d12 = z[1] - z[2], s34 = z[3] + z[4], d34 = z[3] - z[4];
  o[0] = z[0] + s12 + s34;
  o[1] = d12 + 2.0f * d34;
  o[2] = s12 + 4.0f * s34;
  o[3] = d12 + 8.0f * d34 + z[5];
}

// o = A z (6 values from 4), the adjoint of at6: A rows [1 0 0 0] [1 1 1 1] [1 -1 1 -1] [1 2 4 8]
// [1 -2 4 -8] [0 0 0 1].
template <typename X>
inline void a4(const X* z, X* o) {
  const X s02 = z[0] + z[2], s13 = z[1] + z[3], p02 = z[0] + 4.0f * z[2], p13 = 2.0f * z[1] + 8.0f * z[3];
  o[0] = z[0];
  o[1] = s02 + s13;
  o[2] = s02 - s13;
  o[3] = p02 + p13;
  o[4] = p02 - p13;
  o[5] = z[3];
}

inline V4 load4(const float* p) {
  V4 v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
inline void store4(float* p, V4 v) { __builtin_memcpy(p, &v, sizeof v); }
// The first n (< 4) lanes only: the lanes past a run's last tile belong to other tiles. (Not a loop: GCC
// turns a short copy loop into a call to memcpy.)
inline void store_first(float* p, V4 v, int n) {
  if (n > 0) p[0] = v[0];
  if (n > 1) p[1] = v[1];
  if (n > 2) p[2] = v[2];
}

// Rows of a 4x4 block become its columns: r[j][l] = (a, b, c, d)[l][j].
inline void transpose4(V4 a, V4 b, V4 c, V4 d, V4* r) {
  const V4 t0 = __builtin_shuffle(a, b, I4{0, 4, 1, 5}), t1 = __builtin_shuffle(a, b, I4{2, 6, 3, 7});
  const V4 t2 = __builtin_shuffle(c, d, I4{0, 4, 1, 5}), t3 = __builtin_shuffle(c, d, I4{2, 6, 3, 7});
  r[0] = __builtin_shuffle(t0, t2, I4{0, 1, 4, 5}), r[1] = __builtin_shuffle(t0, t2, I4{2, 3, 6, 7});
  r[2] = __builtin_shuffle(t1, t3, I4{0, 1, 4, 5}), r[3] = __builtin_shuffle(t1, t3, I4{2, 3, 6, 7});
}

// z[j][l] = row[4l + j], j < 6, for the four tiles from row: two transposes, of columns 0..3 and 2..5.
inline void columns_of_four_tiles(const float* row, V4* z) {
  V4 hi[4];
  transpose4(load4(row), load4(row + 4), load4(row + 8), load4(row + 12), z);
  transpose4(load4(row + 2), load4(row + 6), load4(row + 10), load4(row + 14), hi);
  z[4] = hi[2], z[5] = hi[3];
}

}  // namespace

void winograd_input_f43(const float* rows, int64_t rs, int n, float* v, int64_t v_stride) {
  // Down the columns, along the whole row: t[k][w] = (B^T (rows[0..5][w]))[k]. Columns past the last tile,
  // up to the end of its group of four, are zero.
  float t[6][kRowWidth];
  const int width = 4 * n + 2, padded = 16 * ((n + 3) / 4) + 2;
  for (int w = 0; w < width; ++w) {
    float z[6], o[6];
    for (int i = 0; i < 6; ++i) z[i] = rows[i * rs + w];
    bt6(z, o);
    for (int k = 0; k < 6; ++k) t[k][w] = o[k];
  }
  for (int w = width; w < padded; w += 2)  // two at a time: GCC makes a one-by-one loop a memset call
    for (int k = 0; k < 6; ++k) t[k][w] = t[k][w + 1] = 0.0f;
  // Along the rows, four tiles at a time.
  for (int l = 0; l < n; l += 4) {
    for (int k = 0; k < 6; ++k) {
      V4 z[6], o[6];
      columns_of_four_tiles(t[k] + 4 * l, z);
      bt6(z, o);
      float* out = v + k * 6 * v_stride + l;
      for (int j = 0; j < 6; ++j) {
        if (l + 4 <= n) {
          store4(out + j * v_stride, o[j]);
        } else {
          store_first(out + j * v_stride, o[j], n - l);
        }
      }
    }
  }
}

void winograd_weight_f43(const float* g, int n, float* u, int64_t u_stride) {
  // G rows: [1/4 0 0] [-1/6 -1/6 -1/6] [-1/6 1/6 -1/6] [1/24 1/12 1/6] [1/24 -1/12 1/6] [0 0 1]; in float64,
  // rounded once at the end, since 1/6, 1/12 and 1/24 are inexact in float32.
  auto g6 = [](double a, double b, double c, double* o) {
    const double s = (a + c) / -6.0, t = (a / 4.0 + c) / 6.0;
    o[0] = a / 4.0, o[1] = s - b / 6.0, o[2] = s + b / 6.0, o[3] = t + b / 12.0, o[4] = t - b / 12.0, o[5] = c;
  };
  constexpr int kChunk = 32;
  for (int s0 = 0; s0 < n; s0 += kChunk) {
    const int len = n - s0 < kChunk ? n - s0 : kChunk;
    double gg[6][3][kChunk];  // G g: row a, column kw
    for (int kw = 0; kw < 3; ++kw)
      for (int s = 0; s < len; ++s) {
        double o[6];
        g6(g[kw * n + s0 + s], g[(3 + kw) * n + s0 + s], g[(6 + kw) * n + s0 + s], o);
        for (int a = 0; a < 6; ++a) gg[a][kw][s] = o[a];
      }
    float out[36][kChunk];  // (G g) G^T; built locally so that the loop writes no runtime-strided memory
    for (int a = 0; a < 6; ++a)
      for (int s = 0; s < len; ++s) {
        double o[6];
        g6(gg[a][0][s], gg[a][1][s], gg[a][2][s], o);
        for (int b = 0; b < 6; ++b) out[a * 6 + b][s] = static_cast<float>(o[b]);
      }
    for (int xi = 0; xi < 36; ++xi)
      for (int s = 0; s < len; ++s) u[xi * u_stride + s0 + s] = out[xi][s];
  }
}

void winograd_dout_f43(const float* rows, int64_t rs, int n, float* m, int64_t m_stride) {
  // Down the columns, along the whole row: t[k][w] = (A (rows[0..3][w]))[k]; columns past the last tile, up
  // to the end of its group of four, are zero.
  float t[6][4 * L];
  const int width = 4 * n, padded = 16 * ((n + 3) / 4);
  for (int w = 0; w < width; ++w) {
    float z[4], o[6];
    for (int i = 0; i < 4; ++i) z[i] = rows[i * rs + w];
    a4(z, o);
    for (int k = 0; k < 6; ++k) t[k][w] = o[k];
  }
  for (int w = width; w < padded; w += 2)  // two at a time: GCC makes a one-by-one loop a memset call
    for (int k = 0; k < 6; ++k) t[k][w] = t[k][w + 1] = 0.0f;
  for (int l = 0; l < n; l += 4)  // along the rows, four tiles at a time (tiles do not overlap here)
    for (int k = 0; k < 6; ++k) {
      V4 z[4], o[6];
      const float* row = t[k] + 4 * l;
      transpose4(load4(row), load4(row + 4), load4(row + 8), load4(row + 12), z);
      a4(z, o);
      float* out = m + k * 6 * m_stride + l;
      for (int j = 0; j < 6; ++j) {
        if (l + 4 <= n) {
          store4(out + j * m_stride, o[j]);
        } else {
          store_first(out + j * m_stride, o[j], n - l);
        }
      }
    }
}

void winograd_weight_grad_f43(const float* du, int64_t du_stride, int n, float* g) {
  // G^T rows: [1/4 -1/6 -1/6 1/24 1/24 0] [0 -1/6 1/6 1/12 -1/12 0] [0 -1/6 -1/6 1/6 1/6 1], in float64;
  // each step a loop over a chunk of filters.
  auto gt = [](const double* z0, const double* z1, const double* z2, const double* z3, const double* z4,
               const double* z5, double* o0, double* o1, double* o2, int len) {
    for (int s = 0; s < len; ++s) {
      const double s12 = z1[s] + z2[s], d12 = z1[s] - z2[s], s34 = z3[s] + z4[s], d34 = z3[s] - z4[s];
      o0[s] = z0[s] / 4.0 - s12 / 6.0 + s34 / 24.0;
      o1[s] = -d12 / 6.0 + d34 / 12.0;
      o2[s] = -s12 / 6.0 + s34 / 6.0 + z5[s];
    }
  };
  constexpr int kChunk = 32;
  for (int s0 = 0; s0 < n; s0 += kChunk) {
    const int len = n - s0 < kChunk ? n - s0 : kChunk;
    double d[36][kChunk], h[3][6][kChunk], o[9][kChunk];  // dU, G^T dU (row a, column b), G^T dU G
    for (int xi = 0; xi < 36; ++xi)
      for (int s = 0; s < len; ++s) d[xi][s] = du[xi * du_stride + s0 + s];
    for (int b = 0; b < 6; ++b)
      gt(d[b], d[6 + b], d[12 + b], d[18 + b], d[24 + b], d[30 + b], h[0][b], h[1][b], h[2][b], len);
    for (int a = 0; a < 3; ++a)
      gt(h[a][0], h[a][1], h[a][2], h[a][3], h[a][4], h[a][5], o[a * 3], o[a * 3 + 1], o[a * 3 + 2], len);
    for (int tap = 0; tap < 9; ++tap)
      for (int s = 0; s < len; ++s) g[tap * n + s0 + s] = static_cast<float>(o[tap][s]);
  }
}

void winograd_output_f43(const float* m, int64_t m_stride, int n, float bias, float* rows, int64_t rs) {
  for (int l = 0; l < n; l += 4) {  // four tiles at a time (reading past n stays within M's row)
    V4 t[4][6];                     // A^T m: row r, column j
    for (int j = 0; j < 6; ++j) {
      V4 z[6], o[4];
      for (int i = 0; i < 6; ++i) z[i] = load4(m + (i * 6 + j) * m_stride + l);
      at6(z, o);
      for (int r = 0; r < 4; ++r) t[r][j] = o[r];
    }
    for (int r = 0; r < 4; ++r) {
      V4 o[4], tile_rows[4];  // o[c]: column c of row r of the four tiles
      at6(t[r], o);
      for (int c = 0; c < 4; ++c) o[c] += bias;
      transpose4(o[0], o[1], o[2], o[3], tile_rows);
      for (int q = 0; q < 4 && l + q < n; ++q) store4(rows + r * rs + 4 * (l + q), tile_rows[q]);
    }
  }
}

}  // namespace pycnn::cpu::PYCNN_KNS
