#version 450
// GQA flash attention over the paged KV cache, causal, online softmax.
//
// One workgroup = one work item (x) x one kv head (y). A work item is BQ
// consecutive query tokens of one sequence and a key range [key_begin,
// key_end) of that sequence (runtime/ops/attention.h). Its R = BQ * N_REP
// query rows (row r = token r / N_REP, query head kvh * N_REP + r % N_REP)
// share the kv head, so each K/V tile is read from the pool once for all of
// them. Row r sees key position p only when p <= position of its token.
//
// Per tile of BK keys (four barriers, no more):
//   1. stage K and V (f32) in shared memory; the block of each key comes from
//      the block table (tiles need not align with blocks);
//   2. scores S = (scale * Q) K^T, R x BK entries, each split over TPE
//      invocations (TPE > 1 keeps every invocation busy when R * BK < WG);
//   3. one invocation per row: mask, new running max, rescale factor
//      alpha = exp(m_old - m_new), P = exp(S - m_new), running sum;
//   4. acc = acc * alpha + P V; each invocation owns NACC (row, dim) outputs.
// At the end an item either writes out = acc / l (slot == ~0u) or, for the
// flash-decoding split path (one query token per item, R = N_REP), the
// unnormalised partial (acc, m, l) of split slot `slot`; the workgroup whose
// split of the token arrives last then merges them all (attention_merge.glsl).
//
// The grid is sized for the largest batch at graph-build time; items past
// items[0] (this step's count) leave at once.
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_memory_scope_semantics : require
#define PUSH_Attention
#include "push_constants.h"
#define KV_K_BINDING 1
#define KV_V_BINDING 2
#define KV_ACCESS readonly
#include "kv_pool.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 64;
layout(constant_id = 1) const uint HD = 64;     // head_dim (even)
layout(constant_id = 2) const uint N_REP = 1;   // query heads per kv head
layout(constant_id = 3) const uint BQ = 1;      // query tokens per item
layout(constant_id = 4) const uint BK = 16;     // keys per shared-memory tile
layout(constant_id = 5) const uint BS = 16;     // KV block size
layout(constant_id = 6) const uint TPE = 1;     // invocations per score entry

const uint R = BQ * N_REP;
const uint HP = HD / 2;
const uint KS = HD + 1;  // odd K row stride: phase 2 reads columns without bank conflicts
const uint NACC = (R * HD + WG - 1) / WG;
const uint NO_SLOT = 0xFFFFFFFFu;
const float NEG = -1.0e30;  // "no key yet" max and the masked-score marker
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

shared float q_s[R * HD];
shared float k_s[BK * KS];
shared float v_s[BK * HD];
shared float s_s[R * BK * TPE];  // partial scores, then (compacted) probabilities
shared float m_s[R];
shared float l_s[R];
shared float alpha_s[R];
shared int limit_s[R];  // last key position the row may see; -1 for padding rows

