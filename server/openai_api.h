// The OpenAI wire format: request bodies of /v1/completions and
// /v1/chat/completions checked field by field into engine requests, and the
// response objects and stream chunks built from engine results. No I/O here.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "include/vkmind/engine.h"

namespace vkmind::server {

// A request the server refuses, with OpenAI's error body fields.
struct ApiError : std::runtime_error {
  int status;
  std::string type, param, code;
  ApiError(int http_status, const std::string& message, std::string error_type = "invalid_request_error",
           std::string parameter = "", std::string error_code = "")
      : std::runtime_error(message),
        status(http_status),
        type(std::move(error_type)),
        param(std::move(parameter)),
        code(std::move(error_code)) {}
};

// {"error": {"message", "type", "param", "code"}}
nlohmann::json error_body(const ApiError& e);

struct CompletionRequest {
  bool chat = false;
  std::vector<ChatMessage> messages;          // chat
  std::optional<std::string> prompt_text;     // completions: a string
  std::vector<int32_t> prompt_ids;            // completions: token ids
  std::string model;                          // as asked ("" when left out)
  GenerateOptions options;                    // max_tokens -1 when left out
  std::optional<uint64_t> seed;               // left out: the server draws one
  uint32_t n = 1;                             // choices, seeds seed, seed + 1, ...
  bool stream = false;
  bool include_usage = false;                 // stream_options.include_usage
  int32_t logprobs = -1;                      // alternatives per token; -1: no logprobs
};

// Parses and checks a body. Unknown fields are ignored; a known field of the
// wrong type or out of range is an ApiError naming it (400). `defaults`
// supplies what the request leaves out (the server's sampling settings).
CompletionRequest parse_completion_request(const std::string& body, bool chat, const GenerateOptions& defaults);

// OpenAI's finish_reason for an engine stop reason: "stop" or "length".
std::string finish_reason(const std::string& stop_reason);

// One generated token's log-probability and its most likely alternatives,
// with their text.
struct TokenInfo {
  std::string text;
  float logprob = 0;
  std::vector<std::pair<std::string, float>> top;
};
// A choice's `logprobs` object: chat's {"content": [...]} or the legacy
// completions' {"tokens", "token_logprobs", "top_logprobs", "text_offset"}
// (offsets counted from `text_offset`).
nlohmann::json logprobs_json(bool chat, const std::vector<TokenInfo>& tokens, size_t text_offset = 0);

// What one request produced, for the response objects.
struct Choice {
  std::string text;
  std::string finish_reason;
  nlohmann::json logprobs;  // null, or logprobs_json()
};
struct Usage {
  uint32_t prompt_tokens = 0, completion_tokens = 0, cached_tokens = 0;
};

struct ResponseIds {
  std::string id;     // "chatcmpl-..." / "cmpl-..."
  int64_t created;    // Unix seconds
  std::string model;
};

nlohmann::json usage_json(const Usage& u);
nlohmann::json completion_json(bool chat, const ResponseIds& ids, const std::vector<Choice>& choices, const Usage& u);
// A stream chunk: text for choice `index` (chat: delta.content; the first
// chunk of a choice also carries the role), or its finish.
nlohmann::json chunk_json(bool chat, const ResponseIds& ids, uint32_t index, const std::string& text,
                          const std::optional<std::string>& finish, bool first,
                          const nlohmann::json& logprobs = nullptr);
// The last chunk with stream_options.include_usage: no choices, the usage.
nlohmann::json usage_chunk_json(bool chat, const ResponseIds& ids, const Usage& u);

}  // namespace vkmind::server
