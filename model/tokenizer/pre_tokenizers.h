// The split regexes of the byte-level BPE pre-tokenizers, by the name that
// GGUF files carry in `tokenizer.ggml.pre` (llama.cpp's names). The patterns
// are those of the reference Hugging Face tokenizers of each model family.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vkmind::tok {

struct PreTokenizerPreset {
  std::vector<std::string> patterns;
  // Llama 3 style: a pre-token that is already a vocabulary entry is emitted
  // whole, without running the merges (HF's BPE `ignore_merges`).
  bool ignore_merges = false;
};

// GPT-2's ByteLevel split regex (also HF ByteLevel(use_regex = true)).
const std::string& gpt2_pattern();

// nullopt for an unknown name. "default" and "" give GPT-2's regex.
std::optional<PreTokenizerPreset> pre_tokenizer_preset(std::string_view name);

// The names pre_tokenizer_preset() knows, for error messages.
std::string known_pre_tokenizers();

}  // namespace vkmind::tok
