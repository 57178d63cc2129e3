// The CUDA convolution's index arithmetic and bodies (ops/cuda/conv_bodies.h), run on the CPU. The tiled
// implicit-GEMM kernel is simulated serially: every block of the grid, every thread of the block, calling
// the same load / multiply / store phases that conv2d.cu's kernel calls, with both tile shapes (float's and
// double's) in float64. Results are compared with the CPU kernels (cpu::conv2d_forward_naive,
// cpu::conv2d_input_grad, cpu::conv2d_weight_grad, the padding, bias and deformable kernels) over awkward geometries:
// odd sizes, strides 2 and 3, dilation, groups, large padding, 1x1, depthwise, non-square. Outputs start
// as NaN so that an element nobody writes shows. With a GPU, it also runs the ops on CUDA tensors against the
// CPU and twice for bitwise determinism (skipped without one).
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include "expect.h"                   // defines: EXPECT, failures
#include "pycnn/core/cuda_runtime.h"  // defines: cuda::device_count
#include "pycnn/core/tensor.h"
#include "pycnn/ops/cpu/cpu_ops.h"       // defines: cpu::conv2d_*, cpu::pad_index_*, cpu::add_channel_bias
#include "pycnn/ops/cuda/conv_bodies.h"  // defines: the bodies under test
#include "pycnn/ops/ops.h"               // defines: conv2d_forward, conv_transpose2d_*, pad_*, deform_conv2d_*

using namespace pycnn;
using namespace pycnn::cuda;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<double> random_vector(int64_t n, std::mt19937& rng) {
  std::normal_distribution<double> dist(0.0, 1.0);
  std::vector<double> v(static_cast<size_t>(n));
  for (double& e : v) e = dist(rng) + 0.1;  // never all zeros, not centred on zero
  return v;
}

// The worst relative difference; NaN (an unwritten element) counts as infinite.
double worst_error(const std::vector<double>& got, const std::vector<double>& ref) {
  double worst = got.size() == ref.size() ? 0.0 : INFINITY;
  for (size_t i = 0; i < got.size() && i < ref.size(); ++i) {
    const double e = std::fabs(got[i] - ref[i]) / (1.0 + std::fabs(ref[i]));
    if (!(e <= worst)) worst = std::isnan(e) ? INFINITY : e;
  }
  return worst;
}

bool check(const char* what, const std::vector<double>& got, const std::vector<double>& ref, int case_no) {
  const double worst = worst_error(got, ref);
  if (!(worst <= 1e-11)) std::printf("case %d, %s: worst relative error %g\n", case_no, what, worst);
  return worst <= 1e-11;
}

// conv2d.cu's conv_gemm_kernel, serially: the grid (x: column tiles, y: row tiles, z: group and split),
// each block's threads taking the same phases in order, a barrier between phases being the loop boundary.
template <typename S, typename Problem>
void simulate_conv_gemm(const Problem& pb, int64_t groups, int64_t splits, int64_t chunk) {
  using Tile = ConvTile<double, S::BM, S::BN, S::BK, S::TM, S::TN>;
  struct Shared {
    typename Tile::A as;
    typename Tile::B bs;
  };
  struct Acc {
    double v[S::TM][S::TN];
  };
  auto shared = std::make_unique<Shared>();
  std::vector<Acc> acc(Tile::kThreads);
  const int64_t tiles_n = (pb.cols() + S::BN - 1) / S::BN, tiles_m = (pb.rows() + S::BM - 1) / S::BM;
  for (int64_t z = 0; z < groups * splits; ++z) {
    const int64_t grp = z / splits, split = z % splits;
    const SplitRange range = split_range(pb.depth(), chunk, split);
    for (int64_t by = 0; by < tiles_m; ++by)
      for (int64_t bx = 0; bx < tiles_n; ++bx) {
        const int64_t row0 = by * S::BM, col0 = bx * S::BN;
        for (Acc& a : acc)
          for (auto& row : a.v)
            for (double& e : row) e = 0;
        for (int64_t r0 = range.begin; r0 < range.end; r0 += S::BK) {
          for (int t = 0; t < Tile::kThreads; ++t) Tile::load_a(pb, t, shared->as, grp, row0, r0, range.end);
          for (int t = 0; t < Tile::kThreads; ++t) Tile::load_b(pb, t, shared->bs, grp, col0, r0, range.end);
          for (int t = 0; t < Tile::kThreads; ++t) Tile::multiply(t, shared->as, shared->bs, acc[t].v);
        }
        for (int t = 0; t < Tile::kThreads; ++t) Tile::store(pb, t, acc[t].v, grp, split, row0, col0);
      }
  }
}

