// InterruptGuard in-process: each case runs in a forked child, since a second
// Ctrl-C within a second ends the process by design.
#include <catch2/catch.hpp>

#include <csignal>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include "tools/interrupt.h"

using vkmind::cli::InterruptGuard;

namespace {

// Runs `body` in a child and returns its exit status (-1 if a signal ended it).
template <typename Body>
int in_child(Body body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::signal(SIGINT, SIG_DFL);
    ::_exit(body());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("the first Ctrl-C only raises the flag, a second within a second exits 130", "[cli]") {
  CHECK(in_child([] {
          InterruptGuard guard;
          ::raise(SIGINT);
          if (!guard.pending()) return 3;
          guard.clear();
          if (guard.pending()) return 4;
          ::raise(SIGINT);  // too soon after the first
          return 5;
        }) == 130);
}

TEST_CASE("Ctrl-C presses more than a second apart do not exit", "[cli]") {
  CHECK(in_child([] {
          InterruptGuard guard;
          ::raise(SIGINT);
          std::this_thread::sleep_for(std::chrono::milliseconds(1100));
          ::raise(SIGINT);
          return guard.pending() ? 0 : 3;
        }) == 0);
}

TEST_CASE("while reading, the reader handles every Ctrl-C (no exit)", "[cli]") {
  CHECK(in_child([] {
          InterruptGuard guard;
          guard.set_reading(true);
          ::raise(SIGINT);
          ::raise(SIGINT);
          return guard.pending() ? 0 : 3;
        }) == 0);
}

TEST_CASE("the previous SIGINT disposition comes back, one guard at a time", "[cli]") {
  CHECK(in_child([] {
          ::signal(SIGINT, SIG_IGN);
          {
            InterruptGuard guard;
            try {
              InterruptGuard second;
              return 3;
            } catch (const std::logic_error&) {
            }
          }
          struct sigaction now {};
          ::sigaction(SIGINT, nullptr, &now);
          return now.sa_handler == SIG_IGN ? 0 : 4;
        }) == 0);
}
