// GGUF v3 writer: metadata values as gguf::File reads them, then tensor
// infos and the aligned data section, in the layout llama.cpp reads.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "model/gguf.h"

namespace vkmind::gguf {

struct TensorToWrite {
  std::string name;
  std::vector<uint64_t> dims;  // ne[0] first
  uint32_t type_code;
  std::vector<uint8_t> bytes;
};

// Metadata values in the types llama.cpp's converters write them.
inline Value u32_value(uint64_t v) { return Value{ValueType::U32, ValueType::U8, v}; }
inline Value f32_value(double v) { return Value{ValueType::F32, ValueType::U8, v}; }
inline Value bool_value(bool v) { return Value{ValueType::BOOL, ValueType::U8, v}; }
inline Value string_value(std::string v) { return Value{ValueType::STRING, ValueType::U8, std::move(v)}; }
inline Value array_value(ValueType element, Array items) { return Value{ValueType::ARRAY, element, std::move(items)}; }

// Writes everything to `path` (general.alignment from the metadata, else 32).
// Throws FormatError naming the path when it cannot be written.
void write_file(const std::string& path, const std::map<std::string, Value>& metadata,
                const std::vector<TensorToWrite>& tensors);

}  // namespace vkmind::gguf
