#version 450
// The K largest entries of each row, largest first (ties: the lower index
// first), as (index, value) pairs: what sampling needs of a 151,936-entry
// vocabulary, so the host reads K pairs a row instead of every logit.
//
// One pass cuts each chunk of CHUNK entries of a row to its K best, so a row
// of n entries becomes ceil(n / CHUNK) * K pairs; the host repeats the pass
// over the pairs until one chunk is left (ops/top_k.cpp). A chunk is one
// subgroup's: lane l owns entries l, l + S, ... (S = gl_SubgroupSize). Each
// round takes the best of the lanes' bests (subgroupMax of the value, then
// subgroupMin of the index among the lanes holding it) and only the lane
// that gave it looks again, for its best entry ranking below the one it gave:
// a lane's entries leave in rank order, so nothing needs marking. Missing
// entries (a short chunk) come out as (0xffffffff, -inf), after every real
// one. NaN ranks as -inf and comes out as -inf.
//
// Grid: x = workgroups of gl_NumSubgroups chunks each, y = rows.
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

#define PUSH_TopK
#include "push_constants.h"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 32;
layout(constant_id = 1) const uint K = 64;
layout(constant_id = 2) const uint CHUNK = 1024;
layout(constant_id = 3) const bool PAIRS = false;  // input: pairs of an earlier pass, not raw values

layout(std430, binding = 0) readonly buffer Values { float values[]; };
layout(std430, binding = 0) readonly buffer InPairs { uvec2 in_pairs[]; };
layout(std430, binding = 1) writeonly buffer OutPairs { uvec2 out_pairs[]; };

const uint NONE = 0xffffffffu;

// Entry i (< pc.n) of row r: its index in the original row and its value.
void entry(uint r, uint i, out uint index, out float value) {
  if (PAIRS) {
    const uvec2 p = in_pairs[r * pc.n + i];
    index = p.x;
    value = uintBitsToFloat(p.y);
  } else {
    index = i;
    value = values[r * pc.row_stride + i];
  }
  if (isnan(value)) value = uintBitsToFloat(0xff800000u);
}

// Whether (v, i) ranks before (bv, bi).
bool before(float v, uint i, float bv, uint bi) { return v > bv || (v == bv && i < bi); }

void main() {
  const uint r = gl_WorkGroupID.y;
  const uint chunk = gl_WorkGroupID.x * gl_NumSubgroups + gl_SubgroupID;
  if (chunk >= pc.chunks) return;  // uniform over the subgroup
  // A workgroup smaller than the device's subgroups is one partial subgroup.
  const uint lane = gl_SubgroupInvocationID, S = min(gl_SubgroupSize, WG);
  const uint begin = chunk * CHUNK, end = min(begin + CHUNK, pc.n);
  const float neg_inf = uintBitsToFloat(0xff800000u);

  // The lane's best entry ranking after (last_v, last_i); NONE when it has no more.
  bool gave = false;
  float last_v = neg_inf;
  uint last_i = NONE;
  float best_v = neg_inf;
  uint best_i = NONE;
  for (uint round = 0; round < K; ++round) {
    if (round == 0 || gave) {
      best_v = neg_inf;
      best_i = NONE;
      for (uint e = begin + lane; e < end; e += S) {
        uint i;
        float v;
        entry(r, e, i, v);
        if ((round == 0 || before(last_v, last_i, v, i)) && before(v, i, best_v, best_i)) {
          best_v = v;
          best_i = i;
        }
      }
    }
    const float top_v = subgroupMax(best_v);
    const uint top_i = subgroupMin(best_v == top_v ? best_i : NONE);
    if (subgroupElect()) out_pairs[(r * pc.chunks + chunk) * K + round] = uvec2(top_i, floatBitsToUint(top_v));
    gave = best_i == top_i && top_i != NONE;
    if (gave) {
      last_v = best_v;
      last_i = best_i;
    }
  }
}
