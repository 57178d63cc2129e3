// C++ test of the CUDA pooling, resampling and tensor-op bodies (ops/cuda/pool_bodies.h,
// ops/cuda/tensor_ops_bodies.h) on the CPU: each body runs
// for every index of its launch range over outputs pre-filled with NaN (an unwritten element shows), and
// the result is compared with the cpu:: kernel on random awkward shapes and every option, in float64 (and
// float32 where the body promises the CPU's exact bits). The window-bound helpers are checked against a
// brute-force search over their whole index space. With a GPU, the op entry points also run on cuda:0 and
// are compared with the CPU (and with a second GPU run, bitwise, for determinism); without one that part
// is skipped.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "expect.h"                            // defines: EXPECT, failures
#include "pycnn/core/cuda_runtime.h"           // defines: cuda::device_count
#include "pycnn/core/parallel.h"               // defines: set_num_threads
#include "pycnn/ops/cpu/cpu_ops.h"             // defines: the cpu:: reference kernels
#include "pycnn/ops/cuda/pool_bodies.h"        // defines: the pooling bodies under test
#include "pycnn/ops/cuda/tensor_ops_bodies.h"  // defines: the tensor-op bodies under test  // defines: the bodies under test
#include "pycnn/ops/ops.h"                     // defines: pool_output_size

using namespace pycnn;
using namespace pycnn::cuda::pool_bodies;
using namespace pycnn::cuda::tensor_ops_bodies;

static std::mt19937 rng(1234);
static int64_t rand_int(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); }

// Values in [-2, 2) that are never zero, with a few repeats (ties) and, when asked, NaNs and -inf.
template <typename T>
static std::vector<T> random_values(int64_t n, bool specials = false) {
  std::vector<T> v(n);
  std::uniform_real_distribution<double> u(-2, 2);
  for (auto& x : v) {
    double d = u(rng);
    if (std::fabs(d) < 1e-3) d = 0.5;
    x = static_cast<T>(d);
  }
  for (int64_t i = 0; n > 4 && i < n / 8; ++i) v[rand_int(0, n - 1)] = v[rand_int(0, n - 1)];  // ties
  if (specials && n > 4) {
    v[rand_int(0, n - 1)] = std::numeric_limits<T>::quiet_NaN();
    v[rand_int(0, n - 1)] = -std::numeric_limits<T>::infinity();
  }
  return v;
}

template <typename T>
static std::vector<T> nan_filled(int64_t n) {
  return std::vector<T>(n, std::numeric_limits<T>::quiet_NaN());
}

template <typename Body>
static void run_body(int64_t n, const Body& body) {
  for (int64_t i = 0; i < n; ++i) body(i);
}

// Equal up to tol (relative to max(1, |ref|)), NaN where the reference has NaN and nowhere else.
template <typename T>
static bool close(const std::vector<T>& got, const std::vector<T>& ref, double tol, const char* what) {
  for (size_t i = 0; i < ref.size(); ++i) {
    const double g = got[i], r = ref[i];
    const bool ok =
        (std::isnan(r) ? std::isnan(g)
                       : !std::isnan(g) && (g == r || std::fabs(g - r) <= tol * std::max(1.0, std::fabs(r))));
    if (!ok) {
      std::printf("  %s: element %zu is %.17g, expected %.17g\n", what, i, g, r);
      return false;
    }
  }
  return true;
}

static bool same_ints(const std::vector<int64_t>& got, const std::vector<int64_t>& ref, const char* what) {
  for (size_t i = 0; i < ref.size(); ++i)
    if (got[i] != ref[i]) {
      std::printf("  %s: index %zu is %lld, expected %lld\n", what, i, (long long)got[i], (long long)ref[i]);
      return false;
    }
  return true;
}

// ---- index helpers over their whole space ----

static void test_window_helpers() {
  for (int64_t size = 1; size <= 9; ++size)
    for (int64_t kernel = 1; kernel <= 5; ++kernel)
      for (int64_t stride = 1; stride <= 4; ++stride)
        for (int64_t dil = 1; dil <= 3; ++dil)
          for (int64_t pad = 0; 2 * pad <= kernel; ++pad)
            for (int ceil = 0; ceil < 2; ++ceil) {
              const int64_t out = pool_output_size(size, kernel, stride, pad, dil, ceil);
              if (out <= 0) continue;
              for (int64_t o = 0; o < out; ++o) {  // window_taps: exactly the taps inside [0, size)
                int64_t k0, k1;
                window_taps(o, stride, pad, dil, kernel, size, k0, k1);
                for (int64_t k = 0; k < kernel; ++k) {
                  const int64_t at = o * stride - pad + k * dil;
                  EXPECT((at >= 0 && at < size) == (k >= k0 && k < k1));
                }
              }
              for (int64_t i = 0; i < size; ++i) {  // windows_holding: a superset holding every window with i
                int64_t lo, hi;
                windows_holding(i, stride, pad, dil, kernel, out, lo, hi);
                for (int64_t o = 0; o < out; ++o) {
                  const int64_t start = o * stride - pad;
                  const bool has = start <= i && i <= start + (kernel - 1) * dil && (i - start) % dil == 0;
                  const bool in_range = o >= lo && o < hi;
                  EXPECT(!has || in_range);
                  if (dil == 1) EXPECT(has == in_range);
                }
              }
            }
  for (int64_t in = 1; in <= 20; ++in)
    for (int64_t out = 1; out <= 20; ++out)
      for (int64_t i = 0; i < in; ++i) {
        int64_t lo, hi;
        adaptive_cells_holding(i, out, in, lo, hi);
        for (int64_t o = 0; o < out; ++o)
          EXPECT((adaptive_start(o, out, in) <= i && i < adaptive_end(o, out, in)) == (o >= lo && o < hi));
      }
}

