// The continuous-batching scheduler on its own (no device): budgets, chunked
// prefill, admission by free blocks, preemption, cancellation. A fake model
// "samples" token = position so every request's expected output is known.
#include <catch2/catch.hpp>

#include <map>
#include <numeric>

#include "runtime/scheduler/scheduler.h"

using namespace vkmind;

namespace {

std::vector<int32_t> prompt(size_t n, int32_t first = 100) {
  std::vector<int32_t> p(n);
  std::iota(p.begin(), p.end(), first);
  return p;
}

// Runs steps until every request has `max_new` tokens; the "model" answers
// each sampling entry with the sequence length so far (deterministic, and
// it exposes a recompute that lost or duplicated a token).
struct Driver {
  BlockManager blocks;
  Scheduler sched;
  std::map<RequestId, std::vector<int32_t>> out;
  std::map<RequestId, uint32_t> max_new;
  std::vector<ScheduledStep> steps;

  Driver(uint32_t num_blocks, SchedulerOptions o, bool prefix_cache = false)
      : blocks(num_blocks, 16, prefix_cache), sched(blocks, o) {}

  void add(RequestId id, std::vector<int32_t> p, uint32_t n) {
    sched.add(id, std::move(p));
    max_new[id] = n;
  }

  void run(int max_steps = 10000) {
    for (int i = 0; i < max_steps && sched.has_work(); ++i) {
      const ScheduledStep& step = sched.schedule();
      steps.push_back(step);
      REQUIRE_FALSE(step.empty());
      for (const auto& e : step.entries) {
        REQUIRE(blocks.length(e.seq) >= e.tokens.size());  // blocks reserved before the step
      }
      sched.complete_step();
      for (const auto& e : step.entries) {
        if (!e.samples) continue;
        const int32_t token = int32_t(sched.tokens(e.id).size());
        auto& got = out[e.id];
        got.push_back(token);
        if (got.size() >= max_new[e.id]) {
          sched.finish(e.id);
        } else {
          sched.append_token(e.id, token);
        }
      }
    }
  }
};

}  // namespace

TEST_CASE("scheduler: decode tokens first, then prefill chunks, within the token budget", "[scheduler]") {
  Driver d(64, {.batch_tokens = 32, .max_running = 4, .context = 256});
  d.add(1, prompt(10), 5);
  d.add(2, prompt(50), 5);
  const ScheduledStep& first = d.sched.schedule();
  REQUIRE(first.entries.size() == 2);
  CHECK(first.entries[0].tokens.size() == 10);
  CHECK(first.entries[0].samples);
  CHECK(first.entries[1].tokens.size() == 22);  // the rest of the budget
  CHECK_FALSE(first.entries[1].samples);
  d.sched.complete_step();
  d.sched.append_token(1, 7);
  const ScheduledStep& second = d.sched.schedule();
  REQUIRE(second.entries.size() == 2);
  CHECK(second.entries[0].id == 1);  // the decode token comes first
  CHECK(second.entries[0].tokens.size() == 1);
  CHECK(second.entries[0].tokens[0] == 7);
  CHECK(second.entries[1].tokens.size() == 28);  // request 2's remaining prompt
  CHECK(second.entries[1].samples);
  CHECK(second.tokens == 29);
}

TEST_CASE("scheduler: at most max_running run, the rest wait first come first served", "[scheduler]") {
  Driver d(256, {.batch_tokens = 512, .max_running = 3, .context = 256});
  for (RequestId id = 1; id <= 7; ++id) d.add(id, prompt(5 + id), 4);
  const ScheduledStep& s = d.sched.schedule();
  CHECK(s.entries.size() == 3);
  CHECK(s.entries[0].id == 1);
  CHECK(s.entries[2].id == 3);
  CHECK(d.sched.waiting() == 4);
  d.sched.complete_step();
  for (auto& e : s.entries) d.sched.append_token(e.id, 1);
  d.run();
  for (RequestId id = 1; id <= 7; ++id) CHECK(d.out[id].size() == 4);
  for (const auto& step : d.steps) CHECK(step.entries.size() <= 3);
  CHECK(d.blocks.free_blocks() == 256);
}

TEST_CASE("scheduler: admission waits for blocks for the whole prompt", "[scheduler]") {
  Driver d(4, {.batch_tokens = 512, .max_running = 8, .context = 256});  // 64 tokens in all
  d.add(1, prompt(40), 2);  // 3 blocks
  d.add(2, prompt(20), 2);  // 2 blocks: must wait for 1 to finish
  const ScheduledStep& s = d.sched.schedule();
  REQUIRE(s.entries.size() == 1);
  CHECK(d.sched.waiting() == 1);
  d.sched.complete_step();
  d.sched.append_token(1, 1);
  d.run();
  CHECK(d.out[1].size() == 2);
  CHECK(d.out[2].size() == 2);
  CHECK(d.blocks.free_blocks() == 4);
}

