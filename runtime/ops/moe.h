// Mixture-of-experts kernels. A MoE FFN over T tokens with E experts, k of
// them per token, is (runtime/engine/model_runner.cpp):
//
//   logits  = matmul(router, xn)                         [T][E]  (ops::matmul)
//   ids, w  = moe_router(logits)                         [T][k]  softmax, top-k, renormalise
//   gu      = gather_matmul(gate_up_exps, xn, ids, k)    [T*k][2F] only the selected experts
//   act     = swiglu_fused(gu)                           [T*k][F]
//   y       = gather_matmul(down_exps, act, ids, 1)      [T*k][H]
//   out     = moe_combine(y, w)                          [T][H]  weighted sum per token
//
// Rows t*k .. t*k+k-1 belong to token t (its slots in router order), so the
// combine needs no atomics.
//
// Prefill: gather_matmul runs the matrix-vector kernel once per (token, slot)
// pair, so an expert's weights are read once per pair that selected it. That
// is the decode-optimal shape and acceptable for short prompts; a grouped GEMM
// (pairs sorted by expert: counts, offsets, then one tiled GEMM per expert
// over its rows) is the planned optimisation for long prefills.
#pragma once

#include <cstdint>

#include "runtime/graph/graph.h"
#include "runtime/ops/weight_view.h"
#include "runtime/vk/context.h"

namespace vkmind::ops {

// logits [tokens][n_experts] f32 -> ids u32 [tokens][top_k] (descending
// probability; ties: lower expert first) and weights f32 [tokens][top_k]
// (softmax probabilities, divided by their sum when renormalize).
void moe_router(vk::Context& ctx, graph::Graph& g, const vk::BufferSlice& logits, const vk::BufferSlice& ids,
                const vk::BufferSlice& weights, uint32_t tokens, uint32_t n_experts, uint32_t top_k,
                bool renormalize);

// The stacked weights of n_experts experts: w.rows = n_experts * rows per
// expert; expert e owns rows [e * rows/n_experts, (e+1) * rows/n_experts).
// y[p][r] = sum_j W_{ids[p]}[r][j] * x[p / x_div][j] for pairs p < pairs,
// r < rows per expert; y rows are y_stride floats apart (0: rows per expert).
// x_div = top_k when x holds one row per token, 1 when it holds one per pair.
// Stacked experts larger than maxStorageBufferRange are bound in runs of
// whole experts, one dispatch each (each skips the pairs of other experts);
// max_binding_bytes (0: the device's limit) lowers that limit for tests.
// Throws vkmind::Error when one expert alone exceeds it.
void gather_matmul(vk::Context& ctx, graph::Graph& g, const WeightView& w, uint32_t n_experts,
                   const vk::BufferSlice& x, const vk::BufferSlice& ids, const vk::BufferSlice& y, uint32_t pairs,
                   uint32_t x_div, uint32_t y_stride = 0, uint64_t max_binding_bytes = 0);

// out[t][i] = sum_s weights[t*k+s] * y[t*k+s][i], i < dim; accumulate: added
// onto out's current contents (e.g. the shared experts' output).
void moe_combine(vk::Context& ctx, graph::Graph& g, const vk::BufferSlice& y, const vk::BufferSlice& weights,
                 const vk::BufferSlice& out, uint32_t tokens, uint32_t dim, uint32_t top_k, bool accumulate);

}  // namespace vkmind::ops
