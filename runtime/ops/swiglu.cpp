#include "runtime/ops/swiglu.h"

#include "runtime/ops/row_ops_util.h"
#include "shaders/push_constants.h"

namespace vkmind::ops {

namespace {

constexpr uint32_t kWorkgroup = 256;

void dispatch_swiglu(vk::Context& ctx, graph::Graph& g, const vk::BufferSlice& gate, const vk::BufferSlice& up,
                     const vk::BufferSlice& out, const push::Swiglu& pc) {
  const auto& pipeline = ctx.pipeline({"swiglu", 3, sizeof(push::Swiglu), {kWorkgroup}});
  const uint64_t threads = uint64_t(pc.tokens) * pc.n;
  g.dispatch(pipeline, {graph::reads(gate), graph::reads(up), graph::writes(out)}, pc,
             graph::linear_groups(ctx.device(), (threads + kWorkgroup - 1) / kWorkgroup), "swiglu");
}

}  // namespace

void swiglu(vk::Context& ctx, graph::Graph& g, const vk::BufferSlice& gate, const vk::BufferSlice& up,
            const vk::BufferSlice& out, uint32_t tokens, uint32_t n) {
  if (tokens == 0 || n == 0) return;
  const uint64_t bytes = uint64_t(tokens) * n * 4;
  detail::require_bytes(gate, bytes, "swiglu", "gate");
  detail::require_bytes(up, bytes, "swiglu", "up");
  detail::require_bytes(out, bytes, "swiglu", "out");
  dispatch_swiglu(ctx, g, gate.sub(0, bytes), up.sub(0, bytes), out.sub(0, bytes), push::Swiglu{tokens, n, n, 0, n, 0});
}

void swiglu_fused(vk::Context& ctx, graph::Graph& g, const vk::BufferSlice& gate_up, const vk::BufferSlice& out,
                  uint32_t tokens, uint32_t n) {
  if (tokens == 0 || n == 0) return;
  const uint64_t in_bytes = uint64_t(tokens) * n * 8, out_bytes = uint64_t(tokens) * n * 4;
  detail::require_bytes(gate_up, in_bytes, "swiglu_fused", "gate_up");
  detail::require_bytes(out, out_bytes, "swiglu_fused", "out");
  const vk::BufferSlice in = gate_up.sub(0, in_bytes);
  if (in.overlaps(out)) throw Error("swiglu_fused: out must not overlap gate_up");
  dispatch_swiglu(ctx, g, in, in, out.sub(0, out_bytes), push::Swiglu{tokens, n, 2 * n, 0, 2 * n, n});
}

}  // namespace vkmind::ops