template <typename Body>
void run_body(int64_t n, const Body& body) {
  for (int64_t i = 0; i < n; ++i) body(i);
}

struct Case {
  int64_t n, c, h, w, oc, kh, kw;
  Conv2dArgs args;
};

// Output size along one dim, as ops/conv2d.cpp computes it.
int64_t out_size(int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t dil) {
  return (in + 2 * pad - dil * (k - 1) - 1) / stride + 1;
}

// The weight gradient through the split plan of tile shape S, and through forced split counts.
template <typename S>
void check_weight_grad(const Conv2dGeometry& g, const std::vector<double>& dout, const std::vector<double>& x,
                       const std::vector<double>& ref, int case_no, const SplitPlan& plan) {
  const int64_t wsize = g.OC * g.K, depth = g.N * g.P;
  std::vector<SplitPlan> plans = {plan, {1, depth > S::BK ? depth : S::BK}};
  for (int64_t forced : {2, 3, 7}) {  // chunks of a multiple of BK, as the kernel needs
    const int64_t chunk = ((depth + forced - 1) / forced + S::BK - 1) / S::BK * S::BK;
    if (chunk > 0) plans.push_back({(depth + chunk - 1) / chunk, chunk});
  }
  for (const SplitPlan& p : plans) {
    std::vector<double> partial(static_cast<size_t>(p.splits * wsize), kNaN), dw(static_cast<size_t>(wsize), kNaN);
    simulate_conv_gemm<S>(ConvWeightGradProblem<double>{conv_index(g), dout.data(), x.data(), partial.data()}, g.G,
                          p.splits, p.chunk);
    run_body(wsize, SumSplits<double>{partial.data(), dw.data(), p.splits, wsize});
    EXPECT(check("weight grad (tiled, split)", dw, ref, case_no));
  }
}

template <typename S>
void check_tiled(const Conv2dGeometry& g, const std::vector<double>& x, const std::vector<double>& w,
                 const std::vector<double>& b, const std::vector<double>& dout, const std::vector<double>& y_ref,
                 const std::vector<double>& dx_ref, const std::vector<double>& dw_ref, int case_no) {
  std::vector<double> y(y_ref.size(), kNaN), dx(dx_ref.size(), kNaN);
  const ConvIndex ix = conv_index(g);
  simulate_conv_gemm<S>(ConvForwardProblem<double>{ix, x.data(), w.data(), b.data(), y.data()}, g.G, 1,
                        g.K > 0 ? g.K : 1);
  EXPECT(check("forward (tiled)", y, y_ref, case_no));
  const ConvInputGradProblem<double> dpb{ix, dout.data(), w.data(), dx.data()};
  simulate_conv_gemm<S>(dpb, g.G, 1, dpb.depth());
  EXPECT(check("input grad (tiled)", dx, dx_ref, case_no));
  // The split plan the kernel takes for this shape (float's plan with float's tiles, double's with double's).
  const SplitPlan plan = S::BM == ConvTiles<float>::BM ? weight_grad_split<float>(g) : weight_grad_split<double>(g);
  check_weight_grad<S>(g, dout, x, dw_ref, case_no, plan);
}

