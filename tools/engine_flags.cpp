#include "tools/engine_flags.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>

#include <unistd.h>

#include "model/tokenizer/chat_template.h"
#include "runtime/vk/instance.h"
#include "tools/exit_code.h"
#include "tools/model_source.h"

namespace vkmind::cli {

namespace {

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

CLI::Validator number_in(double lo, double hi) {
  const std::string range = "a number from " + format_number(lo) + " to " + format_number(hi);
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        if (text.empty() || *end != '\0' || !std::isfinite(v) || v < lo || v > hi) {
          return "'" + text + "' is not " + range;
        }
        return "";
      },
      format_number(lo) + ".." + format_number(hi));
}

CLI::Validator integer_in(long long lo, long long hi) {
  const std::string range = "an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        char* end = nullptr;
        errno = 0;
        const long long v = std::strtoll(text.c_str(), &end, 10);
        if (text.empty() || *end != '\0' || errno == ERANGE || v < lo || v > hi) return "'" + text + "' is not " + range;
        return "";
      },
      std::to_string(lo) + ".." + std::to_string(hi));
}

void add_model_flags(CLI::App& cmd, ModelFlags& f, bool short_device) {
  cmd.add_option("--model,-m", f.model, "Model: a .gguf file, a Hugging Face folder, or hf:ORG/REPO[:QUANT] from the Hub")
      ->required()
      ->check(model_path_or_hub());
  add_offline_flag(cmd, f.offline);
  cmd.add_option(short_device ? "--device,-d" : "--device", f.engine.device, "Device index or name substring (default: $VKMIND_DEVICE, else the best GPU)");
  cmd.add_option("--ctx,-c", f.engine.context, "Context length in tokens (0: the model's, at most 4096)")
      ->check(integer_in(0, INT32_MAX));
  cmd.add_option("--kv-type", f.kv_type, "KV cache element type")->check(CLI::IsMember({"f16", "f32"}));
  cmd.add_option("--kv-block", f.engine.kv_block_size, "KV cache block size in tokens")
      ->check(CLI::IsMember({8u, 16u, 32u}));
  cmd.add_option("--kv-blocks", f.engine.kv_blocks, "KV cache blocks (0: enough for the context)")
      ->check(integer_in(0, INT32_MAX));
  cmd.add_option("--chunk", f.engine.prefill_chunk, "Prompt tokens per prefill step")->check(integer_in(1, 8192));
  cmd.add_flag("--no-repack", [&f](int64_t) { f.engine.repack = false; },
               "CPU devices: read float weights in place from the model file (faster load) instead of "
               "repacking them into tiles (faster decode)");
  cmd.add_option_function<std::string>(
         "--device-top-k",
         [&f](const std::string& v) { f.engine.device_top_k = v == "auto" ? std::nullopt : std::optional<bool>(v == "on"); },
         "Rank each step's 64 best logits on the device, so that sampling reads those instead of the whole "
         "vocabulary (auto: on for GPUs, off on CPU devices)")
      ->check(CLI::IsMember({"auto", "on", "off"}));
  cmd.add_flag("--validate", f.engine.validation,
               "Enable the Khronos validation layer: its messages go to stderr and fail the command");
}

void add_batching_flags(CLI::App& cmd, ModelFlags& f) {
  cmd.add_option("--parallel", f.engine.parallel, "Sequences generated at once")->check(integer_in(1, 64));
  cmd.add_option("--batch-tokens", f.engine.batch_tokens, "Tokens per step, decode and prefill together")
      ->check(integer_in(1, 8192));
  cmd.add_flag("--no-prefix-cache", [&f](int64_t) { f.engine.prefix_cache = false; },
               "Do not reuse the KV blocks of prompt prefixes");
}

CLI::Option* add_chat_template_flag(CLI::App& cmd, ModelFlags& f) {
  return cmd.add_option("--chat-template", f.chat_template,
                 "Chat template: " + tok::chat_template_names() + ", or a Jinja template file (default: the model's)")
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            std::error_code ec;
            if (tok::chat_template_by_name(v) || std::filesystem::is_regular_file(v, ec)) return "";
            return "'" + v + "' is neither a template name (" + tok::chat_template_names() + ") nor a file";
          },
          "NAME|FILE"));
}

void add_generation_flags(CLI::App& cmd, GenerationFlags& f) {
  SamplingParams& s = f.generate.sampling;
  cmd.add_option("-n,--n-predict", f.generate.max_tokens, "Tokens to generate at most (-1: until a stop)")
      ->check(integer_in(-1, INT32_MAX));
  cmd.add_option("--temp", s.temperature, "Temperature (0: greedy)")->check(number_in(0, 100));
  cmd.add_option("--top-k", s.top_k, "Keep the k most likely tokens (0: off)")->check(integer_in(0, INT32_MAX));
  cmd.add_option("--top-p", s.top_p, "Nucleus sampling threshold (1: off)")->check(number_in(0, 1));
  cmd.add_option("--min-p", s.min_p, "Drop tokens below min-p times the best probability (0: off)")
      ->check(number_in(0, 1));
  cmd.add_option("--repeat-penalty", s.repeat_penalty, "Repetition penalty (1: off)")->check(number_in(1e-6, 100));
  cmd.add_option("--frequency-penalty", s.frequency_penalty, "Frequency penalty (0: off)")->check(number_in(-2, 2));
  cmd.add_option("--presence-penalty", s.presence_penalty, "Presence penalty (0: off)")->check(number_in(-2, 2));
  cmd.add_option("--repeat-last-n", s.penalty_last_n, "Tokens the penalties look back at (-1: all, 0: off)")
      ->check(integer_in(-1, INT32_MAX));
  cmd.add_option("--seed,-s", f.seed, "Random seed (-1: a random one, printed with the statistics)")
      ->check(integer_in(-1, INT64_MAX));
  cmd.add_option("--stop", f.generate.stop, "Stop string (repeatable)");
  auto* bos = cmd.add_flag("--bos", f.bos, "Add the BOS token although the model says not to");
  cmd.add_flag("--no-bos", f.no_bos, "Do not add the BOS token although the model says to")->excludes(bos);
  cmd.add_flag("--ignore-eos", f.generate.ignore_eos, "Keep generating past end-of-sequence tokens (benchmarks)");
  auto* verbose = cmd.add_flag("--verbose,-v", f.verbose, "Print load time and the effective settings at start");
  cmd.add_flag("--quiet,-q", f.quiet, "No statistics, no settings")->excludes(verbose);
}

