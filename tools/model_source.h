// What -m accepts on every subcommand: a local model (a .gguf file or a
// Hugging Face folder) or a Hub model, hf:ORG/REPO[:QUANT], pulled into the
// Hub cache on first use and read from there afterwards.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace vkmind::cli {

// -m's check: an existing path, or a well-formed hf: name.
CLI::Validator model_path_or_hub();
// --offline: the Hub cache only (as HF_HUB_OFFLINE=1).
CLI::Option* add_offline_flag(CLI::App& cmd, bool& offline);
// The local path of -m's model: hf: names pulled (progress on a terminal),
// other paths unchanged.
std::string resolve_model_source(const std::string& model, bool offline);

}  // namespace vkmind::cli
