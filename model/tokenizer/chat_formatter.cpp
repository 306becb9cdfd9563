#include "model/tokenizer/chat_formatter.h"

#include "model/jinja/template.h"
#include "model/tokenizer/tokenizer.h"

namespace vkmind::tok {

namespace {

using nlohmann::ordered_json;

// The text of a message's content: a string, or the text parts of a list.
std::string content_text(const ordered_json& content) {
  if (content.is_string()) return content.get<std::string>();
  std::string out;
  if (content.is_array()) {
    for (const auto& part : content) {
      if (part.is_object() && part.value("type", "") == "text") out += part.value("text", "");
    }
  }
  return out;
}

}  // namespace

ChatFormatter ChatFormatter::from_jinja(const std::string& source, std::string bos_token, std::string eos_token,
                                        std::string origin) {
  ChatFormatter f;
  f.jinja_ = std::make_shared<const jinja::Template>(source);
  f.jinja_bytes_ = source.size();
  f.origin_ = std::move(origin);
  f.bos_token_ = std::move(bos_token);
  f.eos_token_ = std::move(eos_token);
  return f;
}

ChatFormatter ChatFormatter::from_family(const ChatTemplate& family) {
  ChatFormatter f;
  f.family_ = family;
  return f;
}

std::string ChatFormatter::token_text(const Tokenizer& tokenizer, bool bos) {
  const auto id = bos ? tokenizer.bos_id() : tokenizer.eos_id();
  return id ? tokenizer.piece(*id) : std::string();
}

ChatFormatter ChatFormatter::for_tokenizer(const Tokenizer& tokenizer, std::string& warning) {
  warning.clear();
  const std::string& source = tokenizer.chat_template();
  if (!source.empty()) {
    try {
      return from_jinja(source, token_text(tokenizer, true), token_text(tokenizer, false));
    } catch (const jinja::TemplateError& e) {
      DetectedTemplate d = detect_chat_template(source);
      warning = "the model's chat template cannot be rendered (" + std::string(e.what()) + "); using the built-in " +
                d.tmpl.name() + " template instead";
      return from_family(d.tmpl);
    }
  }
  DetectedTemplate d = detect_chat_template(source);
  warning = d.warning;
  return from_family(d.tmpl);
}

std::string ChatFormatter::render(std::span<const ChatMessage> messages, const ChatOptions& options) const {
  if (!jinja_) return render_chat(family_, messages, options);
  ordered_json list = ordered_json::array();
  for (const ChatMessage& m : messages) list.push_back({{"role", m.role}, {"content", m.content}});
  return render_json(list, ordered_json(), options);
}

std::string ChatFormatter::render_json(const ordered_json& messages, const ordered_json& tools,
                                       const ChatOptions& options) const {
  if (!jinja_) {
    std::vector<ChatMessage> turns;
    for (const auto& m : messages) {
      turns.push_back({m.value("role", ""), m.contains("content") ? content_text(m["content"]) : std::string()});
    }
    return render_chat(family_, turns, options);
  }
  jinja::Dict vars;
  vars.set("messages", jinja::from_json(messages));
  // As the Hub: tools=None when none are offered.
  vars.set("tools", tools.is_array() && !tools.empty() ? jinja::from_json(tools) : jinja::Value::none());
  vars.set("add_generation_prompt", jinja::Value(options.add_generation_prompt));
  vars.set("bos_token", jinja::Value(bos_token_));
  vars.set("eos_token", jinja::Value(eos_token_));
  // Qwen3-style templates read enable_thinking, MiniMind's open_thinking.
  vars.set("enable_thinking", jinja::Value(options.enable_thinking));
  vars.set("open_thinking", jinja::Value(options.enable_thinking));
  return jinja_->render(vars);
}

std::string ChatFormatter::name() const { return jinja_ ? "jinja" : family_.name(); }

std::string ChatFormatter::description() const {
  if (jinja_) return origin_ + " (" + std::to_string(jinja_bytes_) + " bytes)";
  return "built-in " + family_.name() + " template";
}

}  // namespace vkmind::tok
