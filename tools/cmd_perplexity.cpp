// `vkmind perplexity`: exp(mean negative log-likelihood) of a text file,
// evaluated in windows of the context length, with a progress bar.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>

#include "tools/commands.h"
#include "tools/engine_flags.h"
#include "tools/exit_code.h"

namespace vkmind::cli {

namespace {

struct PerplexityFlags {
  ModelFlags model;
  std::string file;
};

void run(PerplexityFlags& f) {
  if (f.model.engine.context == 1) {
    // A window's first token has no context: one token per window scores nothing.
    std::fprintf(stderr, "vkmind perplexity: --ctx 1 cannot score a token (each window's first token has no "
                         "context): use --ctx 2 or more\n");
    throw ExitCode{kExitUsage};
  }
  if (f.file.empty()) {
    if (!stdin_is_piped()) throw CLI::RequiredError("--file (or text piped to standard input)");
    f.file = "-";
  }
  const std::string text = read_text_source(f.file);
  auto engine = open_engine(f.model);
  auto tokens = engine->tokenize(text, engine->default_add_bos(), false);
  if (tokens.size() < 2) throw std::runtime_error(f.file + ": fewer than 2 tokens, nothing to score");
  std::fprintf(stderr, "perplexity: %zu tokens, windows of %u\n", tokens.size(), engine->token_capacity());
  auto nll = engine->token_nll(tokens, [](size_t done, size_t total) {
    const int width = 40;
    const int filled = int(double(done) / double(total) * width);
    std::fprintf(stderr, "\r[%s%s] %zu/%zu tokens", std::string(size_t(filled), '#').c_str(),
                 std::string(size_t(width - filled), '.').c_str(), done, total);
    std::fflush(stderr);
  });
  std::fputc('\n', stderr);
  double sum = 0;
  size_t scored = 0;
  const size_t window = engine->token_capacity();
  for (size_t i = 0; i < nll.size(); ++i) {
    if (i % window == 0) continue;  // the first token of a window has no context
    sum += nll[i];
    ++scored;
  }
  if (scored == 0) throw std::runtime_error(f.file + ": no token could be scored");
  std::printf("perplexity: %.4f over %zu tokens (mean NLL %.5f nats)\n", std::exp(sum / double(scored)), scored,
              sum / double(scored));
  finish(*engine, f.model);
}

}  // namespace

void add_perplexity_command(CLI::App& app) {
  auto f = std::make_shared<PerplexityFlags>();
  auto* cmd = app.add_subcommand("perplexity", "Perplexity of a text file");
  add_model_flags(*cmd, f->model);
  cmd->add_option("--file,-f", f->file, "Text file ('-' or absent with a pipe: standard input)")
      ->check(CLI::ExistingFile | CLI::IsMember({"-"}));
  cmd->callback([f] { run(*f); });
}

}  // namespace vkmind::cli
