// Limits known before generating, the pipeline cache, validation messages and
// a tokenizer that does not match the weights.
#include <filesystem>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include "tests/cli/cli_helpers.h"
#include "tests/scratch_dir.h"

using namespace vkmind::test;
namespace fs = std::filesystem;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// A copy of the tiny HF folder whose tokenizer.json is edited by `edit`.
std::string folder_with_tokenizer(const ScratchDir& dir, const std::function<void(nlohmann::json&)>& edit) {
  const fs::path out = dir.path("model");
  fs::create_directories(out);
  for (const auto& e : fs::directory_iterator(tiny_hf())) fs::copy_file(e.path(), out / e.path().filename());
  auto tok = nlohmann::json::parse(slurp((out / "tokenizer.json").string()));
  edit(tok);
  std::ofstream((out / "tokenizer.json").string()) << tok.dump();
  return out.string();
}

}  // namespace

TEST_CASE("a KV cache smaller than prompt + -n is reported up front, generation stops cleanly", "[cli]") {
  // --kv-blocks 1 x 16 tokens: the 2-token prompt leaves room for 14.
  auto r = run_cli({"run", "-m", tiny_gguf(), "-p", "Hi", "-n", "30", "--temp", "0", "--ignore-eos", "--kv-blocks", "1"});
  CHECK(r.status == 0);
  CHECK(r.err.find("the cache holds 16 tokens") != std::string::npos);
  CHECK(r.err.find("room for 14 generated tokens of the 30") != std::string::npos);
  CHECK(r.err.find("generated 14 tokens") != std::string::npos);
  CHECK(r.err.find("stopped: context full") != std::string::npos);
  // A prompt the cache cannot hold at all is refused before any work.
  auto big = run_cli({"run", "-m", tiny_gguf(), "-p", std::string(200, 'a'), "-n", "4", "--kv-blocks", "1"});
  CHECK(big.status == 1);
  CHECK(big.err.find("KV cache of 16 tokens (--kv-blocks)") != std::string::npos);
}

TEST_CASE("a context the device cannot hold names the context that fits", "[cli]") {
  auto r = run_cli({"run", "-m", tiny_gguf(), "-p", "Hi", "-n", "4", "-c", "2000000000"});
  CHECK(r.status == 1);
  CHECK(r.err.find("a context of 2000000000 tokens needs") != std::string::npos);
  CHECK(r.err.find("a context of at most") != std::string::npos);
  CHECK(r.err.find("graph") == std::string::npos);  // not an internal message
  // The context it names does open.
  const auto at = r.err.find("--ctx ");
  REQUIRE(at != std::string::npos);
  const std::string fits = r.err.substr(at + 6, r.err.find_first_of(",)", at) - at - 6);
  INFO("fits: " << fits);
  CHECK(std::stoull(fits) < 2000000000ull);
}

TEST_CASE("pipeline cache: VKMIND_PIPELINE_CACHE may name a folder - a foreign file is never overwritten", "[cli]") {
  ScratchDir dir;
  const std::vector<std::string> args{"run", "-m", tiny_gguf(), "-p", "Hi", "-n", "2", "-q"};
  SECTION("a folder gets the per-device file") {
    auto r = run_cli(args, {.env = {{"VKMIND_PIPELINE_CACHE", dir.dir.string()}}});
    CHECK(r.status == 0);
    fs::path file;
    for (const auto& e : fs::directory_iterator(dir.dir)) {
      // At least the header (lavapipe stores no more).
      if (e.path().filename().string().rfind("pipelines-", 0) == 0 && fs::file_size(e.path()) >= 32) file = e.path();
    }
    REQUIRE_FALSE(file.empty());
    struct stat before {};
    REQUIRE(::stat(file.c_str(), &before) == 0);
    const std::string bytes = slurp(file.string());
    auto again = run_cli(args, {.env = {{"VKMIND_PIPELINE_CACHE", dir.dir.string()}}});
    CHECK(again.status == 0);
    CHECK(again.err.find("warning") == std::string::npos);
    // A cache that gained nothing (lavapipe's never does) is not written
    // again: a rewrite would rename a fresh file over this one.
    struct stat after {};
    REQUIRE(::stat(file.c_str(), &after) == 0);
    if (slurp(file.string()) == bytes) CHECK(after.st_ino == before.st_ino);
  }
  SECTION("a file that is not a pipeline cache is left alone") {
    const std::string notes = dir.write("notes.txt", "my notes, not a cache\n");
    auto r = run_cli(args, {.env = {{"VKMIND_PIPELINE_CACHE", notes}}});
    CHECK(r.status == 0);
    CHECK(r.err.find("is not a pipeline cache") != std::string::npos);
    CHECK(slurp(notes) == "my notes, not a cache\n");
  }
  SECTION("an unwritable place is a warning") {
    auto r = run_cli(args, {.env = {{"VKMIND_PIPELINE_CACHE", "/proc/vkmind-cache/"}}});
    CHECK(r.status == 0);
    CHECK(r.err.find("pipeline cache") != std::string::npos);
  }
}

