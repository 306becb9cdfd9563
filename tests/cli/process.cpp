#include "tests/cli/process.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

namespace vkmind::test {

namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : int(left);
}

// In the child, after fork: environment, then exec (or exit 127).
[[noreturn]] void exec_child(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env) {
  // As a user's shell starts it: default signal handling, nothing blocked
  // (a test runner started in the background may ignore SIGINT).
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGPIPE, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execv(args[0], args.data());
  ::_exit(127);
}

// Appends what `fd` has now; false at end of file.
bool drain(int fd, std::string& into) {
  char buf[8192];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  if (n > 0) {
    into.append(buf, size_t(n));
    return true;
  }
  return n < 0 && (errno == EINTR || errno == EAGAIN);
}

ProcessResult result_of(int status, bool exited_normally) {
  ProcessResult r;
  if (!exited_normally) return r;
  if (WIFEXITED(status)) r.status = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  return r;
}

}  // namespace

PipedProcess::PipedProcess(const std::vector<std::string>& argv, const ProcessOptions& options) {
  int in[2], out[2], err[2];
  if (::pipe(in) || ::pipe(out) || ::pipe(err)) throw std::runtime_error("pipe failed");
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) ::close(fd);
    exec_child(argv, options.env);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  in_ = in[1];
  out_fd_ = out[0];
  err_fd_ = err[0];
  ::signal(SIGPIPE, SIG_IGN);  // a child that exits early must not kill the test
  if (!options.stdin_text.empty()) write(options.stdin_text);
  if (options.close_stdin) close_input();
}

PipedProcess::~PipedProcess() {
  if (!exited_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status_, 0);
  }
  for (int fd : {in_, out_fd_, err_fd_}) {
    if (fd >= 0) ::close(fd);
  }
}

void PipedProcess::write(const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(in_, text.data() + done, text.size() - done);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;  // the child closed its stdin
    }
    done += size_t(n);
  }
}

void PipedProcess::close_input() {
  if (in_ >= 0) ::close(in_);
  in_ = -1;
}

bool PipedProcess::pump(int timeout_ms) {
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  const int n = ::poll(fds, 2, timeout_ms);
  if (n <= 0) return out_fd_ >= 0 || err_fd_ >= 0;
  for (int i = 0; i < 2; ++i) {
    int& fd = i == 0 ? out_fd_ : err_fd_;
    if (fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) && !drain(fd, i == 0 ? out_ : err_)) {
      ::close(fd);
      fd = -1;
    }
  }
  return out_fd_ >= 0 || err_fd_ >= 0;
}

bool PipedProcess::wait_for_output(const std::string& text, size_t from, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    if (out_.size() > from && out_.find(text, from) != std::string::npos) return true;
    if (Clock::now() >= deadline) return false;
    if (!pump(std::min(remaining_ms(deadline), 100)) && out_.find(text, from) == std::string::npos) return false;
  }
}

void PipedProcess::signal(int sig) { ::kill(pid_, sig); }

ProcessResult PipedProcess::wait(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  bool timed_out = false;
  while (out_fd_ >= 0 || err_fd_ >= 0) {
    if (Clock::now() >= deadline) {
      timed_out = true;
      break;
    }
    pump(std::min(remaining_ms(deadline), 100));
  }
  if (timed_out) ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status_, 0);
  exited_ = true;
  ProcessResult r = result_of(status_, true);
  r.timed_out = timed_out;
  r.out = out_;
  r.err = err_;
  return r;
}

ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options) {
  PipedProcess p(argv, options);
  return p.wait(options.timeout);
}

PtyProcess::PtyProcess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env) {
  winsize size{};
  size.ws_row = 40;
  size.ws_col = 200;
  pid_ = ::forkpty(&master_, nullptr, nullptr, &size);
  if (pid_ < 0) throw std::runtime_error("forkpty failed");
  if (pid_ == 0) {
    auto all = env;
    if (!all.count("TERM")) all["TERM"] = "xterm";
    exec_child(argv, all);
  }
}

PtyProcess::~PtyProcess() {
  if (!exited_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status_, 0);
  }
  if (master_ >= 0) ::close(master_);
}

void PtyProcess::type(const std::string& text) {
  // One byte at a time with a pause, as typing: a line discipline or line
  // editor sees keys, not a paste.
  for (char c : text) {
    if (::write(master_, &c, 1) != 1) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

void PtyProcess::type_all(const std::string& text) {
  if (::write(master_, text.data(), text.size()) != ssize_t(text.size())) return;
}

bool PtyProcess::pump(int timeout_ms) {
  if (master_ < 0) return false;
  pollfd fd{master_, POLLIN, 0};
  if (::poll(&fd, 1, timeout_ms) <= 0) return true;
  char buf[8192];
  const ssize_t n = ::read(master_, buf, sizeof buf);
  if (n > 0) {
    output_.append(buf, size_t(n));
    return true;
  }
  if (n < 0 && errno == EINTR) return true;
  return false;  // EIO: the child closed the terminal
}

bool PtyProcess::expect(const std::string& text, size_t from, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    if (output_.size() > from && output_.find(text, from) != std::string::npos) return true;
    if (Clock::now() >= deadline) return false;
    if (!pump(std::min(remaining_ms(deadline), 100))) return output_.find(text, from) != std::string::npos;
  }
}

ProcessResult PtyProcess::wait(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  bool timed_out = false;
  while (true) {
    const pid_t done = ::waitpid(pid_, &status_, WNOHANG);
    if (done == pid_) break;
    if (Clock::now() >= deadline) {
      timed_out = true;
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status_, 0);
      break;
    }
    pump(50);
  }
  while (pump(0) && master_ >= 0) {
    pollfd fd{master_, POLLIN, 0};
    if (::poll(&fd, 1, 0) <= 0) break;
  }
  exited_ = true;
  ProcessResult r = result_of(status_, true);
  r.timed_out = timed_out;
  r.out = output_;
  return r;
}

}  // namespace vkmind::test
