// Depthwise convolution, compiled once per kernel set (declarations in simd/depthwise_kernel.h). Every kernel
// is one loop over a long contiguous range of outputs o: out[o] = sum over taps t of w_t * src_t[o] (forward,
// input gradient), or dw_t = sum over o of d[o] * src_t[o] (weight gradient), written with GCC vector types of
// the set's register width, so a block of outputs stays in registers across all taps. To make each tap one
// contiguous read at a fixed offset, a run of images of one channel is laid out as one tall padded image:
//  - image k owns a slot of Hs x Ws padded pixels; the zeros between images and between rows are the bottom
//    (right) padding of one and the top (left) padding of the next, so little of the range is padding;
//  - with stride s the padded stack is split into s x s phase planes (rows, columns mod s), so output (oh, ow)
//    reads tap (kh, kw) in phase (kh*d mod s) at (oh + kh*d / s, ow + kw*d / s): stride 2 de-interleaves
//    each input row once instead of gathering every other column per tap;
//  - outputs are computed on the slot grid (Hq x Wq per image, Hq = Hs / s) and the OH x OW valid ones copied
//    out.
// The input gradient correlates dout (one zero-padded plane) with the flipped kernel once per phase of dx
// (dx rows, columns mod s), each phase with only the taps that reach it: no products with inserted zeros.
#include "pycnn/ops/cpu/simd/depthwise_kernel.h"

#include <cstring>      // defines: std::memcpy
#include <type_traits>  // defines: std::conditional_t

#include "pycnn/ops/kernel_args.h"  // defines: Conv2dGeometry

// The rows copied and zeroed here are short (tens of elements): GCC would turn their element loops into
// memcpy / memset calls, which cost more than the copies.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-tree-loop-distribute-patterns")
#endif

