// Bindings of the normalisations (ops/norm.cpp): batch, group, layer and local response norm, and the
// nn.utils helpers lp_sum and clamp_; conventions in bindings/common.h.
#include "common.h"

namespace pycnn::bindings {

void init_norm(py::module_& m) {
  m.def(
      "batch_norm_forward",
      [](const Tensor& x, const OptTensor& w, const OptTensor& b, OptTensor running_mean, OptTensor running_var,
         bool training, double momentum, double eps) {
        Tensor rm = undefined_if_none(running_mean), rv = undefined_if_none(running_var);
        py::gil_scoped_release nogil;
        return batch_norm_forward(x, undefined_if_none(w), undefined_if_none(b), rm, rv, training, momentum, eps);
      },
      "-> (y, save_mean, save_invstd); updates running_mean/var in place when training");
  m.def(
      "batch_norm_backward",
      [](const Tensor& dout, const Tensor& x, const OptTensor& w, const Tensor& mean, const Tensor& invstd,
         bool training, bool need_dx, bool need_dw, bool need_db) {
        std::tuple<Tensor, Tensor, Tensor> r;
        {
          py::gil_scoped_release nogil;
          r = batch_norm_backward(dout, x, undefined_if_none(w), mean, invstd, training, need_dx, need_dw, need_db);
        }
        return none_if_undefined(r);
      },
      "-> (dx, dweight, dbias)");

  m.def(
      "group_norm_forward",
      [](const Tensor& x, int64_t groups, const OptTensor& w, const OptTensor& b, double eps) {
        py::gil_scoped_release nogil;
        return group_norm_forward(x, groups, undefined_if_none(w), undefined_if_none(b), eps);
      },
      "-> (y, mean, invstd), mean/invstd (N, groups)");
  m.def(
      "group_norm_backward",
      [](const Tensor& dout, const Tensor& x, int64_t groups, const OptTensor& w, const Tensor& mean,
         const Tensor& invstd, bool need_dx, bool need_dw, bool need_db) {
        std::tuple<Tensor, Tensor, Tensor> r;
        {
          py::gil_scoped_release nogil;
          r = group_norm_backward(dout, x, groups, undefined_if_none(w), mean, invstd, need_dx, need_dw, need_db);
        }
        return none_if_undefined(r);
      },
      "-> (dx, dweight, dbias)");

  m.def(
      "layer_norm_forward",
      [](const Tensor& x, int64_t normalized_ndim, const OptTensor& w, const OptTensor& b, double eps) {
        py::gil_scoped_release nogil;
        return layer_norm_forward(x, normalized_ndim, undefined_if_none(w), undefined_if_none(b), eps);
      },
      "-> (y, mean, invstd) over the last normalized_ndim dims");
  m.def(
      "layer_norm_backward",
      [](const Tensor& dout, const Tensor& x, int64_t normalized_ndim, const OptTensor& w, const Tensor& mean,
         const Tensor& invstd, bool need_dx, bool need_dw, bool need_db) {
        std::tuple<Tensor, Tensor, Tensor> r;
        {
          py::gil_scoped_release nogil;
          r = layer_norm_backward(dout, x, normalized_ndim, undefined_if_none(w), mean, invstd, need_dx, need_dw,
                                  need_db);
        }
        return none_if_undefined(r);
      },
      "-> (dx, dweight, dbias)");

  m.def("local_response_norm_forward", [](const Tensor& x, int64_t size, double alpha, double beta, double k) {
    py::gil_scoped_release nogil;
    return local_response_norm_forward(x, size, alpha, beta, k);
  });
  m.def("local_response_norm_backward",
        [](const Tensor& dout, const Tensor& x, int64_t size, double alpha, double beta, double k) {
          py::gil_scoped_release nogil;
          return local_response_norm_backward(dout, x, size, alpha, beta, k);
        });

  m.def(
      "lp_sum",
      [](const Tensor& x, double p) {
        py::gil_scoped_release nogil;
        return lp_sum(x, p);
      },
      "sum |x|^p as a float (p = inf: max |x|)");
  m.def(
      "lp_sum_tensor",
      [](const Tensor& x, double p) {
        py::gil_scoped_release nogil;
        return lp_sum_tensor(x, p);
      },
      "sum |x|^p (p = inf: max |x|) as a 0-d float64 tensor on x's device: no host round trip");
  m.def("lp_sum_backward", [](const Tensor& dout, const Tensor& x, double p) {
    py::gil_scoped_release nogil;
    return lp_sum_backward(dout, x, p);
  });
  m.def(
      "clamp_",
      [](Tensor& x, double lo, double hi) {
        py::gil_scoped_release nogil;
        clamp_(x, lo, hi);
      },
      "clamps x to [lo, hi] in place");
}

}  // namespace pycnn::bindings
