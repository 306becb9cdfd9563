// Command-line flags shared by the subcommands that load a model and those
// that generate, with the checks that make bad values usage errors.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "include/vkmind/engine.h"

namespace vkmind::cli {

struct ModelFlags {
  std::string model;
  std::string kv_type = "f16";
  std::string chat_template;  // a name or a template file (run, chat)
  bool offline = false;       // --offline: hf: models from the Hub cache only
  EngineOptions engine;
};

struct GenerationFlags {
  GenerateOptions generate;
  int64_t seed = -1;  // -1: a random seed, printed with the statistics
  bool bos = false, no_bos = false;
  bool verbose = false, quiet = false;
};

// A number flag's range, checked before conversion so NaN, infinities and
// out-of-range values get one readable line ("--temp: ... from 0 to 100").
CLI::Validator number_in(double lo, double hi);
CLI::Validator integer_in(long long lo, long long hi);

// `short_device`: -d for --device (bench keeps -d for its depth, as llama-bench).
void add_model_flags(CLI::App& cmd, ModelFlags& flags, bool short_device = true);
CLI::Option* add_chat_template_flag(CLI::App& cmd, ModelFlags& flags);
// --parallel, --batch-tokens, --no-prefix-cache (batch, serve).
void add_batching_flags(CLI::App& cmd, ModelFlags& flags);
void add_generation_flags(CLI::App& cmd, GenerationFlags& flags);

// Opens the engine from the flags; with --validate, messages are printed as they come.
std::unique_ptr<Engine> open_engine(ModelFlags& flags);
// Settles what the flags leave to the model or to chance: BOS, the seed.
void resolve_generation(GenerationFlags& flags, const Engine& engine);
// --verbose: load time, context, cache and sampling settings, once at start.
void print_settings(const Engine& engine, const ModelFlags& model, const GenerationFlags& gen);
// Generation statistics on stderr (nothing with --quiet).
void print_stats(const GenerationStats& stats, const GenerationFlags& gen);
// With --validate: the layer's messages fail the command at its end.
void finish(Engine& engine, const ModelFlags& flags);

// The text of -f FILE ("-": standard input), naming the file when it cannot be read.
std::string read_text_source(const std::string& file);
// The name a model goes by in tables and APIs: its file or folder name.
std::string model_name(const std::string& path);
// True when standard input is a pipe or file, not a terminal.
bool stdin_is_piped();

}  // namespace vkmind::cli