namespace pycnn::cpu::PYCNN_KNS {

namespace {

// The register width this set is compiled for (from the -m flags): the vector type of the kernels.
#if defined(__AVX512F__)
constexpr int kVecBytes = 64;
#elif defined(__AVX__)
constexpr int kVecBytes = 32;
#else
constexpr int kVecBytes = 16;
#endif

template <typename T>
struct Vec {
  typedef T type __attribute__((vector_size(kVecBytes)));
  static constexpr int lanes = kVecBytes / sizeof(T);
};

template <typename T>
inline typename Vec<T>::type load(const T* p) {
  typename Vec<T>::type v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <typename T>
inline void store(T* p, typename Vec<T>::type v) {
  std::memcpy(p, &v, sizeof v);
}

// dst[0, n) = src[0, n) and dst[0, n) = 0: whole vectors, then single elements.
template <typename T>
inline void copy_row(const T* __restrict src, int64_t n, T* __restrict dst) {
  constexpr int64_t L = Vec<T>::lanes;
  int64_t j = 0;
  for (; j + L <= n; j += L) store(dst + j, load(src + j));
  for (; j < n; ++j) dst[j] = src[j];
}

template <typename T>
inline void zero_row(int64_t n, T* dst) {
  constexpr int64_t L = Vec<T>::lanes;
  int64_t j = 0;
  for (; j + L <= n; j += L) store(dst + j, typename Vec<T>::type{});
  for (; j < n; ++j) dst[j] = T(0);
}

// Ranges are rounded up to this many elements (a whole vector of floats at 64 bytes) and buffers to
// multiples of it, so the kernels run whole vectors only and every buffer stays 64-byte aligned.
constexpr int64_t kRound = 16;
// Taps handled per pass over the outputs; kernels with more run several passes.
constexpr int kMaxTaps = 32;
// Strides up to this many have their column phases' bounds worked out once per run of images.
constexpr int64_t kMaxStride = 8;
// Output planes of at most kSmallOut pixels (from inputs of at most kSmallIn) take the channel-vectorised
// kernels (measured: 8x8 -> 4x4 at stride 2 runs faster there, 8x8 -> 8x8 slower); their units hold
// kSmallChannels channels and kSmallImages images.
constexpr int64_t kSmallOut = 16, kSmallIn = 64, kSmallChannels = 64, kSmallImages = 8;
// Elements of one run's stack: with its output it stays in L1 (see depthwise_work).
constexpr int64_t kRunElems = 4096;
// Output vectors per block in the correlation: the accumulators that stay in registers across the taps.
// Eight independent FMA chains cover the FMA latency of two pipes.
constexpr int kCorrVecs = 8;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }
int64_t max2(int64_t a, int64_t b) { return a > b ? a : b; }
int64_t min2(int64_t a, int64_t b) { return a < b ? a : b; }

// ---- the two loops ------------------------------------------------------------------------------------

// out[o] = (accumulate ? out[o] : bias) + sum over t < ntaps of wt[t] * src[t][o], for o in [0, n); n is a
// multiple of kRound. Taps are summed in order.
template <typename T, int NV>
inline void correlate_block(int ntaps, const T* const* src, const T* wt, T bias, bool accumulate, T* out) {
  using V = typename Vec<T>::type;
  constexpr int64_t L = Vec<T>::lanes;
  V acc[NV];
  for (int v = 0; v < NV; ++v) acc[v] = accumulate ? load(out + v * L) : V{} + bias;
  for (int t = 0; t < ntaps; ++t) {
    const T w = wt[t];
    const T* s = src[t];
    for (int v = 0; v < NV; ++v) acc[v] += load(s + v * L) * w;
  }
  for (int v = 0; v < NV; ++v) store(out + v * L, acc[v]);
}

template <typename T>
void correlate(int ntaps, const T* const* src, const T* wt, T bias, bool accumulate, T* out, int64_t n) {
  constexpr int64_t L = Vec<T>::lanes;
  const T* at[kMaxTaps];  // the taps' pointers advanced to the current block
  for (int t = 0; t < ntaps; ++t) at[t] = src[t];
  int64_t o = 0;
  for (; o + kCorrVecs * L <= n; o += kCorrVecs * L) {
    correlate_block<T, kCorrVecs>(ntaps, at, wt, bias, accumulate, out + o);
    for (int t = 0; t < ntaps; ++t) at[t] += kCorrVecs * L;
  }
  for (; o < n; o += L) {
    correlate_block<T, 1>(ntaps, at, wt, bias, accumulate, out + o);
    for (int t = 0; t < ntaps; ++t) at[t] += L;
  }
}

// The same sum written straight into rows of a plane: output row r (V whole vectors of Bytes) reads the taps
// at soff + r * sstride and goes to out + r * dstride. R rows x V vectors stay in registers across the taps;
// this saves copying the slot grid out when the rows are whole vectors.
template <typename T, int R, int V, int Bytes>
inline void rows_block(int ntaps, const T* const* src, const T* wt, T bias, int64_t soff, int64_t sstride, T* out,
                       int64_t dstride) {
  typedef T Vt __attribute__((vector_size(Bytes)));
  constexpr int64_t L = Bytes / sizeof(T);
  Vt acc[R * V];
  for (int i = 0; i < R * V; ++i) acc[i] = Vt{} + bias;
  for (int t = 0; t < ntaps; ++t) {
    const T w = wt[t];
    const T* s = src[t] + soff;
    for (int r = 0; r < R; ++r)
      for (int v = 0; v < V; ++v) {
        Vt x;
        std::memcpy(&x, s + r * sstride + v * L, sizeof x);
        acc[r * V + v] += x * w;
      }
  }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) std::memcpy(out + r * dstride + v * L, &acc[r * V + v], sizeof(Vt));
}

// rows [0, rows) in blocks of R (about 8 vectors), then 4, 2, 1 for the rest.
template <typename T, int V, int Bytes = kVecBytes>
void correlate_rows_v(int ntaps, const T* const* src, const T* wt, T bias, int64_t rows, int64_t soff, int64_t sstride,
                      T* out, int64_t dstride) {
  constexpr int R = V == 1 ? 8 : V == 2 ? 4 : 2;
  int64_t r = 0;
  for (; r + R <= rows; r += R)
    rows_block<T, R, V, Bytes>(ntaps, src, wt, bias, soff + r * sstride, sstride, out + r * dstride, dstride);
  if (R >= 8 && r + 4 <= rows) {
    rows_block<T, (R >= 8 ? 4 : 1), V, Bytes>(ntaps, src, wt, bias, soff + r * sstride, sstride, out + r * dstride,
                                              dstride);
    r += 4;
  }
  if (R >= 4 && r + 2 <= rows) {
    rows_block<T, (R >= 4 ? 2 : 1), V, Bytes>(ntaps, src, wt, bias, soff + r * sstride, sstride, out + r * dstride,
                                              dstride);
    r += 2;
  }
  if (r < rows)
    rows_block<T, 1, V, Bytes>(ntaps, src, wt, bias, soff + r * sstride, sstride, out + r * dstride, dstride);
}

// Rows of `width` elements take correlate_rows when width is 1..4 whole vectors, or half of one on sets of 32
// bytes or more (8 floats on AVX-512); else the caller goes through the slot grid and copies out.
template <typename T>
bool rows_fit(int64_t width, int ntaps) {
  constexpr int64_t L = Vec<T>::lanes;
  const bool whole = width % L == 0 && width > 0 && width <= 4 * L, half = kVecBytes >= 32 && 2 * width == L;
  return (whole || half) && ntaps <= kMaxTaps;
}

template <typename T>
void correlate_rows(int ntaps, const T* const* src, const T* wt, T bias, int64_t rows, int64_t width, int64_t soff,
                    int64_t sstride, T* out, int64_t dstride) {
  constexpr int kHalf = kVecBytes >= 32 ? kVecBytes / 2 : kVecBytes;
  if (2 * width == Vec<T>::lanes)
    return correlate_rows_v<T, 1, kHalf>(ntaps, src, wt, bias, rows, soff, sstride, out, dstride);
  switch (width / Vec<T>::lanes) {
    case 1: return correlate_rows_v<T, 1>(ntaps, src, wt, bias, rows, soff, sstride, out, dstride);
    case 2: return correlate_rows_v<T, 2>(ntaps, src, wt, bias, rows, soff, sstride, out, dstride);
    case 3: return correlate_rows_v<T, 3>(ntaps, src, wt, bias, rows, soff, sstride, out, dstride);
    default: return correlate_rows_v<T, 4>(ntaps, src, wt, bias, rows, soff, sstride, out, dstride);
  }
}

// sums[t] = sum over o in [0, n) of d[o] * src[t][o], for G taps at once (d is loaded once for all G); n is a
// multiple of kRound. Each tap sums lane by lane over the range, then its lanes in order.
// sums[j] = the lanes of acc[0][j] + acc[1][j], in order.
template <typename T, int G>
inline void reduce_lanes(const typename Vec<T>::type (&acc)[2][G], T* sums) {
  for (int j = 0; j < G; ++j) {
    const typename Vec<T>::type a = acc[0][j] + acc[1][j];
    T sum = T(0);
    for (int l = 0; l < Vec<T>::lanes; ++l) sum += a[l];
    sums[j] = sum;
  }
}

template <typename T, int G>
void dot_group(const T* const* src, const T* d, int64_t n, T* sums) {
  using V = typename Vec<T>::type;
  constexpr int64_t L = Vec<T>::lanes;
  V acc[2][G];  // two vectors per step, each in its own accumulators: 2G FMA chains
  for (int j = 0; j < G; ++j) acc[0][j] = acc[1][j] = V{};
  int64_t o = 0;
  for (; o + 2 * L <= n; o += 2 * L) {
    const V d0 = load(d + o), d1 = load(d + o + L);
    for (int j = 0; j < G; ++j) {
      acc[0][j] += d0 * load(src[j] + o);
      acc[1][j] += d1 * load(src[j] + o + L);
    }
  }
  if (o < n)
    for (int j = 0; j < G; ++j) acc[0][j] += load(d + o) * load(src[j] + o);
  reduce_lanes<T, G>(acc, sums);
}

// sums[t] for every tap, in groups of 4 (or 3, 2, 1 for the rest: nine taps go 3 + 3 + 3, never 4 + 4 + 1,
// whose single-tap pass would run one FMA chain).
template <typename T>
void dot_taps(int ntaps, const T* const* src, const T* d, int64_t n, T* sums) {
  for (int t = 0; t < ntaps;) {
    const int rem = ntaps - t, grp = rem % 4 == 0 ? 4 : (rem < 3 ? rem : 3);
    switch (grp) {
      case 4: dot_group<T, 4>(src + t, d, n, sums + t); break;
      case 3: dot_group<T, 3>(src + t, d, n, sums + t); break;
      case 2: dot_group<T, 2>(src + t, d, n, sums + t); break;
      default: dot_group<T, 1>(src + t, d, n, sums + t); break;
    }
    t += grp;
  }
}

// The weight gradient's sums with dout read in place, when its rows are whole vectors: sums[t] = sum over
// images k, rows oh and the OW columns of dout[k](oh, :) * src[t][(k*Hq + oh) * Wq + :]; image k's dout
// plane is at d + k * dstride.
template <typename T, int G>
void dot_rows_group(const T* const* src, const T* d, int64_t dstride, int64_t images, int64_t OH, int64_t OW,
                    int64_t Hq, int64_t Wq, T* sums) {
  using V = typename Vec<T>::type;
  constexpr int64_t L = Vec<T>::lanes;
  V acc[2][G];  // even and odd rows in their own accumulators: 2G FMA chains
  for (int j = 0; j < G; ++j) acc[0][j] = acc[1][j] = V{};
  for (int64_t k = 0; k < images; ++k) {
    const T* dk = d + k * dstride;
    int64_t oh = 0;
    for (; oh + 2 <= OH; oh += 2) {
      const int64_t soff = (k * Hq + oh) * Wq;
      for (int64_t v = 0; v < OW; v += L) {
        const V d0 = load(dk + oh * OW + v), d1 = load(dk + (oh + 1) * OW + v);
        for (int j = 0; j < G; ++j) {
          acc[0][j] += d0 * load(src[j] + soff + v);
          acc[1][j] += d1 * load(src[j] + soff + Wq + v);
        }
      }
    }
    if (oh < OH)
      for (int64_t v = 0; v < OW; v += L) {
        const V d0 = load(dk + oh * OW + v);
        for (int j = 0; j < G; ++j) acc[0][j] += d0 * load(src[j] + (k * Hq + oh) * Wq + v);
      }
  }
  reduce_lanes<T, G>(acc, sums);
}

template <typename T>
void dot_rows_taps(int ntaps, const T* const* src, const T* d, int64_t dstride, int64_t images, int64_t OH, int64_t OW,
                   int64_t Hq, int64_t Wq, T* sums) {
  for (int t = 0; t < ntaps;) {
    const int rem = ntaps - t, grp = rem % 4 == 0 ? 4 : (rem < 3 ? rem : 3);
    switch (grp) {
      case 4: dot_rows_group<T, 4>(src + t, d, dstride, images, OH, OW, Hq, Wq, sums + t); break;
      case 3: dot_rows_group<T, 3>(src + t, d, dstride, images, OH, OW, Hq, Wq, sums + t); break;
      case 2: dot_rows_group<T, 2>(src + t, d, dstride, images, OH, OW, Hq, Wq, sums + t); break;
      default: dot_rows_group<T, 1>(src + t, d, dstride, images, OH, OW, Hq, Wq, sums + t); break;
    }
    t += grp;
  }
}

// ---- the forward layout: a run of images of x, stacked and split into phases ----------------------------

// Image k's padded pixel (r, q) of its Hs x Ws slot (data at r = pad_h + h, q = pad_w + w, zeros elsewhere)
// is stack row k*Hs + r, column q, stored in phase plane (row % sh, col % sw) at (row / sh) * Wq + col / sw.
// Output (k, oh, ow) is o = (k*Hq + oh) * Wq + ow; its tap (kh, kw) is o + tap_offset in tap_phase.
struct StackLayout {
  int64_t sh, sw, Hs, Ws, Hq, Wq;
  int64_t len;    // outputs computed: the slot grid up to the last image's last output row, rounded
  int64_t plane;  // elements per phase plane: everything any tap reads for those outputs
  int64_t phases() const { return sh * sw; }
  int64_t tap_phase(const Conv2dGeometry& g, int64_t kh, int64_t kw) const {
    return (kh * g.dilation_h % sh) * sw + kw * g.dilation_w % sw;
  }
  int64_t tap_offset(const Conv2dGeometry& g, int64_t kh, int64_t kw) const {
    return (kh * g.dilation_h / sh) * Wq + kw * g.dilation_w / sw;
  }

