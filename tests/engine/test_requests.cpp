// The thread-safe request API: many requests from several threads batched by
// the engine thread give each request what it gets alone (greedy and seeded
// sampling), cancellation frees blocks at once, impossible requests are
// refused, the prefix cache reuses a shared prefix.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "include/vkmind/engine.h"
#include "tests/golden_manifest.h"

using namespace vkmind;
using test::kGolden;

namespace {

std::vector<int32_t> prompt_for(uint32_t i, uint32_t vocab) {
  std::vector<int32_t> p(2 + (i * 11) % 37);
  for (size_t j = 0; j < p.size(); ++j) p[j] = int32_t((7 + i * 29 + j * 13) % vocab);
  return p;
}

GenerateOptions options_for(uint32_t i) {
  GenerateOptions o;
  o.max_tokens = 10 + int32_t(i % 5);
  o.ignore_eos = true;
  o.sampling.temperature = i % 3 == 0 ? 0.0f : 0.9f;  // greedy and sampled
  o.sampling.top_k = 0;
  o.sampling.min_p = 0;
  o.sampling.seed = 1000 + i;
  return o;
}

// An f32 KV cache (exact comparisons) of `context` tokens, `parallel` sequences a step.
EngineOptions f32_engine(uint32_t context, uint32_t parallel) {
  EngineOptions o;
  o.context = context;
  o.kv_type = KvType::F32;
  o.parallel = parallel;
  return o;
}

std::vector<int32_t> alone(Engine& engine, const std::vector<int32_t>& prompt, const GenerateOptions& o) {
  std::vector<int32_t> out;
  engine.generate_ids(prompt, o, [&](int32_t t) {
    out.push_back(t);
    return true;
  });
  return out;
}

}  // namespace

TEST_CASE("requests from several threads, batched, each get their output alone", "[engine][requests]") {
  for (const char* name : {"llama_f32/model.gguf", "minimind3_moe_f32/hf"}) {
    DYNAMIC_SECTION(name) {
      const std::string path = (kGolden / name).string();
      EngineOptions single;
      single.context = 256;
      single.kv_type = KvType::F32;
      auto reference = Engine::open(path, single);
      EngineOptions batched = single;
      batched.parallel = 16;
      auto engine = Engine::open(path, batched);
      const uint32_t V = engine->vocab_size();
      constexpr uint32_t kRequests = 24;  // more than run at once

      std::vector<RequestId> ids(kRequests);
      std::vector<std::thread> threads;
      for (uint32_t t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
          for (uint32_t i = t; i < kRequests; i += 4) ids[i] = engine->submit(prompt_for(i, V), options_for(i));
        });
      }
      for (auto& th : threads) th.join();
      for (uint32_t i = 0; i < kRequests; ++i) {
        const RequestResult r = engine->wait(ids[i]);
        INFO("request " << i);
        CHECK(r.error.empty());
        CHECK(r.stats.stop_reason == "max tokens");
        CHECK(r.tokens == alone(*reference, prompt_for(i, V), options_for(i)));
        CHECK(r.stats.prompt_tokens == prompt_for(i, V).size());
      }
      CHECK(engine->kv_stats().blocks_used == 0);
      // The single-request calls still work beside the loop.
      CHECK(alone(*engine, prompt_for(3, V), options_for(3)) == alone(*reference, prompt_for(3, V), options_for(3)));
    }
  }
}

TEST_CASE("cancelling a request mid-stream frees its blocks at once", "[engine][requests]") {
  EngineOptions o;
  o.context = 512;
  o.parallel = 4;
  auto engine = Engine::open((kGolden / "llama_f32/model.gguf").string(), o);
  GenerateOptions g;
  g.max_tokens = -1;
  g.ignore_eos = true;
  std::atomic<int> seen{0};
  RequestId id = 0;
  std::atomic<bool> cancelled{false};
  id = engine->submit(prompt_for(1, engine->vocab_size()), g, [&](const RequestUpdate& u) {
    if (!u.finished && ++seen == 5 && !cancelled.exchange(true)) engine->cancel(u.id);
  });
  const RequestResult r = engine->wait(id);
  CHECK(r.stats.stop_reason == "cancelled");
  CHECK(r.tokens.size() >= 5);
  CHECK(r.tokens.size() < 400);
  CHECK(engine->kv_stats().blocks_used == 0);
}

TEST_CASE("a request that can never run is refused with a reason, the others run", "[engine][requests]") {
  EngineOptions o;
  o.context = 256;
  o.parallel = 2;
  o.kv_blocks = 4;  // 64 tokens
  auto engine = Engine::open((kGolden / "llama_f32/model.gguf").string(), o);
  GenerateOptions g;
  g.max_tokens = 4;
  const RequestId big = engine->submit(std::vector<int32_t>(100, 5), g);
  GenerateOptions bad = g;
  bad.sampling.temperature = -1;
  const RequestId wrong = engine->submit({1, 2, 3}, bad);
  const RequestId odd = engine->submit({1, 2, 100000}, g);
  const RequestId fine = engine->submit({1, 2, 3}, g);
  auto r = engine->wait(big);
  CHECK(r.stats.stop_reason == "error");
  CHECK_THAT(r.error, Catch::Contains("the whole pool has 4"));
  CHECK_THAT(engine->wait(wrong).error, Catch::Contains("temperature"));
  CHECK_THAT(engine->wait(odd).error, Catch::Contains("token id 100000"));
  CHECK(engine->wait(fine).tokens.size() <= 4);
  CHECK_THROWS(engine->wait(999));
}

