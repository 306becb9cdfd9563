#include "runtime/ops/elementwise.h"

#include "shaders/push_constants.h"

namespace vkmind::ops {

namespace {
constexpr uint32_t kWorkgroup = 256;

std::array<uint32_t, 3> groups_for(vk::Context& ctx, uint64_t threads) {
  return graph::linear_groups(ctx.device(), (threads + kWorkgroup - 1) / kWorkgroup);
}
}  // namespace

void add(vk::Context& ctx, graph::Graph& g, const vk::BufferSlice& a, const vk::BufferSlice& b,
         const vk::BufferSlice& out, uint32_t n) {
  const auto& pipeline = ctx.pipeline({"add", 3, sizeof(push::Add), {kWorkgroup}});
  g.dispatch(pipeline, {graph::reads(a), graph::reads(b), graph::writes(out)},
             push::Add{n}, groups_for(ctx, n), "add");
}

void copy_columns(vk::Context& ctx, graph::Graph& g, const vk::BufferSlice& src, uint32_t src_stride,
                  uint32_t src_offset, const vk::BufferSlice& dst, uint32_t rows, uint32_t cols) {
  const auto& pipeline = ctx.pipeline({"copy_columns", 2, sizeof(push::CopyColumns), {kWorkgroup}});
  g.dispatch(pipeline, {graph::reads(src), graph::writes(dst)}, push::CopyColumns{rows, cols, src_stride, src_offset},
             groups_for(ctx, uint64_t(rows) * cols), "copy_columns");
}

void add_bias(vk::Context& ctx, graph::Graph& g, const vk::BufferSlice& x, const vk::BufferSlice& bias,
              uint32_t rows, uint32_t cols) {
  const auto& pipeline = ctx.pipeline({"add_bias", 2, sizeof(push::AddBias), {kWorkgroup}});
  g.dispatch(pipeline, {graph::updates(x), graph::reads(bias)}, push::AddBias{rows, cols},
             groups_for(ctx, uint64_t(rows) * cols), "add_bias");
}

}  // namespace vkmind::ops