// The runs cover each plane exactly once, with no empty run.
static void test_backward_runs() {
  for (int64_t planes : {1, 3, 1000, 200000})
    for (int64_t HW = 1; HW <= 300; ++HW) {
      int64_t chunks, chunk;
      max_pool_backward_runs(planes, HW, chunks, chunk);
      EXPECT(chunks >= 1 && chunk >= 1 && (chunks - 1) * chunk < HW && chunks * chunk >= HW);
    }
}

static const InterpMode kModes[] = {InterpMode::Nearest, InterpMode::NearestExact, InterpMode::Bilinear};

static void test_interp_helpers() {
  for (InterpMode mode : kModes)
    for (int align = 0; align < 2; ++align) {
      if (align && mode != InterpMode::Bilinear) continue;
      for (double scale : {0.0, 1.7, 0.45, 2.0})
        for (int64_t in = 1; in <= 13; ++in)
          for (int64_t out = 1; out <= 17; ++out) {
            InterpolateArgs a;
            a.mode = mode, a.align_corners = align;
            for (int64_t i = 0; i < in; ++i) {
              int64_t lo, hi;
              outputs_reaching<double>(i, in, out, scale, a, lo, hi);
              for (int64_t d = 0; d < out; ++d) {
                const Tap<double> t = axis_tap<double>(d, in, out, scale, a);
                EXPECT(t.i0 >= 0 && t.i1 < in && t.i0 <= t.i1);
                if (t.i0 == i || (mode == InterpMode::Bilinear && t.i1 == i)) EXPECT(d >= lo && d < hi);
              }
            }
          }
    }
}

// ---- pooling ----

static Pool2dArgs random_pool_args(bool avg) {
  Pool2dArgs a;
  a.kernel_h = rand_int(1, 4), a.kernel_w = rand_int(1, 4);
  a.stride_h = rand_int(1, 3), a.stride_w = rand_int(1, 3);
  a.pad_h = rand_int(0, a.kernel_h / 2), a.pad_w = rand_int(0, a.kernel_w / 2);
  a.dilation_h = avg ? 1 : rand_int(1, 2), a.dilation_w = avg ? 1 : rand_int(1, 2);
  a.ceil_mode = rand_int(0, 1);
  a.count_include_pad = rand_int(0, 1);
  a.divisor_override = avg && rand_int(0, 3) == 0 ? rand_int(1, 7) : 0;
  return a;
}

// tol: 0 where the body adds in the CPU's order (bitwise), else a few ulps.
template <typename T>
static void test_pool_case(int64_t planes, int64_t H, int64_t W, const Pool2dArgs& a, bool avg) {
  const int64_t OH = pool_output_size(H, a.kernel_h, a.stride_h, a.pad_h, a.dilation_h, a.ceil_mode);
  const int64_t OW = pool_output_size(W, a.kernel_w, a.stride_w, a.pad_w, a.dilation_w, a.ceil_mode);
  if (OH <= 0 || OW <= 0) return;
  const int64_t nx = planes * H * W, ny = planes * OH * OW;
  const std::vector<T> x = random_values<T>(nx, !avg), g = random_values<T>(ny);
  if (!avg) {
    std::vector<T> y = nan_filled<T>(ny), y_ref(ny);
    std::vector<int64_t> idx(ny, -7), idx_ref(ny);
    run_body(ny, MaxPoolForward<T>{x.data(), y.data(), idx.data(), H, W, OH, OW, a});
    cpu::max_pool2d_forward<T>(x.data(), y_ref.data(), idx_ref.data(), planes, H, W, OH, OW, a);
    EXPECT(close(y, y_ref, 0, "max_pool2d"));
    EXPECT(same_ints(idx, idx_ref, "max_pool2d indices"));
    std::vector<T> dx_ref(nx);
    cpu::max_pool2d_backward<T>(g.data(), idx_ref.data(), dx_ref.data(), planes, H * W, OH * OW);
    int64_t chunks, chunk;  // the wrapper's run length, then a few others down to one element
    max_pool_backward_runs(planes, H * W, chunks, chunk);
    for (int64_t c : {chunk, H * W, int64_t(7), int64_t(1)}) {
      const int64_t n_runs = (H * W + c - 1) / c;
      std::vector<T> dx(nx, T(0));  // the wrapper zeroes dx first
      run_body(planes * n_runs, MaxPoolBackwardRuns<T>{g.data(), idx_ref.data(), dx.data(), H * W, OH * OW, n_runs, c});
      EXPECT(close(dx, dx_ref, 0, "max_pool2d_backward"));
    }
    return;
  }
  std::vector<T> y = nan_filled<T>(ny), y_ref(ny);
  run_body(ny, AvgPoolForward<T>{x.data(), y.data(), H, W, OH, OW, a});
  cpu::avg_pool2d_forward<T>(x.data(), y_ref.data(), planes, H, W, OH, OW, a);
  EXPECT(close(y, y_ref, 0, "avg_pool2d"));
  std::vector<T> dx = nan_filled<T>(nx), dx_ref(nx);
  run_body(nx, AvgPoolBackward<T>{g.data(), dx.data(), H, W, OH, OW, a});
  cpu::avg_pool2d_backward<T>(g.data(), dx_ref.data(), planes, H, W, OH, OW, a);
  EXPECT(close(dx, dx_ref, 0, "avg_pool2d_backward"));
}

