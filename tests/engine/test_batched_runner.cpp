// Batch invariance of the model runner: 16 sequences of different lengths
// stepped together (prefill in one flat batch, then decode steps of all of
// them, with late arrivals whose prefill is mixed into decode steps) give
// each sequence what it gets alone.
//
// Tolerance: last-prompt-position logits within 1e-4 of the logit range
// (f32 KV). Alone and batched run the same per-token arithmetic except where
// a kernel's shape depends on the step (GEMM tiles vs matvec, decode splits),
// which reorders f32 sums: ~1e-6 relative. A mixed-up row, position or block
// table moves logits by a large fraction of the range. Greedy tokens must be
// identical.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "model/model_desc.h"
#include "runtime/engine/model_runner.h"
#include "runtime/scheduler/scheduler.h"
#include "runtime/sampler/sampler.h"
#include "runtime/vk/context.h"
#include "tests/golden_manifest.h"

using namespace vkmind;
using test::kGolden;

namespace {

constexpr uint32_t kSeqs = 16;
constexpr uint32_t kGenerate = 6;

std::vector<int32_t> prompt_for(uint32_t i, uint32_t vocab) {
  std::vector<int32_t> p(1 + (i * 7) % 29);  // 1..29 tokens
  for (size_t j = 0; j < p.size(); ++j) p[j] = int32_t((3 + i * 31 + j * 17) % vocab);
  return p;
}

struct Run {
  std::vector<float> prompt_logits;
  std::vector<int32_t> tokens;
};

float range_of(const std::vector<float>& v) {
  auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  return *hi - *lo;
}

}  // namespace

TEST_CASE("batched steps give every sequence its result alone", "[engine][batch]") {
  vk::Context ctx(vk::ContextOptions{"", vk::Instance::validation_layer_available()});
  const auto all = test::golden_checkpoints();
  REQUIRE(all.size() >= 20);
  for (const auto& cp : all) {
    const std::string& path = cp.path;
    DYNAMIC_SECTION(cp.name) {
      auto model = Model::open(path);
      RunnerOptions o;
      o.context = 256;  // also the step capacity: 12 prompts (184 tokens) in one step
      o.kv_type = KvType::F32;
      o.max_seqs = kSeqs;
      o.kv_blocks = kSeqs * 4;  // 16 tokens each: room for 64 tokens per sequence
      ModelRunner runner(ctx, *model, o);
      const uint32_t V = runner.vocab_size();

      std::vector<std::vector<int32_t>> prompts;
      for (uint32_t i = 0; i < kSeqs; ++i) prompts.push_back(prompt_for(i, V));

      std::vector<Run> alone(kSeqs);
      for (uint32_t i = 0; i < kSeqs; ++i) {
        auto out = runner.forward(i, prompts[i]);
        alone[i].prompt_logits.assign(out.begin(), out.end());
        int32_t next = argmax(out);
        for (uint32_t g = 0; g < kGenerate; ++g) {
          alone[i].tokens.push_back(next);
          next = argmax(runner.forward(i, std::span<const int32_t>(&next, 1)));
        }
        runner.release(i);
      }
      REQUIRE(runner.kv_stats().blocks_used == 0);

      // Sequences 0..11 start together; 12..15 join at decode step 2, their
      // whole prompts in the same step as the others' decode tokens.
      std::vector<Run> batched(kSeqs);
      std::vector<int32_t> last(kSeqs);
      std::vector<bool> started(kSeqs, false);
      for (uint32_t step = 0; step < kGenerate + 3; ++step) {
        std::vector<StepEntry> entries;
        std::vector<uint32_t> who;
        for (uint32_t i = 0; i < kSeqs; ++i) {
          const bool joins = !started[i] && (i < 12 ? step == 0 : step == 2);
          if (joins) {
            entries.push_back({i, prompts[i], Logits::Last});
          } else if (started[i] && batched[i].tokens.size() < kGenerate) {
            entries.push_back({i, std::span<const int32_t>(&last[i], 1), Logits::Last});
          } else {
            continue;
          }
          who.push_back(i);
        }
        if (entries.empty()) break;
        auto out = runner.step(entries);
        REQUIRE(out.size() == size_t(entries.size()) * V);
        for (size_t e = 0; e < who.size(); ++e) {
          const uint32_t i = who[e];
          std::span<const float> row = out.subspan(e * V, V);
          if (!started[i]) {
            batched[i].prompt_logits.assign(row.begin(), row.end());
            started[i] = true;
          }
          last[i] = argmax(row);
          batched[i].tokens.push_back(last[i]);
        }
      }
      for (uint32_t i = 0; i < kSeqs; ++i) {
        INFO("sequence " << i << " (" << prompts[i].size() << " prompt tokens)");
        CHECK(batched[i].tokens == alone[i].tokens);
        float worst = 0;
        for (size_t v = 0; v < V; ++v) {
          worst = std::max(worst, std::fabs(batched[i].prompt_logits[v] - alone[i].prompt_logits[v]));
        }
        CHECK(worst <= 1e-4f * range_of(alone[i].prompt_logits));
      }
      CHECK(ctx.instance().take_validation_messages().empty());
    }
  }
}

