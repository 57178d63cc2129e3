// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011): a counter-based
// generator, 4 x 32-bit output words from a 128-bit counter and a 64-bit key in 10 rounds of multiply and xor.
// Any output is a pure function of (counter, key), so a kernel draws number i without state or ordering.
// Plain host/device code: tests/cpp/test_cuda_pointwise.cpp checks it against Random123's known answers.
#pragma once
#include <cstdint>

#include "pycnn/core/host_device.h"  // defines: PYCNN_HD

namespace pycnn::cuda {

struct Philox4x32 {
  uint32_t v[4];
};

namespace philox_detail {
constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;    // the round multipliers
constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;  // the key schedule's increments

PYCNN_HD inline void mulhilo(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
  const uint64_t p = uint64_t(a) * uint64_t(b);
  hi = uint32_t(p >> 32);
  lo = uint32_t(p);
}
}  // namespace philox_detail

// The 4 words of Philox4x32-10 at counter ctr under key (k0, k1).
PYCNN_HD inline Philox4x32 philox4x32_10(Philox4x32 ctr, uint32_t k0, uint32_t k1) {
  using namespace philox_detail;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {  // the key is bumped between rounds
      k0 += kWeyl0;
      k1 += kWeyl1;
    }
    uint32_t hi0, lo0, hi1, lo1;
    mulhilo(kMul0, ctr.v[0], hi0, lo0);
    mulhilo(kMul1, ctr.v[2], hi1, lo1);
    ctr = Philox4x32{{hi1 ^ ctr.v[1] ^ k0, lo1, hi0 ^ ctr.v[3] ^ k1, lo0}};
  }
  return ctr;
}

// 53 uniform bits for draw `index` under `seed` (counter = index, key = seed): the dropout keep decision
// compares them with p * 2^53, as the CPU kernel does with its own generator.
PYCNN_HD inline uint64_t philox_bits53(uint64_t seed, uint64_t index) {
  const Philox4x32 r =
      philox4x32_10(Philox4x32{{uint32_t(index), uint32_t(index >> 32), 0u, 0u}}, uint32_t(seed), uint32_t(seed >> 32));
  return (uint64_t(r.v[0]) << 21) | (r.v[1] >> 11);
}

}  // namespace pycnn::cuda