void check_case(const Case& k, int case_no, std::mt19937& rng) {
  const Conv2dArgs& a = k.args;
  const int64_t OH = out_size(k.h, k.kh, a.stride_h, a.pad_h, a.dilation_h);
  const int64_t OW = out_size(k.w, k.kw, a.stride_w, a.pad_w, a.dilation_w);
  const Conv2dGeometry g =
      cpu::conv2d_geometry({k.n, k.c, k.h, k.w}, {k.oc, k.c / a.groups, k.kh, k.kw}, {k.n, k.oc, OH, OW}, a);
  const std::vector<double> x = random_vector(g.N * g.C * g.H * g.W, rng), w = random_vector(g.OC * g.K, rng);
  const std::vector<double> b = random_vector(g.OC, rng), dout = random_vector(g.N * g.OC * g.P, rng);
  std::vector<double> y_ref(static_cast<size_t>(g.N * g.OC * g.P)), dx_ref(x.size()), dw_ref(w.size());
  cpu::conv2d_forward_naive<double>(x.data(), w.data(), b.data(), y_ref.data(), g);
  cpu::conv2d_input_grad<double>(dout.data(), w.data(), dx_ref.data(), g);
  cpu::conv2d_weight_grad<double>(dout.data(), x.data(), dw_ref.data(), g);
  EXPECT(conv_index_fits(g));
  const ConvIndex ix = conv_index(g);

  check_tiled<ConvTiles<float>>(g, x, w, b, dout, y_ref, dx_ref, dw_ref, case_no);
  check_tiled<ConvTiles<double>>(g, x, w, b, dout, y_ref, dx_ref, dw_ref, case_no);

  // Without a bias: the forward problem must not read it.
  std::vector<double> y_nb(y_ref.size(), kNaN), y_nb_ref(y_ref.size());
  cpu::conv2d_forward_naive<double>(x.data(), w.data(), nullptr, y_nb_ref.data(), g);
  simulate_conv_gemm<ConvTiles<double>>(ConvForwardProblem<double>{ix, x.data(), w.data(), nullptr, y_nb.data()}, g.G,
                                        1, g.K);
  EXPECT(check("forward without bias (tiled)", y_nb, y_nb_ref, case_no));

  if (g.Cg != 1) return;
  // The direct depthwise bodies (conv2d.cu takes them when Cg == 1 and groups > 1).
  std::vector<double> y(y_ref.size(), kNaN), dx(dx_ref.size(), kNaN), dw(dw_ref.size(), kNaN);
  run_body(g.N * g.OC * g.P, DepthwiseForward<double>{ix, x.data(), w.data(), b.data(), y.data()});
  EXPECT(check("depthwise forward", y, y_ref, case_no));
  run_body(g.N * g.C * g.H * g.W, DepthwiseInputGrad<double>{ix, dout.data(), w.data(), dx.data()});
  EXPECT(check("depthwise input grad", dx, dx_ref, case_no));
  // The block of weight element i: kBlockThreads partials, then summed (the GPU's tree order differs, within
  // rounding).
  const DepthwiseWeightGradPartial<double> part{ix, dout.data(), x.data(), dw.data()};
  for (int64_t i = 0; i < g.OC * g.KH * g.KW; ++i) {
    double sum = 0;
    for (int t = 0; t < 256; ++t) sum += part(static_cast<int>(i), t, 256);
    dw[static_cast<size_t>(i)] = sum;
  }
  EXPECT(check("depthwise weight grad", dw, dw_ref, case_no));
}

// The row or column map of one padded dim: the body (PadIndexMap) against cpu::pad_index_map.
std::vector<int64_t> pad_map(int64_t n, int64_t lo, int64_t out, PadMode mode) {
  std::vector<int64_t> m(static_cast<size_t>(out), -7), ref(static_cast<size_t>(out));
  cpu::pad_index_map<int64_t>(ref.data(), n, lo, out, mode);
  run_body(out, PadIndexMap{m.data(), n, lo, mode});
  EXPECT(m == ref);
  return m;
}

void check_pad(std::mt19937& rng) {
  struct PadCase {
    int64_t planes, H, W, top, bottom, left, right;
  };
  const PadCase cases[] = {{3, 5, 7, 2, 1, 3, 4}, {2, 1, 9, 0, 0, 8, 5}, {1, 4, 4, 3, 3, 3, 3}, {4, 6, 3, 0, 5, 2, 0}};
  int case_no = 0;
  for (const PadCase& pc : cases)
    for (PadMode mode : {PadMode::Reflect, PadMode::Replicate, PadMode::Circular}) {
      ++case_no;
      const bool reflect = mode == PadMode::Reflect;  // pads below the size; the others up to it
      const int64_t lim_h = reflect ? pc.H - 1 : pc.H, lim_w = reflect ? pc.W - 1 : pc.W;
      const int64_t top = std::min(pc.top, lim_h), bottom = std::min(pc.bottom, lim_h);
      const int64_t left = std::min(pc.left, lim_w), right = std::min(pc.right, lim_w);
      const int64_t OH = pc.H + top + bottom, OW = pc.W + left + right;
      const std::vector<int64_t> mh = pad_map(pc.H, top, OH, mode), mw = pad_map(pc.W, left, OW, mode);
      const std::vector<double> x = random_vector(pc.planes * pc.H * pc.W, rng);
      const std::vector<double> dout = random_vector(pc.planes * OH * OW, rng);
      std::vector<double> y(dout.size(), kNaN), y_ref(dout.size()), dx(x.size(), kNaN), dx_ref(x.size());
      cpu::pad_index_forward<double>(x.data(), y_ref.data(), pc.planes, pc.H, pc.W, OH, OW, mh.data(), mw.data());
      cpu::pad_index_backward<double>(dout.data(), dx_ref.data(), pc.planes, pc.H, pc.W, OH, OW, mh.data(), mw.data());
      const PadMaps maps{pc.H, pc.W, OH, OW, mh.data(), mw.data()};
      run_body(pc.planes * OH * OW, PadForward<double>{maps, x.data(), y.data()});
      run_body(pc.planes * pc.H * pc.W, PadBackward<double>{maps, dout.data(), dx.data()});
      EXPECT(check("pad forward", y, y_ref, case_no));
      EXPECT(check("pad backward", dx, dx_ref, case_no));
    }
}

