// Element-wise kernels on f32 vectors.
#pragma once

#include <cstdint>

#include "runtime/graph/graph.h"
#include "runtime/vk/context.h"

namespace vkmind::ops {

// out = a + b over n floats (residual connections). out may alias a.
void add(vk::Context& ctx, graph::Graph& g, const vk::BufferSlice& a, const vk::BufferSlice& b,
         const vk::BufferSlice& out, uint32_t n);

// dst [rows][cols] = columns [src_offset, src_offset+cols) of src [rows][src_stride].
void copy_columns(vk::Context& ctx, graph::Graph& g, const vk::BufferSlice& src, uint32_t src_stride,
                  uint32_t src_offset, const vk::BufferSlice& dst, uint32_t rows, uint32_t cols);

// x [rows][cols] += bias [cols] for every row.
void add_bias(vk::Context& ctx, graph::Graph& g, const vk::BufferSlice& x, const vk::BufferSlice& bias,
              uint32_t rows, uint32_t cols);

}  // namespace vkmind::ops
