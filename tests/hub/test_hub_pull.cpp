// hub::pull against the local Hub stand-in: the cache layout huggingface_hub
// reads, a cut connection resumed, a corrupt blob refused, statuses turned
// into messages, the cache answering without the network.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "model/hub/hub_cache.h"
#include "model/hub/hub_error.h"
#include "model/hub/pull.h"
#include "tests/hub/hub_standin.h"
#include "tests/scratch_dir.h"

namespace fs = std::filesystem;
using namespace vkmind;
using vkmind::test::HubStandIn;

namespace {

const std::string kCommit = "0123456789abcdef0123456789abcdef01234567";
const std::string kRepo = "oracle/minimind3-tiny";
const std::string kGgufRepo = "oracle/tiny-llama-GGUF";

fs::path golden(const std::string& path) { return fs::path(VKMIND_SOURCE_DIR) / "tests/reference/golden" / path; }

struct Hub {
  HubStandIn standin;
  test::ScratchDir scratch;
  hub::HubConfig config;
  Hub() {
    standin.add_repo(kRepo, HubStandIn::repo_from_folder(golden("minimind3_f32/hf"), kCommit));
    standin.add_repo(kGgufRepo, HubStandIn::repo_from_files({{"tiny-llama-F32.gguf", golden("llama_f32/model.gguf")},
                                                             {"tiny-qwen3-Q8_0.gguf", golden("qwen3_f32/model.gguf")},
                                                             {"README.md", golden("MANIFEST.txt")}},
                                                            kCommit));
    config.endpoint = standin.endpoint();
    config.cache_root = scratch.path("hub");
    config.retry_wait = std::chrono::milliseconds(5);
    config.retries = 3;
  }
  hub::PullResult pull(const std::string& name) { return hub::pull(*hub::parse_repo_ref(name), config); }
  fs::path repo_dir(const std::string& repo) const { return fs::path(config.cache_root) / hub::repo_folder_name(repo); }
  size_t count(const std::string& path_prefix) const {
    size_t n = 0;
    for (const auto& r : standin.requests()) n += r.path.rfind(path_prefix, 0) == 0;
    return n;
  }
};

std::string pull_error(Hub& hub, const std::string& name) {
  try {
    hub.pull(name);
  } catch (const hub::HubError& e) {
    return e.what();
  }
  FAIL("the pull of " << name << " succeeded");
  return "";
}

}  // namespace

TEST_CASE("a pulled Hugging Face folder is in huggingface_hub's cache layout", "[hub]") {
  Hub hub;
  const hub::PullResult result = hub.pull(kRepo);
  const fs::path dir = hub.repo_dir(kRepo);
  CHECK(result.path == (dir / "snapshots" / kCommit).string());
  CHECK(result.downloaded);
  CHECK(test::read_file_bytes(dir / "refs/main") == kCommit);  // no newline, as huggingface_hub writes it
  const fs::path source = golden("minimind3_f32/hf");
  size_t lfs_files = 0;
  for (const auto& entry : fs::directory_iterator(source)) {
    const std::string name = entry.path().filename().string();
    const fs::path link = dir / "snapshots" / kCommit / name;
    INFO(name);
    REQUIRE(fs::is_symlink(link));
    const fs::path target = fs::read_symlink(link);
    CHECK(target.is_relative());
    CHECK(target.parent_path() == fs::path("../../blobs"));
    const std::string bytes = test::read_file_bytes(entry.path());
    CHECK(test::read_file_bytes(link) == bytes);
    if (name.size() > 12 && name.substr(name.size() - 12) == ".safetensors") {
      CHECK(target.filename() == test::sha256_hex(bytes));  // LFS blobs go by their sha256
      ++lfs_files;
    }
  }
  CHECK(lfs_files == 1);
  for (const auto& blob : fs::directory_iterator(dir / "blobs")) CHECK(blob.path().extension() != ".incomplete");
  CHECK(fs::exists(fs::path(hub.config.cache_root) / ".locks" / hub::repo_folder_name(kRepo)));

  const auto cached = hub::list_cached(hub.config.cache_root);
  REQUIRE(cached.size() == 1);
  CHECK(cached[0].repo == kRepo);
  CHECK(cached[0].refs == std::vector<std::string>{"main"});
  CHECK(cached[0].files.size() == result.files.size());
}

TEST_CASE("a second pull asks only for the listing and offline asks nothing", "[hub]") {
  Hub hub;
  hub.pull(kRepo);
  hub.standin.clear_log();
  const hub::PullResult again = hub.pull(kRepo);
  CHECK_FALSE(again.downloaded);
  CHECK(hub.standin.request_count() == 1);
  CHECK(hub.count("/api/models/" + kRepo) == 1);

  hub.standin.clear_log();
  hub.config.offline = true;
  const hub::PullResult offline = hub.pull(kRepo);
  CHECK(offline.path == again.path);
  CHECK(hub.standin.request_count() == 0);
  CHECK_THAT(pull_error(hub, kGgufRepo + ":F32"), Catch::Contains("offline") && Catch::Contains("nothing of " + kGgufRepo + " is cached"));
  CHECK(hub.standin.request_count() == 0);
}

TEST_CASE("the token goes to the Hub, not to the CDN it redirects to", "[hub]") {
  Hub hub;
  hub.standin.gate(kRepo, "secret");
  CHECK_THAT(pull_error(hub, kRepo), Catch::Contains("401") && Catch::Contains("set HF_TOKEN"));
  hub.config.token = "wrong";
  CHECK_THAT(pull_error(hub, kRepo), Catch::Contains("403") && Catch::Contains("gated"));
  hub.config.token = "secret";
  hub.standin.clear_log();
  hub.pull(kRepo);
  size_t cdn = 0;
  for (const auto& r : hub.standin.requests()) {
    INFO(r.method << " " << r.path);
    if (r.path.rfind("/cdn/", 0) == 0) {
      ++cdn;
      CHECK(r.authorization.empty());
    } else {
      CHECK(r.authorization == "Bearer secret");
    }
  }
  CHECK(cdn == 1);
}

