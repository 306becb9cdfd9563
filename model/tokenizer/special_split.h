// Cuts text around special and added tokens before any pre-tokenization, so
// that "<|im_start|>" becomes one id instead of being spelled out.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "model/tokenizer/vocab.h"

namespace vkmind::tok {

struct Fragment {
  std::string_view text;  // raw text to tokenize, when token < 0
  int32_t token = -1;     // a matched special token
};

class SpecialSplitter {
 public:
  SpecialSplitter() = default;
  explicit SpecialSplitter(const Vocab& vocab);

  // With parse_special, Control and Unknown tokens are matched too; User-
  // defined tokens always are (as llama.cpp and HF added tokens do). Tokens
  // are tried longest first, each over all remaining raw text.
  std::vector<Fragment> split(std::string_view text, const Vocab& vocab, bool parse_special) const;

 private:
  std::vector<int32_t> always_;   // user-defined, longest first
  std::vector<int32_t> special_;  // control + unknown + user-defined, longest first
};

}  // namespace vkmind::tok
