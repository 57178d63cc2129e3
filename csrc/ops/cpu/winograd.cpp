// Winograd F(4x4, 3x3) convolution (Lavin & Gray 2016) for stride-1 3x3 float32 layers. The output is cut
// into 4x4 tiles, each computed from a 6x6 input patch d as Y = A^T [(G g G^T) .* (B^T d B)] A; summed over
// input channels, the elementwise product becomes, for each of the 36 positions xi of the 6x6 transform,
// one GEMM  M[xi] (OC, tiles) = U[xi] (OC, C) @ V[xi] (C, tiles).  That is 36 multiply-adds per 16 outputs
// and input channel instead of 144: a quarter of the GEMM path's work, for three transforms around it. The
// weight gradient is the adjoint: dU[xi] = (A dy A^T)[xi] @ V[xi]^T, then dw = G^T dU G.
// Why F(4x4, 3x3): F(2x2, 3x3) saves only 2.25x; F(6x6, 3x3) saves 5.1x, but needs the points +-1/2, +-4,
// whose float32 error the literature (Lavin & Gray; Barabasz et al. 2020) puts an order of magnitude above
// F(4x4)'s, which already measures ~10x the GEMM path's (tests/test_winograd.py). Neither alternative was
// implemented and timed here.
// Layout: the tiles are taken in blocks of Tp (a multiple of the GEMM's NR) sized so that one block's V and
// M (36 * (C + OC) * Tp floats) stay in L2. The input transform writes V straight into the packed-B layout
// of the GEMM kernels (simd/simd.h), the weights U are transformed and packed once per call, and the output
// transform reads M and adds the bias. Threads take whole blocks when there are enough of them, else split
// each block's three phases (channels, the 36 GEMMs, output channels): both give every output the same
// arithmetic, so results do not depend on the thread count.
#include "pycnn/ops/cpu/winograd.h"

#include <algorithm>  // defines: std::min, std::max
#include <atomic>
#include <cstdlib>  // defines: std::getenv
#include <vector>

#include "pycnn/core/parallel.h"                 // defines: parallel_for, get_num_threads
#include "pycnn/ops/cpu/cpu_ops.h"               // defines: conv2d_geometry
#include "pycnn/ops/cpu/gemm_blocks.h"           // defines: ScratchBuffer, even_block, round_up
#include "pycnn/ops/cpu/simd/simd.h"             // defines: gemm_kernels, kernel_set, WinogradKernels
#include "pycnn/ops/cpu/simd/winograd_kernel.h"  // defines: kWinoLanes

