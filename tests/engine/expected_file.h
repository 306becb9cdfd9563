// Reads tests/reference/golden/<case>/expected.txt (format: tests/reference/README.md).
#pragma once

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace vkmind::test {

struct ExpectedCase {
  std::map<std::string, std::string> fields;

  std::vector<double> numbers(const std::string& key) const {
    std::vector<double> out;
    auto it = fields.find(key);
    if (it == fields.end()) return out;
    std::istringstream in(it->second);
    double v;
    while (in >> v) out.push_back(v);
    return out;
  }
  std::vector<int32_t> ids(const std::string& key) const {
    std::vector<int32_t> out;
    for (double v : numbers(key)) out.push_back(int32_t(v));
    return out;
  }
  std::vector<std::string> words(const std::string& key) const {
    std::vector<std::string> out;
    std::istringstream in(fields.at(key));
    std::string w;
    while (in >> w) out.push_back(w);
    return out;
  }
};

inline ExpectedCase read_expected(const std::string& path) {
  ExpectedCase c;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto colon = line.find(": ");
    if (colon == std::string::npos) continue;
    c.fields[line.substr(0, colon)] = line.substr(colon + 2);
  }
  return c;
}

}  // namespace vkmind::test
