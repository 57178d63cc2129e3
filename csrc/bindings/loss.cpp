// Bindings of the losses (ops/loss.cpp); conventions in bindings/common.h. The reduction and the pointwise
// loss are taken by name (ops.h: PYCNN_REDUCTIONS, PYCNN_POINTWISE_LOSSES).
#include "common.h"

namespace pycnn::bindings {

// 'batchmean' (kl_div only) is a sum divided by the batch size.
// 'batchmean' (kl_div only) is a sum divided by the batch size.
static Reduction parse_loss_reduction(const std::string& r, bool* batchmean = nullptr) {
  if (batchmean) *batchmean = r == "batchmean";
  if (r == "batchmean" && batchmean) return Reduction::Mean;
  return parse_enum<Reduction>(r);
}

static ClassLossArgs class_args(const std::string& reduction, int64_t ignore_index, double label_smoothing) {
  ClassLossArgs a;
  a.reduction = parse_loss_reduction(reduction);
  a.ignore_index = ignore_index;
  a.label_smoothing = label_smoothing;
  return a;
}

static PointwiseLossArgs pointwise_args(const std::string& kind, const std::string& reduction, double param) {
  PointwiseLossArgs a;
  a.kind = parse_enum<PointwiseLoss>(kind);
  a.reduction = parse_loss_reduction(reduction, &a.batchmean);
  a.param = param;
  PYCNN_CHECK(!a.batchmean || a.kind == PointwiseLoss::KLDiv || a.kind == PointwiseLoss::KLDivLogTarget,
              "[reduction] 'batchmean' is only valid for kl_div");
  return a;
}

void init_loss(py::module_& m) {
  m.def("reduction_names", &enum_names<Reduction>, "the loss reductions' names, in the order of ops.h's list");
  m.def("pointwise_loss_names", &enum_names<PointwiseLoss>,
        "the pointwise losses' names, in the order of ops.h's list");
  m.def(
      "cross_entropy_forward",
      [](const Tensor& logits, const Tensor& target, const OptTensor& weight, const std::string& reduction,
         int64_t ignore_index, double label_smoothing) {
        ClassLossArgs a = class_args(reduction, ignore_index, label_smoothing);
        py::gil_scoped_release nogil;
        return cross_entropy_forward(logits, target, undefined_if_none(weight), a);
      },
      "-> (loss, log_probs); target int64 indices (N, d1, ...) or float probabilities of logits' shape");
  m.def(
      "cross_entropy_backward",
      [](const Tensor& dout, const Tensor& log_probs, const Tensor& target, const OptTensor& weight,
         const std::string& reduction, int64_t ignore_index, double label_smoothing, bool need_dtarget) {
        ClassLossArgs a = class_args(reduction, ignore_index, label_smoothing);
        std::tuple<Tensor, Tensor> r;
        {
          py::gil_scoped_release nogil;
          r = cross_entropy_backward(dout, log_probs, target, undefined_if_none(weight), a, need_dtarget);
        }
        return none_if_undefined(r);
      },
      "-> (dlogits, dtarget or None)");
  m.def("nll_loss_forward", [](const Tensor& log_probs, const Tensor& target, const OptTensor& weight,
                               const std::string& reduction, int64_t ignore_index) {
    ClassLossArgs a = class_args(reduction, ignore_index, 0.0);
    py::gil_scoped_release nogil;
    return nll_loss_forward(log_probs, target, undefined_if_none(weight), a);
  });
  m.def("nll_loss_backward", [](const Tensor& dout, const Tensor& log_probs, const Tensor& target,
                                const OptTensor& weight, const std::string& reduction, int64_t ignore_index) {
    ClassLossArgs a = class_args(reduction, ignore_index, 0.0);
    py::gil_scoped_release nogil;
    return nll_loss_backward(dout, log_probs, target, undefined_if_none(weight), a);
  });

  m.def(
      "pointwise_loss_forward",
      [](const std::string& kind, const Tensor& input, const Tensor& target, const OptTensor& weight,
         const OptTensor& pos_weight, const std::string& reduction, double param) {
        PointwiseLossArgs a = pointwise_args(kind, reduction, param);
        py::gil_scoped_release nogil;
        return pointwise_loss_forward(input, target, undefined_if_none(weight), undefined_if_none(pos_weight), a);
      },
      "kind: mse, l1, smooth_l1, huber, bce, bce_with_logits, kl_div, kl_div_log_target, margin_ranking");
  m.def(
      "pointwise_loss_backward",
      [](const std::string& kind, const Tensor& dout, const Tensor& input, const Tensor& target,
         const OptTensor& weight, const OptTensor& pos_weight, const std::string& reduction, double param,
         bool need_dinput, bool need_dtarget) {
        PointwiseLossArgs a = pointwise_args(kind, reduction, param);
        std::tuple<Tensor, Tensor> r;
        {
          py::gil_scoped_release nogil;
          r = pointwise_loss_backward(dout, input, target, undefined_if_none(weight), undefined_if_none(pos_weight), a,
                                      need_dinput, need_dtarget);
        }
        return none_if_undefined(r);
      },
      "-> (dinput or None, dtarget or None)");

  m.def("multi_margin_loss_forward", [](const Tensor& input, const Tensor& target, const OptTensor& weight, int64_t p,
                                        double margin, const std::string& reduction) {
    Reduction r = parse_loss_reduction(reduction);
    py::gil_scoped_release nogil;
    return multi_margin_loss_forward(input, target, undefined_if_none(weight), p, margin, r);
  });
  m.def("multi_margin_loss_backward",
        [](const Tensor& dout, const Tensor& input, const Tensor& target, const OptTensor& weight, int64_t p,
           double margin, const std::string& reduction) {
          Reduction r = parse_loss_reduction(reduction);
          py::gil_scoped_release nogil;
          return multi_margin_loss_backward(dout, input, target, undefined_if_none(weight), p, margin, r);
        });
}

}  // namespace pycnn::bindings
