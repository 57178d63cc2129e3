// C++ test of the CUDA reductions, normalisations and losses (ops/cuda/reduce_bodies.h) on the CPU: every
// element body runs over its whole launch range and every segment body through a serial emulation of the
// block reduction (also split into chunks, as reduce.cuh does for long segments), on awkward shapes, with
// outputs pre-filled with NaN so that an unwritten element shows. Each result is compared with the cpu::
// kernel it stands in for. With a GPU it also runs the ops through their entry points on cuda:0 against the
// CPU, and checks that two runs give the same bits.
#include <cmath>
#include <cstdio>
#include <cstring>  // defines: std::memcmp
#include <limits>
#include <random>
#include <vector>

#include "expect.h"                   // defines: EXPECT, failures
#include "pycnn/core/cpu_features.h"  // defines: force_simd_level
#include "pycnn/core/cuda_runtime.h"  // defines: cuda::device_count
#include "pycnn/core/tensor.h"
#include "pycnn/ops/cpu/cpu_ops.h"         // the references
#include "pycnn/ops/cuda/reduce_bodies.h"  // the bodies under test
#include "pycnn/ops/ops.h"

using namespace pycnn;
using namespace pycnn::cuda;

static std::mt19937 rng(1234);
static const double kNaN = std::numeric_limits<double>::quiet_NaN();
static const double kInf = std::numeric_limits<double>::infinity();

// Values in [lo, hi), never all zero.
template <typename T>
static std::vector<T> random_vec(int64_t n, double lo = -2, double hi = 2) {
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(d(rng));
  if (n > 0) v[0] = static_cast<T>(lo + 0.75 * (hi - lo));
  return v;
}

template <typename T>
static std::vector<T> nans(int64_t n) {
  return std::vector<T>(n, std::numeric_limits<T>::quiet_NaN());
}

template <typename T>
static T* ptr(std::vector<T>& v, bool use = true) {
  return use ? v.data() : nullptr;
}

// Both NaN, or close: |a - b| <= tol * (1 + |b|).
template <typename T>
static bool close(const std::vector<T>& a, const std::vector<T>& b, double tol) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const double x = a[i], y = b[i];
    if ((std::isnan(x) && std::isnan(y)) || x == y) continue;
    if (!(std::fabs(x - y) <= tol * (1 + std::fabs(y)))) {
      std::printf("  mismatch at %zu: %.17g vs %.17g\n", i, x, y);
      return false;
    }
  }
  return true;
}

template <typename T>
static double tol_for() {
  return std::is_same_v<T, float> ? 1e-5 : 1e-12;
}

template <typename Body>
static void run_each(int64_t n, const Body& body) {
  for (int64_t i = 0; i < n; ++i) body(i);
}

// One block per segment, emulated: the terms in order, then finish.
template <typename Seg>
static void run_segments(int64_t segments, const Seg& seg) {
  for (int64_t g = 0; g < segments; ++g) {
    double acc[Seg::K] = {};
    for (int64_t j = 0; j < seg.len; ++j) seg.term(g, j, acc);
    seg.finish(g, acc);
  }
}

// The two-pass chunked form of reduce.cuh with `chunks` chunks per segment.
template <typename Seg>
static void run_chunked(int64_t segments, const Seg& seg, int64_t chunks) {
  std::vector<double> partial(segments * chunks * Seg::K, kNaN);
  const int64_t chunk_len = (seg.len + chunks - 1) / chunks;
  run_segments(segments * chunks, ChunkPartials<Seg>{seg, chunks, chunk_len, partial.data()});
  run_segments(segments, ChunkTotals<Seg>{seg, chunks, partial.data()});
}

// ------------------------------------------------------------------------------------------- reduce

template <typename T>
static void test_sum_argmax() {
  const int64_t shapes[][3] = {{1, 1, 1}, {3, 7, 1}, {2, 5, 9}, {1, 1000, 3}, {4, 0, 3}, {5, 33, 17}, {1, 4097, 1}};
  for (auto& s : shapes) {
    const int64_t A = s[0], R = s[1], B = s[2];
    std::vector<T> x = random_vec<T>(A * R * B), ref = nans<T>(A * B);
    cpu::sum_arb<T>(x.data(), ref.data(), A, R, B);
    std::vector<T> a = nans<T>(A * B), b = nans<T>(A * B), c = nans<T>(A * B);
    run_segments(A * B, SumSegments<T>{x.data(), a.data(), R, B});
    run_chunked(A * B, SumSegments<T>{x.data(), b.data(), R, B}, 3);
    run_each(A * B, SumColumns<T>{x.data(), c.data(), R, B});
    EXPECT(close(a, ref, tol_for<T>()));
    EXPECT(close(b, ref, tol_for<T>()));
    EXPECT(close(c, ref, tol_for<T>()));
    if (R == 0) continue;
    // ties and NaNs: the first maximum, the first NaN
    for (int64_t i = 0; i < A * R * B; i += 5) x[i] = T(1.5);
    if (A * R * B > 10) x[A * R * B / 2] = std::numeric_limits<T>::quiet_NaN();
    std::vector<int64_t> iref(A * B, -1), ii(A * B, -1);
    cpu::argmax_arb<T>(x.data(), iref.data(), A, R, B);
    run_each(A * B, ArgmaxColumns<T>{x.data(), ii.data(), R, B});
    EXPECT(ii == iref);
  }
}

