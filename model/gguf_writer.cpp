#include "model/gguf_writer.h"

#include <cstring>
#include <fstream>

namespace vkmind::gguf {

namespace {

class Out {
 public:
  explicit Out(const std::string& path) : path_(path), f_(path, std::ios::binary | std::ios::trunc) {
    if (!f_) throw FormatError(path, "cannot be written");
  }
  template <typename T>
  void pod(T v) {
    f_.write(reinterpret_cast<const char*>(&v), sizeof v);
    at_ += sizeof v;
  }
  void bytes(const void* p, size_t n) {
    f_.write(static_cast<const char*>(p), std::streamsize(n));
    at_ += n;
  }
  void string(const std::string& s) {
    pod<uint64_t>(s.size());
    bytes(s.data(), s.size());
  }
  void pad_to(uint64_t alignment) {
    static const char zeros[64] = {};
    while (at_ % alignment) bytes(zeros, std::min<uint64_t>(sizeof zeros, alignment - at_ % alignment));
  }
  uint64_t at() const { return at_; }
  void finish() {
    f_.flush();
    if (!f_) throw FormatError(path_, "could not be written completely (disk full?)");
  }

 private:
  std::string path_;
  std::ofstream f_;
  uint64_t at_ = 0;
};

void scalar(Out& out, ValueType type, const Value& v) {
  auto u = [&] { return std::holds_alternative<uint64_t>(v.data) ? std::get<uint64_t>(v.data) : uint64_t(std::get<int64_t>(v.data)); };
  auto i = [&] { return std::holds_alternative<int64_t>(v.data) ? std::get<int64_t>(v.data) : int64_t(std::get<uint64_t>(v.data)); };
  switch (type) {
    case ValueType::U8: out.pod<uint8_t>(uint8_t(u())); break;
    case ValueType::I8: out.pod<int8_t>(int8_t(i())); break;
    case ValueType::U16: out.pod<uint16_t>(uint16_t(u())); break;
    case ValueType::I16: out.pod<int16_t>(int16_t(i())); break;
    case ValueType::U32: out.pod<uint32_t>(uint32_t(u())); break;
    case ValueType::I32: out.pod<int32_t>(int32_t(i())); break;
    case ValueType::U64: out.pod<uint64_t>(u()); break;
    case ValueType::I64: out.pod<int64_t>(i()); break;
    case ValueType::F32: out.pod<float>(float(std::get<double>(v.data))); break;
    case ValueType::F64: out.pod<double>(std::get<double>(v.data)); break;
    case ValueType::BOOL: out.pod<uint8_t>(std::get<bool>(v.data) ? 1 : 0); break;
    case ValueType::STRING: out.string(std::get<std::string>(v.data)); break;
    case ValueType::ARRAY: {
      const Array& a = std::get<Array>(v.data);
      out.pod<uint32_t>(uint32_t(v.element_type));
      out.pod<uint64_t>(a.size());
      for (const Value& e : a) scalar(out, v.element_type, e);
      break;
    }
  }
}

}  // namespace

void write_file(const std::string& path, const std::map<std::string, Value>& metadata,
                const std::vector<TensorToWrite>& tensors) {
  uint64_t alignment = 32;
  if (auto it = metadata.find("general.alignment"); it != metadata.end()) alignment = uint64_t(it->second.as_int("general.alignment"));
  Out out(path);
  out.bytes("GGUF", 4);
  out.pod<uint32_t>(3);
  out.pod<uint64_t>(tensors.size());
  out.pod<uint64_t>(metadata.size());
  for (const auto& [key, value] : metadata) {
    out.string(key);
    out.pod<uint32_t>(uint32_t(value.type));
    scalar(out, value.type, value);
  }
  uint64_t offset = 0;
  for (const TensorToWrite& t : tensors) {
    out.string(t.name);
    out.pod<uint32_t>(uint32_t(t.dims.size()));
    for (uint64_t d : t.dims) out.pod<uint64_t>(d);
    out.pod<uint32_t>(t.type_code);
    out.pod<uint64_t>(offset);
    offset += (t.bytes.size() + alignment - 1) / alignment * alignment;
  }
  out.pad_to(alignment);
  for (const TensorToWrite& t : tensors) {
    out.bytes(t.bytes.data(), t.bytes.size());
    out.pad_to(alignment);
  }
  out.finish();
}

}  // namespace vkmind::gguf
