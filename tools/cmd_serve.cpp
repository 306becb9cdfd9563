// `vkmind serve -m MODEL [--host 127.0.0.1] [--port 8080] [--parallel 16]
// [--api-key KEY]`: the OpenAI-compatible server (server/). It listens before
// the model loads (/health says 503 until then) and stops on SIGTERM or
// SIGINT: running requests get --grace seconds, then are cancelled; exit 0.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <pthread.h>
#include <thread>

#include "server/http_server.h"
#include "tools/commands.h"
#include "tools/engine_flags.h"

namespace vkmind::cli {

namespace {

struct ServeFlags {
  ModelFlags model;
  server::ServerOptions server;
  std::string alias;
};

void run(ServeFlags& f) {
  if (f.server.api_key.empty()) {
    if (const char* key = std::getenv("VKMIND_API_KEY")) f.server.api_key = key;
  }
  f.server.model_id = f.alias.empty() ? model_name(f.model.model) : f.alias;
  f.server.parallel = f.model.engine.parallel;

  // The signals are taken by one thread with sigwait, never by a handler
  // interrupting the workers; blocked before any thread starts so all inherit it.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a client gone mid-write is an error return, not a death

  server::HttpServer http(f.server);
  const int port = http.bind();
  http.start();
  std::fprintf(stderr, "vkmind serve: listening on http://%s:%d (loading %s)\n", f.server.host.c_str(), port,
               f.model.model.c_str());
  std::atomic<bool> signalled{false};
  std::thread watcher([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    signalled = true;
    std::fprintf(stderr, "vkmind serve: %s: stopping (running requests get %.0f s)\n",
                 sig == SIGTERM ? "SIGTERM" : "SIGINT", f.server.grace_seconds);
    http.stop();
  });
  std::unique_ptr<Engine> engine;
  try {
    engine = open_engine(f.model);
  } catch (...) {
    pthread_kill(watcher.native_handle(), SIGTERM);  // wakes the watcher, which stops the server
    watcher.join();
    throw;
  }
  if (!signalled) {
    http.set_engine(engine.get());
    std::fprintf(stderr, "vkmind serve: ready: model '%s' on %s, %u sequences at once\n", f.server.model_id.c_str(),
                 engine->device_name().c_str(), f.server.parallel);
  }
  watcher.join();  // returns once a signal has stopped the server
  std::fprintf(stderr, "vkmind serve: stopped\n");
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto f = std::make_shared<ServeFlags>();
  f->model.engine.parallel = 16;
  auto* cmd = app.add_subcommand("serve", "Serve the OpenAI API (chat/completions, completions, models) over HTTP");
  add_model_flags(*cmd, f->model);
  add_chat_template_flag(*cmd, f->model);
  cmd->add_option("--host", f->server.host, "Address to listen on (loopback by default)");
  cmd->add_option("--port", f->server.port, "Port (0: any free one)")->check(integer_in(0, 65535));
  add_batching_flags(*cmd, f->model);
  cmd->add_option("--api-key", f->server.api_key, "Require 'Authorization: Bearer KEY' on /v1 (default: $VKMIND_API_KEY)");
  cmd->add_option("--alias", f->alias, "The model's name in the API (default: its file or folder name)");
  cmd->add_option("--max-queue", f->server.max_queue, "Requests queued beyond --parallel; more get 429")
      ->check(integer_in(0, 100000));
  cmd->add_option("--max-body", f->server.max_body_bytes, "Largest request body in bytes; larger get 413")
      ->check(integer_in(1024, int64_t(1) << 30));
  cmd->add_option("--grace", f->server.grace_seconds, "Seconds running requests get to finish on SIGTERM")
      ->check(number_in(0, 3600));
  SamplingParams& s = f->server.defaults.sampling;
  cmd->add_option("--temp", s.temperature, "Default temperature")->check(number_in(0, 2));
  cmd->add_option("--top-k", s.top_k, "Default top-k (0: off)")->check(integer_in(0, INT32_MAX));
  cmd->add_option("--top-p", s.top_p, "Default top-p (1: off)")->check(number_in(0, 1));
  cmd->add_option("--min-p", s.min_p, "Default min-p (0: off)")->check(number_in(0, 1));
  cmd->callback([f] { run(*f); });
}

}  // namespace vkmind::cli