static void test_pooling() {
  for (int it = 0; it < 400; ++it) {
    const bool avg = it % 2;
    const Pool2dArgs a = random_pool_args(avg);
    const int64_t planes = rand_int(1, 3), H = rand_int(1, 11), W = rand_int(1, 13);
    test_pool_case<double>(planes, H, W, a, avg);
    test_pool_case<float>(planes, H, W, a, avg);
  }
  // the CPU's 2x2 SIMD path and its interior sweeps on wider rows
  Pool2dArgs two;
  two.kernel_h = two.kernel_w = two.stride_h = two.stride_w = 2;
  test_pool_case<float>(3, 17, 40, two, false);
  test_pool_case<double>(2, 16, 33, two, false);
  Pool2dArgs wide = two;
  wide.kernel_h = wide.kernel_w = 3, wide.pad_h = wide.pad_w = 1, wide.stride_w = 1;
  test_pool_case<float>(2, 9, 41, wide, false);
  test_pool_case<double>(2, 9, 41, wide, true);
}

// ---- adaptive pooling, pixel shuffle, interpolation, unpooling ----

template <typename T>
static void test_adaptive_case(int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW) {
  const int64_t nx = planes * H * W, ny = planes * OH * OW;
  const std::vector<T> x = random_values<T>(nx, true), g = random_values<T>(ny);
  std::vector<T> y = nan_filled<T>(ny), y_ref(ny);
  run_body(ny, AdaptiveAvgForward<T>{x.data(), y.data(), H, W, OH, OW});
  cpu::adaptive_avg_pool2d_forward<T>(x.data(), y_ref.data(), planes, H, W, OH, OW);
  EXPECT(close(y, y_ref, 0, "adaptive_avg_pool2d"));
  std::vector<T> dx = nan_filled<T>(nx), dx_ref(nx);
  run_body(nx, AdaptiveAvgBackward<T>{g.data(), dx.data(), H, W, OH, OW});
  cpu::adaptive_avg_pool2d_backward<T>(g.data(), dx_ref.data(), planes, H, W, OH, OW);
  EXPECT(close(dx, dx_ref, 0, "adaptive_avg_pool2d_backward"));
  std::vector<T> ym = nan_filled<T>(ny), ym_ref(ny);
  std::vector<int64_t> idx(ny, -7), idx_ref(ny);
  run_body(ny, AdaptiveMaxForward<T>{x.data(), ym.data(), idx.data(), H, W, OH, OW});
  cpu::adaptive_max_pool2d_forward<T>(x.data(), ym_ref.data(), idx_ref.data(), planes, H, W, OH, OW);
  EXPECT(close(ym, ym_ref, 0, "adaptive_max_pool2d"));
  EXPECT(same_ints(idx, idx_ref, "adaptive_max_pool2d indices"));
}

template <typename T>
static void test_shuffle_case(int64_t outer, int64_t C, int64_t H, int64_t W, int64_t r) {
  // forward: L (outer, C*r*r, H, W) -> S (outer, C, H*r, W*r); inverse maps S back
  const int64_t n = outer * C * r * r * H * W;
  const std::vector<T> l = random_values<T>(n);
  std::vector<T> s = nan_filled<T>(n), s_ref(n), back = nan_filled<T>(n), back_ref(n);
  run_body(n, PixelShuffle<T>{l.data(), s.data(), C, H, W, r, false});
  cpu::pixel_shuffle<T>(l.data(), s_ref.data(), outer, C, H, W, r, false);
  EXPECT(close(s, s_ref, 0, "pixel_shuffle"));
  run_body(n, PixelShuffle<T>{s_ref.data(), back.data(), C, H, W, r, true});
  cpu::pixel_shuffle<T>(s_ref.data(), back_ref.data(), outer, C, H, W, r, true);
  EXPECT(close(back, back_ref, 0, "pixel_unshuffle"));
  EXPECT(close(back, l, 0, "pixel_unshuffle(pixel_shuffle(x))"));
}

