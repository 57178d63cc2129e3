// Bindings of the benchmark helpers (core/fma_peak.cpp) that `pycnn bench` uses; conventions in
// bindings/common.h.
#include "common.h"
#include "pycnn/core/fma_peak.h"  // defines: fma_peak_gflops, fma_peak_isa

namespace pycnn::bindings {

void init_bench(py::module_& m) {
  m.def(
      "_fma_peak_gflops",
      [](int threads, double seconds) {
        py::gil_scoped_release nogil;
        return fma_peak_gflops(threads, seconds);
      },
      py::arg("threads"), py::arg("seconds") = 0.2,
      "GFLOP/s that `threads` threads reach in a register-only FMA loop run for `seconds` (the FMA peak)");
  m.def("_fma_peak_isa", &fma_peak_isa, "the vector ISA the FMA-peak loop runs: avx512f, avx2+fma or baseline");
}

}  // namespace pycnn::bindings
