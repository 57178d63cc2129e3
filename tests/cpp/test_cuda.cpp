// C++ test of the CUDA backend (core/cuda_runtime.h, ops/cuda/cuda_ops.h). Runs in every build: without CUDA (the stub)
// or without a GPU it checks that the backend says "0 devices" and that using a device throws a std::runtime_error
// instead of crashing; with a GPU it compares cuda::gemm / gemm_bias against cpu::gemm_naive / gemm_bias over dtypes,
// transposes, odd and large sizes, padded leading dimensions, misaligned pointers, beta, bias and ReLU, in float and
// TF32; checks that a GEMM is deterministic and the bias-gradient column sum matches the CPU's bits; and runs matmul
// and linear forward/backward on cuda tensors.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>  // defines: std::getenv
#include <random>
#include <string>
#include <tuple>    // defines: structured bindings of linear_backward
#include <utility>  // defines: std::pair
#include <vector>

#include "expect.h"  // defines: EXPECT, failures
#include "pycnn/core/tensor.h"
#include "pycnn/ops/cpu/cpu_ops.h"    // defines: cpu::gemm_naive, gemm_bias, sum_rows (the references)
#include "pycnn/ops/cuda/cuda_ops.h"  // defines: cuda::device_count, device_malloc, copy_bytes, gemm, gemm_bias, sum_rows
#include "pycnn/ops/ops.h"            // defines: matmul, linear_forward, linear_backward

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
  // The TF32 switch reads false by default, and in a build without CUDA whatever was set.
  EXPECT(!cuda::allow_tf32());
  cuda::set_allow_tf32(true);
  EXPECT(cuda::allow_tf32() == cuda::is_built());
  cuda::set_allow_tf32(false);
  EXPECT(!cuda::allow_tf32());
}

// Copies host data to a fresh device buffer (plus `offset` elements in front, to misalign it), freed by the
// caller through DeviceBuffer's destructor.
template <typename T>
struct DeviceBuffer {
  T* base = nullptr;
  T* ptr = nullptr;
  size_t count = 0;
  explicit DeviceBuffer(const std::vector<T>& host, size_t offset = 0) : count(host.size()) {
    base = static_cast<T*>(cuda::device_malloc((count + offset) * sizeof(T), 0));
    ptr = base + offset;
    cuda::copy_bytes(ptr, kCuda0, host.data(), Device{}, count * sizeof(T));
  }
  ~DeviceBuffer() { cuda::device_free(base, 0); }
  std::vector<T> to_host() const {
    std::vector<T> host(count);
    cuda::copy_bytes(host.data(), Device{}, ptr, kCuda0, count * sizeof(T));
    return host;
  }
};

struct GemmCase {
  bool ta, tb;
  int64_t M, N, K;
  double beta;
  int64_t pad;    // extra columns in every leading dimension
  size_t offset;  // elements by which every device pointer is shifted (0: 16-byte aligned; 1: not)
  int bias;       // 0: none, 1: per column, 2: per row
  bool relu;
};

// Worst |got - want| / bound over C, where bound is the error a correct kernel may make at each element;
// NaN (or a written padding column) counts as infinitely wrong.
template <typename T>
static double worst_error(const std::vector<T>& got, const std::vector<T>& want, const std::vector<double>& bound,
                          int64_t N, int64_t ldc) {
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (int64_t(i) % ldc >= N) {
      if (!(got[i] == want[i])) return INFINITY;
      continue;
    }
    const double err = std::fabs(double(got[i]) - double(want[i])) / bound[i];
    if (!(err <= worst)) worst = std::isnan(err) ? INFINITY : err;
  }
  return worst;
}

