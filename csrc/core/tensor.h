// Tensor: a strided view (shape, strides in elements, offset) of a shared Storage, with a dtype and a
// device. Cheap to copy (shares the storage). Shapes are NCHW for images. Ops live in ops/ops.h.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "pycnn/core/check.h"
#include "pycnn/core/device.h"
#include "pycnn/core/dtype.h"
#include "pycnn/core/storage.h"

namespace pycnn {

using Shape = std::vector<int64_t>;

Shape contiguous_strides(const Shape& shape);
int64_t shape_numel(const Shape& shape);
bool is_contiguous(const Shape& shape, const Shape& strides);  // row-major, size-1 dims ignored; empty: true

class Tensor {
 public:
  Tensor() = default;  // undefined tensor (an absent optional argument)
  Tensor(std::shared_ptr<Storage> storage, Shape shape, Shape strides, int64_t offset, DType dtype);

  static Tensor empty(const Shape& shape, DType dtype, Device device = {});
  static Tensor zeros(const Shape& shape, DType dtype, Device device = {});
  static Tensor full(const Shape& shape, double value, DType dtype, Device device = {});
  static Tensor scalar(double value, DType dtype, Device device = {});

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  const Shape& strides() const { return strides_; }
  int64_t offset() const { return offset_; }
  int64_t dim() const { return static_cast<int64_t>(shape_.size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t numel() const { return shape_numel(shape_); }
  DType dtype() const { return dtype_; }
  Device device() const { return storage_ ? storage_->device() : Device{}; }
  const std::shared_ptr<Storage>& storage() const { return storage_; }
  size_t itemsize() const { return dtype_size(dtype_); }
  bool is_contiguous() const;
  // The in-place write count of the memory this tensor views (shared by all its views; see Storage).
  uint64_t version() const { return storage_ ? storage_->version() : 0; }
  void bump_version() const {
    if (storage_) storage_->bump_version();
  }

  // Pointer to the first element (storage base + offset). T must match the dtype.
  template <typename T>
  T* data() const {
    PYCNN_CHECK_TYPE(dtype_of<T>::value == dtype_, "[tensor] data<", dtype_name(dtype_of<T>::value), ">() on a ",
                     dtype_name(dtype_), " tensor");
    return static_cast<T*>(storage_->data()) + offset_;
  }
  void* raw_data() const { return static_cast<char*>(storage_->data()) + offset_ * itemsize(); }

  // Views (share memory) and copies.
  Tensor view(const Shape& shape) const;     // needs a contiguous tensor; one dim may be -1
  Tensor reshape(const Shape& shape) const;  // a view when possible, a copy otherwise
  Tensor transpose(int64_t d0, int64_t d1) const;
  Tensor permute(const Shape& dims) const;
  Tensor expand(const Shape& shape) const;  // broadcast view: size-1 dims get stride 0
  Tensor select(int64_t dim, int64_t index) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor contiguous() const;  // itself when already contiguous
  Tensor clone() const;       // always a fresh contiguous copy
  // Host<->device copies from or to pinned memory with non_blocking stay queued on the current stream.
  Tensor to(Device device, bool non_blocking = false) const;
  Tensor pin_memory() const;  // a copy in page-locked host memory (itself when already pinned)
  bool is_pinned() const { return storage_ && storage_->pinned(); }
  Tensor to(DType dtype) const;
  double item() const;  // a one-element tensor's value, as double

 private:
  std::shared_ptr<Storage> storage_;
  Shape shape_;
  Shape strides_;
  int64_t offset_ = 0;
  DType dtype_ = DType::Float32;
};

// The data movement every view and conversion above relies on; implemented in ops/copy.cpp, which dispatches
// on the device like every other op. dst and src have one shape (src may be an expand() view); copy_ converts
// the dtype.
void copy_(Tensor& dst, const Tensor& src);
void fill_(Tensor& dst, double value);

// Resolves a possibly negative dim index against a rank, with an error naming the op.
int64_t wrap_dim(int64_t dim, int64_t rank, const char* op);

}  // namespace pycnn
