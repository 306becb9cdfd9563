// RMSNorm: y = x * rsqrt(mean(x^2) + eps) * w, in f32, with f32 weights w [n].
#pragma once

#include <cstdint>

#include "runtime/graph/graph.h"
#include "runtime/vk/context.h"

namespace vkmind::ops {

// x, y: [rows][n]. y may alias x (in place).
void rmsnorm(vk::Context& ctx, graph::Graph& g, const vk::BufferSlice& x, const vk::BufferSlice& w,
             const vk::BufferSlice& y, uint32_t rows, uint32_t n, float eps);

// Fused residual add before a norm: residual += x, then y = rmsnorm(residual) * w.
// x, residual, y: [rows][n]; y may alias x.
void rmsnorm_residual(vk::Context& ctx, graph::Graph& g, const vk::BufferSlice& x, const vk::BufferSlice& residual,
                      const vk::BufferSlice& w, const vk::BufferSlice& y, uint32_t rows, uint32_t n, float eps);

// QK-norm: RMSNorm over head_dim for every head of every token, one weight
// w [head_dim] shared by the heads. Head h of token t starts at float
// t * token_stride + h * head_dim of x and of y (token_stride 0 means
// heads * head_dim, dense), so q or k inside a fused QKV buffer can be
// normalised in place: y may alias x.
void rmsnorm_heads(vk::Context& ctx, graph::Graph& g, const vk::BufferSlice& x, const vk::BufferSlice& w,
                   const vk::BufferSlice& y, uint32_t tokens, uint32_t heads, uint32_t head_dim, float eps,
                   uint32_t token_stride = 0);

}  // namespace vkmind::ops
