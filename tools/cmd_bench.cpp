// `vkmind bench`: prefill (pp) and generation (tg) speed with llama-bench's
// semantics, so figures compare side by side: `pp N` processes N prompt
// tokens in one batch, `tg N` generates N tokens one at a time, both from an
// empty cache or after `-d` tokens of depth (not timed); each test runs once
// to warm up, then `-r` times; the figure is mean +- sample stddev of t/s.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tools/bench_parallel.h"
#include "tools/commands.h"
#include "tools/engine_flags.h"
#include "tools/exit_code.h"

namespace vkmind::cli {

namespace {

struct BenchFlags {
  ModelFlags model;
  std::vector<uint32_t> prompt_tokens{512};
  std::vector<uint32_t> gen_tokens{128};
  std::vector<uint32_t> depths{0};
  int repetitions = 5;
  std::string output = "md";
  std::vector<uint32_t> parallel;  // non-empty: the request-API figures instead
};

struct Test {
  bool prefill;
  uint32_t tokens, depth;
  std::vector<double> seconds;

  std::string name() const {
    std::string s = (prefill ? "pp" : "tg") + std::to_string(tokens);
    if (depth) s += " @ d" + std::to_string(depth);
    return s;
  }
  std::vector<double> rates() const {
    std::vector<double> r;
    for (double s : seconds) r.push_back(tokens / s);
    return r;
  }
};

double mean(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return v.empty() ? 0 : sum / double(v.size());
}

double stddev(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double m = mean(v);
  double sq = 0;
  for (double x : v) sq += (x - m) * (x - m);
  return std::sqrt(sq / double(v.size() - 1));
}

std::string human_size(uint64_t bytes) {
  char buf[32];
  if (bytes >= (1ull << 30)) std::snprintf(buf, sizeof buf, "%.2f GiB", double(bytes) / double(1ull << 30));
  else std::snprintf(buf, sizeof buf, "%.2f MiB", double(bytes) / double(1ull << 20));
  return buf;
}

std::string human_count(uint64_t n) {
  char buf[32];
  if (n >= 1000000000) std::snprintf(buf, sizeof buf, "%.2f B", double(n) / 1e9);
  else if (n >= 1000000) std::snprintf(buf, sizeof buf, "%.2f M", double(n) / 1e6);
  else std::snprintf(buf, sizeof buf, "%.2f K", double(n) / 1e3);
  return buf;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += char(c);
    }
  }
  return out + "\"";
}

std::string join(const std::vector<double>& v, const char* sep, const char* fmt) {
  std::string out;
  char buf[32];
  for (size_t i = 0; i < v.size(); ++i) {
    std::snprintf(buf, sizeof buf, fmt, v[i]);
    out += (i ? sep : "") + std::string(buf);
  }
  return out;
}

// Weight bytes a decode test read per second (GB/s): what bounds it when the
// weights do not fit in any cache. Prefill reads each weight once per step
// for many tokens, so it has none.
double effective_gbps(const Test& t, const DecodeProfile& p) {
  return t.prefill ? 0.0 : double(p.weight_bytes_per_token) * mean(t.rates()) / 1e9;
}

