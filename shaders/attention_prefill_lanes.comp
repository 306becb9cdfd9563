#version 450
// Causal prefill attention for CPU devices (lavapipe, where the host sizes the
// workgroup to one subgroup, one SIMD vector). One workgroup per (tile item,
// kv head); a tile holds up to WG consecutive tokens of one sequence and
// invocation l is its token l: every invocation runs its own online softmax
// over the keys, so nothing crosses lanes (on lavapipe every cross-lane
// operation is a scalar loop over the lanes).
// All lanes read the same key and value row at a time, and a lane masks the
// keys past its own position. Tokens past the tile's count repeat its last
// token and are not stored.
//
// Items, bindings and push constants are attention.comp's
// (runtime/ops/attention.h); tile items are {seq, first token, tokens, first
// key, key end, NO_SLOT, 0, 0}. Rows are read in chunks (attention_chunks.glsl).
#define PUSH_Attention
#include "push_constants.h"
#define KV_K_BINDING 1
#define KV_V_BINDING 2
#define KV_ACCESS readonly
#include "attention_chunks.glsl"
// Every loop over chunks and query rows is unrolled: lavapipe keeps a local
// array indexed by a loop counter in memory and writes it lane by lane.
#extension GL_EXT_control_flow_attributes : require

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 8;     // tokens per tile, one per invocation
layout(constant_id = 1) const uint HD = 64;    // head_dim (even)
layout(constant_id = 2) const uint N_REP = 1;  // query heads per kv head
layout(constant_id = 3) const uint BS = 16;    // KV block size

const uint CPR = HD / CH;  // chunks per row
const float NEG = -1.0e30;  // as attention.comp: "no key yet"
const uint ITEM_WORDS = 8;
const uint HEADER_WORDS = 4;

layout(std430, binding = 0) readonly buffer Q { float q[]; };
layout(std430, binding = 3) readonly buffer Tables { uint tables[]; };
layout(std430, binding = 4) readonly buffer Positions { uint positions[]; };
layout(std430, binding = 5) readonly buffer Items { uint items[]; };
layout(std430, binding = 6) writeonly buffer Out { float result[]; };

void main() {
  const uint lane = gl_LocalInvocationID.x;
  const uint item = gl_WorkGroupID.x;
  if (item >= items[0]) return;
  const uint kvh = gl_WorkGroupID.y;
  const uint w = HEADER_WORDS + item * ITEM_WORDS;
  const uint seq = items[w];
  const uint tok0 = items[w + 1];
  const uint ntok = items[w + 2];
  const uint key_begin = items[w + 3];
  const uint key_end = items[w + 4];
  const uint table_row = seq * pc.max_blocks;
  const uint tok = tok0 + min(lane, ntok - 1);
  const uint last_key = positions[tok];  // causal: this lane sees keys up to its own position

  CHUNK qv[N_REP * CPR];
  CHUNK acc[N_REP * CPR];
  float m[N_REP];
  float l[N_REP];
  const uint q_base = tok * pc.q_stride + kvh * N_REP * HD;
  [[unroll]] for (uint r = 0; r < N_REP; ++r) {
    [[unroll]] for (uint c = 0; c < CPR; ++c) {
      qv[r * CPR + c] = Q_CHUNK(q, q_base + r * HD + c * CH) * pc.scale;
      acc[r * CPR + c] = CHUNK(0.0);
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
      const bool seen = kp <= last_key;
      CHUNK kk[CPR];
      [[unroll]] for (uint c = 0; c < CPR; ++c) kk[c] = k_chunk(row, c);
      float p[N_REP];
      [[unroll]] for (uint r = 0; r < N_REP; ++r) {
        float s = 0.0;
        [[unroll]] for (uint c = 0; c < CPR; ++c) s += chunk_dot(qv[r * CPR + c], kk[c]);
        // A key past this lane's position leaves its state as it was.
        const float m_new = seen ? max(m[r], s) : m[r];
        const float alpha = exp(m[r] - m_new);
        p[r] = seen ? exp(s - m_new) : 0.0;
        l[r] = l[r] * alpha + p[r];
        m[r] = m_new;
        [[unroll]] for (uint c = 0; c < CPR; ++c) acc[r * CPR + c] *= alpha;
      }
      [[unroll]] for (uint c = 0; c < CPR; ++c) {
        const CHUNK vv = v_chunk(row, c);
        [[unroll]] for (uint r = 0; r < N_REP; ++r) acc[r * CPR + c] += vv * p[r];
      }
    }
    kb = block_end;
  }

  if (lane >= ntok) return;
  [[unroll]] for (uint r = 0; r < N_REP; ++r) {
    const uint o = tok * pc.out_stride + (kvh * N_REP + r) * HD;
    [[unroll]] for (uint c = 0; c < CPR; ++c) {
      [[unroll]] for (uint j = 0; j < CH; ++j) result[o + c * CH + j] = chunk_at(acc[r * CPR + c], j) / l[r];
    }
  }
}