// cuda::gemm (or gemm_bias) against cpu::gemm_naive (or cpu::gemm_bias). With tf32, float inputs are rounded
// to a 10-bit mantissa: the error bound is then 2e-3 * sum_k |a_ik||b_kj| instead of K rounding steps.
template <typename T>
static void check_gemm(const GemmCase& cs, bool tf32 = false) {
  const int64_t M = cs.M, N = cs.N, K = cs.K;
  std::mt19937 rng(static_cast<unsigned>(M * 131 + N * 17 + K + cs.pad));
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  const int64_t lda = (cs.ta ? M : K) + cs.pad, ldb = (cs.tb ? K : N) + cs.pad, ldc = N + cs.pad;
  std::vector<T> a(std::max<int64_t>((cs.ta ? K : M) * lda, 1)), b(std::max<int64_t>((cs.tb ? N : K) * ldb, 1));
  std::vector<T> c(std::max<int64_t>(M * ldc, 1)), bias(std::max(M, N));
  for (auto& v : a) v = T(uniform(rng));
  for (auto& v : b) v = T(uniform(rng));
  for (auto& v : bias) v = T(uniform(rng));
  // With beta == 0 the old C must be ignored, NaN included; padding columns must be left alone.
  for (size_t i = 0; i < c.size(); ++i) c[i] = int64_t(i) % ldc >= N ? T(-7) : cs.beta == 0 ? T(NAN) : T(uniform(rng));
  const T alpha = T(1.25), beta = T(cs.beta);

  std::vector<T> want = c;
  if (cs.bias || cs.relu)
    cpu::gemm_bias<T>(cs.ta, cs.tb, M, N, K, alpha, a.data(), lda, b.data(), ldb, beta, want.data(), ldc,
                      cs.bias ? bias.data() : nullptr, cs.bias == 2, cs.relu);
  else
    cpu::gemm_naive<T>(cs.ta, cs.tb, M, N, K, alpha, a.data(), lda, b.data(), ldb, beta, want.data(), ldc);
  DeviceBuffer<T> da(a, cs.offset), db(b, cs.offset), dc(c, cs.offset), dbias(bias, cs.offset);
  cuda::gemm_bias<T>(cs.ta, cs.tb, M, N, K, alpha, da.ptr, lda, db.ptr, ldb, beta, dc.ptr, ldc,
                     cs.bias ? dbias.ptr : nullptr, cs.bias == 2, cs.relu);
  std::vector<T> got = dc.to_host();

  std::vector<double> bound(c.size(), 1.0);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double abs_sum = 0;  // sum_k |a_ik b_kj|
      for (int64_t k = 0; k < K && tf32; ++k)
        abs_sum += std::fabs(double(cs.ta ? a[k * lda + i] : a[i * lda + k])) *
                   std::fabs(double(cs.tb ? b[j * ldb + k] : b[k * ldb + j]));
      // Both sum over k in the same order; the GPU contracts to FMA, so allow rounding growing with K.
      const double eps_bound = (sizeof(T) == 4 ? 1e-5 : 1e-13) * (K + 1) * (1 + std::fabs(double(want[i * ldc + j])));
      bound[i * ldc + j] = tf32 ? 2e-3 * 1.25 * abs_sum + eps_bound : eps_bound;
    }
  const double worst = worst_error(got, want, bound, N, ldc);
  if (!(worst <= 1.0)) {
    std::printf(
        "FAILED gemm<%s>%s ta=%d tb=%d M=%lld N=%lld K=%lld beta=%g pad=%lld offset=%zu bias=%d relu=%d: "
        "error %g x the bound\n",
        sizeof(T) == 4 ? "float" : "double", tf32 ? " tf32" : "", cs.ta, cs.tb, (long long)M, (long long)N,
        (long long)K, cs.beta, (long long)cs.pad, cs.offset, cs.bias, cs.relu, worst);
    ++failures;
  }
}

// The same GEMM twice gives the same bits (no atomics, no order that depends on scheduling).
static void check_deterministic() {
  const int64_t M = 1031, N = 1029, K = 517;
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> a(M * K), b(K * N), c(M * N, 0.0f);
  for (auto& v : a) v = uniform(rng);
  for (auto& v : b) v = uniform(rng);
  DeviceBuffer<float> da(a), db(b), dc1(c), dc2(c);
  cuda::gemm<float>(false, false, M, N, K, 1.0f, da.ptr, K, db.ptr, N, 0.0f, dc1.ptr, N);
  cuda::gemm<float>(false, false, M, N, K, 1.0f, da.ptr, K, db.ptr, N, 0.0f, dc2.ptr, N);
  EXPECT(dc1.to_host() == dc2.to_host());
}

// The bias gradient's column sums, bit for bit against cpu::sum_rows.
template <typename T>
static void check_sum_rows(int64_t rows, int64_t cols) {
  std::mt19937 rng(static_cast<unsigned>(rows * 7 + cols));
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  std::vector<T> x(std::max<int64_t>(rows * cols, 1)), want(cols, T(NAN));
  for (auto& v : x) v = T(uniform(rng));
  cpu::sum_rows<T>(x.data(), want.data(), rows, cols);
  DeviceBuffer<T> dx(x), dout(std::vector<T>(cols, T(NAN)));
  cuda::sum_rows<T>(dx.ptr, dout.ptr, rows, cols);
  EXPECT(dout.to_host() == want);
}

// max |a - b| over two tensors of one shape, on the host.
static double max_diff(const Tensor& a, const Tensor& b) {
  const Tensor x = a.to(Device{}).to(DType::Float64), y = b.to(Device{}).to(DType::Float64);
  double worst = 0;
  for (int64_t i = 0; i < x.numel(); ++i) worst = std::max(worst, std::fabs(x.data<double>()[i] - y.data<double>()[i]));
  return worst;
}

static Tensor random_tensor(const Shape& shape, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  Tensor t = Tensor::empty(shape, DType::Float32);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = uniform(rng);
  return t;
}

