// CPU normalisation kernels: batch norm over (N, C, S) (S = H*W, L or 1), the "rows of contiguous
// elements" kernel pair behind layer, group and instance norm, local response norm, and the Lp-sum /
// clamp helpers of nn.utils. Statistics accumulate in double, in a fixed order inside one thread, so
// results do not depend on the thread count. Means and variances use a shifted one-pass formula:
// sum(x - K) and sum((x - K)^2) with K = the first element, which keeps the cancellation small.
#include <algorithm>
#include <cmath>
#include <vector>

#include "pycnn/core/parallel.h"
#include "pycnn/ops/cpu/cpu_ops.h"
#include "pycnn/ops/cpu/simd/simd.h"  // defines: pointwise_kernels

namespace pycnn::cpu {

namespace {

// Batch norm's sums and affine passes over contiguous spans are the kernel set's (simd/pointwise_kernel.cpp):
// inner sums in T over blocks of 256, the block sums in double.
template <typename T>
inline void shifted_sums(const T* x, int64_t n, double k, double& s, double& ss) {
  pointwise_kernels<T>().shifted_sums(x, n, k, &s, &ss);
}
template <typename T>
inline void grad_sums(const T* g, const T* x, int64_t n, double k, double& s, double& sg) {
  pointwise_kernels<T>().grad_sums(g, x, n, k, &s, &sg);
}
template <typename T>
inline void affine(const T* x, T* y, int64_t n, T scale, T shift) {
  pointwise_kernels<T>().affine(x, y, n, scale, shift);
}

}  // namespace

// ---------------------------------------------------------------------------------------- batch norm

// x, y (N, C, S); w, b (C,) or null. Training: per-channel mean and biased variance of this batch, saved
// as save_mean / save_invstd, and the running stats (when not null) move by `momentum` towards the batch
// mean and the *unbiased* variance. Eval: normalises with run_mean / run_var (which must be given) and
// saves those as mean / invstd for the backward.
template <typename T>
void batch_norm_forward(const T* x, const T* w, const T* b, T* y, T* save_mean, T* save_invstd, T* run_mean, T* run_var,
                        int64_t N, int64_t C, int64_t S, bool training, double momentum, double eps) {
  const int64_t M = N * S;
  const int64_t CS = C * S;
  auto finish_channel = [=](int64_t c, double mean, double var) {
    const double invstd = 1.0 / std::sqrt(var + eps);
    save_mean[c] = static_cast<T>(mean);
    save_invstd[c] = static_cast<T>(invstd);
    if (training && run_mean) {
      const double unbiased = M > 1 ? var * M / (M - 1) : var;
      run_mean[c] = static_cast<T>((1 - momentum) * run_mean[c] + momentum * mean);
      run_var[c] = static_cast<T>((1 - momentum) * run_var[c] + momentum * unbiased);
    }
  };
  auto stats_of = [=](int64_t c, double& mean, double& var) {
    if (!training) {
      mean = run_mean[c];
      var = run_var[c];
      return;
    }
    const double k = x[c * S];
    double s = 0, ss = 0;
    for (int64_t n = 0; n < N; ++n) shifted_sums(x + n * CS + c * S, S, k, s, ss);
    const double m = s / M;
    mean = k + m;
    var = std::max(ss / M - m * m, 0.0);
  };

  if (S == 1) {
    // (N, C): channels are contiguous in a row, so work on blocks of channels and run along them.
    parallel_for(C, 64, [=](int64_t c0, int64_t c1) {
      const int64_t nc = c1 - c0;
      std::vector<double> mean(nc), var(nc), scale(nc), shift(nc);
      if (training) {
        std::vector<double> s(nc, 0.0), ss(nc, 0.0);
        const T* k = x + c0;
        for (int64_t n = 0; n < N; ++n) {
          const T* row = x + n * C + c0;
          for (int64_t j = 0; j < nc; ++j) {
            const double d = static_cast<double>(row[j]) - k[j];
            s[j] += d;
            ss[j] += d * d;
          }
        }
        for (int64_t j = 0; j < nc; ++j) {
          const double m = s[j] / M;
          mean[j] = k[j] + m;
          var[j] = std::max(ss[j] / M - m * m, 0.0);
        }
      } else {
        for (int64_t j = 0; j < nc; ++j) {
          mean[j] = run_mean[c0 + j];
          var[j] = run_var[c0 + j];
        }
      }
      for (int64_t j = 0; j < nc; ++j) {
        finish_channel(c0 + j, mean[j], var[j]);
        const double invstd = 1.0 / std::sqrt(var[j] + eps);
        scale[j] = invstd * (w ? static_cast<double>(w[c0 + j]) : 1.0);
        shift[j] = (b ? static_cast<double>(b[c0 + j]) : 0.0) - mean[j] * scale[j];
      }
      std::vector<T> sc(nc), sh(nc);
      for (int64_t j = 0; j < nc; ++j) {
        sc[j] = static_cast<T>(scale[j]);
        sh[j] = static_cast<T>(shift[j]);
      }
      const T* scp = sc.data();
      const T* shp = sh.data();
      for (int64_t n = 0; n < N; ++n) {
        const T* xr = x + n * C + c0;
        T* yr = y + n * C + c0;
#pragma omp simd
        for (int64_t j = 0; j < nc; ++j) yr[j] = xr[j] * scp[j] + shp[j];
      }
    });
    return;
  }

  // (N, C, S): one channel per task; its N planes are read for the stats and again, still in cache, to
  // write y (the two passes of a channel run back to back in one thread).
  parallel_for(C, 1, [=](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      double mean, var;
      stats_of(c, mean, var);
      finish_channel(c, mean, var);
      const double invstd = 1.0 / std::sqrt(var + eps);
      const double scale = invstd * (w ? static_cast<double>(w[c]) : 1.0);
      const T sc = static_cast<T>(scale);
      const T sh = static_cast<T>((b ? static_cast<double>(b[c]) : 0.0) - mean * scale);
      for (int64_t n = 0; n < N; ++n) affine(x + n * CS + c * S, y + n * CS + c * S, S, sc, sh);
    }
  });
}

