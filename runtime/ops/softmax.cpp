#include "runtime/ops/softmax.h"

#include "runtime/ops/row_ops_util.h"
#include "shaders/push_constants.h"

namespace vkmind::ops {

void softmax(vk::Context& ctx, graph::Graph& g, const vk::BufferSlice& x, const vk::BufferSlice& y, uint32_t rows,
             uint32_t n) {
  if (rows == 0 || n == 0) return;
  const auto& report = ctx.device().report();
  detail::require_subgroup_arithmetic(report, "softmax");
  const uint64_t bytes = uint64_t(rows) * n * 4;
  detail::require_bytes(x, bytes, "softmax", "x");
  detail::require_bytes(y, bytes, "softmax", "y");
  const uint32_t wg = detail::row_workgroup(report, n);
  const auto& pipeline = ctx.pipeline({"softmax", 2, sizeof(push::Softmax), {wg}});
  g.dispatch(pipeline, {graph::reads(x.sub(0, bytes)), graph::writes(y.sub(0, bytes))}, push::Softmax{rows, n},
             graph::linear_groups(ctx.device(), rows), "softmax");
}

}  // namespace vkmind::ops
