// `vkmind logits`: the logits of the last position for given token ids, as
// text or as raw little-endian f32.
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "tools/commands.h"
#include "tools/engine_flags.h"

namespace vkmind::cli {

namespace {

struct LogitsFlags {
  ModelFlags model;
  std::string tokens;
  std::string out;
};

std::vector<int32_t> parse_ids(const std::string& text) {
  std::vector<int32_t> ids;
  std::istringstream in(text);
  std::string word;
  while (in >> word) {
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(word, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != word.size() || v < 0 || v > INT32_MAX) throw std::runtime_error("--tokens: '" + word + "' is not a token id");
    ids.push_back(int32_t(v));
  }
  if (ids.empty()) throw std::runtime_error("--tokens: no token ids given");
  return ids;
}

void run(LogitsFlags& f) {
  auto ids = parse_ids(f.tokens);
  auto engine = open_engine(f.model);
  auto logits = engine->logits(ids);
  if (!f.out.empty()) {
    std::ofstream out(f.out, std::ios::binary);
    out.write(reinterpret_cast<const char*>(logits.data()), std::streamsize(logits.size() * 4));
    if (!out) throw std::runtime_error("cannot write " + f.out);
    finish(*engine, f.model);
    return;
  }
  for (size_t i = 0; i < logits.size(); ++i) std::printf("%s%.6f", i ? " " : "", logits[i]);
  std::printf("\n");
  finish(*engine, f.model);
}

}  // namespace

void add_logits_command(CLI::App& app) {
  auto f = std::make_shared<LogitsFlags>();
  auto* cmd = app.add_subcommand("logits", "Print the logits of the last position for a list of token ids");
  add_model_flags(*cmd, f->model);
  cmd->add_option("--tokens,-t", f->tokens, "Token ids, separated by spaces")->required();
  cmd->add_option("--out,-o", f->out, "Write raw little-endian f32 to this file instead");
  cmd->callback([f] { run(*f); });
}

}  // namespace vkmind::cli
