#include "tools/engine_flags.h"

#include <cstdio>

namespace vkmind::cli {

void add_model_flags(CLI::App& cmd, ModelFlags& f) {
  cmd.add_option("--model,-m", f.model, "Model: a .gguf file or a Hugging Face folder")->required();
  cmd.add_option("--device,-d", f.engine.device, "Device index or name substring (default: $VKMIND_DEVICE, else the best GPU)");
  cmd.add_option("--ctx,-c", f.engine.context, "Context length in tokens (default: the model's, at most 4096)");
  cmd.add_option("--kv-type", f.kv_type, "KV cache element type")->check(CLI::IsMember({"f16", "f32"}));
  cmd.add_option("--kv-block", f.engine.kv_block_size, "KV cache block size in tokens")
      ->check(CLI::IsMember({8u, 16u, 32u}));
  cmd.add_option("--kv-blocks", f.engine.kv_blocks, "KV cache blocks (default: enough for the context)");
  cmd.add_option("--chunk", f.engine.prefill_chunk, "Prompt tokens per prefill step")->check(CLI::Range(1u, 8192u));
  cmd.add_flag("--validate", f.engine.validation, "Enable the Khronos validation layer");
}

void add_sampling_flags(CLI::App& cmd, SamplingFlags& f) {
  SamplingParams& s = f.generate.sampling;
  cmd.add_option("-n,--n-predict", f.generate.max_tokens, "Tokens to generate at most (-1: until a stop)");
  cmd.add_option("--temp", s.temperature, "Temperature (0: greedy)")->check(CLI::NonNegativeNumber);
  cmd.add_option("--top-k", s.top_k, "Keep the k most likely tokens (0: off)");
  cmd.add_option("--top-p", s.top_p, "Nucleus sampling threshold (1: off)")->check(CLI::Range(0.0f, 1.0f));
  cmd.add_option("--min-p", s.min_p, "Drop tokens below min-p times the best probability (0: off)")
      ->check(CLI::Range(0.0f, 1.0f));
  cmd.add_option("--repeat-penalty", s.repeat_penalty, "Repetition penalty (1: off)");
  cmd.add_option("--frequency-penalty", s.frequency_penalty, "Frequency penalty");
  cmd.add_option("--presence-penalty", s.presence_penalty, "Presence penalty");
  cmd.add_option("--repeat-last-n", s.penalty_last_n, "Tokens the penalties look back at");
  cmd.add_option("--seed", s.seed, "Random seed");
  cmd.add_option("--stop", f.generate.stop, "Stop string (repeatable)");
  cmd.add_flag("--no-bos", f.no_bos, "Do not add the BOS token");
  cmd.add_flag("--ignore-eos", f.generate.ignore_eos, "Keep generating past end-of-sequence tokens (benchmarks)");
}

std::unique_ptr<Engine> open_engine(ModelFlags& f) {
  f.engine.kv_type = f.kv_type == "f32" ? KvType::F32 : KvType::F16;
  return Engine::open(f.model, f.engine);
}

void print_stats(const GenerationStats& s) {
  std::fprintf(stderr,
               "\n[vkmind] prompt %u tokens, %.1f tokens/s prefill, first token after %.1f ms; "
               "generated %u tokens, %.1f tokens/s decode; stopped: %s\n",
               s.prompt_tokens, s.prefill_tokens_per_s, s.time_to_first_token_ms, s.generated_tokens,
               s.decode_tokens_per_s, s.stop_reason.c_str());
}

}  // namespace vkmind::cli
