// Tensor construction, views and copies. Views only rewrite (shape, strides, offset); anything that
// moves data goes through ops (copy_, cast) so that it dispatches on the device like every other op.
#include "pycnn/core/tensor.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "pycnn/core/cuda_runtime.h"

namespace pycnn {

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t s = 1;
  for (int64_t i = static_cast<int64_t>(shape.size()) - 1; i >= 0; --i) {
    strides[i] = s;
    // Saturates: only an empty tensor (a 0 dim) gets this far with huge dims, and it never uses its strides.
    if (__builtin_mul_overflow(s, std::max<int64_t>(shape[i], 1), &s)) s = INT64_MAX;
  }
  return strides;
}

int64_t shape_numel(const Shape& shape) {
  for (int64_t d : shape)
    if (d == 0) return 0;  // (2**32, 2**32, 0) is empty, not an overflow
  int64_t n = 1;
  for (int64_t d : shape)
    if (__builtin_mul_overflow(n, d, &n))
      throw ValueError(str("[shape] ", shape_str(shape), " is too large: more than 2^63 - 1 elements"));
  return n;
}

int64_t wrap_dim(int64_t dim, int64_t rank, const char* op) {
  int64_t r = std::max<int64_t>(rank, 1);
  PYCNN_CHECK(dim >= -r && dim < r, "[", op, "] dim ", dim, " out of range for a tensor of rank ", rank);
  return dim < 0 ? dim + r : dim;
}

static void check_shape(const Shape& shape, const char* op) {
  for (int64_t d : shape) PYCNN_CHECK(d >= 0, "[", op, "] negative dimension in shape ", shape_str(shape));
}

Tensor::Tensor(std::shared_ptr<Storage> storage, Shape shape, Shape strides, int64_t offset, DType dtype)
    : storage_(std::move(storage)),
      shape_(std::move(shape)),
      strides_(std::move(strides)),
      offset_(offset),
      dtype_(dtype) {}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  check_shape(shape, "empty");
  const int64_t bytes = checked_mul(shape_numel(shape), static_cast<int64_t>(dtype_size(dtype)), "empty");
  std::shared_ptr<Storage> storage;
  try {
    storage = std::make_shared<Storage>(static_cast<size_t>(bytes), device);
  } catch (const std::bad_alloc&) {
    throw OutOfMemory(str("[empty] cannot allocate ", bytes, " bytes for a ", dtype_name(dtype), " tensor of shape ",
                          shape_str(shape), " on ", device.str()));
  }
  return Tensor(std::move(storage), shape, contiguous_strides(shape), 0, dtype);
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) { return full(shape, 0.0, dtype, device); }

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  fill_(t, value);
  return t;
}

Tensor Tensor::scalar(double value, DType dtype, Device device) { return full({}, value, dtype, device); }

int64_t Tensor::size(int64_t d) const { return shape_[wrap_dim(d, dim(), "size")]; }

bool is_contiguous(const Shape& shape, const Shape& strides) {
  // An empty tensor has no element out of place, whatever view it came from.
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return true;
  int64_t expected = 1;
  for (int64_t i = static_cast<int64_t>(shape.size()) - 1; i >= 0; --i) {
    if (shape[i] == 1) continue;  // the stride of a size-1 dim never matters
    if (strides[i] != expected) return false;
    expected *= shape[i];
  }
  return true;
}

bool Tensor::is_contiguous() const { return pycnn::is_contiguous(shape_, strides_); }

// Infers one -1 entry and checks that the element count is kept.
static Shape infer_shape(const Shape& shape, int64_t numel, const Shape& from, const char* op) {
  Shape out = shape;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      PYCNN_CHECK(infer < 0, "[", op, "] only one dimension can be -1, got ", shape_str(shape));
      infer = static_cast<int64_t>(i);
    } else {
      PYCNN_CHECK(out[i] >= 0, "[", op, "] invalid shape ", shape_str(shape));
      known *= out[i];
    }
  }
  if (infer >= 0) {
    PYCNN_CHECK(known > 0 && numel % known == 0, "[", op, "] shape ", shape_str(shape),
                " is invalid for an input of shape ", shape_str(from));
    out[infer] = numel / known;
  }
  PYCNN_CHECK(shape_numel(out) == numel, "[", op, "] shape ", shape_str(shape), " is invalid for an input of shape ",
              shape_str(from), " (", numel, " elements)");
  return out;
}

Tensor Tensor::view(const Shape& shape) const {
  PYCNN_CHECK(is_contiguous(), "[view] needs a contiguous tensor, got shape ", shape_str(shape_), " with strides ",
              shape_str(strides_), "; use reshape()");
  Shape out = infer_shape(shape, numel(), shape_, "view");
  return Tensor(storage_, out, contiguous_strides(out), offset_, dtype_);
}

Tensor Tensor::reshape(const Shape& shape) const { return is_contiguous() ? view(shape) : contiguous().view(shape); }

