// The oracle's golden checkpoints (tests/reference/golden, in the repository):
// every one opens without warnings, and where a model exists as both an HF
// folder and a GGUF file the two describe the same model (bar RoPE pairing
// for llama, whose GGUF q/k rows are permuted) with the same tensor shapes.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "model/model_desc.h"

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
      CHECK(a.n_layers == b.n_layers);
      CHECK(a.hidden == b.hidden);
      CHECK(a.n_heads == b.n_heads);
      CHECK(a.n_kv_heads == b.n_kv_heads);
      CHECK(a.head_dim == b.head_dim);
      CHECK(a.ffn_hidden == b.ffn_hidden);
      CHECK(a.vocab == b.vocab);
      CHECK(a.norm_eps == Approx(b.norm_eps));
      CHECK(a.rope.theta == Approx(b.rope.theta));
      CHECK(a.qk_norm == b.qk_norm);
      CHECK(a.attn_qkv_bias == b.attn_qkv_bias);
      CHECK(a.tied_embeddings == b.tied_embeddings);
      CHECK(b.rope.pairing == (b.architecture == "llama" ? RopePairing::GPTJ : RopePairing::NeoX));
      CHECK(a.rope.pairing == RopePairing::NeoX);
      for (const auto& e : expected_tensors(a)) CHECK(models[1]->require(e.name).dims == e.dims);
    }
  }
  CHECK(opened >= 14);
}