// ---------------------------------------------------------------------------------------- batch norm

template <typename T>
static void test_batch_norm() {
  const int64_t shapes[][3] = {{2, 3, 5}, {7, 4, 1}, {1, 2, 9}, {3, 5, 1}, {4, 3, 33}};
  for (auto& s : shapes)
    for (int opts = 0; opts < 8; ++opts) {
      const int64_t N = s[0], C = s[1], S = s[2], n = N * C * S;
      const bool affine = opts & 1, running = opts & 2, training = (opts & 4) || !running;
      std::vector<T> x = random_vec<T>(n, 1, 3), w = random_vec<T>(C), b = random_vec<T>(C);
      std::vector<T> rm = random_vec<T>(C), rv = random_vec<T>(C, 0.5, 2), rm2 = rm, rv2 = rv;
      std::vector<T> y = nans<T>(n), mean = nans<T>(C), invstd = nans<T>(C);
      std::vector<T> y2 = nans<T>(n), mean2 = nans<T>(C), invstd2 = nans<T>(C);
      const double momentum = 0.1, eps = 1e-5;
      cpu::batch_norm_forward<T>(x.data(), ptr(w, affine), ptr(b, affine), y.data(), mean.data(), invstd.data(),
                                 ptr(rm, running), ptr(rv, running), N, C, S, training, momentum, eps);
      if (training) {
        BatchNormStats<T> st{x.data(), mean2.data(), invstd2.data(), ptr(rm2, running), ptr(rv2, running), N * S, C, S,
                             momentum, eps};
        (opts & 1) ? run_chunked(C, st, 2) : run_segments(C, st);
      } else {
        run_each(C, BatchNormEvalStats<T>{rm2.data(), rv2.data(), mean2.data(), invstd2.data(), eps});
      }
      run_each(n, BatchNormApply<T>{x.data(), ptr(w, affine), ptr(b, affine), mean2.data(), invstd2.data(), y2.data(),
                                    C, S});
      EXPECT(close(mean2, mean, tol_for<T>()));
      EXPECT(close(invstd2, invstd, tol_for<T>()));
      EXPECT(close(rm2, rm, tol_for<T>()));
      EXPECT(close(rv2, rv, tol_for<T>()));
      EXPECT(close(y2, y, tol_for<T>()));

      // backward, with each output wanted or not
      std::vector<T> g = random_vec<T>(n);
      for (int want = 0; want < 8; ++want) {
        const bool wdx = want & 1, wdw = want & 2, wdb = want & 4;
        std::vector<T> dx = nans<T>(n), dw = nans<T>(C), db = nans<T>(C);
        std::vector<T> dx2 = nans<T>(n), dw2 = nans<T>(C), db2 = nans<T>(C);
        cpu::batch_norm_backward<T>(g.data(), x.data(), ptr(w, affine), mean.data(), invstd.data(), ptr(dx, wdx),
                                    ptr(dw, wdw), ptr(db, wdb), N, C, S, training);
        std::vector<double> sums(2 * C, kNaN);
        run_segments(C, BatchNormGradSums<T>{g.data(), x.data(), mean.data(), invstd.data(), ptr(dw2, wdw),
                                             ptr(db2, wdb), sums.data(), N * S, C, S});
        if (wdx)
          run_each(n, BatchNormGradInput<T>{g.data(), x.data(), ptr(w, affine), mean.data(), invstd.data(), sums.data(),
                                            dx2.data(), C, S, N * S, training});
        EXPECT(close(dx2, dx, 10 * tol_for<T>()));
        EXPECT(close(dw2, dw, tol_for<T>()));
        EXPECT(close(db2, db, tol_for<T>()));
      }
    }
}

// ------------------------------------------------------------------------------------ rows (layer/group)