// The bilinear gather adds the CPU's products in its order, so the bits agree; FMA contraction by either
// compiler may still move the last bit, hence the tolerance.
template <typename T>
static void test_interp_case(int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW, const InterpolateArgs& a) {
  const double tol = sizeof(T) == 8 ? 1e-13 : 1e-5;
  const int64_t nx = planes * H * W, ny = planes * OH * OW;
  const std::vector<T> x = random_values<T>(nx), g = random_values<T>(ny);
  std::vector<T> y = nan_filled<T>(ny), y_ref(ny);
  run_body(ny, InterpForward<T>{x.data(), y.data(), H, W, OH, OW, a});
  cpu::interpolate_forward<T>(x.data(), y_ref.data(), planes, H, W, OH, OW, a);
  EXPECT(close(y, y_ref, tol, "interpolate"));
  std::vector<T> dx = nan_filled<T>(nx), dx_ref(nx);
  run_body(nx, InterpBackward<T>{g.data(), dx.data(), H, W, OH, OW, a});
  cpu::interpolate_backward<T>(g.data(), dx_ref.data(), planes, H, W, OH, OW, a);
  EXPECT(close(dx, dx_ref, tol, "interpolate_backward"));
}

// Unpooling with random indices: repeated ones (the last value wins) and untouched outputs (zero). The
// three passes of the CUDA wrapper run in order, over y's storage as the wrapper uses it.
template <typename T>
static void test_unpool_case(int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW) {
  const int64_t nx = planes * H * W, ny = planes * OH * OW;
  std::vector<int64_t> idx(nx);
  for (auto& j : idx) j = rand_int(0, OH * OW - 1);
  const std::vector<T> x = random_values<T>(nx), g = random_values<T>(ny);
  std::vector<T> y = nan_filled<T>(ny), y_ref(ny);
  auto* slots = reinterpret_cast<UnpoolSlot<T>*>(y.data());
  run_body(ny, UnpoolSlotsInit<T>{slots});
  run_body(nx, UnpoolClaim<T>{idx.data(), slots, H * W, OH * OW});
  run_body(ny, UnpoolResolve<T>{x.data(), y.data(), H * W, OH * OW});
  cpu::max_unpool2d_forward<T>(x.data(), idx.data(), y_ref.data(), planes, H * W, OH * OW);
  EXPECT(close(y, y_ref, 0, "max_unpool2d"));
  std::vector<T> dx = nan_filled<T>(nx), dx_ref(nx);
  run_body(nx, UnpoolGather<T>{g.data(), idx.data(), dx.data(), H * W, OH * OW});
  cpu::max_unpool2d_backward<T>(g.data(), idx.data(), dx_ref.data(), planes, H * W, OH * OW);
  EXPECT(close(dx, dx_ref, 0, "max_unpool2d_backward"));
}

static void test_resize() {
  for (int it = 0; it < 150; ++it) {
    const int64_t planes = rand_int(1, 3), H = rand_int(1, 15), W = rand_int(1, 15);
    const int64_t OH = rand_int(1, 9), OW = rand_int(1, 9);
    test_adaptive_case<double>(planes, H, W, OH, OW);
    test_adaptive_case<float>(planes, H, W, OH, OW);
    test_adaptive_case<double>(planes, H, W, 1, 1);
    test_shuffle_case<double>(rand_int(1, 3), rand_int(1, 3), rand_int(1, 5), rand_int(1, 5), rand_int(1, 3));
    for (InterpMode mode : kModes)
      for (int align = 0; align < (mode == InterpMode::Bilinear ? 2 : 1); ++align)
        for (double scale : {0.0, 1.5, 2.0, 0.7}) {
          InterpolateArgs a;
          a.mode = mode, a.align_corners = align, a.scale_h = scale, a.scale_w = scale > 0 ? scale + 0.25 : 0;
          const int64_t oh = scale > 0 ? int64_t(std::floor(H * a.scale_h)) : rand_int(1, 20);
          const int64_t ow = scale > 0 ? int64_t(std::floor(W * a.scale_w)) : rand_int(1, 20);
          if (oh < 1 || ow < 1) continue;
          test_interp_case<double>(planes, H, W, oh, ow, a);
          test_interp_case<float>(planes, H, W, oh, ow, a);
        }
    test_unpool_case<double>(planes, rand_int(1, 6), rand_int(1, 6), rand_int(1, 9), rand_int(1, 9));
    test_unpool_case<float>(planes, rand_int(1, 6), rand_int(1, 6), rand_int(1, 9), rand_int(1, 9));
  }
  InterpolateArgs up2;  // nearest's out == 2 * in shortcut
  test_interp_case<double>(2, 5, 7, 10, 14, up2);
}

// ---- tensor ops ----

