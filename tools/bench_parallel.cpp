// `vkmind bench --parallel N,...`: N concurrent synthetic requests (prompt of
// -p tokens, -n generated, greedy, EOS ignored) on the request API. Per N:
// aggregate decode tokens/s (generated tokens over the span from the first
// to the last generated token), prompt tokens/s (prompt tokens over the span
// to the last first token), time to first token and inter-token latency,
// p50 and p99 over all requests' tokens.
#include "tools/bench_parallel.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <vector>

namespace vkmind::cli {

namespace {

using Clock = std::chrono::steady_clock;

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5));
  return v[i];
}

double ms(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

}  // namespace

void run_parallel_bench(Engine& engine, const std::vector<uint32_t>& parallel, uint32_t prompt_tokens,
                        uint32_t gen_tokens, const std::string& model_name) {
  const uint32_t vocab = engine.vocab_size();
  GenerateOptions g;
  g.sampling.temperature = 0;
  g.max_tokens = int32_t(gen_tokens);
  g.ignore_eos = true;
  std::printf("| model | N | pp | tg | aggregate decode t/s | prompt t/s | TTFT p50 ms | TTFT p99 ms | ITL p50 ms | ITL p99 ms |\n"
              "| ----- | -: | -: | -: | -: | -: | -: | -: | -: | -: |\n");
  for (uint32_t n : parallel) {
    for (int pass = 0; pass < 2; ++pass) {  // pass 0 warms up this batch shape's graphs
      std::mutex mutex;
      std::vector<std::vector<Clock::time_point>> stamps(n);
      std::vector<RequestId> ids;
      const auto start = Clock::now();
      for (uint32_t r = 0; r < n; ++r) {
        // Distinct synthetic prompts: nothing for the prefix cache to share.
        std::vector<int32_t> prompt(prompt_tokens);
        for (uint32_t i = 0; i < prompt_tokens; ++i) prompt[i] = int32_t(vocab / 4 + (r * 104729 + i * 7919) % (vocab / 2));
        ids.push_back(engine.submit(std::move(prompt), g, [&, r](const RequestUpdate& u) {
          if (u.finished) return;
          std::lock_guard lock(mutex);
          stamps[r].push_back(Clock::now());
        }));
      }
      std::vector<double> ttft, itl;
      for (RequestId id : ids) ttft.push_back(engine.wait(id).stats.time_to_first_token_ms);
      if (pass == 0) continue;
      Clock::time_point first_token = Clock::time_point::max(), last_first = start, last = start;
      uint64_t decoded = 0;
      for (const auto& s : stamps) {
        if (s.empty()) continue;
        first_token = std::min(first_token, s.front());
        last_first = std::max(last_first, s.front());
        last = std::max(last, s.back());
        decoded += s.size() - 1;
        for (size_t i = 1; i < s.size(); ++i) itl.push_back(ms(s[i - 1], s[i]));
      }
      const double decode_s = ms(first_token, last) / 1000.0, prompt_s = ms(start, last_first) / 1000.0;
      std::printf("| %s | %u | %u | %u | %.1f | %.1f | %.1f | %.1f | %.2f | %.2f |\n", model_name.c_str(), n,
                  prompt_tokens, gen_tokens, decode_s > 0 ? double(decoded) / decode_s : 0.0,
                  prompt_s > 0 ? double(n) * prompt_tokens / prompt_s : 0.0, percentile(ttft, 0.5),
                  percentile(ttft, 0.99), percentile(itl, 0.5), percentile(itl, 0.99));
      std::fflush(stdout);
    }
  }
}

}  // namespace vkmind::cli
