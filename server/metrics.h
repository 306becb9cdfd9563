// The server's counters and latency histograms, rendered in Prometheus'
// text exposition format for GET /metrics. Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "include/vkmind/engine.h"

namespace vkmind::server {

class Histogram {
 public:
  void observe(double seconds);
  // Appends `name`_bucket{le=...}, _sum and _count lines.
  void render(std::string& out, const std::string& name, const std::string& help) const;

 private:
  static constexpr std::array<double, 12> kBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                     0.5,   1,    2.5,   5,    10,  30};
  std::array<uint64_t, kBounds.size()> counts_{};  // per bucket (not cumulative)
  uint64_t count_ = 0;
  double sum_ = 0;
};

class Metrics {
 public:
  void request_done(int status);  // every HTTP request, by status code
  void generation_done(const GenerationStats& stats);
  void time_to_first_token(double seconds);
  void inter_token(double seconds);

  // The gauges come at scrape time: the engine's KV statistics, its
  // sequences at once, and the generations submitted and not yet finished.
  std::string render(const KvStats& kv, uint32_t parallel, uint64_t in_flight) const;

 private:
  mutable std::mutex mutex_;
  std::map<int, uint64_t> requests_by_status_;
  uint64_t prompt_tokens_ = 0, cached_tokens_ = 0, generated_tokens_ = 0, generations_ = 0;
  Histogram ttft_, itl_;
};

}  // namespace vkmind::server
