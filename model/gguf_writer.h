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

// Writes everything to `path` (general.alignment from the metadata, else 32).
// Throws FormatError naming the path when it cannot be written.
void write_file(const std::string& path, const std::map<std::string, Value>& metadata,
                const std::vector<TensorToWrite>& tensors);

}  // namespace vkmind::gguf