std::unique_ptr<Engine> open_engine(ModelFlags& f) {
  f.engine.kv_type = f.kv_type == "f32" ? KvType::F32 : KvType::F16;
  f.engine.print_validation = f.engine.validation;
  if (f.engine.validation && !vk::Instance::validation_layer_available()) {
    std::fprintf(stderr, "vkmind: warning: --validate: VK_LAYER_KHRONOS_validation is not installed "
                         "(Debian: vulkan-validationlayers); running without it\n");
  }
  if (!f.chat_template.empty() && !tok::chat_template_by_name(f.chat_template)) {
    f.engine.chat_template = read_text_source(f.chat_template);
  } else {
    f.engine.chat_template = f.chat_template;
  }
  // Once, here: every subcommand that opens an engine takes hf: names.
  f.model = resolve_model_source(f.model, f.offline);
  return Engine::open(f.model, f.engine);
}

void resolve_generation(GenerationFlags& f, const Engine& engine) {
  if (f.bos) f.generate.add_bos = true;
  if (f.no_bos) f.generate.add_bos = false;
  if (!f.generate.add_bos) f.generate.add_bos = engine.default_add_bos();
  if (f.seed < 0) {
    std::random_device device;
    f.generate.sampling.seed = device();  // 32 bits, as llama.cpp's seeds: easy to retype
  } else {
    f.generate.sampling.seed = uint64_t(f.seed);
  }
  if (f.generate.sampling.penalty_last_n < 0) f.generate.sampling.penalty_last_n = int32_t(engine.context_length());
}

void print_settings(const Engine& engine, const ModelFlags& model, const GenerationFlags& g) {
  if (!g.verbose) return;
  const SamplingParams& s = g.generate.sampling;
  std::fprintf(stderr,
               "[vkmind] %s; loaded in %.0f ms (%s)\n"
               "[vkmind] context %u tokens (KV cache holds %u, %s, blocks of %u); chat template %s; BOS %s\n"
               "[vkmind] sampling: temp %g, top-k %d, top-p %g, min-p %g, repeat-penalty %g (last %d), "
               "frequency %g, presence %g, seed %llu; at most %d tokens\n",
               engine.description().c_str(), engine.load_ms(), engine.load_report().c_str(), engine.context_length(), engine.token_capacity(),
               model.kv_type.c_str(), model.engine.kv_block_size, engine.chat_template_name().c_str(),
               g.generate.add_bos.value_or(true) ? "on" : "off", s.temperature, s.top_k, s.top_p, s.min_p,
               s.repeat_penalty, s.penalty_last_n, s.frequency_penalty, s.presence_penalty,
               (unsigned long long)s.seed, g.generate.max_tokens);
}

void print_stats(const GenerationStats& s, const GenerationFlags& g) {
  if (g.quiet) return;
  std::string decode = "n/a";
  if (s.decode_tokens_per_s > 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", s.decode_tokens_per_s);
    decode = buf;
  }
  std::fprintf(stderr,
               "\n[vkmind] prompt %u tokens (%u cached, %u computed at %.1f tokens/s), first token after %.1f ms; "
               "generated %u tokens, %s tokens/s decode; seed %llu; stopped: %s\n",
               s.prompt_tokens, s.cached_prompt_tokens, s.prompt_tokens - s.cached_prompt_tokens,
               s.prefill_tokens_per_s, s.time_to_first_token_ms, s.generated_tokens, decode.c_str(),
               (unsigned long long)s.seed, s.stop_reason.c_str());
}

void finish(Engine& engine, const ModelFlags& f) {
  if (!f.engine.validation) return;
  const auto messages = engine.take_validation_messages();
  if (messages.empty()) return;
  std::fprintf(stderr, "vkmind: error: the validation layer reported %zu message%s (above)\n", messages.size(),
               messages.size() == 1 ? "" : "s");
  throw ExitCode{1};
}

std::string read_text_source(const std::string& file) {
  if (file == "-") return {std::istreambuf_iterator<char>(std::cin), {}};
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) throw std::runtime_error(file + ": is a folder, not a text file");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error(file + ": cannot be read");
  std::string text{std::istreambuf_iterator<char>(in), {}};
  if (in.bad()) throw std::runtime_error(file + ": read error");
  return text;
}

bool stdin_is_piped() { return !::isatty(STDIN_FILENO); }

std::string model_name(const std::string& path) {
  std::filesystem::path p(path);
  if (!p.has_filename()) p = p.parent_path();  // "folder/"
  // A pulled Hugging Face folder is .../models--ORG--REPO/snapshots/COMMIT: it goes by REPO.
  const std::string repo_folder = p.parent_path().parent_path().filename().string();
  if (p.parent_path().filename() == "snapshots" && repo_folder.rfind("models--", 0) == 0) {
    return repo_folder.substr(repo_folder.rfind("--") + 2);
  }
  return p.filename().string();
}

}  // namespace vkmind::cli
