#version 450
// Row softmax in f32, numerically stable: y = exp(x - max) / sum(exp(x - max)).
// One workgroup per row. Pass 1 keeps an online (max, sum) per invocation,
// so the row is read twice rather than three times (max, sum, write); the
// states merge in row_reduce.glsl. -inf entries (masks) give 0; a row that
// is all -inf gives all 0 rather than NaN. y may alias x.
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

#define PUSH_Softmax
#include "push_constants.h"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 256;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };

#include "row_reduce.glsl"

void main() {
  const uint r = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
  if (r >= pc.rows) return;  // uniform over the workgroup
  const float neg_inf = uintBitsToFloat(0xff800000u);
  const uint base = r * pc.n;
  const uint tid = gl_LocalInvocationID.x;

  float m = neg_inf, s = 0.0;
  for (uint i = tid; i < pc.n; i += WG) {
    float v = x[base + i];
    if (v > m) {
      // A new maximum rescales what was summed so far (s = 0 while m = -inf).
      s = s * exp(m - v) + 1.0;
      m = v;
    } else if (v != neg_inf) {
      s += exp(v - m);
    }
  }
  const vec2 ms = workgroup_max_sum(m, s, neg_inf);
  const float inv_sum = ms.y > 0.0 ? 1.0 / ms.y : 0.0;
  for (uint i = tid; i < pc.n; i += WG) {
    float v = x[base + i];
    y[base + i] = v == neg_inf ? 0.0 : exp(v - ms.x) * inv_sum;
  }
}
