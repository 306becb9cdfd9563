// Command-line flags shared by the subcommands that load a model.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "include/vkmind/engine.h"

namespace vkmind::cli {

struct ModelFlags {
  std::string model;
  std::string kv_type = "f16";
  EngineOptions engine;
};

struct SamplingFlags {
  GenerateOptions generate;
  bool no_bos = false;
};

void add_model_flags(CLI::App& cmd, ModelFlags& flags);
void add_sampling_flags(CLI::App& cmd, SamplingFlags& flags);
// Opens the engine from the flags (kv type parsed here).
std::unique_ptr<Engine> open_engine(ModelFlags& flags);
// Prints generation statistics to stderr.
void print_stats(const GenerationStats& stats);

}  // namespace vkmind::cli
