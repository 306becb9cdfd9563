#include "model/quant_recipe.h"

#include <algorithm>

namespace vkmind::quant {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

// The N of "blk.N.", or nullopt.
std::optional<uint32_t> layer_of(const std::string& name) {
  if (name.rfind("blk.", 0) != 0) return std::nullopt;
  uint32_t n = 0;
  size_t i = 4;
  for (; i < name.size() && name[i] >= '0' && name[i] <= '9'; ++i) n = n * 10 + uint32_t(name[i] - '0');
  if (i == 4 || i >= name.size() || name[i] != '.') return std::nullopt;
  return n;
}

// llama.cpp's "use more bits" layers: the first and last eighth, and every third one between.
bool more_bits(uint32_t layer, uint32_t n_layers) {
  return layer < n_layers / 8 || layer >= 7 * n_layers / 8 || (layer >= n_layers / 8 && (layer - n_layers / 8) % 3 == 2);
}

// A 256-element type for rows that are not whole super-blocks: llama.cpp's substitutes.
TensorType fallback(TensorType t) {
  switch (t) {
    case TensorType::Q4_K: return TensorType::Q5_0;
    case TensorType::Q5_K: return TensorType::Q5_1;
    case TensorType::Q6_K: return TensorType::Q8_0;
    case TensorType::Q2_K:
    case TensorType::Q3_K:
    case TensorType::IQ4_XS: return TensorType::IQ4_NL;
    default: return t;
  }
}

bool is_k_recipe(const Recipe& r) { return tensor_type_traits(r.base).block_elements == 256 || r.base == TensorType::IQ4_NL; }

// The recipe's choice before checking that the rows fit it.
TensorType preferred(const Recipe& r, const ModelShape& m, const std::string& name) {
  if (!is_k_recipe(r)) return r.base;
  const bool head = name == "output.weight" || (!m.has_output && name == "token_embd.weight");
  if (head) return TensorType::Q6_K;
  const std::optional<uint32_t> layer = layer_of(name);
  const bool more = layer && more_bits(*layer, m.n_layers);
  const bool attn_v = contains(name, ".attn_v."), ffn_down = contains(name, ".ffn_down");
  const bool attn_output = contains(name, ".attn_output.");
  if (r.name == "q4_k_m" || r.name == "q5_k_m") {
    if ((attn_v || ffn_down) && more) return TensorType::Q6_K;
  } else if (r.name == "q3_k_m") {
    if (attn_v) return layer && *layer < 2 ? TensorType::Q5_K : TensorType::Q4_K;
    if (ffn_down) return layer && *layer < m.n_layers / 16 ? TensorType::Q5_K : TensorType::Q4_K;
    if (attn_output) return TensorType::Q4_K;
  } else if (r.name == "q2_k") {
    if (attn_v || ffn_down || attn_output) return TensorType::Q3_K;
  } else if (r.name == "iq4_xs" || r.name == "iq4_nl") {
    if (ffn_down && layer && *layer < m.n_layers / 8) return TensorType::Q5_K;
  }
  return r.base;
}

}  // namespace

const std::vector<Recipe>& recipes() {
  static const std::vector<Recipe> all = {
      {"f32", 0, TensorType::F32, "32-bit floats"},
      {"f16", 1, TensorType::F16, "16-bit floats"},
      {"bf16", 32, TensorType::BF16, "bfloat16"},
      {"q8_0", 7, TensorType::Q8_0, "8.5 bits per weight"},
      {"q4_0", 2, TensorType::Q4_0, "4.5 bpw, symmetric"},
      {"q4_1", 3, TensorType::Q4_1, "5.0 bpw, with a min"},
      {"q5_0", 8, TensorType::Q5_0, "5.5 bpw, symmetric"},
      {"q5_1", 9, TensorType::Q5_1, "6.0 bpw, with a min"},
      {"q2_k", 10, TensorType::Q2_K, "Q2_K, Q3_K for attn_v/attn_output/ffn_down, Q6_K head"},
      {"q3_k_m", 12, TensorType::Q3_K, "Q3_K, Q4_K/Q5_K for attn_v/attn_output/ffn_down, Q6_K head"},
      {"q4_k_m", 15, TensorType::Q4_K, "Q4_K; Q6_K for the head and attn_v/ffn_down in the first and last eighth and every third layer"},
      {"q5_k_m", 17, TensorType::Q5_K, "Q5_K; Q6_K for the head and attn_v/ffn_down in the first and last eighth and every third layer"},
      {"q6_k", 18, TensorType::Q6_K, "Q6_K throughout (6.56 bpw)"},
      {"iq4_nl", 25, TensorType::IQ4_NL, "4.5 bpw non-linear levels; Q6_K head, Q5_K early ffn_down"},
      {"iq4_xs", 30, TensorType::IQ4_XS, "4.25 bpw non-linear levels; Q6_K head, Q5_K early ffn_down"},
  };
  return all;
}

const Recipe* find_recipe(const std::string& name) {
  for (const Recipe& r : recipes()) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

ModelShape model_shape(const std::vector<std::string>& tensor_names) {
  ModelShape m;
  for (const std::string& name : tensor_names) {
    if (const auto layer = layer_of(name)) m.n_layers = std::max(m.n_layers, *layer + 1);
    m.has_output = m.has_output || name == "output.weight";
  }
  return m;
}

std::optional<TensorType> recipe_type(const Recipe& recipe, const ModelShape& model, const std::string& name,
                                      const std::vector<uint64_t>& dims) {
  // Vectors keep their type, and so does the router: few weights, and every
  // token's choice of experts depends on them (llama.cpp keeps it too).
  if (dims.size() < 2 || ends_with(name, "ffn_gate_inp.weight")) return std::nullopt;
  TensorType type = preferred(recipe, model, name);
  if (dims[0] % tensor_type_traits(type).block_elements != 0) type = fallback(type);
  if (dims[0] % tensor_type_traits(type).block_elements != 0) return std::nullopt;
  return type;
}

}  // namespace vkmind::quant
