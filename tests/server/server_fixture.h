// A real `vkmind serve` process on 127.0.0.1 with a port the OS picked
// (--port 0), its stderr (the access log) in a file, and HTTP helpers over
// real sockets (cpp-httplib's client). Every wait has a deadline.
#pragma once

#include <catch2/catch.hpp>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/cli/cli_helpers.h"
#include "tests/scratch_dir.h"

namespace vkmind::test {

using nlohmann::json;

class ServerProcess {
 public:
  explicit ServerProcess(std::vector<std::string> args) {
    log_ = scratch_.path("serve.log");
    std::vector<std::string> argv{"/bin/sh", "-c", "exec \"$0\" serve \"$@\" 2>" + log_, binary(), "--port", "0"};
    argv.insert(argv.end(), args.begin(), args.end());
    process_ = std::make_unique<PipedProcess>(argv);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    std::smatch m;
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string text = log();
      static const std::regex listening("listening on http://127\\.0\\.0\\.1:([0-9]+)");
      if (port_ == 0 && std::regex_search(text, m, listening)) port_ = std::stoi(m[1]);
      if (port_ != 0 && text.find("vkmind serve: ready") != std::string::npos) return;
      if (text.find("error") != std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL("the server did not get ready: " << log());
  }
  ~ServerProcess() {
    if (process_) {
      process_->signal(SIGKILL);
      process_->wait(std::chrono::seconds(10));
    }
  }

  int port() const { return port_; }
  pid_t pid() const { return process_->pid(); }
  std::string log() const {
    std::ifstream in(log_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  std::unique_ptr<httplib::Client> client() const {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", port_);
    c->set_read_timeout(120, 0);
    c->set_write_timeout(30, 0);
    return c;
  }
  // Ends it with `sig` and returns how it exited.
  ProcessResult stop(int sig = SIGTERM) {
    process_->signal(sig);
    ProcessResult r = process_->wait(std::chrono::seconds(60));
    process_.reset();
    return r;
  }
  // Resident memory in KiB (/proc/PID/status VmRSS).
  long rss_kib() const {
    std::ifstream in("/proc/" + std::to_string(pid()) + "/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    }
    return -1;
  }
  // The value of a metric line "name value" in /metrics.
  double metric(const std::string& name) const {
    auto r = client()->Get("/metrics");
    REQUIRE(r);
    std::istringstream lines(r->body);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
    }
    FAIL("no metric " << name);
    return 0;
  }

 private:
  ScratchDir scratch_;
  std::string log_;
  std::unique_ptr<PipedProcess> process_;
  int port_ = 0;
};

inline httplib::Result post_json(httplib::Client& c, const std::string& path, const json& body,
                                 const httplib::Headers& headers = {}) {
  return c.Post(path.c_str(), headers, body.dump(), "application/json");
}

// A streaming POST: `on_data` sees each piece of the body as it comes and
// returns false to hang up.
inline httplib::Result stream_post(httplib::Client& c, const std::string& path, const json& body,
                                   const std::function<bool(const char*, size_t)>& on_data) {
  httplib::Request req;
  req.method = "POST";
  req.path = path;
  req.body = body.dump();
  req.set_header("Content-Type", "application/json");
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) { return on_data(data, n); };
  return c.send(req);
}

// The text of a streamed response: every data chunk's content or text, in order.
struct StreamText {
  std::string text;
  std::vector<json> chunks;
  bool done = false;
};
inline StreamText parse_stream(const std::string& body, bool chat) {
  StreamText s;
  std::istringstream lines(body);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("data: ", 0) != 0) continue;
    const std::string data = line.substr(6);
    if (data == "[DONE]") {
      s.done = true;
      continue;
    }
    json j = json::parse(data);
    s.chunks.push_back(j);
    for (const json& c : j["choices"]) {
      if (chat && c["delta"].contains("content")) s.text += c["delta"]["content"].get<std::string>();
      if (!chat && c.contains("text")) s.text += c["text"].get<std::string>();
    }
  }
  return s;
}

}  // namespace vkmind::test