template <typename T>
static void test_tensor_ops_case(int64_t A, int64_t N, int64_t B, int64_t K) {
  const std::vector<T> x = random_values<T>(A * N * B, true);
  std::vector<int64_t> index(K);
  for (auto& k : index) k = rand_int(-N, N - 1);  // negative and repeated indices
  std::vector<T> out = nan_filled<T>(A * K * B), out_ref(A * K * B);
  run_body(A * K * B, IndexSelect<T>{x.data(), index.data(), out.data(), N, K, B});
  cpu::index_select_anb<T>(x.data(), index.data(), out_ref.data(), A, N, K, B);
  EXPECT(close(out, out_ref, 0, "index_select"));
  const std::vector<T> g = random_values<T>(A * K * B);
  std::vector<T> dx_ref(A * N * B, T(0));  // the entry point zeroes dx
  cpu::index_add_anb<T>(g.data(), index.data(), dx_ref.data(), A, N, K, B);
  int64_t chunks, chunk;  // the wrapper's runs, then one run and single rows
  index_add_runs(A * B, N, chunks, chunk);
  for (int64_t c : {chunk, N, int64_t(1), int64_t(2)}) {
    std::vector<T> dx(A * N * B, T(0));
    run_body(((N + c - 1) / c) * A * B, IndexAdd<T>{g.data(), index.data(), dx.data(), A, N, K, B, c});
    EXPECT(close(dx, dx_ref, 0, "index_select_backward"));
  }
  {  // out-of-range indices (not checked on the host for a GPU tensor): gathered as 0, skipped by the scatter
     // (the last run may reach past N), never read or written outside x / dx
    std::vector<int64_t> bad = index;
    for (int64_t k = 0; k < K; k += 2) bad[k] = k % 4 == 0 ? N + k / 4 : -N - 1 - k / 4;
    std::vector<int64_t> kept = bad;  // the reference: bad entries pointing at an all-zero row N
    for (auto& k : kept) k = k >= N || k < -N ? N : (k < 0 ? k + N : k);  // wrapped against N, not N + 1
    std::vector<T> x1(A * (N + 1) * B, T(0)), ref1(A * K * B);
    for (int64_t a = 0; a < A; ++a)
      std::copy(x.begin() + a * N * B, x.begin() + (a + 1) * N * B, x1.begin() + a * (N + 1) * B);
    cpu::index_select_anb<T>(x1.data(), kept.data(), ref1.data(), A, N + 1, K, B);
    std::vector<T> got = nan_filled<T>(A * K * B);
    run_body(A * K * B, IndexSelect<T>{x.data(), bad.data(), got.data(), N, K, B});
    EXPECT(close(got, ref1, 0, "index_select (out-of-range indices)"));
    std::vector<T> dx1(A * (N + 1) * B, T(0)), dref(A * N * B);
    cpu::index_add_anb<T>(g.data(), kept.data(), dx1.data(), A, N + 1, K, B);
    for (int64_t a = 0; a < A; ++a)
      std::copy(dx1.begin() + a * (N + 1) * B, dx1.begin() + a * (N + 1) * B + N * B, dref.begin() + a * N * B);
    for (int64_t c : {N, int64_t(2), int64_t(3)}) {
      const int64_t runs = (N + c - 1) / c;
      std::vector<T> dx(A * N * B + 64, T(0));  // slack past the end: a write there shows
      run_body(runs * A * B, IndexAdd<T>{g.data(), bad.data(), dx.data(), A, N, K, B, c});
      EXPECT(std::all_of(dx.begin() + A * N * B, dx.end(), [](T v) { return v == T(0); }));
      dx.resize(A * N * B);
      EXPECT(close(dx, dref, 0, "index_select_backward (out-of-range indices)"));
    }
  }
  for (int64_t columns : {int64_t(1), A * B, int64_t(1) << 20}) {
    int64_t n_runs, c;
    index_add_runs(columns, N, n_runs, c);
    EXPECT(n_runs >= 1 && c >= 1 && (n_runs - 1) * c < N && n_runs * c >= N);
  }
  for (int is_min = 0; is_min < 2; ++is_min) {
    std::vector<T> v = nan_filled<T>(A * B), v_ref(A * B);
    std::vector<int64_t> ix(A * B, -7), ix_ref(A * B);
    run_body(A * B, MinMax<T>{x.data(), v.data(), ix.data(), N, B, bool(is_min)});
    cpu::minmax_arb<T>(x.data(), v_ref.data(), ix_ref.data(), A, N, B, is_min);
    EXPECT(close(v, v_ref, 0, "max/min"));
    EXPECT(same_ints(ix, ix_ref, "max/min indices"));
    const std::vector<T> gv = random_values<T>(A * B);
    std::vector<T> d(A * N * B, T(0)), d_ref(A * N * B, T(0));
    run_body(A * B, ScatterR<T>{gv.data(), ix_ref.data(), d.data(), N, B});
    cpu::scatter_arb<T>(gv.data(), ix_ref.data(), d_ref.data(), A, N, B);
    EXPECT(close(d, d_ref, 0, "max_backward"));
  }
}

// A comparison's bool outputs from the CUDA body and the CPU kernel (the body's start set, the kernel's clear,
// so that an element the body skips shows where the kernel wrote false).
struct BoolOutputs {
  int64_t n;
  std::unique_ptr<bool[]> got, ref;
  explicit BoolOutputs(int64_t size) : n(size), got(new bool[size]), ref(new bool[size]) {
    std::fill(got.get(), got.get() + n, true);
    std::fill(ref.get(), ref.get() + n, false);
  }
  bool same(const char* what) const {
    for (int64_t i = 0; i < n; ++i)
      if (got[i] != ref[i]) {
        std::printf("%s: element %lld differs\n", what, static_cast<long long>(i));
        return false;
      }
    return true;
  }
};

