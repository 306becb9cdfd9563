// vkmind-serve: `vkmind serve` itself. `vkmind` checks the flags and runs this
// program in its place (cmd_serve.cpp), so that only serving loads cpp-httplib
// and the OpenSSL it initializes as it loads (~2 ms of every other command's
// start-up). It listens before the model loads (/health says 503 until then)
// and stops on SIGTERM or SIGINT: running requests get --grace seconds, then
// are cancelled; exit 0.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <pthread.h>
#include <string>
#include <thread>
#include <vector>

#include "server/http_server.h"
#include "tools/cli_main.h"
#include "tools/serve_flags.h"

namespace vkmind::cli {
namespace {

void serve(ServeFlags& f) {
  if (f.server.api_key.empty()) {
    if (const char* key = std::getenv("VKMIND_API_KEY")) f.server.api_key = key;
  }
  f.server.model_id = f.alias.empty() ? model_name(f.model.model) : f.alias;
  f.server.parallel = f.model.engine.parallel;
  // Every step size's pipelines while /health still says 503, so that no
  // request waits for the driver's compiler.
  f.model.engine.prepare_steps = true;

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
}  // namespace vkmind::cli

int main(int argc, char** argv) {
  CLI::App app{"vkmind serve: the OpenAI API over HTTP (what `vkmind serve` runs)"};
  app.require_subcommand(1);
  vkmind::cli::configure_app(app);
  auto flags = std::make_shared<vkmind::cli::ServeFlags>();
  add_serve_subcommand(app, *flags)->callback([flags] { vkmind::cli::serve(*flags); });
  // `vkmind-serve --port 8080 ...` works as well as `vkmind-serve serve --port 8080 ...`.
  std::vector<char*> args(argv, argv + argc);
  static char serve_word[] = "serve";
  const bool named = argc >= 2 && (std::strcmp(argv[1], "serve") == 0 || std::strcmp(argv[1], "--version") == 0);
  if (!named) args.insert(args.begin() + 1, serve_word);
  return vkmind::cli::run_app(app, int(args.size()), args.data());
}
