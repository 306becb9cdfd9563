#version 450
// Everything between the QKV matmul and attention in one dispatch: per token,
// the q heads are RMS-normalised (QK_NORM), rotated (RoPE) and written back in
// place; the k heads likewise, but written into the token's K pool slot; the
// v heads are copied into its V pool slot. Replaces rmsnorm_heads x2, rope and
// kv_append, and the barriers between them.
//
// One subgroup per head row, as rmsnorm.comp PER_HEAD (subgroupAdd, no shared
// memory, no barriers); the subgroup of k head h also copies v head h. A lane
// takes "quads" of 4 elements chosen so that both rotation partners and both
// elements of an f16 pool word stay in the lane:
//   NEOX  quad j = elements (2j, 2j+1) and (2j+d/2, 2j+d/2+1): pairs 2j, 2j+1
//   GPT-J quad j = elements 4j..4j+3:                         pairs 2j, 2j+1
// so quad j turns by angles pos * inv_freq[2j] and pos * inv_freq[2j + 1]
// either way. Needs head_dim % 4 == 0 (checked on the host).
// Numerics follow the unfused kernels: y = x * scale * w with scale =
// inversesqrt(mean(x^2) + eps) in f32, then the rotation of rope.comp.
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_EXT_control_flow_attributes : require

#define PUSH_QkvPrepare
#include "push_constants.h"
#ifndef QKV_TEXELS
#define KV_K_BINDING 7
#define KV_V_BINDING 8
#define KV_ACCESS writeonly
#include "kv_pool.glsl"
#endif
#include "rope_angle.glsl"

layout(local_size_x_id = 0) in;
// Rows per workgroup; the loop in main() still covers every row when the
// device runs fewer subgroups per workgroup than the host assumed.
layout(constant_id = 1) const uint ROWS = 8;
layout(constant_id = 2) const bool NEOX = true;
layout(constant_id = 3) const bool QK_NORM = false;

layout(std430, binding = 2) readonly buffer Positions { int positions[]; };
layout(std430, binding = 6) readonly buffer Slots { uint slot_mapping[]; };

#ifdef QKV_TEXELS
// CPU devices (the host picks this variant there): every access a 16-byte
// texel through imageLoad / imageStore, which lavapipe turns into vector
// gathers and scatters; a storage-buffer access is a loop over the lanes.
// Bindings as below, the same ranges; positions and slots stay buffers (one
// read per row). Needs head_dim % 16 == 0 and a token stride % 4 == 0.
// Every texel is read (through 1) before its lane writes it (q, through 0),
// and never after: the two views of the rows need no ordering between them.
layout(binding = 0, rgba32ui) uniform writeonly uimageBuffer q_texels;  // the q band, in place
layout(binding = 1, rgba32ui) uniform readonly uimageBuffer src_texels;
layout(binding = 3, rgba32ui) uniform readonly uimageBuffer inv_freq_texels;
layout(binding = 4, rgba32ui) uniform readonly uimageBuffer q_norm_texels;
layout(binding = 5, rgba32ui) uniform readonly uimageBuffer k_norm_texels;
layout(binding = 7, rgba32ui) uniform writeonly uimageBuffer k_pool_texels;
layout(binding = 8, rgba32ui) uniform writeonly uimageBuffer v_pool_texels;
#else
// Bindings 0 and 1 are the same qkv rows: the q band is written in place
// through 0; k and v are only read, through 1. Everything moves as vec2
// (token_stride and the band offsets are even).
layout(std430, binding = 0) buffer Q { vec2 q[]; };
layout(std430, binding = 1) readonly buffer Qkv { vec2 src[]; };
layout(std430, binding = 3) readonly buffer InvFreq { vec2 inv_freq[]; };
layout(std430, binding = 4) readonly buffer QNorm { vec2 q_norm[]; };
layout(std430, binding = 5) readonly buffer KNorm { vec2 k_norm[]; };
#endif

#ifdef QKV_TEXELS
vec4 load4(uint i) { return uintBitsToFloat(imageLoad(src_texels, int(i))); }
vec4 norm4(bool is_q, uint i) {
  return uintBitsToFloat(is_q ? imageLoad(q_norm_texels, int(i)) : imageLoad(k_norm_texels, int(i)));
}

// Eight consecutive elements (a, b) of a pool row from element e on, e % 8 == 0.
void store_pool8(bool to_k, uint e, vec4 a, vec4 b) {
#ifdef KV_F16
  const uvec4 words = uvec4(packHalf2x16(a.xy), packHalf2x16(a.zw), packHalf2x16(b.xy), packHalf2x16(b.zw));
  if (to_k) imageStore(k_pool_texels, int(e / 8), words); else imageStore(v_pool_texels, int(e / 8), words);
#else
  if (to_k) {
    imageStore(k_pool_texels, int(e / 4), floatBitsToUint(a));
    imageStore(k_pool_texels, int(e / 4 + 1), floatBitsToUint(b));
  } else {
    imageStore(v_pool_texels, int(e / 4), floatBitsToUint(a));
    imageStore(v_pool_texels, int(e / 4 + 1), floatBitsToUint(b));
  }
#endif
}