void print_results(const BenchFlags& f, const Engine& engine, const DecodeProfile& profile,
                   const std::vector<Test>& tests) {
  const std::string name = model_name(f.model.model), device = engine.device_name();
  const uint64_t bytes = engine.model_bytes(), params = engine.parameter_count();
  if (f.output == "json") {
    std::printf("[\n");
    for (size_t i = 0; i < tests.size(); ++i) {
      const Test& t = tests[i];
      const auto r = t.rates();
      std::printf("  {\"model_filename\": %s, \"model_type\": %s, \"model_size\": %llu, \"model_n_params\": %llu, "
                  "\"backend\": \"Vulkan\", \"device\": %s, \"n_prompt\": %u, \"n_gen\": %u, \"n_depth\": %u, "
                  "\"repetitions\": %zu, \"avg_ts\": %.6f, \"stddev_ts\": %.6f, \"samples_ts\": [%s], "
                  "\"samples_s\": [%s], \"decode_dispatches\": %u, \"decode_barriers\": %u, \"decode_pipelines\": %u, "
                  "\"decode_prespecialized\": %u, \"weight_bytes_per_token\": %llu, \"effective_gbps\": %.6f}%s\n",
                  json_string(name).c_str(), json_string(engine.architecture()).c_str(), (unsigned long long)bytes,
                  (unsigned long long)params, json_string(device).c_str(), t.prefill ? t.tokens : 0,
                  t.prefill ? 0 : t.tokens, t.depth, r.size(), mean(r), stddev(r), join(r, ", ", "%.6f").c_str(),
                  join(t.seconds, ", ", "%.9f").c_str(), profile.dispatches, profile.barriers, profile.pipelines,
                  profile.prespecialized, (unsigned long long)profile.weight_bytes_per_token, effective_gbps(t, profile),
                  i + 1 < tests.size() ? "," : "");
    }
    std::printf("]\n");
    return;
  }
  if (f.output == "csv") {
    std::printf("model_filename,model_type,model_size,model_n_params,backend,device,n_prompt,n_gen,n_depth,"
                "repetitions,avg_ts,stddev_ts,samples_ts,decode_dispatches,decode_barriers,decode_pipelines,"
                "decode_prespecialized,weight_bytes_per_token,effective_gbps\n");
    for (const Test& t : tests) {
      const auto r = t.rates();
      std::printf("%s,%s,%llu,%llu,Vulkan,\"%s\",%u,%u,%u,%zu,%.6f,%.6f,\"%s\",%u,%u,%u,%u,%llu,%.6f\n", name.c_str(),
                  engine.architecture().c_str(), (unsigned long long)bytes, (unsigned long long)params,
                  device.c_str(), t.prefill ? t.tokens : 0, t.prefill ? 0 : t.tokens, t.depth, r.size(), mean(r),
                  stddev(r), join(r, ";", "%.6f").c_str(), profile.dispatches, profile.barriers, profile.pipelines,
                  profile.prespecialized, (unsigned long long)profile.weight_bytes_per_token, effective_gbps(t, profile));
    }
    return;
  }
  std::printf("| model | size | params | backend | device | test | t/s |\n"
              "| ----- | ---: | -----: | ------- | ------ | ---: | --: |\n");
  for (const Test& t : tests) {
    const auto r = t.rates();
    std::printf("| %s | %s | %s | Vulkan | %s | %s | %.2f ± %.2f |\n", name.c_str(), human_size(bytes).c_str(),
                human_count(params).c_str(), device.c_str(), t.name().c_str(), mean(r), stddev(r));
  }
  std::printf("\ndecode step: %u dispatches (%.1f per layer), %u barriers, %u pipelines (%u pre-specialized); "
              "weights read per token %s\n",
              profile.dispatches, profile.layers ? double(profile.dispatches) / profile.layers : 0.0,
              profile.barriers, profile.pipelines, profile.prespecialized,
              human_size(profile.weight_bytes_per_token).c_str());
  for (const Test& t : tests) {
    if (!t.prefill) std::printf("%s: %.2f GB/s of weights\n", t.name().c_str(), effective_gbps(t, profile));
  }
}