// The pad entry points (ops/convs.cpp: maps built through PYCNN_DISPATCH, then the index kernels) against a
// plain loop over the maps, for 2-D and 1-D pads: forward, and backward as the adjoint (<dout, pad(x)> equals
// <pad_backward(dout), x>).
void check_pad_entry_points(std::mt19937& rng) {
  struct EntryCase {
    Shape x;
    std::vector<int64_t> pads;
  };
  const EntryCase cases[] = {{{2, 3, 5, 6}, {2, 3, 1, 4}}, {{3, 7}, {4, 2}}, {{2, 2, 5}, {0, 3}}};
  for (const EntryCase& ec : cases)
    for (PadMode mode : {PadMode::Reflect, PadMode::Replicate, PadMode::Circular}) {
      Tensor x = Tensor::empty(ec.x, DType::Float64);
      const std::vector<double> xv = random_vector(x.numel(), rng);
      std::copy(xv.begin(), xv.end(), x.data<double>());
      const Tensor y = pad_forward(x, ec.pads, mode, 0.0);
      const int64_t rank = static_cast<int64_t>(ec.x.size()), two_d = ec.pads.size() == 4;
      const int64_t W = ec.x[rank - 1], H = two_d ? ec.x[rank - 2] : 1;
      const int64_t OW = y.size(rank - 1), OH = two_d ? y.size(rank - 2) : 1, planes = x.numel() / (H * W);
      const std::vector<int64_t> mw = pad_map(W, ec.pads[0], OW, mode);
      const std::vector<int64_t> mh = two_d ? pad_map(H, ec.pads[2], OH, mode) : std::vector<int64_t>{0};
      std::vector<double> got(y.data<double>(), y.data<double>() + y.numel()), ref(got.size());
      for (int64_t p = 0; p < planes; ++p)
        for (int64_t oh = 0; oh < OH; ++oh)
          for (int64_t ow = 0; ow < OW; ++ow) ref[(p * OH + oh) * OW + ow] = xv[(p * H + mh[oh]) * W + mw[ow]];
      EXPECT(check("pad entry point", got, ref, 0));
      Tensor d = Tensor::empty(y.shape(), DType::Float64);
      const std::vector<double> dv = random_vector(d.numel(), rng);
      std::copy(dv.begin(), dv.end(), d.data<double>());
      const Tensor dx = pad_backward(d, x.shape(), ec.pads, mode);
      double lhs = 0, rhs = 0;
      for (int64_t i = 0; i < d.numel(); ++i) lhs += dv[i] * ref[i];
      for (int64_t i = 0; i < x.numel(); ++i) rhs += dx.data<double>()[i] * xv[i];
      EXPECT(std::fabs(lhs - rhs) <= 1e-10 * (1 + std::fabs(lhs)));
    }
}

void check_channel_bias(std::mt19937& rng) {
  const int64_t N = 3, C = 5, HW = 7;
  const std::vector<double> y0 = random_vector(N * C * HW, rng), b = random_vector(C, rng);
  std::vector<double> y = y0, y_ref = y0;
  cpu::add_channel_bias<double>(y_ref.data(), b.data(), N, C, HW);
  run_body(N * C * HW, AddChannelBias<double>{y.data(), b.data(), C, HW});
  EXPECT(check("add_channel_bias", y, y_ref, 0));
}