  StackLayout(const Conv2dGeometry& g, int64_t images) : sh(g.stride_h), sw(g.stride_w) {
    // A slot holds the image, its top/left padding and whatever the last window reads past the bottom/right
    // edge (the next slot's top padding serves too, so the larger of the two), and at least OH x OW outputs.
    const int64_t bottom = (g.OH - 1) * sh + (g.KH - 1) * g.dilation_h + 1 - g.pad_h - g.H;
    const int64_t right = (g.OW - 1) * sw + (g.KW - 1) * g.dilation_w + 1 - g.pad_w - g.W;
    Hs = round_up(max2(g.H + max2(g.pad_h, bottom), g.OH * sh), sh);
    Ws = round_up(max2(g.W + max2(g.pad_w, right), g.OW * sw), sw);
    Hq = Hs / sh, Wq = Ws / sw;
    len = round_up(((images - 1) * Hq + g.OH) * Wq, kRound);
    const int64_t reach = tap_offset(g, g.KH - 1, g.KW - 1);
    plane = round_up(max2(ceil_div(images * Hs + g.pad_h, sh) * Wq, len + reach), kRound);
  }
};

// dst[j] = from[j * step] for j < count; stride 2 (MobileNet's) with a constant step, which vectorises.
template <typename T>
void gather_every(const T* __restrict from, int64_t step, int64_t count, T* __restrict dst) {
  if (step == 2) {
    for (int64_t j = 0; j < count; ++j) dst[j] = from[2 * j];
  } else {
    for (int64_t j = 0; j < count; ++j) dst[j] = from[j * step];
  }
}

#if defined(__GNUC__) && !defined(__clang__)
// One step of split_even_odd over 2 * (Bytes / sizeof(T)) elements: two vectors of Bytes in, one shuffle each
// for the even and the odd lanes (GCC's generic vector shuffle).
template <typename T, int Bytes>
inline void split_step(const T* src, T* even, T* odd) {
  constexpr int L = Bytes / sizeof(T);
  typedef T V __attribute__((vector_size(Bytes)));
  typedef std::conditional_t<sizeof(T) == 4, int32_t, int64_t> Mask __attribute__((vector_size(Bytes)));
  Mask lo, hi;
  for (int l = 0; l < L; ++l) lo[l] = 2 * l, hi[l] = 2 * l + 1;
  V a, b;
  std::memcpy(&a, src, sizeof a);
  std::memcpy(&b, src + L, sizeof b);
  const V e = __builtin_shuffle(a, b, lo), o = __builtin_shuffle(a, b, hi);
  std::memcpy(even, &e, sizeof e);
  std::memcpy(odd, &o, sizeof o);
}
#endif

// even[j] = src[2j], odd[j] = src[2j + 1] for the n elements of src: full vectors, then half vectors (a
// 16-wide row on 16-lane sets), then pairs (other compilers take only the pair loop).
template <typename T>
void split_even_odd(const T* __restrict src, int64_t n, T* __restrict even, T* __restrict odd) {
  int64_t i = 0;
#if defined(__GNUC__) && !defined(__clang__)
  constexpr int64_t L = Vec<T>::lanes;
  for (; i + 2 * L <= n; i += 2 * L) split_step<T, kVecBytes>(src + i, even + i / 2, odd + i / 2);
  if (kVecBytes >= 32 && i + L <= n) {
    split_step<T, (kVecBytes >= 32 ? kVecBytes / 2 : kVecBytes)>(src + i, even + i / 2, odd + i / 2);
    i += L;
  }
#endif
  // i is even here. In pairs rather than (i % 2 ? odd : even)[i / 2] per element: GCC 12 -O2 with
  // -fsanitize=address,undefined indexed the even plane with the previous odd i there (a wild write).
  for (; i + 1 < n; i += 2) even[i / 2] = src[i], odd[i / 2] = src[i + 1];
  if (i < n) even[i / 2] = src[i];
}

// Writes the phase planes of images [n0, n0 + images) of channel c: zeros, then the images. With zeroed, the
// planes hold the previous run of the same layout (same call, same number of images): its zeros are in
// place and every image element is overwritten, so only the images are copied.
template <typename T>
void fill_stack(const Conv2dGeometry& g, const StackLayout& s, const T* x, int64_t c, int64_t n0, int64_t images,
                bool zeroed, T* planes) {
  if (s.sh == 1 && s.sw == 1) {  // one plane: zeros everywhere, then the image rows
    if (!zeroed) zero_row(s.plane, planes);
    for (int64_t k = 0; k < images; ++k) {
      const T* img = x + ((n0 + k) * g.C + c) * g.H * g.W;
      T* dst = planes + (k * s.Hs + g.pad_h) * s.Ws + g.pad_w;
      for (int64_t h = 0; h < g.H; ++h) copy_row(img + h * g.W, g.W, dst + h * s.Ws);
    }
    return;
  }
  // Strided: zeros everywhere, then each image row's column phase b (the columns w with (pad_w + w) % sw ==
  // b: count[b] of them, every sw-th from first[b]) into its row of phase plane (row % sh, b).
  if (!zeroed) zero_row(s.phases() * s.plane, planes);
  int64_t first[kMaxStride], count[kMaxStride], at[kMaxStride];
  const int64_t sw = s.sw < kMaxStride ? s.sw : kMaxStride;
  for (int64_t b = 0; b < sw; ++b) {
    first[b] = ((b - g.pad_w) % s.sw + s.sw) % s.sw;
    count[b] = g.W > first[b] ? ceil_div(g.W - first[b], s.sw) : 0;
    at[b] = (g.pad_w + first[b]) / s.sw;
  }
  for (int64_t k = 0; k < images; ++k) {
    const T* img = x + ((n0 + k) * g.C + c) * g.H * g.W;
    int64_t row = k * s.Hs + g.pad_h, phase = row % s.sh, qrow = row / s.sh;
    for (int64_t h = 0; h < g.H; ++h) {
      T* dst = planes + phase * s.sw * s.plane + qrow * s.Wq;
      const T* src = img + h * g.W;
      if (s.sw == 2) {
        split_even_odd(src, g.W, dst + (g.pad_w % 2) * s.plane + g.pad_w / 2,
                       dst + (1 - g.pad_w % 2) * s.plane + (g.pad_w + 1) / 2);
      } else if (s.sw <= kMaxStride) {
        for (int64_t b = 0; b < s.sw; ++b) gather_every(src + first[b], s.sw, count[b], dst + b * s.plane + at[b]);
      } else {  // wider strides than any network uses: one column at a time
        for (int64_t w = 0; w < g.W; ++w) dst[(g.pad_w + w) % s.sw * s.plane + (g.pad_w + w) / s.sw] = src[w];
      }
      if (++phase == s.sh) phase = 0, ++qrow;
    }
  }
}

// Where taps t0, t0 + 1, ... (at most kMaxTaps; tap t is (t / KW, t % KW)) read the stack; returns how many.
template <typename T>
int stack_taps(const Conv2dGeometry& g, const StackLayout& s, const T* planes, int64_t t0, const T** src) {
  const int64_t n = min2(g.KH * g.KW - t0, kMaxTaps);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t kh = (t0 + i) / g.KW, kw = (t0 + i) % g.KW;
    src[i] = planes + s.tap_phase(g, kh, kw) * s.plane + s.tap_offset(g, kh, kw);
  }
  return static_cast<int>(n);
}

