// Streaming decode: a character split across tokens is printed only when
// complete; nothing printed is ever invalid UTF-8.
#include <catch2/catch.hpp>

#include <filesystem>

#include "model/gguf.h"
#include "model/tokenizer/stream_decoder.h"
#include "model/tokenizer/tokenizer.h"
#include "model/tokenizer/utf8.h"
#include "tests/shared_data.h"

using vkmind::tok::StreamDecoder;

TEST_CASE("StreamDecoder holds back byte-fallback pieces of one character", "[tokenizer][stream]") {
  const auto p = vkmind::test::shared_file("models/llama2-tiny-random/llama-2-tiny-random.gguf");
  if (p.empty()) return;
  auto f = vkmind::gguf::File::open(p);
  auto tok = vkmind::tok::load_tokenizer_from_gguf(*f);
  const auto ids = tok->encode("a🦙b", false, false);
  // "▁a", <0xF0> <0x9F> <0xA6> <0x99>, "b"
  REQUIRE(ids.size() == 6);
  StreamDecoder dec(*tok);
  CHECK(dec.push(ids[0]) == " a");
  CHECK(dec.push(ids[1]).empty());
  CHECK(dec.push(ids[2]).empty());
  CHECK(dec.push(ids[3]).empty());
  CHECK(dec.push(ids[4]) == "🦙");
  CHECK(dec.push(ids[5]) == "b");
  CHECK(dec.flush().empty());
  // Control tokens are skipped by default.
  CHECK(dec.push(*tok->eos_id()).empty());
}

TEST_CASE("StreamDecoder over byte-level BPE reproduces the text", "[tokenizer][stream]") {
  const auto p = vkmind::test::shared_file("tokenizers/minimind/tokenizer.json");
  if (p.empty()) return;
  auto tok = vkmind::tok::load_tokenizer_from_hf_folder(std::filesystem::path(p).parent_path().string());
  const std::string text = "表情 😶‍🌫️ and 中文字符 mixed with ASCII ✅";
  std::string streamed;
  StreamDecoder dec(*tok);
  for (int32_t id : tok->encode(text, false, true)) {
    const std::string part = dec.push(id);
    CHECK(vkmind::tok::utf8::is_valid(part));
    streamed += part;
  }
  streamed += dec.flush();
  CHECK(streamed == text);
}

TEST_CASE("utf8::incomplete_tail and an unfinished character at flush", "[tokenizer][stream]") {
  using vkmind::tok::utf8::incomplete_tail;
  CHECK(incomplete_tail("abc") == 0);
  CHECK(incomplete_tail("a\xE4") == 1);
  CHECK(incomplete_tail("a\xE4\xBD") == 2);
  CHECK(incomplete_tail("a\xE4\xBD\xA0") == 0);     // 你 complete
  CHECK(incomplete_tail("a\xF0\x9F\xA6") == 3);
  CHECK(incomplete_tail("a\xFF") == 0);             // never valid: not held
  CHECK(incomplete_tail("a\xE0\x80") == 0);         // overlong prefix: not held
  CHECK(vkmind::tok::utf8::sanitize("x\xE4\xBD") == "x\xEF\xBF\xBD\xEF\xBF\xBD");
}