// The deformable convolution's per-image bodies against cpu::deform_im2col / col2im / col2coord, with offsets
// large enough that samples fall outside the image and on its edges, with and without a mask.
void check_deform(std::mt19937& rng) {
  struct DeformCase {
    int64_t C, H, W, KH, KW, sh, sw, ph, pw, dh, dw, offset_groups;
  };
  const DeformCase cases[] = {
      {4, 7, 6, 3, 2, 1, 2, 1, 0, 1, 2, 2}, {3, 5, 9, 2, 3, 2, 1, 2, 1, 2, 1, 1}, {6, 4, 4, 1, 1, 1, 1, 0, 0, 1, 1, 3}};
  int case_no = 0;
  for (const DeformCase& d : cases)
    for (bool with_mask : {false, true}) {
      ++case_no;
      DeformGeometry g{d.C, d.H, d.W, d.KH, d.KW, 0, 0, d.sh, d.sw, d.ph, d.pw, d.dh, d.dw, d.offset_groups};
      g.OH = out_size(d.H, d.KH, d.sh, d.ph, d.dh), g.OW = out_size(d.W, d.KW, d.sw, d.pw, d.dw);
      const int64_t KK = g.KH * g.KW, L = g.OH * g.OW;
      const std::vector<double> x = random_vector(g.C * g.H * g.W, rng);
      std::vector<double> offset = random_vector(2 * g.offset_groups * KK * L, rng);
      for (size_t i = 0; i < offset.size(); ++i) offset[i] = i % 7 == 0 ? std::round(offset[i]) : 2.5 * offset[i];
      const std::vector<double> mask_v = random_vector(g.offset_groups * KK * L, rng);
      const double* mask = with_mask ? mask_v.data() : nullptr;
      const std::vector<double> dcol = random_vector(g.C * KK * L, rng), dx0 = random_vector(x.size(), rng);

      std::vector<double> col(dcol.size(), kNaN), col_ref(dcol.size());
      cpu::deform_im2col<double>(x.data(), offset.data(), mask, col_ref.data(), g);
      run_body(g.C * KK * L, DeformIm2col<double>{g, x.data(), offset.data(), mask, col.data()});
      EXPECT(check("deform im2col", col, col_ref, case_no));

      std::vector<double> dx = dx0, dx_ref = dx0;  // col2im accumulates
      cpu::deform_col2im<double>(dcol.data(), offset.data(), mask, dx_ref.data(), g);
      run_body(g.C, DeformCol2im<double>{g, dcol.data(), offset.data(), mask, dx.data()});
      EXPECT(check("deform col2im", dx, dx_ref, case_no));

      std::vector<double> doff(offset.size(), kNaN), doff_ref(offset.size()), dmask(mask_v.size(), kNaN);
      std::vector<double> dmask_ref(mask_v.size());
      cpu::deform_col2coord<double>(dcol.data(), x.data(), offset.data(), mask, doff_ref.data(), dmask_ref.data(), g);
      run_body(g.offset_groups * KK * L,
               DeformCol2coord<double>{g, dcol.data(), x.data(), offset.data(), mask, doff.data(), dmask.data()});
      EXPECT(check("deform col2coord (offset)", doff, doff_ref, case_no));
      EXPECT(check("deform col2coord (mask)", dmask, dmask_ref, case_no));
    }
  // The bias gradient: db[oc] sums dout (N, OC, L) over n and l.
  const int64_t N = 3, OC = 4, L = 5;
  const std::vector<double> dout = random_vector(N * OC * L, rng);
  std::vector<double> db(OC, kNaN), db_ref(OC, 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oc = 0; oc < OC; ++oc)
      for (int64_t l = 0; l < L; ++l) db_ref[oc] += dout[(n * OC + oc) * L + l];
  run_body(OC, DeformBiasGrad<double>{dout.data(), db.data(), N, OC, L});
  EXPECT(check("deform bias grad", db, db_ref, 0));
}

