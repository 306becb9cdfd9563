// The built-in chat renderers: hand-written code for a few families
// (ChatML, Qwen3/MiniMind thinking, Llama 2, Llama 3) that reproduces their
// reference templates. They are the fallback for model files that carry no
// chat template and what --chat-template NAME picks; a model's own template
// runs through the Jinja interpreter instead (chat_formatter.h). The family
// is recognised from the Jinja text by sniffing, without evaluating it.
//
// The rendered text contains special tokens as text (<|im_start|>, <s>,
// <|begin_of_text|>): encode it with parse_special = true and add_bos = false.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace vkmind::tok {

enum class ChatFamily {
  ChatML,  // <|im_start|>role\n...<|im_end|>\n  (Qwen, MiniMind)
  Llama2,  // <s>[INST] <<SYS>>\n...\n<</SYS>>\n\n... [/INST] ... </s>
  Llama3,  // <|start_header_id|>role<|end_header_id|>\n\n...<|eot_id|>
};

// How a ChatML template treats <think> blocks.
enum class ThinkStyle {
  None,      // plain ChatML (Qwen2.5 and older)
  Qwen3,     // empty think block in the prompt when thinking is off; reasoning
             // kept only for assistant turns after the last user turn
  MiniMind,  // as Qwen3 in the prompt ("<think>\n" when thinking is on), and
             // every assistant turn carries a think block
};

struct ChatTemplate {
  ChatFamily family = ChatFamily::ChatML;
  ThinkStyle think = ThinkStyle::None;
  // Used by the Llama families; the defaults are those models' tokens.
  std::string bos_token;
  std::string eos_token;

  // "chatml", "qwen3", "minimind", "llama2" or "llama3".
  std::string name() const;
};

struct ChatMessage {
  std::string role;  // system, user, assistant, tool
  std::string content;
};

struct ChatOptions {
  bool add_generation_prompt = true;
  bool enable_thinking = false;
};

struct DetectedTemplate {
  ChatTemplate tmpl;
  std::string warning;  // non-empty when the template was not recognised
};

// Recognises the family from the Jinja text (GGUF tokenizer.chat_template or
// tokenizer_config.json chat_template). Unknown or empty text falls back to
// ChatML and says so in `warning`.
DetectedTemplate detect_chat_template(std::string_view jinja);

// The override given by name (--chat-template); nullopt for an unknown name.
std::optional<ChatTemplate> chat_template_by_name(std::string_view name);
std::string chat_template_names();

std::string render_chat(const ChatTemplate& tmpl, std::span<const ChatMessage> messages, const ChatOptions& opts);

}  // namespace vkmind::tok
