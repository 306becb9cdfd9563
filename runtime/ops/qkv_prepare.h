// The attention prologue of one layer in a single dispatch: QK-norm (optional),
// RoPE on q and k, and the paged KV append, straight from the fused QKV rows.
// Does in one kernel what rmsnorm_heads (q, k), rope and kv_append do in four,
// with the same numerics (issue 13, fused decode step).
#pragma once

#include <cstdint>

#include "runtime/graph/graph.h"
#include "runtime/ops/kv_append.h"
#include "runtime/ops/rope.h"
#include "runtime/vk/context.h"

namespace vkmind::ops {

// Which variant: storage buffers (GPUs), or 16-byte texels (CPU devices:
// lavapipe vectorises texel loads and stores, but loops over the lanes for
// each storage-buffer access; minimind-3 size f16, pp128: 22 -> 15 ms a step,
// 10.5 with 8 rows per workgroup).
// Texels need head_dim % 16 == 0, a token stride % 4 == 0 and texel-aligned
// slices; Auto takes them on CPU devices when those hold.
enum class QkvPreparePath { Auto, Buffers, Texels };

struct QkvPrepareDims {
  uint32_t tokens = 0;      // rows recorded; rows whose slot is kNoSlot only get q prepared
  uint32_t n_heads = 0;     // q heads
  uint32_t n_kv_heads = 0;  // k and v heads, > 0
  uint32_t head_dim = 0;    // a multiple of 4
  RopePairing pairing = RopePairing::NeoX;
  float attention_factor = 1;  // YaRN: cos and sin are multiplied by it
  uint32_t token_stride = 0;   // floats per qkv row, even; 0: (n_heads + 2 * n_kv_heads) * head_dim
};

// qkv: f32 rows [tokens][token_stride], each [q: n_heads | k: n_kv_heads | v:
// n_kv_heads] x head_dim. For every token t:
//   q heads: q = rope(rmsnorm(q) * q_norm), written back in place;
//   k heads: rope(rmsnorm(k) * k_norm) into slot_mapping[t] of k_pool;
//   v heads: copied into slot_mapping[t] of v_pool;
// tokens with slot kNoSlot write no pool. The k and v bands of qkv are left
// as they were (attention reads K and V from the pools).
// q_norm and k_norm: head_dim f32 weights each, both or neither (nullptr: no
// QK-norm, eps unused). positions: tokens i32; inv_freq: head_dim / 2 f32 from
// rope_inv_freq; slot_mapping: tokens u32; pools as kv_append.h describes,
// with layout.n_kv_heads and layout.head_dim equal to the dims'.
// Throws vkmind::Error when head_dim % 4 != 0 (the kernel keeps both rotation
// partners and f16 pool pairs in one invocation): use the unfused ops then;
// and when `path` is Texels but the texel variant's conditions do not hold.
void qkv_prepare(vk::Context& ctx, graph::Graph& g, const QkvPrepareDims& dims, const vk::BufferSlice& qkv,
                 const vk::BufferSlice* q_norm, const vk::BufferSlice* k_norm, const vk::BufferSlice& positions,
                 const vk::BufferSlice& inv_freq, const vk::BufferSlice& slot_mapping, const vk::BufferSlice& k_pool,
                 const vk::BufferSlice& v_pool, float eps, const KvLayout& layout,
                 QkvPreparePath path = QkvPreparePath::Auto);

}  // namespace vkmind::ops