template <typename T>
static void test_rownorm() {
  // R, G, Cg, S: layer norm (G = 1, S = 1), group norm, instance norm (Cg = 1)
  const int64_t forms[][4] = {{3, 1, 7, 1}, {6, 2, 3, 5}, {8, 4, 1, 9}, {1, 1, 1, 1}, {4, 2, 2, 1}, {2, 1, 300, 1}};
  for (auto& f : forms)
    for (int opts = 0; opts < 3; ++opts) {
      const int64_t R = f[0], G = f[1], Cg = f[2], S = f[3], D = Cg * S, n = R * D, P = G * Cg;
      const bool has_w = opts >= 1, has_b = opts >= 2;
      std::vector<T> x = random_vec<T>(n, 1, 3), w = random_vec<T>(P), b = random_vec<T>(P);
      std::vector<T> y = nans<T>(n), mean = nans<T>(R), invstd = nans<T>(R);
      std::vector<T> y2 = nans<T>(n), mean2 = nans<T>(R), invstd2 = nans<T>(R);
      cpu::rownorm_forward<T>(x.data(), ptr(w, has_w), ptr(b, has_b), y.data(), mean.data(), invstd.data(), R, G, Cg, S,
                              1e-5);
      run_segments(R, RowStats<T>{x.data(), mean2.data(), invstd2.data(), D, 1e-5});
      run_each(n,
               RowApply<T>{x.data(), ptr(w, has_w), ptr(b, has_b), mean2.data(), invstd2.data(), y2.data(), G, Cg, S});
      EXPECT(close(mean2, mean, tol_for<T>()));
      EXPECT(close(invstd2, invstd, tol_for<T>()));
      EXPECT(close(y2, y, tol_for<T>()));

      std::vector<T> g = random_vec<T>(n);
      std::vector<T> dx = nans<T>(n), dw(P, T(0)), db(P, T(0));
      std::vector<T> dx2 = nans<T>(n), dw2 = nans<T>(P), db2 = nans<T>(P);
      cpu::rownorm_backward<T>(g.data(), x.data(), ptr(w, has_w), mean.data(), invstd.data(), dx.data(), dw.data(),
                               db.data(), R, G, Cg, S);
      std::vector<double> sums(2 * R, kNaN);
      run_segments(R, RowGradSums<T>{g.data(), x.data(), ptr(w, has_w), mean.data(), sums.data(), D, G, Cg, S});
      run_each(n, RowGradInput<T>{g.data(), x.data(), ptr(w, has_w), mean.data(), invstd.data(), sums.data(),
                                  dx2.data(), G, Cg, S});
      run_chunked(P,
                  RowParamGrads<T>{g.data(), x.data(), mean.data(), invstd.data(), dw2.data(), db2.data(), (R / G) * S,
                                   G, Cg, S},
                  2);
      EXPECT(close(dx2, dx, 10 * tol_for<T>()));
      EXPECT(close(dw2, dw, tol_for<T>()));
      EXPECT(close(db2, db, tol_for<T>()));
    }
}

// ------------------------------------------------------------------------------ LRN and nn.utils helpers

template <typename T>
static void test_lrn_and_helpers() {
  const int64_t shapes[][3] = {{2, 7, 5}, {1, 1, 3}, {3, 4, 1}};
  for (auto& s : shapes)
    for (int64_t size : {1, 2, 3, 5, 8}) {
      const int64_t N = s[0], C = s[1], S = s[2], n = N * C * S;
      const double alpha = 1e-2, beta = 0.75, k = 1.5;
      std::vector<T> x = random_vec<T>(n), g = random_vec<T>(n);
      std::vector<T> y = nans<T>(n), y2 = nans<T>(n), dx = nans<T>(n), dx2 = nans<T>(n);
      cpu::lrn_forward<T>(x.data(), y.data(), N, C, S, size, alpha, beta, k);
      cpu::lrn_backward<T>(g.data(), x.data(), dx.data(), N, C, S, size, alpha, beta, k);
      const LrnWindow win{C, S, size, alpha, k};
      run_each(n, LrnForward<T>{x.data(), y2.data(), win, beta});
      run_each(n, LrnBackward<T>{g.data(), x.data(), dx2.data(), win, beta});
      EXPECT(close(y2, y, tol_for<T>()));
      EXPECT(close(dx2, dx, tol_for<T>()));
    }

  for (int64_t n : {0, 1, 17, 40000})
    for (double p : {1.0, 2.0, 3.5, kInf}) {
      std::vector<T> x = random_vec<T>(n);
      double ref = kNaN, got = kNaN, got2 = kNaN;
      cpu::lp_sum_into<T>(x.data(), n, p, &ref);
      if (std::isinf(p)) {
        run_segments(1, LpSum<T, MaxCombine>{x.data(), &got, n, p});
        run_chunked(1, LpSum<T, MaxCombine>{x.data(), &got2, n, p}, 3);
      } else {
        run_segments(1, LpSum<T, SumCombine>{x.data(), &got, n, p});
        run_chunked(1, LpSum<T, SumCombine>{x.data(), &got2, n, p}, 3);
      }
      EXPECT(close(std::vector<double>{got, got2}, std::vector<double>{ref, ref}, 1e-12));
      if (std::isinf(p)) continue;
      if (n > 3) x[2] = 0;
      std::vector<T> dout{T(0.7)}, dx = nans<T>(n), dx2 = nans<T>(n);
      cpu::lp_sum_backward<T>(dout.data(), x.data(), dx.data(), n, p);
      run_each(n, LpSumBackward<T>{dout.data(), x.data(), dx2.data(), p});
      EXPECT(close(dx2, dx, tol_for<T>()));
    }
  // lp_sum with a NaN: the max and the sum are NaN
  std::vector<T> xn = random_vec<T>(50);
  xn[20] = std::numeric_limits<T>::quiet_NaN();
  double mx = 0, sm = 0;
  run_segments(1, LpSum<T, MaxCombine>{xn.data(), &mx, 50, kInf});
  run_segments(1, LpSum<T, SumCombine>{xn.data(), &sm, 50, 2.0});
  EXPECT(std::isnan(mx) && std::isnan(sm));

  std::vector<T> x = random_vec<T>(101), x2 = x;
  cpu::clamp_inplace<T>(x.data(), 101, T(-0.5), T(0.25));
  run_each(101, ClampInplace<T>{x2.data(), T(-0.5), T(0.25)});
  EXPECT(x2 == x);
}

