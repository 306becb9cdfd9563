#version 450
// Embedding gather: out[t][i] = dequant(W[ids[t]][i]), W is [vocab][dim].
// Ids are validated on the host (the runtime rejects ids >= vocab); the
// kernel only clamps them to vocab - 1 so a bad id can never read out of
// bounds. A table larger than maxStorageBufferRange is bound in row chunks,
// one dispatch each: a dispatch writes only the tokens whose (clamped) id
// falls in its rows [row_begin, row_begin + rows).
//
// One thread per output element; the grid may be 2-D (graph::linear_groups).
#define PUSH_Embedding
#include "push_constants.h"
#define WEIGHT_BINDING 0
#include "weights.glsl"

layout(local_size_x_id = 0) in;
// W in tiles (runtime/ops/weight_view.h) when TILE_ROWS > 0, as CPU devices
// keep a tied output head; row-major otherwise.
layout(constant_id = 1) const uint TILE_ROWS = 0;
layout(constant_id = 2) const uint TILE_COLS = 1;

layout(std430, binding = 1) readonly buffer Ids { uint ids[]; };
layout(std430, binding = 2) writeonly buffer Out { float result[]; };

void main() {
  uint i = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * gl_WorkGroupSize.x +
           gl_LocalInvocationID.x;
  if (i >= pc.tokens * pc.dim) return;
  uint t = i / pc.dim;
  uint k = i - t * pc.dim;
  uint id = min(ids[t], pc.vocab - 1);
  if (id < pc.row_begin || id - pc.row_begin >= pc.rows) return;
  const uint row = id - pc.row_begin;
  if (TILE_ROWS > 0) {
    const uint block = row - row % TILE_ROWS, block_rows = min(TILE_ROWS, pc.rows - block);
    result[i] = w_load1(pc.w_offset + block * pc.dim + (row - block) * TILE_COLS,
                        (k / TILE_COLS) * block_rows * TILE_COLS + k % TILE_COLS);
  } else {
    result[i] = w_load1(pc.w_offset + row * w_row_units(pc.dim), k);
  }
}