// The standard batch norm backward, with xhat = (x - mean) * invstd and M = N * S:
//   dbias = sum(dout), dweight = sum(dout * xhat),
//   training: dx = w * invstd / M * (M * dout - dbias - xhat * dweight)   (mean and var depend on x)
//   eval:     dx = w * invstd * dout                                        (they are constants)
// dx / dw / db may be null (not wanted).
template <typename T>
void batch_norm_backward(const T* dout, const T* x, const T* w, const T* mean, const T* invstd, T* dx, T* dw, T* db,
                         int64_t N, int64_t C, int64_t S, bool training) {
  const int64_t M = N * S;
  const int64_t CS = C * S;
  if (S == 1) {
    parallel_for(C, 64, [=](int64_t c0, int64_t c1) {
      const int64_t nc = c1 - c0;
      std::vector<double> sdy(nc, 0.0), sdyx(nc, 0.0);
      for (int64_t n = 0; n < N; ++n) {
        const T* g = dout + n * C + c0;
        const T* xr = x + n * C + c0;
        for (int64_t j = 0; j < nc; ++j) {
          const double gd = g[j];
          sdy[j] += gd;
          sdyx[j] += gd * (static_cast<double>(xr[j]) - mean[c0 + j]);
        }
      }
      std::vector<T> a(nc), bb(nc), cc(nc);  // dx = a * dout + bb * x + cc
      for (int64_t j = 0; j < nc; ++j) {
        const int64_t c = c0 + j;
        const double is = invstd[c], dweight = sdyx[j] * is;
        if (dw) dw[c] = static_cast<T>(dweight);
        if (db) db[c] = static_cast<T>(sdy[j]);
        const double k = is * (w ? static_cast<double>(w[c]) : 1.0);
        if (training) {
          const double xs = dweight * is / M;  // coefficient of (x - mean)
          a[j] = static_cast<T>(k);
          bb[j] = static_cast<T>(-k * xs);
          cc[j] = static_cast<T>(k * (xs * mean[c] - sdy[j] / M));
        } else {
          a[j] = static_cast<T>(k);
          bb[j] = T(0);
          cc[j] = T(0);
        }
      }
      if (!dx) return;
      const T *ap = a.data(), *bp = bb.data(), *cp = cc.data();
      for (int64_t n = 0; n < N; ++n) {
        const T* g = dout + n * C + c0;
        const T* xr = x + n * C + c0;
        T* o = dx + n * C + c0;
#pragma omp simd
        for (int64_t j = 0; j < nc; ++j) o[j] = ap[j] * g[j] + bp[j] * xr[j] + cp[j];
      }
    });
    return;
  }
  parallel_for(C, 1, [=](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const double m = mean[c], is = invstd[c];
      double sdy = 0, sdyx = 0;
      for (int64_t n = 0; n < N; ++n) {
        grad_sums(dout + n * CS + c * S, x + n * CS + c * S, S, m, sdy, sdyx);
      }
      const double dweight = sdyx * is;
      if (dw) dw[c] = static_cast<T>(dweight);
      if (db) db[c] = static_cast<T>(sdy);
      if (!dx) continue;
      // dx = k * dout + kx * x + k0, all three folded per channel
      const double k = is * (w ? static_cast<double>(w[c]) : 1.0);
      const double xs = training ? dweight * is / M : 0.0;
      const T kk = static_cast<T>(k), kx = static_cast<T>(-k * xs);
      const T k0 = static_cast<T>(training ? k * (xs * m - sdy / M) : 0.0);
      for (int64_t n = 0; n < N; ++n) {
        const T* g = dout + n * CS + c * S;
        const T* xr = x + n * CS + c * S;
        T* o = dx + n * CS + c * S;
        pointwise_kernels<T>().affine2(g, xr, o, S, kk, kx, k0);
      }
    }
  });
}