// FastDiv against the division it replaces: small and large divisors, numerators at the edges of the range
// the kernels use ([0, 2^31)) and random ones.
void check_fast_div(std::mt19937& rng) {
  std::vector<int64_t> divisors;
  for (int64_t d = 1; d <= 300; ++d) divisors.push_back(d);
  for (int64_t d : {1000, 4096, 4097, 65535, 65536, 12345678, 1 << 30, (1 << 30) + 1, 2147483647})
    divisors.push_back(d);
  std::uniform_int_distribution<int> any(0, 2147483647);
  int bad = 0;
  for (int64_t d : divisors) {
    const FastDiv f(d);
    std::vector<int> ns = {0, 1, static_cast<int>(d - 1), static_cast<int>(d), 2147483647, 2147483646};
    for (int k = 1; k < 5; ++k) ns.push_back(static_cast<int>(std::min<int64_t>(2147483647, d * k + k - 1)));
    for (int k = 0; k < 2000; ++k) ns.push_back(any(rng));
    for (int n : ns)
      if (f.div(n) != n / d || f.mod(n) != n % d) ++bad;
  }
  if (bad) std::printf("FastDiv: %d wrong quotients\n", bad);
  EXPECT(bad == 0);
}

// ---- with a GPU: the ops on CUDA tensors against the same ops on the CPU, and run twice for bitwise
// determinism. Skipped (as GPU-only) where no device is present. ----

// The device the "GPU" side runs on: cuda:0, or the CPU without a GPU, so that the harness itself (shapes,
// arguments) still runs everywhere, comparing the CPU with itself.
Device gpu{DeviceType::CUDA, 0};

template <typename T>
Tensor random_tensor(const Shape& shape, std::mt19937& rng, double scale = 1.0) {
  Tensor t = Tensor::empty(shape, dtype_of<T>::value);
  std::normal_distribution<double> dist(0.1, 1.0);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<T>()[i] = static_cast<T>(scale * dist(rng));
  return t;
}

// CPU result `ref` against CUDA result `got` (brought back), and `again` (a second CUDA run) bitwise.
template <typename T>
void compare_gpu(const char* what, const Tensor& ref, const Tensor& got, const Tensor& again, double tol) {
  const Tensor g = got.to(Device{}).contiguous(), a = again.to(Device{}).contiguous(), r = ref.contiguous();
  bool same_shape = g.shape() == r.shape() && a.shape() == r.shape();
  double worst = same_shape ? 0.0 : INFINITY;
  bool bitwise = same_shape;
  for (int64_t i = 0; same_shape && i < r.numel(); ++i) {
    const double e = std::fabs(double(g.data<T>()[i]) - double(r.data<T>()[i])) / (1.0 + std::fabs(r.data<T>()[i]));
    if (!(e <= worst)) worst = std::isnan(e) ? INFINITY : e;
    bitwise = bitwise && std::memcmp(&g.data<T>()[i], &a.data<T>()[i], sizeof(T)) == 0;
  }
  if (!(worst <= tol) || !bitwise)
    std::printf("GPU %s (%s): worst relative error %g, deterministic %d\n", what, dtype_name(dtype_of<T>::value), worst,
                int(bitwise));
  EXPECT(worst <= tol);
  EXPECT(bitwise);
}

template <typename T>
void gpu_conv_case(const Case& k, std::mt19937& rng, double tol) {
  const Tensor x = random_tensor<T>({k.n, k.c, k.h, k.w}, rng),
               w = random_tensor<T>({k.oc, k.c / k.args.groups, k.kh, k.kw}, rng);
  const Tensor b = random_tensor<T>({k.oc}, rng);
  const Tensor xg = x.to(gpu), wg = w.to(gpu), bg = b.to(gpu);
  const Tensor y = conv2d_forward(x, w, b, k.args);
  compare_gpu<T>("conv2d", y, conv2d_forward(xg, wg, bg, k.args), conv2d_forward(xg, wg, bg, k.args), tol);
  const Tensor dout = random_tensor<T>(y.shape(), rng), dg = dout.to(gpu);
  auto [dx, dw, db] = conv2d_backward(dout, x, w, k.args, true, true, false);
  auto [dx1, dw1, db1] = conv2d_backward(dg, xg, wg, k.args, true, true, false);
  auto [dx2, dw2, db2] = conv2d_backward(dg, xg, wg, k.args, true, true, false);
  compare_gpu<T>("conv2d input grad", dx, dx1, dx2, tol);
  compare_gpu<T>("conv2d weight grad", dw, dw1, dw2, tol);
  // The transposed convolution with the same weight: x as its input (C = k.oc channels in y's shape).
  const Tensor tb = random_tensor<T>({k.c}, rng), tbg = tb.to(gpu);
  const Tensor ty = conv_transpose2d_forward(dout, w, tb, k.args, 0, 0);
  compare_gpu<T>("conv_transpose2d", ty, conv_transpose2d_forward(dg, wg, tbg, k.args, 0, 0),
                 conv_transpose2d_forward(dg, wg, tbg, k.args, 0, 0), tol);
  const Tensor tdout = random_tensor<T>(ty.shape(), rng), tdg = tdout.to(gpu);
  auto [tdx, tdw, tdb] = conv_transpose2d_backward(tdout, dout, w, k.args, true, true, false);
  auto [tdx1, tdw1, tdb1] = conv_transpose2d_backward(tdg, dg, wg, k.args, true, true, false);
  auto [tdx2, tdw2, tdb2] = conv_transpose2d_backward(tdg, dg, wg, k.args, true, true, false);
  compare_gpu<T>("conv_transpose2d input grad", tdx, tdx1, tdx2, tol);
  compare_gpu<T>("conv_transpose2d weight grad", tdw, tdw1, tdw2, tol);
}

