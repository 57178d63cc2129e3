// CPU binary arithmetic. Inputs arrive as broadcast views of the output's shape (stride 0 on broadcast
// dims). Fast paths: everything contiguous, or one side a single value; otherwise row by row (strided.h).
#include <type_traits>  // defines: std::is_same_v

#include "pycnn/core/parallel.h"
#include "pycnn/ops/cpu/cpu_ops.h"
#include "pycnn/ops/cpu/strided.h"

namespace pycnn::cpu {

namespace {

bool all_zero(const Shape& strides) {
  for (int64_t s : strides)
    if (s != 0) return false;
  return true;
}

template <typename T, typename F>
void apply(const T* pa, const T* pb, T* po, const StridedViews& v, F f) {
  const Shape& shape = *v.shape;
  const Shape &a_strides = *v.strides[0], &b_strides = *v.strides[1];
  const int64_t n = shape_numel(shape);
  if (n == 0) return;
  const int64_t grain = 1 << 15;
  const bool ca = is_contiguous(shape, a_strides), cb = is_contiguous(shape, b_strides);
  if (ca && cb) {
    parallel_for(n, grain, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) po[i] = f(pa[i], pb[i]);
    });
    return;
  }
  if (ca && all_zero(b_strides)) {
    const T vb = *pb;
    parallel_for(n, grain, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) po[i] = f(pa[i], vb);
    });
    return;
  }
  if (cb && all_zero(a_strides)) {
    const T va = *pa;
    parallel_for(n, grain, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) po[i] = f(va, pb[i]);
    });
    return;
  }
  const int64_t rank = static_cast<int64_t>(shape.size());
  const int64_t inner = shape[rank - 1];
  const int64_t sa = a_strides[rank - 1], sb = b_strides[rank - 1];
  for_each_row<2>(shape, v.strides, grain, [&](int64_t r, const auto& off) {
    T* o = po + r * inner;
    const T* xa = pa + off[0];
    const T* xb = pb + off[1];
    for (int64_t i = 0; i < inner; ++i) o[i] = f(xa[i * sa], xb[i * sb]);
  });
}

}  // namespace

// Integers: add/sub/mul wrap as torch's; the entry point refuses div (Python divides in float, as torch).
// On bool, + is or, * is and, - is xor.
template <typename T>
void binary(BinaryOp op, const T* a, const T* b, T* out, const StridedViews& v) {
  if constexpr (std::is_same_v<T, bool>) {
    switch (op) {
      case BinaryOp::Add: return apply<T>(a, b, out, v, [](T x, T y) { return x || y; });
      case BinaryOp::Mul: return apply<T>(a, b, out, v, [](T x, T y) { return x && y; });
      default: return apply<T>(a, b, out, v, [](T x, T y) { return x != y; });
    }
  } else {
    switch (op) {
      case BinaryOp::Add: return apply<T>(a, b, out, v, [](T x, T y) { return static_cast<T>(x + y); });
      case BinaryOp::Sub: return apply<T>(a, b, out, v, [](T x, T y) { return static_cast<T>(x - y); });
      case BinaryOp::Mul: return apply<T>(a, b, out, v, [](T x, T y) { return static_cast<T>(x * y); });
      case BinaryOp::Div: return apply<T>(a, b, out, v, [](T x, T y) { return x / y; });
    }
  }
}

#define PYCNN_BINARY(T) template void binary<T>(BinaryOp, const T*, const T*, T*, const StridedViews&);
PYCNN_FOR_EACH_VALUE_TYPE(PYCNN_BINARY)
#undef PYCNN_BINARY

}  // namespace pycnn::cpu
