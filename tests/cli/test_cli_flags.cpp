// Flags, exit codes and prompt sources of the `vkmind` command line.
#include <fstream>

#include "tests/cli/cli_helpers.h"
#include "tests/scratch_dir.h"
#include "tests/shared_data.h"

using namespace vkmind::test;

namespace {

// Generation flags for a quick, deterministic run.
std::vector<std::string> quick(std::vector<std::string> args) {
  for (const char* a : {"-n", "4", "--temp", "0"}) args.push_back(a);
  return args;
}

}  // namespace

TEST_CASE("usage errors exit 2 on every subcommand and name the problem", "[cli]") {
  const std::string m = tiny_gguf();
  SECTION("unknown subcommand") {
    auto r = run_cli({"foo"});
    CHECK(r.status == 2);
    CHECK(r.err.find("unknown subcommand 'foo'") != std::string::npos);
  }
  SECTION("missing --model") {
    for (const char* cmd : {"run", "chat", "bench", "logits", "perplexity", "tokenize"}) {
      INFO(cmd);
      auto r = run_cli({cmd});
      CHECK(r.status == 2);
      CHECK(r.err.find("--model") != std::string::npos);
    }
  }
  SECTION("a model path that does not exist") {
    auto r = run_cli({"run", "-m", "/nonexistent/model.gguf", "-p", "x"});
    CHECK(r.status == 2);
    CHECK(r.err.find("/nonexistent/model.gguf") != std::string::npos);
  }
  SECTION("not a number") {
    auto r = run_cli({"run", "-m", m, "--temp", "abc"});
    CHECK(r.status == 2);
    CHECK(r.err.find("--temp") != std::string::npos);
  }
  SECTION("unknown device, on every subcommand that opens one") {
    for (std::vector<std::string> args : {std::vector<std::string>{"info", "--device", "99"},
                                          {"run", "-m", m, "-p", "x", "--device", "99"},
                                          {"logits", "-m", m, "-t", "1", "--device", "99"},
                                          {"bench", "-m", m, "--device", "99", "-p", "4", "-n", "4"}}) {
      INFO(args[0]);
      auto r = run_cli(args);
      CHECK(r.status == 2);
      CHECK(r.err.find("99") != std::string::npos);
      CHECK(r.err.find("available devices:\n  0: ") != std::string::npos);  // the list to choose from
    }
  }
  SECTION("--system without --chat") {
    auto r = run_cli({"run", "-m", m, "-p", "x", "--system", "Be brief."});
    CHECK(r.status == 2);
    CHECK(r.err.find("--chat") != std::string::npos);
  }
}

TEST_CASE("flag --version and --help exit 0 - --help shows every default", "[cli]") {
  auto v = run_cli({"--version"});
  CHECK(v.status == 0);
  CHECK(v.out.find("vkmind 0.") != std::string::npos);
  auto h = run_cli({"run", "--help"});
  CHECK(h.status == 0);
  CHECK(h.out.find("--temp") != std::string::npos);
  CHECK(h.out.find("0.8") != std::string::npos);   // --temp's default
  CHECK(h.out.find("256") != std::string::npos);   // -n's default
  CHECK(h.out.find("f16") != std::string::npos);   // --kv-type's default
}

TEST_CASE("sampling flags are range-checked with a readable message", "[cli]") {
  const std::string m = tiny_gguf();
  for (std::vector<std::string> bad : {std::vector<std::string>{"--temp", "nan"},
                                       {"--temp", "inf"},
                                       {"--temp", "-1"},
                                       {"--repeat-penalty", "0"},
                                       {"--repeat-penalty", "-1"},
                                       {"--top-k", "-5"},
                                       {"-n", "-5"},
                                       {"--seed", "-5"},
                                       {"--top-p", "1.5"},
                                       {"--min-p", "nan"},
                                       {"--presence-penalty", "9"}}) {
    std::vector<std::string> args{"run", "-m", m, "-p", "x"};
    args.insert(args.end(), bad.begin(), bad.end());
    INFO(bad[0] << " " << bad[1]);
    auto r = run_cli(args);
    CHECK(r.status == 2);
    CHECK(r.err.find(bad[0]) != std::string::npos);
    CHECK(r.err.find("1797693") == std::string::npos);  // no DBL_MAX spelled out
    CHECK(r.err.size() < 400);
    CHECK(r.out.empty());  // nothing generated, no raw bytes
  }
}

