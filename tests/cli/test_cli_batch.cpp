// `vkmind batch`: JSONL in, JSONL out, in input order, bad lines answered
// with an error while the others run; batching does not change any output.
#include <nlohmann/json.hpp>

#include <sstream>

#include "tests/cli/cli_helpers.h"
#include "tests/scratch_dir.h"

using namespace vkmind::test;
using nlohmann::json;

namespace {

std::string input_lines(int n) {
  std::string in;
  for (int i = 0; i < n; ++i) {
    if (i % 7 == 3) {
      const char* bad[] = {"not json at all", "{\"prompt\": 5}", "{\"messages\": []}", "[1, 2]",
                           "{\"prompt\": \"x\", \"temperature\": \"hot\"}", "{\"prompt\": \"x\", \"top_p\": 7}"};
      in += std::string(bad[(i / 7) % 6]) + "\n";
    } else if (i % 5 == 0) {
      in += json{{"messages", {{{"role", "user"}, {"content", "Hi number " + std::to_string(i)}}}},
                 {"max_tokens", 4}, {"temperature", 0}}.dump() + "\n";
    } else {
      in += json{{"prompt", "Once upon a time " + std::to_string(i)}, {"max_tokens", 3 + i % 6},
                 {"temperature", i % 2 ? 0.8 : 0.0}, {"seed", i}, {"ignore_eos", true}}.dump() + "\n";
    }
  }
  return in;
}

std::vector<json> parse_lines(const std::string& out) {
  std::vector<json> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  return lines;
}

}  // namespace

TEST_CASE("batch: 100 prompts, some malformed, give 100 lines in order", "[cli]") {
  ScratchDir dir;
  const std::string in = dir.write("in.jsonl", input_lines(100));
  auto r = run_cli({"batch", "-m", tiny_gguf(), "-i", in, "-o", dir.path("out.jsonl"), "--parallel", "16"});
  REQUIRE(r.status == 0);
  std::ifstream file(dir.path("out.jsonl"));
  const auto lines = parse_lines({std::istreambuf_iterator<char>(file), {}});
  REQUIRE(lines.size() == 100);
  for (int i = 0; i < 100; ++i) {
    INFO("line " << i << ": " << lines[i].dump());
    CHECK(lines[i]["index"] == i);
    if (i % 7 == 3) {
      CHECK(lines[i].contains("error"));
      CHECK_THAT(lines[i]["error"].get<std::string>(), Catch::StartsWith("line " + std::to_string(i + 1) + ": "));
    } else {
      CHECK_FALSE(lines[i].contains("error"));
      CHECK(lines[i]["completion_tokens"] == lines[i]["tokens"].size());
      CHECK(lines[i]["prompt_tokens"].get<int>() > 0);
    }
  }
  CHECK(r.err.find("100/100 done") != std::string::npos);
}

TEST_CASE("batch: outputs do not depend on --parallel and match `run`", "[cli]") {
  const std::string in = input_lines(30);
  auto one = run_cli({"batch", "-m", tiny_gguf(), "--parallel", "1", "-q"}, {in});
  auto many = run_cli({"batch", "-m", tiny_gguf(), "--parallel", "16", "-q"}, {in});
  REQUIRE(one.status == 0);
  REQUIRE(many.status == 0);
  // All but cached_tokens, which depends on what ran before (prefix cache).
  auto without_cache_counts = [](std::vector<json> lines) {
    for (auto& l : lines) l.erase("cached_tokens");
    return lines;
  };
  CHECK(without_cache_counts(parse_lines(one.out)) == without_cache_counts(parse_lines(many.out)));
  // Line 2 (greedy, 3 + 2 tokens) against `run`.
  const auto line2 = parse_lines(many.out)[2];
  auto run = run_cli({"run", "-m", tiny_gguf(), "-p", "Once upon a time 2", "-n", "5", "--temp", "0", "--ignore-eos",
                      "--no-display-prompt", "-q"});
  CHECK(run.out == line2["text"].get<std::string>() + "\n");
}
