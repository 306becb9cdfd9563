// The tokenizer interface the runtime and the CLI use, and the factories that
// build one from a GGUF file or a Hugging Face folder.
//
// Text handed to encode() that is not valid UTF-8 is not an error: each bad
// byte is replaced by U+FFFD first (what HF tokenizers see after Python's
// decode(errors="replace")), so hostile input can never crash or desync the
// pre-tokenizer.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/tokenizer/special_split.h"
#include "model/tokenizer/vocab.h"

namespace vkmind::gguf {
class File;
}

namespace vkmind::tok {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // add_bos: prepend the BOS id (if the vocabulary has one).
  // parse_special: match control tokens such as "<|im_start|>" in the text;
  // when false they are tokenized as plain text (user-defined added tokens
  // are always matched, as in the reference implementations).
  std::vector<int32_t> encode(std::string_view text, bool add_bos, bool parse_special) const;

  // Concatenates the tokens' bytes. skip_special drops control tokens (BOS,
  // <|im_end|>, ...). SentencePiece's dummy-prefix space is removed from the
  // start of the result, so decode(encode(x)) == x. Out-of-range ids decode
  // to nothing. Output may be invalid UTF-8 only if the ids cut a character.
  std::string decode(std::span<const int32_t> ids, bool skip_special = false) const;

  // The bytes one token stands for, with no prefix handling: what a stream of
  // generated tokens appends (see StreamDecoder). "" for bad ids.
  std::string token_bytes(int32_t id) const;

  // The vocabulary entry as stored ("Ġhello", "▁hello", "<0x0A>").
  const std::string& piece(int32_t id) const;
  std::optional<int32_t> find_piece(const std::string& piece) const { return vocab_.find(piece); }
  TokenType token_type(int32_t id) const;
  bool is_control(int32_t id) const { return token_type(id) == TokenType::Control; }

  int32_t vocab_size() const { return vocab_.size(); }
  std::optional<int32_t> bos_id() const { return vocab_.bos; }
  std::optional<int32_t> eos_id() const { return vocab_.eos; }
  bool add_bos_by_default() const { return vocab_.add_bos; }
  bool add_eos_by_default() const { return vocab_.add_eos; }
  const std::string& chat_template() const { return vocab_.chat_template; }
  const std::string& source() const { return vocab_.source; }

  // "byte-level BPE" or "SentencePiece BPE".
  virtual std::string kind_name() const = 0;

  // Things the loader had to guess (unknown pre-tokenizer name, ...), for the
  // CLI to print; empty when the files were fully understood.
  const std::vector<std::string>& warnings() const { return warnings_; }

 protected:
  Tokenizer(Vocab vocab, std::vector<std::string> warnings);

  // Tokenizes one stretch of text free of special tokens. `after_special` is
  // true for the first stretch and for one right after a special token
  // (SentencePiece adds its dummy-prefix space only there).
  virtual void encode_text(std::string_view text, bool after_special, std::vector<int32_t>& out) const = 0;
  // Bytes of a token that is not a control/user-defined token.
  virtual std::string normal_token_bytes(int32_t id) const = 0;
  // Whether decode() strips one leading space (SentencePiece dummy prefix).
  virtual bool strips_leading_space() const { return false; }

  void add_warning(std::string w) { warnings_.push_back(std::move(w)); }

  Vocab vocab_;

 private:
  SpecialSplitter specials_;
  std::vector<std::string> warnings_;
};

// Reads tokenizer.ggml.* from a GGUF file. Throws FormatError naming the file
// and key for a missing or malformed vocabulary, or an unsupported model kind
// ("unsupported tokenizer model 'bert'").
std::unique_ptr<Tokenizer> load_tokenizer_from_gguf(const gguf::File& file);

// Reads tokenizer.json (and tokenizer_config.json when present: BOS/EOS,
// add_bos_token, chat_template) from a Hugging Face model folder.
std::unique_ptr<Tokenizer> load_tokenizer_from_hf_folder(const std::string& folder);

// A .gguf file or a folder, chosen by what the path is.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path);

}  // namespace vkmind::tok
