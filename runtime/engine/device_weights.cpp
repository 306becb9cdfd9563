#include "runtime/engine/device_weights.h"

#include <cstring>
#include <optional>
#include <span>
#include <string>

#include "model/mapped_file.h"
#include "model/model_desc.h"
#include "model/weight_codec.h"
#include "runtime/ops/weight_view.h"
#include "runtime/vk/context.h"
#include "runtime/vk/error.h"

namespace vkmind {

namespace {

// Norm weights and biases are small; the kernels read them as f32.
std::vector<float> to_f32(const ModelTensor& t) {
  if (t.type != TensorType::F32 && t.type != TensorType::F16 && t.type != TensorType::BF16) {
    throw FormatError(t.name, "a norm or bias tensor must be F32, F16 or BF16, not " +
                                  std::string(tensor_type_name(t.type)));
  }
  return decode_weights(t.data, t.type, t.n_elements());
}

class Uploader {
 public:
  Uploader(vk::Context& ctx, vk::Arena& arena, const Model& model, const WeightPlacement& placement)
      : ctx_(ctx), arena_(arena), model_(model), placement_(placement) {}

  vk::BufferSlice vector_f32(const std::string& name) {
    auto values = to_f32(model_.require(name));
    return upload_bytes(name, values.data(), values.size() * 4);
  }

  // Several canonical tensors stacked by rows into one matrix of one width;
  // runs of different types become pieces (device_weights.h).
  // `tiled`: a matrix of the dense forward pass, tiled where weight_tiles_pay.
  DeviceMatrix matrix(const std::vector<std::string>& names, bool tiled = false) {
    std::vector<const ModelTensor*> parts = require_matrices(names);
    DeviceMatrix m;
    for (size_t begin = 0, end; begin < parts.size(); begin = end) {
      for (end = begin + 1; end < parts.size() && parts[end]->type == parts[begin]->type;) ++end;
      // Pieces (mixed types) stay row-major.
      const bool uniform_type = begin == 0 && end == parts.size();
      m.pieces.push_back(
          uniform({parts.begin() + std::ptrdiff_t(begin), parts.begin() + std::ptrdiff_t(end)}, tiled && uniform_type));
      m.rows += m.pieces.back().rows;
    }
    m.cols = m.pieces[0].cols;
    if (m.pieces.size() > 1) return m;
    return m.pieces[0];
  }

  // Stacked experts: one type throughout, since one gathered matvec reads them all.
  DeviceMatrix stacked(const std::vector<std::string>& names) {
    std::vector<const ModelTensor*> parts = require_matrices(names);
    for (const ModelTensor* t : parts) {
      if (t->type != parts[0]->type) {
        throw FormatError(model_.path(), "tensors " + parts[0]->name + " (" + std::string(tensor_type_name(parts[0]->type)) +
                                             ") and " + t->name + " (" + std::string(tensor_type_name(t->type)) +
                                             ") differ in type; vkmind stacks experts into one matrix of one type");
      }
    }
    return uniform(parts);
  }

  vk::BufferSlice concat_f32(const std::vector<std::string>& names) {
    std::vector<float> all;
    for (const auto& n : names) {
      auto v = to_f32(model_.require(n));
      all.insert(all.end(), v.begin(), v.end());
    }
    return upload_bytes(names[0], all.data(), all.size() * 4);
  }

 private:
  std::vector<const ModelTensor*> require_matrices(const std::vector<std::string>& names) {
    std::vector<const ModelTensor*> parts;
    for (const auto& n : names) parts.push_back(&model_.require(n));
    for (const ModelTensor* t : parts) {
      if (t->dims.size() != 2) throw FormatError(model_.path(), "tensor " + t->name + " is not a matrix");
      if (t->dims[0] != parts[0]->dims[0]) {
        throw FormatError(model_.path(), "tensors " + parts[0]->name + " and " + t->name +
                                             " differ in width; vkmind fuses them into one matrix");
      }
      if (const auto block = first_nonfinite_scale(t->data, t->type)) {
        throw FormatError(model_.path(), "tensor " + t->name + ": block " + std::to_string(*block) + " of " +
                                             std::to_string(t->data.size() / tensor_type_traits(t->type).block_bytes) +
                                             " has a NaN or infinite scale (a corrupt file)");
      }
    }
    return parts;
  }

