// `vkmind bench --parallel N,...`: N concurrent synthetic requests (prompt of
// -p tokens, -n generated, greedy, EOS ignored) on the request API. Per N:
//   aggregate decode t/s: tokens generated while all N decode together (after
//     the last request's first token, up to the first request's last token),
//     over that span: the throughput of a full batch of decode steps, without
//     prefill chunks in between or a tail of fewer sequences;
//   prompt t/s: prompt tokens over the span to the last first token;
//   output t/s: every generated token over the whole run (what a client sees);
//   time to first token and inter-token latency, p50 and p99 over all tokens.
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
  std::printf("| model | N | pp | tg | aggregate decode t/s | prompt t/s | output t/s | TTFT p50 ms | TTFT p99 ms | ITL p50 ms "
              "| ITL p99 ms |\n"
              "| ----- | -: | -: | -: | -: | -: | -: | -: | -: | -: | -: |\n");
  uint64_t serial = 0;  // numbers every request of the run, warm-ups included
  for (uint32_t n : parallel) {
    for (int pass = 0; pass < 2; ++pass) {  // pass 0 warms up this batch shape's graphs
      std::mutex mutex;
      std::vector<std::vector<Clock::time_point>> stamps(n);
      std::vector<RequestId> ids;
      const auto start = Clock::now();
      for (uint32_t r = 0; r < n; ++r) {
        // A distinct synthetic prompt for every request of the run, the warm-up
        // pass's too: nothing for the prefix cache to share, so prefill is real.
        // (104729 is prime, so the first ids differ for vocab / 2 requests.)
        const uint64_t s = serial++;
        std::vector<int32_t> prompt(prompt_tokens);
        for (uint32_t i = 0; i < prompt_tokens; ++i) {
          prompt[i] = int32_t(vocab / 4 + (s * 104729 + uint64_t(i) * 7919) % (vocab / 2));
        }
        ids.push_back(engine.submit(std::move(prompt), g, [&, r](const RequestUpdate& u) {
          if (u.finished) return;
          std::lock_guard lock(mutex);
          stamps[r].push_back(Clock::now());
        }));
      }
      std::vector<double> ttft, itl;
      for (RequestId id : ids) ttft.push_back(engine.wait(id).stats.time_to_first_token_ms);
      if (pass == 0) continue;
      Clock::time_point last_first = start, last = start, first_last = Clock::time_point::max();
      uint64_t generated = 0, decoded_together = 0;
      for (const auto& s : stamps) {
        if (s.empty()) continue;
        last_first = std::max(last_first, s.front());
        last = std::max(last, s.back());
        first_last = std::min(first_last, s.back());
        generated += s.size();
        for (size_t i = 1; i < s.size(); ++i) itl.push_back(ms(s[i - 1], s[i]));
      }
      // One request, or too few tokens to overlap: the span to the last token.
      const Clock::time_point together_end = first_last > last_first ? first_last : last;
      for (const auto& s : stamps) {
        decoded_together += uint64_t(std::count_if(
            s.begin(), s.end(), [&](Clock::time_point t) { return t > last_first && t <= together_end; }));
      }
      const double decode_s = ms(last_first, together_end) / 1000.0, prompt_s = ms(start, last_first) / 1000.0,
                   total_s = ms(start, last) / 1000.0;
      std::printf("| %s | %u | %u | %u | %.1f | %.1f | %.1f | %.1f | %.1f | %.2f | %.2f |\n", model_name.c_str(), n,
                  prompt_tokens, gen_tokens, decode_s > 0 ? double(decoded_together) / decode_s : 0.0,
                  prompt_s > 0 ? double(n) * prompt_tokens / prompt_s : 0.0,
                  total_s > 0 ? double(generated) / total_s : 0.0, percentile(ttft, 0.5), percentile(ttft, 0.99),
                  percentile(itl, 0.5), percentile(itl, 0.99));
      std::fflush(stdout);
    }
  }
}

}  // namespace vkmind::cli
