// Generation on a real model (stories260K from ../shared): the published
// greedy sample, reference logits, and invariance to how the work is cut
// (prefill chunk, KV block size, KV element type), seeds, and limits.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <sstream>

#include "include/vkmind/engine.h"
#include "tests/shared_data.h"

using namespace vkmind;

namespace {

std::vector<int32_t> parse_id_list(const std::string& line) {
  std::vector<int32_t> ids;
  std::string cleaned;
  for (char c : line) cleaned += (c == '[' || c == ']' || c == ',') ? ' ' : c;
  std::istringstream in(cleaned);
  int32_t v;
  while (in >> v) ids.push_back(v);
  return ids;
}

struct GreedyReference {
  std::vector<int32_t> ids;         // 256 generated from BOS
  std::string text;                 // their text
  std::vector<int32_t> prompted;    // prompt (no BOS) then generated, 64 in all
};

GreedyReference read_greedy(const std::string& path) {
  GreedyReference ref;
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].rfind("generated token ids", 0) == 0) ref.ids = parse_id_list(lines[i + 1]);
    if (lines[i] == "text:") {
      for (size_t j = i + 1; j < lines.size() && !lines[j].empty(); ++j) ref.text += (j > i + 1 ? "\n" : "") + lines[j];
    }
    if (lines[i].rfind("output ids", 0) == 0) ref.prompted = parse_id_list(lines[i + 1]);
  }
  return ref;
}

std::vector<double> read_logits(const std::string& path, char which) {
  std::ifstream in(path);
  for (std::string l; std::getline(in, l);) {
    if (l.size() > 2 && l[0] == which && l[1] == ' ') {
      std::istringstream words(l.substr(2));
      std::vector<double> v;
      double x;
      while (words >> x) v.push_back(x);
      return v;
    }
  }
  return {};
}

const std::vector<int32_t> kDogPrompt{1, 403, 407, 261, 378, 432, 383, 286, 261, 400, 428};

std::vector<int32_t> greedy_ids(Engine& engine, const std::vector<int32_t>& prompt, int n) {
  GenerateOptions gen;
  gen.sampling.temperature = 0;
  gen.max_tokens = n;
  std::vector<int32_t> out;
  engine.generate_ids(prompt, gen, [&](int32_t id) {
    out.push_back(id);
    return true;
  });
  return out;
}

EngineOptions validated() {
  EngineOptions o;
  o.validation = true;
  return o;
}

}  // namespace

TEST_CASE("stories260K: greedy from BOS is the published sample", "[engine][stories]") {
  auto model = test::shared_file("models/stories260K/stories260K.gguf");
  auto reference = test::shared_file("models/stories260K/reference_greedy.txt");
  if (model.empty() || reference.empty()) return;
  auto ref = read_greedy(reference);
  REQUIRE(ref.ids.size() == 256);

  auto engine = Engine::open(model, validated());
  GenerateOptions gen;
  gen.sampling.temperature = 0;
  gen.max_tokens = 256;
  std::string text;
  auto stats = engine->generate("", gen, [&](std::string_view piece) {
    text += piece;
    return true;
  });
  CHECK(stats.generated_tokens == 256);
  CHECK(stats.stop_reason == "max tokens");
  CHECK(text == ref.text);
  CHECK(greedy_ids(*engine, {1}, 256) == ref.ids);
  CHECK(engine->take_validation_messages().empty());
}

TEST_CASE("stories260K: logits match the float64 reference", "[engine][stories]") {
  auto model = test::shared_file("models/stories260K/stories260K.gguf");
  auto reference = test::shared_file("models/stories260K/reference_logits.txt");
  if (model.empty() || reference.empty()) return;
  // f32 weights, f32 KV: only f32 rounding separates us from the float64
  // reference; 1e-3 absolute (logits span ~25) is what the issue asks.
  EngineOptions options = validated();
  options.kv_type = KvType::F32;
  auto engine = Engine::open(model, options);
  for (auto [which, prompt] : {std::pair{'A', std::vector<int32_t>{1}}, std::pair{'B', kDogPrompt}}) {
    CAPTURE(which);
    auto want = read_logits(reference, which);
    REQUIRE(want.size() == 512);
    auto got = engine->logits(prompt);
    REQUIRE(got.size() == 512);
    double err = 0;
    for (size_t i = 0; i < 512; ++i) err = std::max(err, std::fabs(got[i] - want[i]));
    CHECK(err <= 1e-3);
  }
  CHECK(engine->tokenize("Once upon a time, there was a dog", true, false) == kDogPrompt);
}

