// `vkmind bench` with llama-bench's semantics, and `vkmind perplexity`'s limits.
#include <nlohmann/json.hpp>

#include "tests/cli/cli_helpers.h"

using namespace vkmind::test;

TEST_CASE("bench refuses a test that cannot fit the context, with the reason", "[cli]") {
  auto r = run_cli({"bench", "-m", tiny_gguf(), "-c", "512", "-p", "505", "-n", "65536"});
  CHECK(r.status == 2);
  CHECK(r.err.find("tg65536 needs 65536 tokens of cache, but it holds 512") != std::string::npos);
  CHECK(r.out.find("tg65536") == std::string::npos);  // no figure for a test that did not run
  auto depth = run_cli({"bench", "-m", tiny_gguf(), "-c", "512", "-p", "256", "-n", "0", "-d", "300"});
  CHECK(depth.status == 2);
  CHECK(depth.err.find("pp256 @ d300 needs 556 tokens") != std::string::npos);
}

TEST_CASE("bench -o json: every test, its repetitions, the file name", "[cli]") {
  auto r = run_cli({"bench", "-m", tiny_gguf(), "-p", "16,32", "-n", "8", "-d", "0,20", "-r", "3", "-o", "json"});
  REQUIRE(r.status == 0);
  const auto tests = nlohmann::json::parse(r.out);
  REQUIRE(tests.size() == 6);  // (pp16, pp32, tg8) x depths 0 and 20
  for (const auto& t : tests) {
    INFO(t.dump());
    CHECK(t["model_filename"] == "model.gguf");  // the file's name, not its path
    CHECK(t["samples_ts"].size() == 3);
    CHECK(t["avg_ts"].get<double>() > 0);
    CHECK(t["stddev_ts"].get<double>() >= 0);
    // The average is the mean of the samples it reports.
    double sum = 0;
    for (double s : t["samples_ts"]) sum += s;
    CHECK(t["avg_ts"].get<double>() == Approx(sum / 3).epsilon(1e-5));
    CHECK((t["n_prompt"].get<int>() > 0) != (t["n_gen"].get<int>() > 0));
  }
  CHECK(tests[2]["n_gen"] == 8);
  CHECK(tests[3]["n_depth"] == 20);
}

TEST_CASE("bench reports what bounds a decode step", "[cli]") {
  auto r = run_cli({"bench", "-m", tiny_gguf(), "-p", "8", "-n", "4", "-r", "1", "-o", "json"});
  REQUIRE(r.status == 0);
  const auto tests = nlohmann::json::parse(r.out);
  REQUIRE(tests.size() == 2);
  for (const auto& t : tests) {
    INFO(t.dump());
    // The oracle llama_f32 model, all f32: per layer q|k|v 64 x 32, o 32 x 32,
    // gate|up 128 x 32, down 32 x 64 (9216 floats); 2 layers; the head 288 x 32;
    // one embedding row of 32.
    CHECK(t["weight_bytes_per_token"] == 4 * (2 * 9216 + 288 * 32 + 32));
    // A dense layer is 6 kernels (qkv with its norm, qk-norm + RoPE + KV
    // append, attention, o + residual, gate|up with norm and SwiGLU, down +
    // residual), plus the embedding and the head, which reads a decode step's
    // rows in place (no pick of the logit rows).
    CHECK(t["decode_dispatches"].get<int>() == 2 * 6 + 2);
    CHECK(t["decode_barriers"].get<int>() > 0);
    CHECK(t["decode_barriers"].get<int>() < t["decode_dispatches"].get<int>());
    // Its pipelines: the embedding, qk-norm + RoPE + KV append, attention,
    // and one matvec for every matrix, whatever its fusions.
    CHECK(t["decode_pipelines"].get<int>() == 4);
    // lavapipe on x86 (8-lane subgroups) gets that matvec pre-specialized at
    // build time (shaders/CMakeLists.txt): the host must ask for exactly the
    // constants the build froze, or start-up quietly pays for specializing it.
    if (t["device"].get<std::string>().find("llvmpipe") != std::string::npos &&
        t["device"].get<std::string>().find("256 bits") != std::string::npos) {
      CHECK(t["decode_prespecialized"].get<int>() == 1);
    }
  }
  CHECK(tests[0]["effective_gbps"] == 0.0);  // prefill: no per-token figure
  CHECK(tests[1]["effective_gbps"].get<double>() ==
        Approx(tests[1]["weight_bytes_per_token"].get<double>() * tests[1]["avg_ts"].get<double>() / 1e9).epsilon(1e-4));
  auto md = run_cli({"bench", "-m", tiny_gguf(), "-p", "0", "-n", "4", "-r", "1"});
  REQUIRE(md.status == 0);
  CHECK(md.out.find("decode step: ") != std::string::npos);
  CHECK(md.out.find(" dispatches (") != std::string::npos);
  CHECK(md.out.find("tg4: ") != std::string::npos);
  CHECK(md.out.find("GB/s of weights") != std::string::npos);
}

TEST_CASE("bench -o md and csv", "[cli]") {
  auto md = run_cli({"bench", "-m", tiny_gguf(), "-p", "16", "-n", "4", "-r", "2"});
  REQUIRE(md.status == 0);
  CHECK(md.out.find("| model.gguf |") != std::string::npos);
  CHECK(md.out.find("pp16") != std::string::npos);
  CHECK(md.out.find("tg4") != std::string::npos);
  CHECK(md.out.find(" ± ") != std::string::npos);
  CHECK(md.out.find("tests/reference") == std::string::npos);
  auto csv = run_cli({"bench", "-m", tiny_gguf(), "-p", "16", "-n", "0", "-r", "2", "-o", "csv"});
  REQUIRE(csv.status == 0);
  CHECK(count(csv.out, "\n") == 2);  // header + pp16
  CHECK(csv.out.rfind("model_filename,", 0) == 0);
  auto bad = run_cli({"bench", "-m", tiny_gguf(), "-o", "xml"});
  CHECK(bad.status == 2);
}

TEST_CASE("perplexity refuses a context too small to score a token", "[cli]") {
  auto r = run_cli({"perplexity", "-m", tiny_gguf(), "-c", "1"}, {"hello world, hello again"});
  CHECK(r.status == 2);
  CHECK(r.err.find("--ctx 1 cannot score a token") != std::string::npos);
  CHECK(r.out.find("nan") == std::string::npos);
  auto two = run_cli({"perplexity", "-m", tiny_gguf(), "-c", "2"}, {"hello world, hello again"});
  CHECK(two.status == 0);
  CHECK(two.out.find("nan") == std::string::npos);
  CHECK(two.out.find("perplexity: ") != std::string::npos);
}

TEST_CASE("bench --parallel: one row of serving figures per N", "[cli]") {
  auto r = run_cli({"bench", "-m", tiny_gguf(), "-p", "16", "-n", "8", "--parallel", "1,4"});
  REQUIRE(r.status == 0);
  CHECK(r.out.find("aggregate decode t/s") != std::string::npos);
  CHECK(r.out.find("| model.gguf | 1 | 16 | 8 |") != std::string::npos);
  CHECK(r.out.find("| model.gguf | 4 | 16 | 8 |") != std::string::npos);
  auto bad = run_cli({"bench", "-m", tiny_gguf(), "--parallel", "0"});
  CHECK(bad.status == 2);
  auto none = run_cli({"bench", "-m", tiny_gguf(), "-n", "0", "--parallel", "2"});
  CHECK(none.status == 2);
}
