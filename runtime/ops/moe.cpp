#include "runtime/ops/moe.h"

#include <algorithm>
#include <string>

#include "runtime/ops/matmul.h"
#include "runtime/ops/row_ops_util.h"
#include "shaders/push_constants.h"

namespace vkmind::ops {

namespace {

constexpr uint32_t kElementWorkgroup = 256;  // combine: one invocation per output float
constexpr uint32_t kRouterWorkgroup = 64;    // router: one invocation per token

}  // namespace

void moe_router(vk::Context& ctx, graph::Graph& g, const vk::BufferSlice& logits, const vk::BufferSlice& ids,
                const vk::BufferSlice& weights, uint32_t tokens, uint32_t n_experts, uint32_t top_k,
                bool renormalize) {
  if (tokens == 0) return;
  if (n_experts == 0 || top_k == 0 || top_k > n_experts) {
    throw Error("moe_router: top_k " + std::to_string(top_k) + " must be in 1.." + std::to_string(n_experts));
  }
  const uint64_t logit_bytes = uint64_t(tokens) * n_experts * 4, pick_bytes = uint64_t(tokens) * top_k * 4;
  detail::require_bytes(logits, logit_bytes, "moe_router", "logits");
  detail::require_bytes(ids, pick_bytes, "moe_router", "ids");
  detail::require_bytes(weights, pick_bytes, "moe_router", "weights");
  const auto& pipeline = ctx.pipeline({"moe_router", 3, sizeof(push::MoeRouter), {kRouterWorkgroup}});
  g.dispatch(pipeline,
             {graph::reads(logits.sub(0, logit_bytes)), graph::writes(ids.sub(0, pick_bytes)),
              graph::updates(weights.sub(0, pick_bytes))},
             push::MoeRouter{tokens, n_experts, top_k, renormalize ? 1u : 0u},
             graph::linear_groups(ctx.device(), (tokens + kRouterWorkgroup - 1) / kRouterWorkgroup), "moe_router");
}

void gather_matmul(vk::Context& ctx, graph::Graph& g, const WeightView& w, uint32_t n_experts,
                   const vk::BufferSlice& x, const vk::BufferSlice& ids, const vk::BufferSlice& y, uint32_t pairs,
                   uint32_t x_div, uint32_t y_stride, uint64_t max_binding_bytes) {
  check_weight(w, "gather_matmul");
  if (pairs == 0) return;
  if (n_experts == 0 || w.rows % n_experts != 0) {
    throw Error("gather_matmul: " + std::to_string(w.rows) + " rows do not split into " + std::to_string(n_experts) +
                " experts");
  }
  if (x_div == 0) throw Error("gather_matmul: x_div must be positive");
  const vk::DeviceReport& report = ctx.device().report();
  detail::require_subgroup_arithmetic(report, "gather_matmul");
  const uint32_t rows = w.rows / n_experts, K = w.cols;
  if (y_stride == 0) y_stride = rows;
  if (y_stride < rows) throw Error("gather_matmul: y_stride is smaller than the rows per expert");
  if (pairs > report.max_workgroup_count[1]) {
    throw Error("gather_matmul: " + std::to_string(pairs) + " (token, expert) pairs exceed the workgroup-count limit");
  }
  const uint64_t x_rows = (uint64_t(pairs) + x_div - 1) / x_div;
  const uint64_t x_bytes = x_rows * K * 4, y_bytes = (uint64_t(pairs - 1) * y_stride + rows) * 4;
  detail::require_bytes(x, x_bytes, "gather_matmul", "x");
  detail::require_bytes(y, y_bytes, "gather_matmul", "y");
  detail::require_bytes(ids, uint64_t(pairs) * 4, "gather_matmul", "ids");

  // Runs of whole experts, each within one binding (see weight_chunks).
  const uint64_t row_bytes = weight_row_bytes(w.type, K), expert_bytes = row_bytes * rows;
  const uint64_t align = std::max<uint64_t>(report.min_storage_buffer_offset_alignment, 16);
  const uint64_t range = max_binding_bytes ? std::min(max_binding_bytes, report.max_storage_buffer_range)
                                           : report.max_storage_buffer_range;
  if (range < align || expert_bytes > range - (align - 1)) {
    throw Error("gather_matmul: one expert's matrix (" + std::to_string(expert_bytes) +
                " bytes) does not fit this device's maxStorageBufferRange of " + std::to_string(range) + " bytes");
  }
  const uint32_t experts_per_binding = uint32_t(std::min<uint64_t>((range - (align - 1)) / expert_bytes, n_experts));
  const uint32_t unit = weight_unit_bytes(w.type);

  const auto [wg, rows_per_group] = matvec_shape(report, w.type);
  const uint32_t min_subgroup = std::max(std::min(report.min_subgroup_size, report.subgroup_size), 1u);
  const std::string kernel = std::string("matvec_gather_") + weight_kernel_suffix(w.type);
  const uint32_t row_groups = (rows + rows_per_group - 1) / rows_per_group;
  const uint32_t gx = std::min(row_groups, std::min<uint32_t>(report.max_workgroup_count[0], 65535));
  const vk::BufferSlice x_used = x.sub(0, x_bytes), y_used = y.sub(0, y_bytes), ids_used = ids.sub(0, uint64_t(pairs) * 4);
  for (uint32_t e0 = 0; e0 < n_experts; e0 += experts_per_binding) {
    const uint32_t e1 = std::min(n_experts, e0 + experts_per_binding);
    const uint64_t start = w.data.offset + uint64_t(e0) * expert_bytes;
    const uint64_t aligned = start - start % align;
    const vk::BufferSlice binding{w.data.buffer, aligned, start - aligned + uint64_t(e1 - e0) * expert_bytes, nullptr};
    const uint32_t unit_offset = uint32_t((start - aligned) / unit);
    // 4-wide loads: rows of K % 4 == 0 elements from a 4-unit boundary (blocked types: always), x 16-byte aligned.
    const bool blocked = is_block_quantized(w.type);
    const bool vec = K % 4 == 0 && x.offset % 16 == 0 && (blocked || unit_offset % 4 == 0);
    const auto& pipeline =
        ctx.pipeline({kernel, 4, sizeof(push::GatherMatmul), {wg, rows_per_group, 1, uint32_t(vec), min_subgroup}});
    push::GatherMatmul pc{rows, K, pairs, unit_offset, K, y_stride, 0, x_div, n_experts, e0, e1};
    g.dispatch(pipeline,
               {graph::reads(binding), graph::reads(x_used), graph::writes(y_used), graph::reads(ids_used)}, pc,
               {gx, pairs, (row_groups + gx - 1) / gx}, kernel);
  }
}

void moe_combine(vk::Context& ctx, graph::Graph& g, const vk::BufferSlice& y, const vk::BufferSlice& weights,
                 const vk::BufferSlice& out, uint32_t tokens, uint32_t dim, uint32_t top_k, bool accumulate) {
  if (tokens == 0 || dim == 0) return;
  if (top_k == 0) throw Error("moe_combine: top_k must be positive");
  const uint64_t out_bytes = uint64_t(tokens) * dim * 4, y_bytes = out_bytes * top_k;
  const uint64_t w_bytes = uint64_t(tokens) * top_k * 4;
  detail::require_bytes(y, y_bytes, "moe_combine", "y");
  detail::require_bytes(weights, w_bytes, "moe_combine", "weights");
  detail::require_bytes(out, out_bytes, "moe_combine", "out");
  const vk::BufferSlice out_used = out.sub(0, out_bytes);
  if (out_used.overlaps(y.sub(0, y_bytes))) throw Error("moe_combine: out must not overlap y");
  const auto& pipeline = ctx.pipeline({"moe_combine", 3, sizeof(push::MoeCombine), {kElementWorkgroup}});
  g.dispatch(pipeline,
             {graph::reads(y.sub(0, y_bytes)), graph::reads(weights.sub(0, w_bytes)),
              accumulate ? graph::updates(out_used) : graph::writes(out_used)},
             push::MoeCombine{tokens, dim, top_k, accumulate ? 1u : 0u},
             graph::linear_groups(ctx.device(), (out_bytes / 4 + kElementWorkgroup - 1) / kElementWorkgroup),
             "moe_combine");
}

}  // namespace vkmind::ops