TEST_CASE("a step that does not fit changes no sequence", "[engine][batch]") {
  vk::Context ctx(vk::ContextOptions{});
  auto model = Model::open((kGolden / "llama_f32/model.gguf").string());
  RunnerOptions o;
  o.context = 64;
  o.max_seqs = 4;
  o.kv_blocks = 3;  // 48 tokens in all
  o.kv_block_size = 16;
  ModelRunner runner(ctx, *model, o);
  std::vector<int32_t> a(20, 5), b(20, 6), c(20, 7);
  runner.step(std::vector<StepEntry>{{0, a, Logits::Last}});
  // b needs 2 blocks, c 2 more: only 1 + 0 left after a's 2.
  CHECK_THROWS_WITH(runner.step(std::vector<StepEntry>{{1, b}, {2, c}}), Catch::Contains("KV cache is full"));
  CHECK(runner.sequence_length(0) == 20);
  CHECK(runner.sequence_length(1) == 0);
  CHECK(runner.sequence_length(2) == 0);
  CHECK(runner.kv_stats().blocks_used == 2);
  CHECK_THROWS_WITH(runner.step(std::vector<StepEntry>{{1, b}, {2, c}, {3, a}, {4, a}, {5, a}}),
                    Catch::Contains("5 sequences"));
  // What fits still runs.
  CHECK(runner.step(std::vector<StepEntry>{{1, std::span(b).first(10)}, {0, std::span(a).first(1)}}).size() ==
        2 * size_t(runner.vocab_size()));
  CHECK(runner.sequence_length(0) == 21);
  CHECK(runner.sequence_length(1) == 10);
}

namespace {

// Greedy generation of `n` tokens for each prompt, scheduled by continuous
// batching over the runner's own KV pool.
std::map<RequestId, std::vector<int32_t>> serve(ModelRunner& runner, const std::vector<std::vector<int32_t>>& prompts,
                                                uint32_t n, uint32_t batch_tokens, uint64_t* preemptions) {
  Scheduler sched(runner.blocks(), {.batch_tokens = std::min(batch_tokens, runner.step_tokens()),
                                    .max_running = runner.max_seqs(),
                                    .context = runner.context()});
  for (size_t i = 0; i < prompts.size(); ++i) sched.add(RequestId(i), prompts[i]);
  std::map<RequestId, std::vector<int32_t>> out;
  std::vector<StepEntry> entries;
  const uint32_t V = runner.vocab_size();
  for (int guard = 0; sched.has_work() && guard < 10000; ++guard) {
    const ScheduledStep& step = sched.schedule();
    REQUIRE(step.exhausted.empty());
    REQUIRE_FALSE(step.empty());
    entries.clear();
    for (const auto& e : step.entries) {
      const uint32_t start = uint32_t(e.tokens.data() - sched.tokens(e.id).data());
      entries.push_back({e.seq, e.tokens, e.samples ? Logits::Last : Logits::None, start});
    }
    auto logits = runner.step(entries);
    sched.complete_step();
    size_t row = 0;
    for (const auto& e : step.entries) {
      if (!e.samples) continue;
      const int32_t next = argmax(logits.subspan(row++ * V, V));
      auto& got = out[e.id];
      got.push_back(next);
      if (got.size() == n) sched.finish(e.id);
      else sched.append_token(e.id, next);
    }
  }
  *preemptions = sched.preemptions();
  return out;
}

}  // namespace

