// GGUF parsing. Every read goes through Parser's bounds-checked cursor, and
// every count is compared with the bytes left in the file before anything is
// allocated for it, so hostile sizes fail with a message instead of a
// bad_alloc or an out-of-bounds read.
#include "model/gguf.h"

#include <bit>
#include <cstring>
#include <limits>

#include "model/utf8_check.h"

namespace vkmind::gguf {

namespace {

constexpr uint32_t kMaxDims = 4;
constexpr int kMaxArrayDepth = 8;  // nested arrays deeper than this are hostile, not useful

const char* value_type_name(ValueType t) {
  switch (t) {
    case ValueType::U8: return "u8";
    case ValueType::I8: return "i8";
    case ValueType::U16: return "u16";
    case ValueType::I16: return "i16";
    case ValueType::U32: return "u32";
    case ValueType::I32: return "i32";
    case ValueType::F32: return "f32";
    case ValueType::BOOL: return "bool";
    case ValueType::STRING: return "string";
    case ValueType::ARRAY: return "array";
    case ValueType::U64: return "u64";
    case ValueType::I64: return "i64";
    case ValueType::F64: return "f64";
  }
  return "unknown";
}

// Size on disk of one scalar of type t; 0 for STRING/ARRAY.
uint64_t scalar_size(ValueType t) {
  switch (t) {
    case ValueType::U8: case ValueType::I8: case ValueType::BOOL: return 1;
    case ValueType::U16: case ValueType::I16: return 2;
    case ValueType::U32: case ValueType::I32: case ValueType::F32: return 4;
    case ValueType::U64: case ValueType::I64: case ValueType::F64: return 8;
    default: return 0;
  }
}

bool valid_value_type(uint32_t t) { return t <= static_cast<uint32_t>(ValueType::F64); }

std::string type_error(const std::string& key, const char* expected, ValueType found) {
  return "key '" + printable_name(key) + "': expected " + expected + ", found " + value_type_name(found);
}

}  // namespace

// ---- Value accessors -------------------------------------------------------

bool Value::is_integer() const {
  switch (type) {
    case ValueType::U8: case ValueType::I8: case ValueType::U16: case ValueType::I16:
    case ValueType::U32: case ValueType::I32: case ValueType::U64: case ValueType::I64: return true;
    default: return false;
  }
}

int64_t Value::as_int(const std::string& key) const {
  if (!is_integer()) throw FormatError(key, std::string("expected an integer, found ") + value_type_name(type));
  if (const auto* u = std::get_if<uint64_t>(&data)) {
    if (*u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      throw FormatError(key, "integer " + std::to_string(*u) + " is out of range");
    }
    return static_cast<int64_t>(*u);
  }
  return std::get<int64_t>(data);
}

double Value::as_float(const std::string& key) const {
  if (const auto* d = std::get_if<double>(&data)) return *d;
  // Some converters store float hyper-parameters (rope.freq_base) as integers.
  if (const auto* u = std::get_if<uint64_t>(&data); u && is_integer()) return static_cast<double>(*u);
  if (const auto* i = std::get_if<int64_t>(&data); i && is_integer()) return static_cast<double>(*i);
  throw FormatError(key, std::string("expected a number, found ") + value_type_name(type));
}

bool Value::as_bool(const std::string& key) const {
  if (const auto* b = std::get_if<bool>(&data)) return *b;
  throw FormatError(key, std::string("expected a bool, found ") + value_type_name(type));
}

const std::string& Value::as_string(const std::string& key) const {
  if (const auto* s = std::get_if<std::string>(&data)) return *s;
  throw FormatError(key, std::string("expected a string, found ") + value_type_name(type));
}

const Array& Value::as_array(const std::string& key) const {
  if (const auto* a = std::get_if<Array>(&data)) return *a;
  throw FormatError(key, std::string("expected an array, found ") + value_type_name(type));
}

// ---- Parser ----------------------------------------------------------------

class Parser {
 public:
  Parser(File& file, std::span<const uint8_t> bytes) : f_(file), b_(bytes) {}

