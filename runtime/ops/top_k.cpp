#include "runtime/ops/top_k.h"

#include <algorithm>
#include <string>

#include "runtime/ops/row_ops_util.h"
#include "shaders/push_constants.h"

namespace vkmind::ops {

namespace {

// Entries one subgroup cuts to kTopK per pass: a 151,936-entry row takes 3
// passes (149, then 10 chunks, then 1), a 6,400-entry one 2.
constexpr uint32_t kChunk = 1024;

uint32_t chunks_of(uint32_t n) { return (n + kChunk - 1) / kChunk; }

}  // namespace

uint64_t top_k_scratch_bytes(uint32_t rows, uint32_t n) {
  // Passes alternate between two halves: the first pass's output, and the second's.
  const uint32_t first = chunks_of(n);
  if (first <= 1) return 0;
  const uint32_t second = chunks_of(first * kTopK);
  return uint64_t(rows) * (first + (second > 1 ? second : 0)) * kTopK * sizeof(TopKPair);
}

void top_k(vk::Context& ctx, graph::Graph& g, const vk::BufferSlice& x, uint32_t rows, uint32_t n,
           uint32_t row_stride, const vk::BufferSlice& scratch, const vk::BufferSlice& out) {
  if (rows == 0) return;
  if (n == 0) throw Error("top_k: rows of 0 entries");
  if (row_stride < n) throw Error("top_k: a row stride of " + std::to_string(row_stride) + " under the row's " + std::to_string(n) + " entries");
  const auto& report = ctx.device().report();
  detail::require_subgroup_arithmetic(report, "top_k");
  if (rows > report.max_workgroup_count[1] || chunks_of(n) > report.max_workgroup_count[0]) {
    throw Error("top_k: " + std::to_string(rows) + " rows of " + std::to_string(n) +
                " entries exceed the device's workgroup counts");
  }
  const uint64_t x_bytes = (uint64_t(rows - 1) * row_stride + n) * 4;
  detail::require_bytes(x, x_bytes, "top_k", "x");
  detail::require_bytes(out, uint64_t(rows) * kTopK * sizeof(TopKPair), "top_k", "out");
  detail::require_bytes(scratch, top_k_scratch_bytes(rows, n), "top_k", "scratch");

  // One subgroup a workgroup (lavapipe: no barrier to pay; GPUs: small groups, many of them).
  const uint32_t wg = std::max<uint32_t>(report.subgroup_size, 1);
  const uint64_t first_half = uint64_t(rows) * chunks_of(n) * kTopK * sizeof(TopKPair);
  vk::BufferSlice input = x.sub(0, x_bytes);
  bool pairs = false;
  for (uint32_t pass = 0, entries = n;; ++pass) {
    const uint32_t chunks = chunks_of(entries);
    const uint64_t out_bytes = uint64_t(rows) * chunks * kTopK * sizeof(TopKPair);
    const vk::BufferSlice output =
        chunks == 1 ? out.sub(0, out_bytes) : pass % 2 == 0 ? scratch.sub(0, out_bytes) : scratch.sub(first_half, out_bytes);
    const auto& pipeline = ctx.pipeline({"top_k", 2, sizeof(push::TopK), {wg, kTopK, kChunk, uint32_t(pairs)}});
    g.dispatch(pipeline, {graph::reads(input), graph::writes(output)}, push::TopK{entries, row_stride, chunks},
               {chunks, rows, 1}, "top_k");
    if (chunks == 1) return;
    input = output;
    pairs = true;
    entries = chunks * kTopK;
  }
}

}  // namespace vkmind::ops