// ---- the input-gradient layout: a run of images of dout, stacked and padded ---------------------------

// dx's phase (a, b) holds dx[a + sh*u, b + sw*v]. Tap kh reaches row phase a when kh*dh = a + pad_h - e*sh for
// an integer e (then dx row a + sh*u collects dout row u + e), likewise kw and column phase b with f. dout
// image k's (i, j) sits at stack row top + k*Hd + i, column left + j (rows of Wd, zeros elsewhere); dx phase
// output (k, u, v) is o = (k*Hd + u) * Wd + v and reads its tap at o + (top + e) * Wd + left + f.
struct GradLayout {
  int64_t top, left, Hd, Wd, Hu, Wv;  // Hu x Wv: the largest phase of dx (phase 0)
  int64_t len, plane;                 // as in StackLayout

  // Reach of the taps along one axis: e over every phase p < s and tap k with (p + pad - k*d) % s == 0.
  static void reach(int64_t s, int64_t pad, int64_t K, int64_t d, int64_t& lo, int64_t& hi) {
    lo = 0, hi = 0;
    for (int64_t p = 0; p < s; ++p)
      for (int64_t k = 0; k < K; ++k)
        if ((p + pad - k * d) % s == 0) {
          const int64_t e = (p + pad - k * d) / s;
          lo = min2(lo, e), hi = max2(hi, e);
        }
  }

