// GGUF -> ModelDesc. Hyper-parameters come from the <arch>.* keys; what
// llama.cpp encodes only by the presence of tensors (q/k norm, biases, shared
// experts, a separate output matrix) is read from the tensor list.
#include <cstring>

#include "model/gguf.h"
#include "model/model_loaders.h"

namespace vkmind {

namespace {

class Keys {
 public:
  Keys(const gguf::File& f, std::string arch) : f_(f), arch_(std::move(arch)) {}
  std::string key(const char* k) const { return arch_ + "." + k; }
  std::optional<int64_t> opt_int(const char* k) const { return f_.get_int(key(k)); }
  uint32_t count(const char* k, std::optional<int64_t> dflt = std::nullopt) const {
    auto v = opt_int(k);
    if (!v && !dflt) throw FormatError(f_.path(), "missing key '" + key(k) + "'");
    const int64_t x = v ? *v : *dflt;
    if (x <= 0 || x > (int64_t{1} << 31)) {
      throw FormatError(f_.path(), "key '" + key(k) + "' must be a positive integer, found " + std::to_string(x));
    }
    return static_cast<uint32_t>(x);
  }
  double number(const char* k, double dflt) const { return f_.get_float(key(k)).value_or(dflt); }

 private:
  const gguf::File& f_;
  std::string arch_;
};

std::optional<int32_t> token_id(const gguf::File& f, const std::string& key) {
  auto v = f.get_int(key);
  if (!v) return std::nullopt;
  if (*v < 0 || *v > INT32_MAX) throw FormatError(f.path(), "key '" + key + "' is not a token id");
  return static_cast<int32_t>(*v);
}

const char* const kExpertKinds[] = {"ffn_gate", "ffn_up", "ffn_down"};

}  // namespace

void ModelBuilder::load_gguf(Model& m, const std::string& path) {
  m.gguf_ = gguf::File::open(path);
  const gguf::File& f = *m.gguf_;
  ModelDesc& d = m.desc_;
  d.format = "gguf";

  const auto arch = f.get_string("general.architecture");
  if (!arch) throw FormatError(path, "missing key 'general.architecture'");
  d.architecture = *arch;
  if (d.architecture != "llama" && d.architecture != "qwen2" && d.architecture != "qwen3" &&
      d.architecture != "qwen3moe" && d.architecture != "bailingmoe" && d.architecture != "minimind") {
    throw FormatError(path, "architecture '" + d.architecture +
                                "' is not supported (llama, qwen2, qwen3, qwen3moe, bailingmoe, minimind)");
  }

  // Stored tensors keep their GGUF names: those are the canonical names.
  for (const auto& t : f.tensors()) {
    add_stored(m, ModelTensor{t.name, t.dims, t.type, f.tensor_data(t)}, path, t.name);
  }

  const Keys k(f, d.architecture);
  d.n_layers = k.count("block_count");
  d.hidden = k.count("embedding_length");
  d.n_heads = k.count("attention.head_count");
  d.n_kv_heads = k.count("attention.head_count_kv", d.n_heads);
  d.head_dim = k.count("attention.key_length", d.hidden / d.n_heads);
  if (d.n_heads % d.n_kv_heads != 0) {
    throw FormatError(path, "key '" + k.key("attention.head_count_kv") + "' must divide the head count");
  }
  d.norm_eps = k.number("attention.layer_norm_rms_epsilon", 1e-5);
  d.context_length = k.count("context_length", 2048);
  d.rope.theta = k.number("rope.freq_base", 10000.0);
  d.rope.n_dims = k.count("rope.dimension_count", d.head_dim);
  // llama.cpp's converter permutes llama (and bailingmoe) q/k rows to adjacent pairs.
  d.rope.pairing = d.architecture == "llama" || d.architecture == "bailingmoe" ? RopePairing::GPTJ : RopePairing::NeoX;
  if (const auto st = f.get_string(k.key("rope.scaling.type")); st && *st != "none") {
    d.rope.factor = k.number("rope.scaling.factor", 1.0);
    if (*st == "linear") {
      d.rope.scaling = RopeScalingType::Linear;
    } else if (*st == "yarn") {
      d.rope.scaling = RopeScalingType::YaRN;
      d.rope.original_context = k.count("rope.scaling.original_context_length", d.context_length);
      d.rope.beta_fast = k.number("rope.scaling.yarn_beta_fast", 32.0);
      d.rope.beta_slow = k.number("rope.scaling.yarn_beta_slow", 1.0);
      d.rope.attention_factor = k.number("rope.scaling.attn_factor", 1.0);
    } else {
      throw FormatError(path, "key '" + k.key("rope.scaling.type") + "' is '" + *st + "', which vkmind does not support yet");
    }
  }

  d.qk_norm = has(m, "blk.0.attn_q_norm.weight");
  d.attn_qkv_bias = has(m, "blk.0.attn_q.bias");
  d.tied_embeddings = !has(m, "output.weight");
  if (const auto* e = find(m, "token_embd.weight"); e && e->dims.size() >= 2) {
    d.vocab = static_cast<uint32_t>(std::min<uint64_t>(e->dims[1], UINT32_MAX));
  } else {
    d.vocab = static_cast<uint32_t>(f.get_string_array("tokenizer.ggml.tokens").size());
  }

  d.moe.n_experts = static_cast<uint32_t>(k.opt_int("expert_count").value_or(0));
  if (d.is_moe()) {
    d.moe.top_k = k.count("expert_used_count");
    if (d.moe.top_k > d.moe.n_experts) throw FormatError(path, "key '" + k.key("expert_used_count") + "' exceeds the expert count");
    const auto* g = find(m, "blk.0.ffn_gate_exps.weight");
    d.moe.expert_ffn = k.count("expert_feed_forward_length", g && g->dims.size() >= 2 ? std::optional<int64_t>(g->dims[1]) : std::nullopt);
    const auto* sg = find(m, "blk.0.ffn_gate_shexp.weight");
    const auto shared = k.opt_int("expert_shared_count");
    if (shared && (*shared < 0 || *shared > 64)) {
      throw FormatError(path, "key '" + k.key("expert_shared_count") + "' must be between 0 and 64");
    }
    if (shared && *shared > 0 && !sg) throw FormatError(path, "missing tensor blk.0.ffn_gate_shexp.weight");
    // S shared experts are stored side by side in one ffn_*_shexp tensor (as
    // llama.cpp reads them): their sum is that one FFN, S times as wide.
    d.moe.n_shared_experts = (shared ? *shared > 0 : sg != nullptr) ? 1 : 0;
    if (d.moe.n_shared_experts > 0) {
      d.moe.shared_expert_ffn = k.count("expert_shared_feed_forward_length",
                                        sg && sg->dims.size() >= 2 ? std::optional<int64_t>(sg->dims[1]) : std::nullopt);
    }
    const bool norm_default = d.architecture == "qwen3moe" || d.architecture == "minimind";
    d.moe.norm_topk_prob = f.get_bool(k.key("expert_weights_norm")).value_or(norm_default);
    d.ffn_hidden = 0;
  } else {
    d.ffn_hidden = k.count("feed_forward_length");
  }

  d.bos_id = token_id(f, "tokenizer.ggml.bos_token_id");
  d.eos_id = token_id(f, "tokenizer.ggml.eos_token_id");
  d.pad_id = token_id(f, "tokenizer.ggml.padding_token_id");
  d.chat_template = f.get_string("tokenizer.chat_template").value_or("");

  // Per-expert views into the stacked tensors (experts are the slowest
  // dimension, so each expert is a contiguous slice), and ".0" aliases for
  // the single shared expert, so the runtime sees one naming scheme.
  if (d.is_moe()) {
    if (d.moe.n_experts > 4096) throw FormatError(path, "implausible expert count " + std::to_string(d.moe.n_experts));
    for (uint32_t l = 0; l < d.n_layers; ++l) {
      for (const char* kind : kExpertKinds) {
        const std::string stacked = "blk." + std::to_string(l) + "." + kind + "_exps.weight";
        const ModelTensor* s = find(m, stacked);
        if (!s) throw FormatError(path, "missing tensor " + stacked);
        if (s->dims.size() != 3 || s->dims[2] != d.moe.n_experts) {
          throw FormatError(path, "tensor " + stacked + " has shape " + format_dims(s->dims) + ", expected 3 dimensions with " +
                                      std::to_string(d.moe.n_experts) + " experts last");
        }
        const size_t slice = s->data.size() / d.moe.n_experts;
        for (uint32_t e = 0; e < d.moe.n_experts; ++e) {
          ModelTensor v{"blk." + std::to_string(l) + "." + kind + "." + std::to_string(e) + ".weight",
                        {s->dims[0], s->dims[1]}, s->type, s->data.subspan(e * slice, slice)};
          add_view(m, std::move(v), path, stacked);
        }
        const std::string shexp = "blk." + std::to_string(l) + "." + kind + "_shexp.weight";
        if (const ModelTensor* sh = find(m, shexp); sh && d.moe.n_shared_experts == 1) {
          ModelTensor v = *sh;
          v.name = "blk." + std::to_string(l) + "." + kind + "_shexp.0.weight";
          add_view(m, std::move(v), path, shexp);
        }
      }
    }
  }
}

}  // namespace vkmind
