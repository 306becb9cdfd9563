// Embedding gather: out[t][:] = dequant(table[ids[t]][:]) for a table of any
// stored type (any with a kernel: weight_view.h), f32 output.
#pragma once

#include <cstdint>

#include "runtime/graph/graph.h"
#include "runtime/ops/weight_view.h"
#include "runtime/vk/context.h"

namespace vkmind::ops {

// table: [vocab = rows][dim = cols]; ids: n_tokens u32; out: n_tokens x dim floats.
// Ids must be < vocab: the runtime checks them on the host. The kernel only
// clamps them (an out-of-range id reads row vocab - 1), so a bad id never
// reads out of bounds. Tables over maxStorageBufferRange are bound in row
// chunks, one dispatch each.
void embedding(vk::Context& ctx, graph::Graph& g, const WeightView& table, const vk::BufferSlice& ids,
               const vk::BufferSlice& out, uint32_t n_tokens);

}  // namespace vkmind::ops
