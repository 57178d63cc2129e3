// Bindings of sorting, selection and scans (ops/sort.cpp); conventions in bindings/common.h.
#include "common.h"

namespace pycnn::bindings {

void init_sort(py::module_& m) {
  m.def(
      "sort_forward",
      [](const Tensor& x, int64_t dim, bool descending) {
        py::gil_scoped_release nogil;
        return sort_forward(x, dim, descending);
      },
      "(values, int64 indices) of x sorted along dim: stable, NaN the largest");
  m.def(
      "topk_forward",
      [](const Tensor& x, int64_t k, int64_t dim, bool largest) {
        py::gil_scoped_release nogil;
        return topk_forward(x, k, dim, largest);
      },
      "(values, int64 indices) of the k largest (smallest) along dim, in order");
  m.def(
      "sort_backward",
      [](const Tensor& dout, const Tensor& indices, const Shape& x_shape, int64_t dim) {
        py::gil_scoped_release nogil;
        return sort_backward(dout, indices, x_shape, dim);
      },
      "the input gradient of sort and topk: dout put back where indices took it, zeros elsewhere");
  m.def(
      "cumsum",
      [](const Tensor& x, int64_t dim, bool reverse) {
        py::gil_scoped_release nogil;
        return cumsum(x, dim, reverse);
      },
      "running sums along dim in x's dtype (from the end when reverse)");
  m.def("prod_forward", [](const Tensor& x, int64_t dim, bool keepdim) {
    py::gil_scoped_release nogil;
    return prod_forward(x, dim, keepdim);
  });
  m.def("prod_backward", [](const Tensor& dout, const Tensor& x, int64_t dim, bool keepdim) {
    py::gil_scoped_release nogil;
    return prod_backward(dout, x, dim, keepdim);
  });
  m.def(
      "unique_dim",
      [](const Tensor& x, int64_t dim) {
        py::gil_scoped_release nogil;
        return unique_dim(x, dim);
      },
      "(distinct slices along dim in sorted order, inverse, counts)");
  m.def(
      "nonzero",
      [](const Tensor& x) {
        py::gil_scoped_release nogil;
        return nonzero(x);
      },
      "(n, x.dim()) int64 coordinates of the non-zero elements");
}

}  // namespace pycnn::bindings
