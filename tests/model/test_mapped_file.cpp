// MappedFile's page advice: populate_mapped_pages maps a range in ahead of use
// and release_mapped_pages drops it again, neither changing what is read.
#include <sys/mman.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdint>
#include <fstream>
#include <span>
#include <string>

#include "model/mapped_file.h"
#include "tests/scratch_dir.h"

namespace {

// The process's resident set in KiB (/proc/self/status VmRSS).
long resident_kib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

uint64_t checksum(std::span<const uint8_t> bytes) {
  uint64_t sum = 0;
  for (size_t i = 0; i < bytes.size(); i += 4093) sum = sum * 31 + bytes[i];
  return sum;
}

}  // namespace

TEST_CASE("populate_mapped_pages maps a file range in, release_mapped_pages drops it", "[model][mapped_file]") {
  vkmind::test::ScratchDir scratch;
  constexpr size_t kBytes = 16u << 20;
  std::string contents(kBytes, '\0');
  for (size_t i = 0; i < kBytes; ++i) contents[i] = char((i * 2654435761u) >> 13);
  vkmind::MappedFile file(scratch.write("weights.bin", contents));
  const auto bytes = file.bytes();
  REQUIRE(bytes.size() == kBytes);

  // Kernels before 5.14 lack the advice; populate is then a no-op by design.
  if (::madvise(const_cast<uint8_t*>(bytes.data()), 4096, MADV_POPULATE_READ) != 0 && errno == EINVAL) {
    WARN("SKIPPED: this kernel has no MADV_POPULATE_READ");
    return;
  }
  vkmind::release_mapped_pages(bytes);
  const long before = resident_kib();
  vkmind::populate_mapped_pages(bytes.subspan(1, bytes.size() - 1));  // unaligned start: its page too
  const long populated = resident_kib();
  // All 16 MiB become resident (other allocations of the test are far smaller
  // than the 2 MiB slack).
  CHECK(populated - before >= long(kBytes >> 10) - 2048);
  vkmind::release_mapped_pages(bytes);
  CHECK(resident_kib() - before < 2048);

  uint64_t expected = checksum({reinterpret_cast<const uint8_t*>(contents.data()), contents.size()});
  CHECK(checksum(bytes) == expected);
  vkmind::populate_mapped_pages({});  // an empty range is fine
}
