// safetensors reader (Hugging Face's weight format): an 8-byte little-endian
// header length, a JSON header {name: {dtype, shape, data_offsets}}, then the
// raw data. The file is memory-mapped; every offset and size in the header is
// checked against the file before any tensor is exposed.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "model/errors.h"
#include "model/mapped_file.h"
#include "model/tensor_types.h"

namespace vkmind::safetensors {

struct TensorInfo {
  std::string name;
  std::string dtype;            // as written: "F32", "F16", "BF16"
  TensorType type;
  std::vector<uint64_t> shape;  // as stored: PyTorch order, slowest first ([out, in] for Linear)
  uint64_t begin = 0;           // byte range inside the data section
  uint64_t end = 0;
  uint64_t n_elements = 0;
};

class File {
 public:
  // Throws FormatError naming the file (and tensor) on malformed input or a
  // dtype other than F32, F16, BF16.
  static std::unique_ptr<File> open(const std::string& path);

  const std::string& path() const { return path_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find(const std::string& name) const;
  std::span<const uint8_t> data(const TensorInfo& t) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }  // "__metadata__"
  std::span<const uint8_t> mapped_bytes() const;  // the whole file, as mapped

 private:
  File() = default;
  std::string path_;
  std::unique_ptr<MappedFile> mapping_;
  uint64_t data_offset_ = 0;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

// The weights of a Hugging Face folder: model.safetensors, or the shards
// listed by model.safetensors.index.json (every listed tensor must be in the
// shard the index names; a name in two shards is an error).
class Collection {
 public:
  static std::unique_ptr<Collection> open_folder(const std::string& folder);

  struct Entry {
    const File* file;
    const TensorInfo* info;
  };
  const std::map<std::string, Entry>& tensors() const { return tensors_; }
  const Entry* find(const std::string& name) const;
  const std::vector<std::unique_ptr<File>>& files() const { return files_; }

 private:
  std::vector<std::unique_ptr<File>> files_;
  std::map<std::string, Entry> tensors_;
};

}  // namespace vkmind::safetensors