  GradLayout(const Conv2dGeometry& g, int64_t images) {
    int64_t e_lo, e_hi, f_lo, f_hi;
    reach(g.stride_h, g.pad_h, g.KH, g.dilation_h, e_lo, e_hi);
    reach(g.stride_w, g.pad_w, g.KW, g.dilation_w, f_lo, f_hi);
    Hu = ceil_div(g.H, g.stride_h), Wv = ceil_div(g.W, g.stride_w);
    // The slot must hold the outputs, and the zeros around an image must cover what its taps read above
    // (top) and below it (shared with the next image's top zeros).
    top = -e_lo, left = -f_lo;
    Hd = max2(g.OH + top, Hu + e_hi);
    Wd = max2(g.OW + left, Wv + f_hi);
    len = round_up(((images - 1) * Hd + Hu) * Wd, kRound);
    const int64_t reach_end = (top + e_hi) * Wd + left + f_hi;
    plane = round_up(max2((top + images * Hd) * Wd, len + reach_end), kRound);
  }
};

// Writes the stacked dout of images [n0, n0 + images), output channel oc, every element once.
template <typename T>
void fill_grad_stack(const Conv2dGeometry& g, const GradLayout& s, const T* dout, int64_t oc, int64_t n0,
                     int64_t images, T* plane) {
  const int64_t rows = s.top + images * s.Hd;
  zero_row(s.top * s.Wd, plane);
  for (int64_t k = 0; k < images; ++k)
    for (int64_t i = 0; i < s.Hd; ++i) {
      T* dst = plane + (s.top + k * s.Hd + i) * s.Wd;
      if (i >= g.OH) {
        zero_row(s.Wd, dst);
        continue;
      }
      zero_row(s.left, dst);
      copy_row(dout + ((n0 + k) * g.OC + oc) * g.P + i * g.OW, g.OW, dst + s.left);
      zero_row(s.Wd - s.left - g.OW, dst + s.left + g.OW);
    }
  zero_row(s.plane - rows * s.Wd, plane + rows * s.Wd);
}

// ---- the three kernels ------------------------------------------------------------------------------

