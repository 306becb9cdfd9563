#include "tests/cli/wide_model.h"

#include <cmath>
#include <cstring>
#include <random>

#include "model/gguf.h"
#include "model/gguf_writer.h"
#include "tests/cli/cli_helpers.h"

namespace vkmind::test {

namespace {

gguf::Value u32(uint64_t v) { return gguf::Value{gguf::ValueType::U32, gguf::ValueType::U8, v}; }

}  // namespace

std::string write_wide_model(const ScratchDir& dir, const std::string& name, unsigned seed) {
  constexpr uint32_t kHidden = 256, kFfn = 768, kHeads = 4, kKvHeads = 2, kHeadDim = 64, kLayers = 2;
  auto tiny = gguf::File::open(tiny_gguf());
  auto metadata = tiny->metadata();
  const uint64_t vocab = tiny->find_tensor("token_embd.weight")->dims[1];
  metadata["llama.embedding_length"] = u32(kHidden);
  metadata["llama.feed_forward_length"] = u32(kFfn);
  metadata["llama.attention.head_count"] = u32(kHeads);
  metadata["llama.attention.head_count_kv"] = u32(kKvHeads);
  metadata["llama.attention.key_length"] = u32(kHeadDim);
  metadata["llama.attention.value_length"] = u32(kHeadDim);
  metadata["llama.rope.dimension_count"] = u32(kHeadDim);
  metadata["llama.block_count"] = u32(kLayers);

  std::mt19937 rng(seed);
  std::vector<gguf::TensorToWrite> tensors;
  auto add = [&](const std::string& name, uint64_t in, uint64_t out) {
    std::vector<float> v(in * out, 1.0f);  // vectors (norms): ones
    if (out > 1) {
      std::normal_distribution<float> normal(0.0f, 1.0f / std::sqrt(float(in)));
      for (float& x : v) x = normal(rng);
    }
    gguf::TensorToWrite t{name, out > 1 ? std::vector<uint64_t>{in, out} : std::vector<uint64_t>{in}, 0, {}};
    t.bytes.resize(v.size() * 4);
    std::memcpy(t.bytes.data(), v.data(), t.bytes.size());
    tensors.push_back(std::move(t));
  };
  add("token_embd.weight", kHidden, vocab);
  for (uint32_t l = 0; l < kLayers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    add(p + "attn_norm.weight", kHidden, 1);
    add(p + "attn_q.weight", kHidden, kHeads * kHeadDim);
    add(p + "attn_k.weight", kHidden, kKvHeads * kHeadDim);
    add(p + "attn_v.weight", kHidden, kKvHeads * kHeadDim);
    add(p + "attn_output.weight", kHeads * kHeadDim, kHidden);
    add(p + "ffn_norm.weight", kHidden, 1);
    add(p + "ffn_gate.weight", kHidden, kFfn);
    add(p + "ffn_up.weight", kHidden, kFfn);
    add(p + "ffn_down.weight", kFfn, kHidden);
  }
  add("output_norm.weight", kHidden, 1);
  add("output.weight", kHidden, vocab);
  const std::string path = dir.path(name);
  gguf::write_file(path, metadata, tensors);
  return path;
}

}  // namespace vkmind::test
