// Bindings of the indexing ops (ops/indexing.cpp): gather / scatter (reduce by name: ops.h
// PYCNN_SCATTER_REDUCES), embedding and one_hot; conventions in bindings/common.h.
#include "common.h"

namespace pycnn::bindings {

void init_indexing(py::module_& m) {
  m.def("gather", [](const Tensor& x, int64_t dim, const Tensor& index) {
    py::gil_scoped_release nogil;
    return gather(x, dim, index);
  });
  m.def(
      "gather_backward",
      [](const Tensor& dout, const Shape& x_shape, int64_t dim, const Tensor& index) {
        py::gil_scoped_release nogil;
        return gather_backward(dout, x_shape, dim, index);
      },
      "gather's input gradient: dout scatter-added into zeros of x_shape");
  m.def(
      "scatter",
      [](const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src, const std::string& reduce) {
        ScatterReduce r = parse_enum<ScatterReduce>(reduce);
        py::gil_scoped_release nogil;
        return scatter(x, dim, index, src, r);
      },
      "a copy of x with src written (reduce 'none'), added or multiplied at index along dim");
  m.def(
      "scatter_value",
      [](const Tensor& x, int64_t dim, const Tensor& index, double value, const std::string& reduce) {
        ScatterReduce r = parse_enum<ScatterReduce>(reduce);
        py::gil_scoped_release nogil;
        return scatter_value(x, dim, index, value, r);
      },
      "scatter with every src value equal to value");
  m.def("embedding_forward", [](const Tensor& weight, const Tensor& indices) {
    py::gil_scoped_release nogil;
    return embedding_forward(weight, indices);
  });
  m.def(
      "embedding_backward",
      [](const Tensor& dout, const Tensor& indices, int64_t num_weights, int64_t padding_idx, bool scale_grad_by_freq) {
        py::gil_scoped_release nogil;
        return embedding_backward(dout, indices, num_weights, padding_idx, scale_grad_by_freq);
      },
      "the weight gradient (num_weights, D); padding_idx -1 for none");
  m.def(
      "embedding_renorm_",
      [](const Tensor& weight, const Tensor& indices, double max_norm, double norm_type) {
        py::gil_scoped_release nogil;
        embedding_renorm_(weight, indices, max_norm, norm_type);
      },
      "rescales in place the rows of weight named by indices whose norm exceeds max_norm");
  m.def(
      "one_hot",
      [](const Tensor& indices, int64_t num_classes) {
        py::gil_scoped_release nogil;
        return one_hot(indices, num_classes);
      },
      "int64 (*indices.shape, num_classes); num_classes -1: max + 1");
}

}  // namespace pycnn::bindings
