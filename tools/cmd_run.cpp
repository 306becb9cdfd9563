// `vkmind run`: generate from a prompt (or a chat turn with --chat), streaming
// text to stdout and statistics to stderr. Ctrl-C stops the generation
// (statistics still printed, exit status 130).
#include <cstdio>
#include <memory>

#include "tools/commands.h"
#include "tools/engine_flags.h"
#include "tools/exit_code.h"
#include "tools/interrupt.h"

namespace vkmind::cli {

namespace {

struct RunFlags {
  ModelFlags model;
  GenerationFlags gen;
  std::string prompt;
  std::string prompt_file;
  bool chat = false;
  bool no_display_prompt = false;
  std::string system;
};

void run(RunFlags& f) {
  // From the start: a Ctrl-C while the model loads cancels the generation
  // before it begins; a second one exits at once.
  InterruptGuard interrupts;
  if (!f.prompt_file.empty()) {
    f.prompt = read_text_source(f.prompt_file);
  } else if (f.prompt.empty() && stdin_is_piped()) {
    f.prompt = read_text_source("-");
  }
  auto engine = open_engine(f.model);
  resolve_generation(f.gen, *engine);
  print_settings(*engine, f.model, f.gen);

  std::vector<ChatMessage> messages;
  if (f.chat) {
    if (!f.system.empty()) messages.push_back({"system", f.system});
    messages.push_back({"user", f.prompt});
  }
  // Known before the first token: will prompt + -n fit the cache?
  const size_t prompt_tokens = f.chat ? engine->chat_tokens(messages).size()
                                      : engine->tokenize(f.prompt, *f.gen.generate.add_bos, true).size();
  const uint32_t capacity = engine->token_capacity();
  const int32_t n = f.gen.generate.max_tokens;
  if (prompt_tokens < capacity && (n < 0 || prompt_tokens + size_t(n) > capacity) && !f.gen.quiet && n != 0) {
    std::fprintf(stderr, "[vkmind] note: the cache holds %u tokens: the %zu-token prompt leaves room for %zu generated tokens%s\n",
                 capacity, prompt_tokens, size_t(capacity) - prompt_tokens,
                 n < 0 ? "" : (" of the " + std::to_string(n) + " asked for").c_str());
  }

  if (!f.no_display_prompt) {
    std::fwrite(f.prompt.data(), 1, f.prompt.size(), stdout);
    if (f.chat) std::fputc('\n', stdout);
    std::fflush(stdout);
  }
  f.gen.generate.cancel_requested = [&] { return interrupts.pending(); };
  auto print = [&](std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return !interrupts.pending();
  };
  GenerationStats stats = f.chat ? engine->chat(messages, f.gen.generate, print)
                                 : engine->generate(f.prompt, f.gen.generate, print);
  std::fputc('\n', stdout);
  std::fflush(stdout);
  print_stats(stats, f.gen);
  finish(*engine, f.model);
  if (interrupts.pending()) throw ExitCode{kExitInterrupted};
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto f = std::make_shared<RunFlags>();
  auto* cmd = app.add_subcommand("run", "Generate text from a prompt");
  add_model_flags(*cmd, f->model);
  auto* tmpl = add_chat_template_flag(*cmd, f->model);
  add_generation_flags(*cmd, f->gen);
  auto* prompt = cmd->add_option("--prompt,-p", f->prompt, "The prompt (none: -f, piped stdin, or start from BOS)");
  cmd->add_option("--file,-f", f->prompt_file, "Read the prompt from a file ('-': standard input)")->excludes(prompt);
  auto* chat = cmd->add_flag("--chat", f->chat, "Wrap the prompt in the model's chat template");
  cmd->add_option("--system", f->system, "System message (with --chat)")->needs(chat);
  tmpl->needs(chat);
  cmd->add_flag("--no-display-prompt", f->no_display_prompt, "Do not echo the prompt before the generation");
  cmd->callback([f] { run(*f); });
}

}  // namespace vkmind::cli