TEST_CASE("flag --seed -1 picks a seed and prints it - that seed repeats the run", "[cli]") {
  const std::string m = tiny_gguf();
  auto first = run_cli({"run", "-m", m, "-p", "Hello", "-n", "12", "--temp", "1.5", "--top-k", "0", "--min-p", "0"});
  REQUIRE(first.status == 0);
  const auto at = first.err.find("seed ");
  REQUIRE(at != std::string::npos);
  const std::string seed = first.err.substr(at + 5, first.err.find(';', at) - at - 5);
  auto again = run_cli({"run", "-m", m, "-p", "Hello", "-n", "12", "--temp", "1.5", "--top-k", "0", "--min-p", "0",
                       "--seed", seed});
  CHECK(again.status == 0);
  CHECK(again.out == first.out);
}

TEST_CASE("flag -n -1 generates until a stop (here: the context)", "[cli]") {
  auto r = run_cli({"run", "-m", tiny_gguf(), "-p", "Hello", "-n", "-1", "--ignore-eos", "-c", "40", "--temp", "0"});
  CHECK(r.status == 0);
  CHECK(r.err.find("stopped: context full") != std::string::npos);
}

TEST_CASE("BOS follows the model file - --bos and --no-bos override it", "[cli]") {
  // The GGUF says nothing of add_bos_token for a byte-level BPE vocabulary:
  // llama.cpp's default is no BOS, and `tokenize` agrees.
  const std::string m = tiny_gguf();
  auto tokens = run_cli({"tokenize", "-m", m, "-p", "Hello"});
  REQUIRE(tokens.status == 0);
  const size_t n = count(tokens.out, " ") + 1;
  auto run = run_cli(quick({"run", "-m", m, "-p", "Hello"}));
  CHECK(run.status == 0);
  CHECK(run.err.find("prompt " + std::to_string(n) + " tokens") != std::string::npos);
  auto with_bos = run_cli(quick({"run", "-m", m, "-p", "Hello", "--bos"}));
  CHECK(with_bos.err.find("prompt " + std::to_string(n + 1) + " tokens") != std::string::npos);
  auto conflict = run_cli(quick({"run", "-m", m, "-p", "Hello", "--bos", "--no-bos"}));
  CHECK(conflict.status == 2);
}

TEST_CASE("BOS from a real SentencePiece model: stories260K adds it", "[cli]") {
  const std::string m = shared_file("models/stories260K/stories260K.gguf");
  if (m.empty()) return;
  auto run = run_cli(quick({"run", "-m", m, "-p", "Once upon a time"}));
  auto tokens = run_cli({"tokenize", "-m", m, "-p", "Once upon a time"});
  CHECK(run.err.find("prompt " + std::to_string(count(tokens.out, " ") + 1) + " tokens") != std::string::npos);
  CHECK(tokens.out.rfind("1 ", 0) == 0);  // BOS first
}

TEST_CASE("prompts from -f FILE, -f - and piped stdin", "[cli]") {
  ScratchDir dir;
  const std::string m = tiny_gguf();
  const std::string file = dir.write("prompt.txt", "Hello world");
  auto from_p = run_cli({"tokenize", "-m", m, "-p", "Hello world"});
  auto from_file = run_cli({"tokenize", "-m", m, "-f", file});
  auto from_dash = run_cli({"tokenize", "-m", m, "-f", "-"}, {"Hello world"});
  auto from_pipe = run_cli({"tokenize", "-m", m}, {"Hello world"});
  CHECK(from_file.out == from_p.out);
  CHECK(from_dash.out == from_p.out);
  CHECK(from_pipe.out == from_p.out);

  auto run_p = run_cli(quick({"run", "-m", m, "-p", "Hello world"}));
  auto run_file = run_cli(quick({"run", "-m", m, "-f", file}));
  auto run_pipe = run_cli(quick({"run", "-m", m}), {"Hello world"});
  CHECK(run_file.out == run_p.out);
  CHECK(run_pipe.out == run_p.out);

  auto missing = run_cli({"run", "-m", m, "-f", dir.path("absent.txt")});
  CHECK(missing.status == 1);
  CHECK(missing.err.find("absent.txt") != std::string::npos);
  auto both = run_cli({"run", "-m", m, "-f", file, "-p", "x"});
  CHECK(both.status == 2);

  std::ofstream(dir.path("text.txt")) << "Hello world, hello again. Once upon a time.";
  auto ppl_file = run_cli({"perplexity", "-m", m, "-f", dir.path("text.txt")});
  auto ppl_pipe = run_cli({"perplexity", "-m", m}, {"Hello world, hello again. Once upon a time."});
  CHECK(ppl_file.status == 0);
  CHECK(ppl_pipe.out == ppl_file.out);
}