TEST_CASE("a connection cut mid-file is resumed with a Range request", "[hub]") {
  Hub hub;
  hub.standin.cut_once("model.safetensors", 5000);
  const hub::PullResult result = hub.pull(kRepo);
  const std::string bytes = test::read_file_bytes(golden("minimind3_f32/hf/model.safetensors"));
  CHECK(test::read_file_bytes(fs::path(result.path) / "model.safetensors") == bytes);
  std::vector<std::string> ranges;
  for (const auto& r : hub.standin.requests()) {
    if (r.path.rfind("/cdn/", 0) == 0) ranges.push_back(r.range);
  }
  CHECK(ranges == std::vector<std::string>{"", "bytes=5000-"});
}

TEST_CASE("an earlier run's .incomplete download is resumed", "[hub]") {
  Hub hub;
  const std::string bytes = test::read_file_bytes(golden("minimind3_f32/hf/model.safetensors"));
  const fs::path blobs = hub.repo_dir(kRepo) / "blobs";
  fs::create_directories(blobs);
  std::ofstream(blobs / (test::sha256_hex(bytes) + ".incomplete"), std::ios::binary) << bytes.substr(0, 1234);
  const hub::PullResult result = hub.pull(kRepo);
  CHECK(test::read_file_bytes(fs::path(result.path) / "model.safetensors") == bytes);
  bool resumed = false;
  for (const auto& r : hub.standin.requests()) resumed = resumed || r.range == "bytes=1234-";
  CHECK(resumed);
}

TEST_CASE("a blob whose sha256 is not the Hub's is deleted and reported", "[hub]") {
  Hub hub;
  hub.standin.corrupt("model.safetensors");
  CHECK_THAT(pull_error(hub, kRepo), Catch::Contains("model.safetensors is corrupt") && Catch::Contains("sha256") &&
                                         Catch::Contains("deleted"));
  const std::string sha = test::sha256_hex(test::read_file_bytes(golden("minimind3_f32/hf/model.safetensors")));
  CHECK_FALSE(fs::exists(hub.repo_dir(kRepo) / "blobs" / sha));
  CHECK_FALSE(fs::exists(hub.repo_dir(kRepo) / "blobs" / (sha + ".incomplete")));
  CHECK_FALSE(fs::exists(hub.repo_dir(kRepo) / "refs/main"));
}

TEST_CASE("statuses become messages: 404 and 500 retried then reported", "[hub]") {
  Hub hub;
  CHECK_THAT(pull_error(hub, "nobody/nothing"), Catch::Contains("404") && Catch::Contains("no repository nobody/nothing"));

  hub.standin.fail("/api/models/", 500);
  hub.standin.clear_log();
  CHECK_THAT(pull_error(hub, kRepo), Catch::Contains("500") && Catch::Contains("failed 4 times"));
  CHECK(hub.standin.request_count() == 4);  // the try and 3 retries

  Hub flaky;
  flaky.standin.fail("/" + kRepo + "/resolve/", 503, 2);
  CHECK(flaky.pull(kRepo).downloaded);
}

TEST_CASE("ORG/REPO:QUANT pulls the GGUF file with that quant", "[hub]") {
  Hub hub;
  const hub::PullResult result = hub.pull(kGgufRepo + ":f32");
  CHECK(fs::path(result.path).filename() == "tiny-llama-F32.gguf");
  CHECK(result.files == std::vector<std::string>{"tiny-llama-F32.gguf"});
  CHECK(test::read_file_bytes(result.path) == test::read_file_bytes(golden("llama_f32/model.gguf")));
  CHECK(hub.count("/" + kGgufRepo + "/resolve/") == 1);  // the other quant and the README stay on the Hub

  CHECK_THAT(pull_error(hub, kGgufRepo + ":Q2_K"), Catch::Contains("no GGUF file for quant Q2_K") &&
                                                       Catch::Contains("its quants: F32, Q8_0"));
  CHECK_THAT(pull_error(hub, kGgufRepo), Catch::Contains("name a quant") && Catch::Contains("F32, Q8_0"));
  CHECK_THAT(pull_error(hub, kRepo + ":Q8_0"), Catch::Contains("no GGUF files") && Catch::Contains("without a quant"));
}

TEST_CASE("a split GGUF is refused with what to do", "[hub]") {
  Hub hub;
  test::StandInRepo split;
  split.commit = kCommit;
  split.files["big-Q6_K-00001-of-00002.gguf"] = {"part one", true};
  split.files["big-Q6_K-00002-of-00002.gguf"] = {"part two", true};
  hub.standin.add_repo("oracle/big-GGUF", split);
  CHECK_THAT(pull_error(hub, "oracle/big-GGUF:Q6_K"), Catch::Contains("split into 2 files") &&
                                                          Catch::Contains("llama-gguf-split --merge"));
}

TEST_CASE("without a network the cache answers or the error says what is cached", "[hub]") {
  Hub hub;
  const hub::PullResult online = hub.pull(kRepo);
  hub.config.endpoint = "http://127.0.0.1:1";  // nothing listens there
  CHECK(hub.pull(kRepo).path == online.path);
  CHECK_THAT(pull_error(hub, kGgufRepo + ":F32"),
             Catch::Contains("cannot reach http://127.0.0.1:1 (no network?)") && Catch::Contains("nothing of " + kGgufRepo));
}
