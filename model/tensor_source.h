// The input of `vkmind quantize`: GGUF metadata plus tensors under their GGUF
// names (dims ne[0] first, ggml type code, bytes), whether it was read from a
// GGUF file or converted from a Hugging Face folder (model/hf_to_gguf.h). The
// writer loop is one loop over this, whatever the input format.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "model/gguf.h"

namespace vkmind {

struct SourceTensor {
  std::string name;
  std::vector<uint64_t> dims;  // ne[0] first
  uint32_t type_code = 0;      // ggml type as stored
  uint64_t n_elements = 0;
  std::span<const uint8_t> data;  // valid while the source lives
};

class TensorSource {
 public:
  virtual ~TensorSource() = default;
  virtual const std::string& path() const = 0;
  virtual const std::map<std::string, gguf::Value>& metadata() const = 0;
  virtual const std::vector<SourceTensor>& tensors() const = 0;
};

// A folder is converted (hf_to_gguf), anything else is opened as GGUF.
// Throws FormatError naming the file at fault.
std::unique_ptr<TensorSource> open_tensor_source(const std::string& path);

}  // namespace vkmind
