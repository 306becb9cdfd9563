#include "runtime/ops/kv_append.h"

#include <string>

#include "runtime/vk/error.h"
#include "shaders/push_constants.h"

namespace vkmind::ops {

namespace {
constexpr uint32_t kWorkgroup = 256;
}

void kv_append(vk::Context& ctx, graph::Graph& g, const KvLayout& layout, const vk::BufferSlice& k,
               const vk::BufferSlice& v, const vk::BufferSlice& slot_mapping, const vk::BufferSlice& k_pool,
               const vk::BufferSlice& v_pool, uint32_t tokens, uint32_t src_stride) {
  if (src_stride == 0) src_stride = layout.n_kv_heads * layout.head_dim;
  // Elements move in pairs (one f16x2 word or one vec2).
  if (layout.head_dim % 2 != 0 || src_stride % 2 != 0 || src_stride < layout.n_kv_heads * layout.head_dim)
    throw Error("kv_append: head_dim " + std::to_string(layout.head_dim) + " and source stride " +
                std::to_string(src_stride) + " must be even, stride >= n_kv_heads * head_dim");
  const std::string kernel = layout.type == KvType::F16 ? "kv_append_f16" : "kv_append_f32";
  const auto& pipeline = ctx.pipeline({kernel, 5, sizeof(push::KvAppend), {kWorkgroup}});
  const uint64_t threads = uint64_t(tokens) * layout.n_kv_heads * (layout.head_dim / 2);
  g.dispatch(pipeline,
             {graph::reads(k), graph::reads(v), graph::reads(slot_mapping), graph::updates(k_pool),
              graph::updates(v_pool)},
             push::KvAppend{tokens, layout.n_kv_heads, layout.head_dim, layout.block_size, src_stride},
             graph::linear_groups(ctx.device(), (threads + kWorkgroup - 1) / kWorkgroup), "kv_append");
}

}  // namespace vkmind::ops
