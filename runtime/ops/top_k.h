// The largest entries of rows on the device (top_k.comp): sampling reads
// kTopK (index, logit) pairs a row instead of the whole vocabulary.
#pragma once

#include <cstdint>

#include "runtime/graph/graph.h"
#include "runtime/vk/context.h"

namespace vkmind::ops {

inline constexpr uint32_t kTopK = 64;

// One candidate as the device writes it.
struct TopKPair {
  uint32_t index;  // 0xffffffff: padding (a row of fewer than kTopK entries)
  float value;
};
static_assert(sizeof(TopKPair) == 8);

// Bytes of scratch top_k() needs for rows of n entries (0: one pass does).
uint64_t top_k_scratch_bytes(uint32_t rows, uint32_t n);

// out: [rows][kTopK] pairs, the largest value first (ties: the lower index
// first); rows of fewer than kTopK entries end in (0xffffffff, -inf) pairs.
// NaN ranks and comes out as -inf. x: rows of n floats, row_stride floats
// apart. scratch: top_k_scratch_bytes(rows, n) bytes.
void top_k(vk::Context& ctx, graph::Graph& g, const vk::BufferSlice& x, uint32_t rows, uint32_t n,
           uint32_t row_stride, const vk::BufferSlice& scratch, const vk::BufferSlice& out);

}  // namespace vkmind::ops
