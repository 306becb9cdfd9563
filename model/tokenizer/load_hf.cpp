// Builds a tokenizer from a Hugging Face folder: tokenizer.json (the
// `tokenizers` library's format) plus tokenizer_config.json for BOS/EOS,
// add_bos_token and the chat template.
#include <algorithm>
#include <filesystem>
#include <limits>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "model/errors.h"
#include "model/gguf.h"
#include "model/tokenizer/bpe_tokenizer.h"
#include "model/tokenizer/hf_pipeline.h"
#include "model/tokenizer/hf_tokenizer_files.h"
#include "model/tokenizer/spm_tokenizer.h"
#include "model/tokenizer/tokenizer.h"

namespace vkmind::tok {

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

json read_json(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FormatError(path.string(), "cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return json::parse(ss.str());
  } catch (const json::exception& e) {
    throw FormatError(path.string(), std::string("not valid JSON: ") + e.what());
  }
}

// Looks up `key` in `obj` (whose own path is `where`) and checks its type;
// every failure names the file and the full key path.
const json& require(const json& obj, const std::string& key, json::value_t type, const std::string& file,
                    const std::string& where) {
  const std::string full = where.empty() ? key : where + "." + key;
  if (!obj.is_object() || !obj.contains(key)) throw FormatError(file, "missing key " + full);
  const json& v = obj.at(key);
  const bool ok = v.type() == type || (type == json::value_t::number_integer && v.is_number_unsigned());
  if (!ok) throw FormatError(file, "key " + full + " has the wrong type (" + std::string(v.type_name()) + ")");
  return v;
}

// A token given as "text" or as {"content": "text", ...} (tokenizer_config.json).
std::optional<std::string> token_text(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_object() && j.contains("content") && j["content"].is_string()) return j["content"].get<std::string>();
  return std::nullopt;
}

// A SentencePiece model exported as HF BPE (Llama 2 style): its merges are
// the SentencePiece merges ordered by piece score, so rank -> score turns it
// back into the score-driven SentencePiece algorithm. Pieces no merge
// produces get -inf: never formed by merging, as in HF's BPE.
void fill_spm_scores(Vocab& v, const std::vector<std::pair<std::string, std::string>>& merges, const json& model) {
  v.scores.assign(v.pieces.size(), -std::numeric_limits<float>::infinity());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    if (auto id = v.find(merges[rank].first + merges[rank].second)) {
      v.scores[*id] = std::max(v.scores[*id], -static_cast<float>(rank));
    }
  }
  if (model.value("byte_fallback", false)) {
    for (int32_t id = 0; id < v.size(); ++id) {
      const std::string& p = v.pieces[id];
      if (v.types[id] == TokenType::Normal && p.size() == 6 && p.compare(0, 3, "<0x") == 0 && p[5] == '>') {
        v.types[id] = TokenType::Byte;
      }
    }
  }
  if (!v.unk && model.contains("unk_token") && model["unk_token"].is_string()) v.unk = v.find(model["unk_token"].get<std::string>());
}

