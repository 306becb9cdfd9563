// The oracle's golden checkpoints (tests/reference/golden, in the repository):
// every one opens without warnings, and where a model exists as both an HF
// folder and a GGUF file the two describe the same model (bar RoPE pairing
// for llama, whose GGUF q/k rows are permuted) with the same tensor shapes.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "model/model_desc.h"
#include "tests/same_description.h"

using namespace vkmind;

TEST_CASE("every golden checkpoint opens; HF and GGUF twins agree", "[golden]") {
  const std::filesystem::path root = std::filesystem::path(VKMIND_SOURCE_DIR) / "tests/reference/golden";
  std::ifstream manifest(root / "MANIFEST.txt");
  if (!manifest) {
    WARN("SKIPPED: no golden checkpoints at " << root.string());
    return;
  }
  int opened = 0;
  std::string line;
  while (std::getline(manifest, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream in(line);
    std::string dir, dtype, ckpt;
    in >> dir >> dtype;
    std::vector<std::unique_ptr<Model>> models;
    while (in >> ckpt) {
      const auto path = (root / dir / ckpt).string();
      INFO(path);
      REQUIRE_NOTHROW(models.push_back(Model::open(path)));
      CHECK(models.back()->warnings().empty());
      CHECK_NOTHROW(models.back()->check_supported());
      ++opened;
    }
    if (models.size() == 2) {
      INFO(dir);
      const ModelDesc& a = models[0]->desc();
      const ModelDesc& b = models[1]->desc();
      CHECK(a.architecture == b.architecture);
      test::check_same_shape(a, b);
      CHECK(a.tied_embeddings == b.tied_embeddings);
      CHECK(b.rope.pairing == (b.architecture == "llama" ? RopePairing::GPTJ : RopePairing::NeoX));
      CHECK(a.rope.pairing == RopePairing::NeoX);
      for (const auto& e : expected_tensors(a)) CHECK(models[1]->require(e.name).dims == e.dims);
    }
  }
  CHECK(opened >= 14);
}
