// The two 16-bit floating storage types. pycnn stores float16 and bfloat16 tensors and converts them to and
// from every other dtype (copy_, fill_); ops compute on them in float32 (the Python side converts around the
// kernels), so these types only need exact conversions, written once for the host and CUDA copies.
#pragma once
#include <cstdint>
#include <cstring>

#include "pycnn/core/host_device.h"  // defines: PYCNN_HD

namespace pycnn {

namespace half_bits {

PYCNN_HD inline uint32_t float_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}
PYCNN_HD inline float bits_float(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

// IEEE binary16 from binary32, rounding to nearest even; overflow gives infinity, NaN stays a (quiet) NaN.
PYCNN_HD inline uint16_t float_to_half(float f) {
  const uint32_t u = float_bits(f);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  const uint32_t abs = u & 0x7fffffffu;
  if (abs >= 0x7f800000u) return sign | (abs > 0x7f800000u ? 0x7e00u : 0x7c00u);  // NaN, infinity
  if (abs >= 0x477ff000u) return sign | 0x7c00u;                                  // rounds to more than 65504: infinity
  if (abs < 0x38800000u) {  // below 2^-14: a subnormal half (or zero)
    // Adding 0.5 makes the float unit sit at the half's subnormal step: the FPU rounds to nearest even.
    const float shifted = bits_float(abs) + 0.5f;
    return sign | static_cast<uint16_t>(float_bits(shifted) - 0x3f000000u);
  }
  const uint32_t mantissa_odd = (abs >> 13) & 1u;
  const uint32_t rounded = abs + 0xc8000fffu + mantissa_odd;  // rebias the exponent (-112 << 23) and round
  return sign | static_cast<uint16_t>(rounded >> 13);
}

PYCNN_HD inline float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu, mantissa = h & 0x3ffu;
  if (exponent == 0x1f) return bits_float(sign | 0x7f800000u | (mantissa << 13));  // infinity, NaN
  if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24, exact in float
    const float magnitude = static_cast<float>(mantissa) * 5.9604644775390625e-8f;
    return sign ? -magnitude : magnitude;
  }
  return bits_float(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

// bfloat16 is float32's upper half: round to nearest even on the dropped 16 bits; NaN stays NaN.
PYCNN_HD inline uint16_t float_to_bfloat16(float f) {
  const uint32_t u = float_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);
  return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
PYCNN_HD inline float bfloat16_to_float(uint16_t b) { return bits_float(static_cast<uint32_t>(b) << 16); }

}  // namespace half_bits

// Storage types with conversions through float, so that static_cast<Half>(x) and static_cast<double>(h) work
// in the templated copy kernels as for the other dtypes.
struct Half {
  uint16_t bits = 0;
  Half() = default;
  PYCNN_HD explicit Half(float f) : bits(half_bits::float_to_half(f)) {}
  template <typename V>
  PYCNN_HD explicit Half(V v) : Half(static_cast<float>(v)) {}
  PYCNN_HD explicit operator float() const { return half_bits::half_to_float(bits); }
  template <typename V>
  PYCNN_HD explicit operator V() const {
    return static_cast<V>(half_bits::half_to_float(bits));
  }
};

struct BFloat16 {
  uint16_t bits = 0;
  BFloat16() = default;
  PYCNN_HD explicit BFloat16(float f) : bits(half_bits::float_to_bfloat16(f)) {}
  template <typename V>
  PYCNN_HD explicit BFloat16(V v) : BFloat16(static_cast<float>(v)) {}
  PYCNN_HD explicit operator float() const { return half_bits::bfloat16_to_float(bits); }
  template <typename V>
  PYCNN_HD explicit operator V() const {
    return static_cast<V>(half_bits::bfloat16_to_float(bits));
  }
};

}  // namespace pycnn
