// The oracle's golden checkpoints (tests/reference/golden/MANIFEST.txt): one
// entry per checkpoint file or folder.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace vkmind::test {

inline const std::filesystem::path kGolden = std::filesystem::path(VKMIND_SOURCE_DIR) / "tests/reference/golden";

struct Checkpoint {
  std::string name;  // case/checkpoint
  std::filesystem::path dir;
  std::string path;
  bool f16;
};

inline std::vector<Checkpoint> golden_checkpoints() {
  std::vector<Checkpoint> out;
  std::ifstream in(kGolden / "MANIFEST.txt");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string dir, dtype, cp;
    words >> dir >> dtype;
    while (words >> cp) out.push_back({dir + "/" + cp, kGolden / dir, (kGolden / dir / cp).string(), dtype == "f16"});
  }
  return out;
}

}  // namespace vkmind::test
