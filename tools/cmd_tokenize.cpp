// `vkmind tokenize -m MODEL -p TEXT`: the token ids of a text, as the model's
// tokenizer produces them (a GGUF file or a Hugging Face folder).
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "model/tokenizer/tokenizer.h"
#include "tools/commands.h"
#include "tools/engine_flags.h"
#include "tools/model_source.h"

namespace vkmind::cli {

namespace {

struct TokenizeOptions {
  std::string model;
  std::string prompt;
  std::string file;
  bool pieces = false;
  bool no_special = false;
  bool no_bos = false;
  bool offline = false;
};

// Pieces may hold newlines, tabs or raw control bytes: escape them so each
// token stays on one line.
std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '\\': out += "\\\\"; break;
      default:
        if (c < 0x20 || c == 0x7F) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02X", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out;
}

void run_tokenize(TokenizeOptions& opts) {
  if (!opts.file.empty()) {
    opts.prompt = read_text_source(opts.file);
  } else if (opts.prompt.empty() && stdin_is_piped()) {
    opts.prompt = read_text_source("-");
  }
  auto tok = tok::load_tokenizer(resolve_model_source(opts.model, opts.offline));
  for (const auto& w : tok->warnings()) std::fprintf(stderr, "vkmind: warning: %s\n", w.c_str());
  const bool add_bos = tok->add_bos_by_default() && !opts.no_bos;
  auto ids = tok->encode(opts.prompt, add_bos, !opts.no_special);
  if (tok->add_eos_by_default() && tok->eos_id()) ids.push_back(*tok->eos_id());
  if (opts.pieces) {
    // One token per line: id, the stored piece, and the text it stands for.
    for (int32_t id : ids) {
      std::cout << id << "\t" << printable(tok->piece(id)) << "\t" << printable(tok->token_bytes(id)) << "\n";
    }
    return;
  }
  for (size_t i = 0; i < ids.size(); ++i) std::cout << (i ? " " : "") << ids[i];
  std::cout << "\n";
}

}  // namespace

void add_tokenize_command(CLI::App& app) {
  auto opts = std::make_shared<TokenizeOptions>();
  auto* cmd = app.add_subcommand("tokenize", "Print the token ids of a text");
  cmd->add_option("-m,--model", opts->model, "A .gguf file, a Hugging Face folder with tokenizer.json, or hf:ORG/REPO[:QUANT]")
      ->required()
      ->check(model_path_or_hub());
  add_offline_flag(*cmd, opts->offline);
  auto* prompt = cmd->add_option("-p,--prompt", opts->prompt, "The text to tokenize (none: -f or piped stdin)");
  cmd->add_option("-f,--file", opts->file, "Read the text from a file ('-': standard input)")->excludes(prompt);
  cmd->add_flag("--pieces", opts->pieces, "One token per line: id, vocabulary piece, decoded text");
  cmd->add_flag("--no-special", opts->no_special, "Tokenize special-token text such as <|im_start|> as plain text");
  cmd->add_flag("--no-bos", opts->no_bos, "Do not prepend BOS even where the model adds it by default");
  cmd->callback([opts] { run_tokenize(*opts); });
}

}  // namespace vkmind::cli
