// SHA-256 (FIPS 180-4): the Hub names LFS blobs by the sha256 of their
// content, so a download is checked against it. Written here because the
// only other Debian implementations would add a dependency (libssl) for
// one function.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace vkmind::hub {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  // The digest as 64 lowercase hex digits; the object is spent afterwards.
  std::string hex_digest();

 private:
  void compress(const uint8_t* block);
  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

// The sha256 of a whole file, naming the file when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace vkmind::hub
