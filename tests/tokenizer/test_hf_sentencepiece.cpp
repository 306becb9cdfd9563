// SentencePiece models exported as HF tokenizer.json (Llama 2 layout: BPE with
// byte_fallback, Prepend + Replace '▁' normalizer). The file is generated
// here from the llama-spm GGUF vocabulary the way HF's converter does
// (merges = every split of a piece into two pieces, ordered by the piece's
// score), and must then pass the same 46 llama.cpp vectors.
#include <catch2/catch.hpp>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "model/gguf.h"
#include "model/gguf_writer.h"
#include "model/hf_to_gguf.h"
#include "model/tokenizer/tokenizer.h"
#include "model/tokenizer/utf8.h"
#include "tests/shared_data.h"
#include "tests/scratch_dir.h"
#include "tests/tokenizer/vector_file.h"

using nlohmann::json;

namespace {

std::string llama2_style_tokenizer_json(const vkmind::gguf::File& f) {
  const auto pieces = f.get_string_array("tokenizer.ggml.tokens");
  const auto scores = f.get_float_array("tokenizer.ggml.scores");
  const auto types = f.get_int_array("tokenizer.ggml.token_type");
  json vocab = json::object();
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < pieces.size(); ++i) {
    vocab[pieces[i]] = i;
    index.emplace(pieces[i], i);
  }
  struct M {
    std::string l, r;
    float score;
  };
  std::vector<M> merges;
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (types[i] != 1) continue;
    const std::string& p = pieces[i];
    for (size_t at = 0; at < p.size();) {
      size_t len = 0;
      vkmind::tok::utf8::decode(p, at, len);
      at += len;
      if (at >= p.size()) break;
      if (index.count(p.substr(0, at)) && index.count(p.substr(at))) merges.push_back({p.substr(0, at), p.substr(at), scores[i]});
    }
  }
  std::stable_sort(merges.begin(), merges.end(), [](const M& a, const M& b) { return a.score > b.score; });
  json jm = json::array();
  for (const M& m : merges) jm.push_back(m.l + " " + m.r);
  json added = json::array();
  for (size_t i = 0; i < 3; ++i) added.push_back({{"id", i}, {"content", pieces[i]}, {"special", true}});
  json root = {
      {"version", "1.0"},
      {"added_tokens", added},
      {"normalizer",
       {{"type", "Sequence"},
        {"normalizers",
         {{{"type", "Prepend"}, {"prepend", "\xE2\x96\x81"}},
          {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\xE2\x96\x81"}}}}}},
      {"pre_tokenizer", nullptr},
      {"model",
       {{"type", "BPE"}, {"byte_fallback", true}, {"unk_token", "<unk>"}, {"vocab", vocab}, {"merges", jm}}},
  };
  return root.dump();
}

// tokenizer.json and tokenizer_config.json of a Llama-2 style HF folder made from `vocab`.
void write_llama2_style_folder(const vkmind::test::ScratchDir& dir, const vkmind::gguf::File& vocab) {
  dir.write("tokenizer.json", llama2_style_tokenizer_json(vocab));
  dir.write("tokenizer_config.json", R"({"bos_token": "<s>", "eos_token": "</s>", "add_bos_token": true})");
}

// llama.cpp's 46 llama-spm vectors through `tok`; returns how many pass.
int check_llama_spm_vectors(const vkmind::tok::Tokenizer& tok, const std::string& base) {
  const auto vectors = vkmind::test::read_tokenizer_vectors(vkmind::test::shared_file(base + ".inp"),
                                                            vkmind::test::shared_file(base + ".out"));
  REQUIRE(vectors.size() == 46);
  int passed = 0;
  for (const auto& v : vectors) {
    const auto got = tok.encode(v.input, false, false);
    INFO("input: [" << v.input << "]");
    CHECK(got == v.ids);
    passed += got == v.ids;
  }
  return passed;
}

}  // namespace

TEST_CASE("Llama-2 style tokenizer.json passes the llama-spm vectors", "[tokenizer][spm][hf]") {
  const std::string base = "tokenizers/llamacpp-vectors/ggml-vocab-llama-spm.gguf";
  const auto vocab = vkmind::test::shared_file(base);
  if (vocab.empty()) return;
  auto f = vkmind::gguf::File::open(vocab);
  vkmind::test::ScratchDir dir;
  write_llama2_style_folder(dir, *f);
  auto tok = vkmind::tok::load_tokenizer_from_hf_folder(dir.dir.string());
  CHECK(tok->kind_name() == "SentencePiece BPE");
  CHECK(tok->warnings().empty());
  CHECK(tok->bos_id() == 1);
  CHECK(tok->add_bos_by_default());

  CHECK(check_llama_spm_vectors(*tok, base) == 46);
  CHECK(tok->encode("Hello world", true, true) == std::vector<int32_t>{1, 15043, 3186});
}

TEST_CASE("Llama-2 style tokenizer.json written as GGUF (tokenizer.ggml.model llama) passes the same vectors",
          "[tokenizer][spm][hf][gguf]") {
  const std::string base = "tokenizers/llamacpp-vectors/ggml-vocab-llama-spm.gguf";
  const auto vocab = vkmind::test::shared_file(base);
  if (vocab.empty()) return;
  auto f = vkmind::gguf::File::open(vocab);
  vkmind::test::ScratchDir dir;
  write_llama2_style_folder(dir, *f);
  const auto n_vocab = static_cast<uint32_t>(f->get_string_array("tokenizer.ggml.tokens").size());
  std::map<std::string, vkmind::gguf::Value> metadata;
  vkmind::add_hf_tokenizer_metadata(dir.dir.string(), vkmind::ModelDesc{}, n_vocab, metadata);
  CHECK(metadata.at("tokenizer.ggml.model").as_string("") == "llama");
  vkmind::gguf::write_file(dir.path("vocab.gguf"), metadata, {});
  auto written = vkmind::gguf::File::open(dir.path("vocab.gguf"));
  auto tok = vkmind::tok::load_tokenizer_from_gguf(*written);
  CHECK(tok->kind_name() == "SentencePiece BPE");
  CHECK(tok->warnings().empty());
  CHECK(tok->bos_id() == 1);
  CHECK(tok->eos_id() == 2);
  CHECK(tok->add_bos_by_default());
  CHECK(check_llama_spm_vectors(*tok, base) == 46);
}
