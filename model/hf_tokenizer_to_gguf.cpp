// tokenizer.json -> tokenizer.ggml.*, as llama.cpp's converter writes them:
// "gpt2" (byte-level BPE: pieces in GPT-2's byte-to-unicode form, merges as
// "left right", a pre-tokenizer name llama.cpp knows) or "llama"
// (SentencePiece-style BPE: pieces with scores). The data comes from the same
// parser the HF tokenizer loader uses, so both read one vocabulary.
#include <filesystem>
#include <string_view>

#include "model/gguf_writer.h"
#include "model/hf_to_gguf.h"
#include "model/tokenizer/hf_tokenizer_files.h"
#include "model/tokenizer/pre_tokenizers.h"

namespace vkmind {

namespace {

using gguf::Value;
using gguf::ValueType;

// HF files spell case-insensitive contractions with (?i:...); the presets,
// as llama.cpp does, spell them out.
std::string spelled_out(std::string pattern) {
  static const std::string hf = "(?i:'s|'t|'re|'ve|'m|'ll|'d)";
  static const std::string preset = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
  for (size_t at = pattern.find(hf); at != std::string::npos; at = pattern.find(hf, at + preset.size())) {
    pattern.replace(at, hf.size(), preset);
  }
  return pattern;
}

// The tokenizer.ggml.pre name whose split rules are exactly the file's.
std::optional<std::string> pre_tokenizer_name(const tok::HfTokenizerFiles& f) {
  std::vector<std::string> patterns;
  for (const auto& p : f.pipeline.patterns) patterns.push_back(spelled_out(p));
  for (const char* name : {"gpt-2", "llama-bpe", "qwen2", "deepseek-llm", "deepseek-coder", "starcoder", "falcon"}) {
    const auto preset = tok::pre_tokenizer_preset(name);
    if (preset && preset->patterns == patterns && preset->ignore_merges == f.ignore_merges) return std::string(name);
  }
  return std::nullopt;
}

Value i32(int64_t v) {
  Value out;
  out.type = ValueType::I32;
  out.data = v;
  return out;
}

Value strings(std::vector<std::string> items) {
  gguf::Array a;
  a.reserve(items.size());
  for (auto& s : items) a.push_back(gguf::string_value(std::move(s)));
  return gguf::array_value(ValueType::STRING, std::move(a));
}

}  // namespace

void add_hf_tokenizer_metadata(const std::string& folder, const ModelDesc& d, uint32_t n_vocab,
                               std::map<std::string, Value>& m) {
  tok::HfTokenizerFiles f = tok::read_hf_tokenizer_files(folder);
  const tok::Vocab& v = f.vocab;
  if (static_cast<uint64_t>(v.size()) > n_vocab) {
    throw FormatError(f.tokenizer_json, "has " + std::to_string(v.size()) + " tokens, more than the " +
                                            std::to_string(n_vocab) + " rows of the token embedding");
  }

  // Ids the file leaves out (and embedding rows past the vocabulary) become
  // unused [PADn] tokens, as llama.cpp's converter names them.
  std::vector<std::string> pieces(n_vocab);
  gguf::Array types;
  types.reserve(n_vocab);
  for (uint32_t id = 0; id < n_vocab; ++id) {
    const bool known = id < static_cast<uint32_t>(v.size()) && !(v.pieces[id].empty() && v.types[id] == tok::TokenType::Unused);
    pieces[id] = known ? v.pieces[id] : "[PAD" + std::to_string(id) + "]";
    const auto type = known ? v.types[id] : tok::TokenType::Unused;
    types.push_back(i32(static_cast<int64_t>(type)));
  }
  m["tokenizer.ggml.tokens"] = strings(std::move(pieces));
  m["tokenizer.ggml.token_type"] = gguf::array_value(ValueType::I32, std::move(types));

  if (f.sentencepiece) {
    m["tokenizer.ggml.model"] = gguf::string_value("llama");
    gguf::Array scores;
    scores.reserve(n_vocab);
    for (uint32_t id = 0; id < n_vocab; ++id) {
      scores.push_back(gguf::f32_value(id < v.scores.size() ? v.scores[id] : -1e30));
    }
    m["tokenizer.ggml.scores"] = gguf::array_value(ValueType::F32, std::move(scores));
    m["tokenizer.ggml.add_space_prefix"] = gguf::bool_value(f.pipeline.prepend_space);
  } else {
    if (f.pipeline.add_prefix_space) {
      throw FormatError(f.tokenizer_json, "pre_tokenizer: ByteLevel add_prefix_space = true has no GGUF equivalent");
    }
    const auto pre = pre_tokenizer_name(f);
    if (!pre) {
      throw FormatError(f.tokenizer_json, "pre_tokenizer: its split rules match none that llama.cpp names in "
                                          "tokenizer.ggml.pre (" + tok::known_pre_tokenizers() + ")");
    }
    m["tokenizer.ggml.model"] = gguf::string_value("gpt2");
    m["tokenizer.ggml.pre"] = gguf::string_value(*pre);
    std::vector<std::string> merges;
    merges.reserve(f.merges.size());
    for (const auto& [left, right] : f.merges) merges.push_back(left + " " + right);
    m["tokenizer.ggml.merges"] = strings(std::move(merges));
  }

  // The tokenizer files name the special tokens; config.json's ids are the
  // fallback, the order llama.cpp's converter reads them in.
  auto id = [&](const char* k, std::optional<int32_t> from_tokenizer, std::optional<int32_t> from_config) {
    if (auto x = from_tokenizer ? from_tokenizer : from_config; x && *x >= 0 && static_cast<uint32_t>(*x) < n_vocab) {
      m[std::string("tokenizer.ggml.") + k] = gguf::u32_value(static_cast<uint64_t>(*x));
    }
  };
  id("bos_token_id", v.bos, d.bos_id);
  id("eos_token_id", v.eos, d.eos_id);
  id("padding_token_id", f.pad, d.pad_id);
  id("unknown_token_id", v.unk, std::nullopt);
  m["tokenizer.ggml.add_bos_token"] = gguf::bool_value(v.add_bos);
  m["tokenizer.ggml.add_eos_token"] = gguf::bool_value(v.add_eos);
  if (!v.chat_template.empty()) m["tokenizer.chat_template"] = gguf::string_value(v.chat_template);
}

}  // namespace vkmind
