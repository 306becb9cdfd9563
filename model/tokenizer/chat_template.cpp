#include "model/tokenizer/chat_template.h"

namespace vkmind::tok {

namespace {

ChatTemplate make(ChatFamily f, ThinkStyle t = ThinkStyle::None) {
  ChatTemplate c;
  c.family = f;
  c.think = t;
  if (f == ChatFamily::Llama2) {
    c.bos_token = "<s>";
    c.eos_token = "</s>";
  } else if (f == ChatFamily::Llama3) {
    c.bos_token = "<|begin_of_text|>";
    c.eos_token = "<|eot_id|>";
  }
  return c;
}

// Appends every part. (Chains of "literal" + std::string also trip a GCC 12
// -Wrestrict false positive at -O3.)
template <typename... Parts>
void append(std::string& out, const Parts&... parts) {
  (out.append(std::string_view(parts)), ...);
}

bool contains(std::string_view s, std::string_view what) { return s.find(what) != std::string_view::npos; }

// Python's str.strip(chars) family, as the Jinja templates call them.
std::string_view lstrip(std::string_view s, std::string_view chars) {
  const size_t b = s.find_first_not_of(chars);
  return b == std::string_view::npos ? std::string_view() : s.substr(b);
}
std::string_view rstrip(std::string_view s, std::string_view chars) {
  const size_t e = s.find_last_not_of(chars);
  return e == std::string_view::npos ? std::string_view() : s.substr(0, e + 1);
}
std::string_view strip(std::string_view s, std::string_view chars) { return lstrip(rstrip(s, chars), chars); }
constexpr std::string_view kWhitespace = " \t\n\r\v\f";

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool ends_with(std::string_view s, std::string_view p) { return s.size() >= p.size() && s.substr(s.size() - p.size()) == p; }

// Splits "<think>\nreasoning\n</think>\n\nanswer" the way the Qwen3 and
// MiniMind templates do.
void split_reasoning(std::string_view content, std::string& reasoning, std::string& answer) {
  const size_t close = content.rfind("</think>");
  if (close == std::string_view::npos) {
    reasoning.clear();
    answer = content;
    return;
  }
  std::string_view before = rstrip(content.substr(0, content.find("</think>")), "\n");
  const size_t open = before.rfind("<think>");
  if (open != std::string_view::npos) before = before.substr(open + 7);
  reasoning = lstrip(before, "\n");
  answer = lstrip(content.substr(close + 8), "\n");
}

bool is_tool_response(std::string_view s) { return starts_with(s, "<tool_response>") && ends_with(s, "</tool_response>"); }

std::string render_chatml(const ChatTemplate& t, std::span<const ChatMessage> msgs, const ChatOptions& o) {
  std::string out;
  // The last real user turn: reasoning before it is dropped by Qwen3.
  size_t last_query = msgs.empty() ? 0 : msgs.size() - 1;
  for (size_t i = msgs.size(); i-- > 0;) {
    if (msgs[i].role == "user" && !is_tool_response(msgs[i].content)) {
      last_query = i;
      break;
    }
  }
  for (size_t i = 0; i < msgs.size(); ++i) {
    const ChatMessage& m = msgs[i];
    if (m.role == "assistant" && t.think != ThinkStyle::None) {
      std::string reasoning, answer;
      split_reasoning(m.content, reasoning, answer);
      const bool with_think = t.think == ThinkStyle::MiniMind ||
                              (i > last_query && (i + 1 == msgs.size() || !reasoning.empty()));
      out += "<|im_start|>assistant\n";
      if (with_think) {
        out += "<think>\n";
        out += strip(reasoning, "\n");
        out += "\n</think>\n\n";
        out += lstrip(answer, "\n");
      } else {
        out += answer;
      }
      out += "<|im_end|>\n";
    } else if (m.role == "tool") {
      // Consecutive tool results share one user turn.
      if (i == 0 || msgs[i - 1].role != "tool") out += "<|im_start|>user";
      append(out, "\n<tool_response>\n", m.content, "\n</tool_response>");
      if (i + 1 == msgs.size() || msgs[i + 1].role != "tool") out += "<|im_end|>\n";
    } else {
      append(out, "<|im_start|>", m.role, "\n", m.content, "<|im_end|>\n");
    }
  }
  if (o.add_generation_prompt) {
    out += "<|im_start|>assistant\n";
    if (t.think != ThinkStyle::None && !o.enable_thinking) out += "<think>\n\n</think>\n\n";
    if (t.think == ThinkStyle::MiniMind && o.enable_thinking) out += "<think>\n";
  }
  return out;
}

std::string render_llama2(const ChatTemplate& t, std::span<const ChatMessage> msgs) {
  // The system prompt is folded into the first user turn inside <<SYS>>.
  std::string system;
  size_t first = 0;
  if (!msgs.empty() && msgs[0].role == "system") {
    system = msgs[0].content;
    first = 1;
  }
  std::string out;
  for (size_t i = first; i < msgs.size(); ++i) {
    std::string content;
    if (i == first && first == 1) append(content, "<<SYS>>\n", system, "\n<</SYS>>\n\n");
    content += msgs[i].content;
    if (msgs[i].role == "user") {
      append(out, t.bos_token, "[INST] ", strip(content, kWhitespace), " [/INST]");
    } else if (msgs[i].role == "assistant") {
      append(out, " ", strip(content, kWhitespace), " ", t.eos_token);
    }
  }
  return out;
}

std::string render_llama3(const ChatTemplate& t, std::span<const ChatMessage> msgs, const ChatOptions& o) {
  std::string out = t.bos_token;
  for (const ChatMessage& m : msgs) {
    append(out, "<|start_header_id|>", m.role, "<|end_header_id|>\n\n");
    out += strip(m.content, kWhitespace);
    out += "<|eot_id|>";
  }
  if (o.add_generation_prompt) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  return out;
}

}  // namespace

std::string ChatTemplate::name() const {
  switch (family) {
    case ChatFamily::Llama2: return "llama2";
    case ChatFamily::Llama3: return "llama3";
    case ChatFamily::ChatML:
      return think == ThinkStyle::MiniMind ? "minimind" : think == ThinkStyle::Qwen3 ? "qwen3" : "chatml";
  }
  return "chatml";
}

DetectedTemplate detect_chat_template(std::string_view jinja) {
  if (jinja.empty()) return {make(ChatFamily::ChatML), "the model has no chat template; using ChatML"};
  if (contains(jinja, "<|start_header_id|>")) return {make(ChatFamily::Llama3), ""};
  if (contains(jinja, "<|im_start|>")) {
    // MiniMind's template is Qwen3's with its own switch name.
    if (contains(jinja, "open_thinking")) return {make(ChatFamily::ChatML, ThinkStyle::MiniMind), ""};
    if (contains(jinja, "enable_thinking") || contains(jinja, "<think>")) {
      return {make(ChatFamily::ChatML, ThinkStyle::Qwen3), ""};
    }
    return {make(ChatFamily::ChatML), ""};
  }
  if (contains(jinja, "[INST]")) return {make(ChatFamily::Llama2), ""};
  return {make(ChatFamily::ChatML), "unrecognised chat template; falling back to ChatML"};
}

std::optional<ChatTemplate> chat_template_by_name(std::string_view name) {
  if (name == "chatml") return make(ChatFamily::ChatML);
  if (name == "qwen3") return make(ChatFamily::ChatML, ThinkStyle::Qwen3);
  if (name == "minimind") return make(ChatFamily::ChatML, ThinkStyle::MiniMind);
  if (name == "llama2") return make(ChatFamily::Llama2);
  if (name == "llama3") return make(ChatFamily::Llama3);
  return std::nullopt;
}

std::string chat_template_names() { return "chatml, qwen3, minimind, llama2, llama3"; }

std::string render_chat(const ChatTemplate& tmpl, std::span<const ChatMessage> messages, const ChatOptions& opts) {
  switch (tmpl.family) {
    case ChatFamily::Llama2: return render_llama2(tmpl, messages);
    case ChatFamily::Llama3: return render_llama3(tmpl, messages, opts);
    case ChatFamily::ChatML: break;
  }
  return render_chatml(tmpl, messages, opts);
}

}  // namespace vkmind::tok