TEST_CASE("prefix cache: a second request sharing a 200-token prefix computes only the rest", "[engine][requests]") {
  const std::string path = (kGolden / "qwen3_f32/hf").string();
  auto run = [&](bool cache) {
    EngineOptions o = f32_engine(512, 4);
    o.prefix_cache = cache;
    auto engine = Engine::open(path, o);
    const uint32_t V = engine->vocab_size();
    std::vector<int32_t> first(230), second;
    for (size_t j = 0; j < first.size(); ++j) first[j] = int32_t((3 + j * 7) % V);
    second.assign(first.begin(), first.begin() + 200);
    for (int j = 0; j < 25; ++j) second.push_back(int32_t((50 + j) % V));
    GenerateOptions g = options_for(1);
    auto a = engine->wait(engine->submit(first, g));
    auto b = engine->wait(engine->submit(second, g));
    return std::make_pair(a, b);
  };
  auto [a_on, b_on] = run(true);
  auto [a_off, b_off] = run(false);
  CHECK(b_on.stats.cached_prompt_tokens == 192);  // 12 full blocks of 16
  CHECK(b_off.stats.cached_prompt_tokens == 0);
  CHECK(a_on.tokens == a_off.tokens);
  CHECK(b_on.tokens == b_off.tokens);
}

TEST_CASE("the single-request calls from several threads at once are batched and each get their output alone",
          "[engine][requests]") {
  const std::string path = (kGolden / "llama_f32/model.gguf").string();
  EngineOptions single;
  single.context = 256;
  single.kv_type = KvType::F32;
  auto reference = Engine::open(path, single);
  EngineOptions batched = single;
  batched.parallel = 4;
  auto engine = Engine::open(path, batched);
  const uint32_t V = engine->vocab_size();
  std::vector<std::vector<int32_t>> got(8);
  std::vector<std::thread> threads;
  for (uint32_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (uint32_t i = t; i < 8; i += 4) got[i] = alone(*engine, prompt_for(i, V), options_for(i));
    });
  }
  for (auto& th : threads) th.join();
  for (uint32_t i = 0; i < 8; ++i) {
    INFO("request " << i);
    CHECK(got[i] == alone(*reference, prompt_for(i, V), options_for(i)));
  }
  // A callback that returns false cancels: no token after it, blocks freed.
  std::vector<int32_t> cut;
  const GenerationStats st = engine->generate_ids(prompt_for(1, V), options_for(1), [&](int32_t t) {
    cut.push_back(t);
    return cut.size() < 3;
  });
  CHECK(cut.size() == 3);
  CHECK(st.stop_reason == "cancelled");
  CHECK(st.generated_tokens == 3);
  CHECK(engine->kv_stats().blocks_used == 0);
}

TEST_CASE("sampling from the device's best 64 logits draws what the whole row draws", "[engine][requests]") {
  // Requests of every kind, 4 at a time, through an engine that ranks each
  // row on the device and one that reads whole rows: the same tokens. The
  // default sampler and greedy ones go through the 64 best; penalties,
  // log-probabilities and no top-k cut read the whole row in both.
  const std::string path = (kGolden / "qwen3_f32/model.gguf").string();
  EngineOptions o = f32_engine(128, 4);
  o.device_top_k = false;
  auto rows = Engine::open(path, o);
  o.device_top_k = true;
  auto top = Engine::open(path, o);
  const uint32_t V = top->vocab_size();
  std::vector<GenerateOptions> kinds(7);
  kinds[1].sampling.temperature = 0.0f;
  kinds[2].sampling.top_k = 1;
  kinds[3].sampling.top_k = 63;
  kinds[3].sampling.temperature = 1.7f;
  kinds[4].sampling.repeat_penalty = 1.3f;
  kinds[5].logprobs = 3;
  kinds[6].sampling.top_k = 0;
  for (size_t k = 0; k < kinds.size(); ++k) {
    kinds[k].max_tokens = 24;
    kinds[k].ignore_eos = true;
    kinds[k].sampling.seed = 40 + k;
  }
  for (Engine* e : {rows.get(), top.get()}) {
    std::vector<RequestId> ids;
    for (uint32_t i = 0; i < 14; ++i) ids.push_back(e->submit(prompt_for(i, V), kinds[i % kinds.size()]));
    for (uint32_t i = 0; i < ids.size(); ++i) {
      const RequestResult r = e->wait(ids[i]);
      INFO("request " << i << " (kind " << i % kinds.size() << ")");
      REQUIRE(r.error.empty());
      CHECK(r.tokens == alone(*rows, prompt_for(i, V), kinds[i % kinds.size()]));
    }
  }
}
