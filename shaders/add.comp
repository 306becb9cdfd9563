#version 450
// Element-wise add: out = a + b (residual connections).
#define PUSH_Add
#include "push_constants.h"

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) writeonly buffer Out { float result[]; };

void main() {
  // Grid may be 2-D when n exceeds the per-dimension workgroup-count limit.
  uint i = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * gl_WorkGroupSize.x +
           gl_LocalInvocationID.x;
  if (i < pc.n) result[i] = a[i] + b[i];
}
