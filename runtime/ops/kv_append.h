// Paged KV cache on the device: the pool layout and the append kernel.
//
// Per layer, K and V are each one pool [num_blocks][n_kv_heads][block_size][head_dim]
// of f16 (default) or f32. Token position p of a sequence lives in physical
// slot  block_table[p / block_size] * block_size + p % block_size.
#pragma once

#include <cstdint>

#include "runtime/graph/graph.h"
#include "runtime/vk/context.h"

namespace vkmind::ops {

enum class KvType { F16, F32 };

struct KvLayout {
  uint32_t n_kv_heads = 0;
  uint32_t head_dim = 0;     // even, 8..256
  uint32_t block_size = 16;  // 8, 16 or 32
  KvType type = KvType::F16;

  uint32_t element_bytes() const { return type == KvType::F16 ? 2 : 4; }
  // Bytes of one pool (K or V) of `num_blocks` blocks.
  uint64_t pool_bytes(uint32_t num_blocks) const {
    return uint64_t(num_blocks) * n_kv_heads * block_size * head_dim * element_bytes();
  }
};

// Slot value of a token to skip (padding of a graph recorded for more tokens).
constexpr uint32_t kNoSlot = 0xFFFFFFFFu;

// Writes k, v f32 [tokens][src_stride] (head h at columns h * head_dim ..;
// src_stride 0 = n_kv_heads * head_dim, else even) into slot_mapping[t] (u32
// [tokens]) of k_pool and v_pool. `tokens` is the capacity recorded in the
// graph; tokens with slot kNoSlot are skipped, so the graph can be replayed
// for any smaller batch.
void kv_append(vk::Context& ctx, graph::Graph& g, const KvLayout& layout, const vk::BufferSlice& k,
               const vk::BufferSlice& v, const vk::BufferSlice& slot_mapping, const vk::BufferSlice& k_pool,
               const vk::BufferSlice& v_pool, uint32_t tokens, uint32_t src_stride = 0);

}  // namespace vkmind::ops
