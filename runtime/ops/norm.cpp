#include "runtime/ops/norm.h"

#include "runtime/ops/row_ops_util.h"
#include "shaders/push_constants.h"

namespace vkmind::ops {

namespace {

// Bytes a [rows][n] tensor spans, or tokens x token_stride for per-head rows.
uint64_t span_bytes(uint32_t tokens, uint32_t token_stride, uint32_t used_per_token) {
  return tokens == 0 ? 0 : (uint64_t(tokens - 1) * token_stride + used_per_token) * 4;
}

}  // namespace

void rmsnorm(vk::Context& ctx, graph::Graph& g, const vk::BufferSlice& x, const vk::BufferSlice& w,
             const vk::BufferSlice& y, uint32_t rows, uint32_t n, float eps) {
  if (rows == 0 || n == 0) return;
  const auto& report = ctx.device().report();
  detail::require_subgroup_arithmetic(report, "rmsnorm");
  const uint64_t bytes = uint64_t(rows) * n * 4;
  detail::require_bytes(x, bytes, "rmsnorm", "x");
  detail::require_bytes(y, bytes, "rmsnorm", "y");
  detail::require_bytes(w, uint64_t(n) * 4, "rmsnorm", "w");
  const uint32_t wg = detail::row_workgroup(report, n);
  const auto& pipeline = ctx.pipeline({"rmsnorm", 3, sizeof(push::RmsNorm), {wg}});
  g.dispatch(pipeline, {graph::reads(x.sub(0, bytes)), graph::reads(w), graph::writes(y.sub(0, bytes))},
             push::RmsNorm{rows, n, 1, n, eps}, graph::linear_groups(ctx.device(), rows), "rmsnorm");
}

void rmsnorm_residual(vk::Context& ctx, graph::Graph& g, const vk::BufferSlice& x, const vk::BufferSlice& residual,
                      const vk::BufferSlice& w, const vk::BufferSlice& y, uint32_t rows, uint32_t n, float eps) {
  if (rows == 0 || n == 0) return;
  const auto& report = ctx.device().report();
  detail::require_subgroup_arithmetic(report, "rmsnorm_residual");
  const uint64_t bytes = uint64_t(rows) * n * 4;
  detail::require_bytes(x, bytes, "rmsnorm_residual", "x");
  detail::require_bytes(residual, bytes, "rmsnorm_residual", "residual");
  detail::require_bytes(y, bytes, "rmsnorm_residual", "y");
  detail::require_bytes(w, uint64_t(n) * 4, "rmsnorm_residual", "w");
  const uint32_t wg = detail::row_workgroup(report, n);
  const auto& pipeline = ctx.pipeline({"rmsnorm_residual", 4, sizeof(push::RmsNorm), {wg}});
  g.dispatch(pipeline,
             {graph::reads(x.sub(0, bytes)), graph::updates(residual.sub(0, bytes)), graph::reads(w),
              graph::writes(y.sub(0, bytes))},
             push::RmsNorm{rows, n, 1, n, eps}, graph::linear_groups(ctx.device(), rows), "rmsnorm_residual");
}

void rmsnorm_heads(vk::Context& ctx, graph::Graph& g, const vk::BufferSlice& x, const vk::BufferSlice& w,
                   const vk::BufferSlice& y, uint32_t tokens, uint32_t heads, uint32_t head_dim, float eps,
                   uint32_t token_stride) {
  if (tokens == 0 || heads == 0 || head_dim == 0) return;
  const auto& report = ctx.device().report();
  detail::require_subgroup_arithmetic(report, "rmsnorm_heads");
  const uint32_t used = heads * head_dim;
  if (token_stride == 0) token_stride = used;
  if (token_stride < used) throw Error("rmsnorm_heads: token_stride is smaller than heads * head_dim");
  const uint64_t bytes = span_bytes(tokens, token_stride, used);
  detail::require_bytes(x, bytes, "rmsnorm_heads", "x");
  detail::require_bytes(y, bytes, "rmsnorm_heads", "y");
  detail::require_bytes(w, uint64_t(head_dim) * 4, "rmsnorm_heads", "w");
  // One subgroup per row. The workgroup must be a whole number of subgroups
  // of any size the device may pick (up to max_subgroup_size), so that no
  // subgroup is partial and lanes stride the row by gl_SubgroupSize.
  const uint32_t sg = std::max<uint32_t>(report.subgroup_size, 1);
  const uint32_t wg = std::max<uint32_t>({128, sg, report.max_subgroup_size});
  const uint32_t rows_per_group = wg / sg;
  const uint64_t rows = uint64_t(tokens) * heads;
  const auto& pipeline = ctx.pipeline({"rmsnorm_heads", 3, sizeof(push::RmsNorm), {wg, rows_per_group}});
  g.dispatch(pipeline, {graph::reads(x.sub(0, bytes)), graph::reads(w), graph::writes(y.sub(0, bytes))},
             push::RmsNorm{uint32_t(rows), head_dim, heads, token_stride, eps},
             graph::linear_groups(ctx.device(), (rows + rows_per_group - 1) / rows_per_group), "rmsnorm_heads");
}

}  // namespace vkmind::ops
