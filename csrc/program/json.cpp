// The strict JSON reader of json.h: a recursive-descent parser over the text, one function per grammar rule.
// Numbers with '.', 'e' or 'E' are doubles (std::from_chars: correctly rounded, so Python's repr reads back
// exactly), the others int64 (out of range is an error, never a silent rounding).
#include "json.h"

#include <charconv>  // defines: std::from_chars
#include <cmath>     // defines: INFINITY, NAN
#include <cstdio>    // defines: std::snprintf
#include <cstring>   // defines: std::strncmp

#include "pycnn/core/check.h"  // defines: ValueError, str

namespace pycnn::json {

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::Null: return "null";
    case Kind::Bool: return "bool";
    case Kind::Int: return "integer";
    case Kind::Double: return "number";
    case Kind::String: return "string";
    case Kind::Array: return "array";
    default: return "object";
  }
}

std::string a_kind(Kind k) {
  const std::string name = kind_name(k);
  return (k == Kind::Int || k == Kind::Array || k == Kind::Object ? "an " : "a ") + name;
}

const Value* Value::find(const std::string& key) const {
  for (const auto& m : members)
    if (m.first == key) return &m.second;
  return nullptr;
}

namespace {

class Parser {
 public:
  Parser(const std::string& text, const char* what)
      : p_(text.data()), begin_(text.data()), end_(p_ + text.size()), what_(what) {}

  Value document() {
    Value v = value(0);
    skip_ws();
    if (p_ != end_) fail("unexpected text after the JSON value");
    return v;
  }

 private:
  const char* p_;
  const char* begin_;
  const char* end_;
  const char* what_;

