#include "model/tokenizer/pre_tokenizers.h"

#include <array>
#include <utility>

namespace vkmind::tok {

namespace {

// Contractions, letters, numbers, other symbols, trailing-whitespace rule.
const char* const kGpt2 =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// Llama 3: case-insensitive contractions, numbers in groups of up to three,
// punctuation runs keep their trailing newlines.
const char* const kLlama3 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// Qwen2: as Llama 3 but every digit on its own.
const char* const kQwen2 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// GPT-2's regex without the final `\s+` alternative, as the falcon /
// starcoder families' HF pre-tokenizers spell it.
const char* const kGpt2NoTail =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";

PreTokenizerPreset deepseek_llm() {
  // Letters are an explicit list of cased-script ranges (no CJK): CJK runs
  // are split by the later rule, digits last. Code points that Unicode
  // normalization would rewrite (Kelvin sign, Ohm sign, Greek oxia forms) are
  // escaped so that an editor's NFC pass cannot silently change the ranges.
  return {{
      "[\r\n]",
      "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-\\x{1F7D}ᾀ-ᾴᾶ-ᾼ\\x{1FBE}ῂ-ῄῆ-ῌῐ-\\x{1FD3}ῖ-\\x{1FDB}ῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\\x{2126}ℨ\\x{212A}-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+",
      "\\s?[!-/:-~！-／：-～‘-‟　-。]+",
      "\\s+$",
      "[一-龥ࠀ-一가-퟿]+",
      "\\p{N}+",
  }};
}

PreTokenizerPreset deepseek_coder() {
  return {{
      "[\r\n]",
      "\\s?\\p{L}+",
      "\\s?\\p{P}+",
      "[一-龥ࠀ-一가-퟿]+",
      "\\p{N}",
  }};
}

}  // namespace

const std::string& gpt2_pattern() {
  static const std::string p = kGpt2;
  return p;
}

std::optional<PreTokenizerPreset> pre_tokenizer_preset(std::string_view name) {
  // Aliases as llama.cpp's converter writes them.
  static const std::array<std::string_view, 8> gpt2_names = {"", "default", "gpt-2", "gpt2", "mpt", "olmo", "jais", "gpt-neox"};
  static const std::array<std::string_view, 6> llama3_names = {"llama-bpe", "llama3", "llama-v3", "dbrx", "smaug-bpe", "falcon3"};
  static const std::array<std::string_view, 3> qwen2_names = {"qwen2", "deepseek-r1-qwen", "megrez"};
  static const std::array<std::string_view, 7> starcoder_names = {"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b"};
  auto in = [&](const auto& list) {
    for (auto n : list) if (n == name) return true;
    return false;
  };
  if (in(gpt2_names)) return PreTokenizerPreset{{kGpt2}};
  if (in(llama3_names)) return PreTokenizerPreset{{kLlama3}, true};
  if (in(qwen2_names)) return PreTokenizerPreset{{kQwen2}};
  if (in(starcoder_names)) return PreTokenizerPreset{{"\\p{N}", kGpt2NoTail}};
  if (name == "falcon") return PreTokenizerPreset{{"[\\p{P}\\$\\+<=>\\^~\\|`]+", kGpt2NoTail, "[0-9][0-9][0-9]"}};
  if (name == "deepseek-llm") return deepseek_llm();
  if (name == "deepseek-coder") return deepseek_coder();
  return std::nullopt;
}

std::string known_pre_tokenizers() {
  return "gpt-2, mpt, olmo, llama-bpe, qwen2, deepseek-r1-qwen, deepseek-llm, deepseek-coder, falcon, "
         "starcoder, refact, command-r, smollm";
}

}  // namespace vkmind::tok
