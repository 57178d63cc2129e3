// Shared by the binding files: pybind11 includes, dtype/device parsing, and undefined tensor <-> None.
// Bindings convert arguments and attach docstrings; all logic lives in the core.
#pragma once
#include <pybind11/pybind11.h>  // defines: py::module_, py::class_, py::gil_scoped_release
#include <pybind11/stl.h>       // defines: std::vector/std::tuple/std::optional conversions

#include "core/tensor.h"
#include "ops/ops.h"

namespace py = pybind11;

namespace pycnn::bindings {

DType parse_dtype(const std::string& name);
Device parse_device(const std::string& name);

// An undefined tensor (an output that was not asked for) is None in Python.
inline py::object none_if_undefined(const Tensor& t) { return t.defined() ? py::cast(t) : py::none(); }
inline Tensor undefined_if_none(const std::optional<Tensor>& t) { return t ? *t : Tensor(); }

void init_tensor(py::module_& m);
void init_ops(py::module_& m);
void init_optim(py::module_& m);
void init_activation(py::module_& m);
void init_norm(py::module_& m);
void init_resize(py::module_& m);
void init_losses(py::module_& m);
void init_tensor_ops(py::module_& m);
void init_convs(py::module_& m);
void init_deform(py::module_& m);

}  // namespace pycnn::bindings
