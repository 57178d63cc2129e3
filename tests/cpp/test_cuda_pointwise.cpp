// CPU test of the CUDA pointwise kernels' bodies (ops/cuda/pointwise_bodies.h) and of Philox4x32-10
// (ops/cuda/philox.h). Each body runs here for every index of its launch range, on awkward shapes with
// outputs pre-filled with NaN (an unwritten element shows), and is compared with the cpu:: kernel: unary ops,
// ReLU, PReLU (the weight gradient's per-thread partials added in order, as block_reduce would for any thread
// count), Maxout, softmax / log_softmax (block rows emulated with several thread counts), broadcast binary
// ops, the optimizer updates over multi-tensor groups, and the dropout mask. Needs no GPU; with one, it also
// runs the ops on cuda:0 against the CPU (test_on_gpu).
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

#include "expect.h"  // defines: EXPECT, failures
#include "pycnn/core/tensor.h"
#include "pycnn/ops/cpu/cpu_ops.h"            // defines: the reference kernels
#include "pycnn/ops/cuda/cuda_ops.h"          // defines: OptimTensors, device_count
#include "pycnn/ops/cuda/philox.h"            // defines: philox4x32_10
#include "pycnn/ops/cuda/pointwise_bodies.h"  // defines: the bodies under test
#include "pycnn/ops/ops.h"

using namespace pycnn;
using namespace pycnn::cuda;

static std::mt19937 rng(12345);

// Values in [-lo, hi] that are never 0, with a few specials mixed in when `specials`.
template <typename T>
static std::vector<T> random_values(int64_t n, double scale = 3.0, bool specials = false) {
  std::uniform_real_distribution<double> u(-scale, scale);
  std::vector<T> v(n);
  for (auto& x : v) {
    double d = u(rng);
    x = T(d == 0 ? 0.5 : d);
  }
  if (specials && n > 4) {
    v[1] = T(NAN);
    v[2] = std::numeric_limits<T>::infinity();
    v[3] = -std::numeric_limits<T>::infinity();
  }
  return v;
}

template <typename T>
static std::vector<T> nan_filled(int64_t n) {
  return std::vector<T>(n, T(NAN));
}

template <typename Body>
static void run_all(int64_t n, const Body& body) {
  for (int64_t i = 0; i < n; ++i) body(i);
}

// Equal within rel (NaN matches NaN, infinities match exactly).
template <typename T>
static bool close(T a, T b, double rel) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::abs(double(a) - double(b)) <= rel * (1.0 + std::abs(double(b)));
}

template <typename T>
static bool all_close(const std::vector<T>& got, const std::vector<T>& want, double rel, const char* what) {
  if (got.size() != want.size()) return false;
  for (size_t i = 0; i < got.size(); ++i)
    if (!close(got[i], want[i], rel)) {
      std::printf("  %s: element %zu got %.17g want %.17g\n", what, i, double(got[i]), double(want[i]));
      return false;
    }
  return true;
}

template <typename T>
static double tol() {
  return sizeof(T) == 8 ? 1e-13 : 2e-6;
}