void run(BenchFlags& f) {
  if (!f.parallel.empty()) {
    const uint32_t p = f.prompt_tokens.front(), n = f.gen_tokens.front();
    if (p == 0 || n == 0) {
      std::fprintf(stderr, "vkmind bench --parallel: needs -p and -n above 0\n");
      throw ExitCode{kExitUsage};
    }
    f.model.engine.parallel = *std::max_element(f.parallel.begin(), f.parallel.end());
    // Each sequence needs only its own tokens: a pool of N full model contexts may not fit.
    if (!f.model.engine.context) f.model.engine.context = (p + n + 1 + 15) / 16 * 16;
    auto engine = open_engine(f.model);
    std::fprintf(stderr, "bench: %s (%s), requests of %u prompt + %u generated tokens\n",
                 model_name(f.model.model).c_str(), engine->description().c_str(), p, n);
    run_parallel_bench(*engine, f.parallel, p, n, model_name(f.model.model));
    finish(*engine, f.model);
    return;
  }
  auto engine = open_engine(f.model);
  std::vector<Test> tests;
  for (uint32_t d : f.depths) {
    for (uint32_t n : f.prompt_tokens) {
      if (n) tests.push_back({true, n, d, {}});
    }
    for (uint32_t n : f.gen_tokens) {
      if (n) tests.push_back({false, n, d, {}});
    }
  }
  if (tests.empty()) {
    std::fprintf(stderr, "vkmind bench: nothing to run (-p 0 and -n 0)\n");
    throw ExitCode{kExitUsage};
  }
  const uint32_t capacity = engine->token_capacity();
  bool refused = false;
  for (const Test& t : tests) {
    if (uint64_t(t.depth) + t.tokens > capacity) {
      std::fprintf(stderr, "vkmind bench: %s needs %llu tokens of cache, but it holds %u (--ctx, --kv-blocks)\n",
                   t.name().c_str(), (unsigned long long)t.depth + t.tokens, capacity);
      refused = true;
    }
  }
  if (refused) throw ExitCode{kExitUsage};

  std::fprintf(stderr, "bench: %s (%s), %d repetitions after a warm-up\n", model_name(f.model.model).c_str(),
               engine->description().c_str(), f.repetitions);
  for (Test& t : tests) {
    auto once = [&] { return t.prefill ? engine->time_prefill(t.tokens, t.depth) : engine->time_decode(t.tokens, t.depth); };
    once();  // warm-up: graphs of this shape, caches
    for (int r = 0; r < f.repetitions; ++r) {
      t.seconds.push_back(once());
      std::fprintf(stderr, "\rbench: %-16s %d/%d  %.1f t/s ", t.name().c_str(), r + 1, f.repetitions,
                   t.tokens / t.seconds.back());
      std::fflush(stderr);
    }
    std::fputc('\n', stderr);
  }
  print_results(f, *engine, engine->decode_profile(), tests);
  const std::string profile = engine->profile_report();
  if (!profile.empty() && f.output == "md") {
    std::printf("\nGPU time of the last step by kernel (VKMIND_PROFILE=1):\n%s", profile.c_str());
  }
  finish(*engine, f.model);
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto f = std::make_shared<BenchFlags>();
  auto* cmd = app.add_subcommand("bench", "Measure prefill and decode speed (tokens/s), as llama-bench does");
  add_model_flags(*cmd, f->model, false);
  cmd->add_option("--n-prompt,-p", f->prompt_tokens, "Prompt lengths of the pp tests, comma-separated (0: none)")
      ->delimiter(',')
      ->check(integer_in(0, 1 << 20));
  cmd->add_option("--n-gen,-n", f->gen_tokens, "Generated tokens of the tg tests, comma-separated (0: none)")
      ->delimiter(',')
      ->check(integer_in(0, 1 << 20));
  cmd->add_option("--n-depth,-d", f->depths, "Tokens already in the cache before each test, comma-separated")
      ->delimiter(',')
      ->check(integer_in(0, 1 << 20));
  cmd->add_option("--repetitions,-r", f->repetitions, "Measured runs of each test (after one warm-up)")
      ->check(integer_in(1, 1000));
  cmd->add_option("--output,-o", f->output, "Output format")->check(CLI::IsMember({"md", "json", "csv"}));
  cmd->add_option("--parallel", f->parallel,
                  "Concurrent requests, comma-separated (e.g. 1,4,16): serving figures for the first -p and -n")
      ->delimiter(',')
      ->check(integer_in(1, 64));
  cmd->callback([f] { run(*f); });
}

}  // namespace vkmind::cli
