// unfold (im2col) and fold (col2im), torch.nn.functional's: unfold x (N, C, H, W) -> (N, C*KH*KW, L), column l
// the sliding block at output position l (L = OH*OW, the positions a convolution of this window visits);
// fold sums such columns back into (N, C, H, W). Each is the other's adjoint, hence its backward. Kernels in
// ops/cpu/fold.cpp (conv2d's im2col / col2im). No CUDA kernel yet.
#include <utility>  // defines: std::pair

#include "pycnn/ops/checks.h"
#include "pycnn/ops/dispatch.h"  // defines: dispatch_floating, cpu:: kernels
#include "pycnn/ops/ops.h"

namespace pycnn {

namespace {

// The window arguments' rules (conv2d's messages), then the number of blocks (OH, OW) over an H x W image.
std::pair<int64_t, int64_t> sliding_blocks(int64_t H, int64_t W, int64_t KH, int64_t KW, const Conv2dArgs& a,
                                           const char* op) {
  PYCNN_CHECK(KH > 0 && KW > 0, "[", op, "] kernel_size must be positive, got (", KH, ", ", KW, ")");
  check_stride_pad_dilation(a, op);
  const int64_t eff_h = checked_add(checked_mul(a.dilation_h, KH - 1, op), 1, op);
  const int64_t eff_w = checked_add(checked_mul(a.dilation_w, KW - 1, op), 1, op);
  const int64_t ph = checked_add(H, checked_mul(2, a.pad_h, op), op);
  const int64_t pw = checked_add(W, checked_mul(2, a.pad_w, op), op);
  PYCNN_CHECK(ph >= eff_h && pw >= eff_w, "[", op, "] spatial size (", H, ", ", W, ") padded to ", ph, "x", pw,
              " is smaller than the kernel (", eff_h, "x", eff_w, " with dilation)");
  return {(ph - eff_h) / a.stride_h + 1, (pw - eff_w) / a.stride_w + 1};
}

// A batch of N*C planes (H, W) as one image of N*C channels (ops/cpu/cpu_ops.h's fold section).
Conv2dGeometry planes_geometry(int64_t planes, int64_t H, int64_t W, int64_t KH, int64_t KW, int64_t OH, int64_t OW,
                               const Conv2dArgs& a) {
  Conv2dGeometry g{};
  g.N = 1, g.C = planes, g.H = H, g.W = W, g.OC = 1, g.KH = KH, g.KW = KW, g.OH = OH, g.OW = OW;
  g.G = 1, g.Cg = planes, g.OCg = 1, g.K = planes * KH * KW, g.P = OH * OW;
  g.stride_h = a.stride_h, g.stride_w = a.stride_w, g.pad_h = a.pad_h, g.pad_w = a.pad_w;
  g.dilation_h = a.dilation_h, g.dilation_w = a.dilation_w;
  g.pointwise = false;
  return g;
}

}  // namespace

Tensor unfold_forward(const Tensor& x, int64_t KH, int64_t KW, const Conv2dArgs& args) {
  check_floating(x, "unfold", "input");
  check_rank(x, 4, "unfold", "input", "(N, C, H, W)");
  check_cpu(x, "unfold");
  const auto [OH, OW] = sliding_blocks(x.size(2), x.size(3), KH, KW, args, "unfold");
  const int64_t N = x.size(0), C = x.size(1);
  Shape out = {N, checked_mul(checked_mul(C, KH, "unfold"), KW, "unfold"), checked_mul(OH, OW, "unfold")};
  check_output_shape(out, "unfold");
  Tensor xc = x.contiguous();
  Tensor col = Tensor::empty(out, x.dtype(), x.device());
  const Conv2dGeometry g = planes_geometry(N * C, x.size(2), x.size(3), KH, KW, OH, OW, args);
  dispatch_floating(x.dtype(), "unfold", [&](auto tag) {
    using T = decltype(tag);
    cpu::unfold_forward<T>(xc.data<T>(), col.data<T>(), g);
  });
  return col;
}

Tensor fold_forward(const Tensor& col, int64_t H, int64_t W, int64_t KH, int64_t KW, const Conv2dArgs& args) {
  check_floating(col, "fold", "input");
  check_rank(col, 3, "fold", "input", "(N, C*kH*kW, L)");
  check_cpu(col, "fold");
  PYCNN_CHECK(H > 0 && W > 0, "[fold] output_size must be positive, got (", H, ", ", W, ")");
  const auto [OH, OW] = sliding_blocks(H, W, KH, KW, args, "fold");
  const int64_t kk = checked_mul(KH, KW, "fold");
  PYCNN_CHECK(col.size(1) % kk == 0, "[fold] expected input.size(1) to be divisible by kH*kW = ", kk, " (kernel_size (",
              KH, ", ", KW, ")), got input ", shape_str(col.shape()));
  PYCNN_CHECK(col.size(2) == OH * OW, "[fold] expected input.size(2) to match the number of sliding blocks ", OH, "*",
              OW, " = ", OH * OW, " (output_size (", H, ", ", W, "), kernel_size (", KH, ", ", KW, "), dilation (",
              args.dilation_h, ", ", args.dilation_w, "), padding (", args.pad_h, ", ", args.pad_w, "), stride (",
              args.stride_h, ", ", args.stride_w, ")), got input ", shape_str(col.shape()));
  const int64_t N = col.size(0), C = col.size(1) / kk;
  Shape out = {N, C, H, W};
  check_output_shape(out, "fold");
  Tensor cc = col.contiguous();
  Tensor x = Tensor::empty(out, col.dtype(), col.device());
  const Conv2dGeometry g = planes_geometry(N * C, H, W, KH, KW, OH, OW, args);
  dispatch_floating(col.dtype(), "fold", [&](auto tag) {
    using T = decltype(tag);
    cpu::fold_forward<T>(cc.data<T>(), x.data<T>(), g);
  });
  return x;
}

}  // namespace pycnn
