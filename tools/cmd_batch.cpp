// `vkmind batch -m MODEL -i in.jsonl -o out.jsonl`: offline batch generation
// (vLLM's LLM.generate) on the request API. One JSON object per input line:
//   {"prompt": "..."} or {"messages": [{"role": ..., "content": ...}, ...]}
//   optional: max_tokens, temperature, top_p, top_k, min_p, seed, stop, ignore_eos
// One output line per input line, in input order:
//   {"index", "text", "tokens", "finish_reason", "prompt_tokens", "completion_tokens", "cached_tokens"}
// or {"index", "error"} for a line that cannot run; the others still do.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "tools/commands.h"
#include "tools/engine_flags.h"
#include "tools/exit_code.h"
#include "tools/interrupt.h"

namespace vkmind::cli {

namespace {

using nlohmann::json;

struct BatchFlags {
  ModelFlags model;
  GenerationFlags gen;
  std::string input = "-";
  std::string output = "-";
};

// A line's request, or why it has none.
struct Job {
  std::optional<RequestId> id;
  std::string error;
};

std::string type_error(const char* key, const char* wanted) {
  return std::string("'") + key + "' must be " + wanted;
}

// Reads one input line into options and a submission; returns an error or "".
std::string submit_line(Engine& engine, const std::string& line, const GenerateOptions& defaults, uint64_t seed,
                        std::optional<RequestId>& id) {
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded()) return "not valid JSON";
  if (!j.is_object()) return "not a JSON object";
  GenerateOptions o = defaults;
  o.sampling.seed = seed;
  SamplingParams& s = o.sampling;
  auto number = [&](const char* key, auto& into) -> std::string {
    if (!j.contains(key) || j[key].is_null()) return "";
    if (!j[key].is_number()) return type_error(key, "a number");
    into = j[key].get<std::remove_reference_t<decltype(into)>>();
    return "";
  };
  for (std::string e : {number("temperature", s.temperature), number("top_p", s.top_p), number("min_p", s.min_p),
                        number("top_k", s.top_k), number("max_tokens", o.max_tokens)}) {
    if (!e.empty()) return e;
  }
  if (j.contains("seed") && !j["seed"].is_null()) {
    if (!j["seed"].is_number_unsigned()) return type_error("seed", "a non-negative integer");
    s.seed = j["seed"].get<uint64_t>();
  }
  if (j.contains("ignore_eos")) {
    if (!j["ignore_eos"].is_boolean()) return type_error("ignore_eos", "true or false");
    o.ignore_eos = j["ignore_eos"].get<bool>();
  }
  if (j.contains("stop") && !j["stop"].is_null()) {
    o.stop.clear();
    if (j["stop"].is_string()) {
      o.stop.push_back(j["stop"].get<std::string>());
    } else if (j["stop"].is_array()) {
      for (const json& v : j["stop"]) {
        if (!v.is_string()) return type_error("stop", "a string or an array of strings");
        o.stop.push_back(v.get<std::string>());
      }
    } else {
      return type_error("stop", "a string or an array of strings");
    }
  }
  if (o.max_tokens < -1) return "'max_tokens' must be -1 or more";
  if (const std::string bad = check_sampling_params(s); !bad.empty()) return bad;
  if (j.contains("prompt") == j.contains("messages")) return "give exactly one of 'prompt' and 'messages'";
  if (j.contains("prompt")) {
    if (!j["prompt"].is_string()) return type_error("prompt", "a string");
    id = engine.submit_text(j["prompt"].get<std::string>(), o);
    return "";
  }
  if (!j["messages"].is_array() || j["messages"].empty()) return type_error("messages", "a non-empty array");
  std::vector<ChatMessage> messages;
  for (const json& m : j["messages"]) {
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string() || !m.contains("content") ||
        !m["content"].is_string()) {
      return "each message must be {\"role\": string, \"content\": string}";
    }
    messages.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
  }
  id = engine.submit_chat(messages, o);
  return "";
}

void run(BatchFlags& f) {
  std::ifstream file;
  if (f.input != "-") {
    file.open(f.input);
    if (!file) throw std::runtime_error(f.input + ": cannot be read");
  }
  std::istream& in = f.input == "-" ? std::cin : file;
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") != std::string::npos) lines.push_back(line);
  }
  std::ofstream out_file;
  if (f.output != "-") {
    out_file.open(f.output);
    if (!out_file) throw std::runtime_error(f.output + ": cannot be written");
  }
  std::ostream& out = f.output == "-" ? std::cout : out_file;

  InterruptGuard interrupts;
  auto engine = open_engine(f.model);
  resolve_generation(f.gen, *engine);
  std::vector<Job> jobs(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    // Lines without a seed get the run's seed plus their index: reproducible, and not all alike.
    jobs[i].error = submit_line(*engine, lines[i], f.gen.generate, f.gen.generate.sampling.seed + i, jobs[i].id);
  }
  size_t failed = 0;
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (interrupts.pending()) {
      for (size_t k = i; k < jobs.size(); ++k) {
        if (jobs[k].id) engine->cancel(*jobs[k].id);
      }
    }
    json line{{"index", i}};
    if (jobs[i].id) {
      RequestResult r = engine->wait(*jobs[i].id);
      if (!r.error.empty()) {
        jobs[i].error = r.error;
      } else {
        line["text"] = r.text;
        line["tokens"] = r.tokens;
        line["finish_reason"] = r.stats.stop_reason;
        line["prompt_tokens"] = r.stats.prompt_tokens;
        line["completion_tokens"] = r.stats.generated_tokens;
        line["cached_tokens"] = r.stats.cached_prompt_tokens;
      }
    }
    if (!jobs[i].error.empty()) {
      line["error"] = "line " + std::to_string(i + 1) + ": " + jobs[i].error;
      ++failed;
    }
    out << line.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
    out.flush();
    if (!f.gen.quiet) {
      std::fprintf(stderr, "\rbatch: %zu/%zu done%s", i + 1, jobs.size(),
                   failed ? (", " + std::to_string(failed) + " with errors").c_str() : "");
      std::fflush(stderr);
    }
  }
  if (!f.gen.quiet) std::fputc('\n', stderr);
  finish(*engine, f.model);
  if (interrupts.pending()) throw ExitCode{kExitInterrupted};
}

}  // namespace

void add_batch_command(CLI::App& app) {
  auto f = std::make_shared<BatchFlags>();
  f->model.engine.parallel = 16;
  auto* cmd = app.add_subcommand("batch", "Generate for every line of a JSONL file, many requests at once");
  add_model_flags(*cmd, f->model);
  add_chat_template_flag(*cmd, f->model);
  add_generation_flags(*cmd, f->gen);
  cmd->add_option("--input,-i", f->input, "Input JSONL ('-': standard input)");
  cmd->add_option("--output,-o", f->output, "Output JSONL ('-': standard output)");
  add_batching_flags(*cmd, f->model);
  cmd->callback([f] { run(*f); });
}

}  // namespace vkmind::cli