template <typename T>
static void test_elementwise_case(int64_t n) {
  std::vector<T> a = random_values<T>(n, true), b = random_values<T>(n, true);
  for (int64_t i = 0; i < n; i += 3) b[i] = a[i];  // ties
  std::unique_ptr<bool[]> cond(new bool[n]);
  for (int64_t i = 0; i < n; ++i) cond[i] = rand_int(0, 1);
  const std::vector<T> g = random_values<T>(n);
  for (CompareOp op : {CompareOp::Gt, CompareOp::Lt, CompareOp::Ge, CompareOp::Le, CompareOp::Eq, CompareOp::Ne}) {
    BoolOutputs out(n);
    run_body(n, Compare<T>{op, a.data(), b.data(), out.got.get()});
    cpu::compare<T>(op, a.data(), b.data(), out.ref.get(), n);
    EXPECT(out.same("compare"));
  }
  std::vector<T> w = nan_filled<T>(n), w_ref(n);
  run_body(n, Where<T>{cond.get(), a.data(), b.data(), w.data()});
  cpu::where<T>(cond.get(), a.data(), b.data(), w_ref.data(), n);
  EXPECT(close(w, w_ref, 0, "where"));
  std::vector<T> da = nan_filled<T>(n), db = nan_filled<T>(n), da_ref(n), db_ref(n);
  run_body(n, WhereGrad<T>{cond.get(), g.data(), da.data(), db.data()});
  cpu::where_grad<T>(cond.get(), g.data(), da_ref.data(), db_ref.data(), n);
  EXPECT(close(da, da_ref, 0, "where_backward a") && close(db, db_ref, 0, "where_backward b"));
  for (int is_min = 0; is_min < 2; ++is_min) {
    std::vector<T> m = nan_filled<T>(n), m_ref(n);
    run_body(n, Maximum<T>{a.data(), b.data(), m.data(), bool(is_min)});
    cpu::maximum<T>(a.data(), b.data(), m_ref.data(), n, is_min);
    EXPECT(close(m, m_ref, 0, "maximum"));
    std::vector<T> ga = nan_filled<T>(n), gb = nan_filled<T>(n), ga_ref(n), gb_ref(n);
    run_body(n, MaximumGrad<T>{a.data(), b.data(), g.data(), ga.data(), gb.data(), bool(is_min)});
    cpu::maximum_grad<T>(a.data(), b.data(), g.data(), ga_ref.data(), gb_ref.data(), n, is_min);
    EXPECT(close(ga, ga_ref, 0, "maximum_backward a") && close(gb, gb_ref, 0, "maximum_backward b"));
  }
}

// int64 gathers and comparisons (the dtypes dispatch_all reaches)
static void test_int64_case(int64_t A, int64_t N, int64_t B, int64_t K) {
  std::vector<int64_t> x(A * N * B), index(K);
  for (auto& v : x) v = rand_int(-5, 5);
  for (auto& k : index) k = rand_int(-N, N - 1);
  std::vector<int64_t> out(A * K * B, -77), out_ref(A * K * B);
  run_body(A * K * B, IndexSelect<int64_t>{x.data(), index.data(), out.data(), N, K, B});
  cpu::index_select_anb<int64_t>(x.data(), index.data(), out_ref.data(), A, N, K, B);
  EXPECT(same_ints(out, out_ref, "index_select int64"));
  BoolOutputs c(A * N * B);
  run_body(A * N * B, Compare<int64_t>{CompareOp::Le, x.data(), x.data() + 0, c.got.get()});
  cpu::compare<int64_t>(CompareOp::Le, x.data(), x.data(), c.ref.get(), A * N * B);
  EXPECT(c.same("compare int64"));
}

static void test_tensor_ops() {
  for (int it = 0; it < 100; ++it) {
    const int64_t A = rand_int(1, 4), N = rand_int(1, 9), B = rand_int(1, 5), K = rand_int(0, 12);
    test_tensor_ops_case<double>(A, N, B, K);
    test_tensor_ops_case<float>(A, N, B, K);
    test_int64_case(A, N, B, K);
    test_elementwise_case<double>(rand_int(1, 50));
    test_elementwise_case<float>(rand_int(1, 50));
  }
}

// ---- with a GPU: the op entry points on cuda:0 against the CPU ----

static const Device kCuda0{DeviceType::CUDA, 0};

static Tensor random_tensor(const Shape& shape, DType dtype, bool specials = false) {
  Tensor t = Tensor::empty(shape, dtype);
  if (dtype == DType::Float32) {
    const std::vector<float> v = random_values<float>(t.numel(), specials);
    std::copy(v.begin(), v.end(), t.data<float>());
  } else {
    const std::vector<double> v = random_values<double>(t.numel(), specials);
    std::copy(v.begin(), v.end(), t.data<double>());
  }
  return t;
}