namespace pycnn::cpu {

// ---- the choice of algorithm ---------------------------------------------------------------------------

namespace {

Conv2dAlgo algo_from_env() {
  const char* env = std::getenv("PYCNN_CONV2D_ALGO");
  return env && *env ? parse_enum<Conv2dAlgo>(env) : Conv2dAlgo::Auto;
}

// Read from the environment on first use (a bad name raises then, from the first convolution).
std::atomic<Conv2dAlgo>& algo_setting() {
  static std::atomic<Conv2dAlgo> algo{algo_from_env()};
  return algo;
}

bool winograd_can(const Conv2dGeometry& g, Conv2dPass pass) {
  const bool shape = g.G == 1 && g.KH == 3 && g.KW == 3 && g.stride_h == 1 && g.stride_w == 1 && g.dilation_h == 1 &&
                     g.dilation_w == 1 && g.N > 0 && g.C > 0 && g.OC > 0 && g.OH > 0 && g.OW > 0;
  // The input gradient pads dout by 2 - pad: a negative padding (a crop) is left to the GEMM path.
  return shape && (pass != Conv2dPass::InputGrad || (g.pad_h <= 2 && g.pad_w <= 2));
}

// The auto rule, from single-thread measurements on Zen 5 (docs/architecture.md): Winograd ran 1.3-3x faster
// than the GEMM path once the convolution it computes (the input gradient swaps the channel counts) has at
// least 8 input and 8 output channels and 256 output pixels in all (N * OH * OW): the weight transform
// costs as much as about 150 output pixels of work, and with fewer channels the transforms outweigh the
// GEMMs they shrink (a 3-channel stem, LeNet's 1 and 6 channels: 0.5-0.9x).
bool winograd_pays(int64_t N, int64_t C, int64_t OC, int64_t OH, int64_t OW) {
  return C >= 8 && OC >= 8 && N * OH * OW >= 256;
}

}  // namespace

void set_conv2d_algorithm(Conv2dAlgo algo) { algo_setting().store(algo); }
Conv2dAlgo conv2d_algorithm() { return algo_setting().load(); }

Conv2dAlgo conv2d_algorithm_for(const Conv2dGeometry& g, DType dtype, Conv2dPass pass) {
  const Conv2dAlgo asked = conv2d_algorithm();
  if (dtype != DType::Float32 || asked == Conv2dAlgo::Gemm || !winograd_can(g, pass)) return Conv2dAlgo::Gemm;
  if (asked == Conv2dAlgo::Winograd) return Conv2dAlgo::Winograd;
  const bool input_grad = pass == Conv2dPass::InputGrad;
  const bool pays = input_grad ? winograd_pays(g.N, g.OC, g.C, g.H, g.W) : winograd_pays(g.N, g.C, g.OC, g.OH, g.OW);
  return pays ? Conv2dAlgo::Winograd : Conv2dAlgo::Gemm;
}

Conv2dAlgo conv2d_algorithm_for(const Shape& x, const Shape& w, const Conv2dArgs& a, DType dtype, Conv2dPass pass) {
  PYCNN_CHECK(x.size() == 4 && w.size() == 4, "[conv2d] expected 4-d input and weight shapes, got ", shape_str(x),
              " and ", shape_str(w));
  PYCNN_CHECK(a.stride_h > 0 && a.stride_w > 0 && a.dilation_h > 0 && a.dilation_w > 0 && a.groups > 0,
              "[conv2d] stride, dilation and groups must be positive");
  const int64_t OH = (x[2] + 2 * a.pad_h - a.dilation_h * (w[2] - 1) - 1) / a.stride_h + 1;
  const int64_t OW = (x[3] + 2 * a.pad_w - a.dilation_w * (w[3] - 1) - 1) / a.stride_w + 1;
  return conv2d_algorithm_for(conv2d_geometry(x, w, {x[0], w[0], OH, OW}, a), dtype, pass);
}

// ---- the convolution -------------------------------------------------------------------------------------

namespace {

constexpr int L = kWinoLanes;
constexpr int64_t kTile = 4, kAlpha = 6, kPositions = kAlpha * kAlpha;
constexpr int64_t kWeightGradBytes = 16 << 20;  // the most scratch a weight-gradient block's V and M take

// A stride-1 3x3 correlation with zero padding: x (N, C, IH, IW) -> y (N, OC, OH, OW), y[oh, ow] reading
// x[oh - pad_h + kh, ow - pad_w + kw] (zero outside x). The forward is the conv itself; the input gradient
// is this with x = dout, y = dx, the channel counts swapped and pad 2 - pad.
struct Problem {
  int64_t N, C, IH, IW, OC, OH, OW, pad_h, pad_w;
  int64_t TH, TW, tiles;  // 4x4 output tiles per column, per row, in all
  Problem(int64_t n, int64_t c, int64_t ih, int64_t iw, int64_t oc, int64_t oh, int64_t ow, int64_t ph, int64_t pw)
      : N(n), C(c), IH(ih), IW(iw), OC(oc), OH(oh), OW(ow), pad_h(ph), pad_w(pw) {
    TH = ceil_div(OH, kTile), TW = ceil_div(OW, kTile), tiles = N * TH * TW;
  }
};

// The GEMM kernels of the kernel set in use, with the blocking this file needs from them.
struct Kernels {
  GemmKernels<float> gemm;
  int64_t mr, nr, mc, kc;
  void (*input)(const float* rows, int64_t rs, int n, float* v, int64_t v_stride);
  void (*output)(const float* m, int64_t m_stride, int n, float bias, float* rows, int64_t rs);
  void (*weight)(const float* g, int n, float* u, int64_t u_stride);
  void (*dout)(const float* rows, int64_t rs, int n, float* m, int64_t m_stride);
  void (*weight_grad)(const float* du, int64_t du_stride, int n, float* g);
};

Kernels kernels_for(const Problem& p) {
  Kernels k;
  k.gemm = gemm_kernels<float>();
  k.mr = k.gemm.mr, k.nr = k.gemm.nr;
  k.mc = even_block(p.OC, k.gemm.mc, k.mr);
  k.kc = even_block(p.C, k.gemm.kc, 1);
  const WinogradKernels& w = kernel_set().winograd_f43;
  k.input = w.input, k.output = w.output, k.weight = w.weight, k.dout = w.dout, k.weight_grad = w.weight_grad;
  return k;
}

// A run of horizontally adjacent tiles, the unit the transforms take: tiles t .. t + len - 1 of a block
// (block-relative), image n, tile row th, columns tw .. tw + len - 1. Runs never cross an NR panel of the
// packed V, and hold at most kWinoLanes tiles.
struct Run {
  int64_t t, n, th, tw;
  int len;
};

thread_local ScratchBuffer tl_v, tl_m, tl_upack, tl_filters, tl_du;
thread_local std::vector<Run> tl_runs;

class Winograd {
 public:
  // Tiles go in blocks of at least min_block (rounded to NR panels).
  Winograd(const Problem& p, int64_t min_block) : p_(p), k_(kernels_for(p)), Mp_(round_up(p.OC, k_.mr)) {
    // Blocks of tiles: as many as keep V and M of one block within about half of L2 (the other half holds the
    // packed weight panels streaming through), at least two NR panels so the GEMMs are not all edge.
    constexpr double kBlockBytes = 1 << 20;
    const int64_t per_tile = kPositions * (p.C + p.OC) * int64_t(sizeof(float));
    const int64_t most = std::max(round_up(min_block, k_.nr), int64_t(kBlockBytes / per_tile) / k_.nr * k_.nr);
    blocks_ = ceil_div(p.tiles, most);
    Tp_ = round_up(ceil_div(p.tiles, blocks_), k_.nr);
    // One position's V and M apart by a multiple of 4 KiB would put the 36 rows a transform touches in one
    // cache set; a 64-byte offset spreads them.
    vs_ = p.C * Tp_ + 16, ms_ = p.OC * Tp_ + 16;
  }

