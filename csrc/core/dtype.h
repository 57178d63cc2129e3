// Element types. Kernels are templates over float and double; int64 holds labels and indices.
#pragma once
#include <cstdint>
#include <string>

#include "core/check.h"

namespace pycnn {

enum class DType : int8_t { Float32, Float64, Int64 };

inline size_t dtype_size(DType t) { return t == DType::Float32 ? 4 : 8; }
inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    default: return "int64";
  }
}
inline bool is_floating(DType t) { return t != DType::Int64; }

template <typename T> struct dtype_of;
template <> struct dtype_of<float> {
  static constexpr DType value = DType::Float32;
};
template <> struct dtype_of<double> {
  static constexpr DType value = DType::Float64;
};
template <> struct dtype_of<int64_t> {
  static constexpr DType value = DType::Int64;
};

// The C++ types that kernels over "any dtype" are instantiated for (dispatch_all covers the same list), and
// those of floating kernels (dispatch_floating). Kernels instantiate with these lists, so a dtype added here
// reaches every kernel that can hold it: a kernel over any dtype must compile for bool, uint8_t and int32_t.
#define PYCNN_FOR_EACH_VALUE_TYPE(X) X(float) X(double) X(int64_t)
#define PYCNN_FOR_EACH_FLOAT_TYPE(X) X(float) X(double)

// Calls f(T{}) with T the C++ type of a floating dtype; the op name goes into the error otherwise.
template <typename F>
auto dispatch_floating(DType t, const char* op, F&& f) {
  switch (t) {
    case DType::Float32: return f(float{});
    case DType::Float64: return f(double{});
    default: throw TypeError(str("[", op, "] expected a float32 or float64 tensor, got ", dtype_name(t)));
  }
}

// Like dispatch_floating, int64 included: for ops that move or compare values whatever their kind.
template <typename F>
auto dispatch_all(DType t, const char* op, F&& f) {
  if (t == DType::Int64) return f(int64_t{});
  return dispatch_floating(t, op, f);
}

}  // namespace pycnn
