#version 450
// Flash-decoding split items (one query token each) for devices whose
// workgroup is one subgroup: one subgroup per (item, kv head), no shared
// memory in the key loop and no barrier but the two of the final merge
// (attention_merge.glsl), run only by splits of a token with several. The
// host picks it on CPU devices (lavapipe), where attention.comp's
// shared-memory tiles are read lane by lane and its barriers are coroutine
// switches; attention.comp stays the kernel for GPUs and for prefill tiles.
// Items, bindings, push constants and the partial-result layout are
// attention.comp's (runtime/ops/attention.h).
//
// Lane l owns the head-dim pairs l, l + WG, l + 2 WG, ... of every query row
// and of each key/value: per key, each lane multiplies its pairs, subgroupAdd
// completes the score (the same value in every lane), and the online softmax
// (running max m, sum l, rescale alpha) runs redundantly per lane on that
// uniform score while each lane updates only its own accumulator pairs.
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_KHR_memory_scope_semantics : require
#define PUSH_Attention
#include "push_constants.h"
#define KV_K_BINDING 1
#define KV_V_BINDING 2
#define KV_ACCESS readonly
#include "kv_pool.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 8;     // = the subgroup size (the host guarantees one subgroup)
layout(constant_id = 1) const uint HD = 64;    // head_dim (even)
layout(constant_id = 2) const uint N_REP = 1;  // query heads per kv head = rows
layout(constant_id = 3) const uint BS = 16;    // KV block size

const uint HP = HD / 2;
const uint PPL = (HP + WG - 1) / WG;  // pairs per lane
const uint NO_SLOT = 0xFFFFFFFFu;
const float NEG = -1.0e30;  // as attention.comp: "no key yet"
const uint ITEM_WORDS = 8;
const uint HEADER_WORDS = 4;

layout(std430, binding = 0) readonly buffer Q { float q[]; };
layout(std430, binding = 3) readonly buffer Tables { uint tables[]; };
layout(std430, binding = 4) readonly buffer Positions { uint positions[]; };
layout(std430, binding = 5) readonly buffer Items { uint items[]; };
layout(std430, binding = 6) writeonly buffer Out { float result[]; };
layout(std430, binding = 7) coherent buffer Part { float part[]; };
layout(std430, binding = 8) buffer Arrivals { uint arrivals[]; };
#include "attention_merge.glsl"

void main() {
  const uint lane = gl_LocalInvocationID.x;
  const uint item = gl_WorkGroupID.x;
  if (item >= items[0]) return;
  const uint kvh = gl_WorkGroupID.y;
  const uint w = HEADER_WORDS + item * ITEM_WORDS;
  const uint seq = items[w];
  const uint tok = items[w + 1];
  const uint key_begin = items[w + 3];
  // Causal: the token sees positions up to its own.
  const uint key_end = min(items[w + 4], positions[tok] + 1);
  const uint slot = items[w + 5];
  const uint table_row = seq * pc.max_blocks;

  vec2 qv[N_REP * PPL];
  vec2 acc[N_REP * PPL];
  float m[N_REP];
  float l[N_REP];
  const uint q_base = tok * pc.q_stride + kvh * N_REP * HD;
  for (uint r = 0; r < N_REP; ++r) {
    for (uint i = 0; i < PPL; ++i) {
      const uint p = lane + i * WG;
      const uint e = q_base + r * HD + 2 * p;
      qv[r * PPL + i] = p < HP ? vec2(q[e], q[e + 1]) * pc.scale : vec2(0.0);
      acc[r * PPL + i] = vec2(0.0);
    }
    m[r] = NEG;
    l[r] = 0.0;
  }

  for (uint kp = key_begin; kp < key_end; ++kp) {
    const uint block = tables[table_row + kp / BS];
    const uint row = ((block * pc.n_kv_heads + kvh) * BS + kp % BS) * HP;
    vec2 kk[PPL], vv[PPL];
    for (uint i = 0; i < PPL; ++i) {
      const uint p = lane + i * WG;
      kk[i] = p < HP ? KV_DECODE(k_pool[row + p]) : vec2(0.0);
      vv[i] = p < HP ? KV_DECODE(v_pool[row + p]) : vec2(0.0);
    }
    for (uint r = 0; r < N_REP; ++r) {
      float s = 0.0;
      for (uint i = 0; i < PPL; ++i) s += dot(qv[r * PPL + i], kk[i]);
      s = subgroupAdd(s);
      const float m_new = max(m[r], s);
      const float alpha = exp(m[r] - m_new);
      const float p = exp(s - m_new);
      l[r] = l[r] * alpha + p;
      m[r] = m_new;
      for (uint i = 0; i < PPL; ++i) acc[r * PPL + i] = acc[r * PPL + i] * alpha + p * vv[i];
    }
  }

  for (uint r = 0; r < N_REP; ++r) {
    for (uint i = 0; i < PPL; ++i) {
      const uint p = lane + i * WG;
      if (p >= HP) break;
      const vec2 a = acc[r * PPL + i];
      if (slot == NO_SLOT) {
        const uint o = tok * pc.out_stride + (kvh * N_REP + r) * HD + 2 * p;
        result[o] = a.x / l[r];
        result[o + 1] = a.y / l[r];
      } else {
        const uint o = partial_offset(slot, kvh, r);
        part[o + 2 * p] = a.x;
        part[o + 2 * p + 1] = a.y;
        if (p == 0) {
          part[o + HD] = m[r];
          part[o + HD + 1] = l[r];
        }
      }
    }
  }

  if (slot == NO_SLOT) return;
  const uint splits = items[w + 7];
  if (!arrived_last(tok * pc.n_kv_heads + kvh, splits)) return;
  merge_partials(tok, kvh, items[w + 6], splits, lane, WG);
}