// -------------------------------------------------------------------------------------------- losses

template <typename T>
static void test_class_losses() {
  const int64_t shapes[][3] = {{4, 5, 1}, {3, 7, 6}, {1, 1, 1}, {2, 3, 0}};
  for (auto& s : shapes)
    for (int opts = 0; opts < 8; ++opts) {
      const int64_t N = s[0], C = s[1], S = s[2], n = N * S;
      const bool weighted = opts & 1;
      const double smoothing = (opts & 2) ? 0.1 : 0.0;
      const int64_t ignore = (opts & 4) ? 1 : -100;
      std::vector<T> logits = random_vec<T>(N * C * S), lp(N * C * S), w = random_vec<T>(C, 0.1, 2);
      // lp = log_softmax over C
      for (int64_t i = 0; i < n; ++i) {
        const int64_t off = (i / S) * C * S + i % S;
        double m = -INFINITY, z = 0;
        for (int64_t c = 0; c < C; ++c) m = std::max(m, static_cast<double>(logits[off + c * S]));
        for (int64_t c = 0; c < C; ++c) z += std::exp(logits[off + c * S] - m);
        for (int64_t c = 0; c < C; ++c) lp[off + c * S] = static_cast<T>(logits[off + c * S] - m - std::log(z));
      }
      std::vector<int64_t> target(n);
      for (int64_t i = 0; i < n; ++i) target[i] = static_cast<int64_t>(rng() % C);
      if (n > 2) target[n / 2] = ignore;  // -100 is never a class: ignored; 1 may be one
      std::vector<T> loss = nans<T>(n), denom = nans<T>(n), loss2 = nans<T>(n), denom2 = nans<T>(n);
      cpu::class_loss_forward<T>(lp.data(), target.data(), ptr(w, weighted), loss.data(), denom.data(), N, C, S, ignore,
                                 smoothing);
      run_each(n, ClassLossForward<T>{lp.data(), target.data(), ptr(w, weighted), loss2.data(), denom2.data(), C, S,
                                      ignore, smoothing});
      EXPECT(close(loss2, loss, tol_for<T>()));
      EXPECT(close(denom2, denom, tol_for<T>()));
      // the fused cross-entropy forward: log_softmax of the logits and the loss, one pass
      std::vector<T> lp3 = nans<T>(N * C * S), loss3 = nans<T>(n), denom3 = nans<T>(n);
      std::vector<T> lp4 = nans<T>(N * C * S), loss4 = nans<T>(n), denom4 = nans<T>(n);
      cpu::cross_entropy_fused_forward<T>(logits.data(), target.data(), ptr(w, weighted), lp3.data(), loss3.data(),
                                          denom3.data(), N, C, S, ignore, smoothing);
      const ClassLossForward<T> inner{lp4.data(), target.data(), ptr(w, weighted), loss4.data(), denom4.data(), C,
                                      S,          ignore,        smoothing};
      run_each(n, CrossEntropyForward<T>{logits.data(), lp4.data(), inner});
      EXPECT(close(lp4, lp3, tol_for<T>()));
      EXPECT(close(loss4, loss3, tol_for<T>()));
      EXPECT(close(denom4, denom3, tol_for<T>()));

      // the reductions into a device scalar: sum, mean by a count, mean by the summed weights
      for (int mode = 0; mode < 3; ++mode) {
        const T* dp = mode == 2 ? denom.data() : nullptr;
        const double divisor = mode == 0 ? 1.0 : static_cast<double>(n);
        T ref = T(kNaN), got = T(kNaN), got2 = T(kNaN);
        cpu::loss_reduce<T>(loss.data(), dp, n, divisor, &ref);
        run_segments(1, LossReduce<T>{loss.data(), dp, &got, n, divisor});
        run_chunked(1, LossReduce<T>{loss.data(), dp, &got2, n, divisor}, 4);
        EXPECT(close(std::vector<T>{got, got2}, std::vector<T>{ref, ref}, tol_for<T>()));
      }
      std::vector<T> dout{T(1.3)};
      T scale_ref = T(kNaN), scale = T(kNaN);
      cpu::class_grad_scale<T>(dout.data(), target.data(), ptr(w, weighted), n, C, ignore, &scale_ref);
      run_segments(1, ClassGradScale<T>{dout.data(), target.data(), ptr(w, weighted), &scale, n, C, ignore});
      EXPECT(close(std::vector<T>{scale}, std::vector<T>{scale_ref}, tol_for<T>()));

      std::vector<T> g = random_vec<T>(n);
      for (int variant = 0; variant < 4; ++variant) {
        const bool fused = variant & 1;
        const int64_t gstride = (variant & 2) ? 1 : 0;
        const T gscale = gstride ? T(1) : T(0.25);
        std::vector<T> dx = nans<T>(N * C * S), dx2 = nans<T>(N * C * S);
        cpu::class_loss_backward<T>(g.data(), gstride, gscale, lp.data(), target.data(), ptr(w, weighted), dx.data(), N,
                                    C, S, ignore, smoothing, fused);
        run_each(n, ClassLossBackward<T>{g.data(), gstride, gscale, lp.data(), target.data(), ptr(w, weighted),
                                         dx2.data(), C, S, ignore, smoothing, fused});
        EXPECT(close(dx2, dx, tol_for<T>()));
      }

      // probability targets
      std::vector<T> pt = random_vec<T>(N * C * S, 0, 1);
      std::vector<T> pl = nans<T>(n), pl2 = nans<T>(n);
      cpu::prob_loss_forward<T>(lp.data(), pt.data(), ptr(w, weighted), pl.data(), N, C, S, smoothing);
      run_each(n, ProbLossForward<T>{lp.data(), pt.data(), ptr(w, weighted), pl2.data(), C, S, smoothing});
      EXPECT(close(pl2, pl, tol_for<T>()));
      for (int want_dt = 0; want_dt < 2; ++want_dt) {
        std::vector<T> dx = nans<T>(N * C * S), dx2 = dx, dt = dx, dt2 = dx;
        cpu::prob_loss_backward<T>(g.data(), 1, T(1), lp.data(), pt.data(), ptr(w, weighted), dx.data(),
                                   ptr(dt, want_dt), N, C, S, smoothing);
        run_each(n, ProbLossBackward<T>{g.data(), 1, T(1), lp.data(), pt.data(), ptr(w, weighted), dx2.data(),
                                        ptr(dt2, want_dt), C, S, smoothing});
        EXPECT(close(dx2, dx, tol_for<T>()));
        EXPECT(close(dt2, dt, tol_for<T>()));
      }
    }
  // an out-of-range target gives NaN on the GPU path instead of reading outside the row
  std::vector<T> lp = random_vec<T>(6), loss = nans<T>(2), denom = nans<T>(2), dx(6, T(0));
  std::vector<int64_t> bad{1, 7};
  run_each(2, ClassLossForward<T>{lp.data(), bad.data(), nullptr, loss.data(), denom.data(), 3, 1, -100, 0.0});
  EXPECT(!std::isnan(loss[0]) && std::isnan(loss[1]));
  std::vector<T> g{T(1)};
  run_each(2,
           ClassLossBackward<T>{g.data(), 0, T(1), lp.data(), bad.data(), nullptr, dx.data(), 3, 1, -100, 0.0, true});
  EXPECT(!std::isnan(dx[0]) && std::isnan(dx[3]) && std::isnan(dx[5]));
}

