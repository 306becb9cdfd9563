// A scratch folder under the system temp directory, removed when the test ends.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace vkmind::test {

struct ScratchDir {
  std::filesystem::path dir;
  ScratchDir() {
    static int counter = 0;
    dir = std::filesystem::temp_directory_path() /
          ("vkmind-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(dir);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string path(const std::string& name) const { return (dir / name).string(); }
  // Writes `bytes` to dir/name and returns that path.
  std::string write(const std::string& name, const std::string& bytes) const {
    std::ofstream(dir / name, std::ios::binary) << bytes;
    return path(name);
  }
};

}  // namespace vkmind::test