static Tensor int_tensor(const Shape& shape, int64_t lo, int64_t hi) {
  Tensor t = Tensor::empty(shape, DType::Int64);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<int64_t>()[i] = rand_int(lo, hi);
  return t;
}

// The largest difference relative to max(1, |ref|), infinity where exactly one side is NaN or shapes differ.
static double max_error(const Tensor& got_any, const Tensor& ref) {
  const Tensor got = got_any.to(Device{}).contiguous();
  if (got.shape() != ref.shape() || got.dtype() != ref.dtype()) return INFINITY;
  double worst = 0;
  for (int64_t i = 0; i < ref.numel(); ++i) {
    double g, r;
    if (ref.dtype() == DType::Int64)
      g = double(got.data<int64_t>()[i]), r = double(ref.data<int64_t>()[i]);
    else if (ref.dtype() == DType::Float32)
      g = got.data<float>()[i], r = ref.data<float>()[i];
    else
      g = got.data<double>()[i], r = ref.data<double>()[i];
    if (std::isnan(g) || std::isnan(r)) {
      if (std::isnan(g) != std::isnan(r)) return INFINITY;
      continue;
    }
    if (g != r) worst = std::max(worst, std::fabs(g - r) / std::max(1.0, std::fabs(r)));
  }
  return worst;
}

static std::vector<Tensor> on(const std::vector<Tensor>& ts, Device d) {
  std::vector<Tensor> out;
  for (const Tensor& t : ts) out.push_back(t.to(d));
  return out;
}

// Runs fn on the CPU inputs and on their cuda:0 copies (twice) and compares; an op that depends on a kernel
// not written yet (another family's) is reported and skipped.
template <typename F>
static void check_op(const char* name, const std::vector<Tensor>& inputs, double tol, F fn) {
  std::vector<Tensor> ref, got, again;
  try {
    ref = fn(inputs);
    got = fn(on(inputs, kCuda0));
    again = fn(on(inputs, kCuda0));
  } catch (const std::runtime_error& e) {
    if (std::string(e.what()).find("no CUDA kernel") == std::string::npos) throw;
    std::printf("  skipped %s: %s\n", name, e.what());
    return;
  }
  for (size_t i = 0; i < ref.size(); ++i) {
    if (!ref[i].defined()) continue;
    const double err = max_error(got[i], ref[i]), rerun = max_error(again[i], got[i].to(Device{}));
    if (!(err <= tol) || rerun != 0) {
      std::printf("FAILED %s output %zu: max error %g, differs between GPU runs by %g\n", name, i, err, rerun);
      ++failures;
    }
  }
}

