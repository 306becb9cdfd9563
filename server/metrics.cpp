#include "server/metrics.h"

#include <algorithm>
#include <cstdio>

namespace vkmind::server {

namespace {
void line(std::string& out, const char* fmt, auto... args) {
  char buf[256];
  std::snprintf(buf, sizeof buf, fmt, args...);
  out += buf;
}
void header(std::string& out, const std::string& name, const char* type, const std::string& help) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}
}  // namespace

void Histogram::observe(double seconds) {
  for (size_t i = 0; i < kBounds.size(); ++i) {
    if (seconds <= kBounds[i]) {
      ++counts_[i];
      break;
    }
  }
  ++count_;
  sum_ += seconds;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& help) const {
  header(out, name, "histogram", help);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBounds.size(); ++i) {
    cumulative += counts_[i];
    line(out, "%s_bucket{le=\"%g\"} %llu\n", name.c_str(), kBounds[i], (unsigned long long)cumulative);
  }
  line(out, "%s_bucket{le=\"+Inf\"} %llu\n", name.c_str(), (unsigned long long)count_);
  line(out, "%s_sum %.6f\n%s_count %llu\n", name.c_str(), sum_, name.c_str(), (unsigned long long)count_);
}

void Metrics::request_done(int status) {
  std::lock_guard lock(mutex_);
  ++requests_by_status_[status];
}

void Metrics::generation_done(const GenerationStats& stats) {
  std::lock_guard lock(mutex_);
  ++generations_;
  prompt_tokens_ += stats.prompt_tokens;
  cached_tokens_ += stats.cached_prompt_tokens;
  generated_tokens_ += stats.generated_tokens;
}

void Metrics::time_to_first_token(double seconds) {
  std::lock_guard lock(mutex_);
  ttft_.observe(seconds);
}

void Metrics::inter_token(double seconds) {
  std::lock_guard lock(mutex_);
  itl_.observe(seconds);
}

std::string Metrics::render(const KvStats& kv, uint32_t parallel, uint64_t in_flight) const {
  std::lock_guard lock(mutex_);
  std::string out;
  header(out, "vkmind_http_requests_total", "counter", "HTTP requests answered, by status code.");
  for (const auto& [status, n] : requests_by_status_) {
    line(out, "vkmind_http_requests_total{status=\"%d\"} %llu\n", status, (unsigned long long)n);
  }
  header(out, "vkmind_generations_total", "counter", "Generation requests finished (one per choice).");
  line(out, "vkmind_generations_total %llu\n", (unsigned long long)generations_);
  header(out, "vkmind_prompt_tokens_total", "counter", "Prompt tokens of finished generations.");
  line(out, "vkmind_prompt_tokens_total %llu\n", (unsigned long long)prompt_tokens_);
  header(out, "vkmind_cached_prompt_tokens_total", "counter", "Prompt tokens served from the prefix cache.");
  line(out, "vkmind_cached_prompt_tokens_total %llu\n", (unsigned long long)cached_tokens_);
  header(out, "vkmind_generation_tokens_total", "counter", "Tokens generated.");
  line(out, "vkmind_generation_tokens_total %llu\n", (unsigned long long)generated_tokens_);
  const uint64_t running = std::min<uint64_t>(in_flight, parallel);
  header(out, "vkmind_requests_running", "gauge", "Generations holding a sequence slot.");
  line(out, "vkmind_requests_running %llu\n", (unsigned long long)running);
  header(out, "vkmind_requests_waiting", "gauge", "Generations queued for a sequence slot.");
  line(out, "vkmind_requests_waiting %llu\n", (unsigned long long)(in_flight - running));
  header(out, "vkmind_kv_blocks_total", "gauge", "KV cache blocks in the pool.");
  line(out, "vkmind_kv_blocks_total %u\n", kv.blocks_total);
  header(out, "vkmind_kv_blocks_used", "gauge", "KV cache blocks held by sequences.");
  line(out, "vkmind_kv_blocks_used %u\n", kv.blocks_used);
  header(out, "vkmind_kv_blocks_cached", "gauge", "KV cache blocks held by none, kept for the prefix cache.");
  line(out, "vkmind_kv_blocks_cached %u\n", kv.blocks_cached);
  header(out, "vkmind_kv_blocks_free", "gauge", "KV cache blocks neither used nor cached.");
  line(out, "vkmind_kv_blocks_free %u\n", kv.blocks_total - kv.blocks_used - kv.blocks_cached);
  header(out, "vkmind_prefix_cache_hit_rate", "gauge", "Prompt tokens found in the prefix cache over those looked up.");
  line(out, "vkmind_prefix_cache_hit_rate %.6f\n",
       kv.prefix_lookup_tokens ? double(kv.prefix_hit_tokens) / double(kv.prefix_lookup_tokens) : 0.0);
  header(out, "vkmind_prefix_cache_evictions_total", "counter", "Cached blocks evicted for new ones.");
  line(out, "vkmind_prefix_cache_evictions_total %llu\n", (unsigned long long)kv.prefix_evictions);
  ttft_.render(out, "vkmind_time_to_first_token_seconds", "Time from request to first generated token.");
  itl_.render(out, "vkmind_inter_token_latency_seconds", "Time between consecutive generated tokens.");
  return out;
}

}  // namespace vkmind::server
