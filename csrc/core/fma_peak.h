// The machine's measured single-precision FMA peak, the ceiling `pycnn bench` quotes layers against.
#pragma once

namespace pycnn {

// GFLOP/s (2 per fused multiply-add lane) that `threads` threads reach together, each running a
// register-only FMA loop for about `seconds`, at the widest vector ISA this CPU supports.
double fma_peak_gflops(int threads, double seconds);
// The ISA that loop runs: "avx512f", "avx2+fma" or "baseline".
const char* fma_peak_isa();

}  // namespace pycnn