// (a, b) rotated by the angle whose (cos, sin) is cs, as rotate() does.
vec2 turn(float a, float b, vec2 cs) { return vec2(a * cs.x - b * cs.y, a * cs.y + b * cs.x); }

// A lane takes units of 16 elements: NEOX the 8 from 8u and their partners
// 8 from 8u + d/2 (texels v[0], v[1] and v[2], v[3]); GPT-J elements 16u..16u+15
// (texels v[0..3], partners adjacent). Either way the unit's 8 pairs turn
// by angles pos * inv_freq[8u .. 8u + 7] (texels 2u, 2u + 1).
void main() {
  const uint group = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
  const uint d4 = pc.head_dim / 4;  // texels per head
  const uint units = pc.head_dim / 16;
  const uint heads = pc.n_heads + pc.n_kv_heads;
  const uint rows = pc.tokens * heads;
  for (uint lr = gl_SubgroupID; lr < ROWS; lr += gl_NumSubgroups) {
    const uint r = group * ROWS + lr;
    if (r >= rows) break;
    const uint t = r / heads;
    const uint h = r % heads;
    const bool is_q = h < pc.n_heads;
    const uint kv_h = h - pc.n_heads;
    const uint slot = slot_mapping[t];
    if (!is_q && slot == 0xFFFFFFFFu) continue;

    const uint base = (t * pc.token_stride + h * pc.head_dim) / 4;  // the row's first texel
    float scale = 1.0;
    if (QK_NORM) {
      float ss = 0.0;
      for (uint i = gl_SubgroupInvocationID; i < d4; i += gl_SubgroupSize) {
        const vec4 x = load4(base + i);
        ss += dot(x, x);
      }
      scale = inversesqrt(subgroupAdd(ss) / float(pc.head_dim) + pc.eps);
    }
    const float pos = float(positions[t]);
    // The pool row's first element.
    const uint dst = ((slot / pc.block_size * pc.n_kv_heads + kv_h) * pc.block_size + slot % pc.block_size) * pc.head_dim;

    for (uint u = gl_SubgroupInvocationID; u < units; u += gl_SubgroupSize) {
      const uvec4 ti = NEOX ? uvec4(2 * u, 2 * u + 1, d4 / 2 + 2 * u, d4 / 2 + 2 * u + 1) : uvec4(4 * u) + uvec4(0, 1, 2, 3);
      vec4 v[4];
      [[unroll]] for (uint i = 0; i < 4; ++i) {
        v[i] = load4(base + ti[i]);
        if (QK_NORM) v[i] = v[i] * scale * norm4(is_q, ti[i]);
      }
      // precise: the angle is the rounded f32 product, as in rope.comp.
      precise vec4 angle0 = pos * uintBitsToFloat(imageLoad(inv_freq_texels, int(2 * u)));
      precise vec4 angle1 = pos * uintBitsToFloat(imageLoad(inv_freq_texels, int(2 * u + 1)));
      vec2 cs[8];
      [[unroll]] for (uint i = 0; i < 4; ++i) {
        cs[i] = cos_sin(angle0[i]) * pc.attention_factor;
        cs[4 + i] = cos_sin(angle1[i]) * pc.attention_factor;
      }
      if (NEOX) {  // pair i: (v[i / 4][i % 4], v[2 + i / 4][i % 4])
        [[unroll]] for (uint i = 0; i < 8; ++i) {
          const vec2 ab = turn(v[i / 4][i % 4], v[2 + i / 4][i % 4], cs[i]);
          v[i / 4][i % 4] = ab.x;
          v[2 + i / 4][i % 4] = ab.y;
        }
      } else {  // pair i: elements 2i, 2i + 1 of the unit
        [[unroll]] for (uint i = 0; i < 8; ++i) {
          const uint e = 2 * i;
          const vec2 ab = turn(v[e / 4][e % 4], v[e / 4][e % 4 + 1], cs[i]);
          v[e / 4][e % 4] = ab.x;
          v[e / 4][e % 4 + 1] = ab.y;
        }
      }
      if (is_q) {
        [[unroll]] for (uint i = 0; i < 4; ++i) imageStore(q_texels, int(base + ti[i]), floatBitsToUint(v[i]));
      } else {
        store_pool8(true, dst + 4 * ti[0], v[0], v[1]);  // ti[0], ti[1] and ti[2], ti[3] are adjacent
        store_pool8(true, dst + 4 * ti[2], v[2], v[3]);
      }
    }
    if (!is_q) {  // v: a copy, 8 elements at a time
      const uint v_base = base + pc.n_kv_heads * d4;
      for (uint i = gl_SubgroupInvocationID; i < d4 / 2; i += gl_SubgroupSize)
        store_pool8(false, dst + 8 * i, load4(v_base + 2 * i), load4(v_base + 2 * i + 1));
    }
  }
}
#else
// Pair indices (in vec2 units from the row start) of quad j's two pairs.
uvec2 quad_pairs(uint j, uint quads) { return NEOX ? uvec2(j, j + quads) : uvec2(2 * j, 2 * j + 1); }

