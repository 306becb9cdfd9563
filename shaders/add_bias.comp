#version 450
// Adds a bias vector to every row (Qwen2's q/k/v projection biases).
#define PUSH_AddBias
#include "push_constants.h"

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Bias { float bias[]; };

void main() {
  uint i = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * gl_WorkGroupSize.x +
           gl_LocalInvocationID.x;
  if (i >= pc.rows * pc.cols) return;
  x[i] += bias[i % pc.cols];
}
