#version 450
// Paged KV append: copies each new token's K and V (after RoPE) into its slot
// of the block pools. One invocation per pair of elements of one (token, kv
// head): consecutive invocations touch consecutive pairs of a head row, so
// both the reads and the writes are coalesced. Tokens whose slot is ~0u are
// padding of a graph recorded for a larger batch and are skipped.
#define PUSH_KvAppend
#include "push_constants.h"
#define KV_K_BINDING 3
#define KV_V_BINDING 4
#define KV_ACCESS writeonly
#include "kv_pool.glsl"

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer K { vec2 k_src[]; };
layout(std430, binding = 1) readonly buffer V { vec2 v_src[]; };
layout(std430, binding = 2) readonly buffer Slots { uint slot_mapping[]; };

void main() {
  // Grid may be 2-D when the count exceeds the per-dimension workgroup limit.
  const uint i = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * gl_WorkGroupSize.x +
                 gl_LocalInvocationID.x;
  const uint pairs_per_head = pc.head_dim / 2;
  const uint pairs_per_token = pc.n_kv_heads * pairs_per_head;
  if (i >= pc.tokens * pairs_per_token) return;
  const uint t = i / pairs_per_token;
  const uint rest = i % pairs_per_token;  // h * pairs_per_head + pair
  const uint slot = slot_mapping[t];
  if (slot == 0xFFFFFFFFu) return;
  const uint h = rest / pairs_per_head;
  const uint pair = rest % pairs_per_head;
  const uint block = slot / pc.block_size;
  const uint offset = slot % pc.block_size;
  const uint dst = ((block * pc.n_kv_heads + h) * pc.block_size + offset) * pairs_per_head + pair;
  const uint src = t * (pc.src_stride / 2) + rest;
  k_pool[dst] = KV_ENCODE(k_src[src]);
  v_pool[dst] = KV_ENCODE(v_src[src]);
}