// ------------------------------------------------------------------- rows: layer / group / instance norm

// x, y (R, D) with D = Cg * S; row r belongs to group g = r % G and holds channels g*Cg .. g*Cg+Cg-1,
// each S contiguous elements. The affine parameter of element (r, j, s) is w[g*Cg + j] (group and
// instance norm: S = H*W; layer norm: G = 1, Cg = D, S = 1, so each element has its own).
template <typename T>
void rownorm_forward(const T* x, const T* w, const T* b, T* y, T* mean, T* invstd, int64_t R, int64_t G, int64_t Cg,
                     int64_t S, double eps) {
  const int64_t D = Cg * S;
  parallel_for(R, std::max<int64_t>(1, 16384 / std::max<int64_t>(D, 1)), [=](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* xr = x + r * D;
      T* yr = y + r * D;
      const double k = xr[0];
      double s = 0, ss = 0;
      shifted_sums(xr, D, k, s, ss);
      const double m = s / D, mu = k + m;
      const double is = 1.0 / std::sqrt(std::max(ss / D - m * m, 0.0) + eps);
      mean[r] = static_cast<T>(mu);
      invstd[r] = static_cast<T>(is);
      const int64_t c0 = (r % G) * Cg;
      if (S == 1 && w) {
        const T* wp = w + c0;
        const T* bp = b ? b + c0 : nullptr;
        const T tm = static_cast<T>(mu), ti = static_cast<T>(is);
        if (bp) {
#pragma omp simd
          for (int64_t j = 0; j < D; ++j) yr[j] = (xr[j] - tm) * ti * wp[j] + bp[j];
        } else {
#pragma omp simd
          for (int64_t j = 0; j < D; ++j) yr[j] = (xr[j] - tm) * ti * wp[j];
        }
        continue;
      }
      for (int64_t j = 0; j < Cg; ++j) {
        const double scale = is * (w ? static_cast<double>(w[c0 + j]) : 1.0);
        const double shift = (b ? static_cast<double>(b[c0 + j]) : 0.0) - mu * scale;
        affine(xr + j * S, yr + j * S, S, static_cast<T>(scale), static_cast<T>(shift));
      }
    }
  });
}

