// config.json fields and their defaults follow each family's transformers
// config class. MiniMind has two generations under one model_type: MiniMind2
// (n_routed_experts / n_shared_experts, 8/3 FFN rule, no q/k norm) and
// minimind-3 (num_experts / moe_intermediate_size, pi FFN rule, q/k norm);
// a saved config carries every attribute of its class, so the MiniMind2-only
// keys tell them apart.
#include "model/hf_config.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <numbers>
#include <optional>

#include <nlohmann/json.hpp>

namespace vkmind {

namespace {

using nlohmann::json;

class Fields {
 public:
  Fields(const json& j, std::string path, std::string prefix = "")
      : j_(j), path_(std::move(path)), prefix_(std::move(prefix)) {}

  bool has(const char* key) const { return j_.contains(key) && !j_[key].is_null(); }

  [[noreturn]] void fail(const char* key, const std::string& what) const {
    throw FormatError(path_, "key '" + prefix_ + key + "' " + what);
  }

  std::optional<int64_t> opt_int(const char* key) const {
    if (!has(key)) return std::nullopt;
    const json& v = j_[key];
    if (!v.is_number_integer()) fail(key, "must be an integer, found " + std::string(v.type_name()));
    return v.get<int64_t>();
  }
  // A positive count that fits 32 bits (layer counts, head counts, sizes).
  uint32_t count(const char* key, std::optional<int64_t> dflt = std::nullopt) const {
    auto v = opt_int(key);
    if (!v && !dflt) fail(key, "is missing");
    const int64_t x = v ? *v : *dflt;
    if (x <= 0 || x > (int64_t{1} << 31)) fail(key, "must be a positive integer, found " + std::to_string(x));
    return static_cast<uint32_t>(x);
  }
  double number(const char* key, double dflt) const {
    if (!has(key)) return dflt;
    const json& v = j_[key];
    if (!v.is_number()) fail(key, "must be a number, found " + std::string(v.type_name()));
    return v.get<double>();
  }
  bool boolean(const char* key, bool dflt) const {
    if (!has(key)) return dflt;
    const json& v = j_[key];
    if (!v.is_boolean()) fail(key, "must be true or false, found " + std::string(v.type_name()));
    return v.get<bool>();
  }
  std::optional<std::string> string(const char* key) const {
    if (!has(key)) return std::nullopt;
    const json& v = j_[key];
    if (!v.is_string()) fail(key, "must be a string, found " + std::string(v.type_name()));
    return v.get<std::string>();
  }
  // Token ids: an integer, or a list whose first entry is used (eos lists).
  std::optional<int32_t> token_id(const char* key, std::optional<int32_t> dflt) const {
    if (!has(key)) return dflt;
    json v = j_[key];
    if (v.is_array()) {
      if (v.empty()) return dflt;
      v = v[0];
    }
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > INT32_MAX) {
      fail(key, "must be a token id");
    }
    return static_cast<int32_t>(v.get<int64_t>());
  }
  const json& raw(const char* key) const { return j_[key]; }
  const std::string& path() const { return path_; }

 private:
  const json& j_;
  std::string path_;
  std::string prefix_;
};

json read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FormatError(path, "cannot open");
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw FormatError(path, std::string("not valid JSON: ") + e.what());
  }
}

void read_rope_scaling(const Fields& f, ModelDesc& d, bool minimind) {
  if (!f.has("rope_scaling")) {
    // minimind-3 stores only the switch when it was saved without the dict.
    if (minimind && f.boolean("inference_rope_scaling", false)) {
      d.rope.scaling = RopeScalingType::YaRN;
      d.rope.factor = 16;
      d.rope.original_context = 2048;
    }
    return;
  }
  const json& rs = f.raw("rope_scaling");
  if (!rs.is_object()) f.fail("rope_scaling", "must be an object or null");
  Fields s(rs, f.path(), "rope_scaling.");
  std::string type = s.string("type").value_or(s.string("rope_type").value_or(""));
  if (type == "default" || type.empty()) return;
  if (type == "linear") {
    d.rope.scaling = RopeScalingType::Linear;
    d.rope.factor = s.number("factor", 1.0);
  } else if (type == "yarn") {
    d.rope.scaling = RopeScalingType::YaRN;
    d.rope.factor = s.number("factor", minimind ? 16 : 1);
    d.rope.original_context =
        s.count("original_max_position_embeddings", minimind ? std::optional<int64_t>(2048) : std::nullopt);
    d.rope.beta_fast = s.number("beta_fast", 32);
    d.rope.beta_slow = s.number("beta_slow", 1);
    // transformers' default for YaRN is 0.1*ln(factor)+1; MiniMind's is 1.
    const double dflt = minimind || d.rope.factor <= 1 ? 1.0 : 0.1 * std::log(d.rope.factor) + 1.0;
    d.rope.attention_factor = s.number("attention_factor", dflt);
  } else {
    f.fail("rope_scaling", "has type '" + type + "', which vkmind does not support yet (linear, yarn)");
  }
  if (d.rope.factor <= 0) f.fail("rope_scaling", "factor must be positive");
}

}  // namespace