  void parse() {
    if (b_.size() < 4 || std::memcmp(b_.data(), "GGUF", 4) != 0) fail("not a GGUF file (bad magic)");
    pos_ = 4;
    f_.version_ = u32("the version");
    if (f_.version_ < 1 || f_.version_ > 3) fail("unsupported GGUF version " + std::to_string(f_.version_));
    v1_ = f_.version_ == 1;  // v1: 32-bit counts, array lengths and string lengths
    const uint64_t n_tensors = count("the tensor count");
    const uint64_t n_kv = count("the metadata count");

    for (uint64_t i = 0; i < n_kv; ++i) read_kv(i);
    read_alignment();

    // A tensor info is at least a name length, n_dims, one dim, type, offset.
    check_count(n_tensors, (v1_ ? 4 : 8) + 4 + 4 + 4 + 8, "tensor infos");
    f_.tensors_.reserve(n_tensors);
    for (uint64_t i = 0; i < n_tensors; ++i) read_tensor_info(i);

    // Files with no tensors may end right here, unpadded; data_offset_ may
    // then lie past the end, which is harmless since nothing is read there.
    f_.data_offset_ = align_up(pos_, f_.alignment_);
    for (const auto& t : f_.tensors_) check_tensor_bounds(t);
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw FormatError(f_.path_, what); }

  // `what` names the field, `subject` the key or tensor it belongs to; the
  // message is only built on failure (this runs once per vocabulary entry).
  void need(uint64_t n, const char* what, const std::string& subject) const {
    if (n > b_.size() - pos_) {
      const std::string of = subject.empty() ? "" : " of '" + printable_name(subject) + "'";
      fail("truncated: " + std::string(what) + of + " needs " + std::to_string(n) + " bytes at offset " + std::to_string(pos_) +
           ", but the file is " + std::to_string(b_.size()) + " bytes long");
    }
  }

  template <typename T>
  T scalar(const char* what, const std::string& subject = {}) {
    need(sizeof(T), what, subject);
    T v;
    std::memcpy(&v, b_.data() + pos_, sizeof(T));  // unaligned-safe; GGUF is little-endian like our hosts
    pos_ += sizeof(T);
    return v;
  }
  uint32_t u32(const char* what, const std::string& subject = {}) { return scalar<uint32_t>(what, subject); }
  uint64_t u64(const char* what, const std::string& subject = {}) { return scalar<uint64_t>(what, subject); }
  uint64_t count(const char* what, const std::string& subject = {}) {
    return v1_ ? u32(what, subject) : u64(what, subject);
  }

  // A count of items that each take at least min_bytes must fit in what is left.
  void check_count(uint64_t n, uint64_t min_bytes, const std::string& what) const {
    const uint64_t left = b_.size() - pos_;
    if (n > left / min_bytes) {
      fail(what + ": count " + std::to_string(n) + " cannot fit in the " + std::to_string(left) +
           " bytes left after offset " + std::to_string(pos_));
    }
  }

  std::string str(const char* what, const std::string& subject) {
    const uint64_t n = count(what, subject);
    need(n, what, subject);
    std::string s(reinterpret_cast<const char*>(b_.data() + pos_), static_cast<size_t>(n));
    pos_ += n;
    return s;
  }

  // Keys and tensor names must be valid UTF-8: they are matched and printed.
  std::string name(const char* what, const std::string& subject) {
    std::string s = str(what, subject);
    if (!is_valid_utf8(s)) fail(std::string(what) + " " + subject + " is not valid UTF-8: '" + printable_name(s) + "'");
    return s;
  }

  ValueType value_type(const std::string& key) {
    const uint32_t t = u32("the value type", key);
    if (!valid_value_type(t)) fail("key '" + key + "' has unknown value type " + std::to_string(t));
    return static_cast<ValueType>(t);
  }