// With xhat = (x - mean) * invstd and gw = dout * w over a row of D elements:
//   dx = invstd * (gw - mean(gw) - xhat * mean(gw * xhat));
//   dw[c] = sum over rows of its group and its S elements of dout * xhat, db[c] = sum of dout.
// dw / db are reduced in a second pass, parallel over the affine index, each summing rows in order.
template <typename T>
void rownorm_backward(const T* dout, const T* x, const T* w, const T* mean, const T* invstd, T* dx, T* dw, T* db,
                      int64_t R, int64_t G, int64_t Cg, int64_t S) {
  const int64_t D = Cg * S;
  if (dx) {
    parallel_for(R, std::max<int64_t>(1, 16384 / std::max<int64_t>(D, 1)), [=](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const T* g = dout + r * D;
        const T* xr = x + r * D;
        T* o = dx + r * D;
        const double mu = mean[r], is = invstd[r];
        const int64_t c0 = (r % G) * Cg;
        const bool per_element = S == 1 && w;  // layer norm: one weight per element
        double sg = 0, sgx = 0;                // sum(gw), sum(gw * (x - mean))
        if (per_element) {
          const T* wp = w + c0;
#pragma omp simd reduction(+ : sg, sgx)
          for (int64_t j = 0; j < D; ++j) {
            const double gw = static_cast<double>(g[j]) * static_cast<double>(wp[j]);
            sg += gw;
            sgx += gw * (static_cast<double>(xr[j]) - mu);
          }
        } else {
          for (int64_t j = 0; j < Cg; ++j) {
            const double wj = w ? static_cast<double>(w[c0 + j]) : 1.0;
            const T* gj = g + j * S;
            const T* xj = xr + j * S;
            double a = 0, bsum = 0;
#pragma omp simd reduction(+ : a, bsum)
            for (int64_t s = 0; s < S; ++s) {
              a += static_cast<double>(gj[s]);
              bsum += static_cast<double>(gj[s]) * (static_cast<double>(xj[s]) - mu);
            }
            sg += wj * a;
            sgx += wj * bsum;
          }
        }
        // dx = is * gw - is/D * sg - (x - mu) * is^3/D * sgx
        const double is3 = is * is * is;
        const T kx = static_cast<T>(-is3 * sgx / D);
        const T k0 = static_cast<T>(-is * sg / D + mu * is3 * sgx / D);
        if (per_element) {
          const T* wp = w + c0;
          const T ti = static_cast<T>(is);
#pragma omp simd
          for (int64_t i = 0; i < D; ++i) o[i] = ti * wp[i] * g[i] + kx * xr[i] + k0;
          continue;
        }
        for (int64_t j = 0; j < Cg; ++j) {
          const T* gj = g + j * S;
          const T* xj = xr + j * S;
          T* oj = o + j * S;
          const T aw = static_cast<T>(is * (w ? static_cast<double>(w[c0 + j]) : 1.0));
#pragma omp simd
          for (int64_t s = 0; s < S; ++s) oj[s] = aw * gj[s] + kx * xj[s] + k0;
        }
      }
    });
  }
  if (!dw && !db) return;
  const int64_t N = R / G;
  parallel_for(G * Cg, std::max<int64_t>(1, 4096 / std::max<int64_t>(N * S, 1)), [=](int64_t a0, int64_t a1) {
    const int64_t na = a1 - a0;
    std::vector<double> sw(na, 0.0), sb(na, 0.0);
    for (int64_t n = 0; n < N; ++n) {
      for (int64_t a = a0; a < a1; ++a) {
        const int64_t g = a / Cg, j = a % Cg, r = n * G + g;
        const T* gj = dout + r * D + j * S;
        const T* xj = x + r * D + j * S;
        const double mu = mean[r], is = invstd[r];
        double s1 = 0, s2 = 0;
#pragma omp simd reduction(+ : s1, s2)
        for (int64_t s = 0; s < S; ++s) {
          s1 += static_cast<double>(gj[s]);
          s2 += static_cast<double>(gj[s]) * (static_cast<double>(xj[s]) - mu) * is;
        }
        sb[a - a0] += s1;
        sw[a - a0] += s2;
      }
    }
    for (int64_t a = a0; a < a1; ++a) {
      if (dw) dw[a] = static_cast<T>(sw[a - a0]);
      if (db) db[a] = static_cast<T>(sb[a - a0]);
    }
  });
}

// -------------------------------------------------------------------------- local response norm