ModelDesc read_hf_config(const std::string& folder) {
  namespace fs = std::filesystem;
  const std::string path = (fs::path(folder) / "config.json").string();
  if (!fs::exists(path)) throw FormatError(path, "missing: a Hugging Face model folder needs config.json");
  const json j = read_json(path);
  if (!j.is_object()) throw FormatError(path, "not a JSON object");
  Fields f(j, path);

  // The architecture: architectures[0], else model_type.
  std::string arch_class;
  if (f.has("architectures")) {
    const json& a = f.raw("architectures");
    if (!a.is_array() || a.empty() || !a[0].is_string()) f.fail("architectures", "must be a list of strings");
    arch_class = a[0].get<std::string>();
  } else {
    const auto mt = f.string("model_type");
    if (!mt) f.fail("architectures", "is missing (and so is model_type)");
    const std::map<std::string, std::string> by_type = {
        {"minimind", "MiniMindForCausalLM"}, {"qwen3", "Qwen3ForCausalLM"}, {"qwen3_moe", "Qwen3MoeForCausalLM"},
        {"qwen2", "Qwen2ForCausalLM"},       {"llama", "LlamaForCausalLM"}};
    auto it = by_type.find(*mt);
    if (it == by_type.end()) f.fail("model_type", "is '" + *mt + "', which vkmind does not support");
    arch_class = it->second;
  }

  ModelDesc d;
  d.format = "safetensors";
  const bool minimind = arch_class == "MiniMindForCausalLM";
  const bool minimind2 = minimind && (j.contains("n_routed_experts") || j.contains("n_shared_experts") ||
                                      j.contains("scoring_func") || j.contains("aux_loss_alpha"));
  if (minimind) d.architecture = "minimind";
  else if (arch_class == "Qwen3ForCausalLM") d.architecture = "qwen3";
  else if (arch_class == "Qwen3MoeForCausalLM") d.architecture = "qwen3moe";
  else if (arch_class == "Qwen2ForCausalLM") d.architecture = "qwen2";
  else if (arch_class == "LlamaForCausalLM") d.architecture = "llama";
  else f.fail("architectures", "names " + arch_class + ", which vkmind does not support");

  if (auto act = f.string("hidden_act"); act && *act != "silu") {
    f.fail("hidden_act", "is '" + *act + "'; vkmind implements SwiGLU (silu) only");
  }

  using O = std::optional<int64_t>;
  d.hidden = f.count("hidden_size", minimind ? O(minimind2 ? 512 : 768) : std::nullopt);
  d.n_layers = f.count("num_hidden_layers", minimind ? O(8) : std::nullopt);
  d.n_heads = f.count("num_attention_heads", minimind ? O(8) : std::nullopt);
  d.n_kv_heads = f.count("num_key_value_heads", minimind ? O(minimind2 ? 2 : 4) : O(d.n_heads));
  d.vocab = f.count("vocab_size", minimind ? O(6400) : std::nullopt);
  if (d.hidden % d.n_heads != 0 && !f.has("head_dim")) f.fail("head_dim", "is missing and hidden_size is not a multiple of num_attention_heads");
  d.head_dim = f.count("head_dim", O(d.hidden / d.n_heads));
  if (d.n_heads % d.n_kv_heads != 0) f.fail("num_key_value_heads", "must divide num_attention_heads");

  if (minimind) {
    // MiniMind2: int(h*8/3) rounded up to 64; minimind-3: ceil(h*pi/64)*64.
    const int64_t dflt = minimind2 ? (static_cast<int64_t>(d.hidden) * 8 / 3 + 63) / 64 * 64
                                   : static_cast<int64_t>(std::ceil(d.hidden * std::numbers::pi / 64.0)) * 64;
    d.ffn_hidden = f.count("intermediate_size", dflt);
    d.norm_eps = f.number("rms_norm_eps", minimind2 ? 1e-5 : 1e-6);
    d.rope.theta = f.number("rope_theta", 1e6);
    d.context_length = f.count("max_position_embeddings", 32768);
    d.qk_norm = !minimind2;
    d.tied_embeddings = minimind2 || f.boolean("tie_word_embeddings", true);
  } else {
    d.ffn_hidden = f.count("intermediate_size");
    d.norm_eps = f.number("rms_norm_eps", 1e-6);
    d.rope.theta = f.number("rope_theta", 10000.0);
    d.context_length = f.count("max_position_embeddings", d.architecture == "llama" ? 2048 : 32768);
    d.qk_norm = d.architecture == "qwen3" || d.architecture == "qwen3moe";
    d.tied_embeddings = f.boolean("tie_word_embeddings", false);
  }
  d.attn_qkv_bias = d.architecture == "qwen2" || f.boolean("attention_bias", false);
  if (d.norm_eps <= 0) f.fail("rms_norm_eps", "must be positive");
  if (d.rope.theta <= 0) f.fail("rope_theta", "must be positive");
  d.rope.pairing = RopePairing::NeoX;  // every HF family here uses rotate_half
  d.rope.n_dims = d.head_dim;
  read_rope_scaling(f, d, minimind);

  // MoE.
  if (minimind && f.boolean("use_moe", false)) {
    if (minimind2) {
      if (auto sf = f.string("scoring_func"); sf && *sf != "softmax") {
        f.fail("scoring_func", "is '" + *sf + "'; only softmax routing is supported");
      }
      d.moe.n_experts = f.count("n_routed_experts", 4);
      d.moe.top_k = f.count("num_experts_per_tok", 2);
      const auto shared = f.opt_int("n_shared_experts").value_or(1);
      if (shared < 0 || shared > 64) f.fail("n_shared_experts", "must be between 0 and 64");
      d.moe.n_shared_experts = static_cast<uint32_t>(shared);
      d.moe.expert_ffn = d.ffn_hidden;
      d.moe.shared_expert_ffn = d.ffn_hidden;
    } else {
      d.moe.n_experts = f.count("num_experts", 4);
      d.moe.top_k = f.count("num_experts_per_tok", 1);
      d.moe.expert_ffn = f.count("moe_intermediate_size", static_cast<int64_t>(d.ffn_hidden));
    }
    d.moe.norm_topk_prob = f.boolean("norm_topk_prob", true);
  } else if (d.architecture == "qwen3moe") {
    d.moe.n_experts = f.count("num_experts");
    d.moe.top_k = f.count("num_experts_per_tok");
    d.moe.expert_ffn = f.count("moe_intermediate_size");
    d.moe.norm_topk_prob = f.boolean("norm_topk_prob", false);
    if (f.opt_int("decoder_sparse_step").value_or(1) != 1) {
      f.fail("decoder_sparse_step", "other than 1 (dense layers between MoE layers) is not supported yet");
    }
    if (f.has("mlp_only_layers") && !(f.raw("mlp_only_layers").is_array() && f.raw("mlp_only_layers").empty())) {
      f.fail("mlp_only_layers", "is not supported yet (every layer must be MoE)");
    }
  }
  if (d.is_moe()) {
    if (d.moe.top_k > d.moe.n_experts) f.fail("num_experts_per_tok", "exceeds the number of experts");
    d.ffn_hidden = 0;  // no dense FFN in an all-MoE model
  }

  d.bos_id = f.token_id("bos_token_id", minimind ? std::optional<int32_t>(1) : std::nullopt);
  d.eos_id = f.token_id("eos_token_id", minimind ? std::optional<int32_t>(2) : std::nullopt);
  d.pad_id = f.token_id("pad_token_id", std::nullopt);

  // The chat template ships in tokenizer_config.json (a string; a list of
  // named templates is reduced to the "default" one).
  const fs::path tc = fs::path(folder) / "tokenizer_config.json";
  if (fs::exists(tc)) {
    const json t = read_json(tc.string());
    if (t.is_object() && t.contains("chat_template")) {
      const json& ct = t["chat_template"];
      if (ct.is_string()) {
        d.chat_template = ct.get<std::string>();
      } else if (ct.is_array()) {
        for (const auto& e : ct) {
          if (e.is_object() && e.value("name", "") == "default" && e.contains("template") && e["template"].is_string()) {
            d.chat_template = e["template"].get<std::string>();
          }
        }
      }
    }
  }
  return d;
}

}  // namespace vkmind
