// C++ test of the CUDA backend (core/cuda_runtime.h, ops/cuda/cuda_ops.h). Runs in every build: without CUDA (the stub)
// or without a GPU it checks that the backend says "0 devices" and that using a device throws a std::runtime_error
// instead of crashing; with a GPU it compares cuda::gemm against cpu::gemm_naive over dtypes, transposes, odd sizes,
// padded leading dimensions and beta, and runs matmul on cuda tensors.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "expect.h"             // defines: EXPECT, failures
#include "ops/cpu/cpu_ops.h"    // defines: cpu::gemm_naive (the reference)
#include "ops/cuda/cuda_ops.h"  // defines: cuda::device_count, device_malloc, copy_bytes, gemm
#include "ops/ops.h"            // defines: matmul

using namespace pycnn;

// True when f() throws a std::runtime_error (a pycnn::ValueError would be the wrong kind of error).
template <typename F>
static bool throws_runtime_error(F&& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    std::printf("  (expected error: %s)\n", e.what());
    return true;
  } catch (...) {
    return false;
  }
  return false;
}

static const Device kCuda0{DeviceType::CUDA, 0};

static void check_without_gpu() {
  EXPECT(cuda::device_count() == 0);
  EXPECT(cuda::device_count() == 0);  // asking twice must not trip over a sticky error
  EXPECT(throws_runtime_error([] { cuda::device_malloc(256, 0); }));
  EXPECT(throws_runtime_error([] { Tensor::empty({4, 4}, DType::Float32, kCuda0); }));
  EXPECT(throws_runtime_error([] { Tensor::zeros({3}, DType::Float32).to(kCuda0); }));
  EXPECT(throws_runtime_error([] { cuda::device_name(0); }));
}

// Copies host data to a fresh device buffer, freed by the caller through DeviceBuffer's destructor.
template <typename T>
struct DeviceBuffer {
  T* ptr = nullptr;
  size_t count = 0;
  explicit DeviceBuffer(const std::vector<T>& host) : count(host.size()) {
    ptr = static_cast<T*>(cuda::device_malloc(count * sizeof(T), 0));
    cuda::copy_bytes(ptr, kCuda0, host.data(), Device{}, count * sizeof(T));
  }
  ~DeviceBuffer() { cuda::device_free(ptr, 0); }
  std::vector<T> to_host() const {
    std::vector<T> host(count);
    cuda::copy_bytes(host.data(), Device{}, ptr, kCuda0, count * sizeof(T));
    return host;
  }
};

template <typename T>
static void check_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T beta, int64_t pad) {
  std::mt19937 rng(static_cast<unsigned>(M * 131 + N * 17 + K));
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  // Padded leading dimensions check that the kernel honours lda/ldb rather than assuming packed rows.
  const int64_t lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N;
  std::vector<T> a(std::max<int64_t>((ta ? K : M) * lda, 1)), b(std::max<int64_t>((tb ? N : K) * ldb, 1));
  std::vector<T> c(std::max<int64_t>(M * N, 1));
  for (auto& v : a) v = T(uniform(rng));
  for (auto& v : b) v = T(uniform(rng));
  // With beta == 0 the old C must be ignored, NaN included.
  for (auto& v : c) v = beta == T(0) ? T(NAN) : T(uniform(rng));
  const T alpha = T(1.25);

  std::vector<T> expected = c;
  cpu::gemm_naive<T>(ta, tb, M, N, K, alpha, a.data(), lda, b.data(), ldb, beta, expected.data(), ldc);
  DeviceBuffer<T> da(a), db(b), dc(c);
  cuda::gemm<T>(ta, tb, M, N, K, alpha, da.ptr, lda, db.ptr, ldb, beta, dc.ptr, ldc);
  std::vector<T> got = dc.to_host();

  // Both sum over k in the same order; the GPU contracts to FMA, so allow rounding growing with K.
  const double tol = (sizeof(T) == 4 ? 1e-5 : 1e-13) * (K + 1);
  int64_t bad = 0;
  double worst = 0;
  for (int64_t i = 0; i < M * N; ++i) {
    const double err = std::fabs(double(got[i]) - double(expected[i]));
    if (err <= tol * (1 + std::fabs(double(expected[i])))) continue;  // also false for NaN
    ++bad;
    worst = std::isnan(err) ? INFINITY : std::max(worst, err);
  }
  if (bad) {
    std::printf("FAILED gemm<%s> ta=%d tb=%d M=%lld N=%lld K=%lld beta=%g pad=%lld: %lld wrong, max error %g\n",
                sizeof(T) == 4 ? "float" : "double", ta, tb, (long long)M, (long long)N, (long long)K, double(beta),
                (long long)pad, (long long)bad, worst);
    ++failures;
  }
}

static void check_with_gpu() {
  std::printf("cuda:0 is %s (%d device(s))\n", cuda::device_name(0), cuda::device_count());
  EXPECT(throws_runtime_error([] { cuda::device_malloc(256, cuda::device_count()); }));

  // Odd sizes straddle the 64x64 (float) and 32x32 (double) tiles and the 16-deep k slices.
  const int64_t sizes[][3] = {{1, 1, 1},      {7, 13, 5}, {64, 64, 64}, {65, 63, 129},
                              {130, 257, 33}, {3, 5, 0},  {200, 1, 17}, {1, 300, 17}};
  for (const auto& s : sizes)
    for (int ta = 0; ta < 2; ++ta)
      for (int tb = 0; tb < 2; ++tb)
        for (int64_t pad : {0, 3}) {
          check_gemm<float>(ta, tb, s[0], s[1], s[2], 0.0f, pad);
          check_gemm<float>(ta, tb, s[0], s[1], s[2], 0.5f, pad);
          check_gemm<double>(ta, tb, s[0], s[1], s[2], 0.0, pad);
          check_gemm<double>(ta, tb, s[0], s[1], s[2], -2.0, pad);
        }

  // Through the op layer: tensors on cuda:0, matmul dispatched to cuda::gemm, copied back.
  Tensor a = Tensor::empty({37, 19}, DType::Float32), b = Tensor::empty({19, 41}, DType::Float32);
  for (int64_t i = 0; i < a.numel(); ++i) a.data<float>()[i] = float(i % 7) - 3.0f;
  for (int64_t i = 0; i < b.numel(); ++i) b.data<float>()[i] = float(i % 5) * 0.5f;
  Tensor expected = matmul(a, b);
  Tensor got = matmul(a.to(kCuda0), b.to(kCuda0));
  EXPECT(got.device() == kCuda0);
  Tensor host = got.to(Device{});
  double worst = 0;
  for (int64_t i = 0; i < host.numel(); ++i)
    worst = std::max(worst, double(std::fabs(host.data<float>()[i] - expected.data<float>()[i])));
  EXPECT(worst < 1e-4);
}

int main() {
  std::printf("CUDA backend built: %s, devices: %d\n", cuda::is_built() ? "yes" : "no", cuda::device_count());
  if (!cuda::is_built()) EXPECT(cuda::device_count() == 0);
  if (cuda::device_count() == 0) {
    check_without_gpu();
    std::printf("no GPU: skipped GPU checks\n");
  } else {
    check_with_gpu();
  }
  std::printf("%d failed\n", failures);
  return failures ? 1 : 0;
}