TEST_CASE("scheduler: a pool that runs dry preempts the latest request, which completes unchanged", "[scheduler]") {
  // Unconstrained: every request's tokens.
  auto run_all = [](uint32_t blocks) {
    Driver d(blocks, {.batch_tokens = 64, .max_running = 8, .context = 512});
    for (RequestId id = 1; id <= 6; ++id) d.add(id, prompt(10 + 3 * id, int32_t(id) * 1000), 40);
    d.run();
    return std::make_pair(d.out, d.sched.preemptions());
  };
  auto [free_out, free_preempt] = run_all(256);
  CHECK(free_preempt == 0);
  auto [tight_out, tight_preempt] = run_all(9);  // 144 tokens for 6 requests of ~60: preemption
  CHECK(tight_preempt > 0);
  CHECK(tight_out == free_out);
  for (auto& [id, toks] : tight_out) CHECK(toks.size() == 40);
}

TEST_CASE("scheduler: cancel frees blocks at once, wherever the request is", "[scheduler]") {
  Driver d(16, {.batch_tokens = 512, .max_running = 1, .context = 256});
  d.add(1, prompt(30), 10);
  d.add(2, prompt(30), 10);
  d.sched.schedule();
  d.sched.complete_step();
  CHECK(d.blocks.free_blocks() == 14);
  d.sched.cancel(1);
  CHECK(d.blocks.free_blocks() == 16);
  CHECK(d.sched.running() == 0);
  d.sched.cancel(2);  // still waiting
  CHECK_FALSE(d.sched.has_work());
  CHECK(d.sched.schedule().empty());
}

TEST_CASE("scheduler: requests that can never run are refused, not queued", "[scheduler]") {
  BlockManager blocks(4, 16);
  Scheduler s(blocks, {.batch_tokens = 512, .max_running = 4, .context = 100});
  CHECK_THROWS_WITH(s.add(1, {}), Catch::Contains("empty"));
  CHECK_THROWS_WITH(s.add(2, prompt(100)), Catch::Contains("context of 100"));
  CHECK_THROWS_WITH(s.add(3, prompt(64)), Catch::Contains("the whole pool has 4"));
  CHECK_FALSE(s.has_work());
}

TEST_CASE("scheduler: a request that fills the whole pool is reported exhausted, not requeued forever", "[scheduler]") {
  Driver d(2, {.batch_tokens = 512, .max_running = 2, .context = 512});  // 32 tokens
  d.add(1, prompt(20), 1000);
  bool exhausted = false;
  for (int i = 0; i < 100 && d.sched.has_work(); ++i) {
    const ScheduledStep& step = d.sched.schedule();
    for (RequestId id : step.exhausted) exhausted |= id == 1;
    d.sched.complete_step();
    for (const auto& e : step.entries) {
      if (e.samples) d.sched.append_token(e.id, 5);
    }
  }
  CHECK(exhausted);
  CHECK_FALSE(d.sched.has_work());
  CHECK(d.blocks.free_blocks() == 2);
}

TEST_CASE("scheduler: a request sharing a 200-token prefix computes only its remainder", "[scheduler]") {
  auto run_pair = [](bool cache, uint32_t* cached, uint32_t* computed_second) {
    Driver d(64, {.batch_tokens = 512, .max_running = 4, .context = 512}, cache);
    auto first = prompt(230), second = prompt(230);
    second.resize(200);
    for (int i = 0; i < 20; ++i) second.push_back(7000 + i);  // shares the first 200 tokens
    d.add(1, first, 5);
    d.run();
    d.add(2, second, 5);
    const ScheduledStep& s = d.sched.schedule();
    REQUIRE(s.entries.size() == 1);
    *computed_second = uint32_t(s.entries[0].tokens.size());
    *cached = d.sched.cached_tokens(2);
    d.sched.complete_step();
    d.sched.append_token(2, int32_t(d.sched.tokens(2).size()));
    d.out[2].push_back(int32_t(d.sched.tokens(2).size()) - 1);
    d.run();
    return d.out;
  };
  uint32_t cached_on = 0, computed_on = 0, cached_off = 0, computed_off = 0;
  const auto on = run_pair(true, &cached_on, &computed_on);
  const auto off = run_pair(false, &cached_off, &computed_off);
  CHECK(cached_on == 192);  // 12 full blocks of 16 inside the shared 200 tokens
  CHECK(computed_on == 220 - 192);
  CHECK(cached_off == 0);
  CHECK(computed_off == 220);
  CHECK(on == off);
}
