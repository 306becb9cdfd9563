// `vkmind chat`: an interactive multi-turn chat on stdin/stdout. Each turn
// re-renders the conversation with the chat template; the engine reuses the
// KV cache of the tokens the turns share, so only the new turn is prefilled.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "tools/commands.h"
#include "tools/engine_flags.h"

namespace vkmind::cli {

namespace {

struct ChatFlags {
  ModelFlags model;
  SamplingFlags sampling;
  std::string system;
  bool show_stats = false;
};

void run(ChatFlags& f) {
  auto engine = open_engine(f.model);
  std::vector<ChatMessage> messages;
  if (!f.system.empty()) messages.push_back({"system", f.system});
  std::fprintf(stderr, "vkmind chat: %s\nType a message; /reset starts over, /exit or Ctrl-D quits.\n",
               engine->description().c_str());
  std::string line;
  while (true) {
    std::fputs("\n> ", stdout);
    std::fflush(stdout);
    if (!std::getline(std::cin, line)) break;
    if (line == "/exit" || line == "/quit") break;
    if (line == "/reset") {
      messages.resize(f.system.empty() ? 0 : 1);
      engine->reset();
      std::fputs("(conversation cleared)\n", stdout);
      continue;
    }
    if (line.empty()) continue;
    messages.push_back({"user", line});
    std::string reply;
    auto stats = engine->chat(messages, f.sampling.generate, [&](std::string_view text) {
      reply += text;
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
      return true;
    });
    std::fputc('\n', stdout);
    messages.push_back({"assistant", reply});
    if (f.show_stats) print_stats(stats);
    if (stats.stop_reason == "context full") {
      std::fputs("(the context is full: /reset to start a new conversation)\n", stdout);
    }
  }
}

}  // namespace

void add_chat_command(CLI::App& app) {
  auto f = std::make_shared<ChatFlags>();
  auto* cmd = app.add_subcommand("chat", "Interactive chat with the model's chat template");
  add_model_flags(*cmd, f->model);
  add_sampling_flags(*cmd, f->sampling);
  cmd->add_option("--system", f->system, "System message");
  cmd->add_flag("--stats", f->show_stats, "Print speed statistics after each reply");
  cmd->callback([f] { run(*f); });
}

}  // namespace vkmind::cli
