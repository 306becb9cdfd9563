// The tensor and hyper-parameter half of the HF -> GGUF conversion; the
// tokenizer half is hf_tokenizer_to_gguf.cpp. Model::open reads and checks the
// folder (every shape against config.json), so this file only renames,
// re-lays and re-types what it was given.
#include "model/hf_to_gguf.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <filesystem>

#include "model/gguf_writer.h"
#include "model/weight_codec.h"

namespace vkmind {

namespace {

using gguf::Value;

// llama.cpp's RoPE for these architectures rotates adjacent pairs (2i, 2i+1),
// so its converter reorders each head's q/k rows from HF's half-split pairing.
bool uses_adjacent_pairs(const std::string& arch) { return arch == "llama" || arch == "bailingmoe"; }

// Within each head of `rows_per_head` rows, row j*half + i moves to 2i + j:
// llama.cpp's permute(), on whole rows of any element type.
std::vector<uint8_t> permute_head_rows(std::span<const uint8_t> data, uint64_t rows, uint32_t n_heads) {
  std::vector<uint8_t> out(data.size());
  const uint64_t row_bytes = data.size() / rows, per_head = rows / n_heads, half = per_head / 2;
  for (uint64_t h = 0; h < n_heads; ++h) {
    for (uint64_t i = 0; i < half; ++i) {
      for (uint64_t j = 0; j < 2; ++j) {
        const uint64_t src = h * per_head + j * half + i, dst = h * per_head + 2 * i + j;
        std::copy_n(data.begin() + src * row_bytes, row_bytes, out.begin() + dst * row_bytes);
      }
    }
  }
  return out;
}

std::vector<uint8_t> as_f32_bytes(const ModelTensor& t) {
  const std::vector<float> values = decode_weights(t.data, t.type, t.n_elements());
  std::vector<uint8_t> out(values.size() * sizeof(float));
  std::memcpy(out.data(), values.data(), out.size());
  return out;
}

class HfSource final : public TensorSource {
 public:
  explicit HfSource(const std::string& folder) : path_(folder), model_(Model::open(folder)) {
    const ModelDesc& d = model_->desc();
    arch_ = gguf_architecture_for(d, (std::filesystem::path(folder) / "config.json").string());
    write_hyperparameters(d);
    add_hf_tokenizer_metadata(folder, d, d.vocab, metadata_);
    write_tensors(d);
  }
  const std::string& path() const override { return path_; }
  const std::map<std::string, Value>& metadata() const override { return metadata_; }
  const std::vector<SourceTensor>& tensors() const override { return tensors_; }

 private:
  std::string key(const char* k) const { return arch_ + "." + k; }

  void write_hyperparameters(const ModelDesc& d) {
    auto& m = metadata_;
    std::string name = std::filesystem::path(path_).lexically_normal().filename().string();
    if (name.empty()) name = std::filesystem::path(path_).lexically_normal().parent_path().filename().string();
    m["general.architecture"] = gguf::string_value(arch_);
    m["general.name"] = gguf::string_value(name);
    m[key("vocab_size")] = gguf::u32_value(d.vocab);
    m[key("context_length")] = gguf::u32_value(d.context_length);
    m[key("embedding_length")] = gguf::u32_value(d.hidden);
    m[key("block_count")] = gguf::u32_value(d.n_layers);
    m[key("feed_forward_length")] = gguf::u32_value(d.is_moe() ? d.moe.expert_ffn : d.ffn_hidden);
    m[key("attention.head_count")] = gguf::u32_value(d.n_heads);
    m[key("attention.head_count_kv")] = gguf::u32_value(d.n_kv_heads);
    m[key("attention.key_length")] = gguf::u32_value(d.head_dim);
    m[key("attention.value_length")] = gguf::u32_value(d.head_dim);
    m[key("attention.layer_norm_rms_epsilon")] = gguf::f32_value(d.norm_eps);
    m[key("rope.freq_base")] = gguf::f32_value(d.rope.theta);
    m[key("rope.dimension_count")] = gguf::u32_value(d.rope.n_dims);
    if (d.rope.scaling != RopeScalingType::None) {
      m[key("rope.scaling.type")] = gguf::string_value(std::string(rope_scaling_name(d.rope.scaling)));
      m[key("rope.scaling.factor")] = gguf::f32_value(d.rope.factor);
    }
    if (d.rope.scaling == RopeScalingType::YaRN) {
      m[key("rope.scaling.original_context_length")] = gguf::u32_value(d.rope.original_context);
      m[key("rope.scaling.yarn_beta_fast")] = gguf::f32_value(d.rope.beta_fast);
      m[key("rope.scaling.yarn_beta_slow")] = gguf::f32_value(d.rope.beta_slow);
      m[key("rope.scaling.attn_factor")] = gguf::f32_value(d.rope.attention_factor);
    }
    if (d.is_moe()) {
      m[key("expert_count")] = gguf::u32_value(d.moe.n_experts);
      m[key("expert_used_count")] = gguf::u32_value(d.moe.top_k);
      m[key("expert_feed_forward_length")] = gguf::u32_value(d.moe.expert_ffn);
      // llama.cpp reads this for bailingmoe (default false) and hard-wires
      // true for qwen3moe; vkmind reads it for every architecture.
      m[key("expert_weights_norm")] = gguf::bool_value(d.moe.norm_topk_prob);
    }
    if (arch_ == "bailingmoe") {
      m[key("expert_shared_count")] = gguf::u32_value(d.moe.n_shared_experts);
      m[key("leading_dense_block_count")] = gguf::u32_value(0);
      m[key("expert_weights_scale")] = gguf::f32_value(1.0);
    }
  }