static void check_ops_with_gpu() {
  std::printf("cuda:0 is %s\n", cuda::device_name(0));
  for (DType dt : {DType::Float32, DType::Float64}) {
    const double tol = dt == DType::Float32 ? 1e-5 : 1e-12;
    for (int it = 0; it < 20; ++it) {
      const bool avg = it % 2;
      const Pool2dArgs a = random_pool_args(avg);
      const Shape xs = {rand_int(1, 3), rand_int(1, 4), rand_int(5, 40), rand_int(5, 40)};
      const Tensor x = random_tensor(xs, dt, !avg);
      const int64_t OH = pool_output_size(xs[2], a.kernel_h, a.stride_h, a.pad_h, a.dilation_h, a.ceil_mode);
      const int64_t OW = pool_output_size(xs[3], a.kernel_w, a.stride_w, a.pad_w, a.dilation_w, a.ceil_mode);
      const Tensor g = random_tensor({xs[0], xs[1], OH, OW}, dt);
      if (!avg) {
        check_op("max_pool2d", {x, g}, 0, [&](const std::vector<Tensor>& in) {
          auto [y, idx] = max_pool2d_forward(in[0], a);
          return std::vector<Tensor>{y, idx, max_pool2d_backward(in[1], idx, in[0].shape())};
        });
      } else {
        check_op("avg_pool2d", {x, g}, tol, [&](const std::vector<Tensor>& in) {
          Tensor y = avg_pool2d_forward(in[0], a);
          return std::vector<Tensor>{y, avg_pool2d_backward(in[1], in[0].shape(), a)};
        });
      }
    }
    const Tensor x = random_tensor({2, 3, 13, 17}, dt, true);
    check_op("adaptive pooling", {x}, tol, [&](const std::vector<Tensor>& in) {
      Tensor ya = adaptive_avg_pool2d_forward(in[0], 5, 4);
      auto [ym, idx] = adaptive_max_pool2d_forward(in[0], 4, 7);
      Tensor g = adaptive_avg_pool2d_forward(in[0], 1, 1);
      return std::vector<Tensor>{ya,  adaptive_avg_pool2d_backward(ya, in[0].shape()),     g, ym,
                                 idx, adaptive_max_pool2d_backward(ym, idx, in[0].shape())};
    });
    check_op("pixel_shuffle", {random_tensor({2, 12, 5, 3}, dt)}, 0, [&](const std::vector<Tensor>& in) {
      Tensor y = pixel_shuffle(in[0], 2);
      return std::vector<Tensor>{y, pixel_unshuffle(y, 2)};
    });
    for (InterpMode mode : kModes)
      for (int align = 0; align < (mode == InterpMode::Bilinear ? 2 : 1); ++align) {
        InterpolateArgs ia;
        ia.mode = mode, ia.align_corners = align;
        const Tensor xi = random_tensor({2, 3, 9, 14}, dt);
        check_op("interpolate", {xi, random_tensor({2, 3, 20, 11}, dt)}, tol, [&](const std::vector<Tensor>& in) {
          return std::vector<Tensor>{interpolate_forward(in[0], 20, 11, ia),
                                     interpolate_backward(in[1], in[0].shape(), ia)};
        });
      }
    check_op("max_unpool2d", {x}, 0, [&](const std::vector<Tensor>& in) {
      Pool2dArgs two;
      two.kernel_h = two.kernel_w = two.stride_h = two.stride_w = 2;
      auto [y, idx] = max_pool2d_forward(in[0], two);
      Tensor u = max_unpool2d_forward(y, idx, 13, 17);
      return std::vector<Tensor>{u, max_unpool2d_backward(u, idx)};
    });
    // rand_int is inclusive: indices in [0, 4 * 5)
    check_op("max_unpool2d (repeated indices)", {x, int_tensor({2, 3, 6, 8}, 0, 19)}, 0,
             [&](const std::vector<Tensor>& in) {
               Tensor xs = index_view(in[0], {0, 0, 0, 0}, {1, 1, 1, 1}, {2, 3, 6, 8}, {1, 1, 1, 1}, {}).contiguous();
               return std::vector<Tensor>{max_unpool2d_forward(xs, in[1], 4, 5)};
             });
    const Tensor t = random_tensor({4, 7, 5}, dt, true), t2 = random_tensor({4, 7, 5}, dt, true);
    const Tensor index = int_tensor({9}, -7, 6), mask = int_tensor({4, 7, 5}, 0, 1), cond = int_tensor({7, 1}, 0, 1);
    check_op("index_select", {t, index}, 0, [&](const std::vector<Tensor>& in) {
      Tensor y = index_select(in[0], 1, in[1]);
      return std::vector<Tensor>{y, index_select_backward(y, in[0].shape(), 1, in[1])};
    });
    check_op("masked_select", {t, mask}, 0, [&](const std::vector<Tensor>& in) {
      Tensor y = masked_select(in[0], in[1]);
      return std::vector<Tensor>{y, masked_select_backward(y, in[1])};
    });
    const Tensor big = random_tensor({3000, 7}, dt), big_mask = int_tensor({3000, 7}, 0, 1);
    check_op("masked_select (several chunks)", {big, big_mask}, 0, [&](const std::vector<Tensor>& in) {
      Tensor y = masked_select(in[0], in[1]);
      return std::vector<Tensor>{y, masked_select_backward(y, in[1])};
    });
    for (int is_min = 0; is_min < 2; ++is_min)
      check_op("max/min over a dim", {t}, 0, [&](const std::vector<Tensor>& in) {
        auto [v, idx] = minmax_dim(in[0], 1, false, is_min);
        return std::vector<Tensor>{v, idx, minmax_dim_backward(v, idx, in[0].shape(), 1)};
      });
    check_op("compare, where, maximum", {t, t2, cond}, 0, [&](const std::vector<Tensor>& in) {
      std::vector<Tensor> out;
      for (CompareOp op : {CompareOp::Gt, CompareOp::Lt, CompareOp::Ge, CompareOp::Le, CompareOp::Eq, CompareOp::Ne})
        out.push_back(compare(op, in[0], in[1]));
      out.push_back(where_forward(in[2], in[0], in[1]));
      auto [da, db] = where_backward(in[0], in[2], in[0].shape(), in[1].shape(), true, true);
      out.push_back(da), out.push_back(db);
      out.push_back(maximum_forward(in[0], in[1], false));
      auto [ma, mb] = maximum_backward(in[0], in[0], in[1], true, true, true);
      out.push_back(ma), out.push_back(mb);
      return out;
    });
    check_op("cat, stack", {t, t2}, 0, [&](const std::vector<Tensor>& in) {
      return std::vector<Tensor>{cat_forward({in[0], in[1]}, 1), stack_forward({in[0], in[1]}, 2)};
    });
    check_op("bmm", {random_tensor({3, 5, 7}, dt), random_tensor({3, 7, 4}, dt)}, tol * 10,
             [&](const std::vector<Tensor>& in) { return std::vector<Tensor>{bmm_forward(in[0], in[1])}; });
  }
}

int main() {
  set_num_threads(1);
  test_window_helpers();
  test_backward_runs();
  test_interp_helpers();
  test_pooling();
  test_resize();
  test_tensor_ops();
  if (cuda::device_count() > 0)
    check_ops_with_gpu();
  else
    std::printf("no GPU: skipped the op-level GPU checks\n");
  std::printf("%s\n", failures ? "FAILED" : "all passed");
  return failures != 0;
}