template <typename T>
static void test_pointwise_and_margin() {
  const int64_t n = 97;
  for (PointwiseLoss kind : {PointwiseLoss::MSE, PointwiseLoss::L1, PointwiseLoss::SmoothL1, PointwiseLoss::Huber,
                             PointwiseLoss::BCE, PointwiseLoss::BCEWithLogits, PointwiseLoss::KLDiv,
                             PointwiseLoss::KLDivLogTarget, PointwiseLoss::MarginRanking})
    for (int opts = 0; opts < 4; ++opts) {
      PointwiseLossArgs args;
      args.kind = kind;
      args.param = (opts & 1) ? 0.5 : 1.0;
      const bool weights = opts & 2;
      std::vector<T> x = random_vec<T>(n), y = random_vec<T>(n), w = random_vec<T>(n, 0.1, 2),
                     pw = random_vec<T>(n, 0.1, 3);
      if (kind == PointwiseLoss::BCE) x = random_vec<T>(n, 0.01, 0.99), y = random_vec<T>(n, 0, 1);
      if (kind == PointwiseLoss::KLDiv) {
        y = random_vec<T>(n, 0, 1);
        y[3] = 0, y[5] = T(-0.5);  // xlogy's zero, and the NaN of a negative target
      }
      if (kind == PointwiseLoss::MarginRanking)
        for (int64_t i = 0; i < n; ++i) y[i] = i % 2 ? T(1) : T(-1);
      x[7] = y[7];  // a kink
      std::vector<T> loss = nans<T>(n), loss2 = nans<T>(n);
      cpu::pointwise_loss_forward<T>(args, x.data(), y.data(), ptr(w, weights), ptr(pw, weights), loss.data(), n);
      const T param = static_cast<T>(args.param);
      loss_math::with_pointwise_loss(kind, [&](auto math) {
        run_each(n, PointwiseLossForward<T, decltype(math)>{param, x.data(), y.data(), ptr(w, weights),
                                                            ptr(pw, weights), loss2.data()});
      });
      EXPECT(close(loss2, loss, tol_for<T>()));
      std::vector<T> g = random_vec<T>(n);
      for (int want = 1; want < 4; ++want) {
        std::vector<T> dx = nans<T>(n), dy = nans<T>(n), dx2 = nans<T>(n), dy2 = nans<T>(n);
        const int64_t gstride = want == 3 ? 0 : 1;
        cpu::pointwise_loss_backward<T>(args, g.data(), gstride, T(0.5), x.data(), y.data(), ptr(w, weights),
                                        ptr(pw, weights), ptr(dx, want & 1), ptr(dy, want & 2), n);
        loss_math::with_pointwise_loss(kind, [&](auto math) {
          run_each(n, PointwiseLossBackward<T, decltype(math)>{param, g.data(), gstride, T(0.5), x.data(), y.data(),
                                                               ptr(w, weights), ptr(pw, weights), ptr(dx2, want & 1),
                                                               ptr(dy2, want & 2)});
        });
        EXPECT(close(dx2, dx, tol_for<T>()));
        EXPECT(close(dy2, dy, tol_for<T>()));
      }
    }

  for (int64_t p : {1, 2})
    for (int weighted = 0; weighted < 2; ++weighted) {
      const int64_t N = 9, C = 6;
      std::vector<T> x = random_vec<T>(N * C), w = random_vec<T>(C, 0.1, 2), g = random_vec<T>(N);
      std::vector<int64_t> target(N);
      for (int64_t i = 0; i < N; ++i) target[i] = static_cast<int64_t>(rng() % C);
      std::vector<T> loss = nans<T>(N), loss2 = nans<T>(N), dx = nans<T>(N * C), dx2 = nans<T>(N * C);
      cpu::multi_margin_forward<T>(x.data(), target.data(), ptr(w, weighted), loss.data(), N, C, p, 1.0);
      run_each(N, MultiMarginForward<T>{x.data(), target.data(), ptr(w, weighted), loss2.data(), C, p, 1.0});
      cpu::multi_margin_backward<T>(g.data(), 1, T(0.5), x.data(), target.data(), ptr(w, weighted), dx.data(), N, C, p,
                                    1.0);
      run_each(N, MultiMarginBackward<T>{g.data(), 1, T(0.5), x.data(), target.data(), ptr(w, weighted), dx2.data(), C,
                                         p, 1.0});
      EXPECT(close(loss2, loss, tol_for<T>()));
      EXPECT(close(dx2, dx, tol_for<T>()));
    }
}

