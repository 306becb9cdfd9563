// Reads llama.cpp's tokenizer test vectors: NAME.gguf.inp holds the inputs
// joined by "\n__ggml_vocab_test__\n" (the file also ends with it), and
// NAME.gguf.out one line of space-separated ids per input.
#pragma once

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace vkmind::test {

struct TokenizerVector {
  std::string input;
  std::vector<int32_t> ids;
};

inline std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::vector<TokenizerVector> read_tokenizer_vectors(const std::string& inp_path, const std::string& out_path) {
  const std::string sep = "\n__ggml_vocab_test__\n";
  const std::string inp = read_whole_file(inp_path);
  std::vector<TokenizerVector> vs;
  for (size_t pos = 0; pos < inp.size();) {
    size_t next = inp.find(sep, pos);
    if (next == std::string::npos) next = inp.size();
    vs.push_back({inp.substr(pos, next - pos), {}});
    pos = next + sep.size();
  }
  std::istringstream out(read_whole_file(out_path));
  std::string line;
  for (auto& v : vs) {
    if (!std::getline(out, line)) break;
    std::istringstream ls(line);
    for (int32_t id; ls >> id;) v.ids.push_back(id);
  }
  return vs;
}

}  // namespace vkmind::test