Tensor Tensor::transpose(int64_t d0, int64_t d1) const {
  Shape dims(dim());
  std::iota(dims.begin(), dims.end(), 0);
  std::swap(dims[wrap_dim(d0, dim(), "transpose")], dims[wrap_dim(d1, dim(), "transpose")]);
  return permute(dims);
}

Tensor Tensor::permute(const Shape& dims) const {
  PYCNN_CHECK(static_cast<int64_t>(dims.size()) == dim(), "[permute] got ", dims.size(), " dims for a tensor of shape ",
              shape_str(shape_));
  Shape shape(dims.size()), strides(dims.size());
  std::vector<bool> seen(dims.size(), false);
  for (size_t i = 0; i < dims.size(); ++i) {
    int64_t d = wrap_dim(dims[i], dim(), "permute");
    PYCNN_CHECK(!seen[d], "[permute] repeated dim in ", shape_str(dims));
    seen[d] = true;
    shape[i] = shape_[d];
    strides[i] = strides_[d];
  }
  return Tensor(storage_, shape, strides, offset_, dtype_);
}

Tensor Tensor::expand(const Shape& shape) const {
  PYCNN_CHECK(shape.size() >= shape_.size(), "[expand] cannot expand shape ", shape_str(shape_), " to ",
              shape_str(shape));
  size_t lead = shape.size() - shape_.size();
  Shape strides(shape.size(), 0);
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i < lead) continue;
    int64_t s = shape_[i - lead];
    PYCNN_CHECK(s == shape[i] || s == 1, "[expand] cannot expand shape ", shape_str(shape_), " to ", shape_str(shape));
    strides[i] = s == 1 ? 0 : strides_[i - lead];
  }
  return Tensor(storage_, shape, strides, offset_, dtype_);
}

Tensor Tensor::select(int64_t d, int64_t index) const {
  d = wrap_dim(d, dim(), "select");
  PYCNN_CHECK(index >= -shape_[d] && index < shape_[d], "[select] index ", index, " out of range for dim ", d,
              " of shape ", shape_str(shape_));
  if (index < 0) index += shape_[d];
  Shape shape = shape_, strides = strides_;
  shape.erase(shape.begin() + d);
  strides.erase(strides.begin() + d);
  return Tensor(storage_, shape, strides, offset_ + index * strides_[d], dtype_);
}

Tensor Tensor::narrow(int64_t d, int64_t start, int64_t length) const {
  d = wrap_dim(d, dim(), "narrow");
  PYCNN_CHECK(start >= 0 && length >= 0 && start + length <= shape_[d], "[narrow] range [", start, ", ", start + length,
              ") out of bounds for dim ", d, " of shape ", shape_str(shape_));
  Shape shape = shape_;
  shape[d] = length;
  return Tensor(storage_, shape, strides_, offset_ + start * strides_[d], dtype_);
}

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

Tensor Tensor::clone() const {
  Tensor out = empty(shape_, dtype_, device());
  copy_(out, *this);
  return out;
}

Tensor Tensor::to(Device device, bool non_blocking) const {
  if (device == this->device()) return *this;
  Tensor src = contiguous();
  // Pinned on the host side both ways, so that a non-blocking copy back to the CPU can stay asynchronous too.
  const bool pinned = non_blocking && device.is_cpu() && cuda::is_built() && cuda::device_count() > 0;
  Tensor out(std::make_shared<Storage>(numel() * itemsize(), device, pinned), shape_, contiguous_strides(shape_), 0,
             dtype_);
  cuda::copy_bytes(out.raw_data(), device, src.raw_data(), src.device(), numel() * itemsize(),
                   src.is_pinned() || out.is_pinned(), non_blocking);
  return out;
}

Tensor Tensor::pin_memory() const {
  PYCNN_CHECK_RUNTIME(device().is_cpu(), "[pin_memory] only CPU tensors can be pinned, this one is on ",
                      device().str());
  if (is_pinned()) return *this;
  Tensor src = contiguous();
  Tensor out(std::make_shared<Storage>(numel() * itemsize(), Device{}, true), shape_, contiguous_strides(shape_), 0,
             dtype_);
  if (numel()) std::memcpy(out.raw_data(), src.raw_data(), numel() * itemsize());
  return out;
}

Tensor Tensor::to(DType dtype) const {
  if (dtype == dtype_) return *this;
  Tensor out = empty(shape_, dtype, device());
  copy_(out, *this);  // copy_ converts between dtypes
  return out;
}

double Tensor::item() const {
  PYCNN_CHECK(numel() == 1, "[item] needs a tensor with one element, got shape ", shape_str(shape_));
  Tensor host = to(Device{});
  return dispatch_storage(dtype_, "item", [&](auto tag) {
    using T = decltype(tag);
    return static_cast<double>(*host.data<T>());
  });
}

}  // namespace pycnn
