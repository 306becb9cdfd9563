#include "model/tokenizer/hf_pipeline.h"

#include "model/errors.h"
#include "model/tokenizer/pre_tokenizers.h"

namespace vkmind::tok {

namespace {

using json = nlohmann::json;

const std::string kSpaceMark = "\xE2\x96\x81";  // '▁'

std::string type_of(const json& j, const std::string& file, const std::string& where) {
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) {
    throw FormatError(file, "missing key " + where + ".type");
  }
  return j["type"].get<std::string>();
}

// Escapes a literal so PCRE2 matches it verbatim (Split with a String pattern).
std::string regex_quote(const std::string& s) { return "\\Q" + s + "\\E"; }

void read_pre(const json& p, const std::string& file, const std::string& where, HfPipeline& out) {
  if (p.is_null()) return;
  const std::string type = type_of(p, file, where);
  if (type == "Sequence") {
    if (!p.contains("pretokenizers") || !p["pretokenizers"].is_array()) {
      throw FormatError(file, "missing key " + where + ".pretokenizers");
    }
    const json& list = p["pretokenizers"];
    for (size_t i = 0; i < list.size(); ++i) read_pre(list[i], file, where + ".pretokenizers[" + std::to_string(i) + "]", out);
  } else if (type == "ByteLevel") {
    out.byte_level = true;
    out.add_prefix_space = p.value("add_prefix_space", false);
    if (p.value("use_regex", true)) out.patterns.push_back(gpt2_pattern());
  } else if (type == "Split") {
    const std::string behavior = p.value("behavior", "Isolated");
    const bool invert = p.value("invert", false);
    if (behavior != "Isolated" || invert) {
      throw FormatError(file, where + ": Split behavior '" + behavior + "'" + (invert ? " inverted" : "") +
                                  " is not supported");
    }
    const json pat = p.value("pattern", json::object());
    if (pat.contains("Regex") && pat["Regex"].is_string()) {
      out.patterns.push_back(pat["Regex"].get<std::string>());
    } else if (pat.contains("String") && pat["String"].is_string()) {
      out.patterns.push_back(regex_quote(pat["String"].get<std::string>()));
    } else {
      throw FormatError(file, "missing key " + where + ".pattern.Regex");
    }
  } else if (type == "Digits") {
    out.patterns.push_back(p.value("individual_digits", false) ? "\\p{N}" : "\\p{N}+");
  } else if (type == "Metaspace") {
    out.metaspace = true;
    // Newer files say prepend_scheme, older ones add_prefix_space.
    const std::string scheme = p.value("prepend_scheme", std::string(p.value("add_prefix_space", true) ? "always" : "never"));
    out.prepend_space = scheme != "never";
    if (p.value("split", false)) out.warnings.push_back(where + ": Metaspace split=true treated as split=false");
  } else {
    throw FormatError(file, where + ": pre-tokenizer type '" + type + "' is not supported");
  }
}

void read_normalizer(const json& n, const std::string& file, const std::string& where, HfPipeline& out) {
  if (n.is_null()) return;
  const std::string type = type_of(n, file, where);
  if (type == "Sequence") {
    if (!n.contains("normalizers") || !n["normalizers"].is_array()) {
      throw FormatError(file, "missing key " + where + ".normalizers");
    }
    const json& list = n["normalizers"];
    for (size_t i = 0; i < list.size(); ++i) read_normalizer(list[i], file, where + ".normalizers[" + std::to_string(i) + "]", out);
  } else if (type == "Prepend" && n.value("prepend", std::string()) == kSpaceMark) {
    out.prepend_space = true;
  } else if (type == "Replace" && n.value("content", std::string()) == kSpaceMark &&
             n.value("pattern", json::object()).value("String", std::string()) == " ") {
    out.metaspace = true;
  } else {
    // NFC/NFKC and friends: most text is already normalized; say so.
    out.warnings.push_back(where + ": normalizer '" + type + "' ignored (text is tokenized as given)");
  }
}

}  // namespace

HfPipeline read_hf_pipeline(const json& root, const std::string& file) {
  HfPipeline out;
  if (root.contains("normalizer")) read_normalizer(root["normalizer"], file, "normalizer", out);
  if (root.contains("pre_tokenizer")) read_pre(root["pre_tokenizer"], file, "pre_tokenizer", out);
  if (out.byte_level && out.metaspace) {
    throw FormatError(file, "pre_tokenizer: both ByteLevel and '▁' space replacement; not a known layout");
  }
  if (!out.byte_level && !out.metaspace) {
    throw FormatError(file, "pre_tokenizer: neither a ByteLevel pre-tokenizer nor SentencePiece-style '▁' "
                            "spaces; this tokenizer.json layout is not supported");
  }
  return out;
}

}  // namespace vkmind::tok
