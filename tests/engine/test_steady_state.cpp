// A warmed-up serving step allocates nothing: 16 sequences decoding with the
// prefix cache on (blocks fill up and get cached every 16 tokens) and full
// sampling (penalties, top-k/p, min-p), stepped by the scheduler, for 50 steps.
// Counted: this thread's heap allocations (operator new is replaced in this
// test program) and everything created on the Vulkan device (memory, buffer
// slices, pipelines, descriptor pools, buffer views, command buffers). Each
// case runs twice: with the validation layer (device counts, no messages) and
// without it for the heap count, since the layer itself allocates on the
// submitting thread to track every submission. The
// warm-up records the step's graph; after it every count must stay as it was.
// A step that reallocated a vector, recorded a graph or created a pipeline
// moves a count, so the test fails on exactly what it is meant to catch.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <map>
#include <new>

#include "model/model_desc.h"
#include "runtime/engine/model_runner.h"
#include "runtime/sampler/sampler.h"
#include "runtime/scheduler/scheduler.h"
#include "runtime/vk/context.h"
#include "tests/golden_manifest.h"

namespace {
// Only the test's own thread counts: the driver's worker threads are not ours.
thread_local uint64_t heap_allocations = 0;
}  // namespace

void* operator new(std::size_t n) {
  ++heap_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  ++heap_allocations;
  const std::size_t align = std::size_t(a);
  if (void* p = std::aligned_alloc(align, (n + align - 1) / align * align)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

using namespace vkmind;
using test::kGolden;

TEST_CASE("50 decode steps of 16 sequences after warm-up allocate and create nothing", "[engine][batch]") {
  for (const bool validate : {true, false})
  for (const char* name : {"llama_f32/model.gguf", "minimind3_moe_f32/hf"}) {
    DYNAMIC_SECTION(name << (validate ? ", validated" : ", heap counted")) {
      vk::Context ctx(vk::ContextOptions{"", validate && vk::Instance::validation_layer_available()});
      constexpr uint32_t kSeqs = 16;
      auto model = Model::open((kGolden / name).string());
      RunnerOptions o;
      o.context = 256;
      o.max_seqs = kSeqs;
      o.prefix_cache = true;
      ModelRunner runner(ctx, *model, o);
      Scheduler sched(runner.blocks(), {.batch_tokens = runner.step_tokens(), .max_running = kSeqs,
                                        .context = runner.context()});
      const uint32_t V = runner.vocab_size();
      std::map<RequestId, Sampler> samplers;
      for (uint32_t i = 0; i < kSeqs; ++i) {
        std::vector<int32_t> prompt(1 + (i * 7) % 29);
        for (size_t j = 0; j < prompt.size(); ++j) prompt[j] = int32_t((3 + i * 31 + j * 17) % V);
        sched.add(i, prompt);
        SamplingParams p;
        p.repeat_penalty = 1.1f;
        p.frequency_penalty = 0.1f;
        p.seed = i;
        samplers.emplace(i, Sampler(p));
      }
      std::vector<StepEntry> entries;
      entries.reserve(kSeqs);
      uint32_t full_decode_steps = 0;
      // One scheduled step, the way the engine's request loop runs it.
      auto step = [&] {
        const ScheduledStep& s = sched.schedule();
        entries.clear();
        bool all_decode = s.entries.size() == kSeqs;
        for (const ScheduledEntry& e : s.entries) {
          const uint32_t start = uint32_t(e.tokens.data() - sched.tokens(e.id).data());
          entries.push_back({e.seq, e.tokens, e.samples ? Logits::Last : Logits::None, start});
          all_decode = all_decode && e.tokens.size() == 1;
        }
        const auto logits = runner.step(entries);
        sched.complete_step();
        size_t row = 0;
        for (const ScheduledEntry& e : s.entries) {
          if (!e.samples) continue;
          const int32_t next = samplers.find(e.id)->second.sample(logits.subspan(row++ * V, V), sched.tokens(e.id));
          sched.append_token(e.id, next);
        }
        return all_decode;
      };
      for (int guard = 0; full_decode_steps < 4 && guard < 100; ++guard) full_decode_steps += step();
      REQUIRE(full_decode_steps == 4);  // every sequence decodes; the 16-token decode graph is recorded

      const vk::CreationCounts device_before = ctx.device().created();
      const KvStats kv_before = runner.kv_stats();
      const uint64_t heap_before = heap_allocations;
      uint32_t decode_steps = 0;
      for (int i = 0; i < 50; ++i) decode_steps += step();
      const uint64_t heap_after = heap_allocations;
      const vk::CreationCounts device_after = ctx.device().created();

      CHECK(decode_steps == 50);
      if (!validate) CHECK(heap_after - heap_before == 0);
      CHECK(device_after.memory_allocations == device_before.memory_allocations);
      CHECK(device_after.buffer_slices == device_before.buffer_slices);
      CHECK(device_after.pipelines == device_before.pipelines);
      CHECK(device_after.descriptor_pools == device_before.descriptor_pools);
      CHECK(device_after.buffer_views == device_before.buffer_views);
      CHECK(device_after.command_buffers == device_before.command_buffers);
      // The window did what it claims: blocks filled and went into the prefix cache.
      CHECK(runner.kv_stats().blocks_cached + runner.kv_stats().blocks_used > kv_before.blocks_used);
      CHECK(ctx.instance().take_validation_messages().empty());
    }
  }
}

TEST_CASE("the counters see what a step shape's first run creates", "[engine][batch]") {
  // The test above is only as good as its counters: a first 3-sequence step
  // records a graph (descriptor pool, command buffer) and grows vectors.
  vk::Context ctx(vk::ContextOptions{"", vk::Instance::validation_layer_available()});
  auto model = Model::open((kGolden / "llama_f32/model.gguf").string());
  RunnerOptions o;
  o.context = 64;
  o.max_seqs = 4;
  ModelRunner runner(ctx, *model, o);
  const int32_t tokens[3] = {1, 2, 3};
  const vk::CreationCounts before = ctx.device().created();
  const uint64_t heap_before = heap_allocations;
  const StepEntry entries[3] = {{0, std::span(tokens, 1)}, {1, std::span(tokens + 1, 1)}, {2, std::span(tokens + 2, 1)}};
  runner.step(entries);
  const uint64_t heap_after = heap_allocations;
  const vk::CreationCounts after = ctx.device().created();
  CHECK(heap_after > heap_before);
  CHECK(after.descriptor_pools > before.descriptor_pools);
  CHECK(after.command_buffers > before.command_buffers);
}