// y[n, oc] for n in [n0, n1) and the OCg output channels oc of input channel c.
template <typename T>
void forward_run(const Conv2dGeometry& g, const T* x, const T* w, const T* b, T* y, int64_t c, int64_t n0, int64_t n1,
                 bool zeroed, T* scratch) {
  const int64_t images = n1 - n0, taps = g.KH * g.KW;
  const StackLayout s(g, images);
  T* planes = scratch;
  T* out = scratch + s.phases() * s.plane;
  fill_stack(g, s, x, c, n0, images, zeroed, planes);
  const T* src[kMaxTaps];
  T wt[kMaxTaps];
  const bool rows = rows_fit<T>(g.OW, static_cast<int>(taps));
  for (int64_t oc = c * g.OCg; oc < (c + 1) * g.OCg; ++oc) {
    if (rows) {
      const int n = stack_taps(g, s, planes, 0, src);
      for (int i = 0; i < n; ++i) wt[i] = w[oc * taps + i];
      for (int64_t k = 0; k < images; ++k)
        correlate_rows(n, src, wt, b ? b[oc] : T(0), g.OH, g.OW, k * s.Hq * s.Wq, s.Wq,
                       y + ((n0 + k) * g.OC + oc) * g.P, g.OW);
      continue;
    }
    for (int64_t t0 = 0; t0 < taps; t0 += kMaxTaps) {
      const int n = stack_taps(g, s, planes, t0, src);
      for (int i = 0; i < n; ++i) wt[i] = w[oc * taps + t0 + i];
      correlate(n, src, wt, b ? b[oc] : T(0), t0 > 0, out, s.len);
    }
    if (taps == 0) correlate(0, src, wt, b ? b[oc] : T(0), false, out, s.len);
    for (int64_t k = 0; k < images; ++k)
      for (int64_t oh = 0; oh < g.OH; ++oh)
        copy_row(out + (k * s.Hq + oh) * s.Wq, g.OW, y + ((n0 + k) * g.OC + oc) * g.P + oh * g.OW);
  }
}

// dx[n, c] for n in [n0, n1): phase by phase of dx, the taps of every output channel of c that reach it.
template <typename T>
void input_grad_run(const Conv2dGeometry& g, const T* dout, const T* w, T* dx, int64_t c, int64_t n0, int64_t n1,
                    T* scratch) {
  const int64_t images = n1 - n0, sh = g.stride_h, sw = g.stride_w, taps = g.KH * g.KW;
  const GradLayout s(g, images);
  T* out = scratch + g.OCg * s.plane;
  for (int64_t m = 0; m < g.OCg; ++m) fill_grad_stack(g, s, dout, c * g.OCg + m, n0, images, scratch + m * s.plane);
  const T* src[kMaxTaps];
  T wt[kMaxTaps];
  for (int64_t a = 0; a < sh; ++a)
    for (int64_t b = 0; b < sw; ++b) {
      const int64_t rows = a < g.H ? ceil_div(g.H - a, sh) : 0, cols = b < g.W ? ceil_div(g.W - b, sw) : 0;
      if (rows == 0 || cols == 0) continue;
      // The taps reaching this phase, kMaxTaps at a time; none (stride > kernel reach) leaves it zero.
      int n = 0;
      bool started = false;
      auto flush = [&] {
        correlate(n, src, wt, T(0), started, out, s.len);
        started = true, n = 0;
      };
      for (int64_t m = 0; m < g.OCg; ++m)
        for (int64_t kh = 0; kh < g.KH; ++kh) {
          if ((a + g.pad_h - kh * g.dilation_h) % sh != 0) continue;
          const int64_t e = (a + g.pad_h - kh * g.dilation_h) / sh;
          for (int64_t kw = 0; kw < g.KW; ++kw) {
            if ((b + g.pad_w - kw * g.dilation_w) % sw != 0) continue;
            const int64_t f = (b + g.pad_w - kw * g.dilation_w) / sw;
            src[n] = scratch + m * s.plane + (s.top + e) * s.Wd + s.left + f;
            wt[n] = w[(c * g.OCg + m) * taps + kh * g.KW + kw];
            if (++n == kMaxTaps) flush();
          }
        }
      if (sh == 1 && sw == 1 && !started && rows_fit<T>(g.W, n)) {  // straight into dx's rows
        for (int64_t k = 0; k < images; ++k)
          correlate_rows(n, src, wt, T(0), g.H, g.W, k * s.Hd * s.Wd, s.Wd, dx + ((n0 + k) * g.C + c) * g.H * g.W, g.W);
        continue;
      }
      if (n > 0 || !started) flush();
      for (int64_t k = 0; k < images; ++k) {
        T* plane = dx + ((n0 + k) * g.C + c) * g.H * g.W;
        for (int64_t u = 0; u < rows; ++u) {
          const T* __restrict from = out + (k * s.Hd + u) * s.Wd;
          T* __restrict to = plane + (a + u * sh) * g.W + b;
          if (sw == 1) {
            copy_row(from, cols, to);
          } else {
            for (int64_t v = 0; v < cols; ++v) to[v * sw] = from[v];
          }
        }
      }
    }
}