TEST_CASE("run echoes the prompt before the generation, --no-display-prompt not", "[cli]") {
  const std::string m = tiny_gguf();
  auto shown = run_cli(quick({"run", "-m", m, "-p", "Hello world"}));
  CHECK(shown.out.rfind("Hello world", 0) == 0);
  auto hidden = run_cli(quick({"run", "-m", m, "-p", "Hello world", "--no-display-prompt"}));
  CHECK(hidden.out.find("Hello world") == std::string::npos);
  CHECK(shown.out.substr(std::string("Hello world").size()) == hidden.out);
}

TEST_CASE("flag --chat-template takes a known name or a template file", "[cli]") {
  ScratchDir dir;
  const std::string m = tiny_gguf();
  auto named = run_cli(quick({"run", "-m", m, "--chat", "-p", "Hi", "--chat-template", "llama2", "-v"}));
  CHECK(named.status == 0);
  CHECK(named.err.find("chat template llama2") != std::string::npos);
  const std::string llama3 = dir.write(
      "llama3.jinja",
      "{{ bos_token }}{% for message in messages %}<|start_header_id|>{{ message['role'] }}<|end_header_id|>\n\n"
      "{{ message['content'] | trim }}<|eot_id|>{% endfor %}<|start_header_id|>assistant<|end_header_id|>\n\n");
  // A file runs through the Jinja interpreter, whatever family it resembles.
  auto file = run_cli(quick({"run", "-m", m, "--chat", "-p", "Hi", "--chat-template", llama3, "-v"}));
  CHECK(file.status == 0);
  CHECK(file.err.find("chat template jinja") != std::string::npos);
  auto unknown = run_cli(quick({"run", "-m", m, "--chat", "-p", "Hi", "--chat-template", "vicuna"}));
  CHECK(unknown.status == 2);
  CHECK(unknown.err.find("chatml") != std::string::npos);  // the names to choose from
  const std::string odd = dir.write("odd.jinja", "{{ messages[0]['content'] }}");
  CHECK(run_cli(quick({"run", "-m", m, "--chat", "-p", "Hi", "--chat-template", odd})).status == 0);
  const std::string outside = dir.write("outside.jinja", "{% include 'other.jinja' %}");
  auto unsupported = run_cli(quick({"run", "-m", m, "--chat", "-p", "Hi", "--chat-template", outside}));
  CHECK(unsupported.status == 1);
  CHECK(unsupported.err.find("chat template: template line 1: unsupported statement '{% include %}'") != std::string::npos);
  auto chat = run_cli({"chat", "-m", m, "--chat-template", "llama3", "-v", "-n", "2"}, {"Hi\n"});
  CHECK(chat.status == 0);
  CHECK(chat.err.find("chat template llama3") != std::string::npos);
}

TEST_CASE("a context past the model's training context is a warning", "[cli]") {
  const std::string m = tiny_gguf();  // trained for 2048
  auto over = run_cli(quick({"run", "-m", m, "-p", "Hi", "-c", "4096"}));
  CHECK(over.status == 0);
  CHECK(over.err.find("exceeds the 2048") != std::string::npos);
  auto within = run_cli(quick({"run", "-m", m, "-p", "Hi", "-c", "1024"}));
  CHECK(within.err.find("exceeds") == std::string::npos);
}

TEST_CASE("statistics: --quiet prints none, --verbose the settings and load time", "[cli]") {
  const std::string m = tiny_gguf();
  auto quiet = run_cli(quick({"run", "-m", m, "-p", "Hi", "-q"}));
  CHECK(quiet.status == 0);
  CHECK(quiet.err.find("[vkmind]") == std::string::npos);
  auto verbose = run_cli(quick({"run", "-m", m, "-p", "Hi", "-v"}));
  CHECK(verbose.err.find("loaded in") != std::string::npos);
  CHECK(verbose.err.find("context 2048 tokens") != std::string::npos);
  CHECK(verbose.err.find("temp 0") != std::string::npos);
  // One generated token has no decode interval: no rate, rather than a wrong one.
  auto one = run_cli({"run", "-m", m, "-p", "Hi", "-n", "1", "--temp", "0", "--ignore-eos"});
  CHECK(one.err.find("generated 1 tokens, n/a tokens/s decode") != std::string::npos);
}
