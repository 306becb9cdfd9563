// Hugging Face folder -> canonical tensors. The one name map for HF files is
// canonical_name() below; every family here shares the Llama layout.
#include <string_view>
#include <utility>

#include "model/hf_config.h"
#include "model/model_loaders.h"
#include "model/safetensors.h"

namespace vkmind {

namespace {

// s = prefix + digits + "." + rest: the number (at most 6 digits) and rest.
bool take_prefix_index(std::string_view s, std::string_view prefix, uint32_t& index, std::string_view& rest) {
  if (!s.starts_with(prefix)) return false;
  s.remove_prefix(prefix.size());
  size_t n = 0;
  index = 0;
  while (n < s.size() && n < 7 && s[n] >= '0' && s[n] <= '9') index = index * 10 + static_cast<uint32_t>(s[n++] - '0');
  if (n == 0 || n > 6 || n >= s.size() || s[n] != '.') return false;
  rest = s.substr(n + 1);
  return true;
}

// HF name -> canonical name; "" for names outside the scheme.
std::string canonical_name(const std::string& hf) {
  static const std::map<std::string, std::string> global = {
      {"model.embed_tokens.weight", "token_embd.weight"},
      {"model.norm.weight", "output_norm.weight"},
      {"lm_head.weight", "output.weight"},
  };
  if (auto it = global.find(hf); it != global.end()) return it->second;

  static const std::map<std::string, std::string> layer = {
      {"input_layernorm.weight", "attn_norm.weight"},
      {"self_attn.q_proj.weight", "attn_q.weight"},
      {"self_attn.k_proj.weight", "attn_k.weight"},
      {"self_attn.v_proj.weight", "attn_v.weight"},
      {"self_attn.q_proj.bias", "attn_q.bias"},
      {"self_attn.k_proj.bias", "attn_k.bias"},
      {"self_attn.v_proj.bias", "attn_v.bias"},
      {"self_attn.o_proj.weight", "attn_output.weight"},
      {"self_attn.q_norm.weight", "attn_q_norm.weight"},
      {"self_attn.k_norm.weight", "attn_k_norm.weight"},
      {"post_attention_layernorm.weight", "ffn_norm.weight"},
      {"mlp.gate_proj.weight", "ffn_gate.weight"},
      {"mlp.up_proj.weight", "ffn_up.weight"},
      {"mlp.down_proj.weight", "ffn_down.weight"},
      {"mlp.gate.weight", "ffn_gate_inp.weight"},
  };
  static const std::map<std::string, std::string> proj = {
      {"gate_proj", "ffn_gate"}, {"up_proj", "ffn_up"}, {"down_proj", "ffn_down"}};
  // model.layers.N.<rest>; experts: mlp.experts.E.<proj>.weight,
  // mlp.shared_experts.S.<proj>.weight. Parsed by hand: std::regex recurses
  // per character and a hostile megabyte-long name would exhaust the stack.
  std::string_view rest;
  uint32_t n_layer = 0;
  if (!take_prefix_index(hf, "model.layers.", n_layer, rest)) return "";
  const std::string blk = "blk." + std::to_string(n_layer) + ".";
  if (auto it = layer.find(std::string(rest)); it != layer.end()) return blk + it->second;
  for (const auto& [group, suffix] : {std::pair<const char*, const char*>{"mlp.experts.", "."},
                                      std::pair<const char*, const char*>{"mlp.shared_experts.", "_shexp."}}) {
    std::string_view tail;
    uint32_t idx = 0;
    if (!take_prefix_index(rest, group, idx, tail)) continue;
    if (!tail.ends_with(".weight")) return "";
    tail.remove_suffix(7);
    auto it = proj.find(std::string(tail));
    if (it == proj.end()) return "";
    return blk + it->second + suffix + std::to_string(idx) + ".weight";
  }
  return "";
}

}  // namespace

void ModelBuilder::load_hf(Model& m, const std::string& folder) {
  m.hf_folder_ = folder;
  m.desc_ = read_hf_config(folder);
  m.st_ = safetensors::Collection::open_folder(folder);

  for (const auto& [hf_name, entry] : m.st_->tensors()) {
    const std::string name = canonical_name(hf_name);
    if (name.empty()) {
      if (hf_name.find("rotary_emb.inv_freq") == std::string::npos) {
        m.warnings_.push_back("ignored tensor " + hf_name + " in " + entry.file->path());
      }
      continue;
    }
    // PyTorch shapes are slowest-first; canonical dims are fastest-first.
    std::vector<uint64_t> dims(entry.info->shape.rbegin(), entry.info->shape.rend());
    add_stored(m, ModelTensor{name, std::move(dims), entry.info->type, entry.file->data(*entry.info)},
               entry.file->path(), hf_name);
  }

  ModelDesc& d = m.desc_;
  // MiniMind's q/k norm and every family's output matrix are settled by the
  // tensors: a tied checkpoint may or may not store lm_head.
  if (d.architecture == "minimind") d.qk_norm = has(m, "blk.0.attn_q_norm.weight");
  if (!d.tied_embeddings && !has(m, "output.weight")) {
    throw FormatError(folder, "missing tensor output.weight (lm_head.weight), and config.json says tie_word_embeddings is false");
  }
  d.tied_embeddings = !has(m, "output.weight");
}

}  // namespace vkmind
