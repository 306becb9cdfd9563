// A one-line download progress report on stderr (file, bytes, speed),
// redrawn at most a few times a second; silent when disabled.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace vkmind::hub {

class DownloadProgress {
 public:
  DownloadProgress(bool enabled, std::string file, uint64_t total_bytes, uint64_t already);
  ~DownloadProgress();  // ends the line
  DownloadProgress(const DownloadProgress&) = delete;
  DownloadProgress& operator=(const DownloadProgress&) = delete;
  void advance(uint64_t bytes);

 private:
  void draw(bool final);
  bool enabled_;
  std::string file_;
  uint64_t total_, already_, received_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// "1.5 GiB", "12.0 MiB", "340 B".
std::string format_bytes(uint64_t bytes);

}  // namespace vkmind::hub
