// Broken tokenizer files give FormatError naming the file and key.
#include <catch2/catch.hpp>


#include "model/errors.h"
#include "model/gguf.h"
#include "model/tokenizer/tokenizer.h"
#include "tests/shared_data.h"
#include "tests/scratch_dir.h"

namespace {

// A scratch folder holding one tokenizer.json with the given text.
struct TempTokenizerDir : vkmind::test::ScratchDir {
  explicit TempTokenizerDir(const std::string& json) { write("tokenizer.json", json); }
};

std::string error_of(const std::string& json) {
  TempTokenizerDir d(json);
  try {
    vkmind::tok::load_tokenizer_from_hf_folder(d.dir.string());
  } catch (const vkmind::FormatError& e) {
    CHECK(std::string(e.what()).find("tokenizer.json") != std::string::npos);
    return e.what();
  }
  FAIL("no FormatError for: " << json);
  return "";
}

const char* kByteLevel = R"("pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true})";

}  // namespace

TEST_CASE("tokenizer.json that is not JSON", "[tokenizer][bad]") {
  CHECK(error_of("{ this is not json").find("not valid JSON") != std::string::npos);
  CHECK(error_of("").find("not valid JSON") != std::string::npos);
}

TEST_CASE("tokenizer.json with missing or mistyped fields", "[tokenizer][bad]") {
  CHECK(error_of("[1, 2]").find("not a JSON object") != std::string::npos);
  CHECK(error_of(std::string("{") + kByteLevel + "}").find("missing key model") != std::string::npos);
  CHECK(error_of(std::string("{") + kByteLevel + R"(, "model": {"type": "BPE", "merges": []}})").find("model.vocab") !=
        std::string::npos);
  CHECK(error_of(std::string("{") + kByteLevel + R"(, "model": {"type": "BPE", "vocab": {"a": 0}}})")
            .find("model.merges") != std::string::npos);
  CHECK(error_of(std::string("{") + kByteLevel + R"(, "model": {"type": "BPE", "vocab": {"a": "x"}, "merges": []}})")
            .find("model.vocab") != std::string::npos);
  CHECK(error_of(std::string("{") + kByteLevel + R"(, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": [7]}})")
            .find("model.merges[0]") != std::string::npos);
  CHECK(error_of(std::string("{") + kByteLevel +
                 R"(, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "added_tokens": [{"content": "x"}]})")
            .find("added_tokens[0].id") != std::string::npos);
  CHECK(error_of(R"({"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "[a-"}, "behavior": "Isolated"},
                   "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}})")
            .find("pre_tokenizer") != std::string::npos);
  CHECK(error_of(R"({"model": {"type": "WordPiece", "vocab": {"a": 0}}})").find("unsupported tokenizer model 'WordPiece'") !=
        std::string::npos);
}

TEST_CASE("A minimal byte-level tokenizer.json works", "[tokenizer][bad]") {
  // Vocabulary: the byte-level characters of "a", "b", "ab", " " (Ġ).
  TempTokenizerDir d(std::string("{") + kByteLevel +
                     R"(, "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "Ġ": 3}, "merges": ["a b"]}})");
  auto tok = vkmind::tok::load_tokenizer_from_hf_folder(d.dir.string());
  CHECK(tok->encode("ab ab", false, true) == std::vector<int32_t>{2, 3, 2});
  CHECK(tok->decode(std::vector<int32_t>{2, 3, 2}) == "ab ab");
  CHECK_FALSE(tok->bos_id());
}

TEST_CASE("A missing folder or tokenizer.json", "[tokenizer][bad]") {
  CHECK_THROWS_AS(vkmind::tok::load_tokenizer_from_hf_folder("/nonexistent/vkmind"), vkmind::FormatError);
}

TEST_CASE("A WordPiece GGUF vocabulary is refused by name", "[tokenizer][bad]") {
  const auto p = vkmind::test::shared_file("tokenizers/llamacpp-vectors/ggml-vocab-bert-bge.gguf");
  if (p.empty()) return;
  auto f = vkmind::gguf::File::open(p);
  try {
    vkmind::tok::load_tokenizer_from_gguf(*f);
    FAIL("bert vocabulary accepted");
  } catch (const vkmind::FormatError& e) {
    CHECK(std::string(e.what()).find("unsupported tokenizer model 'bert'") != std::string::npos);
    CHECK(std::string(e.what()).find("ggml-vocab-bert-bge.gguf") != std::string::npos);
  }
}

TEST_CASE("gpt-neox vocabulary (no tokenizer.ggml.pre) round trips", "[tokenizer][bpe]") {
  // No vectors ship for it; a missing pre key means GPT-2's regex.
  const auto p = vkmind::test::shared_file("tokenizers/llamacpp-vectors/ggml-vocab-gpt-neox.gguf");
  if (p.empty()) return;
  auto f = vkmind::gguf::File::open(p);
  auto tok = vkmind::tok::load_tokenizer_from_gguf(*f);
  CHECK(tok->kind_name() == "byte-level BPE");
  CHECK(tok->warnings().empty());
  const std::string text = "Hello   world\n\tcode();  // 🦙 ünïcödé";
  CHECK(tok->decode(tok->encode(text, false, false)) == text);
}

TEST_CASE("Baichuan SentencePiece vocabulary round trips", "[tokenizer][spm]") {
  const auto p = vkmind::test::shared_file("tokenizers/llamacpp-vectors/ggml-vocab-baichuan.gguf");
  if (p.empty()) return;
  auto f = vkmind::gguf::File::open(p);
  auto tok = vkmind::tok::load_tokenizer_from_gguf(*f);
  CHECK(tok->kind_name() == "SentencePiece BPE");
  const std::string text = "你好，世界！Hello world 🦙";
  CHECK(tok->decode(tok->encode(text, true, false), true) == text);
}