  Value value(ValueType t, const std::string& key, int depth) {
    Value v;
    v.type = t;
    const char* what = "the value";
    switch (t) {
      case ValueType::U8: v.data = uint64_t{scalar<uint8_t>(what, key)}; break;
      case ValueType::U16: v.data = uint64_t{scalar<uint16_t>(what, key)}; break;
      case ValueType::U32: v.data = uint64_t{scalar<uint32_t>(what, key)}; break;
      case ValueType::U64: v.data = uint64_t{scalar<uint64_t>(what, key)}; break;
      case ValueType::I8: v.data = int64_t{scalar<int8_t>(what, key)}; break;
      case ValueType::I16: v.data = int64_t{scalar<int16_t>(what, key)}; break;
      case ValueType::I32: v.data = int64_t{scalar<int32_t>(what, key)}; break;
      case ValueType::I64: v.data = int64_t{scalar<int64_t>(what, key)}; break;
      case ValueType::F32: v.data = double{scalar<float>(what, key)}; break;
      case ValueType::F64: v.data = scalar<double>(what, key); break;
      case ValueType::BOOL: {
        const uint8_t b = scalar<uint8_t>(what, key);
        if (b > 1) fail("key '" + key + "': bool value " + std::to_string(b) + " is neither 0 nor 1");
        v.data = b != 0;
        break;
      }
      // String values are kept as bytes: vocabularies hold pieces that are
      // not always valid UTF-8 on their own, and the tokenizer judges them.
      case ValueType::STRING: v.data = str("a string value", key); break;
      case ValueType::ARRAY: {
        if (depth >= kMaxArrayDepth) fail("key '" + key + "': arrays nested too deeply");
        v.element_type = value_type(key);
        const uint64_t n = count("the array length", key);
        const uint64_t min_size = v.element_type == ValueType::STRING  ? (v1_ ? 4 : 8)
                                  : v.element_type == ValueType::ARRAY ? (v1_ ? 8 : 12)
                                                                       : scalar_size(v.element_type);
        check_count(n, min_size, "key '" + key + "'");
        Array a;
        a.reserve(n);
        for (uint64_t i = 0; i < n; ++i) a.push_back(value(v.element_type, key, depth + 1));
        v.data = std::move(a);
        break;
      }
    }
    return v;
  }

  void read_kv(uint64_t index) {
    const std::string key = name("metadata key", std::string("#").append(std::to_string(index)));
    const ValueType t = value_type(key);
    Value v = value(t, key, 0);
    if (!f_.metadata_.emplace(key, std::move(v)).second) fail("duplicate metadata key '" + key + "'");
  }

  void read_alignment() {
    const Value* v = f_.find("general.alignment");
    if (!v) return;
    if (!v->is_integer()) fail(type_error("general.alignment", "an integer", v->type));
    const int64_t a = v->as_int("general.alignment");
    if (a <= 0 || a > (1 << 30) || !std::has_single_bit(static_cast<uint64_t>(a))) {
      fail("general.alignment " + std::to_string(a) + " is not a power of two");
    }
    f_.alignment_ = static_cast<uint64_t>(a);
  }

  void read_tensor_info(uint64_t index) {
    TensorInfo t;
    t.name = name("the name of tensor", std::string("#").append(std::to_string(index)));
    const std::string what = "tensor " + t.name;
    const uint32_t n_dims = u32("the dimension count", what);
    if (n_dims == 0 || n_dims > kMaxDims) {
      fail(what + " has " + std::to_string(n_dims) + " dimensions (1 to 4 are allowed)");
    }
    t.dims.resize(n_dims);
    uint64_t n = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      t.dims[d] = v1_ ? u32("the dimensions", what) : u64("the dimensions", what);
      if (t.dims[d] != 0 && n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / t.dims[d]) {
        fail(what + ": the product of its dimensions overflows");
      }
      n *= t.dims[d];
    }
    t.n_elements = n;
    t.type_code = u32("the type", what);
    t.type = static_cast<TensorType>(t.type_code);
    t.offset = u64("the offset", what);

    const auto traits = ggml_type_traits(t.type_code);
    if (!traits) fail(what + " has unknown type code " + std::to_string(t.type_code));
    if (t.dims[0] % traits->block_elements != 0) {
      fail(what + ": its first dimension " + std::to_string(t.dims[0]) + " is not a multiple of the " +
           std::string(ggml_type_name(t.type_code)) + " block size " + std::to_string(traits->block_elements));
    }
    const uint64_t blocks = n / traits->block_elements;
    if (blocks > std::numeric_limits<uint64_t>::max() / traits->block_bytes) {
      fail(what + ": its byte size overflows");
    }
    t.n_bytes = blocks * traits->block_bytes;
    if (t.offset % f_.alignment_ != 0) {
      fail(what + ": offset " + std::to_string(t.offset) + " is not a multiple of the alignment " +
           std::to_string(f_.alignment_));
    }
    if (!f_.tensor_index_.emplace(t.name, f_.tensors_.size()).second) fail("duplicate tensor " + t.name);
    f_.tensors_.push_back(std::move(t));
  }