  // Bytes that outlive this call (std::deque: push_back keeps addresses).
  std::span<const uint8_t> keep(std::vector<uint8_t> bytes) {
    owned_.push_back(std::move(bytes));
    return owned_.back();
  }
  void add(std::string name, std::vector<uint64_t> dims, TensorType type, std::span<const uint8_t> data) {
    uint64_t n = 1;
    for (uint64_t x : dims) n *= x;
    tensors_.push_back({std::move(name), std::move(dims), static_cast<uint32_t>(type), n, data});
  }
  void add_as_is(const std::string& name) {
    const ModelTensor& t = model_->require(name);
    add(name, t.dims, t.type, t.data);
  }
  void add_f32(const std::string& name) {
    const ModelTensor& t = model_->require(name);
    add(name, t.dims, TensorType::F32, t.type == TensorType::F32 ? t.data : keep(as_f32_bytes(t)));
  }
  // q or k (weight or bias) in the adjacent-pair order where the architecture needs it.
  void add_rotated(const std::string& name, uint32_t n_heads, bool is_bias) {
    const ModelTensor& t = model_->require(name);
    const uint64_t rows = t.dims.size() == 1 ? t.dims[0] : t.dims[1];
    std::span<const uint8_t> data = is_bias && t.type != TensorType::F32 ? keep(as_f32_bytes(t)) : t.data;
    if (uses_adjacent_pairs(arch_)) data = keep(permute_head_rows(data, rows, n_heads));
    add(name, t.dims, is_bias ? TensorType::F32 : t.type, data);
  }

  // Expert e's matrix is slice e of the stacked tensor (experts slowest).
  void add_stacked_experts(const std::string& blk, const std::string& kind, uint32_t n_experts) {
    std::vector<uint8_t> bytes;
    const ModelTensor& first = model_->require(blk + kind + ".0.weight");
    for (uint32_t e = 0; e < n_experts; ++e) {
      const ModelTensor& t = model_->require(blk + kind + "." + std::to_string(e) + ".weight");
      if (t.type != first.type) {
        throw FormatError(path_, "expert tensors of " + blk + kind + " have different types (" +
                                     std::string(tensor_type_name(first.type)) + ", " +
                                     std::string(tensor_type_name(t.type)) + "); cannot stack them");
      }
      bytes.insert(bytes.end(), t.data.begin(), t.data.end());
    }
    add(blk + kind + "_exps.weight", {first.dims[0], first.dims[1], n_experts}, first.type, keep(std::move(bytes)));
  }

