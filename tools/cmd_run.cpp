// `vkmind run`: generate from a prompt (or a chat turn with --chat), streaming
// text to stdout and statistics to stderr.
#include <cstdio>
#include <iostream>
#include <memory>

#include "tools/commands.h"
#include "tools/engine_flags.h"

namespace vkmind::cli {

namespace {

struct RunFlags {
  ModelFlags model;
  SamplingFlags sampling;
  std::string prompt;
  bool chat = false;
  std::string system;
};

void run(RunFlags& f) {
  auto engine = open_engine(f.model);
  f.sampling.generate.add_bos = !f.sampling.no_bos;
  auto print = [](std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return true;
  };
  GenerationStats stats;
  if (f.chat) {
    std::vector<ChatMessage> messages;
    if (!f.system.empty()) messages.push_back({"system", f.system});
    messages.push_back({"user", f.prompt});
    stats = engine->chat(messages, f.sampling.generate, print);
  } else {
    stats = engine->generate(f.prompt, f.sampling.generate, print);
  }
  std::fputc('\n', stdout);
  print_stats(stats);
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto f = std::make_shared<RunFlags>();
  auto* cmd = app.add_subcommand("run", "Generate text from a prompt");
  add_model_flags(*cmd, f->model);
  add_sampling_flags(*cmd, f->sampling);
  cmd->add_option("--prompt,-p", f->prompt, "The prompt (empty: start from BOS)");
  cmd->add_flag("--chat", f->chat, "Wrap the prompt in the model's chat template");
  cmd->add_option("--system", f->system, "System message (with --chat)");
  cmd->callback([f] { run(*f); });
}

}  // namespace vkmind::cli