// ------------------------------------------------------------------------------ on a GPU, when there is one

static Tensor random_tensor(const Shape& shape, DType dtype, double lo = -2, double hi = 2) {
  std::vector<double> v = random_vec<double>(shape_numel(shape), lo, hi);
  Tensor t = Tensor::empty(shape, DType::Float64);
  std::copy(v.begin(), v.end(), t.data<double>());
  return t.to(dtype);
}

static bool tensors_close(const Tensor& a, const Tensor& b, double tol) {
  if (a.shape() != b.shape()) return false;
  Tensor x = a.to(Device{}).to(DType::Float64).contiguous(), y = b.to(Device{}).to(DType::Float64).contiguous();
  return close(std::vector<double>(x.data<double>(), x.data<double>() + x.numel()),
               std::vector<double>(y.data<double>(), y.data<double>() + y.numel()), tol);
}

// Bitwise equal, through float64 (which holds every float32 and small int64 value exactly).
static bool tensors_identical(const Tensor& a, const Tensor& b) {
  Tensor x = a.to(Device{}).to(DType::Float64).contiguous(), y = b.to(Device{}).to(DType::Float64).contiguous();
  return x.shape() == y.shape() && std::memcmp(x.data<double>(), y.data<double>(), x.numel() * sizeof(double)) == 0;
}

