// `vkmind serve`'s HTTP side: the OpenAI-compatible routes over an Engine
// (cpp-httplib, one worker thread per connection), authentication, the
// bounded queue, access log, metrics, and a graceful stop. The server listens
// before the model is loaded (GET /health answers 503 until set_engine()).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "include/vkmind/engine.h"
#include "server/metrics.h"

namespace httplib {
class Server;
}

namespace vkmind::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                 // 0: any free port (bind() says which)
  std::string api_key;             // non-empty: /v1 routes need "Authorization: Bearer KEY"
  std::string model_id;            // the name /v1/models lists and requests may give
  uint32_t parallel = 16;          // the engine's sequences at once
  uint32_t max_queue = 64;         // generations waiting beyond those; more get 429
  size_t max_body_bytes = 8 << 20; // larger request bodies get 413
  double grace_seconds = 10;       // on stop: how long running requests may finish
  GenerateOptions defaults;        // sampling for what a request leaves out
};

class HttpServer {
 public:
  explicit HttpServer(ServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the listening socket; returns the port. Throws vkmind::Error naming
  // the address when it cannot (in use, no permission).
  int bind();
  // Serves on a background thread from here on.
  void start();
  // The model is loaded: generation routes and /health open. Not owned.
  void set_engine(Engine* engine);
  // Stops accepting connections, lets running requests finish for the grace
  // period, cancels what remains, and returns when every worker is done.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vkmind::server
