#version 450
// Flash-decoding merge: combines the partial results (acc, m, l) that the
// splits of one decode token wrote (attention.comp, one query token per item,
// so partial row = slot * n_heads + head) into
//   out = sum_s acc_s e^(m_s - M) / sum_s l_s e^(m_s - M),  M = max_s m_s.
// One workgroup per (entry, query head); invocations stride over head_dim.
// Entries: entries[0] = count; entry e at 4 + 4e: token, first slot, slots.
#define PUSH_AttentionMerge
#include "push_constants.h"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 64;
layout(constant_id = 1) const uint HD = 64;

layout(std430, binding = 0) readonly buffer Part { float part[]; };
layout(std430, binding = 1) readonly buffer Entries { uint entries[]; };
layout(std430, binding = 2) writeonly buffer Out { float result[]; };

void main() {
  const uint e = gl_WorkGroupID.x;
  if (e >= entries[0]) return;
  const uint head = gl_WorkGroupID.y;
  const uint tok = entries[4 + 4 * e];
  const uint first = entries[4 + 4 * e + 1];
  const uint n = entries[4 + 4 * e + 2];
  const uint stride = pc.n_heads * (HD + 2);
  const uint base = first * stride + head * (HD + 2);

  float m = -1.0e30;
  for (uint s = 0; s < n; ++s) m = max(m, part[base + s * stride + HD]);
  float l = 0.0;
  for (uint s = 0; s < n; ++s) l += part[base + s * stride + HD + 1] * exp(part[base + s * stride + HD] - m);
  const float inv_l = 1.0 / l;
  for (uint d = gl_LocalInvocationID.x; d < HD; d += WG) {
    float o = 0.0;
    for (uint s = 0; s < n; ++s) o += part[base + s * stride + d] * exp(part[base + s * stride + HD] - m);
    result[tok * pc.out_stride + head * HD + d] = o * inv_l;
  }
}
