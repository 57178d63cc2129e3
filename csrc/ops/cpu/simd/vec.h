// The vector type every kernel set's code is written with: a GCC vector extension of PYCNN_VEC_BYTES bytes
// (set per kernel set by CMake). Compiled with -mavx512f a 64-byte vector is one zmm register, with -mavx2
// a 32-byte one is a ymm; in the portable sets the compiler splits the same 32- or 64-byte vectors into SSE
// operations, so the wide sets' logic runs, and is tested, on any x86-64. Arithmetic is the built-in
// operators (a * b + c becomes an FMA where the set has one: GCC contracts by default); the helpers below
// are the operations the operators do not cover. Only included by files in ops/cpu/simd/.
#pragma once
#include <cstdint>
#include <utility>  // defines: std::integer_sequence (compile time only)

#ifndef PYCNN_VEC_BYTES
#error "ops/cpu/simd/ files are compiled once per kernel set, with PYCNN_VEC_BYTES and PYCNN_KNS defined"
#endif

namespace pycnn::cpu::PYCNN_KNS {

constexpr int kVecBytes = PYCNN_VEC_BYTES;

template <typename T>
struct VecOf {
  typedef T type __attribute__((vector_size(kVecBytes)));
};
template <typename T>
using Vec = typename VecOf<T>::type;
template <typename T>
constexpr int kLanes = kVecBytes / static_cast<int>(sizeof(T));

#define PYCNN_VEC_INLINE inline __attribute__((always_inline))

template <typename T>
PYCNN_VEC_INLINE Vec<T> vload(const T* p) {  // any alignment
  Vec<T> v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
template <typename T>
PYCNN_VEC_INLINE Vec<T> vload_aligned(const T* p) {  // p aligned to kVecBytes
  return *reinterpret_cast<const Vec<T>*>(__builtin_assume_aligned(p, kVecBytes));
}
template <typename T>
PYCNN_VEC_INLINE void vstore(T* p, Vec<T> v) {
  __builtin_memcpy(p, &v, sizeof v);
}
template <typename T>
PYCNN_VEC_INLINE Vec<T> vbroadcast(T x) {
  return x - Vec<T>{};  // x - 0 is x for every x (even -0 and NaN): GCC emits one broadcast
}
template <typename T>
PYCNN_VEC_INLINE Vec<T> vzero() {
  return Vec<T>{};
}

// zip<0>(a, b) = a0 b0 a1 b1 ... (the low halves interleaved), zip<1> the high halves: one two-source
// permute (vpermi2ps on AVX-512).
template <int Half, typename T, int... I>
PYCNN_VEC_INLINE Vec<T> vzip(Vec<T> a, Vec<T> b, std::integer_sequence<int, I...>) {
  return __builtin_shufflevector(a, b, ((I % 2 ? kLanes<T> : 0) + Half * kLanes<T> / 2 + I / 2)...);
}

// Transposes the kLanes x kLanes block held in v[0..kLanes): log2(kLanes) rounds of zipping row i with
// row i + kLanes/2 (a perfect shuffle of the rows each round), kLanes permutes per round.
template <typename T>
PYCNN_VEC_INLINE void vtranspose(Vec<T>* v) {
  constexpr int L = kLanes<T>;
  using Lanes = std::make_integer_sequence<int, L>;
  for (int round = 1; round < L; round *= 2) {
    Vec<T> next[L];
#pragma GCC unroll 16
    for (int i = 0; i < L / 2; ++i) {
      next[2 * i] = vzip<0, T>(v[i], v[i + L / 2], Lanes{});
      next[2 * i + 1] = vzip<1, T>(v[i], v[i + L / 2], Lanes{});
    }
#pragma GCC unroll 16
    for (int i = 0; i < L; ++i) v[i] = next[i];
  }
}

}  // namespace pycnn::cpu::PYCNN_KNS
