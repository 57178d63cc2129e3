// Strided copy with dtype conversion, and fill. The copy walks the destination row by row
// (strided.h); the innermost dim is a plain strided loop (contiguous when it matters most: clone() of a
// transposed view, expand() for broadcasting).
#include <cstring>

#include "core/parallel.h"
#include "ops/cpu/cpu_ops.h"
#include "ops/cpu/strided.h"

namespace pycnn::cpu {

namespace {

template <typename D, typename S>
void copy_typed(const Tensor& dst, const Tensor& src) {
  const int64_t n = dst.numel();
  if (n == 0) return;
  D* out = dst.data<D>();
  const S* in = src.data<S>();
  if constexpr (std::is_same_v<D, S>) {
    if (dst.is_contiguous() && src.is_contiguous()) {
      std::memcpy(out, in, n * sizeof(D));
      return;
    }
  }
  const int64_t rank = dst.dim();
  if (rank == 0) {
    *out = static_cast<D>(*in);
    return;
  }
  const int64_t inner = dst.shape()[rank - 1];
  const int64_t ds = dst.strides()[rank - 1], ss = src.strides()[rank - 1];
  for_each_row<2>(dst.shape(), {&dst.strides(), &src.strides()}, 32768, [&](int64_t, const auto& off) {
    D* o = out + off[0];
    const S* s = in + off[1];
    if (ds == 1 && ss == 1) {
      for (int64_t i = 0; i < inner; ++i) o[i] = static_cast<D>(s[i]);
    } else {
      for (int64_t i = 0; i < inner; ++i) o[i * ds] = static_cast<D>(s[i * ss]);
    }
  });
}

template <typename D>
void copy_from(const Tensor& dst, const Tensor& src) {
  switch (src.dtype()) {
    case DType::Float32: return copy_typed<D, float>(dst, src);
    case DType::Float64: return copy_typed<D, double>(dst, src);
    default: return copy_typed<D, int64_t>(dst, src);
  }
}

template <typename T>
void fill_typed(const Tensor& dst, double value) {
  PYCNN_CHECK(dst.is_contiguous(), "[fill_] needs a contiguous tensor");
  T* p = dst.data<T>();
  const T v = static_cast<T>(value);
  parallel_for(dst.numel(), 65536, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) p[i] = v;
  });
}

}  // namespace

void copy_strided(const Tensor& dst, const Tensor& src) {
  switch (dst.dtype()) {
    case DType::Float32: return copy_from<float>(dst, src);
    case DType::Float64: return copy_from<double>(dst, src);
    default: return copy_from<int64_t>(dst, src);
  }
}

void fill(const Tensor& dst, double value) {
  switch (dst.dtype()) {
    case DType::Float32: return fill_typed<float>(dst, value);
    case DType::Float64: return fill_typed<double>(dst, value);
    default: return fill_typed<int64_t>(dst, value);
  }
}

}  // namespace pycnn::cpu
