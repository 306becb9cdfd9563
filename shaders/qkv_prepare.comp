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

#define PUSH_QkvPrepare
#include "push_constants.h"
#define KV_K_BINDING 7
#define KV_V_BINDING 8
#define KV_ACCESS writeonly
#include "kv_pool.glsl"
#include "rope_angle.glsl"

layout(local_size_x_id = 0) in;
// Rows per workgroup; the loop in main() still covers every row when the
// device runs fewer subgroups per workgroup than the host assumed.
layout(constant_id = 1) const uint ROWS = 8;
layout(constant_id = 2) const bool NEOX = true;
layout(constant_id = 3) const bool QK_NORM = false;

// Bindings 0 and 1 are the same qkv rows: the q band is written in place
// through 0; k and v are only read, through 1. Everything moves as vec2
// (token_stride and the band offsets are even).
layout(std430, binding = 0) buffer Q { vec2 q[]; };
layout(std430, binding = 1) readonly buffer Qkv { vec2 src[]; };
layout(std430, binding = 2) readonly buffer Positions { int positions[]; };
layout(std430, binding = 3) readonly buffer InvFreq { vec2 inv_freq[]; };
layout(std430, binding = 4) readonly buffer QNorm { vec2 q_norm[]; };
layout(std430, binding = 5) readonly buffer KNorm { vec2 k_norm[]; };
layout(std430, binding = 6) readonly buffer Slots { uint slot_mapping[]; };

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
