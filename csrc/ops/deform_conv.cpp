// Deformable convolution, torchvision.ops.deform_conv2d's semantics: v1 (offsets) and v2 (offsets and a
// modulation mask). groups come from the weight (C / weight.size(1)) and offset groups from the offset
// (offset.size(1) / (2 * KH * KW)), as in torchvision. Kernels in ops/cpu/deform_conv.cpp and
// ops/cuda/deform_conv.cu.
#include <tuple>

#include "pycnn/ops/checks.h"
#include "pycnn/ops/dispatch.h"  // defines: PYCNN_DISPATCH
#include "pycnn/ops/ops.h"

namespace pycnn {

namespace {

struct DeformShapes {
  cpu::DeformGeometry geom;
  int64_t N, OC, groups;
};

DeformShapes check_deform_args(const Tensor& x, const Tensor& offset, const Tensor& mask, const Tensor& w,
                               const DeformConv2dArgs& a, const char* op) {
  check_floating(x, op, "input");
  check_defined(offset, op, "offset");
  check_defined(w, op, "weight");
  check_same(x, offset, op, "input", "offset");
  check_same(x, w, op, "input", "weight");
  check_rank(x, 4, op, "input", "(N, C, H, W)");
  check_rank(offset, 4, op, "offset", "(N, 2*offset_groups*KH*KW, OH, OW)");
  check_rank(w, 4, op, "weight", "(OC, C/groups, KH, KW)");
  check_stride_pad_dilation(a, op);
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t OC = w.size(0), KH = w.size(2), KW = w.size(3);
  PYCNN_CHECK(KH > 0 && KW > 0 && w.size(1) > 0, "[", op, "] weight ", shape_str(w.shape()),
              " must have a positive C/groups and kernel size");
  PYCNN_CHECK(C % w.size(1) == 0, "[", op, "] input channels ", C, " (input ", shape_str(x.shape()),
              ") are not a multiple of weight.size(1) = ", w.size(1), " (weight ", shape_str(w.shape()), ")");
  const int64_t groups = C / w.size(1);
  PYCNN_CHECK(OC % groups == 0, "[", op, "] out_channels ", OC, " (weight ", shape_str(w.shape()),
              ") is not divisible by groups ", groups);
  const int64_t ph = checked_add(H, checked_mul(2, a.pad_h, op), op),
                pw = checked_add(W, checked_mul(2, a.pad_w, op), op);
  const int64_t eh = checked_mul(a.dilation_h, KH - 1, op) + 1, ew = checked_mul(a.dilation_w, KW - 1, op) + 1;
  const int64_t OH = (ph - eh) / a.stride_h + 1;
  const int64_t OW = (pw - ew) / a.stride_w + 1;
  PYCNN_CHECK(ph >= eh && pw >= ew, "[", op, "] the dilated kernel ", shape_str(w.shape()),
              " is larger than the padded input ", shape_str(x.shape()));
  const int64_t KK = KH * KW;
  PYCNN_CHECK(offset.size(0) == N && offset.size(1) > 0 && offset.size(1) % (2 * KK) == 0 && offset.size(2) == OH &&
                  offset.size(3) == OW,
              "[", op, "] expected offset of shape (", N, ", 2*offset_groups*", KK, ", ", OH, ", ", OW, ") for input ",
              shape_str(x.shape()), " and weight ", shape_str(w.shape()), ", got ", shape_str(offset.shape()));
  const int64_t offset_groups = offset.size(1) / (2 * KK);
  PYCNN_CHECK(C % offset_groups == 0, "[", op, "] input channels ", C, " are not divisible by offset_groups ",
              offset_groups, " (offset ", shape_str(offset.shape()), ")");
  if (mask.defined()) {
    check_same(x, mask, op, "input", "mask");
    check_rank(mask, 4, op, "mask", "(N, offset_groups*KH*KW, OH, OW)");
    PYCNN_CHECK(mask.size(0) == N && mask.size(1) == offset_groups * KK && mask.size(2) == OH && mask.size(3) == OW,
                "[", op, "] expected mask of shape (", N, ", ", offset_groups * KK, ", ", OH, ", ", OW, ") for offset ",
                shape_str(offset.shape()), ", got ", shape_str(mask.shape()));
  }
  DeformShapes s;
  cpu::DeformGeometry& g = s.geom;
  g.C = C, g.H = H, g.W = W, g.KH = KH, g.KW = KW, g.OH = OH, g.OW = OW;
  g.stride_h = a.stride_h, g.stride_w = a.stride_w, g.pad_h = a.pad_h, g.pad_w = a.pad_w;
  g.dilation_h = a.dilation_h, g.dilation_w = a.dilation_w, g.offset_groups = offset_groups;
  s.N = N, s.OC = OC, s.groups = groups;
  return s;
}

}  // namespace

Tensor deform_conv2d_forward(const Tensor& x, const Tensor& offset, const Tensor& mask, const Tensor& w,
                             const Tensor& b, const DeformConv2dArgs& args) {
  const char* op = "deform_conv2d";
  const DeformShapes s = check_deform_args(x, offset, mask, w, args, op);
  if (b.defined()) {
    check_same(x, b, op, "input", "bias");
    PYCNN_CHECK(b.dim() == 1 && b.size(0) == s.OC, "[deform_conv2d] expected bias of shape (", s.OC, "), got ",
                shape_str(b.shape()));
  }
  Tensor y = Tensor::zeros({s.N, s.OC, s.geom.OH, s.geom.OW}, x.dtype(), x.device());
  if (y.numel() == 0 || s.geom.C == 0) return y;
  Tensor xc = x.contiguous(), oc = offset.contiguous(), wc = w.contiguous();
  Tensor mc = mask.defined() ? mask.contiguous() : Tensor();
  Tensor bc = b.defined() ? b.contiguous() : Tensor();
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    PYCNN_DISPATCH(x.device(), deform_conv2d_forward<T>, xc.data<T>(), oc.data<T>(),
                   mc.defined() ? mc.data<T>() : nullptr, wc.data<T>(), bc.defined() ? bc.data<T>() : nullptr,
                   y.data<T>(), s.N, s.OC, s.groups, s.geom);
  });
  return y;
}

