// Writers for the model tests (scratch folders: tests/scratch_dir.h): a minimal GGUF builder and
// a Hugging Face folder builder (config.json + safetensors with random data).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/scratch_dir.h"

namespace vkmind::test {

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Little-endian GGUF bytes, written field by field so tests can also write
// hostile values.
struct GgufBytes {
  std::string b;
  bool v1 = false;
  template <typename T>
  GgufBytes& raw(T v) {
    b.append(reinterpret_cast<const char*>(&v), sizeof v);
    return *this;
  }
  GgufBytes& count(uint64_t n) { return v1 ? raw(static_cast<uint32_t>(n)) : raw(n); }
  GgufBytes& str(const std::string& s) {
    count(s.size());
    b += s;
    return *this;
  }
  GgufBytes& header(uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    v1 = version == 1;
    b += "GGUF";
    raw(version);
    return count(n_tensors).count(n_kv);
  }
  GgufBytes& kv_u32(const std::string& k, uint32_t v) { return str(k).raw(uint32_t{4}).raw(v); }
  GgufBytes& kv_str(const std::string& k, const std::string& v) { return str(k).raw(uint32_t{8}).str(v); }
  GgufBytes& tensor(const std::string& name, std::vector<uint64_t> dims, uint32_t type, uint64_t offset) {
    str(name).raw(static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) v1 ? raw(static_cast<uint32_t>(d)) : raw(d);
    return raw(type).raw(offset);
  }
  GgufBytes& append_zeros(size_t n) {
    b.append(n, '\0');
    return *this;
  }
  GgufBytes& pad(uint64_t alignment) {
    while (b.size() % alignment) b.push_back('\0');
    return *this;
  }
};

// A Hugging Face folder: tensors given with PyTorch shapes ([out, in]).
struct HfFolder {
  struct T {
    std::string name;
    std::vector<uint64_t> shape;
  };
  std::vector<T> tensors;
  nlohmann::json config;
  void add(const std::string& name, std::vector<uint64_t> shape) { tensors.push_back({name, std::move(shape)}); }

  // Writes config.json and the weights as F32 (random), in `shards` files
  // (1: model.safetensors; more: an index plus model-0000k-of-0000n files).
  void write(const std::filesystem::path& dir, int shards = 1) const {
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "config.json") << config.dump(2);
    std::mt19937 rng(42);
    std::uniform_real_distribution<float> dist(-0.1f, 0.1f);
    nlohmann::json index = {{"metadata", nlohmann::json::object()}, {"weight_map", nlohmann::json::object()}};
    for (int s = 0; s < shards; ++s) {
      const std::string fname = shards == 1 ? "model.safetensors"
                                            : "model-0000" + std::to_string(s + 1) + "-of-0000" + std::to_string(shards) + ".safetensors";
      nlohmann::json header = nlohmann::json::object();
      std::string data;
      for (size_t i = static_cast<size_t>(s); i < tensors.size(); i += static_cast<size_t>(shards)) {
        const T& t = tensors[i];
        uint64_t n = 1;
        for (uint64_t d : t.shape) n *= d;
        header[t.name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {data.size(), data.size() + n * 4}}};
        for (uint64_t k = 0; k < n; ++k) {
          const float v = dist(rng);
          data.append(reinterpret_cast<const char*>(&v), 4);
        }
        index["weight_map"][t.name] = fname;
      }
      std::string h = header.dump();
      while ((8 + h.size()) % 8) h.push_back(' ');
      const uint64_t len = h.size();
      std::ofstream out(dir / fname, std::ios::binary);
      out.write(reinterpret_cast<const char*>(&len), 8);
      out << h << data;
    }
    if (shards > 1) std::ofstream(dir / "model.safetensors.index.json") << index.dump(2);
  }
};

// The HF tensors of a Llama-layout model (MiniMind, Qwen2/3, Llama).
struct HfLayout {
  uint64_t hidden = 64, n_layers = 2, n_heads = 4, n_kv = 2, head_dim = 16, ffn = 128, vocab = 100;
  bool qk_norm = false, bias = false, lm_head = false;
  uint64_t n_experts = 0, n_shared = 0, expert_ffn = 0;

  void add_to(HfFolder& f) const {
    f.add("model.embed_tokens.weight", {vocab, hidden});
    f.add("model.norm.weight", {hidden});
    if (lm_head) f.add("lm_head.weight", {vocab, hidden});
    for (uint64_t l = 0; l < n_layers; ++l) {
      const std::string p = "model.layers." + std::to_string(l) + ".";
      f.add(p + "input_layernorm.weight", {hidden});
      f.add(p + "post_attention_layernorm.weight", {hidden});
      f.add(p + "self_attn.q_proj.weight", {n_heads * head_dim, hidden});
      f.add(p + "self_attn.k_proj.weight", {n_kv * head_dim, hidden});
      f.add(p + "self_attn.v_proj.weight", {n_kv * head_dim, hidden});
      f.add(p + "self_attn.o_proj.weight", {hidden, n_heads * head_dim});
      if (bias) {
        f.add(p + "self_attn.q_proj.bias", {n_heads * head_dim});
        f.add(p + "self_attn.k_proj.bias", {n_kv * head_dim});
        f.add(p + "self_attn.v_proj.bias", {n_kv * head_dim});
      }
      if (qk_norm) {
        f.add(p + "self_attn.q_norm.weight", {head_dim});
        f.add(p + "self_attn.k_norm.weight", {head_dim});
      }
      auto ffn_block = [&](const std::string& q, uint64_t size) {
        f.add(q + "gate_proj.weight", {size, hidden});
        f.add(q + "up_proj.weight", {size, hidden});
        f.add(q + "down_proj.weight", {hidden, size});
      };
      if (n_experts) {
        f.add(p + "mlp.gate.weight", {n_experts, hidden});
        for (uint64_t e = 0; e < n_experts; ++e) ffn_block(p + "mlp.experts." + std::to_string(e) + ".", expert_ffn);
        for (uint64_t s = 0; s < n_shared; ++s) ffn_block(p + "mlp.shared_experts." + std::to_string(s) + ".", ffn);
      } else {
        ffn_block(p + "mlp.", ffn);
      }
    }
  }
};

}  // namespace vkmind::test