static void test_on_gpu() {
  const Device gpu{DeviceType::CUDA, 0};
  for (DType dt : {DType::Float32, DType::Float64}) {
    const double tol = dt == DType::Float32 ? 1e-5 : 1e-11;
    // sums: every path of sum_arb (B == 1, few outputs, wide B, chunked)
    for (const Shape& shape : std::vector<Shape>{{7, 5, 3, 2}, {4, 3, 1000}, {2, 300000}, {64, 33, 9}, {3000, 7}}) {
      Tensor x = random_tensor(shape, dt), xg = x.to(gpu);
      for (const std::vector<int64_t>& dims : std::vector<std::vector<int64_t>>{{}, {0}, {1}, {0, 1}})
        EXPECT(tensors_close(sum(xg, dims, false), sum(x, dims, false), tol));
      EXPECT(tensors_identical(sum(xg, {}, false), sum(xg, {}, false)));
      Tensor am = argmax(xg, 1), amc = argmax(x, 1);
      EXPECT(tensors_identical(am, amc));
    }
    // no outputs but long rows: no segment to chunk (chunks_for divided by the 0 segments)
    for (const Shape& shape : std::vector<Shape>{{0, 40000}, {0, 40000, 3}}) {
      Tensor x = Tensor::zeros(shape, dt), xg = x.to(gpu);
      EXPECT(tensors_close(sum(xg, {1}, false), sum(x, {1}, false), 0));
    }
    // batch norm, training and eval, and its backward
    for (const Shape& shape : std::vector<Shape>{{8, 3, 5, 7}, {16, 10}, {2, 4, 70000}}) {
      const int64_t C = shape[1];
      Tensor x = random_tensor(shape, dt, 1, 3), w = random_tensor({C}, dt), b = random_tensor({C}, dt);
      Tensor rm = random_tensor({C}, dt), rv = random_tensor({C}, dt, 0.5, 2);
      Tensor rmg = rm.to(gpu), rvg = rv.to(gpu);
      for (bool training : {true, false}) {
        auto [y, m, is] = batch_norm_forward(x, w, b, rm, rv, training, 0.1, 1e-5);
        auto [yg, mg, isg] = batch_norm_forward(x.to(gpu), w.to(gpu), b.to(gpu), rmg, rvg, training, 0.1, 1e-5);
        EXPECT(tensors_close(yg, y, 10 * tol) && tensors_close(mg, m, tol) && tensors_close(isg, is, tol));
        EXPECT(tensors_close(rmg, rm, tol) && tensors_close(rvg, rv, tol));
        Tensor g = random_tensor(shape, dt);
        auto [dx, dw, db] = batch_norm_backward(g, x, w, m, is, training, true, true, true);
        auto [dxg, dwg, dbg] =
            batch_norm_backward(g.to(gpu), x.to(gpu), w.to(gpu), mg, isg, training, true, true, true);
        EXPECT(tensors_close(dxg, dx, 100 * tol) && tensors_close(dwg, dw, 10 * tol) && tensors_close(dbg, db, tol));
        auto [dxg2, dwg2, dbg2] =
            batch_norm_backward(g.to(gpu), x.to(gpu), w.to(gpu), mg, isg, training, true, true, true);
        EXPECT(tensors_identical(dxg, dxg2) && tensors_identical(dwg, dwg2));
      }
    }
    // layer and group norm
    {
      Tensor x = random_tensor({6, 4, 5, 3}, dt), w = random_tensor({4}, dt), b = random_tensor({4}, dt);
      auto [y, m, is] = group_norm_forward(x, 2, w, b, 1e-5);
      auto [yg, mg, isg] = group_norm_forward(x.to(gpu), 2, w.to(gpu), b.to(gpu), 1e-5);
      EXPECT(tensors_close(yg, y, 10 * tol));
      Tensor g = random_tensor(x.shape(), dt);
      auto [dx, dw, db] = group_norm_backward(g, x, 2, w, m, is, true, true, true);
      auto [dxg, dwg, dbg] = group_norm_backward(g.to(gpu), x.to(gpu), 2, w.to(gpu), mg, isg, true, true, true);
      EXPECT(tensors_close(dxg, dx, 100 * tol) && tensors_close(dwg, dw, 10 * tol) && tensors_close(dbg, db, tol));
      Tensor lw = random_tensor({5, 3}, dt), lb = random_tensor({5, 3}, dt);
      auto [ly, lm, lis] = layer_norm_forward(x, 2, lw, lb, 1e-5);
      auto [lyg, lmg, lisg] = layer_norm_forward(x.to(gpu), 2, lw.to(gpu), lb.to(gpu), 1e-5);
      EXPECT(tensors_close(lyg, ly, 10 * tol));
      auto [ldx, ldw, ldb] = layer_norm_backward(g, x, 2, lw, lm, lis, true, true, true);
      auto [ldxg, ldwg, ldbg] = layer_norm_backward(g.to(gpu), x.to(gpu), 2, lw.to(gpu), lmg, lisg, true, true, true);
      EXPECT(tensors_close(ldxg, ldx, 100 * tol) && tensors_close(ldwg, ldw, 10 * tol));
    }
    // LRN, lp_sum, clamp_
    {
      Tensor x = random_tensor({2, 6, 4, 4}, dt), g = random_tensor({2, 6, 4, 4}, dt);
      EXPECT(tensors_close(local_response_norm_forward(x.to(gpu), 3, 1e-2, 0.75, 1.0),
                           local_response_norm_forward(x, 3, 1e-2, 0.75, 1.0), tol));
      EXPECT(tensors_close(local_response_norm_backward(g.to(gpu), x.to(gpu), 3, 1e-2, 0.75, 1.0),
                           local_response_norm_backward(g, x, 3, 1e-2, 0.75, 1.0), tol));
      Tensor big = random_tensor({300001}, dt);
      for (double p : {1.0, 2.0, 3.0, kInf})
        EXPECT(tensors_close(lp_sum_tensor(big.to(gpu), p), lp_sum_tensor(big, p), 1e-12));
      Tensor one = random_tensor({}, dt);
      EXPECT(tensors_close(lp_sum_backward(one.to(gpu), x.to(gpu), 3.0), lp_sum_backward(one, x, 3.0), tol));
      Tensor xg = x.to(gpu), xc = x.contiguous().to(Device{});
      clamp_(xg, -0.5, 0.5);
      clamp_(xc, -0.5, 0.5);
      EXPECT(tensors_identical(xg, xc));
    }
    // cross-entropy with weights, ignore_index, smoothing; each reduction; and the loss stays on the device
    for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
      Tensor logits = random_tensor({64, 10, 3}, dt), w = random_tensor({10}, dt, 0.1, 2);
      Tensor target = Tensor::empty({64, 3}, DType::Int64);
      for (int64_t i = 0; i < target.numel(); ++i) target.data<int64_t>()[i] = i % 13 == 0 ? -100 : (i * 7) % 10;
      ClassLossArgs args;
      args.reduction = r;
      args.label_smoothing = 0.1;
      auto [loss, lp] = cross_entropy_forward(logits, target, w, args);
      Tensor lg = logits.to(gpu), tg = target.to(gpu), wg = w.to(gpu);
      Tensor dout = r == Reduction::None ? random_tensor(loss.shape(), dt) : Tensor::full({}, 1.0, dt);
      Tensor doutg = dout.to(gpu);
      const int64_t before = cuda::host_transfer_count();
      auto [lossg, lpg] = cross_entropy_forward(lg, tg, wg, args);
      auto [dxg, dtg] = cross_entropy_backward(doutg, lpg, tg, wg, args, false);
      EXPECT(cuda::host_transfer_count() == before);  // the loss and its gradient stay on the device
      auto [dx, dt_] = cross_entropy_backward(dout, lp, target, w, args, false);
      EXPECT(tensors_close(lossg, loss, tol) && tensors_close(dxg, dx, tol));
      PointwiseLossArgs pargs;
      pargs.kind = PointwiseLoss::SmoothL1;
      pargs.reduction = r;
      pargs.param = 0.5;
      Tensor a = random_tensor({33, 7}, dt), t = random_tensor({33, 7}, dt);
      EXPECT(tensors_close(pointwise_loss_forward(a.to(gpu), t.to(gpu), Tensor(), Tensor(), pargs),
                           pointwise_loss_forward(a, t, Tensor(), Tensor(), pargs), tol));
    }
  }
}

int main() {
  // The bodies run here as plain host code, without FMA, as the baseline kernel set does; the wider sets
  // contract x * scale + shift into one FMA (as nvcc does on the GPU): a rounding difference, not a
  // semantic one, that the float tolerances here are too tight for when invstd is large.
  force_simd_level(SimdLevel::Baseline);
  test_sum_argmax<float>();
  test_sum_argmax<double>();
  test_batch_norm<float>();
  test_batch_norm<double>();
  test_rownorm<float>();
  test_rownorm<double>();
  test_lrn_and_helpers<float>();
  test_lrn_and_helpers<double>();
  test_class_losses<float>();
  test_class_losses<double>();
  test_pointwise_and_margin<float>();
  test_pointwise_and_margin<double>();
  if (cuda::device_count() > 0) {
    test_on_gpu();
    std::printf("GPU checks ran\n");
  } else {
    std::printf("no GPU: CPU checks only\n");
  }
  std::printf("%s\n", failures ? "FAILED" : "ok");
  return failures != 0;
}
