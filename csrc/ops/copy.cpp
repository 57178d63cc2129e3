// copy_ and fill_: the data movement every view and conversion in core/tensor.cpp relies on.
#include "ops/cpu/cpu_ops.h"
#include "ops/ops.h"

namespace pycnn {

void copy_(Tensor& dst, const Tensor& src) {
  PYCNN_CHECK(dst.shape() == src.shape(), "[copy_] shape mismatch: destination ", shape_str(dst.shape()), ", source ",
              shape_str(src.shape()));
  PYCNN_CHECK_RUNTIME(dst.device().is_cpu() && src.device().is_cpu(), "[copy_] copies between tensors on ",
                      src.device().str(), " and ", dst.device().str(), " are not supported yet; use .to(device)");
  cpu::StridedViews v;
  v.shape = &dst.shape();
  v.strides[0] = &dst.strides();
  v.strides[1] = &src.strides();
  dispatch_all(dst.dtype(), "copy_", [&](auto dst_tag) {
    using D = decltype(dst_tag);
    dispatch_all(src.dtype(), "copy_", [&](auto src_tag) {
      using S = decltype(src_tag);
      cpu::copy_strided<D, S>(dst.data<D>(), src.data<S>(), v);
    });
  });
}

void fill_(Tensor& dst, double value) {
  PYCNN_CHECK_RUNTIME(dst.device().is_cpu(), "[fill_] not supported on ", dst.device().str(), " yet");
  PYCNN_CHECK(dst.is_contiguous(), "[fill_] needs a contiguous tensor");
  dispatch_all(dst.dtype(), "fill_", [&](auto tag) {
    using T = decltype(tag);
    cpu::fill<T>(dst.data<T>(), dst.numel(), static_cast<T>(value));
  });
}

}  // namespace pycnn
