// The model's weights in device memory, arranged for the forward pass:
// q/k/v rows concatenated into one matrix (one matmul), gate/up likewise,
// norms and biases as f32. Files that mix types across fused tensors (a
// Q4_K_M file's attn_v in Q6_K beside Q4_K attn_q and attn_k) keep one piece
// per run of a type: one matmul each, into its band of the output.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>


#include "model/tensor_types.h"
#include "runtime/vk/host_import.h"
#include "runtime/engine/tile_cache.h"
#include "runtime/vk/memory.h"

namespace vkmind {

class Model;
namespace vk {
class Context;
}

// A row-major matrix [rows][cols] of `type` (cols is the Linear `in` size).
struct DeviceMatrix {
  vk::BufferSlice slice;
  TensorType type = TensorType::F32;
  uint32_t rows = 0;
  uint32_t cols = 0;
  // Tiled for the CPU texel matvec when nonzero (ops/weight_view.h).
  uint32_t tile_rows = 0, tile_cols = 0;
  // When the fused tensors differ in type: their runs of one type, rows in
  // order (then slice and type are unused). Empty for a uniform matrix.
  std::vector<DeviceMatrix> pieces;
};

struct LayerWeights {
  vk::BufferSlice attn_norm, ffn_norm;  // f32 [hidden]
  vk::BufferSlice q_norm, k_norm;       // f32 [head_dim], when qk_norm
  DeviceMatrix qkv;                     // [(n_heads + 2 n_kv) head_dim][hidden]
  vk::BufferSlice qkv_bias;             // f32, when the model has q/k/v biases
  DeviceMatrix attn_output;             // [hidden][n_heads head_dim]
  // Dense FFN, or the shared experts of a MoE layer (one entry each).
  DeviceMatrix gate_up;                 // [2 ffn][hidden]: gate rows, then up rows
  DeviceMatrix down;                    // [hidden][ffn]
  // Mixture of experts (desc.is_moe()): E routed experts of ffn F, stacked
  // so that expert e's rows are one contiguous run (ops::gather_matmul).
  DeviceMatrix router;                  // [E][hidden], the stored type
  DeviceMatrix exps_gate_up;            // [E * 2F][hidden]: per expert its gate rows, then its up rows
  DeviceMatrix exps_down;               // [E * hidden][F]
  std::vector<DeviceMatrix> shexp_gate_up, shexp_down;  // per shared expert, as gate_up / down
};

struct DeviceWeights {
  DeviceMatrix token_embd;  // [vocab][hidden]
  DeviceMatrix output;      // [vocab][hidden]; the same slice as token_embd when tied
  vk::BufferSlice output_norm;
  std::vector<LayerWeights> layers;
};

// Copies of weight bytes into host-visible device memory (CPU devices,
// integrated GPUs), left for later so that they overlap the rest of start-up
// (pipeline compilation, graph recording) on another thread.
class DeferredCopies {
 public:
  void add(uint8_t* dst, std::span<const uint8_t> src) { copies_.push_back({dst, src}); }
  // Rows [first_row, first_row + rows) of the tiled matrix m (mapped at dst) from src.
  void add_tiled(uint8_t* dst, std::span<const uint8_t> src, const DeviceMatrix& m, uint32_t first_row, uint32_t rows) {
    copies_.push_back({dst, src, Tiling{first_row, rows, m.rows, m.cols, m.type, m.tile_cols}});
  }
  // Copies everything, releasing the model file's pages as it goes (see
  // release_mapped_pages); safe on any one thread while others use the device.
  void run() const;

 private:
  struct Tiling {
    uint32_t first_row = 0, rows = 0, total_rows = 0, cols = 0;
    TensorType type = TensorType::F32;
    uint32_t tile_cols = 0;  // 0: a plain copy
  };
  struct Copy {
    uint8_t* dst;
    std::span<const uint8_t> src;
    Tiling tiling;
  };
  std::vector<Copy> copies_;
};

// Where upload_weights may put the bytes other than into fresh device memory.
struct WeightPlacement {
  // Matrices bound for mapped memory are only listed here; their contents are
  // valid once deferred->run() returns.
  DeferredCopies* deferred = nullptr;
  // The model's files as the device reads them in place (CPU devices): a
  // matrix whose tensors lie back to back in one of them is a view of it.
  std::span<const std::unique_ptr<vk::ImportedHostBuffer>> in_place;
  // Float matrices of the forward pass in tiles where ops::weight_tiles_pay
  // (a copy, never in place).
  bool tiles = true;
  // Where tiles made at an earlier load are read from, and new ones noted.
  TileCache* tile_cache = nullptr;
};

// The model's mapped files imported for in-place reads where that pays: on
// CPU devices (their memory is the host's), when the device supports it;
// otherwise none.
std::vector<std::unique_ptr<vk::ImportedHostBuffer>> import_model_files(vk::Context& ctx, const Model& model);

// Places every tensor the forward pass (dense or MoE) needs and uploads it
// into `arena`, or leaves it where `placement` says. Throws FormatError for a
// missing tensor or an unsupported type, vkmind::Error when device memory runs
// out (naming the tensor).
DeviceWeights upload_weights(vk::Context& ctx, vk::Arena& arena, const Model& model,
                             const WeightPlacement& placement = {});

}  // namespace vkmind
