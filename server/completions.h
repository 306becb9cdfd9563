// POST /v1/completions and /v1/chat/completions: a checked OpenAI request
// becomes `n` engine requests (sharing the prompt's KV blocks through the
// prefix cache), answered whole or streamed as server-sent events. A client
// that goes away cancels its requests.
#pragma once

#include <cstdint>
#include <mutex>
#include <set>
#include <string>

#include "include/vkmind/engine.h"
#include "server/http_server.h"
#include "server/metrics.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace vkmind::server {

// The engine requests the server has submitted and not yet collected, so
// that a stop can cancel them and the queue bound can count them.
class InFlight {
 public:
  // Reserves `n` places, each taken by add(); false when that would pass `limit`.
  bool reserve(uint32_t n, uint64_t limit);
  void add(RequestId id);
  void remove(RequestId id);  // a collected request gives back its place
  uint64_t count() const;
  void cancel_all(Engine& engine) const;

 private:
  mutable std::mutex mutex_;
  std::set<RequestId> ids_;
  uint64_t reserved_ = 0;
};

struct CompletionContext {
  Engine& engine;
  Metrics& metrics;
  InFlight& in_flight;
  const ServerOptions& options;
};

// Fills `res`; `tokens_out` gets the completion tokens for the access log.
void handle_completion(const CompletionContext& ctx, const httplib::Request& req, httplib::Response& res, bool chat,
                       uint64_t& tokens_out);

// Writes an OpenAI-style error response.
void send_error(httplib::Response& res, int status, const std::string& message,
                const std::string& type = "invalid_request_error", const std::string& param = "",
                const std::string& code = "");

}  // namespace vkmind::server
