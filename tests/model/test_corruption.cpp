// Hostile files: the real GGUF files in ../shared truncated at many offsets,
// with bytes flipped and counts replaced in the header region, and a written
// HF folder with its safetensors header and config damaged. Every case must
// either open or throw FormatError: no crash, no other exception, and (under
// the ASan/UBSan build) no out-of-bounds read.
#include <catch2/catch.hpp>

#include <random>

#include "model/gguf.h"
#include "model/model_desc.h"
#include "tests/model/test_helpers.h"
#include "tests/shared_data.h"

using namespace vkmind;
using vkmind::test::ScratchDir;

namespace {

struct Tally {
  int cases = 0;
  int refused = 0;
};

// Opens as a GGUF file and as a model; anything but FormatError fails.
void try_open(const std::string& path, Tally& tally, bool model_too) {
  ++tally.cases;
  try {
    auto f = gguf::File::open(path);
    // Touch what a consumer touches: every tensor's bytes and the tokenizer arrays.
    uint64_t sum = 0;
    for (const auto& t : f->tensors()) {
      const auto d = f->tensor_data(t);
      if (!d.empty()) sum += d.front() + d.back();
    }
    (void)sum;
    (void)f->get_string_array("tokenizer.ggml.tokens");
    if (model_too) {
      auto m = Model::open(path);
      for (const auto& t : m->stored_tensors()) (void)t.n_elements();
    }
  } catch (const FormatError& e) {
    ++tally.refused;
    CHECK(std::string(e.what()).find(path) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("corrupted GGUF files are refused cleanly (>= 500 cases)", "[corruption]") {
  const auto stories = test::shared_file("models/stories260K/stories260K.gguf");
  const auto stories_v1 = test::shared_file("models/stories260K/stories260K-gguf-v1.gguf");
  const auto tiny = test::shared_file("models/llama2-tiny-random/llama-2-tiny-random.gguf");
  if (stories.empty() || stories_v1.empty() || tiny.empty()) return;

  ScratchDir dir;
  Tally tally;
  std::mt19937 rng(1234);
  const std::string out = dir.path("case.gguf");

  for (const auto& src : {stories, stories_v1, tiny}) {
    const std::string orig = test::read_bytes(src);
    auto hdr = gguf::File::open(src);
    const size_t header_end = static_cast<size_t>(hdr->data_offset());
    const bool big_vocab = hdr->get_string_array("tokenizer.ggml.tokens").size() > 10000;

    // Truncations: every byte of the first 64, then spread over the header
    // region, then a few in the tensor data.
    std::vector<size_t> cuts;
    // (The 32000-token file costs ~50x more per case: it gets fewer.)
    for (size_t i = 0; i < (big_vocab ? 16u : 64u); ++i) cuts.push_back(i);
    const int spread = big_vocab ? 30 : 100;
    for (int i = 0; i < spread; ++i) cuts.push_back(64 + (header_end - 64) * static_cast<size_t>(i) / spread);
    for (int i = 1; i < 10; ++i) cuts.push_back(header_end + (orig.size() - header_end) * static_cast<size_t>(i) / 10);
    cuts.push_back(orig.size() - 1);
    for (size_t cut : cuts) {
      std::ofstream(out, std::ios::binary | std::ios::trunc).write(orig.data(), static_cast<std::streamsize>(cut));
      try_open(out, tally, !big_vocab);
    }

    // Flipped bytes in the header region (random positions and values),
    // concentrated at the start where counts and lengths live.
    const int flips = big_vocab ? 30 : 150;
    for (int i = 0; i < flips; ++i) {
      std::string b = orig;
      const size_t limit = i % 2 ? std::min<size_t>(header_end, 4096) : header_end;
      const size_t pos = std::uniform_int_distribution<size_t>(0, limit - 1)(rng);
      b[pos] = static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng));
      std::ofstream(out, std::ios::binary | std::ios::trunc) << b;
      try_open(out, tally, !big_vocab);
    }

    // Huge values written over 8-byte fields at every 4-byte offset of the
    // first 256 bytes (counts, lengths, types).
    for (size_t pos = 4; pos + 8 <= (big_vocab ? 64u : 256u); pos += 4) {
      for (uint64_t v : {uint64_t{1} << 60, ~uint64_t{0}}) {
        std::string b = orig;
        std::memcpy(b.data() + pos, &v, 8);
        std::ofstream(out, std::ios::binary | std::ios::trunc) << b;
        try_open(out, tally, !big_vocab);
      }
    }
  }
  INFO(tally.cases << " cases, " << tally.refused << " refused");
  CHECK(tally.cases >= 500);
  CHECK(tally.refused > tally.cases / 2);
}

TEST_CASE("corrupted safetensors headers and config files are refused cleanly", "[corruption]") {
  ScratchDir dir;
  test::HfFolder f;
  f.config = {{"architectures", {"Qwen3ForCausalLM"}}, {"hidden_size", 32}, {"num_hidden_layers", 1},
              {"num_attention_heads", 2}, {"num_key_value_heads", 1}, {"intermediate_size", 32},
              {"vocab_size", 16}, {"tie_word_embeddings", true}};
  test::HfLayout{.hidden = 32, .n_layers = 1, .n_heads = 2, .n_kv = 1, .ffn = 32, .vocab = 16, .qk_norm = true}.add_to(f);
  f.write(dir.dir);
  const std::string st = (dir.dir / "model.safetensors").string();
  const std::string cfg = (dir.dir / "config.json").string();
  const std::string orig = test::read_bytes(st);
  const std::string orig_cfg = test::read_bytes(cfg);
  REQUIRE_NOTHROW(Model::open(dir.dir.string()));
  uint64_t header_len;
  std::memcpy(&header_len, orig.data(), 8);

  std::mt19937 rng(99);
  int cases = 0;
  auto attempt = [&] {
    ++cases;
    try {
      auto m = Model::open(dir.dir.string());
      (void)m->parameter_count();
    } catch (const FormatError&) {
    }
  };
  for (int i = 0; i < 120; ++i) {
    std::string b = orig;
    if (i < 40) {
      b.resize(static_cast<size_t>(i) * (8 + header_len) / 40);
    } else {
      const size_t pos = std::uniform_int_distribution<size_t>(0, 8 + header_len - 1)(rng);
      b[pos] = static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng));
    }
    std::ofstream(st, std::ios::binary | std::ios::trunc) << b;
    attempt();
  }
  std::ofstream(st, std::ios::binary | std::ios::trunc) << orig;
  for (int i = 0; i < 60; ++i) {
    std::string c = orig_cfg;
    if (i < 20) {
      c.resize(c.size() * static_cast<size_t>(i) / 20);
    } else {
      const size_t pos = std::uniform_int_distribution<size_t>(0, c.size() - 1)(rng);
      c[pos] = "0123456789\"{}[],:-.ex\xff"[std::uniform_int_distribution<int>(0, 21)(rng)];
    }
    std::ofstream(cfg, std::ios::binary | std::ios::trunc) << c;
    attempt();
  }
  CHECK(cases == 180);
}
