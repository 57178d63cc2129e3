// copy_strided and fill on a GPU: the elementwise launcher with one body each.
#include "pycnn/ops/cuda/cuda_ops.h"
#include "pycnn/ops/cuda/launch.cuh"

namespace pycnn::cuda {

template <typename D, typename S>
struct CopyStrided {
  D* dst;
  const S* src;
  StridedIndexer<2> ix;
  PYCNN_HD void operator()(int64_t i) const {
    int64_t off[2];
    ix.offsets(i, off);
    dst[off[0]] = convert_value<D>(src[off[1]]);
  }
};

template <typename T>
struct Fill {
  T* dst;
  T value;
  PYCNN_HD void operator()(int64_t i) const { dst[i] = value; }
};

template <typename D, typename S>
void copy_strided(D* dst, const S* src, const StridedViews& v) {
  const StridedIndexer<2> ix = make_indexer<2>(*v.shape, v.strides, "copy_");
  const int64_t n = shape_numel(*v.shape);
  if (ix.rank <= 1 && std::is_same_v<D, S> && n > 0 && ix.strides[0][0] == 1 && ix.strides[1][0] == 1) {
    CUDA_CHECK(cudaMemcpyAsync(dst, src, n * sizeof(D), cudaMemcpyDeviceToDevice, stream()), "copy_");
    return;
  }
  for_each(n, CopyStrided<D, S>{dst, src, ix}, "copy_");
}

template <typename T>
void fill(T* dst, int64_t n, T value) {
  for_each(n, Fill<T>{dst, value}, "fill_");
}

// Every pair of dtypes (copy_ converts), and fill for each: the instantiations of the cpu:: kernels.
#define PYCNN_COPY_FROM(S, D) template void copy_strided<D, S>(D*, const S*, const StridedViews&);
#define PYCNN_COPY_TO(D)                              \
  PYCNN_FOR_EACH_STORAGE_TYPE_ARG(PYCNN_COPY_FROM, D) \
  template void fill<D>(D*, int64_t, D);
PYCNN_FOR_EACH_STORAGE_TYPE(PYCNN_COPY_TO)
#undef PYCNN_COPY_TO
#undef PYCNN_COPY_FROM

}  // namespace pycnn::cuda