  // y = the convolution of x with the weights w_at(o, i, kh, kw) (output channel o, input channel i), + bias.
  template <typename W>
  void forward(const W& w_at, const float* x, const float* bias, float* y) {
    transform_weights(w_at);
    // Enough blocks: each thread takes whole ones, with its own V and M. Otherwise one block at a time,
    // its phases split between threads (the parallel_for calls inside run serially in the first case).
    if (blocks_ >= 2 * get_num_threads()) {
      parallel_for(blocks_, 1, [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b) block(b, x, bias, y);
      });
    } else {
      for (int64_t b = 0; b < blocks_; ++b) block(b, x, bias, y);
    }
  }

  // dw (OC, C, 3, 3) = G^T dU G, dU[xi] (OC, C) = sum over tiles of dM[xi] (A dy A^T of dout's tiles) times
  // V[xi]^T (the forward's input tiles): the adjoint of the forward's three steps. The blocks are summed one
  // after another (threads split each block's work, never a sum), so dw does not depend on the thread count.
  void weight_grad(const float* x, const float* dout, float* dw) const {
    const int64_t OC = p_.OC, C = p_.C;
    float* du = tl_du.get<float>(kPositions * OC * C);
    std::vector<Run>& runs = tl_runs;
    float* v = tl_v.get<float>(kPositions * vs_);
    float* m = tl_m.get<float>(kPositions * ms_);
    for (int64_t b = 0; b < blocks_; ++b) {
      block_runs(b * Tp_, runs);
      parallel_for(C, 1, [&](int64_t c0, int64_t c1) { input_tiles(x, runs, c0, c1, v, false); });
      parallel_for(OC, 1, [&](int64_t o0, int64_t o1) { dout_tiles(dout, runs, o0, o1, m); });
      parallel_for(kPositions, 1, [&](int64_t x0, int64_t x1) {
        for (int64_t xi = x0; xi < x1; ++xi)
          gemm(false, true, OC, C, Tp_, 1.0f, m + xi * ms_, Tp_, v + xi * vs_, Tp_, b == 0 ? 0.0f : 1.0f,
               du + xi * OC * C, C);
      });
    }
    parallel_for(OC, 1, [&](int64_t o0, int64_t o1) {
      float* g = tl_filters.get<float>(9 * C);
      for (int64_t o = o0; o < o1; ++o) {
        k_.weight_grad(du + o * C, OC * C, static_cast<int>(C), g);
        for (int64_t i = 0; i < C; ++i)
          for (int tap = 0; tap < 9; ++tap) dw[(o * C + i) * 9 + tap] = g[tap * C + i];
      }
    });
  }

