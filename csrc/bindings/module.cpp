// The pycnn._C extension module: exception mapping, the init_<family> of each binding file (one per
// ops/<family>.cpp) and the small runtime queries (threads, SIMD level, CUDA devices).
#include "bindings/common.h"
#include "core/cpu_features.h"
#include "core/parallel.h"
#include "ops/cuda_backend.h"

PYBIND11_MODULE(_C, m) {
  m.doc() = "pycnn's C++ core (private: use the pycnn package)";
  // pycnn::TypeError derives from std::invalid_argument (which pybind11 maps to ValueError): map it first.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const pycnn::TypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    }
  });
  pycnn::bindings::init_tensor(m);
  pycnn::bindings::init_activation(m);
  pycnn::bindings::init_conv2d(m);
  pycnn::bindings::init_convs(m);
  pycnn::bindings::init_copy(m);
  pycnn::bindings::init_deform_conv(m);
  pycnn::bindings::init_dropout(m);
  pycnn::bindings::init_elementwise(m);
  pycnn::bindings::init_gemm(m);
  pycnn::bindings::init_linear(m);
  pycnn::bindings::init_loss(m);
  pycnn::bindings::init_norm(m);
  pycnn::bindings::init_optim(m);
  pycnn::bindings::init_pool2d(m);
  pycnn::bindings::init_reduce(m);
  pycnn::bindings::init_resize(m);
  pycnn::bindings::init_tensor_ops(m);

  m.def("set_num_threads", &pycnn::set_num_threads, "Threads used by every CPU kernel.");
  m.def("get_num_threads", &pycnn::get_num_threads);
  m.def("simd_level", &pycnn::simd_level_name, "The SIMD kernel set in use: 'avx2' or 'baseline'.");
  m.def("supported_simd_levels", &pycnn::supported_simd_levels,
        "The kernel sets this CPU can run, from 'baseline' up.");
  m.def(
      "set_simd_level",
      [](const std::string& name) { pycnn::force_simd_level(pycnn::parse_enum<pycnn::SimdLevel>(name)); },
      "Use another kernel set this CPU supports (tests run every one).");
  m.def("cuda_is_built", &pycnn::cuda::is_built);
  m.def("cuda_device_count", &pycnn::cuda::device_count);
  m.def("cuda_device_name", &pycnn::cuda::device_name);
#ifdef PYCNN_VERSION
  m.attr("__version__") = PYCNN_VERSION;
#endif
}
