// safetensors files (program.h): an 8-byte little-endian header length N, N bytes of JSON
// {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ..., "__metadata__": {str: str}},
// then the data area, which the offsets index. The reader trusts nothing: every length and offset is checked
// against the file's size before anything is allocated or read.
#include <algorithm>  // defines: std::sort
#include <cerrno>
#include <cstdio>   // defines: std::rename, std::remove
#include <cstring>  // defines: std::memcpy, std::strerror
#include <fstream>

#include "json.h"
#include "pycnn/program.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.cpp reads and writes little-endian data in place: a big-endian host needs byte swaps here"
#endif

namespace pycnn {

namespace {

constexpr const char* kOp = "safetensors";

// safetensors' dtype names, in DType's order
constexpr const char* kDTypeCodes[] = {"F32", "F64", "I64", "I32", "U8", "BOOL", "F16", "BF16"};

DType parse_code(const std::string& code, const std::string& name) {
  for (size_t i = 0; i < std::size(kDTypeCodes); ++i)
    if (code == kDTypeCodes[i]) return static_cast<DType>(i);
  throw TypeError(str("[", kOp, "] tensor '", name, "' has dtype '", code,
                      "', which pycnn does not hold (F32, F64, I64, I32, U8, BOOL, F16, BF16)"));
}

const json::Value& member(const json::Value& obj, const char* key, json::Kind kind, const std::string& name) {
  const json::Value* v = obj.find(key);
  PYCNN_CHECK(v, "[", kOp, "] tensor '", name, "' has no '", key, "'");
  PYCNN_CHECK(v->kind == kind, "[", kOp, "] tensor '", name, "': '", key, "' is ", json::a_kind(v->kind), ", expected ",
              json::a_kind(kind));
  return *v;
}

struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  int64_t begin, nbytes;
};

Entry parse_entry(const std::string& name, const json::Value& v, int64_t data_size) {
  PYCNN_CHECK(v.kind == json::Kind::Object, "[", kOp, "] tensor '", name, "' is ", json::a_kind(v.kind),
              ", expected an object");
  Entry e{name, parse_code(member(v, "dtype", json::Kind::String, name).s, name), {}, 0, 0};
  int64_t numel = 1;
  for (const json::Value& d : member(v, "shape", json::Kind::Array, name).items) {
    PYCNN_CHECK(d.kind == json::Kind::Int && d.i >= 0, "[", kOp, "] tensor '", name,
                "': shape entries must be integers >= 0");
    e.shape.push_back(d.i);
    numel = checked_mul(numel, d.i, kOp);
  }
  e.nbytes = checked_mul(numel, static_cast<int64_t>(dtype_size(e.dtype)), kOp);
  const auto& offs = member(v, "data_offsets", json::Kind::Array, name).items;
  PYCNN_CHECK(offs.size() == 2 && offs[0].kind == json::Kind::Int && offs[1].kind == json::Kind::Int, "[", kOp,
              "] tensor '", name, "': data_offsets must be two integers");
  const int64_t begin = offs[0].i, end = offs[1].i;
  PYCNN_CHECK(0 <= begin && begin <= end && end <= data_size, "[", kOp, "] tensor '", name, "': data_offsets [", begin,
              ", ", end, "] are not inside the data area of ", data_size, " bytes");
  PYCNN_CHECK(end - begin == e.nbytes, "[", kOp, "] tensor '", name, "': data_offsets [", begin, ", ", end, "] hold ",
              end - begin, " bytes but ", dtype_name(e.dtype), " of shape ", shape_str(e.shape), " needs ", e.nbytes);
  e.begin = begin;
  return e;
}

void read_exact(std::ifstream& f, void* dst, int64_t n, int64_t at, const std::string& path) {
  f.seekg(at);
  f.read(static_cast<char*>(dst), n);
  PYCNN_CHECK_RUNTIME(f && f.gcount() == n, "[", kOp, "] could not read ", n, " bytes at offset ", at, " of '", path,
                      "' (the file changed while it was read?)");
}

void put_json_string(std::string& out, const std::string& s) {
  out += '"';
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}

}  // namespace

