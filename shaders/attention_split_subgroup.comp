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
// Rows are read in chunks (attention_chunks.glsl: one texel or one pair).
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_KHR_memory_scope_semantics : require
#define PUSH_Attention
#include "push_constants.h"
#define KV_K_BINDING 1
#define KV_V_BINDING 2
#define KV_ACCESS readonly
#include "attention_chunks.glsl"
// Loops over a lane's chunks and query rows are unrolled: lavapipe keeps a
// local array indexed by a loop counter in memory and writes it lane by lane.
#extension GL_EXT_control_flow_attributes : require

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 8;     // = the subgroup size (the host guarantees one subgroup)
layout(constant_id = 1) const uint HD = 64;    // head_dim (even)
layout(constant_id = 2) const uint N_REP = 1;  // query heads per kv head = rows
layout(constant_id = 3) const uint BS = 16;    // KV block size

const uint CPR = HD / CH;               // chunks per row
const uint CPL = (CPR + WG - 1) / WG;  // chunks per lane
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

  // Lane `lane` owns chunks lane, lane + WG, ... of every row; chunks past
  // the row (c >= CPR) hold zeros in q, so they add nothing to the scores.
  CHUNK qv[N_REP * CPL];
  CHUNK acc[N_REP * CPL];
  float m[N_REP];
  float l[N_REP];
  const uint q_base = tok * pc.q_stride + kvh * N_REP * HD;
  [[unroll]] for (uint r = 0; r < N_REP; ++r) {
    [[unroll]] for (uint i = 0; i < CPL; ++i) {
      const uint c = lane + i * WG;
      const uint e = q_base + r * HD + c * CH;
      qv[r * CPL + i] = c < CPR ? Q_CHUNK(q, e) * pc.scale : CHUNK(0.0);
      acc[r * CPL + i] = CHUNK(0.0);
    }
    m[r] = NEG;
    l[r] = 0.0;
  }

  // One block-table read per block of keys, not per key: on lavapipe a
  // storage-buffer load is a loop over the lanes, through the stack.
  for (uint kb = key_begin; kb < key_end;) {
    const uint block = tables[table_row + kb / BS];
    const uint block_end = min(key_end, (kb / BS + 1) * BS);
    for (uint kp = kb; kp < block_end; ++kp) {
      const uint row = ((block * pc.n_kv_heads + kvh) * BS + kp % BS) * HD;  // its first element
      CHUNK kk[CPL], vv[CPL];
      [[unroll]] for (uint i = 0; i < CPL; ++i) {
        // Past the row: some chunk in bounds, multiplied by a zero q (and not stored).
        const uint c = min(lane + i * WG, CPR - 1);
        kk[i] = k_chunk(row, c);
        vv[i] = v_chunk(row, c);
      }
      [[unroll]] for (uint r = 0; r < N_REP; ++r) {
        float s = 0.0;
        [[unroll]] for (uint i = 0; i < CPL; ++i) s += chunk_dot(qv[r * CPL + i], kk[i]);
        s = subgroupAdd(s);
        const float m_new = max(m[r], s);
        const float alpha = exp(m[r] - m_new);
        const float p = exp(s - m_new);
        l[r] = l[r] * alpha + p;
        m[r] = m_new;
        [[unroll]] for (uint i = 0; i < CPL; ++i) acc[r * CPL + i] = acc[r * CPL + i] * alpha + vv[i] * p;
      }
    }
    kb = block_end;
  }

  [[unroll]] for (uint r = 0; r < N_REP; ++r) {
    [[unroll]] for (uint i = 0; i < CPL; ++i) {
      const uint c = lane + i * WG;
      if (c >= CPR) continue;
      const CHUNK a = acc[r * CPL + i];
      if (slot == NO_SLOT) {
        const uint o = tok * pc.out_stride + (kvh * N_REP + r) * HD + c * CH;
        [[unroll]] for (uint j = 0; j < CH; ++j) result[o + j] = chunk_at(a, j) / l[r];
      } else {
        const uint o = partial_offset(slot, kvh, r);
        [[unroll]] for (uint j = 0; j < CH; ++j) part[o + c * CH + j] = chunk_at(a, j);
        if (c == 0) {
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
