// The `vkmind` subcommands. Each lives in its own cmd_*.cpp and registers
// itself on the CLI11 app; main.cpp only wires them together.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace vkmind::cli {

// Exit status for "no such device" and other bad command-line choices.
inline constexpr int kExitUsage = 2;

void add_info_command(CLI::App& app);      // cmd_info.cpp
void add_tokenize_command(CLI::App& app);  // cmd_tokenize.cpp
void add_run_command(CLI::App& app);       // cmd_run.cpp
void add_logits_command(CLI::App& app);    // cmd_logits.cpp
void add_bench_command(CLI::App& app);     // cmd_bench.cpp
void add_chat_command(CLI::App& app);      // cmd_chat.cpp
void add_perplexity_command(CLI::App& app);  // cmd_perplexity.cpp
void add_batch_command(CLI::App& app);       // cmd_batch.cpp
// Checks the flags, then runs vkmind-serve with the same arguments in place of this process.
void add_serve_command(CLI::App& app, int argc, char** argv);  // cmd_serve.cpp
void add_quantize_command(CLI::App& app);    // cmd_quantize.cpp
void add_pull_command(CLI::App& app);        // cmd_pull.cpp
void add_list_command(CLI::App& app);        // cmd_list.cpp
void add_template_command(CLI::App& app);    // cmd_template.cpp

// `vkmind info -m MODEL`: architecture, dimensions, tensors, tokenizer (model_report.cpp).
void print_model_report(const std::string& model_path);

}  // namespace vkmind::cli