// x (N, C, S). div_c = k + alpha/size * sum_{c' = c - size/2 .. c + (size-1)/2} x_c'^2 (zero outside
// [0, C)), y = x * div^-beta. Work is split over (n, block of 256 positions of S).
namespace {
constexpr int64_t kLrnBlock = 256;

template <typename T>
void lrn_div(const T* x, double* div, int64_t C, int64_t S, int64_t s0, int64_t ns, int64_t size, double alpha,
             double k) {
  const int64_t lo = size / 2, hi = (size - 1) / 2;
  const double a = alpha / size;
  for (int64_t c = 0; c < C; ++c) {
    double* d = div + c * kLrnBlock;
    for (int64_t s = 0; s < ns; ++s) d[s] = 0;
    const int64_t j0 = std::max<int64_t>(0, c - lo), j1 = std::min<int64_t>(C - 1, c + hi);
    for (int64_t j = j0; j <= j1; ++j) {
      const T* xj = x + j * S + s0;
      for (int64_t s = 0; s < ns; ++s) d[s] += static_cast<double>(xj[s]) * xj[s];
    }
    for (int64_t s = 0; s < ns; ++s) d[s] = k + a * d[s];
  }
}
}  // namespace

template <typename T>
void lrn_forward(const T* x, T* y, int64_t N, int64_t C, int64_t S, int64_t size, double alpha, double beta, double k) {
  const int64_t nb = (S + kLrnBlock - 1) / kLrnBlock;
  parallel_for(N * nb, 1, [=](int64_t t0, int64_t t1) {
    std::vector<double> div(C * kLrnBlock);
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t n = t / nb, s0 = (t % nb) * kLrnBlock, ns = std::min(kLrnBlock, S - s0);
      const T* xn = x + n * C * S;
      lrn_div(xn, div.data(), C, S, s0, ns, size, alpha, k);
      for (int64_t c = 0; c < C; ++c)
        for (int64_t s = 0; s < ns; ++s)
          y[n * C * S + c * S + s0 + s] = static_cast<T>(xn[c * S + s0 + s] * std::pow(div[c * kLrnBlock + s], -beta));
    }
  });
}

// dx_c = dout_c * div_c^-beta - 2 alpha beta / size * x_c * sum_{j : c in window(j)} dout_j x_j div_j^(-beta-1),
// where c is in window(j) for j = c - (size-1)/2 .. c + size/2.
template <typename T>
void lrn_backward(const T* dout, const T* x, T* dx, int64_t N, int64_t C, int64_t S, int64_t size, double alpha,
                  double beta, double k) {
  const int64_t nb = (S + kLrnBlock - 1) / kLrnBlock;
  const int64_t lo = (size - 1) / 2, hi = size / 2;
  const double coef = 2.0 * alpha * beta / size;
  parallel_for(N * nb, 1, [=](int64_t t0, int64_t t1) {
    std::vector<double> div(C * kLrnBlock), t(C * kLrnBlock);
    for (int64_t task = t0; task < t1; ++task) {
      const int64_t n = task / nb, s0 = (task % nb) * kLrnBlock, ns = std::min(kLrnBlock, S - s0);
      const T* xn = x + n * C * S;
      const T* gn = dout + n * C * S;
      lrn_div(xn, div.data(), C, S, s0, ns, size, alpha, k);
      for (int64_t c = 0; c < C; ++c)
        for (int64_t s = 0; s < ns; ++s) {
          const double d = div[c * kLrnBlock + s];
          const double p = std::pow(d, -beta);
          t[c * kLrnBlock + s] = static_cast<double>(gn[c * S + s0 + s]) * xn[c * S + s0 + s] * p / d;
          div[c * kLrnBlock + s] = p;  // now div^-beta
        }
      for (int64_t c = 0; c < C; ++c) {
        const int64_t j0 = std::max<int64_t>(0, c - lo), j1 = std::min<int64_t>(C - 1, c + hi);
        for (int64_t s = 0; s < ns; ++s) {
          double acc = 0;
          for (int64_t j = j0; j <= j1; ++j) acc += t[j * kLrnBlock + s];
          const int64_t i = c * S + s0 + s;
          dx[n * C * S + i] = static_cast<T>(gn[i] * div[c * kLrnBlock + s] - coef * xn[i] * acc);
        }
      }
    }
  });
}

