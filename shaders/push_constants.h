// Push-constant blocks, declared once for both C++ and GLSL. In C++ each block
// is a struct (runtime/ops includes this file); a shader selects its block by
// defining PUSH_<NAME> before including it. Only 4-byte scalars appear, so the
// std430 offsets GLSL uses equal the C++ layout; sizes are static_asserted.
#ifndef VKMIND_PUSH_CONSTANTS_H
#define VKMIND_PUSH_CONSTANTS_H

#ifdef __cplusplus
#include <cstdint>
namespace vkmind::push {
using uint = uint32_t;
#define VKM_PUSH_BLOCK(NAME) struct NAME
#define VKM_PUSH_END(NAME) ;
#else
#define VKM_PUSH_BLOCK(NAME) layout(push_constant) uniform NAME
#define VKM_PUSH_END(NAME) pc;
#endif

// out[i] = a[i] + b[i], i < n
#if defined(__cplusplus) || defined(PUSH_Add)
VKM_PUSH_BLOCK(Add) {
  uint n;
} VKM_PUSH_END(Add)
#endif

// dst[t][j] = src[t * src_stride + src_offset + j], j < cols, t < rows
#if defined(__cplusplus) || defined(PUSH_CopyColumns)
VKM_PUSH_BLOCK(CopyColumns) {
  uint rows;
  uint cols;
  uint src_stride;
  uint src_offset;
} VKM_PUSH_END(CopyColumns)
#endif

// x[t][j] += bias[j], j < cols, t < rows
#if defined(__cplusplus) || defined(PUSH_AddBias)
VKM_PUSH_BLOCK(AddBias) {
  uint rows;
  uint cols;
} VKM_PUSH_END(AddBias)
#endif

// y[t * y_stride + y_offset + r] = sum_k W[r][k] * x[t * x_stride + k],
// r < rows, t < tokens, k < K; row r of W starts at unit w_offset + r * row
// units (shaders/weights.glsl: floats for F32, 16-bit words otherwise).
// eps: of the input RMSNorm, when that fusion is on.
// norm, epilogue: the fusions (1: the input RMSNorm; ops::Epilogue:
// 0 store, 1 accumulate, 2 SwiGLU) where matvec.comp takes them from here
// (FUSIONS_PUSHED); elsewhere they are specialization constants.
#if defined(__cplusplus) || defined(PUSH_Matmul)
VKM_PUSH_BLOCK(Matmul) {
  uint rows;
  uint K;
  uint tokens;
  uint w_offset;
  uint x_stride;
  uint y_stride;
  uint y_offset;
  float eps;
  uint norm;
  uint epilogue;
} VKM_PUSH_END(Matmul)
#endif

// Mixture of experts (runtime/ops/moe.h). GatherMatmul: Matmul's fields, then
// pair p (< tokens) uses x row p / x_div and expert e = min(ids[p], n_experts - 1);
// this dispatch binds experts [expert_begin, expert_end) of the stacked W, whose
// rows start at unit w_offset + (e - expert_begin) * rows * row units, and skips
// pairs of other experts (matvec.comp GATHER).
#if defined(__cplusplus) || defined(PUSH_GatherMatmul)
VKM_PUSH_BLOCK(GatherMatmul) {
  uint rows;
  uint K;
  uint tokens;
  uint w_offset;
  uint x_stride;
  uint y_stride;
  uint y_offset;
  uint x_div;
  uint n_experts;
  uint expert_begin;
  uint expert_end;
} VKM_PUSH_END(GatherMatmul)
#endif

// Router (moe_router.comp): logits [tokens][n_experts] -> ids, weights [tokens][top_k].
#if defined(__cplusplus) || defined(PUSH_MoeRouter)
VKM_PUSH_BLOCK(MoeRouter) {
  uint tokens;
  uint n_experts;
  uint top_k;
  uint renormalize;
} VKM_PUSH_END(MoeRouter)
#endif

// out[t][i] (+)= sum_s weights[t * top_k + s] * y[(t * top_k + s) * dim + i] (moe_combine.comp).
#if defined(__cplusplus) || defined(PUSH_MoeCombine)
VKM_PUSH_BLOCK(MoeCombine) {
  uint tokens;
  uint dim;
  uint top_k;
  uint accumulate;
} VKM_PUSH_END(MoeCombine)
#endif

// out[t * dim + i] = W[id][i], id = min(ids[t], vocab - 1), written only when
// id is in this dispatch's rows [row_begin, row_begin + rows), whose first row
// starts at unit w_offset.
#if defined(__cplusplus) || defined(PUSH_Embedding)
VKM_PUSH_BLOCK(Embedding) {
  uint tokens;
  uint dim;
  uint vocab;
  uint row_begin;
  uint rows;
  uint w_offset;
} VKM_PUSH_END(Embedding)
#endif

// Paged KV append (kv_append.comp): for t < tokens with slot_mapping[t] != ~0u,
// pool[block][h][offset][:] = src[t * src_stride + h * head_dim + :] for K and V,
// slot = block * block_size + offset. head_dim and src_stride are even.
#if defined(__cplusplus) || defined(PUSH_KvAppend)
VKM_PUSH_BLOCK(KvAppend) {
  uint tokens;
  uint n_kv_heads;
  uint head_dim;
  uint block_size;
  uint src_stride;
} VKM_PUSH_END(KvAppend)
#endif

// Paged GQA attention (attention.comp); shapes and work items in runtime/ops/attention.h.
#if defined(__cplusplus) || defined(PUSH_Attention)
VKM_PUSH_BLOCK(Attention) {
  uint n_kv_heads;
  uint q_stride;    // floats per token in q
  uint out_stride;  // floats per token in out
  uint max_blocks;  // block-table row length
  float scale;      // 1/sqrt(head_dim)
} VKM_PUSH_END(Attention)
#endif

// RMSNorm (rmsnorm.comp): rows of n floats; row r is head r % heads of token
// r / heads, starting at float (r / heads) * token_stride + (r % heads) * n.
#if defined(__cplusplus) || defined(PUSH_RmsNorm)
VKM_PUSH_BLOCK(RmsNorm) {
  uint rows;
  uint n;
  uint heads;
  uint token_stride;
  float eps;
} VKM_PUSH_END(RmsNorm)
#endif

// RoPE (rope.comp) over q [tokens][n_heads][head_dim] and k [tokens][n_kv_heads][head_dim],
// tokens q_stride / k_stride floats apart; cos and sin scaled by attention_factor.
#if defined(__cplusplus) || defined(PUSH_Rope)
VKM_PUSH_BLOCK(Rope) {
  uint tokens;
  uint n_heads;
  uint n_kv_heads;
  uint head_dim;
  uint q_stride;
  uint k_stride;
  float attention_factor;
} VKM_PUSH_END(Rope)
#endif

// Fused QK-norm + RoPE + KV append (qkv_prepare.comp) over qkv rows
// [tokens][token_stride] holding q (n_heads heads), k and v (n_kv_heads each)
// of head_dim floats, in that order; K and V go to pools of block_size slots.
#if defined(__cplusplus) || defined(PUSH_QkvPrepare)
VKM_PUSH_BLOCK(QkvPrepare) {
  uint tokens;
  uint n_heads;
  uint n_kv_heads;
  uint head_dim;
  uint token_stride;
  uint block_size;
  float attention_factor;
  float eps;
} VKM_PUSH_END(QkvPrepare)
#endif

// Row softmax (softmax.comp): rows of n floats.
#if defined(__cplusplus) || defined(PUSH_Softmax)
VKM_PUSH_BLOCK(Softmax) {
  uint rows;
  uint n;
} VKM_PUSH_END(Softmax)
#endif

// Top-K candidates of rows (top_k.comp): n entries a row (values row_stride
// floats apart, or pairs of an earlier pass n apart), cut in `chunks` chunks.
#if defined(__cplusplus) || defined(PUSH_TopK)
VKM_PUSH_BLOCK(TopK) {
  uint n;
  uint row_stride;
  uint chunks;
} VKM_PUSH_END(TopK)
#endif

// out[t * n + j] = silu(gate[t * gate_stride + gate_offset + j]) * up[t * up_stride + up_offset + j]
#if defined(__cplusplus) || defined(PUSH_Swiglu)
VKM_PUSH_BLOCK(Swiglu) {
  uint tokens;
  uint n;
  uint gate_stride;
  uint gate_offset;
  uint up_stride;
  uint up_offset;
} VKM_PUSH_END(Swiglu)
#endif

#ifdef __cplusplus
static_assert(sizeof(KvAppend) == 20);
static_assert(sizeof(Attention) == 20);
static_assert(sizeof(Add) == 4);
static_assert(sizeof(Matmul) == 40);
static_assert(sizeof(GatherMatmul) == 44);
static_assert(sizeof(MoeRouter) == 16);
static_assert(sizeof(MoeCombine) == 16);
static_assert(sizeof(Embedding) == 24);
static_assert(sizeof(CopyColumns) == 16);
static_assert(sizeof(AddBias) == 8);
static_assert(sizeof(RmsNorm) == 20);
static_assert(sizeof(Rope) == 28);
static_assert(sizeof(QkvPrepare) == 32);
static_assert(sizeof(Softmax) == 8);
static_assert(sizeof(Swiglu) == 24);
}  // namespace vkmind::push
#endif

#endif
