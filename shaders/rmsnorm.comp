#version 450
// RMSNorm: y = x * inversesqrt(mean(x^2) + eps) * w, over rows of n floats,
// accumulated in f32. Variants (shaders/CMakeLists.txt):
//   (none)     one workgroup per row: hidden-size rows (hundreds to thousands).
//   RESIDUAL   fused residual add: residual += x, then y = norm(residual) * w,
//              saving a pass over the residual stream before each norm.
//   PER_HEAD   QK-norm: rows of head_dim (64..256) are too short to keep a
//              workgroup busy, so each subgroup takes one row (subgroupAdd only,
//              no barriers) and a workgroup ROWS rows.
// Row r is head r % heads of token r / heads and starts at element
// (r / heads) * token_stride + (r % heads) * n, so q/k inside a fused QKV
// buffer can be normalised in place (y may alias x: each invocation reads
// its own elements before writing them).
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

#define PUSH_RmsNorm
#include "push_constants.h"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 256;
// PER_HEAD: rows per workgroup. The host sizes it for the reported subgroup
// size; the loop below still covers every row when the device runs fewer
// subgroups per workgroup than that.
layout(constant_id = 1) const uint ROWS = 8;

#ifdef RESIDUAL
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) buffer Residual { float res[]; };
layout(std430, binding = 2) readonly buffer W { float w[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };
#else
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };
#endif

uint row_start(uint r) { return (r / pc.heads) * pc.token_stride + (r % pc.heads) * pc.n; }

#ifdef PER_HEAD

void main() {
  const uint group = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
  // The loop bound depends only on gl_SubgroupID: control flow stays uniform
  // within each subgroup, as subgroupAdd requires.
  for (uint lr = gl_SubgroupID; lr < ROWS; lr += gl_NumSubgroups) {
    const uint r = group * ROWS + lr;
    if (r >= pc.rows) break;
    const uint base = row_start(r);
    float ss = 0.0;
    for (uint i = gl_SubgroupInvocationID; i < pc.n; i += gl_SubgroupSize) {
      float v = x[base + i];
      ss += v * v;
    }
    const float scale = inversesqrt(subgroupAdd(ss) / float(pc.n) + pc.eps);
    for (uint i = gl_SubgroupInvocationID; i < pc.n; i += gl_SubgroupSize) y[base + i] = x[base + i] * scale * w[i];
  }
}

#else

#include "row_reduce.glsl"

void main() {
  const uint r = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
  if (r >= pc.rows) return;  // uniform over the workgroup
  const uint base = row_start(r);
  const uint tid = gl_LocalInvocationID.x;
  float ss = 0.0;
  // Pass 1 reads the row (and writes the sum back for RESIDUAL); pass 2 reads
  // it again, from cache: a row is at most tens of KiB.
  for (uint i = tid; i < pc.n; i += WG) {
#ifdef RESIDUAL
    float v = res[base + i] + x[base + i];
    res[base + i] = v;
#else
    float v = x[base + i];
#endif
    ss += v * v;
  }
  const float scale = inversesqrt(workgroup_sum(ss) / float(pc.n) + pc.eps);
  for (uint i = tid; i < pc.n; i += WG) {
#ifdef RESIDUAL
    // The same invocation wrote res[base + i] above: its own write is visible.
    y[base + i] = res[base + i] * scale * w[i];
#else
    y[base + i] = x[base + i] * scale * w[i];
#endif
  }
}

#endif
