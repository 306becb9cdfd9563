#include "runtime/ops/elementwise.h"

#include "shaders/push_constants.h"

namespace vkmind::ops {

namespace {
constexpr uint32_t kWorkgroup = 256;
}

void add(vk::Context& ctx, graph::Graph& g, const vk::BufferSlice& a, const vk::BufferSlice& b,
         const vk::BufferSlice& out, uint32_t n) {
  const auto& pipeline = ctx.pipeline({"add", 3, sizeof(push::Add), {kWorkgroup}});
  g.dispatch(pipeline, {graph::reads(a), graph::reads(b), graph::writes(out)},
             push::Add{n}, graph::linear_groups(ctx.device(), (n + kWorkgroup - 1) / kWorkgroup), "add");
}

}  // namespace vkmind::ops
