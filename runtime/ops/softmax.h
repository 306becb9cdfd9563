// Row softmax in f32 (router probabilities, sampling): y = exp(x - max) / sum.
#pragma once

#include <cstdint>

#include "runtime/graph/graph.h"
#include "runtime/vk/context.h"

namespace vkmind::ops {

// x, y: [rows][n]; y may alias x. -inf entries become 0; an all -inf row
// becomes all 0.
void softmax(vk::Context& ctx, graph::Graph& g, const vk::BufferSlice& x, const vk::BufferSlice& y, uint32_t rows,
             uint32_t n);

}  // namespace vkmind::ops
