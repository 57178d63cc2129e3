// Stands in for the CUDA backend when pycnn is built without CUDA: no devices, and every kernel throws.
#include "core/check.h"
#include "ops/cuda_backend.h"

namespace pycnn::cuda {

[[noreturn]] static void not_built(const char* op) {
  throw std::runtime_error(str("[", op,
                               "] pycnn was built without CUDA; rebuild with nvcc on PATH "
                               "(PYCNN_CUDA=ON) to use cuda tensors"));
}

bool is_built() { return false; }
int device_count() { return 0; }
const char* device_name(int) { not_built("cuda.get_device_name"); }
void* device_malloc(size_t, int) { not_built("cuda.malloc"); }
void device_free(void*, int) {}
void copy_between_devices(void*, Device, const void*, Device, size_t) { not_built("to"); }

template <typename T>
void gemm(bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, const T*, int64_t, T, T*, int64_t) {
  not_built("gemm");
}
template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t,
                          float, float*, int64_t);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t, const double*,
                           int64_t, double, double*, int64_t);

}  // namespace pycnn::cuda
