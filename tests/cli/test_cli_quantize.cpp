// `vkmind quantize`: every type it writes loads and runs. Logits of the
// quantized oracle GGUF stay near the f32 ones, and on stories260K (real
// weights) q8_0 and q5_0 keep greedy output. `vkmind info` lists the type
// mix, and failures leave no file behind.
//
// Tolerances: the largest logit difference over the logit range, at the last
// of 8 positions, on the 2-layer random-weight oracle model. Each is about 3x
// what was measured, and each follows the type's step size. f16 (2^-11
// relative) measured 4e-4; bf16 (2^-8) 2e-3; q8_0 (max/127 per block of 32)
// 1e-2; q5 (1/31 of the block range) 6e-2; q4_1 (1/15) 9e-2; q4_0 (max/8,
// signed) 0.19. A row or block decoded wrong moves logits by a large part of
// the range, well past these.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "tests/cli/cli_helpers.h"
#include "tests/scratch_dir.h"
#include "tests/shared_data.h"

using namespace vkmind::test;

namespace {

std::vector<double> logits_of(const std::string& model) {
  auto r = run_cli({"logits", "-m", model, "--tokens", "1 2 3 4 5 6 7 8"});
  REQUIRE(r.status == 0);
  std::istringstream in(r.out);
  std::vector<double> v;
  for (double x; in >> x;) v.push_back(x);
  return v;
}

}  // namespace

TEST_CASE("quantize: every type loads, runs and stays near the f32 logits", "[cli]") {
  ScratchDir dir;
  const auto reference = logits_of(tiny_gguf());
  REQUIRE(reference.size() > 100);
  const auto [lo, hi] = std::minmax_element(reference.begin(), reference.end());
  const double range = *hi - *lo;
  const std::pair<const char*, double> types[] = {{"f16", 2e-3}, {"bf16", 1e-2}, {"q8_0", 4e-2}, {"q5_1", 0.18},
                                                  {"q5_0", 0.16}, {"q4_1", 0.27}, {"q4_0", 0.5}};
  for (const auto& [type, tolerance] : types) {
    DYNAMIC_SECTION(type) {
      const std::string out = dir.path(std::string(type) + ".gguf");
      auto q = run_cli({"quantize", "-m", tiny_gguf(), "-o", out, "--type", type});
      REQUIRE(q.status == 0);
      CHECK(q.err.find("bits per weight") != std::string::npos);
      const auto got = logits_of(out);
      REQUIRE(got.size() == reference.size());
      double worst = 0;
      for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::fabs(got[i] - reference[i]));
      INFO("max |difference| / range = " << worst / range);
      CHECK(worst / range <= tolerance);
      CHECK(worst > 0);  // it really is another file
      // The type mix: norms stay F32, the matrices take the type.
      auto info = run_cli({"info", "-m", out});
      std::string upper = type;
      for (char& c : upper) c = char(std::toupper(c));
      CHECK(info.out.find(upper + " x") != std::string::npos);
    }
  }
}

TEST_CASE("quantize: stories260K keeps its greedy story in q8_0 and q5_0", "[cli]") {
  const std::string stories = shared_file("models/stories260K/stories260K.gguf");
  if (stories.empty()) return;
  ScratchDir dir;
  auto story = [&](const std::string& model) {
    auto r = run_cli({"run", "-m", model, "-p", "Once upon a time", "-n", "24", "--temp", "0", "-q"});
    REQUIRE(r.status == 0);
    return r.out;
  };
  const std::string reference = story(stories);
  for (const char* type : {"q8_0", "q5_0"}) {
    const std::string out = dir.path(std::string(type) + ".gguf");
    REQUIRE(run_cli({"quantize", "-m", stories, "-o", out, "--type", type, "-q"}).status == 0);
    CHECK(std::filesystem::file_size(out) < std::filesystem::file_size(stories) / 2);
    CHECK(story(out) == reference);
  }
}

TEST_CASE("quantize: bad types and failures say why and leave no file", "[cli]") {
  ScratchDir dir;
  auto bad_type = run_cli({"quantize", "-m", tiny_gguf(), "-o", dir.path("x.gguf"), "--type", "q9_9"});
  CHECK(bad_type.status == 2);
  CHECK(bad_type.err.find("q9_9") != std::string::npos);
  auto unwritable = run_cli({"quantize", "-m", tiny_gguf(), "-o", dir.path("no/such/dir/z.gguf"), "--type", "q8_0"});
  CHECK(unwritable.status == 1);
  CHECK(unwritable.err.find("cannot be written") != std::string::npos);
  const std::string truncated = dir.path("truncated.gguf");
  {
    std::ifstream in(tiny_gguf(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    dir.write("truncated.gguf", bytes.substr(0, bytes.size() / 2));
  }
  auto cut = run_cli({"quantize", "-m", truncated, "-o", dir.path("t.gguf"), "--type", "q8_0"});
  CHECK(cut.status == 1);
  CHECK(cut.err.find("truncated.gguf") != std::string::npos);
  size_t left = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.dir)) left += e.path().filename() != "truncated.gguf";
  CHECK(left == 0);  // no output, no temporary
}