static void check_ops() {
  // matmul dispatched to cuda::gemm.
  Tensor a = random_tensor({37, 19}, 1), b = random_tensor({19, 41}, 2);
  Tensor got = matmul(a.to(kCuda0), b.to(kCuda0));
  EXPECT(got.device() == kCuda0);
  EXPECT(max_diff(got, matmul(a, b)) < 1e-4);

  // linear forward (one fused launch) and backward, against the CPU.
  Tensor x = random_tensor({67, 33}, 3), w = random_tensor({45, 33}, 4), bias = random_tensor({45}, 5);
  Tensor dout = random_tensor({67, 45}, 6);
  EXPECT(max_diff(linear_forward(x.to(kCuda0), w.to(kCuda0), bias.to(kCuda0)), linear_forward(x, w, bias)) < 1e-4);
  EXPECT(max_diff(linear_forward(x.to(kCuda0), w.to(kCuda0), Tensor()), linear_forward(x, w, Tensor())) < 1e-4);
  auto [dx, dw, db] = linear_backward(dout.to(kCuda0), x.to(kCuda0), w.to(kCuda0), true, true);
  auto [dx_cpu, dw_cpu, db_cpu] = linear_backward(dout, x, w, true, true);
  EXPECT(dx.device() == kCuda0 && dw.device() == kCuda0 && db.device() == kCuda0);
  EXPECT(max_diff(dx, dx_cpu) < 1e-4 && max_diff(dw, dw_cpu) < 1e-4);
  EXPECT(max_diff(db, db_cpu) == 0);  // the same sums in the same order
}

// The runtime: with PYCNN_CUDA_POISON=1 (tools/gpu_check.sh) every new device block holds all-one bytes (-1 as
// int64); a copy between two devices gives the source's values (its source stream then waits for the copy).
static void check_runtime() {
  const char* poison = std::getenv("PYCNN_CUDA_POISON");
  if (poison && *poison && std::string(poison) != "0") {
    const Tensor fresh = Tensor::empty({1000}, DType::Int64, kCuda0).to(Device{});
    int64_t unpoisoned = 0;
    for (int64_t i = 0; i < fresh.numel(); ++i) unpoisoned += fresh.data<int64_t>()[i] != -1;
    EXPECT(unpoisoned == 0);
  }
  if (cuda::device_count() >= 2) {
    const Tensor a = random_tensor({300, 7}, 7);
    Tensor on0 = a.to(kCuda0), on1 = on0.to(Device{DeviceType::CUDA, 1});
    fill_(on0, 0.0);  // queued on cuda:0's stream after the copy
    EXPECT(max_diff(on1, a) == 0);
  }
}

static void check_with_gpu() {
  std::printf("cuda:0 is %s (%d device(s))\n", cuda::device_name(0), cuda::device_count());
  EXPECT(throws_runtime_error([] { cuda::device_malloc(256, cuda::device_count()); }));
  EXPECT(!cuda::allow_tf32());  // off by default

  // Odd sizes straddle the 64x64 and 128x128 (float) tiles and the 8/16-deep k slices; 1600 x 1600 has enough
  // tiles for the 128x128 kernel; 5M x 1 has more row tiles than a grid's y dimension could hold.
  const int64_t sizes[][3] = {{1, 1, 1},    {7, 13, 5},   {64, 64, 64},  {65, 63, 129},    {130, 257, 33}, {3, 5, 0},
                              {200, 1, 17}, {1, 300, 17}, {129, 131, 9}, {1600, 1600, 19}, {5000000, 1, 2}};
  int n = 0;
  for (const auto& s : sizes)
    for (int ta = 0; ta < 2; ++ta)
      for (int tb = 0; tb < 2; ++tb)
        for (const auto& layout : {std::pair<int64_t, size_t>{0, 0}, {3, 0}, {0, 1}}) {
          const int e = n++;  // cycle through the epilogues
          const GemmCase cs{bool(ta), bool(tb), s[0], s[1], s[2], 0.0, layout.first, layout.second, e % 3, e % 4 == 3};
          check_gemm<float>(cs);
          check_gemm<double>(cs);
          GemmCase cs2 = cs;
          cs2.beta = e % 2 ? 0.5 : -2.0;
          check_gemm<float>(cs2);
          check_gemm<double>(cs2);
        }

  // TF32 (tensor cores from sm_80): float GEMMs within the TF32 bound; double unaffected.
  cuda::set_allow_tf32(true);
  EXPECT(cuda::allow_tf32());
  for (const auto& s : sizes)
    for (int ta = 0; ta < 2; ++ta)
      for (int tb = 0; tb < 2; ++tb) {
        check_gemm<float>({bool(ta), bool(tb), s[0], s[1], s[2], 0.5, ta ? 3 : 0, size_t(tb), 1, false}, true);
        check_gemm<double>({bool(ta), bool(tb), s[0], s[1], s[2], 0.0, 0, 0, 0, false});
      }
  cuda::set_allow_tf32(false);

  check_deterministic();
  for (const auto& s : {std::pair<int64_t, int64_t>{1, 1}, {0, 5}, {1000, 1}, {77, 300}, {4096, 10}}) {
    check_sum_rows<float>(s.first, s.second);
    check_sum_rows<double>(s.first, s.second);
  }
  check_ops();
  check_runtime();
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
