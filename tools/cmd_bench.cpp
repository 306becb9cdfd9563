// `vkmind bench`: prompt processing (prefill) and generation (decode) speed,
// measured on synthetic token ids so that every run does the same work.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "tools/commands.h"
#include "tools/engine_flags.h"

namespace vkmind::cli {

namespace {

struct BenchFlags {
  ModelFlags model;
  uint32_t prompt_tokens = 128;
  int32_t gen_tokens = 64;
  int repetitions = 3;
};

struct Sample {
  double prefill_tps, decode_tps;
};

void run(BenchFlags& f) {
  auto engine = open_engine(f.model);
  // Ids from the middle of the vocabulary: ordinary tokens, never control ones.
  std::vector<int32_t> prompt(f.prompt_tokens);
  const uint32_t vocab = engine->vocab_size();
  for (uint32_t i = 0; i < f.prompt_tokens; ++i) prompt[i] = int32_t(vocab / 4 + (i * 7919) % (vocab / 2));
  GenerateOptions gen;
  gen.sampling.temperature = 0;
  gen.max_tokens = f.gen_tokens;
  gen.ignore_eos = true;

  std::fprintf(stderr, "bench: %s\nbench: warm-up (graphs and pipelines)...\n", engine->description().c_str());
  engine->generate_ids(prompt, gen, [](int32_t) { return true; });

  std::vector<Sample> samples;
  for (int r = 0; r < f.repetitions; ++r) {
    auto stats = engine->generate_ids(prompt, gen, [](int32_t) { return true; });
    samples.push_back({stats.prefill_tokens_per_s, stats.decode_tokens_per_s});
    std::fprintf(stderr, "bench: run %d: prefill %.1f tokens/s, decode %.1f tokens/s\n", r + 1,
                 stats.prefill_tokens_per_s, stats.decode_tokens_per_s);
  }
  auto median = [&](auto field) {
    std::vector<double> v;
    for (const auto& s : samples) v.push_back(s.*field);
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("| model | device | test | tokens/s (median of %d) |\n|---|---|---|---|\n", f.repetitions);
  std::printf("| %s | %s | pp%u | %.1f |\n", f.model.model.c_str(), engine->description().c_str(), f.prompt_tokens,
              median(&Sample::prefill_tps));
  std::printf("| %s | %s | tg%d | %.1f |\n", f.model.model.c_str(), engine->description().c_str(), f.gen_tokens,
              median(&Sample::decode_tps));
  const std::string profile = engine->profile_report();
  if (!profile.empty()) std::printf("\nGPU time of one decode step by kernel (VKMIND_PROFILE=1):\n%s", profile.c_str());
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto f = std::make_shared<BenchFlags>();
  auto* cmd = app.add_subcommand("bench", "Measure prefill and decode speed (tokens/s)");
  add_model_flags(*cmd, f->model);
  cmd->add_option("--prompt-tokens,-p", f->prompt_tokens, "Prompt length for the prefill test")->check(CLI::Range(1u, 65536u));
  cmd->add_option("--gen-tokens,-n", f->gen_tokens, "Tokens generated for the decode test")->check(CLI::Range(2, 65536));
  cmd->add_option("--repetitions,-r", f->repetitions, "Measured runs (after one warm-up)")->check(CLI::Range(1, 100));
  cmd->callback([f] { run(*f); });
}

}  // namespace vkmind::cli
