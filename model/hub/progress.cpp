#include "model/hub/progress.h"

#include <cstdio>

namespace vkmind::hub {

std::string format_bytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = double(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  char buf[32];
  if (unit == 0) {
    std::snprintf(buf, sizeof buf, "%llu B", (unsigned long long)bytes);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", value, kUnits[unit]);
  }
  return buf;
}

DownloadProgress::DownloadProgress(bool enabled, std::string file, uint64_t total_bytes, uint64_t already)
    : enabled_(enabled), file_(std::move(file)), total_(total_bytes), already_(already),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {
  if (enabled_) draw(false);
}

DownloadProgress::~DownloadProgress() {
  if (enabled_) draw(true);
}

void DownloadProgress::advance(uint64_t bytes) {
  received_ += bytes;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(200)) return;
  last_draw_ = now;
  draw(false);
}

void DownloadProgress::draw(bool final) {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const uint64_t done = already_ + received_;
  const std::string speed = seconds > 0.05 ? format_bytes(uint64_t(double(received_) / seconds)) + "/s" : "";
  if (total_ > 0) {
    std::fprintf(stderr, "\r%s  %s / %s  %3.0f%%  %s\x1b[K", file_.c_str(), format_bytes(done).c_str(),
                 format_bytes(total_).c_str(), 100.0 * double(done) / double(total_), speed.c_str());
  } else {
    std::fprintf(stderr, "\r%s  %s  %s\x1b[K", file_.c_str(), format_bytes(done).c_str(), speed.c_str());
  }
  if (final) std::fputc('\n', stderr);
  std::fflush(stderr);
}

}  // namespace vkmind::hub