 private:
  // U[xi] = (G g G^T)[xi] for every (o, i), written straight into the GEMM's packed-A layout (simd.h: per
  // kc-deep slice, MR-row panels of kcur steps of MR values, rows past OC zero): xi's (OC, C) matrix at
  // upack + xi * Mp * C, slice pc at + Mp * pc. Within one panel's slice the (i, row) pairs are consecutive
  // for every xi, so the kernel transforms them as one run of filters and writes 36 contiguous runs.
  template <typename W>
  void transform_weights(const W& w_at) {
    const int64_t OC = p_.OC, C = p_.C, MR = k_.mr;
    float* upack = tl_upack.get<float>(kPositions * Mp_ * C);
    const int64_t panels = Mp_ / MR, slices = ceil_div(C, k_.kc);
    parallel_for(panels * slices, 1, [&](int64_t j0, int64_t j1) {
      float* g = tl_filters.get<float>(9 * k_.kc * MR);
      for (int64_t j = j0; j < j1; ++j) {
        const int64_t q = j / slices, pc = j % slices * k_.kc, kcur = std::min(k_.kc, C - pc), n = kcur * MR;
        for (int64_t i = 0; i < kcur; ++i)
          for (int64_t r = 0; r < MR; ++r) {
            const int64_t o = q * MR + r, s = i * MR + r;
            for (int tap = 0; tap < 9; ++tap) g[tap * n + s] = o < OC ? w_at(o, pc + i, tap / 3, tap % 3) : 0.0f;
          }
        k_.weight(g, static_cast<int>(n), upack + Mp_ * pc + q * n, Mp_ * C);
      }
    });
    upack_ = upack;
  }

  // One block of tiles, t0 = b * Tp onwards: input transform, 36 GEMMs, output transform.
  void block(int64_t b, const float* x, const float* bias, float* y) const {
    std::vector<Run>& runs = tl_runs;
    block_runs(b * Tp_, runs);
    float* v = tl_v.get<float>(kPositions * vs_);
    float* m = tl_m.get<float>(kPositions * ms_);
    parallel_for(p_.C, 1, [&](int64_t c0, int64_t c1) { input_tiles(x, runs, c0, c1, v, true); });
    parallel_for(kPositions, 1, [&](int64_t x0, int64_t x1) { products(v, x0, x1, m); });
    parallel_for(p_.OC, 1, [&](int64_t o0, int64_t o1) { output_tiles(m, bias, runs, o0, o1, y); });
  }

  // The runs of the block's real tiles t0 .. (the columns of the last block past the last tile are padding).
  void block_runs(int64_t t0, std::vector<Run>& runs) const {
    runs.clear();
    const int64_t end = std::min(Tp_, p_.tiles - t0), per_image = p_.TH * p_.TW;
    for (int64_t t = 0; t < end;) {
      const int64_t tile = t0 + t, r = tile % per_image, tw = r % p_.TW;
      const int64_t len = std::min({p_.TW - tw, end - t, k_.nr - t % k_.nr, int64_t(L)});
      runs.push_back({t, tile / per_image, r / p_.TW, tw, static_cast<int>(len)});
      t += len;
    }
  }

