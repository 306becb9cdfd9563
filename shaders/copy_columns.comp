#version 450
// Copies a column band of a row-major matrix into a dense matrix: splits the
// fused QKV projection output into q, k and v for the kernels that follow.
#define PUSH_CopyColumns
#include "push_constants.h"

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer Src { float src[]; };
layout(std430, binding = 1) writeonly buffer Dst { float dst[]; };

void main() {
  uint i = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * gl_WorkGroupSize.x +
           gl_LocalInvocationID.x;
  if (i >= pc.rows * pc.cols) return;
  uint t = i / pc.cols;
  uint j = i - t * pc.cols;
  dst[i] = src[t * pc.src_stride + pc.src_offset + j];
}
