#include "server/openai_api.h"

#include <cmath>

namespace vkmind::server {

using nlohmann::json;

namespace {

[[noreturn]] void bad_field(const std::string& field, const std::string& why) {
  throw ApiError(400, "'" + field + "' " + why, "invalid_request_error", field);
}

// The field if present and not null.
const json* field(const json& body, const char* name) {
  auto it = body.find(name);
  return it == body.end() || it->is_null() ? nullptr : &*it;
}

double number(const json& body, const char* name, double lo, double hi, double fallback) {
  const json* v = field(body, name);
  if (!v) return fallback;
  if (!v->is_number()) bad_field(name, "must be a number");
  const double d = v->get<double>();
  if (!std::isfinite(d) || d < lo || d > hi) {
    bad_field(name, "must be from " + json(lo).dump() + " to " + json(hi).dump() + ", not " + v->dump());
  }
  return d;
}

int64_t integer(const json& body, const char* name, int64_t lo, int64_t hi, int64_t fallback) {
  const json* v = field(body, name);
  if (!v) return fallback;
  if (!v->is_number_integer()) bad_field(name, "must be an integer");
  // Unsigned past INT64_MAX is above every bound here.
  const bool huge = v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(INT64_MAX);
  const int64_t i = huge ? INT64_MAX : v->get<int64_t>();
  if (huge || i > hi) bad_field(name, "must be at most " + std::to_string(hi) + ", not " + v->dump());
  if (i < lo) bad_field(name, "must be at least " + std::to_string(lo) + ", not " + v->dump());
  return i;
}

bool boolean(const json& body, const char* name, bool fallback) {
  const json* v = field(body, name);
  if (!v) return fallback;
  if (!v->is_boolean()) bad_field(name, "must be true or false");
  return v->get<bool>();
}

// A message's content: a string, or an array of {"type": "text", "text": ...} parts.
std::string content_text(const json& content, const std::string& where) {
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) bad_field(where, "must be a string or an array of text parts");
  std::string text;
  for (const json& part : content) {
    if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string()) {
      bad_field(where, "parts must be {\"type\": \"text\", \"text\": \"...\"} (no images or audio)");
    }
    text += part["text"].get<std::string>();
  }
  return text;
}

std::vector<ChatMessage> parse_messages(const json& body) {
  const json* messages = field(body, "messages");
  if (!messages) bad_field("messages", "is required");
  if (!messages->is_array() || messages->empty()) bad_field("messages", "must be a non-empty array");
  std::vector<ChatMessage> out;
  for (size_t i = 0; i < messages->size(); ++i) {
    const json& m = (*messages)[i];
    const std::string where = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) bad_field(where, "must be an object");
    if (!m.contains("role") || !m["role"].is_string()) bad_field(where + ".role", "must be a string");
    const std::string role = m["role"].get<std::string>();
    if (role != "system" && role != "user" && role != "assistant" && role != "developer" && role != "tool") {
      bad_field(where + ".role", "must be system, developer, user, assistant or tool, not '" + role + "'");
    }
    const json* content = field(m, "content");
    out.push_back({role == "developer" ? "system" : role, content ? content_text(*content, where + ".content") : ""});
  }
  return out;
}

void parse_prompt(const json& body, CompletionRequest& r) {
  const json* prompt = field(body, "prompt");
  if (!prompt) bad_field("prompt", "is required");
  if (prompt->is_string()) {
    r.prompt_text = prompt->get<std::string>();
    return;
  }
  if (!prompt->is_array() || prompt->empty()) bad_field("prompt", "must be a string or an array of token ids");
  if (prompt->size() == 1 && (*prompt)[0].is_string()) {
    r.prompt_text = (*prompt)[0].get<std::string>();
    return;
  }
  for (const json& t : *prompt) {
    if (t.is_string()) bad_field("prompt", "must be one prompt per request (an array of several strings is not served)");
    if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() > INT32_MAX) {
      bad_field("prompt", "token ids must be non-negative integers");
    }
    r.prompt_ids.push_back(int32_t(t.get<int64_t>()));
  }
}

