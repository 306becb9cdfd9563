#version 450
// Mixture of experts, the weighted scatter-add of the selected experts'
// outputs back to their tokens:
//   out[t][i] = (accumulate ? out[t][i] : 0) + sum_s weights[t*k + s] * y[(t*k + s)][i]
// Token t owns rows t*k .. t*k+k-1 of y, so every output element has exactly
// one writer and no atomics are needed. `accumulate` adds onto what is there
// (the shared experts' output).
#define PUSH_MoeCombine
#include "push_constants.h"

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer Y { float y[]; };
layout(std430, binding = 1) readonly buffer Weights { float weights[]; };
layout(std430, binding = 2) buffer Out { float result[]; };

void main() {
  const uint i = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * gl_WorkGroupSize.x +
                 gl_LocalInvocationID.x;
  if (i >= pc.tokens * pc.dim) return;
  const uint t = i / pc.dim;
  const uint j = i - t * pc.dim;
  float sum = 0.0;
  for (uint s = 0; s < pc.top_k; ++s) {
    const uint pair = t * pc.top_k + s;
    sum += weights[pair] * y[pair * pc.dim + j];
  }
  result[i] = pc.accumulate != 0 ? result[i] + sum : sum;
}