template <typename T>
void gpu_pad_and_deform(std::mt19937& rng, double tol) {
  // 2-D pads of a 4-D input, 1-D pads of a 3-D one
  const std::pair<Shape, std::vector<int64_t>> pad_cases[] = {{{2, 3, 6, 7}, {2, 3, 1, 4}}, {{2, 3, 7}, {3, 1}}};
  for (const auto& [shape, pads] : pad_cases)
    for (PadMode mode : {PadMode::Constant, PadMode::Reflect, PadMode::Replicate, PadMode::Circular}) {
      const Tensor x = random_tensor<T>(shape, rng), xg = x.to(gpu);
      const Tensor y = pad_forward(x, pads, mode, 0.5);
      compare_gpu<T>("pad", y, pad_forward(xg, pads, mode, 0.5), pad_forward(xg, pads, mode, 0.5), tol);
      const Tensor d = random_tensor<T>(y.shape(), rng), dg = d.to(gpu);
      compare_gpu<T>("pad_backward", pad_backward(d, x.shape(), pads, mode), pad_backward(dg, x.shape(), pads, mode),
                     pad_backward(dg, x.shape(), pads, mode), tol);
    }
  DeformConv2dArgs a;
  a.stride_h = 2, a.pad_h = 1, a.pad_w = 1, a.dilation_w = 2;
  const Tensor dx_in = random_tensor<T>({2, 4, 9, 8}, rng), w = random_tensor<T>({6, 2, 3, 3}, rng);
  const int64_t OH = (9 + 2 - 3) / 2 + 1, OW = (8 + 2 - 5) / 1 + 1;
  const Tensor off = random_tensor<T>({2, 2 * 2 * 9, OH, OW}, rng, 2.0),
               mask = random_tensor<T>({2, 2 * 9, OH, OW}, rng);
  const Tensor b = random_tensor<T>({6}, rng);
  const Tensor g_x = dx_in.to(gpu), g_off = off.to(gpu), g_mask = mask.to(gpu), g_w = w.to(gpu), g_b = b.to(gpu);
  const Tensor y = deform_conv2d_forward(dx_in, off, mask, w, b, a);
  compare_gpu<T>("deform_conv2d", y, deform_conv2d_forward(g_x, g_off, g_mask, g_w, g_b, a),
                 deform_conv2d_forward(g_x, g_off, g_mask, g_w, g_b, a), tol);
  const Tensor d = random_tensor<T>(y.shape(), rng), dg = d.to(gpu);
  auto r = deform_conv2d_backward(d, dx_in, off, mask, w, a, true, true, true, true, true);
  auto r1 = deform_conv2d_backward(dg, g_x, g_off, g_mask, g_w, a, true, true, true, true, true);
  auto r2 = deform_conv2d_backward(dg, g_x, g_off, g_mask, g_w, a, true, true, true, true, true);
  compare_gpu<T>("deform_conv2d dx", std::get<0>(r), std::get<0>(r1), std::get<0>(r2), tol);
  compare_gpu<T>("deform_conv2d doffset", std::get<1>(r), std::get<1>(r1), std::get<1>(r2), tol);
  compare_gpu<T>("deform_conv2d dmask", std::get<2>(r), std::get<2>(r1), std::get<2>(r2), tol);
  compare_gpu<T>("deform_conv2d dw", std::get<3>(r), std::get<3>(r1), std::get<3>(r2), tol);
  compare_gpu<T>("deform_conv2d db", std::get<4>(r), std::get<4>(r1), std::get<4>(r2), tol);
}

