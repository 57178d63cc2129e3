// Strided copy with dtype conversion, and fill. The copy walks the destination in row-major order with
// an index counter over the outer dims; the innermost dim is a plain strided loop (contiguous when it
// matters most: clone() of a transposed view, expand() for broadcasting).
#include <cstring>
#include <vector>

#include "core/parallel.h"
#include "ops/cpu/cpu_ops.h"

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
  const auto& shape = dst.shape();
  const int64_t inner = shape[rank - 1];
  const int64_t ds = dst.strides()[rank - 1], ss = src.strides()[rank - 1];
  const int64_t rows = n / inner;
  // Each thread takes a range of rows and decodes the starting row's multi-index once.
  parallel_for(rows, std::max<int64_t>(1, 32768 / std::max<int64_t>(inner, 1)), [&](int64_t r0, int64_t r1) {
    std::vector<int64_t> idx(rank, 0);
    int64_t rem = r0;
    for (int64_t d = rank - 2; d >= 0; --d) {
      idx[d] = rem % shape[d];
      rem /= shape[d];
    }
    for (int64_t r = r0; r < r1; ++r) {
      int64_t doff = 0, soff = 0;
      for (int64_t d = 0; d < rank - 1; ++d) {
        doff += idx[d] * dst.strides()[d];
        soff += idx[d] * src.strides()[d];
      }
      D* o = out + doff;
      const S* s = in + soff;
      if (ds == 1 && ss == 1) {
        for (int64_t i = 0; i < inner; ++i) o[i] = static_cast<D>(s[i]);
      } else {
        for (int64_t i = 0; i < inner; ++i) o[i * ds] = static_cast<D>(s[i * ss]);
      }
      for (int64_t d = rank - 2; d >= 0; --d) {  // advance the multi-index
        if (++idx[d] < shape[d]) break;
        idx[d] = 0;
      }
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