void main() {
  const uint tid = gl_LocalInvocationID.x;
  const uint item = gl_WorkGroupID.x;
  if (item >= items[0]) return;  // uniform for the workgroup, before any barrier
  const uint kvh = gl_WorkGroupID.y;
  const uint w = HEADER_WORDS + item * ITEM_WORDS;
  const uint seq = items[w];
  const uint tok0 = items[w + 1];
  const uint ntok = items[w + 2];
  const uint key_begin = items[w + 3];
  const uint key_end = items[w + 4];
  const uint slot = items[w + 5];
  const uint table_row = seq * pc.max_blocks;

  // The query heads of a token that share this kv head are contiguous in q.
  for (uint i = tid; i < R * HD; i += WG) {
    const uint qi = i / (N_REP * HD);
    q_s[i] = qi < ntok ? q[(tok0 + qi) * pc.q_stride + kvh * N_REP * HD + i % (N_REP * HD)] * pc.scale : 0.0;
  }
  for (uint r = tid; r < R; r += WG) {
    const uint qi = r / N_REP;
    limit_s[r] = qi < ntok ? int(positions[tok0 + qi]) : -1;
    m_s[r] = NEG;
    l_s[r] = 0.0;
  }
  float acc[NACC];
  for (uint i = 0; i < NACC; ++i) acc[i] = 0.0;

  for (uint k0 = key_begin; k0 < key_end; k0 += BK) {
    // 1. Stage: consecutive invocations read consecutive pairs of a key row.
    for (uint e = tid; e < BK * HP; e += WG) {
      const uint j = e / HP;
      const uint dp = e % HP;
      const uint kp = k0 + j;
      vec2 kv = vec2(0.0), vv = vec2(0.0);
      if (kp < key_end) {
        const uint block = tables[table_row + kp / BS];
        const uint pair = ((block * pc.n_kv_heads + kvh) * BS + kp % BS) * HP + dp;
        kv = KV_DECODE(k_pool[pair]);
        vv = KV_DECODE(v_pool[pair]);
      }
      k_s[j * KS + 2 * dp] = kv.x;
      k_s[j * KS + 2 * dp + 1] = kv.y;
      v_s[j * HD + 2 * dp] = vv.x;
      v_s[j * HD + 2 * dp + 1] = vv.y;
    }
    barrier();

    // 2. Scores (the Q tile was written before the first barrier).
    for (uint e = tid; e < R * BK * TPE; e += WG) {
      const uint lane = e % TPE;
      const uint entry = e / TPE;
      const uint qrow = (entry / BK) * HD;
      const uint krow = (entry % BK) * KS;
      float s = 0.0;
      [[dont_unroll]] for (uint d = lane; d < HD; d += TPE) s += q_s[qrow + d] * k_s[krow + d];
      s_s[e] = s;
    }
    barrier();

    // 3. Online softmax, one invocation per row. Entry j is compacted from
    // s_s[(r*BK + j)*TPE ..] to s_s[r*BK*TPE + j]; in increasing j this never
    // overwrites an entry not yet read.
    for (uint r = tid; r < R; r += WG) {
      const uint base = r * BK * TPE;
      const int limit = limit_s[r];
      const float m_old = m_s[r];
      float m_new = m_old;
      for (uint j = 0; j < BK; ++j) {
        float s = 0.0;
        for (uint lane = 0; lane < TPE; ++lane) s += s_s[base + j * TPE + lane];
        const uint kp = k0 + j;
        s = (kp < key_end && int(kp) <= limit) ? s : NEG;
        s_s[base + j] = s;
        m_new = max(m_new, s);
      }
      const float alpha = exp(m_old - m_new);
      float sum = 0.0;
      for (uint j = 0; j < BK; ++j) {
        const float s = s_s[base + j];
        const float p = s <= NEG ? 0.0 : exp(s - m_new);
        s_s[base + j] = p;
        sum += p;
      }
      m_s[r] = m_new;
      l_s[r] = l_s[r] * alpha + sum;
      alpha_s[r] = alpha;
    }
    barrier();

    // 4. acc = acc * alpha + P V; consecutive invocations read consecutive dims.
    for (uint i = 0; i < NACC; ++i) {
      const uint o = tid + i * WG;
      if (o >= R * HD) break;
      const uint r = o / HD;
      const uint d = o % HD;
      const uint base = r * BK * TPE;
      float a = acc[i] * alpha_s[r];
      [[dont_unroll]] for (uint j = 0; j < BK; ++j) a += s_s[base + j] * v_s[j * HD + d];
      acc[i] = a;
    }
    barrier();  // the next tile overwrites k_s, v_s and s_s
  }

  for (uint i = 0; i < NACC; ++i) {
    const uint o = tid + i * WG;
    if (o >= R * HD) break;
    const uint r = o / HD;
    const uint d = o % HD;
    const uint qi = r / N_REP;
    if (qi >= ntok) continue;
    if (slot == NO_SLOT) {
      result[(tok0 + qi) * pc.out_stride + (kvh * N_REP + r % N_REP) * HD + d] = acc[i] / l_s[r];
    } else {
      const uint p = partial_offset(slot, kvh, r);
      part[p + d] = acc[i];
      if (d == 0) {
        part[p + HD] = m_s[r];
        part[p + HD + 1] = l_s[r];
      }
    }
  }

  if (slot == NO_SLOT) return;
  const uint splits = items[w + 7];
  if (!arrived_last(tok0 * pc.n_kv_heads + kvh, splits)) return;
  merge_partials(tok0, kvh, items[w + 6], splits, tid, WG);
}