HfTokenizerFiles read_files(const std::string& folder) {
  const fs::path tok_path = fs::path(folder) / "tokenizer.json";
  const std::string file = tok_path.string();
  if (!fs::exists(tok_path)) throw FormatError(folder, "no tokenizer.json in this folder");
  const json root = read_json(tok_path);
  if (!root.is_object()) throw FormatError(file, "top level is not a JSON object");

  const json& model = require(root, "model", json::value_t::object, file, "");
  const std::string mtype = model.value("type", std::string("BPE"));
  if (mtype != "BPE") {
    throw FormatError(file, "unsupported tokenizer model '" + mtype + "' (model.type); vkmind reads BPE");
  }

  HfTokenizerFiles out;
  out.tokenizer_json = file;
  HfPipeline pipe = read_hf_pipeline(root, file);
  std::vector<std::string> warnings = std::move(pipe.warnings);

  // Vocabulary: model.vocab plus added_tokens, whose ids may extend it.
  Vocab v;
  v.source = file;
  const json& vocab = require(model, "vocab", json::value_t::object, file, "model");
  constexpr int64_t kMaxVocab = 1 << 24;
  std::vector<std::pair<int64_t, std::string>> entries;
  entries.reserve(vocab.size());
  int64_t max_id = -1;
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    if (!it.value().is_number_integer()) throw FormatError(file, "model.vocab[\"" + it.key() + "\"] is not an integer id");
    const int64_t id = it.value().get<int64_t>();
    if (id < 0 || id >= kMaxVocab) throw FormatError(file, "model.vocab[\"" + it.key() + "\"] = " + std::to_string(id) + " is out of range");
    entries.emplace_back(id, it.key());
    max_id = std::max(max_id, id);
  }
  struct Added {
    int64_t id;
    std::string content;
    bool special;
  };
  std::vector<Added> added;
  if (root.contains("added_tokens") && !root["added_tokens"].is_null()) {
    const json& list = require(root, "added_tokens", json::value_t::array, file, "");
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string where = "added_tokens[" + std::to_string(i) + "]";
      const int64_t id = require(list[i], "id", json::value_t::number_integer, file, where).get<int64_t>();
      if (id < 0 || id >= kMaxVocab) throw FormatError(file, where + ".id is out of range");
      added.push_back({id, require(list[i], "content", json::value_t::string, file, where).get<std::string>(),
                       list[i].value("special", false)});
      max_id = std::max(max_id, id);
    }
  }
  if (max_id < 0) throw FormatError(file, "model.vocab is empty");
  v.pieces.assign(static_cast<size_t>(max_id + 1), std::string());
  v.types.assign(v.pieces.size(), TokenType::Unused);
  for (auto& [id, text] : entries) {
    v.pieces[id] = std::move(text);
    v.types[id] = TokenType::Normal;
  }
  for (const Added& a : added) {
    v.pieces[a.id] = a.content;
    v.types[a.id] = a.special ? TokenType::Control : TokenType::UserDefined;
  }
  v.index();

  // Merges: "a b" strings (older files) or ["a", "b"] pairs (newer files).
  std::vector<std::pair<std::string, std::string>> merges;
  const json& mlist = require(model, "merges", json::value_t::array, file, "model");
  merges.reserve(mlist.size());
  for (size_t i = 0; i < mlist.size(); ++i) {
    const json& m = mlist[i];
    if (m.is_string()) {
      const std::string s = m.get<std::string>();
      const size_t sp = s.find(' ', 1);
      if (sp == std::string::npos) throw FormatError(file, "model.merges[" + std::to_string(i) + "] is not 'left right'");
      merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      throw FormatError(file, "model.merges[" + std::to_string(i) + "] is neither 'left right' nor [left, right]");
    }
  }

  // BOS is added by the post-processor in files such as Llama 3's; a
  // tokenizer_config.json add_bos_token overrides that.
  const json* post = root.contains("post_processor") ? &root["post_processor"] : nullptr;
  if (post && post->is_object() && post->value("type", std::string()) == "TemplateProcessing" &&
      post->contains("single") && (*post)["single"].is_array() && !(*post)["single"].empty()) {
    const json& first = (*post)["single"][0];
    if (first.contains("SpecialToken") && first["SpecialToken"].contains("id") && first["SpecialToken"]["id"].is_string()) {
      if (auto id = v.find(first["SpecialToken"]["id"].get<std::string>())) {
        v.bos = *id;
        v.add_bos = true;
      }
    }
  }

  const fs::path cfg_path = fs::path(folder) / "tokenizer_config.json";
  if (fs::exists(cfg_path)) {
    const json cfg = read_json(cfg_path);
    const std::string cfile = cfg_path.string();
    if (!cfg.is_object()) throw FormatError(cfile, "top level is not a JSON object");
    auto lookup = [&](const char* key, std::optional<int32_t>& dst) {
      if (!cfg.contains(key) || cfg[key].is_null()) return;
      auto text = token_text(cfg[key]);
      if (!text) throw FormatError(cfile, std::string("key ") + key + " is neither a string nor {\"content\": ...}");
      if (auto id = v.find(*text)) dst = *id;
      else warnings.push_back(std::string(key) + " '" + *text + "' is not in the vocabulary");
    };
    lookup("bos_token", v.bos);
    lookup("eos_token", v.eos);
    lookup("unk_token", v.unk);
    // Only the converter writes the padding id; one outside the vocabulary is simply not written.
    if (cfg.contains("pad_token") && !cfg["pad_token"].is_null()) {
      if (auto text = token_text(cfg["pad_token"])) out.pad = v.find(*text);
    }
    if (cfg.contains("add_bos_token") && cfg["add_bos_token"].is_boolean()) v.add_bos = cfg["add_bos_token"].get<bool>();
    if (cfg.contains("add_eos_token") && cfg["add_eos_token"].is_boolean()) v.add_eos = cfg["add_eos_token"].get<bool>();
    if (cfg.contains("chat_template")) {
      const json& t = cfg["chat_template"];
      if (t.is_string()) {
        v.chat_template = t.get<std::string>();
      } else if (t.is_array()) {
        // Named templates: [{"name": "default", "template": "..."}, ...].
        for (const json& e : t) {
          if (e.is_object() && e.value("name", std::string()) == "default" && e.contains("template") && e["template"].is_string()) {
            v.chat_template = e["template"].get<std::string>();
          }
        }
      } else if (!t.is_null()) {
        throw FormatError(cfile, "key chat_template is neither a string nor a list of named templates");
      }
    }
  }

  out.sentencepiece = pipe.metaspace;
  if (out.sentencepiece) fill_spm_scores(v, merges, model);
  out.ignore_merges = model.value("ignore_merges", false);
  out.vocab = std::move(v);
  out.merges = std::move(merges);
  out.pipeline = std::move(pipe);
  out.warnings = std::move(warnings);
  return out;
}

