#include "runtime/ops/rope.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "runtime/ops/row_ops_util.h"
#include "shaders/push_constants.h"

namespace vkmind::ops {

std::pair<double, double> yarn_ramp_range(uint32_t head_dim, double theta, const YarnScaling& yarn) {
  const double d = head_dim;
  auto inv_dim = [&](double b) {
    return d * std::log(yarn.original_max_position / (b * 2 * std::numbers::pi)) / (2 * std::log(theta));
  };
  const double low = std::max(std::floor(inv_dim(yarn.beta_fast)), 0.0);
  const double high = std::min(std::ceil(inv_dim(yarn.beta_slow)), double(head_dim / 2) - 1);
  return {low, high};
}

std::vector<float> rope_inv_freq(uint32_t head_dim, double theta, const std::optional<YarnScaling>& yarn) {
  if (head_dim == 0 || head_dim % 2 != 0) throw Error("rope_inv_freq: head_dim must be even and > 0");
  if (!(theta > 1)) throw Error("rope_inv_freq: theta must be > 1");
  const uint32_t half = head_dim / 2;
  std::vector<float> out(half);
  std::pair<double, double> range{0, 0};
  if (yarn) {
    if (!(yarn->factor > 0) || !(yarn->original_max_position > 0) || !(yarn->beta_fast > 0) ||
        !(yarn->beta_slow > 0)) {
      throw Error("rope_inv_freq: YaRN factor, original_max_position and betas must be > 0");
    }
    range = yarn_ramp_range(head_dim, theta, *yarn);
  }
  for (uint32_t i = 0; i < half; ++i) {
    double f = std::pow(theta, -2.0 * i / head_dim);
    if (yarn) {
      const auto [low, high] = range;
      const double ramp = std::clamp((i - low) / std::max(high - low, 0.001), 0.0, 1.0);
      f *= (1 - ramp) + ramp / yarn->factor;
    }
    out[i] = float(f);
  }
  return out;
}

void rope(vk::Context& ctx, graph::Graph& g, const vk::BufferSlice& q, const vk::BufferSlice& k,
          const vk::BufferSlice& positions, const vk::BufferSlice& inv_freq, const RopeDims& dims) {
  if (dims.head_dim == 0 || dims.head_dim % 2 != 0) throw Error("rope: head_dim must be even and > 0");
  if (dims.tokens == 0 || dims.n_heads + dims.n_kv_heads == 0) return;
  const uint32_t q_used = dims.n_heads * dims.head_dim, k_used = dims.n_kv_heads * dims.head_dim;
  const uint32_t q_stride = dims.q_stride ? dims.q_stride : q_used;
  const uint32_t k_stride = dims.k_stride ? dims.k_stride : k_used;
  if (q_stride < q_used || k_stride < k_used) throw Error("rope: a token stride is smaller than heads * head_dim");
  auto span = [&](uint32_t stride, uint32_t used) { return used ? (uint64_t(dims.tokens - 1) * stride + used) * 4 : 0; };
  const uint64_t q_bytes = span(q_stride, q_used), k_bytes = span(k_stride, k_used);
  detail::require_bytes(q, q_bytes, "rope", "q");
  detail::require_bytes(k, k_bytes, "rope", "k");
  detail::require_bytes(positions, uint64_t(dims.tokens) * 4, "rope", "positions");
  detail::require_bytes(inv_freq, uint64_t(dims.head_dim / 2) * 4, "rope", "inv_freq");

  // A kernel binding must name a real buffer: with no k (or no q) heads the
  // other tensor stands in at binding 1 (or 0) and is never touched.
  const vk::BufferSlice qb = q_used ? q.sub(0, q_bytes) : k.sub(0, k_bytes);
  const vk::BufferSlice kb = k_used ? k.sub(0, k_bytes) : qb;
  std::vector<graph::Binding> bindings{graph::updates(qb), graph::updates(kb), graph::reads(positions),
                                       graph::reads(inv_freq)};
  constexpr uint32_t kWorkgroup = 128;
  const char* kernel = dims.pairing == RopePairing::NeoX ? "rope_neox" : "rope_gptj";
  const auto& pipeline = ctx.pipeline({kernel, 4, sizeof(push::Rope), {kWorkgroup}});
  const uint64_t threads = uint64_t(dims.tokens) * (dims.n_heads + dims.n_kv_heads) * (dims.head_dim / 2);
  g.dispatch(pipeline, std::move(bindings),
             push::Rope{dims.tokens, dims.n_heads, dims.n_kv_heads, dims.head_dim, q_stride, k_stride,
                        dims.attention_factor},
             graph::linear_groups(ctx.device(), (threads + kWorkgroup - 1) / kWorkgroup), kernel);
}

}  // namespace vkmind::ops
