#include "tools/interrupt.h"

#include <atomic>
#include <csignal>
#include <cstdint>
#include <ctime>
#include <stdexcept>

#include <unistd.h>

namespace vkmind::cli {

namespace {

// A signal handler sees only process-wide state; these are lock-free atomics
// (async-signal-safe), owned by the one live InterruptGuard.
std::atomic<bool> g_pending{false};
std::atomic<bool> g_reading{false};
std::atomic<int64_t> g_last_ns{INT64_MIN / 2};
std::atomic<bool> g_installed{false};
struct sigaction g_previous;

int64_t monotonic_ns() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return int64_t(t.tv_sec) * 1000000000 + t.tv_nsec;
}

extern "C" void on_sigint(int) {
  const int64_t now = monotonic_ns();
  const int64_t last = g_last_ns.exchange(now);
  if (!g_reading.load() && now - last < 1000000000) {
    static const char bye[] = "\nvkmind: interrupted\n";
    (void)!::write(STDERR_FILENO, bye, sizeof bye - 1);
    ::_exit(kExitInterrupted);
  }
  g_pending.store(true);
}

}  // namespace

InterruptGuard::InterruptGuard() {
  if (g_installed.exchange(true)) throw std::logic_error("InterruptGuard: one at a time");
  g_pending = false;
  g_reading = false;
  struct sigaction action {};
  action.sa_handler = on_sigint;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: a blocked read returns EINTR
  sigaction(SIGINT, &action, &g_previous);
}

InterruptGuard::~InterruptGuard() {
  sigaction(SIGINT, &g_previous, nullptr);
  g_installed = false;
}

bool InterruptGuard::pending() const { return g_pending.load(); }
void InterruptGuard::clear() { g_pending = false; }
void InterruptGuard::set_reading(bool reading) { g_reading = reading; }

}  // namespace vkmind::cli