std::vector<std::string> parse_stop(const json& body) {
  const json* stop = field(body, "stop");
  if (!stop) return {};
  if (stop->is_string()) return {stop->get<std::string>()};
  if (!stop->is_array()) bad_field("stop", "must be a string or an array of strings");
  if (stop->size() > 16) bad_field("stop", "holds at most 16 strings");
  std::vector<std::string> out;
  for (const json& s : *stop) {
    if (!s.is_string()) bad_field("stop", "must be a string or an array of strings");
    if (!s.get<std::string>().empty()) out.push_back(s.get<std::string>());
  }
  return out;
}

}  // namespace

json error_body(const ApiError& e) {
  return {{"error",
           {{"message", e.what()},
            {"type", e.type},
            {"param", e.param.empty() ? json(nullptr) : json(e.param)},
            {"code", e.code.empty() ? json(nullptr) : json(e.code)}}}};
}

CompletionRequest parse_completion_request(const std::string& body_text, bool chat, const GenerateOptions& defaults) {
  json body = json::parse(body_text, nullptr, false);
  if (body.is_discarded()) throw ApiError(400, "the request body is not valid JSON");
  if (!body.is_object()) throw ApiError(400, "the request body must be a JSON object");

  CompletionRequest r;
  r.chat = chat;
  if (const json* model = field(body, "model")) {
    if (!model->is_string()) bad_field("model", "must be a string");
    r.model = model->get<std::string>();
  }
  if (chat) r.messages = parse_messages(body);
  else parse_prompt(body, r);

  GenerateOptions& o = r.options;
  o = defaults;
  o.max_tokens = -1;  // the context bounds it unless the request does
  constexpr int64_t kMaxTokens = INT32_MAX;
  const int64_t max_completion = integer(body, "max_completion_tokens", 0, kMaxTokens, -1);
  o.max_tokens = int32_t(integer(body, "max_tokens", 0, kMaxTokens, max_completion));
  SamplingParams& s = o.sampling;
  s.temperature = float(number(body, "temperature", 0, 2, s.temperature));
  s.top_p = float(number(body, "top_p", 0, 1, s.top_p));
  const int64_t top_k = integer(body, "top_k", -1, INT32_MAX, s.top_k);
  s.top_k = top_k < 0 ? 0 : int32_t(top_k);
  s.min_p = float(number(body, "min_p", 0, 1, s.min_p));
  s.presence_penalty = float(number(body, "presence_penalty", -2, 2, s.presence_penalty));
  s.frequency_penalty = float(number(body, "frequency_penalty", -2, 2, s.frequency_penalty));
  s.repeat_penalty = float(number(body, "repetition_penalty", 1e-6, 100, s.repeat_penalty));
  if (const json* seed = field(body, "seed")) {
    if (!seed->is_number_integer()) bad_field("seed", "must be an integer");
    r.seed = seed->is_number_unsigned() ? seed->get<uint64_t>() : uint64_t(seed->get<int64_t>());
  }
  o.stop = parse_stop(body);
  o.ignore_eos = boolean(body, "ignore_eos", false);
  r.n = uint32_t(integer(body, "n", 1, 16, 1));
  r.stream = boolean(body, "stream", false);
  if (const json* so = field(body, "stream_options")) {
    if (!so->is_object()) bad_field("stream_options", "must be an object");
    r.include_usage = boolean(*so, "include_usage", false);
  }
  // Chat takes logprobs as a flag and top_logprobs as the count; completions
  // (OpenAI's legacy API) take logprobs as the count.
  if (chat) {
    const bool on = boolean(body, "logprobs", false);
    const int64_t top = integer(body, "top_logprobs", 0, 20, 0);
    if (field(body, "top_logprobs") && !on) bad_field("top_logprobs", "needs \"logprobs\": true");
    r.logprobs = on ? int32_t(top) : -1;
  } else {
    r.logprobs = field(body, "logprobs") ? int32_t(integer(body, "logprobs", 0, 20, 0)) : -1;
  }
  r.options.logprobs = r.logprobs;
  return r;
}

