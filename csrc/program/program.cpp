// pycnn::Program (include/pycnn/program.h): the loader turns a .pycnn file (docs/program-format.md) into a
// list of Nodes whose attributes are already parsed into the core's argument structs and whose value ids are
// already dense slots, so that run() is a loop of core calls. Everything a file can get wrong is checked in
// load(); run() checks the inputs and lets each op check its own shapes, naming the node when one fails.
#include "pycnn/program.h"

#include <unordered_map>

#include "json.h"
#include "pycnn/ops/ops.h"

namespace pycnn {

// The ops a program may hold (docs/program-format.md), with their arity.
// clang-format off
#define PYCNN_PROGRAM_OPS(X)                                                     \
  /* enum value, name, fewest inputs, most inputs (-1: any), required inputs, outputs */ \
  X(Conv2d,            "conv2d",              2,  3, 2, 1)                        \
  X(Linear,            "linear",              2,  3, 2, 1)                        \
  X(BatchNorm,         "batch_norm",          1,  5, 1, 1)                        \
  X(ReLU,              "relu",                1,  1, 1, 1)                        \
  X(Unary,             "unary",               1,  1, 1, 1)                        \
  X(Binary,            "binary",              2,  2, 2, 1)                        \
  X(MaxPool2d,         "max_pool2d",          1,  1, 1, 2)                        \
  X(AvgPool2d,         "avg_pool2d",          1,  1, 1, 1)                        \
  X(AdaptiveAvgPool2d, "adaptive_avg_pool2d", 1,  1, 1, 1)                        \
  X(LocalResponseNorm, "local_response_norm", 1,  1, 1, 1)                        \
  X(Cat,               "cat",                 1, -1, -1, 1)                       \
  X(Reshape,           "reshape",             1,  1, 1, 1)                        \
  X(Softmax,           "softmax",             1,  1, 1, 1)                        \
  X(LogSoftmax,        "log_softmax",         1,  1, 1, 1)                        \
  X(Cast,              "cast",                1,  1, 1, 1)                        \
  X(Sum,               "sum",                 1,  1, 1, 1)                        \
  X(Permute,           "permute",             1,  1, 1, 1)                        \
  X(Clone,             "clone",               1,  1, 1, 1)                        \
  X(MatMul,            "matmul",              2,  2, 2, 1)                        \
  X(PReLU,             "prelu",               2,  2, 2, 1)                        \
  X(ConvTranspose2d,   "conv_transpose2d",    2,  3, 2, 1)                        \
  X(AdaptiveMaxPool2d, "adaptive_max_pool2d", 1,  1, 1, 2)                        \
  X(Interpolate,       "interpolate",         1,  1, 1, 1)                        \
  X(Pad,               "pad",                 1,  1, 1, 1)                        \
  X(LayerNorm,         "layer_norm",          1,  3, 1, 1)                        \
  X(GroupNorm,         "group_norm",          1,  3, 1, 1)                        \
  X(PixelShuffle,      "pixel_shuffle",       1,  1, 1, 1)
// clang-format on
PYCNN_DEFINE_ENUM_LIST(ProgramOp, PYCNN_PROGRAM_OPS, "Program.load", "op")

namespace {

constexpr const char* kLoad = "Program.load";
constexpr const char* kRun = "Program.run";

struct Arity {
  int min_inputs, max_inputs, required, outputs;  // required -1: every input
};
#define PYCNN_PROGRAM_ARITY(Name, name, lo, hi, req, outs) Arity{lo, hi, req, outs},
constexpr Arity kArity[] = {PYCNN_PROGRAM_OPS(PYCNN_PROGRAM_ARITY)};
#undef PYCNN_PROGRAM_ARITY

DType parse_dtype_name(const std::string& name, const std::string& where) {
  for (int i = 0; i <= static_cast<int>(DType::BFloat16); ++i)
    if (name == dtype_name(static_cast<DType>(i))) return static_cast<DType>(i);
  throw ValueError(str("[", kLoad, "] ", where, ": unknown dtype '", name, "'"));
}

// One node, ready to run: slots instead of ids (-1: an absent optional input), attributes in the core's types.
struct Node {
  ProgramOp op;
  std::vector<int> in, out;
  std::vector<int> free_after;  // slots whose last use is this node
  Conv2dArgs conv;
  Pool2dArgs pool;
  UnaryOp unary = UnaryOp::Sigmoid;
  BinaryOp binary = BinaryOp::Add;
  double alpha = 0, beta = 0, k = 0, momentum = 0, eps = 0;
  int64_t size = 0, dim = 0, oh = 0, ow = 0;
  int64_t count = 0;  // group_norm's groups, layer_norm's normalized dims, pixel_shuffle's upscale factor
  int64_t output_padding_h = 0, output_padding_w = 0;
  Shape shape, dims;  // reshape's shape; sum's and permute's dims, pad's pads
  bool view_only = false, training = false, keepdim = false;
  DType dtype = DType::Float32;
  InterpolateArgs interp;
  PadMode pad_mode = PadMode::Constant;
  double value = 0;
};

// A JSON object's members by name, with errors that say where ("node 3 (conv2d): attribute 'stride' ...").
class Fields {
 public:
  Fields(const json::Value& obj, std::string where, const char* noun)
      : obj_(obj), where_(std::move(where)), noun_(noun) {
    PYCNN_CHECK(obj.kind == json::Kind::Object, "[", kLoad, "] ", where_, " is ", json::a_kind(obj.kind),
                ", expected an object");
  }
  const json::Value& get(const char* key, json::Kind kind) const {
    const json::Value& v = any(key);
    if (v.kind != kind) wrong(key, v, json::a_kind(kind));
    return v;
  }
  const json::Value& any(const char* key) const {
    const json::Value* v = obj_.find(key);
    PYCNN_CHECK(v, "[", kLoad, "] ", where_, ": ", noun_, " '", key, "' is missing");
    return *v;
  }
  bool has(const char* key) const { return obj_.find(key) != nullptr; }
  int64_t integer(const char* key) const { return get(key, json::Kind::Int).i; }
  bool boolean(const char* key) const { return get(key, json::Kind::Bool).b; }
  const std::string& string(const char* key) const { return get(key, json::Kind::String).s; }
  double number(const char* key) const {
    const json::Value& v = any(key);
    if (!v.is_number()) wrong(key, v, "a number");
    return v.as_double();
  }
  Shape ints(const char* key) const {
    Shape out;
    for (const json::Value& d : get(key, json::Kind::Array).items) {
      if (d.kind != json::Kind::Int) wrong(key, d, "an array of integers");
      out.push_back(d.i);
    }
    return out;
  }
  std::pair<double, double> number_pair(const char* key) const {
    const json::Value& v = get(key, json::Kind::Array);
    if (v.items.size() != 2 || !v.items[0].is_number() || !v.items[1].is_number()) wrong(key, v, "a pair of numbers");
    return {v.items[0].as_double(), v.items[1].as_double()};
  }
  std::pair<int64_t, int64_t> pair(const char* key) const {
    const Shape v = ints(key);
    PYCNN_CHECK(v.size() == 2, "[", kLoad, "] ", where_, ": ", noun_, " '", key, "' has ", v.size(),
                " entries, expected a pair [h, w]");
    return {v[0], v[1]};
  }
  const std::string& where() const { return where_; }