SafetensorsFile load_safetensors(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  PYCNN_CHECK_RUNTIME(f, "[", kOp, "] cannot open '", path, "': ", std::strerror(errno));
  f.seekg(0, std::ios::end);
  const int64_t file_size = static_cast<int64_t>(f.tellg());
  PYCNN_CHECK(file_size >= 8, "[", kOp, "] '", path, "' is ", file_size,
              " bytes long: too short for a safetensors file (8-byte header length first)");
  uint64_t header_len = 0;
  read_exact(f, &header_len, 8, 0, path);
  PYCNN_CHECK(header_len <= static_cast<uint64_t>(file_size - 8) && header_len <= json::kMaxSize, "[", kOp,
              "] header length ", header_len, " is past the end of '", path, "' (", file_size, " bytes)");
  std::string header(header_len, '\0');
  read_exact(f, header.data(), static_cast<int64_t>(header_len), 8, path);
  const json::Value root = json::parse(header, kOp);
  PYCNN_CHECK(root.kind == json::Kind::Object, "[", kOp, "] the header is ", json::a_kind(root.kind),
              ", expected an object");

  const int64_t data_start = 8 + static_cast<int64_t>(header_len);
  const int64_t data_size = file_size - data_start;
  SafetensorsFile out;
  std::vector<Entry> entries;
  for (const auto& [name, v] : root.members) {
    if (name != "__metadata__") {
      entries.push_back(parse_entry(name, v, data_size));
      continue;
    }
    PYCNN_CHECK(v.kind == json::Kind::Object, "[", kOp, "] __metadata__ is ", json::a_kind(v.kind),
                ", expected an object of strings");
    for (const auto& [key, value] : v.members) {
      PYCNN_CHECK(value.kind == json::Kind::String, "[", kOp, "] __metadata__ '", key, "' is ",
                  json::a_kind(value.kind), ", expected a string");
      out.metadata[key] = value.s;
    }
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
  for (const Entry& e : entries) {
    Tensor t = Tensor::empty(e.shape, e.dtype);
    if (e.nbytes > 0) read_exact(f, t.raw_data(), e.nbytes, data_start + e.begin, path);
    out.tensors.emplace_back(e.name, std::move(t));
  }
  return out;
}

void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  std::vector<Tensor> host;
  std::string header = "{";
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    for (const auto& [key, value] : metadata) {
      if (header.back() != '{') header += ',';
      put_json_string(header, key);
      header += ':';
      put_json_string(header, value);
    }
    header += '}';
  }
  int64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    PYCNN_CHECK(t.defined(), "[", kOp, "] tensor '", name, "' is undefined");
    PYCNN_CHECK(name != "__metadata__", "[", kOp, "] a tensor may not be named __metadata__");
    host.push_back(t.to(Device{}).contiguous());
    const int64_t nbytes = checked_mul(t.numel(), static_cast<int64_t>(t.itemsize()), kOp);
    if (header.size() > 1) header += ',';
    put_json_string(header, name);
    header += str(":{\"dtype\":\"", kDTypeCodes[static_cast<int>(t.dtype())], "\",\"shape\":[");
    for (int64_t d = 0; d < t.dim(); ++d) header += str(d ? "," : "", t.size(d));
    header += str("],\"data_offsets\":[", offset, ",", checked_add(offset, nbytes, kOp), "]}");
    offset += nbytes;
  }
  header += '}';
  header.append((8 - header.size() % 8) % 8, ' ');  // the data area starts 8-byte aligned, as safetensors pads

  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    PYCNN_CHECK_RUNTIME(f, "[", kOp, "] cannot write '", tmp, "': ", std::strerror(errno));
    const uint64_t n = header.size();
    f.write(reinterpret_cast<const char*>(&n), 8);
    f.write(header.data(), static_cast<std::streamsize>(header.size()));
    for (const Tensor& t : host) f.write(static_cast<const char*>(t.raw_data()), t.numel() * t.itemsize());
    f.flush();
    if (!f) {
      std::remove(tmp.c_str());
      throw std::runtime_error(str("[", kOp, "] writing '", tmp, "' failed: ", std::strerror(errno)));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    throw std::runtime_error(str("[", kOp, "] cannot rename '", tmp, "' to '", path, "': ", std::strerror(err)));
  }
}

}  // namespace pycnn