std::unique_ptr<Tokenizer> build(HfTokenizerFiles f) {
  if (f.sentencepiece) {
    return std::make_unique<SentencePieceBpe>(std::move(f.vocab), f.pipeline.prepend_space, std::move(f.warnings));
  }
  ByteLevelBpeConfig bpe;
  try {
    bpe.splitter = RegexSplitter(f.pipeline.patterns);
  } catch (const std::invalid_argument& e) {
    throw FormatError(f.tokenizer_json, std::string("pre_tokenizer: ") + e.what());
  }
  bpe.ignore_merges = f.ignore_merges;
  bpe.add_prefix_space = f.pipeline.add_prefix_space;
  return std::make_unique<ByteLevelBpe>(std::move(f.vocab), f.merges, std::move(bpe), std::move(f.warnings));
}

}  // namespace

HfTokenizerFiles read_hf_tokenizer_files(const std::string& folder) {
  try {
    return read_files(folder);
  } catch (const json::exception& e) {
    // A value() lookup met a key of the wrong type somewhere in the files.
    throw FormatError((fs::path(folder) / "tokenizer.json").string(), std::string("malformed field: ") + e.what());
  }
}

std::unique_ptr<Tokenizer> load_tokenizer_from_hf_folder(const std::string& folder) {
  return build(read_hf_tokenizer_files(folder));
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path) {
  if (fs::is_directory(path)) return load_tokenizer_from_hf_folder(path);
  if (fs::path(path).filename() == "tokenizer.json") return load_tokenizer_from_hf_folder(fs::path(path).parent_path().string());
  const auto file = gguf::File::open(path);
  return load_tokenizer_from_gguf(*file);
}

}  // namespace vkmind::tok
