// `vkmind chat`: an interactive multi-turn chat. Each turn re-renders the
// conversation with the chat template; the engine reuses the KV cache of the
// tokens the turns share, so only the new turn is prefilled. When the
// conversation outgrows the context, its oldest turns (after the system
// message) are dropped. Ctrl-C stops a reply; at an empty prompt it quits.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>

#include "tools/commands.h"
#include "tools/engine_flags.h"
#include "tools/exit_code.h"
#include "tools/interrupt.h"
#include "tools/line_reader.h"

namespace vkmind::cli {

namespace {

struct ChatFlags {
  ModelFlags model;
  GenerationFlags gen;
  std::string system;
  bool show_stats = false;
};

constexpr const char* kHelp =
    "  /help          this list\n"
    "  /reset         start a new conversation (the system message stays)\n"
    "  /bye           quit (also /exit, /quit, Ctrl-D; Ctrl-C at an empty prompt)\n"
    "  A line ending in \\ continues on the next; a pasted block is one message.\n"
    "  Ctrl-C while the model writes stops the reply.\n";

// Tokens kept free for the reply when old turns are dropped: what -n asks,
// at most a quarter of the cache (a reply may still end at "context full").
uint32_t reply_reserve(const Engine& engine, int32_t max_tokens) {
  const uint32_t quarter = std::max(1u, engine.token_capacity() / 4);
  return max_tokens < 0 ? quarter : std::clamp(uint32_t(max_tokens), 1u, quarter);
}

// Drops the oldest user/assistant turns (never the system message or the new
// message) until the prompt leaves `reserve` tokens free. Returns how many
// messages went, or -1 when the new message cannot fit even alone.
int fit_conversation(const Engine& engine, std::vector<ChatMessage>& messages, uint32_t reserve,
                     size_t& prompt_tokens) {
  const size_t first = !messages.empty() && messages[0].role == "system" ? 1 : 0;
  const uint32_t capacity = engine.token_capacity();
  int dropped = 0;
  while (true) {
    prompt_tokens = engine.chat_tokens(messages).size();
    if (prompt_tokens + reserve <= capacity) return dropped;
    if (messages.size() - first <= 1) return prompt_tokens < capacity ? dropped : -1;
    // A user turn and the reply that followed it go together.
    const size_t n = messages.size() - first >= 3 && messages[first + 1].role == "assistant" ? 2 : 1;
    messages.erase(messages.begin() + long(first), messages.begin() + long(first + n));
    dropped += int(n);
  }
}

void run(ChatFlags& f) {
  InterruptGuard interrupts;  // from the start: Ctrl-C while loading quits at the first prompt
  auto engine = open_engine(f.model);
  resolve_generation(f.gen, *engine);
  print_settings(*engine, f.model, f.gen);
  std::vector<ChatMessage> messages;
  if (!f.system.empty()) messages.push_back({"system", f.system});
  f.gen.generate.cancel_requested = [&] { return interrupts.pending(); };
  LineReader reader(interrupts);
  std::fprintf(stderr, "vkmind chat: %s\nType a message; /help for commands, /bye or Ctrl-D quits.\n",
               engine->description().c_str());
  while (true) {
    std::fflush(stdout);
    ReadResult in = reader.read("> ", "... ");
    if (in.status == ReadStatus::EndOfInput) break;
    if (in.status == ReadStatus::Interrupted) {
      interrupts.clear();
      if (in.text.empty()) throw ExitCode{kExitInterrupted};
      continue;  // Ctrl-C discards the line being typed
    }
    const std::string& line = in.text;
    if (line.find_first_not_of(" \t\r\n") == std::string::npos) continue;
    if (line == "/bye" || line == "/exit" || line == "/quit") break;
    if (line == "/help" || line == "/?") {
      std::fputs(kHelp, stdout);
      continue;
    }
    if (line == "/reset") {
      messages.resize(f.system.empty() ? 0 : 1);
      engine->reset();
      std::fputs("(conversation cleared)\n", stdout);
      continue;
    }
    if (line[0] == '/' && line.find_first_of(" \n") == std::string::npos) {
      std::printf("(unknown command %s: /help lists them)\n", line.c_str());
      continue;
    }

    messages.push_back({"user", line});
    size_t prompt_tokens = 0;
    const int dropped = fit_conversation(*engine, messages, reply_reserve(*engine, f.gen.generate.max_tokens),
                                         prompt_tokens);
    if (dropped < 0) {
      std::printf("(this message is %zu tokens with the template; the context holds %u: not sent)\n",
                  prompt_tokens, engine->token_capacity());
      messages.pop_back();
      continue;
    }
    if (dropped > 0) {
      std::printf("(dropped the %d oldest message%s to fit the context of %u tokens)\n", dropped,
                  dropped == 1 ? "" : "s", engine->token_capacity());
    }
    std::fflush(stdout);
    std::string reply;
    interrupts.clear();
    auto stats = engine->chat(messages, f.gen.generate, [&](std::string_view text) {
      reply += text;
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
      return !interrupts.pending();
    });
    std::fputc('\n', stdout);
    messages.push_back({"assistant", reply});
    if (stats.stop_reason == "cancelled") {
      std::fputs("(reply stopped)\n", stdout);
      interrupts.clear();
    } else if (stats.stop_reason == "max tokens") {
      std::printf("(reply cut at %d tokens: -n)\n", f.gen.generate.max_tokens);
    } else if (stats.stop_reason == "context full") {
      std::fputs("(reply cut: the context is full; the oldest turns make room for the next message)\n", stdout);
    }
    if (f.show_stats) print_stats(stats, f.gen);
  }
  finish(*engine, f.model);
}

}  // namespace

void add_chat_command(CLI::App& app) {
  auto f = std::make_shared<ChatFlags>();
  auto* cmd = app.add_subcommand("chat", "Interactive chat with the model's chat template");
  add_model_flags(*cmd, f->model);
  add_chat_template_flag(*cmd, f->model);
  add_generation_flags(*cmd, f->gen);
  cmd->add_option("--system", f->system, "System message");
  cmd->add_flag("--stats", f->show_stats, "Print speed statistics after each reply");
  cmd->callback([f] { run(*f); });
}

}  // namespace vkmind::cli
