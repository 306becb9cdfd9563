#include "server/http_server.h"

#include <httplib.h>

#include <sys/socket.h>

#include <chrono>
#include <cstdio>

#include "runtime/vk/error.h"
#include "server/completions.h"

#include <nlohmann/json.hpp>

namespace vkmind::server {

namespace {

using Clock = std::chrono::steady_clock;

// What the access log line needs beyond the request and response; the
// handler, a stream's content provider and the logger all run on the
// connection's worker thread.
struct LogEntry {
  Clock::time_point start;
  uint64_t tokens = 0;
};
thread_local LogEntry log_entry;

// Equal without a timing that depends on where the first difference is.
bool same_secret(const std::string& given, const std::string& key) {
  unsigned char diff = given.size() == key.size() ? 0 : 1;
  for (size_t i = 0; i < given.size(); ++i) diff |= uint8_t(given[i]) ^ uint8_t(key[i % std::max<size_t>(key.size(), 1)]);
  return diff == 0;
}

}  // namespace

struct HttpServer::Impl {
  ServerOptions options;
  httplib::Server http;
  Metrics metrics;
  InFlight in_flight;
  std::atomic<Engine*> engine{nullptr};
  std::atomic<bool> stopping{false};
  int listen_socket = -1;
  std::thread listener;
  const int64_t created = int64_t(std::time(nullptr));

  explicit Impl(ServerOptions o) : options(std::move(o)) {
    // One worker per connection: every streaming client holds one.
    const size_t workers = size_t(options.parallel) + options.max_queue + 8;
    http.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
    http.set_payload_max_length(options.max_body_bytes);
    http.set_keep_alive_timeout(5);
    // cpp-httplib listens with a backlog of 5: a burst of clients (32 at once)
    // would overflow it. The socket is taken here and given a full backlog
    // once bound; SO_REUSEADDR as the library's default sets it (and not
    // SO_REUSEPORT, so that a port in use is an error).
    http.set_socket_options([this](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
      listen_socket = sock;
    });
    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      log_entry = {Clock::now(), 0};
      return authorize(req, res) ? httplib::Server::HandlerResponse::Unhandled
                                 : httplib::Server::HandlerResponse::Handled;
    });
    http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      if (res.status == 413) send_error(res, 413, "the request body is larger than the server takes (--max-body)");
      else if (res.status == 404) send_error(res, 404, "no route " + req.method + " " + req.path, "not_found_error");
      else send_error(res, res.status, "HTTP " + std::to_string(res.status), "invalid_request_error");
    });
    http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      metrics.request_done(res.status);
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - log_entry.start).count();
      std::fprintf(stderr, "%s %s %d %llu tokens %.1f ms\n", req.method.c_str(), req.path.c_str(), res.status,
                   (unsigned long long)log_entry.tokens, ms);
    });
    routes();
  }

  bool authorize(const httplib::Request& req, httplib::Response& res) {
    if (options.api_key.empty() || req.path.rfind("/v1", 0) != 0) return true;
    const std::string header = req.get_header_value("Authorization");
    const std::string prefix = "Bearer ";
    if (header.rfind(prefix, 0) == 0 && same_secret(header.substr(prefix.size()), options.api_key)) return true;
    send_error(res, 401, header.empty() ? "an API key is required: Authorization: Bearer KEY" : "the API key is wrong",
               "invalid_request_error", "", "invalid_api_key");
    return false;
  }

  // The engine, or a 503 while the model loads or the server stops.
  Engine* ready(httplib::Response& res) {
    Engine* e = engine.load();
    if (!e) send_error(res, 503, "the model is still loading", "server_error", "", "model_loading");
    else if (stopping) send_error(res, 503, "the server is shutting down", "server_error", "", "shutting_down");
    else return e;
    res.set_header("Retry-After", "1");
    return nullptr;
  }

  void routes() {
    http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
      const bool up = engine.load() && !stopping;
      res.status = up ? 200 : 503;
      res.set_content(up ? R"({"status":"ok"})" : engine.load() ? R"({"status":"stopping"})" : R"({"status":"loading"})",
                      "application/json");
    });
    http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      Engine* e = engine.load();
      res.set_content(metrics.render(e ? e->kv_stats() : KvStats{}, options.parallel, in_flight.count()),
                      "text/plain; version=0.0.4");
    });
    auto model_json = [this] {
      return nlohmann::json{{"id", options.model_id}, {"object", "model"}, {"created", created}, {"owned_by", "vkmind"}};
    };
    http.Get("/v1/models", [this, model_json](const httplib::Request&, httplib::Response& res) {
      if (!ready(res)) return;
      res.set_content(nlohmann::json{{"object", "list"}, {"data", {model_json()}}}.dump(), "application/json");
    });
    http.Get(R"(/v1/models/(.+))", [this, model_json](const httplib::Request& req, httplib::Response& res) {
      if (!ready(res)) return;
      if (req.matches[1] != options.model_id) {
        return send_error(res, 404, "the model '" + std::string(req.matches[1]) + "' does not exist",
                          "invalid_request_error", "model", "model_not_found");
      }
      res.set_content(model_json().dump(), "application/json");
    });
    for (const bool chat : {true, false}) {
      http.Post(chat ? "/v1/chat/completions" : "/v1/completions",
                [this, chat](const httplib::Request& req, httplib::Response& res) {
                  Engine* e = ready(res);
                  if (!e) return;
                  handle_completion({*e, metrics, in_flight, options}, req, res, chat, log_entry.tokens);
                });
    }
  }
};

HttpServer::HttpServer(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

HttpServer::~HttpServer() { stop(); }

int HttpServer::bind() {
  Impl& s = *impl_;
  const int port = s.options.port == 0 ? s.http.bind_to_any_port(s.options.host)
                                       : (s.http.bind_to_port(s.options.host, s.options.port) ? s.options.port : -1);
  if (port < 0) {
    throw Error("cannot listen on " + s.options.host + ":" + std::to_string(s.options.port) +
                " (address in use, not local, or not permitted)");
  }
  if (s.listen_socket >= 0) ::listen(s.listen_socket, SOMAXCONN);
  return port;
}

void HttpServer::start() {
  impl_->listener = std::thread([this] { impl_->http.listen_after_bind(); });
}

void HttpServer::set_engine(Engine* engine) { impl_->engine = engine; }

void HttpServer::stop() {
  Impl& s = *impl_;
  if (!s.listener.joinable()) return;
  s.stopping = true;
  // No new connections from here; requests already in flight get the grace period.
  const auto deadline = Clock::now() + std::chrono::duration<double>(s.options.grace_seconds);
  while (s.in_flight.count() > 0 && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (Engine* e = s.engine.load()) s.in_flight.cancel_all(*e);
  s.http.stop();
  s.listener.join();
}

}  // namespace vkmind::server
