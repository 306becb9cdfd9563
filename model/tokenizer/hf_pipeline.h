// Reads the text pipeline of a tokenizer.json (normalizer + pre_tokenizer)
// and decides which tokenizer kind it describes: byte-level BPE (a ByteLevel
// pre-tokenizer, with optional Split/Digits regexes before it) or
// SentencePiece-style BPE (spaces replaced by '▁' through a Replace
// normalizer or a Metaspace pre-tokenizer, as in Llama 2 HF folders).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vkmind::tok {

struct HfPipeline {
  // byte-level
  bool byte_level = false;
  bool add_prefix_space = false;
  std::vector<std::string> patterns;  // applied in order, Isolated
  // SentencePiece-style
  bool metaspace = false;     // ' ' -> '▁'
  bool prepend_space = false; // a '▁' before each stretch of text
  std::vector<std::string> warnings;
};

// Throws FormatError naming `file` and the key path for malformed or
// unsupported parts.
HfPipeline read_hf_pipeline(const nlohmann::json& root, const std::string& file);

}  // namespace vkmind::tok
