// GGUF (llama.cpp's file format) reader: metadata and tensor infos, with the
// tensor data memory-mapped. Every bound is checked against the file size, so a
// truncated or hostile file yields vkmind::FormatError naming the file and the
// key or tensor, never an out-of-bounds read or an absurd allocation.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "model/errors.h"
#include "model/mapped_file.h"
#include "model/tensor_types.h"

namespace vkmind::gguf {

enum class ValueType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12,
};

struct Value;
using Array = std::vector<Value>;

// A metadata value. Integers of every width are widened to int64/uint64, floats
// to double; arrays keep the element type they were declared with.
struct Value {
  ValueType type = ValueType::U8;
  ValueType element_type = ValueType::U8;  // meaningful when type == ARRAY
  std::variant<uint64_t, int64_t, double, bool, std::string, Array> data;

  bool is_integer() const;
  bool is_string() const { return type == ValueType::STRING; }
  bool is_array() const { return type == ValueType::ARRAY; }
  // Each throws FormatError(key, "expected ...") when the type does not fit.
  int64_t as_int(const std::string& key) const;
  double as_float(const std::string& key) const;
  bool as_bool(const std::string& key) const;
  const std::string& as_string(const std::string& key) const;
  const Array& as_array(const std::string& key) const;
};

// Tensors of a type vkmind cannot compute with (IQ2_XXS, ...) are still listed,
// with `type` holding the raw code cast to TensorType (not a named
// enumerator): the file opens so that `vkmind info` can describe it, and the
// error comes when the tensor is used (require_supported, Model::tensor).
struct TensorInfo {
  std::string name;
  std::vector<uint64_t> dims;  // dims[0] is the fastest-varying (ggml ne[0])
  TensorType type;
  uint64_t offset = 0;      // from the start of the data section
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
  uint32_t type_code = 0;   // the ggml type code as stored
  bool type_supported() const { return supported_tensor_type(type_code).has_value(); }
  std::string_view type_name() const { return ggml_type_name(type_code); }
};

class File {
 public:
  // Throws FormatError (file name in the message) on any malformed input.
  static std::unique_ptr<File> open(const std::string& path);

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }

  const std::map<std::string, Value>& metadata() const { return metadata_; }
  const Value* find(const std::string& key) const;
  // Convenience lookups: nullopt when the key is absent, FormatError when it
  // is present with the wrong type.
  std::optional<int64_t> get_int(const std::string& key) const;
  std::optional<double> get_float(const std::string& key) const;
  std::optional<bool> get_bool(const std::string& key) const;
  std::optional<std::string> get_string(const std::string& key) const;
  // String arrays / number arrays (tokenizer vocabularies, scores, token types).
  std::vector<std::string> get_string_array(const std::string& key) const;  // empty if absent
  std::vector<float> get_float_array(const std::string& key) const;
  std::vector<int64_t> get_int_array(const std::string& key) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(const std::string& name) const;
  // The tensor's bytes inside the mapping (n_bytes long), whatever the type.
  std::span<const uint8_t> tensor_data(const TensorInfo& t) const;
  // Throws FormatError "tensor X has type IQ2_XXS, which vkmind does not support
  // yet" unless t's type is one vkmind computes with.
  void require_supported(const TensorInfo& t) const;

  uint64_t file_size() const { return file_size_; }
  uint64_t data_offset() const { return data_offset_; }  // start of the aligned data section
  std::span<const uint8_t> mapped_bytes() const;  // the whole file, as mapped

 private:
  File() = default;
  std::string path_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  std::map<std::string, Value> metadata_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t> tensor_index_;
  std::unique_ptr<MappedFile> mapping_;
  uint64_t data_offset_ = 0;
  uint64_t file_size_ = 0;
  friend class Parser;
};

}  // namespace vkmind::gguf