  void check_tensor_bounds(const TensorInfo& t) const {
    const uint64_t size = b_.size();
    const uint64_t start = f_.data_offset_;
    if (start > size || t.offset > size - start || t.n_bytes > size - start - t.offset) {
      fail("tensor " + t.name + ": data [" + std::to_string(t.offset) + ", +" + std::to_string(t.n_bytes) +
           ") after the data section at " + std::to_string(start) + " runs past the end of the file (" +
           std::to_string(size) + " bytes)");
    }
  }

  static uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

  File& f_;
  std::span<const uint8_t> b_;
  uint64_t pos_ = 0;
  bool v1_ = false;
};

// ---- File ------------------------------------------------------------------

std::unique_ptr<File> File::open(const std::string& path) {
  std::unique_ptr<File> f(new File());
  f->path_ = path;
  f->mapping_ = std::make_unique<MappedFile>(path);
  f->file_size_ = f->mapping_->bytes().size();
  Parser(*f, f->mapping_->bytes()).parse();
  return f;
}

const Value* File::find(const std::string& key) const {
  auto it = metadata_.find(key);
  return it == metadata_.end() ? nullptr : &it->second;
}

std::optional<int64_t> File::get_int(const std::string& key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_integer()) throw FormatError(path_, type_error(key, "an integer", v->type));
  try {
    return v->as_int(key);
  } catch (const FormatError& e) {
    throw FormatError(path_, "key '" + key + "': integer out of range");
  }
}

std::optional<double> File::get_float(const std::string& key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != ValueType::F32 && v->type != ValueType::F64 && !v->is_integer()) {
    throw FormatError(path_, type_error(key, "a number", v->type));
  }
  return v->as_float(key);
}

std::optional<bool> File::get_bool(const std::string& key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != ValueType::BOOL) throw FormatError(path_, type_error(key, "a bool", v->type));
  return v->as_bool(key);
}

std::optional<std::string> File::get_string(const std::string& key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_string()) throw FormatError(path_, type_error(key, "a string", v->type));
  return v->as_string(key);
}

std::vector<std::string> File::get_string_array(const std::string& key) const {
  const Value* v = find(key);
  if (!v) return {};
  if (!v->is_array() || v->element_type != ValueType::STRING) {
    throw FormatError(path_, type_error(key, "an array of strings", v->type));
  }
  std::vector<std::string> out;
  const Array& a = v->as_array(key);
  out.reserve(a.size());
  for (const Value& e : a) out.push_back(std::get<std::string>(e.data));
  return out;
}

std::vector<float> File::get_float_array(const std::string& key) const {
  const Value* v = find(key);
  if (!v) return {};
  const bool ok = v->is_array() && (v->element_type == ValueType::F32 || v->element_type == ValueType::F64);
  if (!ok) throw FormatError(path_, type_error(key, "an array of floats", v->type));
  std::vector<float> out;
  const Array& a = v->as_array(key);
  out.reserve(a.size());
  for (const Value& e : a) out.push_back(static_cast<float>(std::get<double>(e.data)));
  return out;
}

std::vector<int64_t> File::get_int_array(const std::string& key) const {
  const Value* v = find(key);
  if (!v) return {};
  if (!v->is_array()) throw FormatError(path_, type_error(key, "an array of integers", v->type));
  Value probe;
  probe.type = v->element_type;
  if (!probe.is_integer()) throw FormatError(path_, type_error(key, "an array of integers", v->type));
  std::vector<int64_t> out;
  const Array& a = v->as_array(key);
  out.reserve(a.size());
  for (const Value& e : a) {
    if (const auto* u = std::get_if<uint64_t>(&e.data)) {
      if (*u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        throw FormatError(path_, "key '" + key + "': integer out of range");
      }
      out.push_back(static_cast<int64_t>(*u));
    } else {
      out.push_back(std::get<int64_t>(e.data));
    }
  }
  return out;
}

const TensorInfo* File::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

std::span<const uint8_t> File::mapped_bytes() const { return mapping_->bytes(); }

std::span<const uint8_t> File::tensor_data(const TensorInfo& t) const {
  // Bounds were checked at open; see Parser::check_tensor_bounds.
  return mapping_->bytes().subspan(data_offset_ + t.offset, t.n_bytes);
}

void File::require_supported(const TensorInfo& t) const {
  if (!t.type_supported()) {
    throw FormatError(path_, "tensor " + t.name + " has type " + std::string(t.type_name()) +
                                 ", which vkmind does not support yet");
  }
}

}  // namespace vkmind::gguf
