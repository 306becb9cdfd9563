#include "runtime/ops/qkv_prepare.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "runtime/ops/row_ops_util.h"
#include "shaders/push_constants.h"

namespace vkmind::ops {

namespace {

constexpr const char* kOp = "qkv_prepare";

void check_dims(const QkvPrepareDims& dims, uint32_t stride, const KvLayout& layout) {
  if (dims.head_dim == 0 || dims.head_dim % 4 != 0) {
    throw Error(std::string(kOp) + ": head_dim " + std::to_string(dims.head_dim) +
                " is not a multiple of 4 (each invocation rotates two pairs of four elements); use "
                "rmsnorm_heads, rope and kv_append instead");
  }
  if (dims.n_heads == 0 || dims.n_kv_heads == 0) throw Error(std::string(kOp) + ": needs q and kv heads");
  if (layout.n_kv_heads != dims.n_kv_heads || layout.head_dim != dims.head_dim) {
    throw Error(std::string(kOp) + ": the KV layout's heads or head_dim differ from the dims'");
  }
  const uint32_t used = (dims.n_heads + 2 * dims.n_kv_heads) * dims.head_dim;
  if (stride < used || stride % 2 != 0) {
    throw Error(std::string(kOp) + ": token stride " + std::to_string(stride) +
                " must be even and at least (n_heads + 2 * n_kv_heads) * head_dim = " + std::to_string(used));
  }
}

// Workgroup size and rows (= subgroups) per workgroup. The workgroup is a
// whole number of subgroups of any size the device may pick, as in
// rmsnorm_heads. On a CPU device one subgroup per workgroup: the rows then
// spread over its threads even for a single decode token, and a workgroup
// never switches between subgroups.
std::pair<uint32_t, uint32_t> workgroup_shape(const vk::DeviceReport& report) {
  const uint32_t sg = std::max<uint32_t>(report.subgroup_size, 1);
  const uint32_t floor = report.type == "CPU" ? sg : 128;
  const uint32_t wg = std::max<uint32_t>({floor, sg, report.max_subgroup_size});
  return {wg, wg / sg};
}

// The texel variant's conditions (qkv_prepare.comp QKV_TEXELS): 16 elements
// per lane step, every bound range whole 16-byte texels at an offset a texel
// view may start at.
bool texels_allowed(const vk::DeviceReport& report, const QkvPrepareDims& dims, uint32_t stride,
                    std::initializer_list<vk::BufferSlice> slices) {
  if (!report.storage_texel_rgba32ui || dims.head_dim % 16 != 0 || stride % 4 != 0) return false;
  const uint64_t align = std::max<uint64_t>(report.min_texel_buffer_offset_alignment, 16);
  return std::all_of(slices.begin(), slices.end(), [&](const vk::BufferSlice& s) {
    return s.offset % align == 0 && s.size % 16 == 0 && s.size / 16 <= report.max_texel_buffer_elements;
  });
}

}  // namespace

void qkv_prepare(vk::Context& ctx, graph::Graph& g, const QkvPrepareDims& dims, const vk::BufferSlice& qkv,
                 const vk::BufferSlice* q_norm, const vk::BufferSlice* k_norm, const vk::BufferSlice& positions,
                 const vk::BufferSlice& inv_freq, const vk::BufferSlice& slot_mapping, const vk::BufferSlice& k_pool,
                 const vk::BufferSlice& v_pool, float eps, const KvLayout& layout, QkvPreparePath path) {
  const uint32_t stride = dims.token_stride ? dims.token_stride : (dims.n_heads + 2 * dims.n_kv_heads) * dims.head_dim;
  check_dims(dims, stride, layout);
  if (bool(q_norm) != bool(k_norm)) throw Error(std::string(kOp) + ": pass both QK-norm weights or neither");
  if (dims.tokens == 0) return;
  const auto& report = ctx.device().report();
  detail::require_subgroup_arithmetic(report, kOp);

  const uint64_t last_row = uint64_t(dims.tokens - 1) * stride;
  const uint64_t q_bytes = (last_row + dims.n_heads * dims.head_dim) * 4;
  const uint64_t all_bytes = (last_row + (dims.n_heads + 2 * dims.n_kv_heads) * dims.head_dim) * 4;
  detail::require_bytes(qkv, all_bytes, kOp, "qkv");
  detail::require_bytes(positions, uint64_t(dims.tokens) * 4, kOp, "positions");
  detail::require_bytes(slot_mapping, uint64_t(dims.tokens) * 4, kOp, "slot_mapping");
  detail::require_bytes(inv_freq, uint64_t(dims.head_dim / 2) * 4, kOp, "inv_freq");
  if (q_norm) {
    detail::require_bytes(*q_norm, uint64_t(dims.head_dim) * 4, kOp, "q_norm");
    detail::require_bytes(*k_norm, uint64_t(dims.head_dim) * 4, kOp, "k_norm");
  }

  auto [wg, rows_per_group] = workgroup_shape(report);
  // A CPU device pays ~1 us to start a workgroup: prefill rows go 8 to one
  // (minimind-3 size, 3.9% -> 2.7% of a pp128 step); a decode token's dozen
  // rows stay spread over the threads.
  if (report.type == "CPU" && dims.tokens >= 8) rows_per_group = 8;
  const bool neox = dims.pairing == RopePairing::NeoX;
  // Both qkv bindings start at the rows' first float (no band offset to
  // align). Written: the q band's span; read: all of it. Without QK-norm the
  // weight bindings take inv_freq, which the kernel then never reads as weights.
  const vk::BufferSlice q_rows = qkv.sub(0, q_bytes), all_rows = qkv.sub(0, all_bytes);
  const vk::BufferSlice freq = inv_freq.sub(0, uint64_t(dims.head_dim / 2) * 4);
  const vk::BufferSlice qw = q_norm ? q_norm->sub(0, uint64_t(dims.head_dim) * 4) : freq;
  const vk::BufferSlice kw = k_norm ? k_norm->sub(0, uint64_t(dims.head_dim) * 4) : freq;
  const bool allowed = texels_allowed(report, dims, stride, {q_rows, all_rows, freq, qw, kw, k_pool, v_pool});
  if (path == QkvPreparePath::Texels && !allowed) {
    throw Error(std::string(kOp) + ": the texel variant needs texel buffers, head_dim % 16 == 0 (not " +
                std::to_string(dims.head_dim) + "), a token stride % 4 == 0 (not " + std::to_string(stride) +
                ") and texel-aligned slices");
  }
  const bool texels = path == QkvPreparePath::Texels || (path == QkvPreparePath::Auto && allowed && report.type == "CPU");
  std::string kernel = texels ? "qkv_prepare_texel_" : "qkv_prepare_";
  kernel += layout.type == KvType::F16 ? "f16" : "f32";
  // Texel bindings: qkv (0, 1), inv_freq and the norm weights (3-5), the pools (7, 8).
  const uint32_t texel_mask = texels ? 0b110111011u : 0u;
  const auto& pipeline = ctx.pipeline(
      {kernel, 9, sizeof(push::QkvPrepare), {wg, rows_per_group, uint32_t(neox), uint32_t(bool(q_norm))}, texel_mask});
  const auto bind = [&](graph::Binding b) {
    b.texels = texels;
    return b;
  };
  std::vector<graph::Binding> bindings{
      bind(graph::updates(q_rows)), bind(graph::reads(all_rows)), graph::reads(positions),
      bind(graph::reads(freq)),     bind(graph::reads(qw)),       bind(graph::reads(kw)),
      graph::reads(slot_mapping),   bind(graph::updates(k_pool)), bind(graph::updates(v_pool))};
  const uint64_t rows = uint64_t(dims.tokens) * (dims.n_heads + dims.n_kv_heads);
  g.dispatch(pipeline, std::move(bindings),
             push::QkvPrepare{dims.tokens, dims.n_heads, dims.n_kv_heads, dims.head_dim, stride, layout.block_size,
                              dims.attention_factor, eps},
             graph::linear_groups(ctx.device(), (rows + rows_per_group - 1) / rows_per_group), kOp);
}

}  // namespace vkmind::ops