// ---- Philox4x32-10 against Random123's tests/kat_vectors (ctr[4] key[2] -> out[4]) ----
static void test_philox() {
  struct Kat {
    uint32_t ctr[4], key[2], out[4];
  };
  const Kat kats[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
       {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
       {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (const Kat& k : kats) {
    const Philox4x32 r = philox4x32_10(Philox4x32{{k.ctr[0], k.ctr[1], k.ctr[2], k.ctr[3]}}, k.key[0], k.key[1]);
    for (int j = 0; j < 4; ++j) EXPECT(r.v[j] == k.out[j]);
  }
}

// ---- unary family ----
template <typename Op, typename T>
static void check_unary_op(UnaryOp op, double alpha, double beta) {
  const int64_t n = 1031;
  std::vector<T> x = random_values<T>(n, 4.0, true);
  x[5] = T(-3), x[6] = T(3), x[7] = T(6), x[8] = T(0);  // kinks
  std::vector<T> want = nan_filled<T>(n), got = nan_filled<T>(n);
  cpu::unary_forward<T>(op, x.data(), want.data(), n, alpha, beta);
  unary::Variants<Op>::forward(alpha, beta, [&](auto form, double a, double b) {
    run_all(n, UnaryForward<decltype(form), T>{x.data(), got.data(), T(a), T(b)});
  });
  EXPECT(all_close(got, want, tol<T>(), enum_name(op)));

  const std::vector<T>& v = unary_grad_uses_output(op) ? want : x;
  const std::vector<T> g = random_values<T>(n);
  std::vector<T> dwant = nan_filled<T>(n), dgot = nan_filled<T>(n);
  cpu::unary_backward<T>(op, g.data(), v.data(), dwant.data(), n, alpha, beta);
  unary::Variants<Op>::backward(alpha, beta, [&](auto form, double a, double b) {
    run_all(n, UnaryBackward<decltype(form), T>{g.data(), v.data(), dgot.data(), T(a), T(b)});
  });
  EXPECT(all_close(dgot, dwant, tol<T>(), enum_name(op)));
}

template <typename T>
static void test_unary() {
#define PYCNN_TEST_UNARY(Name, ...) check_unary_op<unary::Name, T>(UnaryOp::Name, 0.3, 1.7);
  PYCNN_UNARY_OPS(PYCNN_TEST_UNARY)
#undef PYCNN_TEST_UNARY
  check_unary_op<unary::Softplus, T>(UnaryOp::Softplus, 2.0, 5.0);
  check_unary_op<unary::Clamp, T>(UnaryOp::Clamp, -0.5, 0.5);
  check_unary_op<unary::Clamp, T>(UnaryOp::Clamp, 1.0, -1.0);  // min > max
  for (double p : {0.0, 0.5, 1.0, 2.0, 3.0, -1.5}) check_unary_op<unary::Pow, T>(UnaryOp::Pow, p, 0.0);
  check_unary_op<unary::ELU, T>(UnaryOp::ELU, 1.3, 0.0);

  // relu
  const int64_t n = 517;
  const std::vector<T> x = random_values<T>(n, 2.0, true), g = random_values<T>(n);
  std::vector<T> want = nan_filled<T>(n), got = nan_filled<T>(n);
  cpu::relu_forward<T>(x.data(), want.data(), n);
  run_all(n, ReluForward<T>{x.data(), got.data()});
  EXPECT(all_close(got, want, 0, "relu"));
  std::vector<T> dwant = nan_filled<T>(n), dgot = nan_filled<T>(n);
  cpu::relu_backward<T>(g.data(), want.data(), dwant.data(), n);
  run_all(n, ReluBackward<T>{g.data(), want.data(), dgot.data()});
  EXPECT(all_close(dgot, dwant, 0, "relu_backward"));
}

// ---- PReLU: x (outer, C, inner) ----
template <typename T>
static void check_prelu(int64_t outer, int64_t C, int64_t inner) {
  const int64_t n = outer * C * inner;
  const std::vector<T> x = random_values<T>(n), g = random_values<T>(n), w = random_values<T>(C, 0.5);
  std::vector<T> want = nan_filled<T>(n), got = nan_filled<T>(n);
  cpu::prelu_forward<T>(x.data(), w.data(), want.data(), outer, C, inner);
  run_all(n, PreluForward<T>{x.data(), w.data(), got.data(), C, inner});
  EXPECT(all_close(got, want, 0, "prelu"));

  std::vector<T> dx_want = nan_filled<T>(n), dx_got = nan_filled<T>(n), dw_want = nan_filled<T>(C);
  cpu::prelu_backward<T>(g.data(), x.data(), w.data(), dx_want.data(), dw_want.data(), outer, C, inner);
  run_all(n, PreluInputGrad<T>{g.data(), x.data(), w.data(), dx_got.data(), C, inner});
  EXPECT(all_close(dx_got, dx_want, 0, "prelu dx"));
  // the kernel's block of nt threads: each thread's partial, then their sum
  const PreluWeightGrad<T> body{g.data(), x.data(), outer, C, inner};
  for (int64_t nt : {1, 7, 256}) {
    std::vector<T> dw_got = nan_filled<T>(C);
    for (int64_t c = 0; c < C; ++c) {
      double s = 0;
      for (int64_t t = 0; t < nt; ++t) s += body.partial(c, t, nt);
      dw_got[c] = T(s);
    }
    EXPECT(all_close(dw_got, dw_want, sizeof(T) == 8 ? 1e-12 : 1e-5, "prelu dw"));
  }
}

// ---- Maxout: x (N, C*k, inner) ----
template <typename T>
static void check_maxout(int64_t N, int64_t C, int64_t k, int64_t inner) {
  const int64_t nx = N * C * k * inner, ny = N * C * inner;
  std::vector<T> x = random_values<T>(nx, 3.0, true);
  for (int64_t i = 0; i + inner < nx; i += 5) x[i + inner] = x[i];  // ties: the first maximum wins
  std::vector<T> want = nan_filled<T>(ny), got = nan_filled<T>(ny);
  std::vector<int64_t> iwant(ny, -7), igot(ny, -7);
  cpu::maxout_forward<T>(x.data(), want.data(), iwant.data(), N, C, k, inner);
  run_all(ny, MaxoutForward<T>{x.data(), got.data(), igot.data(), k, inner});
  EXPECT(all_close(got, want, 0, "maxout"));
  EXPECT(igot == iwant);
  const std::vector<T> g = random_values<T>(ny);
  std::vector<T> dwant = nan_filled<T>(nx), dgot = nan_filled<T>(nx);
  cpu::maxout_backward<T>(g.data(), iwant.data(), dwant.data(), N, C, k, inner);
  run_all(nx, MaxoutBackward<T>{g.data(), iwant.data(), dgot.data(), k, inner});
  EXPECT(all_close(dgot, dwant, 0, "maxout_backward"));
}

// ---- softmax over R of (A, R, B) ----
template <typename T>
static void check_softmax(int64_t A, int64_t R, int64_t B, bool log) {
  const int64_t n = A * R * B, rows = A * B;
  std::vector<T> x = random_values<T>(n, 8.0);
  if (n > 2 * R * B) {
    for (int64_t r = 0; r < R; ++r) x[R * B + r * B] = -std::numeric_limits<T>::infinity();  // an all -inf row
    x[0] = T(NAN);                                                                           // a NaN row
  }
  std::vector<T> want = nan_filled<T>(n);
  cpu::softmax_forward<T>(x.data(), want.data(), A, R, B, log);
  const double rel = sizeof(T) == 8 ? 1e-13 : 1e-5;
  // one thread per row (the B > 1 kernel)
  std::vector<T> got = nan_filled<T>(n);
  run_all(rows, SoftmaxRows<T>{x.data(), got.data(), R, B, log});
  EXPECT(all_close(got, want, rel, log ? "log_softmax (thread rows)" : "softmax (thread rows)"));
  // block rows with nt threads: partials combined as block_reduce does (any order gives the same max)
  for (int64_t nt : {3, 32, 256}) {
    std::vector<T> gotb = nan_filled<T>(n);
    const SoftmaxRows<T> body{x.data(), gotb.data(), R, B, log};
    for (int64_t row = 0; row < rows; ++row) {
      T m = T(-INFINITY);
      for (int64_t t = 0; t < nt; ++t) m = softmax_max(m, body.max_partial(row, t, nt));
      m = SoftmaxRows<T>::fix_max(m);
      double s = 0;
      for (int64_t t = 0; t < nt; ++t) s += body.sum_partial(row, m, t, nt);
      for (int64_t t = 0; t < nt; ++t) body.write(row, m, s, t, nt);
    }
    EXPECT(all_close(gotb, want, rel, log ? "log_softmax (block rows)" : "softmax (block rows)"));
  }
  // backward from the CPU's output
  const std::vector<T> g = random_values<T>(n);
  std::vector<T> dwant = nan_filled<T>(n), dgot = nan_filled<T>(n), dgotb = nan_filled<T>(n);
  cpu::softmax_backward<T>(g.data(), want.data(), dwant.data(), A, R, B, log);
  run_all(rows, SoftmaxBackwardRows<T>{g.data(), want.data(), dgot.data(), R, B, log});
  EXPECT(all_close(dgot, dwant, rel, "softmax_backward (thread rows)"));
  const SoftmaxBackwardRows<T> bb{g.data(), want.data(), dgotb.data(), R, B, log};
  for (int64_t row = 0; row < rows; ++row) {
    double s = 0;
    for (int64_t t = 0; t < 5; ++t) s += bb.sum_partial(row, t, 5);
    for (int64_t t = 0; t < 5; ++t) bb.write(row, s, t, 5);
  }
  EXPECT(all_close(dgotb, dwant, rel, "softmax_backward (block rows)"));
}

// ---- binary ops with broadcasting ----
template <typename T, typename Op>
static void check_binary(BinaryOp op, const Shape& sa, const Shape& sb) {
  const DType dt = sizeof(T) == 8 ? DType::Float64 : DType::Float32;
  Tensor a = Tensor::empty(sa, dt), b = Tensor::empty(sb, dt);
  const std::vector<T> va = random_values<T>(a.numel()), vb = random_values<T>(b.numel());
  std::copy(va.begin(), va.end(), a.data<T>());
  std::copy(vb.begin(), vb.end(), b.data<T>());
  Shape shape = broadcast_shapes(sa, sb, "test");
  const Tensor ae = a.expand(shape), be = b.expand(shape);
  StridedViews v;
  v.shape = &shape;
  v.strides[0] = &ae.strides();
  v.strides[1] = &be.strides();
  const int64_t n = shape_numel(shape);
  std::vector<T> want = nan_filled<T>(n), got = nan_filled<T>(n);
  cpu::binary<T>(op, ae.data<T>(), be.data<T>(), want.data(), v);
  const StridedIndexer<2> ix = make_indexer<2>(shape, v.strides, "test");
  if (both_contiguous(ix))
    run_all(n, BinaryContiguous<T, Op>{ae.data<T>(), be.data<T>(), got.data()});
  else
    run_all(n, BinaryStrided<T, Op>{ae.data<T>(), be.data<T>(), got.data(), ix});
  EXPECT(all_close(got, want, 0, enum_name(op)));
  // the strided body is right for contiguous operands too
  std::vector<T> got2 = nan_filled<T>(n);
  run_all(n, BinaryStrided<T, Op>{ae.data<T>(), be.data<T>(), got2.data(), ix});
  EXPECT(all_close(got2, want, 0, enum_name(op)));
}

template <typename T>
static void test_binary() {
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{7}, {7}},
      {{3, 5}, {3, 5}},
      {{3, 5}, {1}},
      {{}, {4, 3}},
      {{2, 3, 5}, {3, 1}},
      {{5, 1, 7}, {1, 4, 1}},
      {{2, 1, 3, 1, 5}, {4, 1, 6, 1}},
      {{1}, {1}},
  };
  for (const auto& [sa, sb] : cases) {
    check_binary<T, AddOp>(BinaryOp::Add, sa, sb);
    check_binary<T, SubOp>(BinaryOp::Sub, sa, sb);
    check_binary<T, MulOp>(BinaryOp::Mul, sb, sa);
    check_binary<T, DivOp>(BinaryOp::Div, sa, sb);
  }
}

// ---- dropout: the mask is a pure function of (seed, group) ----
template <typename T>
static void test_dropout() {
  const int64_t n = 6 * 35, group = 35;
  const std::vector<T> x = random_values<T>(n);
  for (int64_t grp : {int64_t(1), group}) {
    for (double p : {0.0, 0.3, 1.0}) {
      const uint64_t seed = 0x1234567890abcdefULL;
      const uint64_t threshold = static_cast<uint64_t>(p * 9007199254740992.0);
      std::vector<T> y1 = nan_filled<T>(n), y2 = nan_filled<T>(n);
      const DropoutApply<T> body{x.data(), y1.data(), grp, seed, threshold, T(2), T(0.25), T(0), T(-1)};
      run_all(n, body);
      DropoutApply<T> again = body;
      again.y = y2.data();
      run_all(n, again);
      EXPECT(all_close(y1, y2, 0, "dropout rerun"));
      int64_t kept = 0;
      for (int64_t i = 0; i < n; ++i) {
        const bool k = philox_bits53(seed, uint64_t(i / grp)) >= threshold;
        kept += k;
        EXPECT(y1[i] == (k ? x[i] * T(2) + T(0.25) : x[i] * T(0) + T(-1)));
        if (i % grp) EXPECT(body.keep(i / grp) == body.keep((i - 1) / grp));  // one decision per group
      }
      if (p == 0) EXPECT(kept == n);
      if (p == 1) EXPECT(kept == 0);
      if (p == 0.3 && grp == 1) EXPECT(kept > n / 2 && kept < n * 9 / 10);
    }
  }
  // a different seed gives a different mask
  int64_t differ = 0;
  for (int64_t i = 0; i < 1000; ++i)
    differ += (philox_bits53(1, uint64_t(i)) >> 52) != (philox_bits53(2, uint64_t(i)) >> 52);
  EXPECT(differ > 300 && differ < 700);
}

// ---- optimizers: a group of tensors of odd sizes, several steps, body vs cpu:: kernel ----
struct OptimCase {
  std::vector<std::vector<double>> p, g, s[3];  // per tensor
};

// Runs the multi-tensor kernel's loop on the CPU: tensor t, element i, its per-tensor scalars.
template <typename T, typename Update, typename Scalars>
static void run_multi(const OptimTensors<T>& ts, const Update& update, Scalars scalars) {
  for (int64_t t = 0; t < ts.count(); ++t) {
    T* q[5] = {ts.q[0][t], ts.q[1][t], ts.q[2][t], ts.q[3][t], ts.q[4][t]};
    double s0 = 0, s1 = 0;
    scalars(t, s0, s1);
    for (int64_t i = 0; i < ts.n[t]; ++i) update(q, T(s0), T(s1), i);
  }
}

// Two copies of a group's tensors (reference and under test); `used[k]` says which state lists exist.
template <typename T>
struct OptimGroup {
  std::vector<std::vector<T>> data[2][5];
  std::vector<int64_t> sizes{1, 37, 4, 129};
  explicit OptimGroup(const bool (&used)[3], double state_init) {
    for (int64_t n : sizes) {
      const std::vector<T> p = random_values<T>(n), g = random_values<T>(n);
      std::vector<T> st[3];
      for (auto& s : st) {
        s = random_values<T>(n, 0.5);
        for (auto& v : s) v = T(std::abs(double(v)) * state_init);  // non-negative (sums of squares)
      }
      for (int c = 0; c < 2; ++c) {
        data[c][0].push_back(p);
        data[c][1].push_back(g);
        for (int k = 0; k < 3; ++k) data[c][2 + k].push_back(used[k] ? st[k] : std::vector<T>());
      }
    }
  }
  // A fresh gradient per step (the same for both copies), so the second moments also shrink (amsgrad's max).
  OptimTensors<T> tensors(int c, const std::vector<double>& steps) {
    if (c == 0)
      for (size_t t = 0; t < sizes.size(); ++t)
        data[0][1][t] = data[1][1][t] = random_values<T>(sizes[t], 4.0 / (t + 1));
    OptimTensors<T> ts;
    for (size_t t = 0; t < sizes.size(); ++t) {
      for (int k = 0; k < 5; ++k) ts.q[k].push_back(data[c][k][t].empty() ? nullptr : data[c][k][t].data());
      ts.n.push_back(sizes[t]);
    }
    ts.step = steps;
    return ts;
  }
  bool same(const char* what) const {
    bool ok = true;
    for (int k = 0; k < 5; ++k)
      for (size_t t = 0; t < sizes.size(); ++t) ok = ok && all_close(data[1][k][t], data[0][k][t], 1e-14, what);
    return ok;
  }
};

template <typename T>
static void test_optim() {
  for (int variant = 0; variant < 8; ++variant) {
    const bool b0 = variant & 1, b1 = variant & 2, b2 = variant & 4;
    {  // SGD: momentum on/off, nesterov, weight decay, maximize
      SgdArgs a;
      a.lr = 0.1, a.momentum = b0 ? 0.9 : 0, a.dampening = b0 && !b1 ? 0.2 : 0, a.weight_decay = b2 ? 0.01 : 0;
      a.nesterov = b0 && b1, a.maximize = b2;
      const bool used[3] = {a.momentum != 0, false, false};
      OptimGroup<T> grp(used, 1.0);
      for (int step = 0; step < 3; ++step) {
        const std::vector<double> first(grp.sizes.size(), step == 0 ? 1.0 : 0.0);
        OptimTensors<T> ref = grp.tensors(0, first), got = grp.tensors(1, first);
        for (int64_t t = 0; t < ref.count(); ++t)
          cpu::sgd_step<T>(ref.q[0][t], ref.q[1][t], ref.q[2][t], ref.n[t], a, first[t] != 0);
        run_multi(got, sgd_update<T>(a), [&](int64_t t, double& s0, double&) { s0 = got.step[t]; });
      }
      EXPECT(grp.same("sgd"));
    }
    {  // Adam / AdamW, amsgrad
      AdamArgs a;
      a.lr = 0.01, a.weight_decay = b1 ? 0.05 : 0, a.amsgrad = b0, a.decoupled_weight_decay = b2, a.maximize = b1;
      a.beta1 = b2 ? 0.3 : 0.9;  // lerp weight above and below 0.5
      const bool used[3] = {true, true, a.amsgrad};
      OptimGroup<T> grp(used, 0.0);
      for (int step = 1; step <= 3; ++step) {
        const std::vector<double> steps(grp.sizes.size(), double(step));
        OptimTensors<T> ref = grp.tensors(0, steps), got = grp.tensors(1, steps);
        for (int64_t t = 0; t < ref.count(); ++t)
          cpu::adam_step<T>(ref.q[0][t], ref.q[1][t], ref.q[2][t], ref.q[3][t], ref.q[4][t], ref.n[t], a, step);
        run_multi(got, adam_update<T>(a),
                  [&](int64_t t, double& s0, double& s1) { adam_step_scalars(a, got.step[t], s0, s1); });
      }
      EXPECT(grp.same("adam"));
    }
    {  // RMSprop: centered, momentum, weight decay
      RmspropArgs a;
      a.centered = b0, a.momentum = b1 ? 0.5 : 0, a.weight_decay = b2 ? 0.1 : 0, a.maximize = b2;
      a.alpha = b1 ? 0.3 : 0.99;
      const bool used[3] = {true, a.centered, a.momentum > 0};
      OptimGroup<T> grp(used, 0.0);
      for (int step = 0; step < 3; ++step) {
        OptimTensors<T> ref = grp.tensors(0, {}), got = grp.tensors(1, {});
        for (int64_t t = 0; t < ref.count(); ++t)
          cpu::rmsprop_step<T>(ref.q[0][t], ref.q[1][t], ref.q[2][t], ref.q[3][t], ref.q[4][t], ref.n[t], a);
        run_multi(got, rmsprop_update<T>(a), [](int64_t, double&, double&) {});
      }
      EXPECT(grp.same("rmsprop"));
    }
    {  // Adagrad and Adadelta
      AdagradArgs a;
      a.lr_decay = b0 ? 0.1 : 0, a.weight_decay = b1 ? 0.1 : 0, a.maximize = b2;
      const bool used[3] = {true, false, false};
      OptimGroup<T> grp(used, 1.0);
      for (int step = 1; step <= 3; ++step) {
        const std::vector<double> steps(grp.sizes.size(), double(step));
        OptimTensors<T> ref = grp.tensors(0, steps), got = grp.tensors(1, steps);
        for (int64_t t = 0; t < ref.count(); ++t)
          cpu::adagrad_step<T>(ref.q[0][t], ref.q[1][t], ref.q[2][t], ref.n[t], a, step);
        run_multi(got, adagrad_update<T>(a),
                  [&](int64_t t, double& s0, double&) { s0 = adagrad_neg_clr(a, got.step[t]); });
      }
      EXPECT(grp.same("adagrad"));

      AdadeltaArgs d;
      d.weight_decay = b1 ? 0.1 : 0, d.maximize = b2, d.rho = b0 ? 0.5 : 0.9;
      const bool used2[3] = {true, true, false};
      OptimGroup<T> grp2(used2, 1.0);
      for (int step = 0; step < 3; ++step) {
        OptimTensors<T> ref = grp2.tensors(0, {}), got = grp2.tensors(1, {});
        for (int64_t t = 0; t < ref.count(); ++t)
          cpu::adadelta_step<T>(ref.q[0][t], ref.q[1][t], ref.q[2][t], ref.q[3][t], ref.n[t], d);
        run_multi(got, adadelta_update<T>(d), [](int64_t, double&, double&) {});
      }
      EXPECT(grp2.same("adadelta"));
    }
  }
}

template <typename T>
static void test_all() {
  test_unary<T>();
  check_prelu<T>(3, 5, 7);
  check_prelu<T>(1, 1, 1000);
  check_prelu<T>(4, 1, 9);  // one weight for all channels: the entry point passes C = 1
  check_maxout<T>(2, 3, 4, 5);
  check_maxout<T>(3, 1, 1, 7);
  check_maxout<T>(1, 5, 3, 1);
  for (bool log : {false, true}) {
    check_softmax<T>(3, 7, 1, log);
    check_softmax<T>(4, 300, 1, log);
    check_softmax<T>(3, 5, 6, log);
    check_softmax<T>(2, 1, 3, log);
  }
  test_binary<T>();
  test_dropout<T>();
  test_optim<T>();
}

// ---- on a GPU (skipped without one): the op entry points on cuda:0 against the same ops on the CPU. This
// covers what the CPU cannot run: the block-reduction kernels (softmax rows, PReLU's weight gradient), the
// multi-tensor launch (more tensors than one launch takes) and Philox on the device. ----
static const Device kCuda0{DeviceType::CUDA, 0};

template <typename T>
static Tensor random_tensor(const Shape& shape, double scale = 3.0) {
  Tensor t = Tensor::empty(shape, sizeof(T) == 8 ? DType::Float64 : DType::Float32);
  const std::vector<T> v = random_values<T>(t.numel(), scale);
  std::copy(v.begin(), v.end(), t.data<T>());
  return t;
}

template <typename T>
static bool same_on_host(const Tensor& gpu, const Tensor& cpu, double rel, const char* what) {
  const Tensor h = gpu.to(Device{}).contiguous(), c = cpu.contiguous();
  if (h.shape() != c.shape()) return false;
  return all_close(std::vector<T>(h.data<T>(), h.data<T>() + h.numel()),
                   std::vector<T>(c.data<T>(), c.data<T>() + c.numel()), rel, what);
}

template <typename T>
static void gpu_checks() {
  const double rel = sizeof(T) == 8 ? 1e-12 : 1e-5;
  for (const Shape& shape : std::vector<Shape>{{5, 1000}, {3, 7}, {4, 9, 6}, {2, 3000}, {1, 1}}) {
    const Tensor x = random_tensor<T>(shape, 8.0), g = random_tensor<T>(shape);
    const Tensor xg = x.to(kCuda0), gg = g.to(kCuda0);
    for (int64_t dim : {int64_t(-1), int64_t(0)}) {
      const Tensor y = softmax_forward(x, dim), yl = log_softmax_forward(x, dim);
      EXPECT(same_on_host<T>(softmax_forward(xg, dim), y, rel, "gpu softmax"));
      EXPECT(same_on_host<T>(log_softmax_forward(xg, dim), yl, rel, "gpu log_softmax"));
      EXPECT(same_on_host<T>(softmax_backward(gg, y.to(kCuda0), dim), softmax_backward(g, y, dim), rel,
                             "gpu softmax_backward"));
      EXPECT(same_on_host<T>(log_softmax_backward(gg, yl.to(kCuda0), dim), log_softmax_backward(g, yl, dim), rel,
                             "gpu log_softmax_backward"));
    }
    EXPECT(same_on_host<T>(relu_forward(xg), relu_forward(x), 0, "gpu relu"));
    for (UnaryOp op : {UnaryOp::GELU, UnaryOp::Softplus, UnaryOp::Pow, UnaryOp::Sigmoid}) {
      const Tensor y = unary_forward(op, x, 2.0, 20.0);
      EXPECT(same_on_host<T>(unary_forward(op, xg, 2.0, 20.0), y, rel, "gpu unary"));
      EXPECT(same_on_host<T>(unary_backward(op, gg, xg, y.to(kCuda0), 2.0, 20.0),
                             unary_backward(op, g, x, y, 2.0, 20.0), rel, "gpu unary_backward"));
    }
  }
  {  // PReLU, per channel and one weight; Maxout
    const Tensor x = random_tensor<T>({4, 3, 33, 31}), g = random_tensor<T>({4, 3, 33, 31});
    for (int64_t C : {int64_t(3), int64_t(1)}) {
      const Tensor w = random_tensor<T>({C}, 0.5);
      EXPECT(same_on_host<T>(prelu_forward(x.to(kCuda0), w.to(kCuda0)), prelu_forward(x, w), 0, "gpu prelu"));
      auto [dx, dw] = prelu_backward(g.to(kCuda0), x.to(kCuda0), w.to(kCuda0), true, true);
      auto [dx_c, dw_c] = prelu_backward(g, x, w, true, true);
      EXPECT(same_on_host<T>(dx, dx_c, 0, "gpu prelu dx"));
      EXPECT(same_on_host<T>(dw, dw_c, rel, "gpu prelu dw"));
      auto [dx2, dw2] = prelu_backward(g.to(kCuda0), x.to(kCuda0), w.to(kCuda0), true, true);
      EXPECT(same_on_host<T>(dw2, dw.to(Device{}), 0, "gpu prelu dw rerun"));  // deterministic
    }
    auto [y, idx] = maxout_forward(x.to(kCuda0), 3);
    auto [y_c, idx_c] = maxout_forward(x, 3);
    EXPECT(same_on_host<T>(y, y_c, 0, "gpu maxout"));
    const Tensor gy = random_tensor<T>(y_c.shape());
    EXPECT(same_on_host<T>(maxout_backward(gy.to(kCuda0), idx_c.to(kCuda0), 3), maxout_backward(gy, idx_c, 3), 0,
                           "gpu maxout_backward"));
  }
  // binary ops with broadcasting, contiguous and not
  for (const auto& [sa, sb] : std::vector<std::pair<Shape, Shape>>{{{7, 5}, {7, 5}}, {{2, 3, 5}, {3, 1}}, {{6}, {}}}) {
    const Tensor a = random_tensor<T>(sa), b = random_tensor<T>(sb);
    for (BinaryOp op : {BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div})
      EXPECT(same_on_host<T>(binary(op, a.to(kCuda0), b.to(kCuda0)), binary(op, a, b), 0, "gpu binary"));
  }
  {  // dropout: a seed reproduces its mask; backward uses the same mask
    const Tensor x = random_tensor<T>({3, 4, 17, 9});
    for (bool channelwise : {false, true}) {
      const Tensor y1 = dropout_forward(x.to(kCuda0), 0.4, 77, channelwise, false).to(Device{});
      const Tensor y2 = dropout_forward(x.to(kCuda0), 0.4, 77, channelwise, false).to(Device{});
      EXPECT(same_on_host<T>(y1, y2, 0, "gpu dropout rerun"));
      const Tensor d = dropout_backward(x.to(kCuda0), 0.4, 77, channelwise, false).to(Device{});
      EXPECT(same_on_host<T>(d, y1, 0, "gpu dropout backward mask"));  // dropout's backward map is the forward's
    }
  }
  {  // Adam over 40 tensors (two launches) against the CPU kernel per tensor
    std::vector<Tensor> p, gr, m, v, vmax, pc, grc, mc, vc, vmaxc;
    for (int t = 0; t < 40; ++t) {
      const Shape shape{1 + 37 * t % 101};
      pc.push_back(random_tensor<T>(shape));
      grc.push_back(random_tensor<T>(shape));
      for (auto* l : {&mc, &vc, &vmaxc}) l->push_back(Tensor::zeros(shape, pc.back().dtype()));
      p.push_back(pc.back().to(kCuda0)), gr.push_back(grc.back().to(kCuda0));
      m.push_back(mc.back().to(kCuda0)), v.push_back(vc.back().to(kCuda0)), vmax.push_back(vmaxc.back().to(kCuda0));
    }
    AdamArgs args;
    args.amsgrad = true, args.weight_decay = 0.01;
    const std::vector<double> steps(40, 3.0);
    adam_step_multi_(p, gr, m, v, vmax, args, steps);
    adam_step_multi_(pc, grc, mc, vc, vmaxc, args, steps);
    for (int t = 0; t < 40; ++t) EXPECT(same_on_host<T>(p[t], pc[t], rel, "gpu adam"));
  }
}

static void test_on_gpu() {
  if (cuda::device_count() == 0) {
    std::printf("no GPU: the device checks are skipped\n");
    return;
  }
  gpu_checks<double>();
  gpu_checks<float>();
}

int main() {
  test_philox();
  test_all<double>();
  test_all<float>();
  test_on_gpu();
  std::printf("%s (%d failures)\n", failures ? "FAILED" : "OK", failures);
  return failures != 0;
}
