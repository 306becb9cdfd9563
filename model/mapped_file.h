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

// Drops the resident pages lying wholly inside `bytes`, a range of some
// MappedFile's mapping (read-only, so nothing is lost): the process's resident
// set shrinks, and a later read faults the pages back in from the page cache.
// Used once a tensor is on the device, so that the model is not resident twice.
void release_mapped_pages(std::span<const uint8_t> bytes);

// Maps in, ahead of use, the pages of `bytes` (a range of some MappedFile's
// mapping) that are in the page cache, reading the rest from the file: one
// system call instead of a page fault per 4 KiB on first touch. CPU devices
// read weights in place, and their first forward pass otherwise takes those
// faults (minimind-3 size F16, 122 MiB: 6.5 ms here against 28 ms of faults
// from one thread; its first token 84-138 -> 38-46 ms).
// Advice only: older kernels without MADV_POPULATE_READ fault as before.
void populate_mapped_pages(std::span<const uint8_t> bytes);

}  // namespace vkmind
