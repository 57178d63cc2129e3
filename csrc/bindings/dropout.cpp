// Bindings of dropout, dropout2d and alpha dropout (ops/dropout.cpp); conventions in bindings/common.h.
#include "common.h"

namespace pycnn::bindings {

void init_dropout(py::module_& m) {
  m.def(
      "dropout_forward",
      [](const Tensor& x, double p, uint64_t seed, bool channelwise, bool alpha) {
        py::gil_scoped_release nogil;
        return dropout_forward(x, p, seed, channelwise, alpha);
      },
      "dropout (channelwise: whole channels; alpha: AlphaDropout) with a mask derived from seed");
  m.def("dropout_backward", [](const Tensor& dout, double p, uint64_t seed, bool channelwise, bool alpha) {
    py::gil_scoped_release nogil;
    return dropout_backward(dout, p, seed, channelwise, alpha);
  });
}

}  // namespace pycnn::bindings
