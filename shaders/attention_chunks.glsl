// Key and value rows of the paged KV pools (kv_pool.glsl) in chunks of CH
// consecutive elements, for the attention kernels of CPU devices
// (attention_split_subgroup.comp, attention_prefill_lanes.comp).
//
// KV_TEXELS (f16 pools, head_dim % 8 == 0): the pools are read through
// storage texel buffers (imageLoad, see weights.glsl), 8 elements (one 16-byte
// texel) per chunk. On lavapipe a texel load is one vector gather while a storage-buffer load is a scalar
// loop over the lanes, so the host picks it there. Otherwise a chunk is one
// pair of the storage-buffer pools.
//
// The includer defines KV_K_BINDING, KV_V_BINDING and KV_ACCESS (for
// kv_pool.glsl) first. Q_CHUNK(buf, e) is the chunk of a float buffer from
// element e.
#ifndef VKMIND_ATTENTION_CHUNKS_GLSL
#define VKMIND_ATTENTION_CHUNKS_GLSL

#ifdef KV_TEXELS
const uint CH = 8;
#define CHUNK mat2x4
layout(binding = KV_K_BINDING, rgba32ui) uniform readonly uimageBuffer k_texels;
layout(binding = KV_V_BINDING, rgba32ui) uniform readonly uimageBuffer v_texels;
mat2x4 texel_chunk(uvec4 u) {
  return mat2x4(vec4(unpackHalf2x16(u.x), unpackHalf2x16(u.y)), vec4(unpackHalf2x16(u.z), unpackHalf2x16(u.w)));
}
// Chunk c of the key row whose first element is `row` (a multiple of 8).
mat2x4 k_chunk(uint row, uint c) { return texel_chunk(imageLoad(k_texels, int(row / 8 + c))); }
mat2x4 v_chunk(uint row, uint c) { return texel_chunk(imageLoad(v_texels, int(row / 8 + c))); }
float chunk_dot(mat2x4 a, mat2x4 b) { return dot(a[0], b[0]) + dot(a[1], b[1]); }
float chunk_at(mat2x4 a, uint j) { return a[j / 4][j % 4]; }
#define Q_CHUNK(buf, e) \
  mat2x4(buf[e], buf[(e) + 1], buf[(e) + 2], buf[(e) + 3], buf[(e) + 4], buf[(e) + 5], buf[(e) + 6], buf[(e) + 7])
#else
#include "kv_pool.glsl"
const uint CH = 2;
#define CHUNK vec2
vec2 k_chunk(uint row, uint c) { return KV_DECODE(k_pool[row / 2 + c]); }
vec2 v_chunk(uint row, uint c) { return KV_DECODE(v_pool[row / 2 + c]); }
float chunk_dot(vec2 a, vec2 b) { return dot(a, b); }
float chunk_at(vec2 a, uint j) { return a[j]; }
#define Q_CHUNK(buf, e) vec2(buf[e], buf[(e) + 1])
#endif

#endif
