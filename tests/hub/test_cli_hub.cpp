// `vkmind pull`, `vkmind list` and `-m hf:...` as a user meets them, the
// binary pointed at the local Hub stand-in through HF_ENDPOINT.
#include <catch2/catch.hpp>

#include <filesystem>

#include "tests/cli/cli_helpers.h"
#include "tests/hub/hub_standin.h"
#include "tests/scratch_dir.h"

namespace fs = std::filesystem;
using namespace vkmind::test;

namespace {

const std::string kCommit = "fedcba9876543210fedcba9876543210fedcba98";

struct CliHub {
  HubStandIn standin;
  ScratchDir scratch;
  ProcessOptions options;
  CliHub() {
    standin.add_repo("oracle/minimind3-tiny", HubStandIn::repo_from_folder(tiny_hf(), kCommit));
    standin.add_repo("oracle/tiny-llama-GGUF",
                     HubStandIn::repo_from_files({{"tiny-llama-F32.gguf", tiny_gguf()}}, kCommit));
    options.env = {{"HF_ENDPOINT", standin.endpoint()},
                   {"HF_HOME", scratch.path("hf-home")},
                   {"HF_HUB_CACHE", ""},
                   {"HF_TOKEN", ""},
                   {"HF_HUB_OFFLINE", ""},
                   {"VKMIND_HUB_RETRY_WAIT_MS", "5"}};
  }
  ProcessResult vkmind(std::vector<std::string> args) { return run_cli(std::move(args), options); }
};

const std::vector<std::string> kGreedy = {"-p", "hi", "-n", "8", "--temp", "0", "--quiet"};

std::vector<std::string> with(std::vector<std::string> head, const std::vector<std::string>& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

}  // namespace

TEST_CASE("run -m hf:ORG/REPO answers as the local folder does", "[hub]") {
  CliHub hub;
  const ProcessResult local = hub.vkmind(with({"run", "-m", tiny_hf()}, kGreedy));
  REQUIRE(local.status == 0);
  const ProcessResult pulled = hub.vkmind(with({"run", "-m", "hf:oracle/minimind3-tiny"}, kGreedy));
  REQUIRE(pulled.status == 0);
  CHECK(pulled.out == local.out);
  CHECK(fs::is_regular_file(hub.scratch.path("hf-home") + "/hub/models--oracle--minimind3-tiny/refs/main"));

  // Again, offline (flag or environment): the cache only, not one request.
  hub.standin.clear_log();
  const ProcessResult offline = hub.vkmind(with({"run", "-m", "hf:oracle/minimind3-tiny", "--offline"}, kGreedy));
  CHECK(offline.status == 0);
  CHECK(offline.out == local.out);
  hub.options.env["HF_HUB_OFFLINE"] = "1";
  CHECK(hub.vkmind(with({"run", "-m", "hf:oracle/minimind3-tiny"}, kGreedy)).out == local.out);
  CHECK(hub.standin.request_count() == 0);
}

TEST_CASE("run -m hf:ORG/REPO:QUANT answers as the local GGUF does", "[hub]") {
  CliHub hub;
  const ProcessResult local = hub.vkmind(with({"run", "-m", tiny_gguf()}, kGreedy));
  const ProcessResult pulled = hub.vkmind(with({"run", "-m", "hf:oracle/tiny-llama-GGUF:f32"}, kGreedy));
  REQUIRE(pulled.status == 0);
  CHECK(pulled.out == local.out);
  // tokenize and info take hf: names too.
  CHECK(hub.vkmind({"tokenize", "-m", "hf:oracle/tiny-llama-GGUF:F32", "-p", "hi"}).out ==
        hub.vkmind({"tokenize", "-m", tiny_gguf(), "-p", "hi"}).out);
  CHECK(hub.vkmind({"info", "-m", "hf:oracle/minimind3-tiny"}).status == 0);
}

TEST_CASE("pull prints the path and list shows what is cached", "[hub]") {
  CliHub hub;
  const ProcessResult pull = hub.vkmind({"pull", "oracle/tiny-llama-GGUF:F32"});
  REQUIRE(pull.status == 0);
  const std::string path = hub.scratch.path("hf-home") + "/hub/models--oracle--tiny-llama-GGUF/snapshots/" + kCommit +
                           "/tiny-llama-F32.gguf";
  CHECK(pull.out == path + "\n");
  CHECK_THAT(pull.err, Catch::Contains("pulled"));
  CHECK_THAT(hub.vkmind({"pull", "hf:oracle/tiny-llama-GGUF:F32"}).err, Catch::Contains("up to date"));
  const ProcessResult list = hub.vkmind({"list"});
  CHECK(list.status == 0);
  CHECK_THAT(list.out, Catch::Contains("oracle/tiny-llama-GGUF") && Catch::Contains(kCommit.substr(0, 12) + " main") &&
                           Catch::Contains("hf:oracle/tiny-llama-GGUF:F32"));
}

TEST_CASE("Hub failures are one clear line and exit 1 and bad names are usage errors", "[hub]") {
  CliHub hub;
  ProcessResult r = hub.vkmind({"pull", "oracle/tiny-llama-GGUF:Q4_K_M"});
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::Contains("no GGUF file for quant Q4_K_M; its quants: F32"));

  r = hub.vkmind({"pull", "nobody/nothing"});
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::Contains("no repository nobody/nothing"));

  hub.standin.gate("oracle/minimind3-tiny", "secret");
  r = hub.vkmind(with({"run", "-m", "hf:oracle/minimind3-tiny"}, kGreedy));
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::Contains("401") && Catch::Contains("set HF_TOKEN"));
  hub.options.env["HF_TOKEN"] = "secret";
  CHECK(hub.vkmind({"pull", "oracle/minimind3-tiny"}).status == 0);

  hub.standin.fail("/api/models/oracle/tiny-llama-GGUF", 500);
  r = hub.vkmind({"pull", "oracle/tiny-llama-GGUF:F32"});
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::Contains("retrying") && Catch::Contains("HTTP 500") && Catch::Contains("giving up"));

  CHECK(hub.vkmind({"run", "-m", "hf:just-a-name", "-p", "x"}).status == 2);
  CHECK(hub.vkmind({"pull", "a/b/c"}).status == 2);
}
