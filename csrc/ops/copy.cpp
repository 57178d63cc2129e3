// copy_ and fill_: the data movement every view and conversion in core/tensor.cpp relies on.
#include "ops/cpu/cpu_ops.h"
#include "ops/ops.h"

namespace pycnn {

void copy_(Tensor& dst, const Tensor& src) {
  PYCNN_CHECK(dst.shape() == src.shape(), "[copy_] shape mismatch: destination ", shape_str(dst.shape()),
              ", source ", shape_str(src.shape()));
  PYCNN_CHECK_RUNTIME(dst.device().is_cpu() && src.device().is_cpu(),
                      "[copy_] copies between tensors on ", src.device().str(), " and ", dst.device().str(),
                      " are not supported yet; use .to(device)");
  cpu::copy_strided(dst, src);
}

void fill_(Tensor& dst, double value) {
  PYCNN_CHECK_RUNTIME(dst.device().is_cpu(), "[fill_] not supported on ", dst.device().str(), " yet");
  cpu::fill(dst, value);
}

}  // namespace pycnn