TEST_CASE("continuous batching with preemption: every request completes as it would alone", "[engine][batch]") {
  vk::Context ctx(vk::ContextOptions{"", vk::Instance::validation_layer_available()});
  for (const char* name : {"llama_f32/model.gguf", "minimind3_moe_f32/hf", "qwen3_f32/hf"}) {
    DYNAMIC_SECTION(name) {
      auto model = Model::open((kGolden / name).string());
      std::vector<std::vector<int32_t>> prompts;
      for (uint32_t i = 0; i < 10; ++i) prompts.push_back(prompt_for(i, model->desc().vocab));
      auto run_with = [&](uint32_t kv_blocks, uint32_t batch_tokens, uint64_t* preemptions) {
        RunnerOptions o;
        o.context = 256;
        o.kv_type = KvType::F32;
        o.max_seqs = 8;
        o.kv_blocks = kv_blocks;
        ModelRunner runner(ctx, *model, o);
        auto out = serve(runner, prompts, 12, batch_tokens, preemptions);
        CHECK(runner.kv_stats().blocks_used == 0);  // every block back
        return out;
      };
      uint64_t none = 0, some = 0;
      const auto roomy = run_with(64, 512, &none);
      CHECK(none == 0);
      // 6 blocks = 96 tokens for 10 requests of up to 41 tokens; 24-token steps chunk the prompts.
      const auto tight = run_with(6, 24, &some);
      CHECK(some > 0);
      CHECK(tight == roomy);
      // And each as it is alone.
      RunnerOptions o;
      o.context = 256;
      o.kv_type = KvType::F32;
      ModelRunner single(ctx, *model, o);
      for (size_t i = 0; i < prompts.size(); ++i) {
        std::vector<int32_t> alone;
        int32_t next = argmax(single.forward(0, prompts[i]));
        for (int g = 0; g < 12; ++g) {
          alone.push_back(next);
          next = argmax(single.forward(0, std::span<const int32_t>(&next, 1)));
        }
        single.release(0);
        INFO("request " << i);
        CHECK(roomy.at(RequestId(i)) == alone);
      }
      CHECK(ctx.instance().take_validation_messages().empty());
    }
  }
}

TEST_CASE("prefix cache: requests sharing a prefix reuse its blocks and give the same output", "[engine][batch]") {
  vk::Context ctx(vk::ContextOptions{"", vk::Instance::validation_layer_available()});
  for (const char* name : {"llama_f32/model.gguf", "qwen3_f32/hf"}) {
    DYNAMIC_SECTION(name) {
      auto model = Model::open((kGolden / name).string());
      const uint32_t V = model->desc().vocab;
      std::vector<int32_t> shared(70);
      for (size_t j = 0; j < shared.size(); ++j) shared[j] = int32_t((11 + j * 13) % V);
      std::vector<std::vector<int32_t>> first{shared}, rest;
      for (uint32_t i = 0; i < 5; ++i) {
        auto p = shared;
        for (uint32_t j = 0; j <= i; ++j) p.push_back(int32_t((5 + i * 7 + j) % V));
        rest.push_back(p);
      }
      auto run_with = [&](bool cache, KvStats* stats) {
        RunnerOptions o;
        o.context = 256;
        o.kv_type = KvType::F32;
        o.max_seqs = 8;
        o.kv_blocks = 64;
        o.prefix_cache = cache;
        ModelRunner runner(ctx, *model, o);
        uint64_t preemptions = 0;
        auto a = serve(runner, first, 8, 512, &preemptions);
        auto b = serve(runner, rest, 8, 512, &preemptions);  // after the first finished: its blocks are cached
        *stats = runner.kv_stats();
        std::vector<std::vector<int32_t>> out{a.at(0)};
        for (auto& [id, toks] : b) out.push_back(toks);
        return out;
      };
      KvStats on{}, off{};
      const auto with_cache = run_with(true, &on);
      const auto without = run_with(false, &off);
      CHECK(with_cache == without);
      // 4 full blocks of 16 of the 70 shared tokens, for each of the 5 later requests.
      CHECK(on.prefix_hit_tokens == 5 * 64);
      CHECK(off.prefix_hit_tokens == 0);
      CHECK(on.blocks_used == 0);
      CHECK(on.blocks_cached > 0);
      CHECK(ctx.instance().take_validation_messages().empty());
    }
  }
}

