// llama.cpp's tokenizer ground truth (produced by the reference Hugging Face
// tokenizers): every input must encode to exactly the recorded ids, without
// BOS and with special-token parsing off (as llama.cpp's test-tokenizer-0).
#include <catch2/catch.hpp>

#include <sstream>

#include "model/gguf.h"
#include "model/tokenizer/tokenizer.h"
#include "tests/shared_data.h"
#include "tests/tokenizer/vector_file.h"

namespace {

std::string ids_str(const std::vector<int32_t>& ids) {
  std::ostringstream s;
  for (auto id : ids) s << ' ' << id;
  return s.str();
}

void check_vectors(const std::string& name, const std::string& expected_kind) {
  const std::string base = "tokenizers/llamacpp-vectors/ggml-vocab-" + name + ".gguf";
  const auto vocab = vkmind::test::shared_file(base);
  if (vocab.empty()) return;
  const auto inp = vkmind::test::shared_file(base + ".inp");
  const auto out = vkmind::test::shared_file(base + ".out");
  if (inp.empty() || out.empty()) return;

  auto file = vkmind::gguf::File::open(vocab);
  auto tok = vkmind::tok::load_tokenizer_from_gguf(*file);
  CHECK(tok->kind_name() == expected_kind);
  CHECK(tok->warnings().empty());

  const auto vectors = vkmind::test::read_tokenizer_vectors(inp, out);
  REQUIRE(vectors.size() == 46);
  int passed = 0;
  for (const auto& v : vectors) {
    const auto got = tok->encode(v.input, /*add_bos=*/false, /*parse_special=*/false);
    if (got == v.ids) {
      ++passed;
    } else {
      INFO(name << " input: [" << v.input << "]\n expected:" << ids_str(v.ids) << "\n got:     " << ids_str(got));
      CHECK(got == v.ids);
    }
  }
  INFO(name << ": " << passed << "/46");
  CHECK(passed == 46);
}

}  // namespace

TEST_CASE("llama.cpp vectors: llama-spm", "[tokenizer][vectors]") { check_vectors("llama-spm", "SentencePiece BPE"); }
TEST_CASE("llama.cpp vectors: phi-3", "[tokenizer][vectors]") { check_vectors("phi-3", "SentencePiece BPE"); }
TEST_CASE("llama.cpp vectors: gpt-2", "[tokenizer][vectors]") { check_vectors("gpt-2", "byte-level BPE"); }
TEST_CASE("llama.cpp vectors: deepseek-coder", "[tokenizer][vectors]") { check_vectors("deepseek-coder", "byte-level BPE"); }
TEST_CASE("llama.cpp vectors: deepseek-llm", "[tokenizer][vectors]") { check_vectors("deepseek-llm", "byte-level BPE"); }
TEST_CASE("llama.cpp vectors: falcon", "[tokenizer][vectors]") { check_vectors("falcon", "byte-level BPE"); }
TEST_CASE("llama.cpp vectors: mpt", "[tokenizer][vectors]") { check_vectors("mpt", "byte-level BPE"); }
TEST_CASE("llama.cpp vectors: refact", "[tokenizer][vectors]") { check_vectors("refact", "byte-level BPE"); }
TEST_CASE("llama.cpp vectors: starcoder", "[tokenizer][vectors]") { check_vectors("starcoder", "byte-level BPE"); }