  // V[xi] (C, Tp) for channels [c0, c1) at v + xi * vs: packed, in gemm_pack_b's layout slice by slice
  // (column t of channel c in slice pc, kcur deep, at + pc * Tp + (t / NR) * kcur * NR + (c - pc) * NR + t % NR),
  // else row-major (at + c * Tp + t).
  void input_tiles(const float* x, const std::vector<Run>& runs, int64_t c0, int64_t c1, float* v, bool packed) const {
    alignas(64) float buf[6 * (4 * L + 2)];  // a run's six input rows, zero-padded, when they leave the image
    const int64_t vs = vs_, real = runs.empty() ? 0 : runs.back().t + runs.back().len;
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t pc = c / k_.kc * k_.kc, kcur = std::min(k_.kc, p_.C - pc);
      float* vc = packed ? v + pc * Tp_ + (c - pc) * k_.nr : v + c * Tp_;
      auto at_column = [&](int64_t t) { return packed ? vc + t / k_.nr * kcur * k_.nr + t % k_.nr : vc + t; };
      for (const Run& r : runs) {
        const float* plane = x + (r.n * p_.C + c) * p_.IH * p_.IW;
        const int64_t h0 = r.th * kTile - p_.pad_h, w0 = r.tw * kTile - p_.pad_w, width = 4 * r.len + 2;
        if (h0 >= 0 && h0 + kAlpha <= p_.IH && w0 >= 0 && w0 + width <= p_.IW) {
          k_.input(plane + h0 * p_.IW + w0, p_.IW, r.len, at_column(r.t), vs);
          continue;
        }
        // Columns [lo, hi) of the run lie inside the image; rows outside it are all zero.
        const int64_t lo = std::min(width, std::max<int64_t>(0, -w0)), hi = std::max(lo, std::min(width, p_.IW - w0));
        for (int64_t i = 0; i < kAlpha; ++i) {
          float* row = buf + i * width;
          const int64_t h = h0 + i;
          for (int64_t w = 0; w < width; ++w) row[w] = 0.0f;
          if (h >= 0 && h < p_.IH)
            for (int64_t w = lo; w < hi; ++w) row[w] = plane[h * p_.IW + w0 + w];
        }
        k_.input(buf, width, r.len, at_column(r.t), vs);
      }
      // Padding columns of the last block: zeros, so that the GEMM reads no stale values.
      for (int64_t t = real; t < Tp_; ++t)
        for (int64_t xi = 0; xi < kPositions; ++xi) at_column(t)[xi * vs] = 0.0f;
    }
  }

  // M[xi] (OC, Tp) = U[xi] @ V[xi] for xi in [x0, x1), row-major at m + xi * ms.
  void products(const float* v, int64_t x0, int64_t x1, float* m) const {
    for (int64_t xi = x0; xi < x1; ++xi) {
      const float* u = upack_ + xi * Mp_ * p_.C;
      for (int64_t pc = 0; pc < p_.C; pc += k_.kc) {
        const int64_t kcur = std::min(k_.kc, p_.C - pc);
        for (int64_t ic = 0; ic < p_.OC; ic += k_.mc)
          k_.gemm.macro(std::min(k_.mc, p_.OC - ic), Tp_, kcur, 1.0f, u + Mp_ * pc + ic / k_.mr * kcur * k_.mr,
                        v + xi * vs_ + pc * Tp_, pc == 0 ? 0.0f : 1.0f, m + xi * ms_ + ic * Tp_, Tp_, 1);
      }
    }
  }

  // y tiles of output channels [o0, o1) = A^T M A + bias, clipped at the image's right and bottom edges.
  void output_tiles(const float* m, const float* bias, const std::vector<Run>& runs, int64_t o0, int64_t o1,
                    float* y) const {
    alignas(64) float buf[4 * 4 * L];  // a run's four output rows, when they would leave the image
    for (int64_t o = o0; o < o1; ++o) {
      const float b = bias ? bias[o] : 0.0f;
      for (const Run& r : runs) {
        float* plane = y + (r.n * p_.OC + o) * p_.OH * p_.OW;
        const int64_t h0 = r.th * kTile, w0 = r.tw * kTile, width = 4 * r.len;
        if (h0 + kTile <= p_.OH && w0 + width <= p_.OW) {
          k_.output(m + o * Tp_ + r.t, ms_, r.len, b, plane + h0 * p_.OW + w0, p_.OW);
          continue;
        }
        k_.output(m + o * Tp_ + r.t, ms_, r.len, b, buf, width);
        const int64_t rows = std::min(kTile, p_.OH - h0), cols = std::min(width, p_.OW - w0);
        for (int64_t i = 0; i < rows; ++i)
          for (int64_t j = 0; j < cols; ++j) plane[(h0 + i) * p_.OW + w0 + j] = buf[i * width + j];
      }
    }
  }

