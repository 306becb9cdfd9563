// The vocabulary every tokenizer kind shares: pieces, their kinds and scores,
// the special ids, and the chat template that came with it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace vkmind::tok {

// Values as in GGUF's tokenizer.ggml.token_type (llama.cpp's numbering).
enum class TokenType : uint8_t {
  Undefined = 0,
  Normal = 1,
  Unknown = 2,
  Control = 3,      // <s>, <|im_start|>: matched in text only with parse_special
  UserDefined = 4,  // added tokens matched in text always, before the split
  Unused = 5,
  Byte = 6,         // SentencePiece byte fallback <0xNN>
};

struct Vocab {
  std::string source;  // file the vocabulary came from, for messages
  std::vector<std::string> pieces;
  std::vector<TokenType> types;
  // SentencePiece merge priorities (higher merges first); -inf: a piece that
  // merging never forms. Empty for byte-level BPE.
  std::vector<float> scores;
  std::unordered_map<std::string, int32_t> piece_to_id;

  std::optional<int32_t> bos, eos, unk;
  bool add_bos = false;       // what "add BOS" means when the caller asks for the default
  bool add_eos = false;       // whether a prompt ends with EOS by default (rare: embedding models)
  std::string chat_template;  // raw Jinja text, "" when none shipped

  int32_t size() const { return static_cast<int32_t>(pieces.size()); }
  bool valid(int32_t id) const { return id >= 0 && id < size(); }
  std::optional<int32_t> find(const std::string& piece) const {
    auto it = piece_to_id.find(piece);
    if (it == piece_to_id.end()) return std::nullopt;
    return it->second;
  }
  // Fills piece_to_id from pieces; on duplicates the lowest id wins, as in
  // the reference loaders.
  void index();
};

}  // namespace vkmind::tok