  // Tensors of one type and width, uploaded one after another.
  DeviceMatrix uniform(std::span<const ModelTensor* const> parts, bool tiled = false) {
    DeviceMatrix m;
    m.type = parts[0]->type;
    m.cols = uint32_t(parts[0]->dims[0]);
    uint64_t bytes = 0;
    for (const ModelTensor* t : parts) {
      m.rows += uint32_t(t->dims[1]);
      bytes += t->data.size();
    }
    // Tiles are a copy in mapped memory (CPU devices), made on the copier thread.
    const vk::DeviceReport& report = ctx_.device().report();
    tiled = tiled && placement_.tiles && placement_.deferred && ops::weight_tiles_pay(report, m.type, m.cols);
    if (!tiled) {
      if (auto in_place = in_place_view(parts, bytes)) {
        // Read in place from now on: fault it in now, in one call.
        populate_mapped_pages({parts[0]->data.data(), bytes});
        m.slice = *in_place;
        return m;
      }
    }
    std::optional<TileEntry> entry;
    if (tiled) {
      m.tile_rows = ops::kWeightTileRows;
      m.tile_cols = ops::weight_tile_cols(report, m.type);
      if (placement_.tile_cache) {
        entry = tile_entry(parts, m, bytes);
        if (auto cached = placement_.tile_cache->find(*entry)) {
          m.slice = *cached;
          for (const ModelTensor* t : parts) release_mapped_pages(t->data);  // the fingerprint's samples
          return m;
        }
      }
    }
    m.slice = allocate(parts[0]->name, bytes);
    if (tiled && m.slice.mapped) {
      uint32_t row = 0;
      for (const ModelTensor* t : parts) {
        placement_.deferred->add_tiled(m.slice.mapped, t->data, m, row, uint32_t(t->dims[1]));
        row += uint32_t(t->dims[1]);
      }
      if (entry) placement_.tile_cache->add(*entry, m.slice.mapped);
      return m;
    }
    m.tile_rows = m.tile_cols = 0;
    uint64_t offset = 0;
    for (const ModelTensor* t : parts) {
      const vk::BufferSlice dst = m.slice.sub(offset, t->data.size());
      if (placement_.deferred && dst.mapped) {
        placement_.deferred->add(dst.mapped, t->data);
      } else {
        ctx_.transfer().upload(dst, t->data.data(), t->data.size());
        release_mapped_pages(t->data);
      }
      offset += t->data.size();
    }
    return m;
  }

  static TileEntry tile_entry(std::span<const ModelTensor* const> parts, const DeviceMatrix& m, uint64_t bytes) {
    TileEntry e{"", m.type, m.rows, m.cols, m.tile_rows, m.tile_cols, bytes, 0};
    std::vector<std::span<const uint8_t>> data;
    for (const ModelTensor* t : parts) {
      e.names += (e.names.empty() ? "" : " ") + t->name;
      data.push_back(t->data);
    }
    e.fingerprint = tensor_fingerprint(data);
    return e;
  }

  // The tensors as they lie in an imported file, when they lie back to back.
  std::optional<vk::BufferSlice> in_place_view(std::span<const ModelTensor* const> parts, uint64_t bytes) const {
    for (size_t i = 1; i < parts.size(); ++i) {
      if (parts[i]->data.data() != parts[i - 1]->data.data() + parts[i - 1]->data.size()) return std::nullopt;
    }
    for (const auto& file : placement_.in_place) {
      if (auto slice = file->slice(parts[0]->data.data(), bytes)) return slice;
    }
    return std::nullopt;
  }

  vk::BufferSlice allocate(const std::string& name, uint64_t bytes) {
    try {
      return arena_.allocate(bytes);
    } catch (const Error& e) {
      throw Error("uploading tensor " + name + " (" + std::to_string(bytes >> 20) + " MiB): " + e.what());
    }
  }
  vk::BufferSlice upload_bytes(const std::string& name, const void* data, uint64_t bytes) {
    vk::BufferSlice s = allocate(name, bytes);
    ctx_.transfer().upload(s, data, bytes);
    return s;
  }

