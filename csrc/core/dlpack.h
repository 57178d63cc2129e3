// The DLPack ABI (versions 1.0 and 1.1 of the public specification): the C structs two libraries pass
// through a PyCapsule to share a tensor's memory without copying. Written from the public specification; only
// the layout matters (other libraries compile the same structs from their own dlpack.h), so the names keep
// the spec's and live in pycnn::dlpack to stay clear of a dlpack.h another header may bring in.
// Ownership: whoever holds a DLManagedTensor(Versioned) calls its deleter once, when done with the memory.
#pragma once
#include <cstdint>

namespace pycnn::dlpack {

// The newest version pycnn produces and reads; a consumer refuses a capsule of a higher major version.
constexpr uint32_t kMajorVersion = 1;
constexpr uint32_t kMinorVersion = 1;

struct DLPackVersion {
  uint32_t major;
  uint32_t minor;
};

// C enums are int-sized: the fixed underlying types keep that layout.
enum DLDeviceType : int32_t {
  kDLCPU = 1,
  kDLCUDA = 2,
  kDLCUDAHost = 3,  // page-locked host memory
  kDLOpenCL = 4,
  kDLVulkan = 7,
  kDLMetal = 8,
  kDLVPI = 9,
  kDLROCM = 10,
  kDLROCMHost = 11,
  kDLExtDev = 12,
  kDLCUDAManaged = 13,
  kDLOneAPI = 14,
  kDLWebGPU = 15,
  kDLHexagon = 16,
  kDLMAIA = 17,
};

struct DLDevice {
  DLDeviceType device_type;
  int32_t device_id;
};

enum DLDataTypeCode : uint8_t {
  kDLInt = 0,
  kDLUInt = 1,
  kDLFloat = 2,
  kDLOpaqueHandle = 3,
  kDLBfloat = 4,
  kDLComplex = 5,
  kDLBool = 6,
};

// An element type: `code` (a DLDataTypeCode), `bits` per lane, `lanes` per element (1 for scalars).
struct DLDataType {
  uint8_t code;
  uint8_t bits;
  uint16_t lanes;
};

// The view itself: shape and strides count elements, not bytes; strides may be null (compact row-major).
// The first element is at data + byte_offset.
struct DLTensor {
  void* data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t* shape;
  int64_t* strides;
  uint64_t byte_offset;
};

// The legacy (pre-1.0) managed tensor, in a capsule named "dltensor".
struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(DLManagedTensor* self);
};

// flags of DLManagedTensorVersioned
constexpr uint64_t kFlagReadOnly = uint64_t(1) << 0;             // the consumer must not write the memory
constexpr uint64_t kFlagIsCopied = uint64_t(1) << 1;             // the producer made a copy for this export
constexpr uint64_t kFlagIsSubbyteTypePadded = uint64_t(1) << 2;  // (1.1) sub-byte elements padded to a byte

// The managed tensor of DLPack >= 1.0, in a capsule named "dltensor_versioned": version first, so that a
// consumer can check it before reading the rest.
struct DLManagedTensorVersioned {
  DLPackVersion version;
  void* manager_ctx;
  void (*deleter)(DLManagedTensorVersioned* self);
  uint64_t flags;
  DLTensor dl_tensor;
};

}  // namespace pycnn::dlpack