// dw[oc] for the OCg output channels of input channel c: per run of images, the stack of x and dout laid out
// on its output grid (zeros off the valid outputs), then one dot product per tap; runs add up in order.
template <typename T>
void weight_grad_channel(const Conv2dGeometry& g, const DepthwiseWork& work, const T* dout, const T* x, T* dw,
                         int64_t c, int64_t prev_images, T* scratch) {
  const int64_t taps = g.KH * g.KW;
  for (int64_t i = c * g.OCg * taps; i < (c + 1) * g.OCg * taps; ++i) dw[i] = T(0);
  const T* src[kMaxTaps];
  T sums[kMaxTaps];
  for (int64_t n0 = 0; n0 < g.N; n0 += work.images) {
    const int64_t images = min2(work.images, g.N - n0);
    const StackLayout s(g, images);
    T* planes = scratch;
    T* d = scratch + s.phases() * s.plane;
    fill_stack(g, s, x, c, n0, images, images == prev_images, planes);
    prev_images = images;
    for (int64_t oc = c * g.OCg; oc < (c + 1) * g.OCg; ++oc) {
      if (g.OW % Vec<T>::lanes == 0) {  // dout's rows are whole vectors: read in place
        for (int64_t t0 = 0; t0 < taps; t0 += kMaxTaps) {
          const int n = stack_taps(g, s, planes, t0, src);
          dot_rows_taps(n, src, dout + (n0 * g.OC + oc) * g.P, g.OC * g.P, images, g.OH, g.OW, s.Hq, s.Wq, sums);
          for (int i = 0; i < n; ++i) dw[oc * taps + t0 + i] += sums[i];
        }
        continue;
      }
      // dout on the output grid, zeros off it (the grid's rows past the last image's OH, then the rounding).
      for (int64_t k = 0; k < images; ++k)
        for (int64_t oh = 0; oh < s.Hq; ++oh) {
          T* row = d + (k * s.Hq + oh) * s.Wq;
          if (row >= d + s.len) break;
          const int64_t valid = oh < g.OH ? g.OW : 0;
          if (valid) copy_row(dout + ((n0 + k) * g.OC + oc) * g.P + oh * g.OW, g.OW, row);
          zero_row(min2(s.Wq, d + s.len - row) - valid, row + valid);
        }
      const int64_t grid = images * s.Hq * s.Wq;
      if (grid < s.len) zero_row(s.len - grid, d + grid);
      for (int64_t t0 = 0; t0 < taps; t0 += kMaxTaps) {
        const int n = stack_taps(g, s, planes, t0, src);
        dot_taps(n, src, d, s.len, sums);
        for (int i = 0; i < n; ++i) dw[oc * taps + t0 + i] += sums[i];
      }
    }
  }
}

// ---- small planes: vectorised across channels ---------------------------------------------------------
// Planes of a few pixels (MobileNet's last layers: 4x4 down to 1x1) leave the stack too little to vectorise
// and pay its setup per channel. There the kernels run per image on a block of channels transposed to
// (pixel, channel), so every tap is one multiply-add over the block's contiguous channels. (OCg == 1.)

bool small_planes(const Conv2dGeometry& g) { return g.OCg == 1 && g.H * g.W <= kSmallIn && g.OH * g.OW <= kSmallOut; }

// to[p * cb + j] = from[j * pixels + p]: a block of cb planes (consecutive in memory) to (pixel, channel).
template <typename T>
void to_pixel_major(const T* __restrict from, int64_t cb, int64_t pixels, T* __restrict to) {
  for (int64_t j = 0; j < cb; ++j)
    for (int64_t p = 0; p < pixels; ++p) to[p * cb + j] = from[j * pixels + p];
}

template <typename T>
void from_pixel_major(const T* __restrict from, int64_t cb, int64_t pixels, T* __restrict to) {
  for (int64_t j = 0; j < cb; ++j)
    for (int64_t p = 0; p < pixels; ++p) to[j * pixels + p] = from[p * cb + j];
}

// acc[j] += a[j] * b[j] over a block of channels.
template <typename T>
inline void madd(const T* __restrict a, const T* __restrict b, int64_t cb, T* __restrict acc) {
  for (int64_t j = 0; j < cb; ++j) acc[j] += a[j] * b[j];
}

// The input pixel that output (oh, ow) reads through tap (kh, kw), or -1 in the padding.
inline int64_t tap_pixel(const Conv2dGeometry& g, int64_t oh, int64_t ow, int64_t kh, int64_t kw) {
  const int64_t ih = oh * g.stride_h - g.pad_h + kh * g.dilation_h, iw = ow * g.stride_w - g.pad_w + kw * g.dilation_w;
  return ih >= 0 && ih < g.H && iw >= 0 && iw < g.W ? ih * g.W + iw : -1;
}

// Weights of channels [c0, c0 + cb) as (tap, channel).
template <typename T>
void weights_tap_major(const Conv2dGeometry& g, const T* w, int64_t c0, int64_t cb, T* wt) {
  to_pixel_major(w + c0 * g.KH * g.KW, cb, g.KH * g.KW, wt);
}

template <typename T>
void small_forward(const Conv2dGeometry& g, const T* x, const T* w, const T* b, T* y, int64_t c0, int64_t c1,
                   int64_t n0, int64_t n1, T* scratch) {
  const int64_t cb = c1 - c0, taps = g.KH * g.KW, HW = g.H * g.W;
  T* wt = scratch;
  T* xt = wt + taps * cb;
  T* yt = xt + HW * cb;
  weights_tap_major(g, w, c0, cb, wt);
  for (int64_t n = n0; n < n1; ++n) {
    to_pixel_major(x + (n * g.C + c0) * HW, cb, HW, xt);
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        T* acc = yt + (oh * g.OW + ow) * cb;
        for (int64_t j = 0; j < cb; ++j) acc[j] = b ? b[c0 + j] : T(0);
        for (int64_t kh = 0; kh < g.KH; ++kh)
          for (int64_t kw = 0; kw < g.KW; ++kw) {
            const int64_t p = tap_pixel(g, oh, ow, kh, kw);
            if (p >= 0) madd(wt + (kh * g.KW + kw) * cb, xt + p * cb, cb, acc);
          }
      }
    from_pixel_major(yt, cb, g.P, y + (n * g.OC + c0) * g.P);
  }
}

