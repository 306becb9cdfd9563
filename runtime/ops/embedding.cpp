#include "runtime/ops/embedding.h"

#include <algorithm>
#include <string>

#include "runtime/vk/error.h"
#include "shaders/push_constants.h"

namespace vkmind::ops {

namespace {
constexpr uint32_t kWorkgroup = 256;
}  // namespace

void embedding(vk::Context& ctx, graph::Graph& g, const WeightView& table, const vk::BufferSlice& ids,
               const vk::BufferSlice& out, uint32_t n_tokens) {
  check_weight(table, "embedding");
  if (n_tokens == 0) return;
  const uint64_t out_bytes = uint64_t(n_tokens) * table.cols * 4;
  if (ids.size < uint64_t(n_tokens) * 4) throw Error("embedding: ids holds fewer than n_tokens ids");
  if (out.size < out_bytes) throw Error("embedding: out holds " + std::to_string(out.size) + " bytes, needs " +
                                        std::to_string(out_bytes));
  const vk::BufferSlice ids_used = ids.sub(0, uint64_t(n_tokens) * 4);
  const vk::BufferSlice out_used = out.sub(0, out_bytes);
  const std::string kernel = std::string("embedding_") + weight_kernel_suffix(table.type);
  const auto& pipeline =
      ctx.pipeline({kernel, 3, sizeof(push::Embedding), {kWorkgroup, table.tile_rows, std::max(table.tile_cols, 1u)}});
  const auto groups = graph::linear_groups(ctx.device(), (out_bytes / 4 + kWorkgroup - 1) / kWorkgroup);
  // Each chunk writes only the tokens whose id it holds, so together they write every token.
  for (const WeightChunk& chunk : weight_chunks(ctx.device(), table, 0, table.rows)) {
    push::Embedding pc{n_tokens, table.cols, table.rows, chunk.row_begin, chunk.rows, chunk.unit_offset};
    g.dispatch(pipeline, {graph::reads(chunk.binding), graph::reads(ids_used), graph::writes(out_used)}, pc, groups,
               kernel);
  }
}

}  // namespace vkmind::ops
