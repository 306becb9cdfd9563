#version 450
// SwiGLU activation: out[t][j] = silu(gate[t][j]) * up[t][j], silu(g) = g / (1 + exp(-g)).
// gate and up are read through (stride, offset) so both may be halves of one
// fused [tokens][2 * n] gate|up matmul output (same buffer bound twice).
// For very negative g, exp(-g) overflows to +inf and silu -> -0, its limit.
#define PUSH_Swiglu
#include "push_constants.h"

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer Gate { float gate[]; };
layout(std430, binding = 1) readonly buffer Up { float up[]; };
layout(std430, binding = 2) writeonly buffer Out { float result[]; };

void main() {
  // Grid may be 2-D when tokens * n exceeds the per-dimension workgroup-count limit.
  const uint i = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * gl_WorkGroupSize.x +
                 gl_LocalInvocationID.x;
  if (i >= pc.tokens * pc.n) return;
  const uint t = i / pc.n;
  const uint j = i - t * pc.n;
  const float g = gate[t * pc.gate_stride + pc.gate_offset + j];
  result[i] = g / (1.0 + exp(-g)) * up[t * pc.up_stride + pc.up_offset + j];
}