// Rotates quad (a, b) by the angles of its two pairs; cs0/cs1 = (cos, sin)
// of pair 2j / 2j + 1, already times attention_factor.
void rotate(inout vec2 a, inout vec2 b, vec2 cs0, vec2 cs1) {
  if (NEOX) {  // partners (a.x, b.x) and (a.y, b.y)
    const vec2 ra = vec2(a.x * cs0.x - b.x * cs0.y, a.y * cs1.x - b.y * cs1.y);
    const vec2 rb = vec2(a.x * cs0.y + b.x * cs0.x, a.y * cs1.y + b.y * cs1.x);
    a = ra;
    b = rb;
  } else {  // partners (a.x, a.y) and (b.x, b.y)
    a = vec2(a.x * cs0.x - a.y * cs0.y, a.x * cs0.y + a.y * cs0.x);
    b = vec2(b.x * cs1.x - b.y * cs1.y, b.x * cs1.y + b.y * cs1.x);
  }
}

// inversesqrt(mean(x^2) + eps) of the row starting at pair `base` of q (from_q)
// or src. Called in subgroup-uniform control flow.
float norm_scale(bool from_q, uint base, uint half_dim) {
  float ss = 0.0;
  for (uint p = gl_SubgroupInvocationID; p < half_dim; p += gl_SubgroupSize) {
    const vec2 x = from_q ? q[base + p] : src[base + p];
    ss += dot(x, x);
  }
  return inversesqrt(subgroupAdd(ss) / float(pc.head_dim) + pc.eps);
}

void main() {
  const uint group = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
  const uint half_dim = pc.head_dim / 2;  // pairs per head
  const uint quads = pc.head_dim / 4;
  const uint heads = pc.n_heads + pc.n_kv_heads;  // rows per token
  const uint rows = pc.tokens * heads;
  const uint stride = pc.token_stride / 2;

  // Loop bound and row depend only on gl_SubgroupID: control flow stays
  // uniform within each subgroup, as subgroupAdd requires.
  for (uint lr = gl_SubgroupID; lr < ROWS; lr += gl_NumSubgroups) {
    const uint r = group * ROWS + lr;
    if (r >= rows) break;
    const uint t = r / heads;
    const uint h = r % heads;
    const bool is_q = h < pc.n_heads;
    const uint kv_h = h - pc.n_heads;  // valid when !is_q
    const uint slot = slot_mapping[t];
    if (!is_q && slot == 0xFFFFFFFFu) continue;  // padding token: its K/V go nowhere

    const uint base = t * stride + h * half_dim;  // k head kv_h sits right after the q heads
    const float scale = QK_NORM ? norm_scale(is_q, base, half_dim) : 1.0;
    const float pos = float(positions[t]);
    const uint dst = ((slot / pc.block_size * pc.n_kv_heads + kv_h) * pc.block_size + slot % pc.block_size) * half_dim;

    for (uint j = gl_SubgroupInvocationID; j < quads; j += gl_SubgroupSize) {
      const uvec2 p = quad_pairs(j, quads);
      vec2 a = is_q ? q[base + p.x] : src[base + p.x];
      vec2 b = is_q ? q[base + p.y] : src[base + p.y];
      if (QK_NORM) {
        const vec2 wa = is_q ? q_norm[p.x] : k_norm[p.x];
        const vec2 wb = is_q ? q_norm[p.y] : k_norm[p.y];
        a = a * scale * wa;
        b = b * scale * wb;
      }
      // precise: the angle is the rounded f32 product, as in rope.comp.
      precise vec2 angle = pos * inv_freq[j];
      rotate(a, b, cos_sin(angle.x) * pc.attention_factor, cos_sin(angle.y) * pc.attention_factor);
      if (is_q) {
        q[base + p.x] = a;
        q[base + p.y] = b;
      } else {
        k_pool[dst + p.x] = KV_ENCODE(a);
        k_pool[dst + p.y] = KV_ENCODE(b);
      }
    }
    if (!is_q) {
      const uint v_base = base + pc.n_kv_heads * half_dim;
      for (uint p = gl_SubgroupInvocationID; p < half_dim; p += gl_SubgroupSize)
        v_pool[dst + p] = KV_ENCODE(src[v_base + p]);
    }
  }
}
#endif  // QKV_TEXELS
