// Runs the real `vkmind` binary from a test: with pipes (stdin text in,
// stdout and stderr out) or on a pseudo-terminal (typed input, Ctrl-C as the
// terminal delivers it). Every wait has a deadline, so a hang fails the test
// instead of stalling ctest.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace vkmind::test {

struct ProcessResult {
  int status = -1;      // exit status, or -1 when killed by a signal
  int signal = 0;       // the signal that ended it, 0 when it exited
  bool timed_out = false;
  std::string out, err;
};

struct ProcessOptions {
  std::string stdin_text;
  bool close_stdin = true;                    // else stdin stays open (a pipe nobody writes)
  std::map<std::string, std::string> env;     // added to (or replacing in) the environment
  std::chrono::milliseconds timeout{120000};
};

// Runs argv[0] (a path) to completion.
ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options = {});

// A process with pipes that the test talks to while it runs.
class PipedProcess {
 public:
  PipedProcess(const std::vector<std::string>& argv, const ProcessOptions& options = {});
  ~PipedProcess();  // kills it if still running
  PipedProcess(const PipedProcess&) = delete;
  PipedProcess& operator=(const PipedProcess&) = delete;

  void write(const std::string& text);
  void close_input();
  // Reads until stdout holds `text` after `from` (bytes); false on timeout or exit.
  bool wait_for_output(const std::string& text, size_t from = 0, std::chrono::milliseconds timeout = std::chrono::seconds(60));
  void signal(int sig);
  ProcessResult wait(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }
  pid_t pid() const { return pid_; }

 private:
  bool pump(int timeout_ms);
  pid_t pid_ = -1;
  int in_ = -1, out_fd_ = -1, err_fd_ = -1;
  std::string out_, err_;
  int status_ = 0;
  bool exited_ = false;
};

// A process on a pseudo-terminal: stdin, stdout and stderr are the terminal.
class PtyProcess {
 public:
  PtyProcess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {});
  ~PtyProcess();
  PtyProcess(const PtyProcess&) = delete;
  PtyProcess& operator=(const PtyProcess&) = delete;

  void type(const std::string& text);  // as if typed: "\x03" is Ctrl-C, "\x04" Ctrl-D
  void type_all(const std::string& text);  // in one write, as a paste arrives
  // Reads until the output after `from` holds `text`; false on timeout or exit.
  bool expect(const std::string& text, size_t from, std::chrono::milliseconds timeout = std::chrono::seconds(60));
  ProcessResult wait(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  const std::string& output() const { return output_; }

 private:
  bool pump(int timeout_ms);
  pid_t pid_ = -1;
  int master_ = -1;
  std::string output_;
  int status_ = 0;
  bool exited_ = false;
};

}  // namespace vkmind::test