 private:
  [[noreturn]] void wrong(const char* key, const json::Value& v, const std::string& expected) const {
    throw ValueError(
        str("[", kLoad, "] ", where_, ": ", noun_, " '", key, "' is ", json::a_kind(v.kind), ", expected ", expected));
  }
  const json::Value& obj_;
  std::string where_;
  const char* noun_;
};

// An op picked by name (UnaryOp, BinaryOp), with the core's list of names when it is not one.
template <typename E>
E parse_named(const Fields& a, const char* key) {
  const std::string& name = a.string(key);
  try {
    return parse_enum<E>(name);
  } catch (const ValueError& e) {
    throw ValueError(str("[", kLoad, "] ", a.where(), ": ", e.what()));
  }
}

void parse_attrs(Node& n, const Fields& a) {
  switch (n.op) {
    case ProgramOp::Conv2d:
      n.conv = conv2d_args(a.pair("stride"), a.pair("padding"), a.pair("dilation"), a.integer("groups"));
      break;
    case ProgramOp::BatchNorm:
      n.training = a.boolean("training");
      n.momentum = a.number("momentum");
      n.eps = a.number("eps");
      break;
    case ProgramOp::Unary:
      n.unary = parse_named<UnaryOp>(a, "op");
      n.alpha = a.number("alpha");
      n.beta = a.number("beta");
      break;
    case ProgramOp::Binary: n.binary = parse_named<BinaryOp>(a, "op"); break;
    case ProgramOp::MaxPool2d:
    case ProgramOp::AvgPool2d: {
      const auto kernel = a.pair("kernel"), stride = a.pair("stride"), padding = a.pair("padding");
      n.pool.kernel_h = kernel.first, n.pool.kernel_w = kernel.second;
      n.pool.stride_h = stride.first, n.pool.stride_w = stride.second;
      n.pool.pad_h = padding.first, n.pool.pad_w = padding.second;
      n.pool.ceil_mode = a.boolean("ceil_mode");
      if (n.op == ProgramOp::MaxPool2d) {
        const auto dilation = a.pair("dilation");
        n.pool.dilation_h = dilation.first, n.pool.dilation_w = dilation.second;
      } else {
        n.pool.count_include_pad = a.boolean("count_include_pad");
        const json::Value& d = a.any("divisor_override");  // null is "none", 0 in Pool2dArgs
        n.pool.divisor_override = d.kind == json::Kind::Null ? 0 : a.integer("divisor_override");
      }
      break;
    }
    case ProgramOp::AdaptiveAvgPool2d: {
      const auto size = a.pair("output_size");
      n.oh = size.first, n.ow = size.second;
      break;
    }
    case ProgramOp::LocalResponseNorm:
      n.size = a.integer("size");
      n.alpha = a.number("alpha");
      n.beta = a.number("beta");
      n.k = a.number("k");
      break;
    case ProgramOp::Cat:
    case ProgramOp::Softmax:
    case ProgramOp::LogSoftmax: n.dim = a.integer("dim"); break;
    case ProgramOp::Reshape:
      n.shape = a.ints("shape");
      n.view_only = a.boolean("view_only");
      break;
    case ProgramOp::Cast: n.dtype = parse_dtype_name(a.string("dtype"), a.where()); break;
    case ProgramOp::Sum:
      n.dims = a.ints("dims");
      n.keepdim = a.boolean("keepdim");
      break;
    case ProgramOp::Permute: n.dims = a.ints("dims"); break;
    case ProgramOp::ConvTranspose2d: {
      n.conv = conv2d_args(a.pair("stride"), a.pair("padding"), a.pair("dilation"), a.integer("groups"));
      const auto output_padding = a.pair("output_padding");
      n.output_padding_h = output_padding.first, n.output_padding_w = output_padding.second;
      break;
    }
    case ProgramOp::AdaptiveMaxPool2d: {
      const auto size = a.pair("output_size");
      n.oh = size.first, n.ow = size.second;
      break;
    }
    case ProgramOp::Interpolate: {
      const auto size = a.pair("size");
      const auto scales = a.number_pair("scales");
      n.oh = size.first, n.ow = size.second;
      n.interp.mode = parse_named<InterpMode>(a, "mode");
      n.interp.align_corners = a.boolean("align_corners");
      n.interp.scale_h = scales.first, n.interp.scale_w = scales.second;
      break;
    }
    case ProgramOp::Pad:
      n.dims = a.ints("pads");
      n.pad_mode = parse_named<PadMode>(a, "mode");
      n.value = a.number("value");
      break;
    case ProgramOp::LayerNorm:
      n.count = a.integer("normalized_ndim");
      n.eps = a.number("eps");
      break;
    case ProgramOp::GroupNorm:
      n.count = a.integer("groups");
      n.eps = a.number("eps");
      break;
    case ProgramOp::PixelShuffle: n.count = a.integer("r"); break;
    case ProgramOp::Linear:
    case ProgramOp::ReLU:
    case ProgramOp::Clone:
    case ProgramOp::MatMul:
    case ProgramOp::PReLU: break;
  }
}

// The one core call of each op: the call its Python Function makes (pycnn/autograd_ops.py).
std::vector<Tensor> execute(const Node& n, const std::vector<Tensor>& in) {
  switch (n.op) {
    case ProgramOp::Conv2d: return {conv2d_forward(in[0], in[1], in[2], n.conv)};
    case ProgramOp::Linear: return {linear_forward(in[0], in[1], in[2])};
    case ProgramOp::BatchNorm: {
      Tensor rm = in[3], rv = in[4];  // only read: training with running stats is refused at load
      return {std::get<0>(batch_norm_forward(in[0], in[1], in[2], rm, rv, n.training, n.momentum, n.eps))};
    }
    case ProgramOp::ReLU: return {relu_forward(in[0])};
    case ProgramOp::Unary: return {unary_forward(n.unary, in[0], n.alpha, n.beta)};
    case ProgramOp::Binary: return {binary(n.binary, in[0], in[1])};
    case ProgramOp::MaxPool2d: {
      auto [y, indices] = max_pool2d_forward(in[0], n.pool);
      return {y, indices};
    }
    case ProgramOp::AvgPool2d: return {avg_pool2d_forward(in[0], n.pool)};
    case ProgramOp::AdaptiveAvgPool2d: return {adaptive_avg_pool2d_forward(in[0], n.oh, n.ow)};
    case ProgramOp::LocalResponseNorm: return {local_response_norm_forward(in[0], n.size, n.alpha, n.beta, n.k)};
    case ProgramOp::Cat: return {cat_forward(in, n.dim)};
    case ProgramOp::Reshape: {
      Shape shape = n.shape;
      if (!shape.empty() && shape[0] == 0 && in[0].dim() > 0) shape[0] = in[0].size(0);  // the batch, kept
      return {n.view_only ? in[0].view(shape) : in[0].reshape(shape)};
    }
    case ProgramOp::Softmax: return {softmax_forward(in[0], n.dim)};
    case ProgramOp::LogSoftmax: return {log_softmax_forward(in[0], n.dim)};
    case ProgramOp::Cast: return {in[0].to(n.dtype)};
    case ProgramOp::Sum: return {sum(in[0], n.dims, n.keepdim)};
    case ProgramOp::Permute: return {in[0].permute(n.dims)};
    case ProgramOp::Clone: return {in[0].clone()};
    case ProgramOp::MatMul: return {matmul(in[0], in[1])};
    case ProgramOp::PReLU: return {prelu_forward(in[0], in[1])};
    case ProgramOp::ConvTranspose2d:
      return {conv_transpose2d_forward(in[0], in[1], in[2], n.conv, n.output_padding_h, n.output_padding_w)};
    case ProgramOp::AdaptiveMaxPool2d: {
      auto [y, indices] = adaptive_max_pool2d_forward(in[0], n.oh, n.ow);
      return {y, indices};
    }
    case ProgramOp::Interpolate: return {interpolate_forward(in[0], n.oh, n.ow, n.interp)};
    case ProgramOp::Pad: return {pad_forward(in[0], n.dims, n.pad_mode, n.value)};
    case ProgramOp::LayerNorm: return {std::get<0>(layer_norm_forward(in[0], n.count, in[1], in[2], n.eps))};
    case ProgramOp::GroupNorm: return {std::get<0>(group_norm_forward(in[0], n.count, in[1], in[2], n.eps))};
    case ProgramOp::PixelShuffle: return {pixel_shuffle(in[0], n.count)};
  }
  throw std::logic_error("[Program.run] unhandled op");  // unreachable: load() accepts only listed ops
}

// Rethrows the exception in flight with `prefix` before its message, keeping its type.
[[noreturn]] void rethrow_with(const std::string& prefix) {
  try {
    throw;
  } catch (const TypeError& e) {
    throw TypeError(prefix + e.what());
  } catch (const ValueError& e) {
    throw ValueError(prefix + e.what());
  } catch (const OutOfMemory& e) {
    throw OutOfMemory(prefix + e.what());
  } catch (const std::exception& e) {
    throw std::runtime_error(prefix + e.what());
  }
}

}  // namespace

struct Program::Impl {
  std::vector<ProgramInput> inputs;
  std::vector<int> input_slots;
  std::vector<std::string> output_names;
  std::vector<int> output_slots;
  std::vector<std::pair<int, Tensor>> constants;  // slot, value
  std::vector<Node> nodes;
  int num_slots = 0;
  Device device;
};

namespace {

// Value ids -> dense slots, each id defined once and before its use.
class Slots {
 public:
  int define(const json::Value& id, const std::string& where) {
    PYCNN_CHECK(id.kind == json::Kind::Int, "[", kLoad, "] ", where, ": id is ", json::a_kind(id.kind),
                ", expected an integer");
    const auto [it, fresh] = slots_.emplace(id.i, static_cast<int>(slots_.size()));
    PYCNN_CHECK(fresh, "[", kLoad, "] ", where, ": id ", id.i, " is defined a second time");
    return it->second;
  }
  int use(const json::Value& id, const std::string& where) const {
    PYCNN_CHECK(id.kind == json::Kind::Int, "[", kLoad, "] ", where, ": id is ", json::a_kind(id.kind),
                ", expected an integer");
    const auto it = slots_.find(id.i);
    PYCNN_CHECK(it != slots_.end(), "[", kLoad, "] ", where, ": id ", id.i, " is used before it is defined");
    return it->second;
  }
  int size() const { return static_cast<int>(slots_.size()); }