// ---------------------------------------------------------------------------- nn.utils helpers

// sum |x|^p (p = inf: max |x|) over n contiguous values, in a fixed order: fixed blocks summed in order.
template <typename T>
double lp_sum(const T* x, int64_t n, double p) {
  const int64_t kChunk = 1 << 14;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<double> part(std::max<int64_t>(chunks, 1), 0.0);
  double* pp = part.data();
  parallel_for(chunks, 1, [=](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const T* xs = x + c * kChunk;
      const int64_t m = std::min(kChunk, n - c * kChunk);
      double acc = 0;
      if (std::isinf(p)) {
        for (int64_t i = 0; i < m; ++i) {
          const double a = std::fabs(static_cast<double>(xs[i]));
          acc = (a > acc || std::isnan(a)) ? a : acc;
        }
      } else if (p == 1) {
#pragma omp simd reduction(+ : acc)
        for (int64_t i = 0; i < m; ++i) acc += std::fabs(static_cast<double>(xs[i]));
      } else if (p == 2) {
#pragma omp simd reduction(+ : acc)
        for (int64_t i = 0; i < m; ++i) acc += static_cast<double>(xs[i]) * xs[i];
      } else {
        for (int64_t i = 0; i < m; ++i) acc += std::pow(std::fabs(static_cast<double>(xs[i])), p);
      }
      pp[c] = acc;
    }
  });
  double total = 0;
  for (int64_t c = 0; c < chunks; ++c) total = std::isinf(p) ? std::max(total, part[c]) : total + part[c];
  return total;
}

// dx = dout * p * |x|^(p-1) * sign(x), sign(0) = 0.
template <typename T>
void lp_sum_into(const T* x, int64_t n, double p, double* out) {
  out[0] = lp_sum(x, n, p);
}

template <typename T>
void lp_sum_backward(const T* dout_p, const T* x, T* dx, int64_t n, double p) {
  const T dout = dout_p[0];
  parallel_for(n, 1 << 16, [=](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const double v = x[i];
      const double sg = (v > 0) - (v < 0);
      const double mag = p == 1 ? 1.0 : (p == 2 ? 2.0 * std::fabs(v) : p * std::pow(std::fabs(v), p - 1));
      dx[i] = static_cast<T>(dout * sg * mag);
    }
  });
}

template <typename T>
void clamp_inplace(T* x, int64_t n, T lo, T hi) {
  parallel_for(n, 1 << 16, [=](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const T v = x[i];
      x[i] = v < lo ? lo : (v > hi ? hi : v);
    }
  });
}

#define PYCNN_NORM_INSTANTIATE(T)                                                                                      \
  template void batch_norm_forward<T>(const T*, const T*, const T*, T*, T*, T*, T*, T*, int64_t, int64_t, int64_t,     \
                                      bool, double, double);                                                           \
  template void batch_norm_backward<T>(const T*, const T*, const T*, const T*, const T*, T*, T*, T*, int64_t, int64_t, \
                                       int64_t, bool);                                                                 \
  template void rownorm_forward<T>(const T*, const T*, const T*, T*, T*, T*, int64_t, int64_t, int64_t, int64_t,       \
                                   double);                                                                            \
  template void rownorm_backward<T>(const T*, const T*, const T*, const T*, const T*, T*, T*, T*, int64_t, int64_t,    \
                                    int64_t, int64_t);                                                                 \
  template void lrn_forward<T>(const T*, T*, int64_t, int64_t, int64_t, int64_t, double, double, double);              \
  template void lrn_backward<T>(const T*, const T*, T*, int64_t, int64_t, int64_t, int64_t, double, double, double);   \
  template double lp_sum<T>(const T*, int64_t, double);                                                                \
  template void lp_sum_into<T>(const T*, int64_t, double, double*);                                                    \
  template void lp_sum_backward<T>(const T*, const T*, T*, int64_t, double);                                           \
  template void clamp_inplace<T>(T*, int64_t, T, T);

PYCNN_NORM_INSTANTIATE(float)
PYCNN_NORM_INSTANTIATE(double)

}  // namespace pycnn::cpu
