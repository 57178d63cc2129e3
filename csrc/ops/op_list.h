// One list per enum family. A family (UnaryOp, BinaryOp, Reduction, ...) is an X-macro list in ops/ops.h,
// one line per value: X(EnumName, "python name", extra columns...). PYCNN_DEFINE_OP_LIST(Enum, LIST, family,
// what) turns it into the enum class and its table of names; the templates below then give every family
// the same name lookup, parse-by-name (errors "[family] unknown what 'x'; expected one of ...") and the list
// of names that _C exports. Adding a value is one line in its list.
#pragma once
#include <cstddef>  // defines: size_t
#include <string>
#include <vector>

#include "core/check.h"  // defines: ValueError, str

namespace pycnn {

// The names of a family, in list order, plus the words its parse errors use: "[family] unknown what 'x'".
// Specialised by PYCNN_DEFINE_OP_LIST for each enum.
template <typename E>
struct OpList;

// An entry's enum value and its name: the first two columns of any list line (extra columns are ignored).
#define PYCNN_OP_LIST_ENUM(Name, ...) Name,
#define PYCNN_OP_LIST_NAME(Name, ...) PYCNN_OP_LIST_FIRST(__VA_ARGS__, ~),
#define PYCNN_OP_LIST_FIRST(first, ...) first

#define PYCNN_DEFINE_OP_LIST(Enum, LIST, family, what)                  \
  enum class Enum { LIST(PYCNN_OP_LIST_ENUM) };                         \
  template <>                                                           \
  struct OpList<Enum> {                                                 \
    static constexpr const char* kFamily = family;                      \
    static constexpr const char* kWhat = what;                          \
    static constexpr const char* kNames[] = {LIST(PYCNN_OP_LIST_NAME)}; \
  };

template <typename E>
constexpr size_t op_count() {
  return sizeof(OpList<E>::kNames) / sizeof(OpList<E>::kNames[0]);
}

template <typename E>
const char* op_name(E value) {
  return OpList<E>::kNames[static_cast<size_t>(value)];
}

template <typename E>
std::vector<std::string> op_names() {
  return std::vector<std::string>(OpList<E>::kNames, OpList<E>::kNames + op_count<E>());
}

// The value named `name`; a ValueError that lists the valid names otherwise.
template <typename E>
E parse_op(const std::string& name) {
  for (size_t i = 0; i < op_count<E>(); ++i)
    if (name == OpList<E>::kNames[i]) return static_cast<E>(i);
  std::string valid;
  for (size_t i = 0; i < op_count<E>(); ++i) valid += str(i ? ", '" : "'", OpList<E>::kNames[i], "'");
  throw ValueError(
      str("[", OpList<E>::kFamily, "] unknown ", OpList<E>::kWhat, " '", name, "'; expected one of ", valid));
}

}  // namespace pycnn