void check_on_gpu(const Case* cases, size_t count, std::mt19937& rng) {
  if (cuda::device_count() == 0) {
    std::printf("no GPU: the CUDA-vs-CPU comparisons of the conv ops run CPU-vs-CPU (a check of the harness)\n");
    gpu = Device{};
  }
  const Case big[] = {{8, 16, 32, 32, 32, 3, 3, conv2d_args({1, 1}, {1, 1}, {1, 1}, 1)},    // split weight grad
                      {4, 64, 15, 17, 64, 3, 3, conv2d_args({2, 2}, {1, 1}, {1, 1}, 64)}};  // depthwise, larger
  for (int pass = 0; pass < (gpu.is_cuda() ? 2 : 1); ++pass) {  // twice on a GPU: a warm caching allocator too
    for (size_t i = 0; i < count; ++i) {
      gpu_conv_case<double>(cases[i], rng, 1e-11);
      gpu_conv_case<float>(cases[i], rng, 1e-4);
    }
    for (const Case& k : big) {
      gpu_conv_case<double>(k, rng, 1e-11);
      gpu_conv_case<float>(k, rng, 1e-4);
    }
  }
  gpu_pad_and_deform<double>(rng, 1e-11);
  gpu_pad_and_deform<float>(rng, 1e-4);
}

}  // namespace

int main() {
  std::mt19937 rng(7);
  check_fast_div(rng);
  const Case cases[] = {
      {2, 3, 7, 9, 5, 3, 3, conv2d_args({1, 1}, {1, 1}, {1, 1}, 1)},    // odd sizes, padding
      {3, 4, 11, 6, 6, 3, 2, conv2d_args({2, 3}, {2, 1}, {1, 2}, 2)},   // strides 2 and 3, groups, non-square
      {1, 6, 9, 10, 9, 3, 3, conv2d_args({3, 3}, {2, 2}, {2, 2}, 3)},   // stride 3, dilation 2, groups 3
      {2, 5, 5, 7, 7, 1, 1, conv2d_args({1, 1}, {0, 0}, {1, 1}, 1)},    // 1x1 (pointwise)
      {2, 4, 6, 5, 4, 2, 3, conv2d_args({1, 2}, {3, 3}, {1, 1}, 1)},    // padding > kernel / 2
      {1, 2, 3, 3, 3, 3, 3, conv2d_args({2, 2}, {2, 2}, {1, 1}, 1)},    // output pixels that see only padding
      {2, 33, 5, 5, 70, 3, 3, conv2d_args({1, 1}, {1, 1}, {1, 1}, 1)},  // several row tiles and K slices
      {1, 8, 4, 70, 6, 1, 5, conv2d_args({1, 1}, {0, 2}, {1, 1}, 2)},   // several column tiles
      {4, 2, 20, 20, 3, 3, 3, conv2d_args({1, 1}, {1, 1}, {1, 1}, 1)},  // N*P = 1600: the weight grad splits
      {2, 4, 8, 7, 4, 3, 3, conv2d_args({1, 1}, {1, 1}, {1, 1}, 4)},    // depthwise
      {2, 3, 9, 8, 6, 3, 3, conv2d_args({2, 2}, {2, 1}, {1, 1}, 3)},    // depthwise, multiplier 2, stride 2
      {1, 3, 11, 8, 3, 5, 3, conv2d_args({1, 3}, {4, 1}, {2, 1}, 3)},   // depthwise, dilation, large padding
      {2, 6, 5, 6, 4, 3, 3, conv2d_args({1, 1}, {1, 1}, {1, 1}, 2)},    // groups, OCg < Cg
  };
  int case_no = 0;
  for (const Case& k : cases) check_case(k, ++case_no, rng);
  check_pad(rng);
  check_pad_entry_points(rng);
  check_channel_bias(rng);
  check_deform(rng);
  check_on_gpu(cases, sizeof(cases) / sizeof(cases[0]), rng);
  std::printf("%d failed\n", failures);
  return failures ? 1 : 0;
}
