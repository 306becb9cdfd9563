// SentencePiece BPE from real GGUF models.
#include <catch2/catch.hpp>

#include "model/gguf.h"
#include "model/tokenizer/tokenizer.h"
#include "tests/shared_data.h"

using Ids = std::vector<int32_t>;

TEST_CASE("llama2-tiny-random: Hello world", "[tokenizer][spm]") {
  const auto p = vkmind::test::shared_file("models/llama2-tiny-random/llama-2-tiny-random.gguf");
  if (p.empty()) return;
  auto f = vkmind::gguf::File::open(p);
  auto tok = vkmind::tok::load_tokenizer_from_gguf(*f);
  CHECK(tok->kind_name() == "SentencePiece BPE");
  CHECK(tok->vocab_size() == 32000);
  CHECK(tok->bos_id() == 1);
  CHECK(tok->eos_id() == 2);
  CHECK(tok->add_bos_by_default());
  CHECK(tok->encode("Hello world", true, true) == Ids{1, 15043, 3186});
  CHECK(tok->decode(Ids{1, 15043, 3186}) == "<s>Hello world");
  CHECK(tok->decode(Ids{1, 15043, 3186}, true) == "Hello world");
  // <s> is a control token: parsed only on request.
  CHECK(tok->encode("<s>Hello", false, true).front() == 1);
  CHECK(tok->encode("<s>Hello", false, false).front() != 1);
}

TEST_CASE("SentencePiece byte fallback and round trip", "[tokenizer][spm]") {
  const auto p = vkmind::test::shared_file("models/llama2-tiny-random/llama-2-tiny-random.gguf");
  if (p.empty()) return;
  auto f = vkmind::gguf::File::open(p);
  auto tok = vkmind::tok::load_tokenizer_from_gguf(*f);
  // U+1F999 (🦙) is not a Llama 2 piece: four <0xNN> tokens.
  const auto ids = tok->encode("🦙", false, false);
  REQUIRE(ids.size() == 5);  // "▁" then the four bytes
  CHECK(tok->piece(ids[1]) == "<0xF0>");
  CHECK(tok->piece(ids[4]) == "<0x99>");
  for (const char* t : {"Hello world", "  two leading spaces", "中文 and 🦙 emoji\nnew line", "", "tab\there"}) {
    INFO("text: [" << t << "]");
    CHECK(tok->decode(tok->encode(t, true, false), true) == t);
  }
}

TEST_CASE("stories260K prompt encodes as the reference", "[tokenizer][spm]") {
  const auto p = vkmind::test::shared_file("models/stories260K/stories260K.gguf");
  if (p.empty()) return;
  auto f = vkmind::gguf::File::open(p);
  auto tok = vkmind::tok::load_tokenizer_from_gguf(*f);
  CHECK(tok->vocab_size() == 512);
  CHECK(tok->encode("Once upon a time, there was a dog", true, false) ==
        Ids{1, 403, 407, 261, 378, 432, 383, 286, 261, 400, 428});
}