  vk::Context& ctx_;
  vk::Arena& arena_;
  const Model& model_;
  const WeightPlacement& placement_;
};

// Routed experts stacked into one matrix per projection (per expert: gate
// rows then up rows, like the dense gate|up), so one gathered matvec reaches
// any expert by a row offset. Stacking copies each expert once, at load.
void upload_moe(Uploader& up, const ModelDesc& d, const std::string& p, LayerWeights& L) {
  L.router = up.matrix({p + "ffn_gate_inp.weight"});
  std::vector<std::string> gate_up, down;
  for (uint32_t e = 0; e < d.moe.n_experts; ++e) {
    const std::string s = "." + std::to_string(e) + ".weight";
    gate_up.push_back(p + "ffn_gate" + s);
    gate_up.push_back(p + "ffn_up" + s);
    down.push_back(p + "ffn_down" + s);
  }
  L.exps_gate_up = up.stacked(gate_up);
  L.exps_down = up.stacked(down);
  for (uint32_t e = 0; e < d.moe.n_shared_experts; ++e) {
    const std::string s = "_shexp." + std::to_string(e) + ".weight";
    L.shexp_gate_up.push_back(up.matrix({p + "ffn_gate" + s, p + "ffn_up" + s}));
    L.shexp_down.push_back(up.matrix({p + "ffn_down" + s}));
  }
}

}  // namespace

void DeferredCopies::run() const {
  for (const Copy& c : copies_) {
    const Tiling& t = c.tiling;
    if (t.tile_cols) {
      ops::tile_rows_copy(c.dst, c.src.data(), t.first_row, t.rows, t.total_rows, t.cols, t.type, t.tile_cols);
    } else {
      std::memcpy(c.dst, c.src.data(), c.src.size());
    }
    release_mapped_pages(c.src);
  }
}

std::vector<std::unique_ptr<vk::ImportedHostBuffer>> import_model_files(vk::Context& ctx, const Model& model) {
  std::vector<std::unique_ptr<vk::ImportedHostBuffer>> files;
  // A GPU would read imported host memory over the bus at every step.
  if (ctx.device().report().type != "CPU") return files;
  for (std::span<const uint8_t> bytes : model.mapped_files()) {
    if (auto file = vk::ImportedHostBuffer::import(ctx.device(), bytes)) files.push_back(std::move(file));
  }
  return files;
}

DeviceWeights upload_weights(vk::Context& ctx, vk::Arena& arena, const Model& model, const WeightPlacement& placement) {
  const ModelDesc& d = model.desc();
  model.check_supported();
  Uploader up(ctx, arena, model, placement);
  DeviceWeights w;
  const bool shared_head = d.tied_embeddings || d.output_duplicates_embedding;
  // Tiled only as the output head: the embedding lookup reads tiles too, but gains nothing from them.
  w.token_embd = up.matrix({"token_embd.weight"}, shared_head);
  w.output = shared_head ? w.token_embd : up.matrix({"output.weight"}, true);
  w.output_norm = up.vector_f32("output_norm.weight");
  for (uint32_t l = 0; l < d.n_layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    LayerWeights L;
    L.attn_norm = up.vector_f32(p + "attn_norm.weight");
    L.ffn_norm = up.vector_f32(p + "ffn_norm.weight");
    if (d.qk_norm) {
      L.q_norm = up.vector_f32(p + "attn_q_norm.weight");
      L.k_norm = up.vector_f32(p + "attn_k_norm.weight");
    }
    L.qkv = up.matrix({p + "attn_q.weight", p + "attn_k.weight", p + "attn_v.weight"}, true);
    if (d.attn_qkv_bias) L.qkv_bias = up.concat_f32({p + "attn_q.bias", p + "attn_k.bias", p + "attn_v.bias"});
    L.attn_output = up.matrix({p + "attn_output.weight"}, true);
    if (d.is_moe()) {
      upload_moe(up, d, p, L);
    } else {
      L.gate_up = up.matrix({p + "ffn_gate.weight", p + "ffn_up.weight"}, true);
      L.down = up.matrix({p + "ffn_down.weight"}, true);
    }
    w.layers.push_back(L);
  }
  return w;
}

}  // namespace vkmind
