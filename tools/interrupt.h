// Ctrl-C for the CLI, as llama.cpp users know it: the first SIGINT only
// raises a flag (generation stops through the engine's cancel path, a chat
// returns to its prompt); a second one within a second ends the process.
#pragma once

namespace vkmind::cli {

// Exit status of a run ended by Ctrl-C (128 + SIGINT, as a shell reports it).
inline constexpr int kExitInterrupted = 130;

// Installs the SIGINT handler for its lifetime (the previous one comes back
// after). One at a time: a signal handler can only reach process-wide state.
class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  bool pending() const;  // a Ctrl-C arrived since the last clear()
  void clear();
  // While reading input the reader handles every Ctrl-C itself (it may have
  // the terminal in raw mode), so a quick second one does not end the process.
  void set_reading(bool reading);
};

}  // namespace vkmind::cli
