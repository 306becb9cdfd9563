// Byte-level BPE (GPT-2, Llama 3, Qwen, MiniMind, DeepSeek, ...): text is cut
// by the pre-tokenizer regexes, each piece's bytes are mapped to GPT-2's
// printable characters, then merged pairwise by merge rank.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "model/tokenizer/regex_split.h"
#include "model/tokenizer/tokenizer.h"

namespace vkmind::tok {

struct ByteLevelBpeConfig {
  RegexSplitter splitter;
  bool ignore_merges = false;     // emit a pre-token whole when it is in the vocab
  bool add_prefix_space = false;  // HF ByteLevel(add_prefix_space = true)
};

class ByteLevelBpe final : public Tokenizer {
 public:
  // merges in priority order (rank 0 first). Merges naming pieces that are not
  // in the vocabulary are skipped and counted in a warning.
  ByteLevelBpe(Vocab vocab, const std::vector<std::pair<std::string, std::string>>& merges,
               ByteLevelBpeConfig config, std::vector<std::string> warnings);

  std::string kind_name() const override { return "byte-level BPE"; }

 private:
  void encode_text(std::string_view text, bool after_special, std::vector<int32_t>& out) const override;
  std::string normal_token_bytes(int32_t id) const override;
  // Merges one pre-token (already byte-level mapped).
  void merge_word(const std::string& word, std::vector<int32_t>& out) const;

  struct Merge {
    int32_t rank;
    int32_t result;
  };
  static uint64_t pair_key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  std::unordered_map<uint64_t, Merge> merges_;  // (left id, right id) -> rank, merged id
  ByteLevelBpeConfig config_;
};

}  // namespace vkmind::tok