 private:
  std::unordered_map<int64_t, int> slots_;
};

void load_inputs(Program::Impl& p, const Fields& prog, Slots& slots) {
  const auto& items = prog.get("inputs", json::Kind::Array).items;
  for (size_t i = 0; i < items.size(); ++i) {
    const Fields f(items[i], str("input ", i), "field");
    ProgramInput in;
    in.name = f.string("name");
    in.dtype = parse_dtype_name(f.string("dtype"), f.where());
    in.shape = f.ints("shape");
    int64_t numel = 1;
    for (int64_t d : in.shape) {
      PYCNN_CHECK(d >= 0, "[", kLoad, "] input '", in.name, "' has a negative dim in its shape ", shape_str(in.shape));
      numel = checked_mul(numel, d, kLoad);
    }
    checked_mul(numel, static_cast<int64_t>(dtype_size(in.dtype)), kLoad);  // a shape no memory could hold
    in.dynamic_batch = f.has("dynamic_batch") && f.boolean("dynamic_batch");
    PYCNN_CHECK(!in.dynamic_batch || !in.shape.empty(), "[", kLoad, "] input '", in.name,
                "' has dynamic_batch but no dims");
    p.input_slots.push_back(slots.define(f.any("id"), f.where()));
    p.inputs.push_back(std::move(in));
  }
}

void load_constants(Program::Impl& p, const Fields& prog, Slots& slots, const SafetensorsFile& file) {
  std::unordered_map<std::string, const Tensor*> by_name;
  for (const auto& [name, t] : file.tensors) by_name[name] = &t;
  const auto& items = prog.get("constants", json::Kind::Array).items;
  for (size_t i = 0; i < items.size(); ++i) {
    const Fields f(items[i], str("constant ", i), "field");
    const std::string& name = f.string("tensor");
    const auto it = by_name.find(name);
    PYCNN_CHECK(it != by_name.end(), "[", kLoad, "] constant ", i, " names tensor '", name,
                "', which the file does not hold");
    p.constants.emplace_back(slots.define(f.any("id"), f.where()), *it->second);
  }
}

// Inputs are looked up before the outputs are defined: a node cannot read its own result.
Node load_node(const json::Value& v, size_t index, Slots& slots) {
  const Fields f(v, str("node ", index), "field");
  Node n;
  const std::string& op = f.string("op");
  try {
    n.op = parse_enum<ProgramOp>(op);
  } catch (const ValueError& e) {
    throw ValueError(str(e.what(), " (node ", index, ")"));
  }
  const std::string where = str("node ", index, " (", op, ")");
  const Arity arity = kArity[static_cast<int>(n.op)];
  const auto& ins = f.get("inputs", json::Kind::Array).items;
  const int count = static_cast<int>(ins.size());
  PYCNN_CHECK(count >= arity.min_inputs && (arity.max_inputs < 0 || count <= arity.max_inputs), "[", kLoad, "] ", where,
              " has ", count, " inputs, expected ",
              arity.max_inputs < 0                   ? str("at least ", arity.min_inputs)
              : arity.max_inputs == arity.min_inputs ? str(arity.min_inputs)
                                                     : str(arity.min_inputs, " to ", arity.max_inputs));
  for (int i = 0; i < count; ++i) {
    const bool optional = arity.required >= 0 && i >= arity.required;
    if (ins[i].kind == json::Kind::Null) {
      PYCNN_CHECK(optional, "[", kLoad, "] ", where, ": input ", i, " is null but is required");
      n.in.push_back(-1);
    } else {
      n.in.push_back(slots.use(ins[i], where));
    }
  }
  if (arity.max_inputs > 0) n.in.resize(arity.max_inputs, -1);  // absent trailing optionals
  const auto& outs = f.get("outputs", json::Kind::Array).items;
  PYCNN_CHECK(static_cast<int>(outs.size()) == arity.outputs, "[", kLoad, "] ", where, " has ", outs.size(),
              " outputs, expected ", arity.outputs);
  parse_attrs(n, Fields(f.get("attrs", json::Kind::Object), where, "attribute"));
  PYCNN_CHECK(!(n.op == ProgramOp::BatchNorm && n.training && (n.in[3] >= 0 || n.in[4] >= 0)), "[", kLoad, "] ", where,
              ": training=true with running stats would update the program's constants; trace the model in eval "
              "mode");
  for (const json::Value& id : outs) n.out.push_back(slots.define(id, where));
  return n;
}

// Each value is dropped after the last node that reads it (outputs are kept): the memory of one forward.
void plan_frees(Program::Impl& p) {
  std::vector<int> last(p.num_slots, -1);
  for (size_t i = 0; i < p.nodes.size(); ++i) {
    for (int s : p.nodes[i].in)
      if (s >= 0) last[s] = static_cast<int>(i);
    for (int s : p.nodes[i].out)
      if (last[s] < 0) last[s] = static_cast<int>(i);  // never read: dropped at once
  }
  for (int s : p.output_slots) last[s] = -1;
  for (int s = 0; s < p.num_slots; ++s)
    if (last[s] >= 0) p.nodes[last[s]].free_after.push_back(s);
}

}  // namespace

Program Program::load(const std::string& path) {
  SafetensorsFile file;
  try {
    file = load_safetensors(path);
  } catch (...) {
    rethrow_with(str("[", kLoad, "] '", path, "': "));
  }
  auto meta = [&](const char* key) {
    const auto it = file.metadata.find(key);
    PYCNN_CHECK(it != file.metadata.end(), "[", kLoad, "] '", path, "' has no '", key,
                "' in its metadata: not a pycnn program");
    return it->second;
  };
  PYCNN_CHECK(meta("format") == "pycnn.program", "[", kLoad, "] '", path, "' has format '", meta("format"),
              "', expected 'pycnn.program'");
  PYCNN_CHECK(meta("version") == "1", "[", kLoad, "] '", path, "' is program version '", meta("version"),
              "'; this pycnn reads version 1 only");
  const json::Value doc = json::parse(meta("program"), kLoad);
  const Fields prog(doc, "the program", "field");

  auto p = std::make_shared<Impl>();
  Slots slots;
  load_inputs(*p, prog, slots);
  load_constants(*p, prog, slots, file);
  const auto& nodes = prog.get("nodes", json::Kind::Array).items;
  for (size_t i = 0; i < nodes.size(); ++i) {
    p->nodes.push_back(load_node(nodes[i], i, slots));
  }
  const auto& outs = prog.get("outputs", json::Kind::Array).items;
  PYCNN_CHECK(!outs.empty(), "[", kLoad, "] '", path, "' declares no outputs");
  for (size_t i = 0; i < outs.size(); ++i) {
    const Fields f(outs[i], str("output ", i), "field");
    p->output_names.push_back(f.string("name"));
    p->output_slots.push_back(slots.use(f.any("id"), f.where()));
  }
  p->num_slots = slots.size();
  plan_frees(*p);
  return Program(std::move(p));
}

std::vector<Tensor> Program::run(const std::vector<Tensor>& inputs) const {
  const Impl& p = *impl_;
  PYCNN_CHECK(inputs.size() == p.inputs.size(), "[", kRun, "] got ", inputs.size(), " inputs, the program takes ",
              p.inputs.size());
  std::vector<Tensor> env(p.num_slots);
  for (const auto& [slot, t] : p.constants) env[slot] = t;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const ProgramInput& decl = p.inputs[i];
    const Tensor& x = inputs[i];
    PYCNN_CHECK(x.defined(), "[", kRun, "] input '", decl.name, "' is undefined");
    PYCNN_CHECK_TYPE(x.dtype() == decl.dtype, "[", kRun, "] input '", decl.name, "' is ", dtype_name(x.dtype()),
                     ", the program takes ", dtype_name(decl.dtype));
    bool fits = x.dim() == static_cast<int64_t>(decl.shape.size());
    for (int64_t d = decl.dynamic_batch ? 1 : 0; fits && d < x.dim(); ++d) fits = x.size(d) == decl.shape[d];
    PYCNN_CHECK(fits, "[", kRun, "] input '", decl.name, "' has shape ", shape_str(x.shape()), ", the program takes ",
                shape_str(decl.shape), decl.dynamic_batch ? " (any dim 0)" : "");
    PYCNN_CHECK(x.device() == p.device, "[", kRun, "] input '", decl.name, "' is on ", x.device().str(),
                ", the program on ", p.device.str(), " (Program::to moves it)");
    env[p.input_slots[i]] = x;
  }
  std::vector<Tensor> args;
  for (size_t i = 0; i < p.nodes.size(); ++i) {
    const Node& n = p.nodes[i];
    args.clear();
    for (int s : n.in) args.push_back(s >= 0 ? env[s] : Tensor());
    std::vector<Tensor> results;
    try {
      results = execute(n, args);
    } catch (...) {
      rethrow_with(str("[", kRun, "] node ", i, " (", enum_name(n.op), "): "));
    }
    args.clear();  // the inputs' last references go with their slots below
    for (size_t o = 0; o < n.out.size(); ++o) env[n.out[o]] = std::move(results[o]);
    for (int s : n.free_after) env[s] = Tensor();
  }
  std::vector<Tensor> out;
  for (int s : p.output_slots) out.push_back(env[s]);
  return out;
}

Program& Program::to(Device device) {
  auto next = std::make_shared<Impl>(*impl_);
  for (auto& c : next->constants) c.second = c.second.to(device);
  next->device = device;
  impl_ = std::move(next);
  return *this;
}

Device Program::device() const { return impl_->device; }
const std::vector<ProgramInput>& Program::inputs() const { return impl_->inputs; }
const std::vector<std::string>& Program::output_names() const { return impl_->output_names; }
int64_t Program::num_nodes() const { return static_cast<int64_t>(impl_->nodes.size()); }
int64_t Program::num_constants() const { return static_cast<int64_t>(impl_->constants.size()); }
std::vector<std::string> Program::ops() const {
  std::vector<std::string> out;
  for (const Node& n : impl_->nodes) out.push_back(enum_name(n.op));
  return out;
}

}  // namespace pycnn
