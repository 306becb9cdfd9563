#version 450
// Rotary position embedding, in place on q [tokens][n_heads][head_dim] and
// k [tokens][n_kv_heads][head_dim] (rows head_dim apart, tokens q_stride and
// k_stride floats apart) in one dispatch: one invocation per rotated pair.
// Pair i (i < head_dim/2) turns by angle pos[t] * inv_freq[i]:
//   NEOX  elements (i, i + head_dim/2): x' = x*cos + rotate_half(x)*sin
//   GPTJ  elements (2i, 2i + 1)
//   (a, b) -> (a*cos - b*sin, a*sin + b*cos), cos and sin times attention_factor.
// inv_freq (YaRN already applied) comes from the host (ops::rope_inv_freq).
// The angle is the f32 product pos * inv_freq, as in HF's f32 cos/sin cache.
#define PUSH_Rope
#include "push_constants.h"

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) buffer Q { float q[]; };
layout(std430, binding = 1) buffer K { float k[]; };
layout(std430, binding = 2) readonly buffer Positions { int positions[]; };
layout(std430, binding = 3) readonly buffer InvFreq { float inv_freq[]; };

#include "rope_angle.glsl"

void main() {
  const uint half_dim = pc.head_dim / 2;
  const uint heads = pc.n_heads + pc.n_kv_heads;
  const uint idx = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * gl_WorkGroupSize.x +
                   gl_LocalInvocationID.x;
  if (idx >= pc.tokens * heads * half_dim) return;
  const uint i = idx % half_dim;
  const uint th = idx / half_dim;
  const uint h = th % heads;
  const uint t = th / heads;

  // precise: the angle is the rounded f32 product (no fusing into the reduction).
  precise float angle = float(positions[t]) * inv_freq[i];
  const vec2 cs = cos_sin(angle) * pc.attention_factor;
#ifdef NEOX
  const uint e0 = i, e1 = i + half_dim;
#else
  const uint e0 = 2 * i, e1 = 2 * i + 1;
#endif
  if (h < pc.n_heads) {
    const uint base = t * pc.q_stride + h * pc.head_dim;
    const float a = q[base + e0], b = q[base + e1];
    q[base + e0] = a * cs.x - b * cs.y;
    q[base + e1] = a * cs.y + b * cs.x;
  } else {
    const uint base = t * pc.k_stride + (h - pc.n_heads) * pc.head_dim;
    const float a = k[base + e0], b = k[base + e1];
    k[base + e0] = a * cs.x - b * cs.y;
    k[base + e1] = a * cs.y + b * cs.x;
  }
}