TEST_CASE("flag --validate prints the layer's messages as they come and fails the command", "[cli]") {
  if (!fs::exists("/usr/share/vulkan/explicit_layer.d/VkLayer_khronos_validation.json")) {
    WARN("SKIPPED: the Khronos validation layer is not installed");
    return;
  }
  const std::vector<std::string> args{"run", "-m", tiny_gguf(), "-p", "Hi", "-n", "3", "--temp", "0", "--validate"};
  auto clean = run_cli(args);
  CHECK(clean.status == 0);
  CHECK(clean.err.find("validation") == std::string::npos);
  // Best-practice checks (a layer setting) report real, harmless warnings.
  auto noisy = run_cli(args, {.env = {{"VK_LAYER_ENABLES", "VK_VALIDATION_FEATURE_ENABLE_BEST_PRACTICES_EXT"}}});
  CHECK(noisy.status == 1);
  CHECK(noisy.err.find("vkmind: validation warning: ") != std::string::npos);
  CHECK(noisy.err.find("the validation layer reported") != std::string::npos);
  // As they come: the first message precedes the generation's statistics.
  CHECK(noisy.err.find("vkmind: validation") < noisy.err.find("[vkmind] prompt"));
}

TEST_CASE("a tokenizer larger than the embedding is refused at load - a smaller one is a warning", "[cli]") {
  ScratchDir dir;
  SECTION("larger: its ids would index past the table") {
    const std::string m = folder_with_tokenizer(dir, [](nlohmann::json& tok) {
      auto& vocab = tok["model"]["vocab"];
      for (int id = int(vocab.size()); id < 6400; ++id) vocab["extra" + std::to_string(id)] = id;
    });
    auto r = run_cli({"run", "-m", m, "-p", "你好 world", "-n", "4"});
    CHECK(r.status == 1);
    CHECK(r.err.find("the tokenizer has 6400 tokens but the token embedding (token_embd) has 288 rows") !=
          std::string::npos);
    CHECK(r.out.empty());
  }
  SECTION("smaller: a padded vocabulary") {
    const std::string m = folder_with_tokenizer(dir, [](nlohmann::json& tok) {
      // Drop the last token and the merge that makes it.
      auto& vocab = tok["model"]["vocab"];
      std::string last;
      for (auto& [piece, id] : vocab.items()) {
        if (id.get<int>() == int(vocab.size()) - 1) last = piece;
      }
      vocab.erase(last);
      auto& merges = tok["model"]["merges"];
      merges.erase(merges.size() - 1);
    });
    auto r = run_cli({"run", "-m", m, "-p", "Hi", "-n", "4", "--temp", "0"});
    CHECK(r.status == 0);
    CHECK(r.err.find("the tokenizer has 287 tokens, the model's vocabulary 288 (padded)") != std::string::npos);
  }
}

TEST_CASE("every path that feeds ids checks them", "[cli]") {
  auto r = run_cli({"logits", "-m", tiny_gguf(), "-t", "1 2 288"});
  CHECK(r.status == 1);
  CHECK(r.err.find("token id 288 is outside the vocabulary of 288") != std::string::npos);
}

TEST_CASE("serve: only vkmind-serve links the HTTP server, and vkmind names it when it is missing", "[cli]") {
  SECTION("other commands load neither cpp-httplib nor the OpenSSL it initializes (nor libedit)") {
    auto r = run_cli({"--version"}, {.env = {{"LD_DEBUG", "libs"}}});
    CHECK(r.status == 0);
    CHECK(r.err.find("libvulkan.so") != std::string::npos);  // the dynamic linker's list is there
    CHECK(r.err.find("libcpp-httplib") == std::string::npos);
    CHECK(r.err.find("libssl") == std::string::npos);
    CHECK(r.err.find("libedit") == std::string::npos);  // loaded by the chat on a terminal (edit_library.h)
  }
  SECTION("a vkmind without vkmind-serve beside it says so") {
    ScratchDir dir;
    const fs::path alone = dir.dir / "vkmind";
    fs::copy_file(binary(), alone);
    auto r = run_process({alone.string(), "serve", "-m", tiny_gguf(), "--port", "0"});
    CHECK(r.status == 1);
    CHECK(r.err.find("cannot run " + (dir.dir / "vkmind-serve").string()) != std::string::npos);
    // A bad flag is still the usual usage error, found before any of that.
    auto bad = run_process({alone.string(), "serve", "-m", tiny_gguf(), "--port", "70000"});
    CHECK(bad.status == 2);
  }
}