TEST_CASE("Logits::Top entries get their row's best logits, ranked, beside whole rows", "[engine][batch]") {
  vk::Context ctx(vk::ContextOptions{"", vk::Instance::validation_layer_available()});
  auto model = Model::open((kGolden / "qwen3_f32/model.gguf").string());
  RunnerOptions o;
  o.context = 64;
  o.max_seqs = 3;
  o.device_top_k = true;
  ModelRunner runner(ctx, *model, o);
  const uint32_t V = runner.vocab_size();
  REQUIRE(runner.top_count() == 64);
  const auto p0 = prompt_for(1, V), p1 = prompt_for(2, V), p2 = prompt_for(3, V);
  for (int step = 0; step < 2; ++step) {  // a prefill step, then a decode step
    std::vector<StepEntry> entries{{0, p0, Logits::Top}, {1, p1, Logits::Last}, {2, p2, Logits::Top}};
    if (step == 1) {
      for (auto& e : entries) e.tokens = e.tokens.first(1);
    }
    auto out = runner.step(entries);
    REQUIRE(out.size() == V);  // entry 1's row only
    std::vector<float> whole(out.begin(), out.end());
    for (uint32_t i = 0; i < 2; ++i) {
      INFO("step " << step << ", Top entry " << i);
      std::span<const float> row = runner.top_row(i);
      REQUIRE(row.size() == V);
      std::vector<TokenLogit> want(V);
      for (uint32_t v = 0; v < V; ++v) want[v] = {int32_t(v), row[v]};
      std::stable_sort(want.begin(), want.end(), [](auto& a, auto& b) { return a.logit > b.logit; });
      auto got = runner.top_logits(i);
      REQUIRE(got.size() == 64);
      for (size_t j = 0; j < got.size(); ++j) {
        REQUIRE(got[j].id == want[j].id);
        REQUIRE(got[j].logit == want[j].logit);
      }
      // Another sequence's row, not entry 1's again.
      CHECK_FALSE(std::equal(row.begin(), row.end(), whole.begin()));
    }
  }
  CHECK_THROWS_WITH(runner.top_logits(2), Catch::Contains("no Logits::Top entry 2"));
  CHECK(ctx.instance().take_validation_messages().empty());

  o.device_top_k = false;
  ModelRunner plain(ctx, *model, o);
  CHECK(plain.top_count() == 0);
  const StepEntry top{0, p0, Logits::Top};
  CHECK_THROWS_WITH(plain.step(std::span(&top, 1)), Catch::Contains("does not compute"));
}

TEST_CASE("prepare_steps creates every pipeline that steps of any size use", "[engine][batch]") {
  // Prefill of 3, 9, 40 and 64 tokens (a whole chunk), a step mixing a decode
  // and a prefill entry, decode batches of 1 to 4 sequences, and every row's
  // logits of a 20-token prompt: the pipelines each of these creates.
  auto pipelines_created_by_steps = [](vk::Context& ctx, ModelRunner& runner) {
    std::vector<int32_t> tokens(64);
    for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = int32_t((5 + i * 13) % runner.vocab_size());
    const std::span<const int32_t> t(tokens);
    const uint64_t before = ctx.device().created().pipelines;
    runner.step(std::vector<StepEntry>{{0, t.first(3)}});
    runner.step(std::vector<StepEntry>{{1, t.first(9)}});
    runner.step(std::vector<StepEntry>{{2, t.first(40)}});
    runner.step(std::vector<StepEntry>{{3, t}});
    runner.step(std::vector<StepEntry>{{0, t.first(1)}, {1, t.first(5)}});
    for (uint32_t n = 1; n <= 4; ++n) {
      std::vector<StepEntry> entries;
      for (uint32_t s = 0; s < n; ++s) entries.push_back({s, t.first(1)});
      runner.step(entries);
    }
    runner.step(std::vector<StepEntry>{{4, t.first(20), Logits::All}});
    return ctx.device().created().pipelines - before;
  };
  for (const char* path : {"qwen3_f16/model.gguf", "minimind3_moe_f16/hf"}) {  // dense and mixture of experts
    DYNAMIC_SECTION(path) {
      auto model = Model::open((kGolden / path).string());
      RunnerOptions o;
      o.context = 128;
      o.max_seqs = 5;
      o.prefill_chunk = 64;
      {
        vk::Context ctx(vk::ContextOptions{"", vk::Instance::validation_layer_available()});
        ModelRunner runner(ctx, *model, o);
        runner.prepare_steps();
        CHECK(pipelines_created_by_steps(ctx, runner) == 0);
        CHECK(ctx.instance().take_validation_messages().empty());
      }
      // What it saves: without it, those steps create pipelines.
      vk::Context ctx(vk::ContextOptions{""});
      ModelRunner runner(ctx, *model, o);
      CHECK(pipelines_created_by_steps(ctx, runner) > 0);
    }
  }
}
