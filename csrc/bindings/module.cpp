// The pycnn._C extension module: exception mapping, the init_<family> of each binding file (one per
// ops/<family>.cpp, and cuda.cpp for the CUDA runtime) and the small runtime queries (threads, SIMD level).
#include "common.h"
#include "pycnn/core/cpu_features.h"
#include "pycnn/core/parallel.h"
#include "pycnn/core/storage.h"  // defines: host_cache_stats

// The binding files: tensor.cpp (the Tensor class, from_numpy, the factories) and one per ops/<family>.cpp,
// each defining init_<family>(m). A new family is one line here.
// clang-format off
#define PYCNN_BINDING_FILES(X) \
  X(tensor) \
  X(cuda) \
  X(activation) \
  X(conv2d) \
  X(conv3d) \
  X(convs) \
  X(copy) \
  X(deform_conv) \
  X(dlpack) \
  X(dropout) \
  X(elementwise) \
  X(gemm) \
  X(grid_sample) \
  X(indexing) \
  X(linear) \
  X(loss) \
  X(norm) \
  X(optim) \
  X(pool2d) \
  X(reduce) \
  X(resize) \
  X(tensor_ops) \
  X(sort) \
  X(program) \
  X(bench)
// clang-format on

#define PYCNN_DECLARE_INIT(family) void init_##family(py::module_& m);
namespace pycnn::bindings {
PYCNN_BINDING_FILES(PYCNN_DECLARE_INIT)
}  // namespace pycnn::bindings
#define PYCNN_CALL_INIT(family) pycnn::bindings::init_##family(m);

PYBIND11_MODULE(_C, m) {
  m.doc() = "pycnn's C++ core (private: use the pycnn package)";
  // pycnn::TypeError derives from std::invalid_argument (which pybind11 maps to ValueError): map it first.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const pycnn::TypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const pycnn::OutOfMemory& e) {
      PyErr_SetString(PyExc_MemoryError, e.what());
    }
  });
  PYCNN_BINDING_FILES(PYCNN_CALL_INIT)

  m.def("set_num_threads", &pycnn::set_num_threads, "Threads used by every CPU kernel.");
  m.def("get_num_threads", &pycnn::get_num_threads);
  m.def("simd_level", &pycnn::simd_level_name,
        "The CPU kernel set in use: 'avx512', 'avx2' or 'baseline' (PYCNN_SIMD=<name> picks a lower one).");
  m.def("supported_simd_levels", &pycnn::supported_simd_levels,
        "The kernel sets this CPU can run (including the test-only portable8/portable16).");
  m.def(
      "_host_cache_stats",
      [] {
        const pycnn::HostCacheStats s = pycnn::host_cache_stats();
        return py::dict(py::arg("live") = s.live, py::arg("cached") = s.cached, py::arg("peak_live") = s.peak_live,
                        py::arg("min_capacity") = s.min_capacity);
      },
      "Bytes in the host block cache: live, cached, peak of live, and the least it may cache.");
  m.def("_simd_levels", [] { return pycnn::enum_names<pycnn::SimdLevel>(); }, "Every kernel set pycnn has.");
  m.def(
      "_set_simd_level",
      [](const std::string& name) { pycnn::force_simd_level(pycnn::parse_enum<pycnn::SimdLevel>(name)); },
      "Use another kernel set this CPU supports (tests compare every one with the baseline set).");
#ifdef PYCNN_VERSION
  m.attr("__version__") = PYCNN_VERSION;
#endif
}
