// Builds a tokenizer from GGUF metadata (tokenizer.ggml.*), as written by
// llama.cpp's converters.
#include <cmath>

#include "model/errors.h"
#include "model/gguf.h"
#include "model/tokenizer/bpe_tokenizer.h"
#include "model/tokenizer/pre_tokenizers.h"
#include "model/tokenizer/spm_tokenizer.h"
#include "model/tokenizer/tokenizer.h"

namespace vkmind::tok {

namespace {

// Reads an optional token id; an id outside the vocabulary is dropped with a
// warning (some converters write -1 or stale ids), not fatal.
std::optional<int32_t> read_id(const gguf::File& f, const std::string& key, int32_t n_vocab,
                               std::vector<std::string>& warnings) {
  auto v = f.get_int(key);
  if (!v) return std::nullopt;
  if (*v < 0 || *v >= n_vocab) {
    warnings.push_back(key + " = " + std::to_string(*v) + " is outside the vocabulary; ignored");
    return std::nullopt;
  }
  return static_cast<int32_t>(*v);
}

Vocab read_vocab(const gguf::File& f, std::vector<std::string>& warnings) {
  Vocab v;
  v.source = f.path();
  v.pieces = f.get_string_array("tokenizer.ggml.tokens");
  if (v.pieces.empty()) throw FormatError(f.path(), "missing or empty key tokenizer.ggml.tokens");
  if (v.pieces.size() > (1u << 24)) throw FormatError(f.path(), "tokenizer.ggml.tokens: absurd vocabulary size");
  const auto n = static_cast<int32_t>(v.pieces.size());

  const auto types = f.get_int_array("tokenizer.ggml.token_type");
  if (!types.empty() && types.size() != v.pieces.size()) {
    throw FormatError(f.path(), "tokenizer.ggml.token_type has " + std::to_string(types.size()) +
                                    " entries for " + std::to_string(n) + " tokens");
  }
  v.types.assign(v.pieces.size(), TokenType::Normal);
  for (size_t i = 0; i < types.size(); ++i) {
    v.types[i] = (types[i] >= 1 && types[i] <= 6) ? static_cast<TokenType>(types[i]) : TokenType::Normal;
  }

  v.scores = f.get_float_array("tokenizer.ggml.scores");
  if (!v.scores.empty() && v.scores.size() != v.pieces.size()) {
    throw FormatError(f.path(), "tokenizer.ggml.scores has " + std::to_string(v.scores.size()) +
                                    " entries for " + std::to_string(n) + " tokens");
  }
  for (float& s : v.scores) {
    if (!std::isfinite(s)) s = -1e30f;  // keeps the merge queue's ordering total
  }

  v.bos = read_id(f, "tokenizer.ggml.bos_token_id", n, warnings);
  v.eos = read_id(f, "tokenizer.ggml.eos_token_id", n, warnings);
  v.unk = read_id(f, "tokenizer.ggml.unknown_token_id", n, warnings);
  v.chat_template = f.get_string("tokenizer.chat_template").value_or("");
  v.index();
  return v;
}

std::vector<std::pair<std::string, std::string>> read_merges(const gguf::File& f) {
  const auto lines = f.get_string_array("tokenizer.ggml.merges");
  if (lines.empty()) throw FormatError(f.path(), "missing or empty key tokenizer.ggml.merges");
  std::vector<std::pair<std::string, std::string>> merges;
  merges.reserve(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    // "left right"; the search starts at 1 so that a piece may itself be " ".
    const size_t sp = lines[i].find(' ', 1);
    if (sp == std::string::npos) {
      throw FormatError(f.path(), "tokenizer.ggml.merges[" + std::to_string(i) + "] is not 'left right'");
    }
    merges.emplace_back(lines[i].substr(0, sp), lines[i].substr(sp + 1));
  }
  return merges;
}

}  // namespace

std::unique_ptr<Tokenizer> load_tokenizer_from_gguf(const gguf::File& f) {
  const auto model = f.get_string("tokenizer.ggml.model");
  if (!model) throw FormatError(f.path(), "missing key tokenizer.ggml.model");
  std::vector<std::string> warnings;

  if (*model == "llama") {
    Vocab v = read_vocab(f, warnings);
    if (v.scores.empty()) throw FormatError(f.path(), "missing key tokenizer.ggml.scores (needed by a SentencePiece vocabulary)");
    // llama.cpp's defaults for SentencePiece vocabularies.
    v.add_bos = f.get_bool("tokenizer.ggml.add_bos_token").value_or(true);
    v.add_eos = f.get_bool("tokenizer.ggml.add_eos_token").value_or(false);
    const bool prefix = f.get_bool("tokenizer.ggml.add_space_prefix").value_or(true);
    return std::make_unique<SentencePieceBpe>(std::move(v), prefix, std::move(warnings));
  }

  if (*model == "gpt2") {
    Vocab v = read_vocab(f, warnings);
    v.add_bos = f.get_bool("tokenizer.ggml.add_bos_token").value_or(false);
    v.add_eos = f.get_bool("tokenizer.ggml.add_eos_token").value_or(false);
    const std::string pre = f.get_string("tokenizer.ggml.pre").value_or("default");
    auto preset = pre_tokenizer_preset(pre);
    if (!preset) {
      warnings.push_back("unknown pre-tokenizer '" + pre + "' (tokenizer.ggml.pre); using GPT-2's split regex. Known: " +
                         known_pre_tokenizers());
      preset = pre_tokenizer_preset("gpt-2");
    }
    ByteLevelBpeConfig cfg;
    try {
      cfg.splitter = RegexSplitter(preset->patterns);
    } catch (const std::invalid_argument& e) {
      throw FormatError(f.path(), std::string("tokenizer.ggml.pre: ") + e.what());
    }
    cfg.ignore_merges = preset->ignore_merges;
    auto merges = read_merges(f);
    return std::make_unique<ByteLevelBpe>(std::move(v), merges, std::move(cfg), std::move(warnings));
  }

  throw FormatError(f.path(), "unsupported tokenizer model '" + *model +
                                  "' (tokenizer.ggml.model); vkmind reads 'gpt2' (byte-level BPE) and "
                                  "'llama' (SentencePiece BPE)");
}

}  // namespace vkmind::tok
