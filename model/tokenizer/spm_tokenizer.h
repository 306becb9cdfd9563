// SentencePiece BPE (Llama 1/2, Phi-3, stories260K): spaces become '▁', a
// dummy-prefix '▁' starts the text, characters merge pairwise by the score
// of the merged piece, and characters outside the vocabulary fall back to
// <0xNN> byte tokens.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "model/tokenizer/tokenizer.h"

namespace vkmind::tok {

class SentencePieceBpe final : public Tokenizer {
 public:
  // vocab.scores must have one score per piece.
  SentencePieceBpe(Vocab vocab, bool add_space_prefix, std::vector<std::string> warnings);

  std::string kind_name() const override { return "SentencePiece BPE"; }

 private:
  void encode_text(std::string_view text, bool after_special, std::vector<int32_t>& out) const override;
  std::string normal_token_bytes(int32_t id) const override;
  bool strips_leading_space() const override { return add_space_prefix_; }
  void emit_bytes(std::string_view text, std::vector<int32_t>& out) const;

  bool add_space_prefix_;
  std::array<int32_t, 256> byte_token_{};  // <0xNN> ids, -1 where absent
  std::vector<int16_t> token_byte_;        // inverse: byte value, or -1
};

}  // namespace vkmind::tok