  // dM[xi] (OC, Tp) for output channels [o0, o1), row-major at m + xi * ms: A dy A^T of dout's 4x4 tiles,
  // zero past the image's right and bottom edges and in the padding columns of the last block.
  void dout_tiles(const float* dout, const std::vector<Run>& runs, int64_t o0, int64_t o1, float* m) const {
    alignas(64) float buf[4 * 4 * L];  // a run's four rows of dout, zero-padded, when they leave the image
    const int64_t real = runs.empty() ? 0 : runs.back().t + runs.back().len;
    for (int64_t o = o0; o < o1; ++o) {
      for (const Run& r : runs) {
        const float* plane = dout + (r.n * p_.OC + o) * p_.OH * p_.OW;
        const int64_t h0 = r.th * kTile, w0 = r.tw * kTile, width = 4 * r.len;
        if (h0 + kTile <= p_.OH && w0 + width <= p_.OW) {
          k_.dout(plane + h0 * p_.OW + w0, p_.OW, r.len, m + o * Tp_ + r.t, ms_);
          continue;
        }
        const int64_t rows = std::min(kTile, p_.OH - h0), cols = std::min(width, p_.OW - w0);
        for (int64_t i = 0; i < kTile; ++i)
          for (int64_t j = 0; j < width; ++j)
            buf[i * width + j] = i < rows && j < cols ? plane[(h0 + i) * p_.OW + w0 + j] : 0.0f;
        k_.dout(buf, width, r.len, m + o * Tp_ + r.t, ms_);
      }
      for (int64_t t = real; t < Tp_; ++t)
        for (int64_t xi = 0; xi < kPositions; ++xi) m[xi * ms_ + o * Tp_ + t] = 0.0f;
    }
  }

  const Problem p_;
  const Kernels k_;
  const int64_t Mp_;
  int64_t blocks_, Tp_, vs_, ms_;  // blocks, tiles per block, floats per position of V and of M
  float* upack_;                   // the calling thread's tl_upack
};

}  // namespace

void winograd_conv2d_forward(const float* x, const float* w, const float* b, float* y, const Conv2dGeometry& g) {
  const Problem p(g.N, g.C, g.H, g.W, g.OC, g.OH, g.OW, g.pad_h, g.pad_w);
  auto w_at = [&](int64_t o, int64_t i, int kh, int kw) { return w[((o * g.C + i) * 3 + kh) * 3 + kw]; };
  Winograd(p, 1).forward(w_at, x, b, y);
}

// dx[c, h, w] = sum over oc, kh, kw of dout[oc, h + pad - kh, w + pad - kw] w[oc, c, kh, kw]: a correlation
// of dout with w[oc, c] rotated by 180 degrees, padded by 2 - pad.
void winograd_conv2d_input_grad(const float* dout, const float* w, float* dx, const Conv2dGeometry& g) {
  const Problem p(g.N, g.OC, g.OH, g.OW, g.C, g.H, g.W, 2 - g.pad_h, 2 - g.pad_w);
  auto w_at = [&](int64_t c, int64_t oc, int kh, int kw) { return w[((oc * g.C + c) * 3 + 2 - kh) * 3 + 2 - kw]; };
  Winograd(p, 1).forward(w_at, dout, nullptr, dx);
}

void winograd_conv2d_weight_grad(const float* dout, const float* x, float* dw, const Conv2dGeometry& g) {
  const Problem p(g.N, g.C, g.H, g.W, g.OC, g.OH, g.OW, g.pad_h, g.pad_w);
  // Deeper blocks than the forward's: each block's GEMMs read and write all of dU, and sum over its tiles;
  // up to 256 tiles, while a block's V and M stay under kWeightGradBytes.
  const int64_t per_tile = kPositions * (g.C + g.OC) * int64_t(sizeof(float));
  Winograd(p, std::clamp<int64_t>(kWeightGradBytes / per_tile, 1, 256)).weight_grad(x, dout, dw);
}

}  // namespace pycnn::cpu
