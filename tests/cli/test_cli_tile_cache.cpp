// The tile cache (runtime/engine/tile_cache.h), through the real binary: on a
// CPU device the first load writes the tiles it made, later loads map them,
// and the logits are the same digits either way (only where the weights lie
// changes). A model rewritten in place with the same size and modification
// time, a corrupt cache file and a cap too small for the tiles each fall back
// to repacking, never to wrong tiles or a crash. GPUs keep no tiles: the test
// says so and stops there.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/cli/cli_helpers.h"
#include "tests/cli/wide_model.h"
#include "tests/scratch_dir.h"

using namespace vkmind::test;
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> tile_files(const std::string& folder) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(folder, ec)) files.push_back(e.path());
  return files;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

bool has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

}  // namespace

TEST_CASE("tile cache: a later load maps the tiles an earlier one wrote, never stale ones", "[cli]") {
  ScratchDir dir;
  const std::string model = write_wide_model(dir);  // f32, 256 wide: tiled on lavapipe
  const std::string cache = dir.path("tiles");
  const ProcessOptions cached{.env = {{"VKMIND_TILE_CACHE", cache}}};
  const ProcessOptions uncached{.env = {{"VKMIND_TILE_CACHE", "off"}}};
  const std::vector<std::string> logits = {"logits", "-m", model, "--tokens", "1 2 3 4 5 6 7 8"};
  const std::vector<std::string> load = {"run", "-m", model, "-p", "1", "-n", "1", "-v"};

  auto off = run_cli(load, uncached);
  REQUIRE(off.status == 0);
  if (!has(off.err, "llvmpipe")) {
    WARN("not on lavapipe: GPUs keep weights row-major, so there are no tiles to cache");
    return;
  }
  CHECK_FALSE(has(off.err, "tiles being written"));
  CHECK_FALSE(fs::exists(cache));
  const auto reference = run_cli(logits, uncached);
  REQUIRE(reference.status == 0);

  auto first = run_cli(load, cached);
  REQUIRE(first.status == 0);
  CHECK(has(first.err, "9 weight matrices repacked into tiles"));
  CHECK(has(first.err, "tiles being written to " + cache + "/tiles-"));
  const auto files = tile_files(cache);
  REQUIRE(files.size() == 1);
  const std::string file = files[0].string();

  auto second = run_cli(load, cached);
  REQUIRE(second.status == 0);
  CHECK(has(second.err, "tiles read from " + file));
  const auto from_cache = run_cli(logits, cached);
  REQUIRE(from_cache.status == 0);
  CHECK(from_cache.out == reference.out);
  CHECK_FALSE(has(from_cache.err, "warning"));

  SECTION("a model rewritten in place with the same size and time gets its own tiles") {
    // Same path, inode, size and mtime: only the weights' fingerprints differ.
    const auto when = fs::last_write_time(model);
    const std::string other = read_bytes(write_wide_model(dir, "other.gguf", 7));
    const std::string before = read_bytes(model);
    REQUIRE(other.size() == before.size());
    REQUIRE(other != before);
    std::ofstream(model, std::ios::binary | std::ios::trunc) << other;
    fs::last_write_time(model, when);
    const auto expected = run_cli(logits, uncached);
    REQUIRE(expected.status == 0);
    REQUIRE(expected.out != reference.out);
    const auto got = run_cli(logits, cached);
    REQUIRE(got.status == 0);
    CHECK(got.out == expected.out);
    auto rewritten = run_cli(load, cached);
    CHECK(has(rewritten.err, "tiles read from " + file));  // the new tiles, written by the run before
  }

  SECTION("a corrupt cache file is reported, ignored and rewritten") {
    const std::string bytes = read_bytes(file);
    for (const std::string& damaged : {bytes.substr(0, bytes.size() / 2), std::string("not a cache"),
                                       std::string(bytes).replace(0, 6, "VKMIND")}) {
      std::ofstream(file, std::ios::binary | std::ios::trunc) << damaged;
      const auto got = run_cli(logits, cached);
      REQUIRE(got.status == 0);
      CHECK(got.out == reference.out);
      CHECK(has(got.err, "warning: tile cache " + file));
      CHECK(read_bytes(file) == bytes);  // written anew, the same tiles
    }
  }

  SECTION("a cap smaller than the tiles writes none, and says so") {
    fs::remove_all(cache);
    auto capped = run_cli(load, {.env = {{"VKMIND_TILE_CACHE", cache}, {"VKMIND_TILE_CACHE_MAX_MIB", "1"}}});
    REQUIRE(capped.status == 0);
    CHECK(has(capped.err, "VKMIND_TILE_CACHE_MAX_MIB"));
    CHECK(tile_files(cache).empty());
  }

  SECTION("an older model's file makes room for a new one under the cap") {
    // A cap of 1.5 files' worth: writing another model's tiles evicts these.
    const std::string other = write_wide_model(dir, "other.gguf", 11);
    const uint64_t cap_mib = (fs::file_size(file) * 3 / 2 >> 20) + 1;
    auto wrote = run_cli({"run", "-m", other, "-p", "1", "-n", "1", "-v"},
                         {.env = {{"VKMIND_TILE_CACHE", cache}, {"VKMIND_TILE_CACHE_MAX_MIB", std::to_string(cap_mib)}}});
    REQUIRE(wrote.status == 0);
    CHECK(has(wrote.err, "tiles being written to"));
    const auto left = tile_files(cache);
    REQUIRE(left.size() == 1);
    CHECK(left[0] != files[0]);
  }
}
