// Model::open: pick the loader by what the path is, then check the tensors
// against the description in one format-blind pass, so a wrong shape fails
// at open with the tensor's name rather than inside a kernel.
#include "model/model_desc.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>

#include "model/gguf.h"
#include "model/model_loaders.h"
#include "model/safetensors.h"

namespace vkmind {

uint64_t ModelTensor::n_elements() const {
  uint64_t n = 1;
  for (uint64_t d : dims) n *= d;  // bounded by the file size at load
  return n;
}

std::string format_dims(const std::vector<uint64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

std::string_view rope_pairing_name(RopePairing p) { return p == RopePairing::NeoX ? "NeoX" : "GPT-J"; }

std::string_view rope_scaling_name(RopeScalingType t) {
  switch (t) {
    case RopeScalingType::None: return "none";
    case RopeScalingType::Linear: return "linear";
    case RopeScalingType::YaRN: return "yarn";
  }
  return "?";
}

namespace {

// Calls emit(name, dims) for every tensor d calls for. A visitor rather than
// a list: a hostile header may claim 2^31 layers, and the caller stops at the
// first missing tensor instead of building billions of names.
template <typename Emit>
void for_each_expected(const ModelDesc& d, Emit&& emit) {
  struct Out {
    Emit& emit;
    void push_back(ExpectedTensor e) { emit(e); }
  } out{emit};
  const uint64_t h = d.hidden, q = uint64_t{d.n_heads} * d.head_dim, kv = uint64_t{d.n_kv_heads} * d.head_dim;
  out.push_back({"token_embd.weight", {h, d.vocab}});
  for (uint32_t l = 0; l < d.n_layers; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    out.push_back({b + "attn_norm.weight", {h}});
    out.push_back({b + "attn_q.weight", {h, q}});
    out.push_back({b + "attn_k.weight", {h, kv}});
    out.push_back({b + "attn_v.weight", {h, kv}});
    if (d.attn_qkv_bias) {
      out.push_back({b + "attn_q.bias", {q}});
      out.push_back({b + "attn_k.bias", {kv}});
      out.push_back({b + "attn_v.bias", {kv}});
    }
    out.push_back({b + "attn_output.weight", {q, h}});
    if (d.qk_norm) {
      out.push_back({b + "attn_q_norm.weight", {d.head_dim}});
      out.push_back({b + "attn_k_norm.weight", {d.head_dim}});
    }
    out.push_back({b + "ffn_norm.weight", {h}});
    if (d.is_moe()) {
      out.push_back({b + "ffn_gate_inp.weight", {h, d.moe.n_experts}});
      const uint64_t f = d.moe.expert_ffn;
      for (uint32_t e = 0; e < d.moe.n_experts; ++e) {
        const std::string s = "." + std::to_string(e) + ".weight";
        out.push_back({b + "ffn_gate" + s, {h, f}});
        out.push_back({b + "ffn_up" + s, {h, f}});
        out.push_back({b + "ffn_down" + s, {f, h}});
      }
      const uint64_t sf = d.moe.shared_expert_ffn;
      for (uint32_t e = 0; e < d.moe.n_shared_experts; ++e) {
        const std::string s = "_shexp." + std::to_string(e) + ".weight";
        out.push_back({b + "ffn_gate" + s, {h, sf}});
        out.push_back({b + "ffn_up" + s, {h, sf}});
        out.push_back({b + "ffn_down" + s, {sf, h}});
      }
    } else {
      out.push_back({b + "ffn_gate.weight", {h, d.ffn_hidden}});
      out.push_back({b + "ffn_up.weight", {h, d.ffn_hidden}});
      out.push_back({b + "ffn_down.weight", {d.ffn_hidden, h}});
    }
  }
  out.push_back({"output_norm.weight", {h}});
  if (!d.tied_embeddings) out.push_back({"output.weight", {h, d.vocab}});
}

}  // namespace

std::vector<ExpectedTensor> expected_tensors(const ModelDesc& d) {
  std::vector<ExpectedTensor> out;
  for_each_expected(d, [&](const ExpectedTensor& e) { out.push_back(e); });
  return out;
}

void ModelBuilder::add_stored(Model& m, ModelTensor t, const std::string& file, const std::string& stored_name) {
  m.stored_.push_back(t);
  add_view(m, std::move(t), file, stored_name);
}

void ModelBuilder::add_view(Model& m, ModelTensor t, const std::string& file, const std::string& stored_name) {
  const std::string name = t.name;
  if (!m.views_.emplace(name, std::move(t)).second) {
    const auto& first = m.origins_.at(name);
    throw FormatError(file, "duplicate tensor " + name + " (" + stored_name + "; also " + first.name + " in " +
                                first.file + ")");
  }
  m.origins_.emplace(name, Model::Origin{file, stored_name});
}

void ModelBuilder::finish(Model& m) {
  const ModelDesc& d = m.desc_;
  if (d.n_layers > 100000 || d.n_heads == 0 || d.head_dim == 0) {
    throw FormatError(m.path_, "implausible dimensions: " + std::to_string(d.n_layers) + " layers");
  }
  if (d.is_moe() && (d.moe.expert_ffn == 0 || d.moe.n_experts > 4096)) {
    throw FormatError(m.path_, "implausible MoE configuration (" + std::to_string(d.moe.n_experts) + " experts)");
  }
  if (d.is_moe() && d.moe.n_shared_experts > 0 && d.moe.shared_expert_ffn == 0) {
    throw FormatError(m.path_, "shared experts without a shared expert FFN size");
  }
  auto describe = [&](const std::string& name) {
    const auto& o = m.origins_.at(name);
    return o.name == name ? name : name + " (" + o.name + ")";
  };

  std::set<std::string, std::less<>> expected;
  for_each_expected(d, [&](const ExpectedTensor& e) {
    expected.insert(e.name);
    const ModelTensor* t = find(m, e.name);
    if (!t) {
      throw FormatError(m.path_, "missing tensor " + e.name + " (expected shape " + format_dims(e.dims) + ")");
    }
    if (t->dims != e.dims) {
      throw FormatError(m.origins_.at(e.name).file, "tensor " + describe(e.name) + " has shape " + format_dims(t->dims) +
                                                        ", expected " + format_dims(e.dims) + " (fastest dimension first)");
    }
  });
  // A stored output.weight on a model whose config ties it: check it too.
  if (const ModelTensor* o = find(m, "output.weight")) {
    const std::vector<uint64_t> want{d.hidden, d.vocab};
    if (o->dims != want) {
      throw FormatError(m.origins_.at("output.weight").file, "tensor " + describe("output.weight") + " has shape " +
                                                                 format_dims(o->dims) + ", expected " + format_dims(want));
    }
    const ModelTensor* e = find(m, "token_embd.weight");
    m.desc_.output_duplicates_embedding = e->type == o->type && e->data.size() == o->data.size() &&
                                          std::memcmp(e->data.data(), o->data.data(), e->data.size()) == 0;
  } else {
    // Tied: the head is the embedding.
    ModelTensor t = *find(m, "token_embd.weight");
    m.views_.emplace("output.weight", t);
    m.origins_.emplace("output.weight", m.origins_.at("token_embd.weight"));
  }
  // Tensors the description does not call for are ignored, and said so.
  for (const auto& t : m.stored_) {
    const bool stacked_gguf = d.is_moe() && (t.name.ends_with("_exps.weight") || t.name.ends_with("_shexp.weight"));
    if (!expected.count(t.name) && t.name != "output.weight" && !stacked_gguf) {
      m.warnings_.push_back("ignored tensor " + describe(t.name) + ": not used by this configuration");
    }
  }
  std::sort(m.stored_.begin(), m.stored_.end(), [](const ModelTensor& a, const ModelTensor& b) { return a.name < b.name; });
}

Model::~Model() = default;

std::unique_ptr<Model> Model::open(const std::string& path) {
  namespace fs = std::filesystem;
  std::unique_ptr<Model> m(new Model());
  m->path_ = path;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    ModelBuilder::load_hf(*m, path);
  } else if (fs::exists(path, ec)) {
    ModelBuilder::load_gguf(*m, path);
  } else {
    throw FormatError(path, "no such file or folder");
  }
  ModelBuilder::finish(*m);
  return m;
}

const ModelTensor* Model::tensor(std::string_view canonical_name) const {
  auto it = views_.find(canonical_name);
  if (it == views_.end()) return nullptr;
  if (!supported_tensor_type(static_cast<uint32_t>(it->second.type))) {
    throw FormatError(origins_.find(canonical_name)->second.file,
                      "tensor " + std::string(canonical_name) + " has type " +
                          std::string(ggml_type_name(static_cast<uint32_t>(it->second.type))) +
                          ", which vkmind does not support yet");
  }
  return &it->second;
}

const ModelTensor& Model::require(std::string_view canonical_name) const {
  const ModelTensor* t = tensor(canonical_name);
  if (!t) throw FormatError(path_, "missing tensor " + std::string(canonical_name));
  return *t;
}

void Model::check_supported() const {
  for (const auto& t : stored_) tensor(t.name);
}

std::vector<std::span<const uint8_t>> Model::mapped_files() const {
  std::vector<std::span<const uint8_t>> files;
  if (gguf_) files.push_back(gguf_->mapped_bytes());
  if (st_) {
    for (const auto& f : st_->files()) files.push_back(f->mapped_bytes());
  }
  return files;
}

std::vector<std::string> Model::file_paths() const {
  std::vector<std::string> paths;
  if (gguf_) paths.push_back(gguf_->path());
  if (st_) {
    for (const auto& f : st_->files()) paths.push_back(f->path());
  }
  return paths;
}

uint64_t Model::parameter_count() const {
  uint64_t n = 0;
  for (const auto& t : stored_) n += t.n_elements();
  return n;
}

}  // namespace vkmind
