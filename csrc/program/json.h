// A small strict JSON reader for program files (csrc/program/): objects, arrays, strings with every escape
// (\uXXXX and surrogate pairs included), integers (int64, exact) and doubles, true/false/null, plus Python's
// NaN/Infinity/-Infinity (json.dumps writes them for a clamp without a bound). Strings must be valid UTF-8.
// Depth and size are bounded and every error is a ValueError "[what] ... at byte N".
#pragma once
#include <cstdint>
#include <string>
#include <utility>  // defines: std::pair
#include <vector>

namespace pycnn::json {

enum class Kind { Null, Bool, Int, Double, String, Array, Object };
const char* kind_name(Kind k);  // "null", "bool", "integer", "number", "string", "array", "object"
std::string a_kind(Kind k);     // the same with its article: "an integer", "a string", ...

struct Value {
  Kind kind = Kind::Null;
  bool b = false;
  int64_t i = 0;
  double d = 0;
  std::string s;
  std::vector<Value> items;                            // Array
  std::vector<std::pair<std::string, Value>> members;  // Object, in file order, keys unique

  bool is_number() const { return kind == Kind::Int || kind == Kind::Double; }
  double as_double() const { return kind == Kind::Int ? static_cast<double>(i) : d; }
  const Value* find(const std::string& key) const;  // an object's member, or nullptr
};

constexpr int kMaxDepth = 64;
constexpr size_t kMaxSize = size_t{1} << 30;

// Parses the whole of `text` (surrounding whitespace allowed); `what` prefixes errors.
Value parse(const std::string& text, const char* what);

}  // namespace pycnn::json
