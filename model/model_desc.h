// One description of a model, whatever file format it came from, and the
// Model class that opens a .gguf file or a Hugging Face folder (config.json +
// safetensors) and exposes its tensors under canonical names.
//
// Canonical tensor names are GGUF's (dims[0] is the fastest-varying, i.e. the
// `in` dimension of a Linear; a PyTorch [out, in] weight has dims {in, out}):
//   token_embd.weight                         {hidden, vocab}
//   output_norm.weight                        {hidden}
//   output.weight                             {hidden, vocab}   (tied: see below)
//   blk.N.attn_norm.weight                    {hidden}
//   blk.N.attn_q.weight / .bias               {hidden, n_heads*head_dim} / {n_heads*head_dim}
//   blk.N.attn_k.weight, attn_v.weight / .bias {hidden, n_kv_heads*head_dim}
//   blk.N.attn_output.weight                  {n_heads*head_dim, hidden}
//   blk.N.attn_q_norm.weight, attn_k_norm     {head_dim}          (qk_norm)
//   blk.N.ffn_norm.weight                     {hidden}
//   dense:  blk.N.ffn_gate.weight, ffn_up     {hidden, ffn_hidden}; ffn_down {ffn_hidden, hidden}
//   MoE:    blk.N.ffn_gate_inp.weight         {hidden, n_experts}   (router)
//           blk.N.ffn_gate.E.weight, ffn_up.E {hidden, expert_ffn}; ffn_down.E {expert_ffn, hidden}
//           blk.N.ffn_gate_shexp.S.weight ... shared expert S, sizes with shared_expert_ffn
// Experts are exposed one by one (ffn_gate.E) for both formats, because HF
// stores them separately and stacking them would need a copy. A GGUF file's
// stacked blk.N.ffn_gate_exps.weight {hidden, expert_ffn, n_experts} (and its
// un-numbered ffn_gate_shexp.weight) stay available too, under those names,
// and the per-expert names are views into them (no copy).
//
// Tied embeddings: when the file has no output.weight, desc.tied_embeddings
// is true and tensor("output.weight") returns the token embedding.
//
// Tokenizer data (for model/tokenizer): a GGUF model keeps its gguf::File
// open, so tokenizer.ggml.* are reachable through Model::gguf(); a Hugging
// Face model exposes its folder through Model::hf_folder() for
// tokenizer.json / tokenizer_config.json. desc.chat_template and the special
// token ids below are read from the same places, for callers that need no
// tokenizer.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/errors.h"
#include "model/tensor_types.h"

namespace vkmind {

namespace gguf {
class File;
}
namespace safetensors {
class Collection;
}

// Which elements RoPE rotates together.
enum class RopePairing {
  NeoX,  // i with i + d/2 (rotate_half): HF files of every family, GGUF qwen2/qwen3
  GPTJ,  // 2i with 2i+1: GGUF arch llama (its converter permuted the q/k rows)
};

enum class RopeScalingType { None, Linear, YaRN };

struct RopeDesc {
  RopePairing pairing = RopePairing::NeoX;
  double theta = 10000.0;
  uint32_t n_dims = 0;  // rotated dimensions per head (= head_dim unless partial)
  RopeScalingType scaling = RopeScalingType::None;
  double factor = 1.0;  // Linear and YaRN
  // YaRN, as MiniMind computes it (design.md). The runtime applies it only
  // when the context it serves exceeds original_context.
  uint32_t original_context = 0;
  double beta_fast = 32.0;
  double beta_slow = 1.0;
  double attention_factor = 1.0;  // multiplies cos and sin
};

struct MoeDesc {
  uint32_t n_experts = 0;  // 0: dense model
  uint32_t top_k = 0;
  bool norm_topk_prob = false;  // renormalise the top-k softmax weights
  uint32_t n_shared_experts = 0;
  uint64_t expert_ffn = 0;         // intermediate size of one routed expert
  uint64_t shared_expert_ffn = 0;  // intermediate size of one shared expert
};

struct ModelDesc {
  std::string architecture;  // "llama", "qwen2", "qwen3", "qwen3moe", "minimind"
  std::string format;        // "gguf" or "safetensors"
  uint32_t n_layers = 0;
  uint32_t hidden = 0;
  uint32_t n_heads = 0;
  uint32_t n_kv_heads = 0;
  uint32_t head_dim = 0;  // not always hidden / n_heads
  uint64_t ffn_hidden = 0;  // dense FFN intermediate size (0 for all-MoE models)
  uint32_t vocab = 0;       // rows of token_embd
  double norm_eps = 1e-5;
  RopeDesc rope;
  bool qk_norm = false;       // per-head RMSNorm of q and k before RoPE
  bool attn_qkv_bias = false;  // q/k/v projections have biases (Qwen2)
  bool tied_embeddings = false;  // no output.weight: the head reuses token_embd
  bool output_duplicates_embedding = false;  // output.weight is a byte copy of token_embd
  MoeDesc moe;
  uint32_t context_length = 0;
  std::optional<int32_t> bos_id, eos_id, pad_id;
  std::string chat_template;  // Jinja text as shipped ("" when none)