TEST_CASE("stories260K: the same greedy text whatever the chunk, block size and KV type", "[engine][stories]") {
  auto model = test::shared_file("models/stories260K/stories260K.gguf");
  auto reference = test::shared_file("models/stories260K/reference_greedy.txt");
  if (model.empty() || reference.empty()) return;
  auto ref = read_greedy(reference);
  REQUIRE(ref.prompted.size() == 64);
  const std::vector<int32_t> want(ref.prompted.begin() + 10, ref.prompted.end());  // 54 generated

  for (uint32_t chunk : {1u, 7u, 512u}) {
    for (uint32_t block : {8u, 16u, 32u}) {
      CAPTURE(chunk, block);
      EngineOptions o;
      o.prefill_chunk = chunk;
      o.kv_block_size = block;
      o.kv_type = KvType::F32;
      auto engine = Engine::open(model, o);
      CHECK(greedy_ids(*engine, kDogPrompt, 54) == want);
    }
  }
  // f16 KV rounds keys and values: the first 64 tokens from BOS must agree.
  EngineOptions o = validated();
  o.kv_type = KvType::F16;
  auto engine = Engine::open(model, o);
  auto got = greedy_ids(*engine, {1}, 64);
  CHECK(got == std::vector<int32_t>(ref.ids.begin(), ref.ids.begin() + 64));
}

TEST_CASE("stories260K: seeds make sampling reproducible", "[engine][stories]") {
  auto model = test::shared_file("models/stories260K/stories260K.gguf");
  if (model.empty()) return;
  auto engine = Engine::open(model);
  auto sample = [&](uint64_t seed) {
    GenerateOptions gen;
    gen.sampling.temperature = 1.0f;
    gen.sampling.seed = seed;
    gen.max_tokens = 40;
    std::string text;
    engine->generate("Once upon a time", gen, [&](std::string_view p) {
      text += p;
      return true;
    });
    return text;
  };
  const std::string a = sample(1);
  CHECK(a == sample(1));
  CHECK(a != sample(2));
  CHECK_FALSE(a.empty());
}

TEST_CASE("stories260K: limits give clear errors and stop reasons", "[engine][stories]") {
  auto model = test::shared_file("models/stories260K/stories260K.gguf");
  if (model.empty()) return;
  EngineOptions o;
  o.context = 16;
  auto engine = Engine::open(model, o);
  GenerateOptions gen;
  gen.sampling.temperature = 0;
  std::string long_prompt;
  for (int i = 0; i < 20; ++i) long_prompt += "Once upon a time ";
  try {
    engine->generate(long_prompt, gen, [](std::string_view) { return true; });
    FAIL("a prompt longer than the context was accepted");
  } catch (const std::exception& e) {
    CHECK_THAT(e.what(), Catch::Contains("does not fit the context of 16 tokens"));
  }
  gen.max_tokens = 100;
  auto stats = engine->generate("Once upon a time", gen, [](std::string_view) { return true; });
  CHECK(stats.stop_reason == "context full");
  CHECK(stats.prompt_tokens + stats.generated_tokens <= 16);

  gen.stop = {"Lily"};
  gen.max_tokens = 64;
  std::string text;
  auto stopped = Engine::open(model)->generate("", gen, [&](std::string_view p) {
    text += p;
    return true;
  });
  CHECK(stopped.stop_reason == "stop string");
  CHECK(text == "Once upon a time, there was a little girl named ");
  CHECK_THROWS_WITH(engine->logits(std::vector<int32_t>{1, 600}), Catch::Contains("outside the vocabulary"));
}
