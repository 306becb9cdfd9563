// Turns a conversation into prompt text. A model that carries a chat
// template (tokenizer_config.json chat_template, GGUF tokenizer.chat_template)
// is rendered by the Jinja interpreter (model/jinja) exactly as the Hugging
// Face Hub renders it; the hand-written families of chat_template.h are the
// fallback for files without one and for an explicit --chat-template NAME.
#pragma once

#include <memory>
#include <span>
#include <string>

#include <nlohmann/json.hpp>

#include "model/tokenizer/chat_template.h"

namespace vkmind::jinja {
class Template;
}

namespace vkmind::tok {

class Tokenizer;

class ChatFormatter {
 public:
  // Parses `source`; throws jinja::TemplateError when it cannot.
  static ChatFormatter from_jinja(const std::string& source, std::string bos_token, std::string eos_token,
                                  std::string origin = "model's own Jinja template");
  static ChatFormatter from_family(const ChatTemplate& family);
  // The model's own template when it has one and it parses; otherwise the
  // family recognised from it (or ChatML), with the reason in `warning`.
  static ChatFormatter for_tokenizer(const Tokenizer& tokenizer, std::string& warning);

  std::string render(std::span<const ChatMessage> messages, const ChatOptions& options) const;
  // OpenAI-style messages (string or text-part content, tool_calls, tool
  // results) and tools; `tools` null or empty: none offered.
  std::string render_json(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                          const ChatOptions& options) const;

  bool is_jinja() const { return jinja_ != nullptr; }
  // "jinja" or the family's name (chatml, qwen3, ...): the C API's field.
  std::string name() const;
  // For `vkmind info`: "model's own Jinja template (N bytes)" or "built-in chatml template".
  std::string description() const;

  // The BOS/EOS text a template sees (the tokenizer's tokens).
  static std::string token_text(const Tokenizer& tokenizer, bool bos);

 private:
  std::shared_ptr<const jinja::Template> jinja_;
  size_t jinja_bytes_ = 0;
  std::string origin_;
  std::string bos_token_, eos_token_;
  ChatTemplate family_;
};

}  // namespace vkmind::tok
