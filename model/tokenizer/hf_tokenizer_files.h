// What a Hugging Face folder's tokenizer.json and tokenizer_config.json say,
// parsed once: the tokenizer loader builds a Tokenizer from it, and the
// HF -> GGUF converter writes it as tokenizer.ggml.* so that both read the
// very same vocabulary, merges and special ids.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/tokenizer/hf_pipeline.h"
#include "model/tokenizer/vocab.h"

namespace vkmind::tok {

struct HfTokenizerFiles {
  std::string tokenizer_json;  // path, for messages
  Vocab vocab;                 // with SentencePiece scores filled when `sentencepiece`
  std::vector<std::pair<std::string, std::string>> merges;  // rank order
  HfPipeline pipeline;
  bool sentencepiece = false;  // Metaspace/'▁' layout (Llama 2 style), else byte-level
  bool ignore_merges = false;  // model.ignore_merges (Llama 3 style)
  std::optional<int32_t> pad;  // tokenizer_config.json pad_token
  std::vector<std::string> warnings;
};

// Throws FormatError naming the file and key for anything missing or malformed.
HfTokenizerFiles read_hf_tokenizer_files(const std::string& folder);

}  // namespace vkmind::tok