std::tuple<Tensor, Tensor, Tensor, Tensor, Tensor> deform_conv2d_backward(const Tensor& dout, const Tensor& x,
                                                                          const Tensor& offset, const Tensor& mask,
                                                                          const Tensor& w, const DeformConv2dArgs& args,
                                                                          bool need_dx, bool need_doffset,
                                                                          bool need_dmask, bool need_dw, bool need_db) {
  const char* op = "deform_conv2d_backward";
  const DeformShapes s = check_deform_args(x, offset, mask, w, args, op);
  check_defined(dout, op, "grad_output");
  check_same(x, dout, op, "input", "grad_output");
  const Shape out_shape{s.N, s.OC, s.geom.OH, s.geom.OW};
  PYCNN_CHECK(dout.shape() == out_shape, "[deform_conv2d_backward] expected grad_output of shape ",
              shape_str(out_shape), ", got ", shape_str(dout.shape()));
  need_dmask = need_dmask && mask.defined();
  Tensor dx = need_dx ? Tensor::zeros(x.shape(), x.dtype(), x.device()) : Tensor();
  Tensor doff = need_doffset ? Tensor::zeros(offset.shape(), x.dtype(), x.device()) : Tensor();
  Tensor dmask = need_dmask ? Tensor::zeros(mask.shape(), x.dtype(), x.device()) : Tensor();
  Tensor dw = need_dw ? Tensor::zeros(w.shape(), x.dtype(), x.device()) : Tensor();
  Tensor db = need_db ? Tensor::zeros({s.OC}, x.dtype(), x.device()) : Tensor();
  if (dout.numel() == 0 || s.geom.C == 0) return {dx, doff, dmask, dw, db};
  Tensor dc = dout.contiguous(), xc = x.contiguous(), oc = offset.contiguous(), wc = w.contiguous();
  Tensor mc = mask.defined() ? mask.contiguous() : Tensor();
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    auto ptr = [](Tensor& t) { return t.defined() ? t.data<T>() : nullptr; };
    PYCNN_DISPATCH(x.device(), deform_conv2d_backward<T>, dc.data<T>(), xc.data<T>(), oc.data<T>(),
                   mc.defined() ? mc.data<T>() : nullptr, wc.data<T>(), ptr(dx), ptr(doff), ptr(dmask), ptr(dw),
                   ptr(db), s.N, s.OC, s.groups, s.geom);
  });
  return {dx, doff, dmask, dw, db};
}

}  // namespace pycnn
