// One list per enum family. A family (UnaryOp, BinaryOp, Reduction, ... in ops/ops.h; SimdLevel in
// core/cpu_features.h) is an X-macro list, one line per value: X(EnumName, "python name", extra columns...).
// PYCNN_DEFINE_ENUM_LIST(Enum, LIST, family, what) turns it into the enum class and its table of names; the templates
// below then give every family the same name lookup, parse-by-name (errors "[family] unknown what 'x'; expected one of
// ...") and the list of names that _C exports. Adding a value is one line in its list.
#pragma once
#include <cstddef>  // defines: size_t
#include <string>
#include <vector>

#include "pycnn/core/check.h"  // defines: ValueError, str

namespace pycnn {

// The names of a family, in list order, plus the words its parse errors use: "[family] unknown what 'x'".
// Specialised by PYCNN_DEFINE_ENUM_LIST for each enum.
template <typename E>
struct EnumList;

// An entry's enum value and its name: the first two columns of any list line (extra columns are ignored).
#define PYCNN_ENUM_LIST_ENUM(Name, ...) Name,
#define PYCNN_ENUM_LIST_NAME(Name, ...) PYCNN_ENUM_LIST_FIRST(__VA_ARGS__, ~),
#define PYCNN_ENUM_LIST_FIRST(first, ...) first

#define PYCNN_DEFINE_ENUM_LIST(Enum, LIST, family, what)                  \
  enum class Enum { LIST(PYCNN_ENUM_LIST_ENUM) };                         \
  template <>                                                             \
  struct EnumList<Enum> {                                                 \
    static constexpr const char* kFamily = family;                        \
    static constexpr const char* kWhat = what;                            \
    static constexpr const char* kNames[] = {LIST(PYCNN_ENUM_LIST_NAME)}; \
  };

template <typename E>
constexpr size_t enum_count() {
  return sizeof(EnumList<E>::kNames) / sizeof(EnumList<E>::kNames[0]);
}

template <typename E>
const char* enum_name(E value) {
  return EnumList<E>::kNames[static_cast<size_t>(value)];
}

template <typename E>
std::vector<std::string> enum_names() {
  return std::vector<std::string>(EnumList<E>::kNames, EnumList<E>::kNames + enum_count<E>());
}

// The value named `name`; a ValueError that lists the valid names otherwise.
template <typename E>
E parse_enum(const std::string& name) {
  for (size_t i = 0; i < enum_count<E>(); ++i)
    if (name == EnumList<E>::kNames[i]) return static_cast<E>(i);
  std::string valid;
  for (size_t i = 0; i < enum_count<E>(); ++i) valid += str(i ? ", '" : "'", EnumList<E>::kNames[i], "'");
  throw ValueError(
      str("[", EnumList<E>::kFamily, "] unknown ", EnumList<E>::kWhat, " '", name, "'; expected one of ", valid));
}

}  // namespace pycnn
