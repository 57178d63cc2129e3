// Precondition checks. Every op validates its input with PYCNN_CHECK(cond, "[op] message ...") and
// throws a typed exception; the bindings map ValueError/TypeError/RuntimeError onto Python's own.
// Nothing in the core aborts on bad input.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace pycnn {

struct ValueError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};  // bad shapes/values
struct TypeError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};  // bad dtype
struct OutOfMemory : std::runtime_error {
  using std::runtime_error::runtime_error;
};  // an allocation the machine cannot give (Python's MemoryError), with the size that was asked for
// Everything else (device not available, internal failures) is std::runtime_error.

namespace detail {
inline void append(std::ostringstream&) {}
template <typename T, typename... Rest>
void append(std::ostringstream& os, const T& v, const Rest&... rest) {
  os << v;
  append(os, rest...);
}
}  // namespace detail

template <typename... Args>
std::string str(const Args&... args) {
  std::ostringstream os;
  detail::append(os, args...);
  return os.str();
}

// "(8, 4, 32, 32)", as Python prints a shape.
std::string shape_str(const std::vector<int64_t>& shape);

// Size arithmetic that cannot wrap around: a + b and a * b of sizes, or a ValueError "[op] ... too large".
inline int64_t checked_add(int64_t a, int64_t b, const char* op) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) throw ValueError(str("[", op, "] size too large: ", a, " + ", b, " overflows"));
  return r;
}
inline int64_t checked_mul(int64_t a, int64_t b, const char* op) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) throw ValueError(str("[", op, "] size too large: ", a, " * ", b, " overflows"));
  return r;
}

}  // namespace pycnn

#define PYCNN_CHECK_T(cond, ExcType, ...)                  \
  do {                                                     \
    if (!(cond)) throw ExcType(::pycnn::str(__VA_ARGS__)); \
  } while (0)
#define PYCNN_CHECK(cond, ...) PYCNN_CHECK_T(cond, ::pycnn::ValueError, __VA_ARGS__)
#define PYCNN_CHECK_TYPE(cond, ...) PYCNN_CHECK_T(cond, ::pycnn::TypeError, __VA_ARGS__)
#define PYCNN_CHECK_RUNTIME(cond, ...) PYCNN_CHECK_T(cond, std::runtime_error, __VA_ARGS__)
