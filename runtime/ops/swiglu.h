// SwiGLU activation of the FFN: out = silu(gate) * up, silu(g) = g / (1 + exp(-g)).
#pragma once

#include <cstdint>

#include "runtime/graph/graph.h"
#include "runtime/vk/context.h"

namespace vkmind::ops {

// gate, up, out: [tokens][n], separate buffers. out may alias gate or up.
void swiglu(vk::Context& ctx, graph::Graph& g, const vk::BufferSlice& gate, const vk::BufferSlice& up,
            const vk::BufferSlice& out, uint32_t tokens, uint32_t n);

// gate_up: [tokens][2n], the output of one matmul with the gate rows then the
// up rows: gate = columns [0, n), up = columns [n, 2n). out: [tokens][n]
// (must not alias gate_up: row t of out would overwrite row t/2 of the input
// while other workgroups still read it).
void swiglu_fused(vk::Context& ctx, graph::Graph& g, const vk::BufferSlice& gate_up, const vk::BufferSlice& out,
                  uint32_t tokens, uint32_t n);

}  // namespace vkmind::ops