  bool is_moe() const { return moe.n_experts > 0; }
};

// A tensor as the runtime sees it. `data` points into the memory-mapped file.
struct ModelTensor {
  std::string name;            // canonical
  std::vector<uint64_t> dims;  // dims[0] fastest
  TensorType type;             // may hold an unsupported ggml code; see Model::tensor
  std::span<const uint8_t> data;
  uint64_t n_elements() const;
};

class Model {
 public:
  // `path`: a .gguf file, or a folder holding config.json and safetensors.
  // Throws FormatError naming the file and the key or tensor at fault: bad
  // config, missing/duplicate tensors, a shape that disagrees with the config
  // ("tensor blk.0.attn_q.weight has shape [64, 32], expected [64, 64]").
  static std::unique_ptr<Model> open(const std::string& path);
  ~Model();

  const ModelDesc& desc() const { return desc_; }
  const std::string& path() const { return path_; }

  // nullptr when the model has no such tensor. Throws FormatError "tensor X
  // has type IQ2_XXS, which vkmind does not support yet" for a tensor whose type
  // vkmind cannot compute with (the model still opens, so it can be listed).
  const ModelTensor* tensor(std::string_view canonical_name) const;
  // As tensor(), but a missing tensor is a FormatError too.
  const ModelTensor& require(std::string_view canonical_name) const;
  // Every tensor as stored, canonical names, sorted by name, types unchecked.
  // Per-expert views of stacked GGUF tensors are not repeated here.
  const std::vector<ModelTensor>& stored_tensors() const { return stored_; }
  // Fails on the first tensor of a type vkmind does not support.
  void check_supported() const;
  uint64_t parameter_count() const;

  const gguf::File* gguf() const { return gguf_.get(); }  // nullptr for HF folders
  // The memory-mapped files that every tensor's data lies in.
  std::vector<std::span<const uint8_t>> mapped_files() const;
  // Their paths, in the same order.
  std::vector<std::string> file_paths() const;
  const std::string& hf_folder() const { return hf_folder_; }  // "" for GGUF
  // Things the loader ignored (unknown tensors), for the CLI to print.
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  Model() = default;
  friend struct ModelBuilder;

  std::string path_;
  ModelDesc desc_;
  std::vector<ModelTensor> stored_;
  std::map<std::string, ModelTensor, std::less<>> views_;  // every name tensor() answers
  std::unique_ptr<gguf::File> gguf_;
  std::unique_ptr<safetensors::Collection> st_;
  std::string hf_folder_;
  std::vector<std::string> warnings_;
  // Where each canonical tensor came from, for error messages.
  struct Origin {
    std::string file;
    std::string name;  // as stored (HF name)
  };
  std::map<std::string, Origin, std::less<>> origins_;
};

// The tensors a description calls for, with their expected dims, in the
// canonical scheme above (per-expert names for MoE). Exposed for tests and
// for writers of test checkpoints.
struct ExpectedTensor {
  std::string name;
  std::vector<uint64_t> dims;
};
std::vector<ExpectedTensor> expected_tensors(const ModelDesc& d);

std::string_view rope_pairing_name(RopePairing p);
std::string_view rope_scaling_name(RopeScalingType t);

}  // namespace vkmind
