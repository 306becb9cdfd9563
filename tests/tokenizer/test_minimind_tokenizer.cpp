// The MiniMind tokenizer.json (byte-level BPE, 6400 pieces, ChatML specials).
#include <catch2/catch.hpp>

#include <filesystem>

#include "model/gguf.h"
#include "model/gguf_writer.h"
#include "model/hf_to_gguf.h"
#include "model/tokenizer/tokenizer.h"
#include "tests/scratch_dir.h"
#include "tests/shared_data.h"

namespace {

std::unique_ptr<vkmind::tok::Tokenizer> load_minimind() {
  const auto p = vkmind::test::shared_file("tokenizers/minimind/tokenizer.json");
  if (p.empty()) return nullptr;
  return vkmind::tok::load_tokenizer_from_hf_folder(std::filesystem::path(p).parent_path().string());
}

}  // namespace

TEST_CASE("MiniMind tokenizer.json loads", "[tokenizer][minimind]") {
  auto tok = load_minimind();
  if (!tok) return;
  CHECK(tok->kind_name() == "byte-level BPE");
  CHECK(tok->vocab_size() == 6400);
  CHECK(tok->warnings().empty());
  // tokenizer_config.json: bos <|im_start|>, eos <|im_end|>, no BOS added.
  CHECK(tok->bos_id() == 1);
  CHECK(tok->eos_id() == 2);
  CHECK_FALSE(tok->add_bos_by_default());
  CHECK(tok->piece(25) == "<think>");
  CHECK(tok->chat_template().find("<|im_start|>") != std::string::npos);
}

TEST_CASE("MiniMind round trip: decode(encode(x)) == x", "[tokenizer][minimind]") {
  auto tok = load_minimind();
  if (!tok) return;
  const char* texts[] = {
      "Hello, world! The quick brown fox jumps over the lazy dog. 12345",
      "你好，世界！今天天气很好，我们去公园散步吧。",
      "🚀🦙😶‍🌫️ ✅",
      "Mixed 中文 and English, émojis 😁 and numbers 3.14159\n\n\tindented  double  spaces   ",
      "",
      " ",
      "\n\n\n",
  };
  for (const char* t : texts) {
    const auto ids = tok->encode(t, false, true);
    INFO("text: [" << t << "]");
    CHECK(tok->decode(ids) == t);
  }
}

TEST_CASE("MiniMind special tokens follow parse_special", "[tokenizer][minimind]") {
  auto tok = load_minimind();
  if (!tok) return;
  CHECK(tok->encode("<|im_start|>", false, true) == std::vector<int32_t>{1});
  const auto plain = tok->encode("<|im_start|>", false, false);
  CHECK(plain != std::vector<int32_t>{1});
  CHECK(plain.size() > 1);
  CHECK(tok->decode(plain) == "<|im_start|>");

  const auto chat = tok->encode("<|im_start|>user\nhi<|im_end|>\n", false, true);
  REQUIRE(chat.size() >= 4);
  CHECK(chat.front() == 1);
  CHECK(std::find(chat.begin(), chat.end(), 2) != chat.end());
  CHECK(tok->decode(chat) == "<|im_start|>user\nhi<|im_end|>\n");
  CHECK(tok->decode(chat, /*skip_special=*/true) == "user\nhi\n");

  // add_bos prepends the configured BOS id.
  CHECK(tok->encode("hi", true, true).front() == 1);
}

TEST_CASE("Invalid UTF-8 input is replaced, never a crash", "[tokenizer][minimind]") {
  auto tok = load_minimind();
  if (!tok) return;
  const std::string bad = std::string("ok \xff\xfe bad \xe4\xbd") + "\xc0\x80 end";
  const auto ids = tok->encode(bad, false, true);
  CHECK_FALSE(ids.empty());
  const std::string back = tok->decode(ids);
  // Each invalid byte became U+FFFD.
  CHECK(back == "ok \xEF\xBF\xBD\xEF\xBF\xBD bad \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD end");
}

TEST_CASE("MiniMind tokenizer written as GGUF metadata tokenizes like the folder", "[tokenizer][minimind][gguf]") {
  auto hf = load_minimind();
  if (!hf) return;
  const auto folder = std::filesystem::path(vkmind::test::shared_file("tokenizers/minimind/tokenizer.json")).parent_path();
  std::map<std::string, vkmind::gguf::Value> metadata;
  vkmind::add_hf_tokenizer_metadata(folder.string(), vkmind::ModelDesc{}, 6400, metadata);
  CHECK(metadata.at("tokenizer.ggml.pre").as_string("") == "gpt-2");
  vkmind::test::ScratchDir dir;
  vkmind::gguf::write_file(dir.path("vocab.gguf"), metadata, {});
  auto file = vkmind::gguf::File::open(dir.path("vocab.gguf"));
  auto tok = vkmind::tok::load_tokenizer_from_gguf(*file);
  CHECK(tok->warnings().empty());
  CHECK(tok->vocab_size() == 6400);
  CHECK(tok->bos_id() == hf->bos_id());
  CHECK(tok->eos_id() == hf->eos_id());
  CHECK(tok->add_bos_by_default() == hf->add_bos_by_default());
  CHECK(tok->chat_template() == hf->chat_template());
  const char* texts[] = {"Hello, world! The quick brown fox. 12345 and 3.14159",
                         "你好，世界！今天天气很好。",
                         "🚀🦙 ✅ émojis\n\n\tindented  double  spaces   ",
                         "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<think>x</think>"};
  for (const char* text : texts) {
    INFO(text);
    for (bool special : {true, false}) CHECK(tok->encode(text, false, special) == hf->encode(text, false, special));
  }
}
