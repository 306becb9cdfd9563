// Element-wise kernels on f32 vectors.
#pragma once

#include <cstdint>

#include "runtime/graph/graph.h"
#include "runtime/vk/context.h"

namespace vkmind::ops {

// out = a + b over n floats (residual connections). out may alias a.
void add(vk::Context& ctx, graph::Graph& g, const vk::BufferSlice& a, const vk::BufferSlice& b,
         const vk::BufferSlice& out, uint32_t n);

}  // namespace vkmind::ops