  // S shared SwiGLU experts summed = one FFN whose gate/up rows and down
  // columns are theirs side by side: gate/up concatenate rows, down
  // concatenates each row's columns.
  void add_merged_shared(const std::string& blk, const std::string& kind, uint32_t n_shared) {
    const ModelTensor& first = model_->require(blk + kind + "_shexp.0.weight");
    const std::string out_name = blk + kind + "_shexp.weight";
    if (n_shared == 1) {
      add(out_name, first.dims, first.type, first.data);
      return;
    }
    std::vector<const ModelTensor*> parts;
    for (uint32_t s = 0; s < n_shared; ++s) {
      parts.push_back(&model_->require(blk + kind + "_shexp." + std::to_string(s) + ".weight"));
      if (parts.back()->type != first.type) throw FormatError(path_, "shared experts of " + out_name + " have different types");
    }
    std::vector<uint8_t> bytes;
    std::vector<uint64_t> dims = first.dims;
    if (kind == "ffn_down") {
      const uint64_t rows = first.dims[1], row_bytes = first.data.size() / rows;
      for (uint64_t r = 0; r < rows; ++r) {
        for (const ModelTensor* p : parts) bytes.insert(bytes.end(), p->data.begin() + r * row_bytes, p->data.begin() + (r + 1) * row_bytes);
      }
      dims[0] *= n_shared;
    } else {
      for (const ModelTensor* p : parts) bytes.insert(bytes.end(), p->data.begin(), p->data.end());
      dims[1] *= n_shared;
    }
    add(out_name, dims, first.type, keep(std::move(bytes)));
  }

  void write_tensors(const ModelDesc& d) {
    add_as_is("token_embd.weight");
    for (uint32_t l = 0; l < d.n_layers; ++l) {
      const std::string b = "blk." + std::to_string(l) + ".";
      add_f32(b + "attn_norm.weight");
      add_rotated(b + "attn_q.weight", d.n_heads, false);
      add_rotated(b + "attn_k.weight", d.n_kv_heads, false);
      add_as_is(b + "attn_v.weight");
      if (d.attn_qkv_bias) {
        add_rotated(b + "attn_q.bias", d.n_heads, true);
        add_rotated(b + "attn_k.bias", d.n_kv_heads, true);
        add_f32(b + "attn_v.bias");
      }
      add_as_is(b + "attn_output.weight");
      if (d.qk_norm) {
        add_f32(b + "attn_q_norm.weight");
        add_f32(b + "attn_k_norm.weight");
      }
      add_f32(b + "ffn_norm.weight");
      if (d.is_moe()) {
        add_as_is(b + "ffn_gate_inp.weight");
        for (const char* kind : {"ffn_gate", "ffn_up", "ffn_down"}) add_stacked_experts(b, kind, d.moe.n_experts);
        if (d.moe.n_shared_experts > 0) {
          for (const char* kind : {"ffn_gate", "ffn_up", "ffn_down"}) add_merged_shared(b, kind, d.moe.n_shared_experts);
        }
      } else {
        for (const char* kind : {"ffn_gate", "ffn_up", "ffn_down"}) add_as_is(b + kind + ".weight");
      }
    }
    add_f32("output_norm.weight");
    if (!d.tied_embeddings) {
      add_as_is("output.weight");
    } else if (arch_ == "bailingmoe" || arch_ == "qwen3moe") {
      // llama.cpp's loaders of these two require an output tensor (checked
      // with its qwen3moe loader of May 2025): a tied head is written twice.
      const ModelTensor& e = model_->require("token_embd.weight");
      add("output.weight", e.dims, e.type, e.data);
    }
  }

  std::string path_;
  std::unique_ptr<Model> model_;
  std::string arch_;
  std::map<std::string, Value> metadata_;
  std::vector<SourceTensor> tensors_;
  std::deque<std::vector<uint8_t>> owned_;
};

}  // namespace

std::string gguf_architecture_for(const ModelDesc& d, const std::string& where) {
  auto refuse = [&](const std::string& why) -> std::string {
    throw FormatError(where, "no llama.cpp architecture runs " + why + "; it cannot be written as GGUF");
  };
  if (d.architecture == "qwen2") return d.is_moe() ? refuse("a Qwen2 model with experts") : "qwen2";
  if (d.qk_norm) {
    if (d.attn_qkv_bias) refuse("q/k norms together with q/k/v biases");
    if (d.moe.n_shared_experts > 0) refuse("q/k norms together with shared experts");
    return d.is_moe() ? "qwen3moe" : "qwen3";
  }
  if (d.moe.n_shared_experts > 0) {
    if (d.attn_qkv_bias) refuse("shared experts together with q/k/v biases");
    return "bailingmoe";
  }
  return "llama";  // dense, or Mixtral-style experts without shared ones
}

std::unique_ptr<TensorSource> convert_hf_folder(const std::string& folder) { return std::make_unique<HfSource>(folder); }

}  // namespace vkmind
