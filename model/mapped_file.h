// A read-only memory mapping of a whole file (RAII). Model weights are read
// through it so that opening a model costs no copy until upload.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace vkmind {

class MappedFile {
 public:
  explicit MappedFile(const std::string& path);  // throws FormatError
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace vkmind