  [[noreturn]] void fail(const std::string& msg) const {
    throw ValueError(str("[", what_, "] invalid JSON: ", msg, " at byte ", p_ - begin_));
  }
  // A byte of the text for an error message: itself when printable ASCII, else its hex value (messages stay
  // valid UTF-8 whatever the file holds).
  static std::string describe(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F) return str("character '", c, "'");
    char buf[16];
    std::snprintf(buf, sizeof buf, "byte 0x%02x", u);
    return buf;
  }
  void skip_ws() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }
  bool literal(const char* word) {
    const size_t n = std::strlen(word);
    if (static_cast<size_t>(end_ - p_) < n || std::strncmp(p_, word, n) != 0) return false;
    p_ += n;
    return true;
  }

  Value value(int depth) {
    if (depth > kMaxDepth) fail(str("nesting deeper than ", kMaxDepth));
    skip_ws();
    if (p_ == end_) fail("unexpected end of text");
    Value v;
    const char c = *p_;
    if (c == '{') return object(depth);
    if (c == '[') return array(depth);
    if (c == '"') {
      v.kind = Kind::String;
      v.s = string();
    } else if (literal("true")) {
      v.kind = Kind::Bool, v.b = true;
    } else if (literal("false")) {
      v.kind = Kind::Bool, v.b = false;
    } else if (literal("null")) {
      v.kind = Kind::Null;
    } else if (literal("NaN")) {
      v.kind = Kind::Double, v.d = NAN;
    } else if (literal("Infinity")) {
      v.kind = Kind::Double, v.d = INFINITY;
    } else if (literal("-Infinity")) {
      v.kind = Kind::Double, v.d = -INFINITY;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      v = number();
    } else {
      fail("unexpected " + describe(c));
    }
    return v;
  }

  Value object(int depth) {
    Value v;
    v.kind = Kind::Object;
    ++p_;  // '{'
    skip_ws();
    if (p_ != end_ && *p_ == '}') return ++p_, v;
    while (true) {
      skip_ws();
      if (p_ == end_ || *p_ != '"') fail("expected a string key");
      std::string key = string();
      if (v.find(key)) fail(str("duplicate key \"", key, "\""));
      skip_ws();
      if (p_ == end_ || *p_ != ':') fail("expected ':'");
      ++p_;
      v.members.emplace_back(std::move(key), value(depth + 1));
      skip_ws();
      if (p_ != end_ && *p_ == ',') {
        ++p_;
        continue;
      }
      if (p_ != end_ && *p_ == '}') return ++p_, v;
      fail("expected ',' or '}'");
    }
  }

  Value array(int depth) {
    Value v;
    v.kind = Kind::Array;
    ++p_;  // '['
    skip_ws();
    if (p_ != end_ && *p_ == ']') return ++p_, v;
    while (true) {
      v.items.push_back(value(depth + 1));
      skip_ws();
      if (p_ != end_ && *p_ == ',') {
        ++p_;
        continue;
      }
      if (p_ != end_ && *p_ == ']') return ++p_, v;
      fail("expected ',' or ']'");
    }
  }

  // JSON's grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  Value number() {
    const char* start = p_;
    auto digits = [&] {
      const char* d = p_;
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
      if (p_ == d) fail("expected a digit");
    };
    bool is_double = false;
    if (*p_ == '-') ++p_;
    if (p_ != end_ && *p_ == '0') {
      ++p_;
    } else {
      digits();
    }
    if (p_ != end_ && *p_ == '.') {
      ++p_, is_double = true;
      digits();
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_, is_double = true;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      digits();
    }
    Value v;
    std::from_chars_result r;
    if (is_double) {
      v.kind = Kind::Double;
      r = std::from_chars(start, p_, v.d);  // out of range (1e999) is an error, as Python would write inf
    } else {
      v.kind = Kind::Int;
      r = std::from_chars(start, p_, v.i);
    }
    if (r.ec != std::errc() || r.ptr != p_) {
      p_ = start;
      fail(is_double ? "number out of range" : "integer out of the int64 range");
    }
    return v;
  }

  unsigned hex4() {
    if (end_ - p_ < 4) fail("truncated \\u escape");
    unsigned u = 0;
    for (int k = 0; k < 4; ++k, ++p_) {
      const char c = *p_;
      u <<= 4;
      if (c >= '0' && c <= '9')
        u |= c - '0';
      else if (c >= 'a' && c <= 'f')
        u |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        u |= c - 'A' + 10;
      else
        fail("bad hex digit in a \\u escape");
    }
    return u;
  }

  static void put_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  // One multi-byte UTF-8 character, copied to out: a valid lead byte, its continuation bytes, and neither an
  // overlong form, a surrogate nor a code point past U+10FFFF (the names end up in Python strings).
  void utf8_sequence(std::string& out) {
    const auto lead = static_cast<unsigned char>(*p_);
    const int extra = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : -1;
    if (extra < 0 || lead > 0xF4 || end_ - p_ <= extra) fail("invalid UTF-8 in a string");
    unsigned cp = lead & (0x3F >> extra);
    for (int k = 1; k <= extra; ++k) {
      const auto b = static_cast<unsigned char>(p_[k]);
      if ((b & 0xC0) != 0x80) fail("invalid UTF-8 in a string");
      cp = (cp << 6) | (b & 0x3F);
    }
    constexpr unsigned kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000)) fail("invalid UTF-8 in a string");
    out.append(p_, extra + 1);
    p_ += extra + 1;
  }

  std::string string() {
    ++p_;  // '"'
    std::string out;
    while (true) {
      if (p_ == end_) fail("unterminated string");
      const char c = *p_;
      if (c == '"') {
        ++p_;
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
      if (static_cast<unsigned char>(c) >= 0x80) {
        utf8_sequence(out);
        continue;
      }
      if (c != '\\') {
        out += c;
        ++p_;
        continue;
      }
      if (++p_ == end_) fail("unterminated string");
      const char e = *p_++;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00) {  // a high surrogate: its low half must follow
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') fail("unpaired surrogate in a \\u escape");
            p_ += 2;
            const unsigned lo = hex4();
            if (lo < 0xDC00 || lo >= 0xE000) fail("unpaired surrogate in a \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            fail("unpaired surrogate in a \\u escape");
          }
          put_utf8(out, cp);
          break;
        }
        default: --p_, fail("bad escape: backslash then " + describe(e));
      }
    }
  }
};

}  // namespace

Value parse(const std::string& text, const char* what) {
  PYCNN_CHECK(text.size() <= kMaxSize, "[", what, "] JSON text of ", text.size(), " bytes is larger than the limit of ",
              kMaxSize);
  return Parser(text, what).document();
}

}  // namespace pycnn::json
