// Element types. Kernels are templates over float and double; int64 holds labels and indices.
#pragma once
#include <cstdint>
#include <string>
#include <type_traits>  // defines: std::is_integral_v, std::is_same_v

#include "pycnn/core/check.h"
#include "pycnn/core/half.h"  // defines: Half, BFloat16

namespace pycnn {

// The order of the first three is the core's since its first version (files do not store it: names do).
enum class DType : int8_t { Float32, Float64, Int64, Int32, UInt8, Bool, Float16, BFloat16 };

inline size_t dtype_size(DType t) {
  switch (t) {
    case DType::Float64:
    case DType::Int64: return 8;
    case DType::Float32:
    case DType::Int32: return 4;
    case DType::Float16:
    case DType::BFloat16: return 2;
    default: return 1;
  }
}
inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Int64: return "int64";
    case DType::Int32: return "int32";
    case DType::UInt8: return "uint8";
    case DType::Bool: return "bool";
    case DType::Float16: return "float16";
    default: return "bfloat16";
  }
}
// The dtypes kernels compute in (float32, float64). float16 and bfloat16 are floating too, but only stored:
// ops convert them to float32 around the kernels (pycnn/autograd.py).
inline bool is_floating(DType t) { return t == DType::Float32 || t == DType::Float64; }
inline bool is_low_precision(DType t) { return t == DType::Float16 || t == DType::BFloat16; }

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
template <> struct dtype_of<int32_t> {
  static constexpr DType value = DType::Int32;
};
template <> struct dtype_of<uint8_t> {
  static constexpr DType value = DType::UInt8;
};
template <> struct dtype_of<bool> {
  static constexpr DType value = DType::Bool;
};
template <> struct dtype_of<Half> {
  static constexpr DType value = DType::Float16;
};
template <> struct dtype_of<BFloat16> {
  static constexpr DType value = DType::BFloat16;
};

// The C++ types that kernels over "any dtype" are instantiated for (dispatch_all covers the same list), and
// those of floating kernels (dispatch_floating). Kernels instantiate with these lists, so a dtype added here
// reaches every kernel that can hold it: a kernel over any dtype must compile for bool, uint8_t and int32_t.
#define PYCNN_FOR_EACH_VALUE_TYPE(X) X(float) X(double) X(int64_t) X(int32_t) X(uint8_t) X(bool)
// ... and the stored-only 16-bit floats: what copy_ and fill_ convert between.
#define PYCNN_FOR_EACH_STORAGE_TYPE(X) PYCNN_FOR_EACH_VALUE_TYPE(X) X(Half) X(BFloat16)
#define PYCNN_FOR_EACH_STORAGE_TYPE_ARG(X, A) \
  X(float, A) X(double, A) X(int64_t, A) X(int32_t, A) X(uint8_t, A) X(bool, A) X(Half, A) X(BFloat16, A)
#define PYCNN_FOR_EACH_FLOAT_TYPE(X) X(float) X(double)

// What sums accumulate in: double for floats (as every reduction of the core), int64 for integers (exact).
template <typename T>
using sum_accumulator = std::conditional_t<std::is_integral_v<T>, int64_t, double>;

// static_cast for copies between dtypes, without its undefined cases: a float that is NaN or past int64
// becomes int64's minimum (as x86's conversion gives), and narrower integers wrap as torch's conversions do.
template <typename D, typename S>
PYCNN_HD inline D convert_value(S v) {
  if constexpr (std::is_integral_v<D> && !std::is_same_v<D, bool> && !std::is_integral_v<S>) {
    const double d = static_cast<double>(v);
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) return static_cast<D>(INT64_MIN);
    return static_cast<D>(static_cast<int64_t>(d));
  } else {
    return static_cast<D>(v);
  }
}

// Calls f(T{}) with T the C++ type of a floating dtype; the op name goes into the error otherwise.
template <typename F>
auto dispatch_floating(DType t, const char* op, F&& f) {
  switch (t) {
    case DType::Float32: return f(float{});
    case DType::Float64: return f(double{});
    default: throw TypeError(str("[", op, "] expected a float32 or float64 tensor, got ", dtype_name(t)));
  }
}

// Like dispatch_floating, for every dtype kernels compute in (the integers and bool too): for ops that move
// or compare values whatever their kind.
template <typename F>
auto dispatch_all(DType t, const char* op, F&& f) {
  switch (t) {
    case DType::Int64: return f(int64_t{});
    case DType::Int32: return f(int32_t{});
    case DType::UInt8: return f(uint8_t{});
    case DType::Bool: return f(bool{});
    case DType::Float16:
    case DType::BFloat16:
      throw TypeError(str("[", op, "] has no ", dtype_name(t), " kernel: convert the tensor with .float() first"));
    default: return dispatch_floating(t, op, f);
  }
}

// Every dtype, the stored-only float16 and bfloat16 included: copy_ and fill_.
template <typename F>
auto dispatch_storage(DType t, const char* op, F&& f) {
  if (t == DType::Float16) return f(Half{});
  if (t == DType::BFloat16) return f(BFloat16{});
  return dispatch_all(t, op, f);
}

}  // namespace pycnn