std::string finish_reason(const std::string& stop_reason) {
  return stop_reason == "max tokens" || stop_reason == "context full" ? "length" : "stop";
}

json logprobs_json(bool chat, const std::vector<TokenInfo>& tokens, size_t text_offset) {
  auto bytes = [](const std::string& t) {
    json b = json::array();
    for (unsigned char c : t) b.push_back(int(c));
    return b;
  };
  if (chat) {
    json content = json::array();
    for (const TokenInfo& t : tokens) {
      json top = json::array();
      for (const auto& [text, lp] : t.top) top.push_back({{"token", text}, {"logprob", lp}, {"bytes", bytes(text)}});
      content.push_back({{"token", t.text}, {"logprob", t.logprob}, {"bytes", bytes(t.text)}, {"top_logprobs", top}});
    }
    return {{"content", content}, {"refusal", nullptr}};
  }
  json out = {{"tokens", json::array()}, {"token_logprobs", json::array()}, {"top_logprobs", json::array()},
              {"text_offset", json::array()}};
  for (const TokenInfo& t : tokens) {
    out["tokens"].push_back(t.text);
    out["token_logprobs"].push_back(t.logprob);
    json top = json::object();
    for (const auto& [text, lp] : t.top) {
      if (!top.contains(text)) top[text] = lp;  // two ids may share a text: the likelier one stays
    }
    out["top_logprobs"].push_back(top);
    out["text_offset"].push_back(text_offset);
    text_offset += t.text.size();
  }
  return out;
}

json usage_json(const Usage& u) {
  return {{"prompt_tokens", u.prompt_tokens},
          {"completion_tokens", u.completion_tokens},
          {"total_tokens", u.prompt_tokens + u.completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", u.cached_tokens}}}};
}

json completion_json(bool chat, const ResponseIds& ids, const std::vector<Choice>& choices, const Usage& u) {
  json out = {{"id", ids.id},
              {"object", chat ? "chat.completion" : "text_completion"},
              {"created", ids.created},
              {"model", ids.model},
              {"choices", json::array()},
              {"usage", usage_json(u)}};
  for (size_t i = 0; i < choices.size(); ++i) {
    json c = {{"index", i}, {"finish_reason", choices[i].finish_reason}, {"logprobs", choices[i].logprobs}};
    if (chat) c["message"] = {{"role", "assistant"}, {"content", choices[i].text}};
    else c["text"] = choices[i].text;
    out["choices"].push_back(std::move(c));
  }
  return out;
}

json chunk_json(bool chat, const ResponseIds& ids, uint32_t index, const std::string& text,
                const std::optional<std::string>& finish, bool first, const json& logprobs) {
  json c = {{"index", index}, {"finish_reason", finish ? json(*finish) : json(nullptr)}, {"logprobs", logprobs}};
  if (chat) {
    json delta = json::object();
    if (first) delta["role"] = "assistant";
    if (!finish || !text.empty()) delta["content"] = text;
    c["delta"] = std::move(delta);
  } else {
    c["text"] = text;
  }
  return {{"id", ids.id},
          {"object", chat ? "chat.completion.chunk" : "text_completion"},
          {"created", ids.created},
          {"model", ids.model},
          {"choices", json::array({std::move(c)})}};
}

json usage_chunk_json(bool chat, const ResponseIds& ids, const Usage& u) {
  return {{"id", ids.id},
          {"object", chat ? "chat.completion.chunk" : "text_completion"},
          {"created", ids.created},
          {"model", ids.model},
          {"choices", json::array()},
          {"usage", usage_json(u)}};
}

}  // namespace vkmind::server