template <typename T>
void small_input_grad(const Conv2dGeometry& g, const T* dout, const T* w, T* dx, int64_t c0, int64_t c1, int64_t n0,
                      int64_t n1, T* scratch) {
  const int64_t cb = c1 - c0, taps = g.KH * g.KW, HW = g.H * g.W;
  T* wt = scratch;
  T* dt = wt + taps * cb;
  T* xt = dt + g.P * cb;
  weights_tap_major(g, w, c0, cb, wt);
  for (int64_t n = n0; n < n1; ++n) {
    to_pixel_major(dout + (n * g.OC + c0) * g.P, cb, g.P, dt);
    for (int64_t i = 0; i < HW * cb; ++i) xt[i] = T(0);
    // The forward's taps in the forward's order, each adding into the input pixel it read.
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow)
        for (int64_t kh = 0; kh < g.KH; ++kh)
          for (int64_t kw = 0; kw < g.KW; ++kw) {
            const int64_t p = tap_pixel(g, oh, ow, kh, kw);
            if (p >= 0) madd(wt + (kh * g.KW + kw) * cb, dt + (oh * g.OW + ow) * cb, cb, xt + p * cb);
          }
    from_pixel_major(xt, cb, HW, dx + (n * g.C + c0) * HW);
  }
}

// dw for channels [c0, c1), summed over every image in order.
template <typename T>
void small_weight_grad(const Conv2dGeometry& g, const T* dout, const T* x, T* dw, int64_t c0, int64_t c1, T* scratch) {
  const int64_t cb = c1 - c0, taps = g.KH * g.KW, HW = g.H * g.W;
  T* acc = scratch;
  T* dt = acc + taps * cb;
  T* xt = dt + g.P * cb;
  for (int64_t i = 0; i < taps * cb; ++i) acc[i] = T(0);
  for (int64_t n = 0; n < g.N; ++n) {
    to_pixel_major(dout + (n * g.OC + c0) * g.P, cb, g.P, dt);
    to_pixel_major(x + (n * g.C + c0) * HW, cb, HW, xt);
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow)
        for (int64_t kh = 0; kh < g.KH; ++kh)
          for (int64_t kw = 0; kw < g.KW; ++kw) {
            const int64_t p = tap_pixel(g, oh, ow, kh, kw);
            if (p >= 0) madd(dt + (oh * g.OW + ow) * cb, xt + p * cb, cb, acc + (kh * g.KW + kw) * cb);
          }
  }
  from_pixel_major(acc, cb, taps, dw + c0 * taps);
}

}  // namespace

DepthwiseWork depthwise_work(const Conv2dGeometry& g) {
  DepthwiseWork work;
  if (small_planes(g)) {
    work.channels = min2(g.C, kSmallChannels);
    work.images = min2(max2(g.N, 1), kSmallImages);
    work.chunks = ceil_div(g.N, work.images);
    work.scratch = (g.KH * g.KW + g.H * g.W + g.P) * work.channels;
    return work;
  }
  // Runs of images whose stack fits in L1 with its output (about 4096 elements each): more images per run
  // amortise the run's edges (a plane of 2x2 pixels is a 3x3 slot), fewer keep it in cache.
  const StackLayout one(g, 1);
  const int64_t per_run = max2(1, min2(g.N, kRunElems / max2(1, one.Hs * one.Ws)));
  work.channels = 1;
  work.chunks = ceil_div(g.N, per_run);
  work.images = work.chunks ? ceil_div(g.N, work.chunks) : 1;
  const StackLayout s(g, work.images);
  const GradLayout d(g, work.images);
  work.scratch = max2(s.phases() * s.plane + s.len, g.OCg * d.plane + d.len);
  return work;
}

#define PYCNN_DEFINE_DEPTHWISE_KERNELS(T)                                                                           \
  void depthwise_forward(const Conv2dGeometry& g, const T* x, const T* w, const T* b, T* y, int64_t c0, int64_t c1, \
                         int64_t n0, int64_t n1, int64_t prev_images, T* scratch) {                                 \
    if (small_planes(g)) return small_forward(g, x, w, b, y, c0, c1, n0, n1, scratch);                              \
    for (int64_t c = c0; c < c1; ++c)                                                                               \
      forward_run(g, x, w, b, y, c, n0, n1, n1 - n0 == prev_images || c > c0, scratch);                             \
  }                                                                                                                 \
  void depthwise_input_grad(const Conv2dGeometry& g, const T* dout, const T* w, T* dx, int64_t c0, int64_t c1,      \
                            int64_t n0, int64_t n1, T* scratch) {                                                   \
    if (small_planes(g)) return small_input_grad(g, dout, w, dx, c0, c1, n0, n1, scratch);                          \
    for (int64_t c = c0; c < c1; ++c) input_grad_run(g, dout, w, dx, c, n0, n1, scratch);                           \
  }                                                                                                                 \
  void depthwise_weight_grad(const Conv2dGeometry& g, const DepthwiseWork& work, const T* dout, const T* x, T* dw,  \
                             int64_t c0, int64_t c1, int64_t prev_images, T* scratch) {                             \
    if (small_planes(g)) return small_weight_grad(g, dout, x, dw, c0, c1, scratch);                                 \
    const int64_t last = g.N - (work.chunks - 1) * work.images; /* the images of each channel's last run */         \
    for (int64_t c = c0; c < c1; ++c)                                                                               \
      weight_grad_channel(g, work, dout, x, dw, c, c > c0 ? last : prev_images, scratch);                           \
  }

PYCNN_DEFINE_DEPTHWISE_KERNELS(float)
PYCNN_DEFINE_DEPTHWISE_KERNELS(double)

}  // namespace pycnn::cpu::PYCNN_KNS
