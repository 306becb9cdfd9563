// `vkmind template (-m MODEL | --template FILE) --messages CONV.json`: prints
// the prompt text a chat template makes of a conversation, so template
// authors can check theirs against what the Hub (jinja2) renders.
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "model/jinja/error.h"
#include "model/tokenizer/chat_formatter.h"
#include "model/tokenizer/tokenizer.h"
#include "tools/commands.h"
#include "tools/engine_flags.h"

namespace vkmind::cli {

namespace {

using nlohmann::ordered_json;

struct TemplateOptions {
  std::string model;
  std::string template_file;
  std::string messages_file;
  std::string tools_file;
  bool no_generation_prompt = false;
  std::optional<std::string> bos;
  std::optional<std::string> eos;
  bool thinking = false;
};

ordered_json read_json(const std::string& file, const char* what) {
  try {
    return ordered_json::parse(read_text_source(file));
  } catch (const ordered_json::exception& e) {
    throw std::runtime_error(std::string(what) + " " + file + " is not valid JSON: " + e.what());
  }
}

void run_template(const TemplateOptions& opts) {
  // CONV.json: the OpenAI `messages` list, or a request body holding one (and maybe `tools`).
  ordered_json conversation = read_json(opts.messages_file, "--messages");
  ordered_json tools;
  if (conversation.is_object()) {
    if (conversation.contains("tools")) tools = conversation["tools"];
    conversation = conversation.value("messages", ordered_json());
  }
  if (!conversation.is_array()) throw std::runtime_error("--messages: expected a JSON list of messages");
  if (!opts.tools_file.empty()) tools = read_json(opts.tools_file, "--tools");
  if (!tools.is_null() && !tools.is_array()) throw std::runtime_error("--tools: expected a JSON list of tools");

  std::unique_ptr<tok::Tokenizer> tokenizer;
  if (!opts.model.empty()) {
    tokenizer = tok::load_tokenizer(opts.model);
    for (const auto& w : tokenizer->warnings()) std::fprintf(stderr, "vkmind: warning: %s\n", w.c_str());
  }
  auto token = [&](const std::optional<std::string>& given, bool bos) {
    if (given) return *given;
    return tokenizer ? tok::ChatFormatter::token_text(*tokenizer, bos) : std::string();
  };
  std::optional<tok::ChatFormatter> formatter;
  try {
    if (!opts.template_file.empty()) {
      formatter = tok::ChatFormatter::from_jinja(read_text_source(opts.template_file), token(opts.bos, true),
                                                 token(opts.eos, false), opts.template_file);
    } else if (!tokenizer->chat_template().empty()) {
      formatter = tok::ChatFormatter::from_jinja(tokenizer->chat_template(), token(opts.bos, true), token(opts.eos, false));
    } else {
      std::string warning;
      formatter = tok::ChatFormatter::for_tokenizer(*tokenizer, warning);
      std::fprintf(stderr, "vkmind: the model carries no chat template; showing the %s\n", formatter->description().c_str());
    }
    tok::ChatOptions chat;
    chat.add_generation_prompt = !opts.no_generation_prompt;
    chat.enable_thinking = opts.thinking;
    std::cout << formatter->render_json(conversation, tools, chat) << std::flush;
  } catch (const jinja::TemplateError& e) {
    throw std::runtime_error(std::string("chat template: ") + e.what());
  }
}

}  // namespace

void add_template_command(CLI::App& app) {
  auto opts = std::make_shared<TemplateOptions>();
  auto* cmd = app.add_subcommand("template", "Print what a chat template makes of a conversation");
  auto* model = cmd->add_option("-m,--model", opts->model, "A .gguf file or a Hugging Face folder: its own chat template")
                    ->check(CLI::ExistingPath);
  auto* file = cmd->add_option("--template", opts->template_file, "A Jinja chat template file instead of a model's")
                   ->check(CLI::ExistingFile)
                   ->excludes(model);
  model->excludes(file);
  cmd->add_option("--messages", opts->messages_file,
                  "The conversation: a JSON file with an OpenAI `messages` list ('-': standard input)")
      ->required();
  cmd->add_option("--tools", opts->tools_file, "A JSON file with an OpenAI `tools` list")->check(CLI::ExistingFile);
  cmd->add_flag("--no-generation-prompt", opts->no_generation_prompt, "Do not open an assistant turn at the end");
  cmd->add_option("--bos", opts->bos, "The text of bos_token (default: the model's BOS token, or empty)");
  cmd->add_option("--eos", opts->eos, "The text of eos_token (default: the model's EOS token, or empty)");
  cmd->add_flag("--thinking", opts->thinking, "enable_thinking = true (default false)");
  cmd->callback([opts] {
    if (opts->model.empty() && opts->template_file.empty()) throw CLI::RequiredError("-m or --template");
    run_template(*opts);
  });
}

}  // namespace vkmind::cli
