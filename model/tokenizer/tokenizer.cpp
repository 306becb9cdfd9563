#include "model/tokenizer/tokenizer.h"

#include "model/tokenizer/utf8.h"

namespace vkmind::tok {

Tokenizer::Tokenizer(Vocab vocab, std::vector<std::string> warnings)
    : vocab_(std::move(vocab)), specials_(vocab_), warnings_(std::move(warnings)) {}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_bos, bool parse_special) const {
  std::vector<int32_t> out;
  if (add_bos && vocab_.bos) out.push_back(*vocab_.bos);
  const std::string clean = utf8::sanitize(text);
  bool after_special = true;
  for (const Fragment& f : specials_.split(clean, vocab_, parse_special)) {
    if (f.token >= 0) {
      out.push_back(f.token);
      after_special = true;
    } else {
      encode_text(f.text, after_special, out);
      after_special = false;
    }
  }
  return out;
}

TokenType Tokenizer::token_type(int32_t id) const {
  return vocab_.valid(id) ? vocab_.types[id] : TokenType::Undefined;
}

const std::string& Tokenizer::piece(int32_t id) const {
  static const std::string empty;
  return vocab_.valid(id) ? vocab_.pieces[id] : empty;
}

std::string Tokenizer::token_bytes(int32_t id) const {
  if (!vocab_.valid(id)) return {};
  switch (vocab_.types[id]) {
    case TokenType::Control:
    case TokenType::UserDefined:
      // Added tokens are stored as the literal text they match.
      return vocab_.pieces[id];
    default:
      return normal_token_bytes(id);
  }
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
  std::string out;
  bool at_text_start = true;  // nothing but control tokens emitted so far
  for (int32_t id : ids) {
    if (!vocab_.valid(id)) continue;
    const bool control = vocab_.types[id] == TokenType::Control;
    if (control && skip_special) continue;
    std::string bytes = token_bytes(id);
    if (at_text_start && !control && strips_leading_space() && !bytes.empty() && bytes[0] == ' ') {
      bytes.erase(0, 1);
    }
    if (!control) at_text_start = false;
    out += bytes;
  }
  return out;
}

}  // namespace vkmind::tok
