#version 450
// Matrix-vector product for decode: y[t][r] = sum_k W[r][k] * x[t][k] for a
// few tokens t. Memory-bound on the weights, so each workgroup reads ROWS
// rows of W once and applies them to up to NT tokens. Threads stride over K
// in 4-element chunks (consecutive threads, consecutive chunks: coalesced),
// then each partial sum is reduced with subgroupAdd and, across the
// workgroup's subgroups, through shared memory. Subgroup size is whatever
// the device runs (8 on lavapipe, 32 on NVIDIA, 32/64 on AMD).
//
// WEIGHT_TEXELS: weights read through a storage texel buffer (weights.glsl),
// chosen by the host on CPU devices.
//
// Grid: row groups (rows / ROWS, rounded up) over x and, past the per-dimension
// workgroup-count limit, z (group = z * num_x + x); y = token groups (tokens / NT).
// TOKENS_FAST swaps x and y, so that consecutive workgroups (on lavapipe, one
// thread's next ones) read the same rows of W from cache: minimind-3 size f16
// pp128 147-152 -> 162-171 t/s.
//
// GATHER (mixture of experts, runtime/ops/moe.h): W holds n_experts matrices of
// `rows` rows each, stacked; "tokens" are (token, slot) pairs, pair p uses the
// matrix of expert ids[p] and x row p / x_div. The host sets NT = 1, since the
// pairs of one workgroup would otherwise need the same expert. Used for decode
// and (for now) prefill; a grouped GEMM by expert is the later prefill path.
//
// Fusions (not with GATHER), each saving a dispatch and a barrier of the
// decode step:
//   norm      input RMSNorm in the prologue: x[t][k] is used as
//             x[t][k] * inversesqrt(mean_k x[t][k]^2 + eps) * gamma[k], every
//             workgroup recomputing the token's sum of squares (K floats, from
//             cache) instead of a separate norm kernel writing xn. A
//             one-subgroup workgroup (CPU devices) sums the squares during the
//             product, which uses x * gamma, and scales the sums by
//             1/rms at the end (NORM_IN_LOOP): no separate pass over x.
//   epilogue  EPI_STORE y = acc; EPI_ACCUMULATE y += acc (the
//             residual add); EPI_SWIGLU W is [gate; up] stacked (2 * rows
//             rows), and y[t][r] = silu(gate_r . x) * (up_r . x): a
//             workgroup's row slots s < ROWS/2 hold gate rows and s >= ROWS/2
//             the matching up rows.
// FUSIONS_PUSHED: both are push constants, so one pipeline serves every
// matrix of a decode step; they change which rows a workgroup reads, a
// multiply by gamma and what it stores. On lavapipe each pipeline costs
// ~0.03 s (decode) to ~0.13 s (prefill) of NIR work in every process, and
// LLVM seconds on a machine's first run. lavapipe runs both sides of uniform
// branches, so fusions decided at run time cost the unfused matrices a gamma
// load and a few multiplies per token and step of K, and every output the
// other epilogues' work: hidden behind the weight reads of a decode step,
// ~4-10% of prefill, whose token groups take them as specialization constants
// (the host picks: ops/matmul.cpp).
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#ifdef WEIGHT_TEXELS
#extension GL_KHR_shader_subgroup_shuffle : require  // reduce_scatter_store()
#endif
// Every loop over ROWS and NT is unrolled: lavapipe keeps a local array that
// is indexed by a loop counter in memory and scatters each write to it lane
// by lane (~10x slower than the FMAs themselves); unrolled, the arrays are
// registers.
#extension GL_EXT_control_flow_attributes : require

#ifdef GATHER
#define PUSH_GatherMatmul
#else
#define PUSH_Matmul
#endif
#include "push_constants.h"
#define WEIGHT_BINDING 0
#include "weights.glsl"
// Float weights through texels read 16-byte texels whole (and x likewise);
// blocked ones only fetch their words through texels (weights.glsl).
#if defined(WEIGHT_TEXELS) && !defined(W_BLOCKED)
#define FLOAT_TEXELS
#endif

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 64;
layout(constant_id = 1) const uint ROWS = 2;     // rows of W per workgroup
layout(constant_id = 2) const uint NT = 1;       // tokens per workgroup
layout(constant_id = 3) const bool VEC = false;  // 4-wide loads of W and x (see weights.glsl)
layout(constant_id = 4) const uint MIN_SUBGROUP = 8;  // bounds the subgroups per workgroup
// FLOAT_TEXELS: W in tiles of TILE_ROWS rows by WG texels (runtime/ops/weight_view.h); 0: row-major.
layout(constant_id = 5) const uint TILE_ROWS = 0;
layout(constant_id = 6) const bool TOKENS_FAST = false;  // token groups over x (see Grid)
layout(constant_id = 7) const bool FUSIONS_PUSHED = false;  // norm and epilogue: push constants
layout(constant_id = 8) const bool NORM = false;             // or these
layout(constant_id = 9) const uint EPILOGUE = 0;
const uint EPI_STORE = 0, EPI_ACCUMULATE = 1, EPI_SWIGLU = 2;

#ifdef FLOAT_TEXELS
// x through texels too (4 floats each): the same vector gathers on lavapipe.
layout(binding = 1, rgba32ui) uniform readonly uimageBuffer x_texels;
vec4 x_load4(uint i) { return uintBitsToFloat(imageLoad(x_texels, int(i))); }
#else
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer X4 { vec4 x4[]; };
#endif
layout(std430, binding = 2) buffer Y { float y[]; };
#ifdef GATHER
layout(std430, binding = 3) readonly buffer Ids { uint expert_ids[]; };
#elif defined(FLOAT_TEXELS)
// The norm's gamma through texels as well: a storage-buffer vec4 is 32 scalar
// loads on lavapipe, each through the stack (~15% of a decode step).
layout(binding = 3, rgba32ui) uniform readonly uimageBuffer gamma_texels;
#else
layout(std430, binding = 3) readonly buffer Gamma { float gamma[]; };
layout(std430, binding = 3) readonly buffer Gamma4 { vec4 gamma4[]; };
#endif

uint epilogue() {
#ifdef GATHER
  return EPI_STORE;
#else
  return FUSIONS_PUSHED ? pc.epilogue : EPILOGUE;
#endif
}
#ifdef GATHER
const bool MAY_NORM = false;
bool norm() { return false; }
#else
const bool MAY_NORM = FUSIONS_PUSHED || NORM;
bool norm() { return FUSIONS_PUSHED ? pc.norm != 0 : NORM; }
#endif
bool swiglu() { return epilogue() == EPI_SWIGLU; }
// Output rows per workgroup (the host makes ROWS even).
uint out_rows() { return swiglu() ? ROWS / 2 : ROWS; }

// First float of the x row that token (or pair) t multiplies.
uint x_base(uint t) {
#ifdef GATHER
  return (t / pc.x_div) * pc.x_stride;
#else
  return t * pc.x_stride;
#endif
}

const uint MAX_SUBGROUPS = (WG + MIN_SUBGROUP - 1) / MIN_SUBGROUP;
shared float partial[MAX_SUBGROUPS * ROWS * NT];
shared float norm_partial[MAX_SUBGROUPS * NT];

// The workgroup's sums, acc[r * NT + t] for row slot r and token slot t.
float acc[ROWS * NT];

// norm(): 1/rms of each of the workgroup's tokens (1 otherwise).
float inv_rms[NT];
// NORM_IN_LOOP: the workgroup is one subgroup, and with norm() each lane's sum
// of squares of the x it reads (per token) accumulates in x_sq during the product.
const bool NORM_IN_LOOP = WG <= MIN_SUBGROUP;
float x_sq[NT];

// The token of slot t: past the last token, the last one again. A tail group
// computes the repeats and does not store them, which keeps every slot's
// loop free of branches.
uint token_at(uint tok0, uint t) { return min(tok0 + t, pc.tokens - 1); }

// acc + dot(w, x), as a chain of fused multiply-adds.
float fma4(vec4 w, vec4 x, float acc) { return fma(w.w, x.w, fma(w.z, x.z, fma(w.y, x.y, fma(w.x, x.x, acc)))); }

// The norm's gamma[k..k+3] (k % 4 == 0), 1 without it; read once per step of
// the K loop and shared by its tokens: on lavapipe each storage-buffer load is
// a loop over the lanes.
vec4 gamma_at(uint k) {
  if (!MAY_NORM) return vec4(1.0);
#if defined(FLOAT_TEXELS) && !defined(GATHER)
  // A select, not a branch: without the norm binding 3 is x, as long as K.
  const vec4 g = uintBitsToFloat(imageLoad(gamma_texels, int(k / 4)));
  return norm() ? g : vec4(1.0);
#elif !defined(GATHER)
  if (norm()) return gamma4[k / 4];
#endif
  return vec4(1.0);
}

// x[t][k..k+3] as the product uses it; xi = its vec4 index, g = gamma_at(k).
vec4 x_in4(uint t, uint xi, vec4 g) {
#ifdef FLOAT_TEXELS
  vec4 v = x_load4(xi);
#else
  vec4 v = x4[xi];
#endif
  // (x * scale) * gamma, rounded as rmsnorm.comp rounds it. NORM_IN_LOOP:
  // x * gamma here (g = 1 without the norm), the scale applied to the sums;
  // no branch, which would split the unrolled loop's block once per token.
  if (NORM_IN_LOOP) {
    if (MAY_NORM) x_sq[t] += dot(v, v);
    return MAY_NORM ? v * g : v;
  }
  if (norm()) v = v * inv_rms[t] * g;
  return v;
}

float x_in1(uint t, uint i, float g) {
#ifdef FLOAT_TEXELS
  return x_load4(i / 4)[i % 4];  // unused: FLOAT_TEXELS always takes 4-wide loads
#else
  float v = x[i];
  if (NORM_IN_LOOP && MAY_NORM) x_sq[t] += v * v;
  if (norm()) v = NORM_IN_LOOP ? v * g : v * inv_rms[t] * g;
  return v;
#endif
}

#ifndef GATHER
// Sums over the workgroup of each token's squares of x: one pass over the row,
// subgroupAdd, then across subgroups through shared memory.
void compute_inv_rms(uint tok0) {
  const uint tid = gl_LocalInvocationID.x;
  float ss[NT];
  [[unroll]] for (uint t = 0; t < NT; ++t) {
    ss[t] = 0.0;
    const uint base = x_base(token_at(tok0, t));
#ifdef FLOAT_TEXELS
    for (uint k = tid * 4; k < pc.K; k += WG * 4) {
      const vec4 v = x_load4((base + k) / 4);
      ss[t] += dot(v, v);
    }
#else
    if (VEC) {
      for (uint k = tid * 4; k < pc.K; k += WG * 4) {
        const vec4 v = x4[(base + k) / 4];
        ss[t] += dot(v, v);
      }
    } else {
      for (uint k = tid; k < pc.K; k += WG) ss[t] += x[base + k] * x[base + k];
    }
#endif
  }
  [[unroll]] for (uint t = 0; t < NT; ++t) ss[t] = subgroupAdd(ss[t]);
  if (gl_NumSubgroups > 1) {
    if (subgroupElect()) {
      [[unroll]] for (uint t = 0; t < NT; ++t) norm_partial[gl_SubgroupID * NT + t] = ss[t];
    }
    barrier();
    [[unroll]] for (uint t = 0; t < NT; ++t) {
      ss[t] = 0.0;
      for (uint s = 0; s < gl_NumSubgroups; ++s) ss[t] += norm_partial[s * NT + t];
    }
  }
  [[unroll]] for (uint t = 0; t < NT; ++t) inv_rms[t] = inversesqrt(ss[t] / float(pc.K) + pc.eps);
}
#endif

void emit(uint row, uint t, float v) {
  const uint i = t * pc.y_stride + pc.y_offset + row;
  if (epilogue() == EPI_ACCUMULATE) v += y[i];
  y[i] = v;  // one store in the code, however lavapipe runs the branch
}

// The value of output row slot o (< out_rows()) from the sums of the row slots.
float epilogue_value(float gate_or_sum, float up) {
  // silu(g) = g / (1 + exp(-g)), as swiglu.comp (-> -0 for very negative g).
  return swiglu() ? gate_or_sum / (1.0 + exp(-gate_or_sum)) * up : gate_or_sum;
}

#ifdef WEIGHT_TEXELS
// One-subgroup workgroups of CPU devices (the host picks texels only there):
// a butterfly reduce-scatter leaves lane l the sums of outputs
// l N/WG .. (l + 1) N/WG - 1 (N = ROWS NT). On lavapipe each subgroupAdd is a
// serial loop over the lanes per value; the butterfly moves half the values
// per stage with subgroupShuffleXor, log2(WG) stages in all: minimind-3 size
// F16, pp128 300-330 -> 360-440 tokens/s, tg32 +10%.
const uint N_SUMS = ROWS * NT;
const uint PER_LANE = N_SUMS / WG;
// SwiGLU's pairs must not straddle lanes.
const bool MAY_SWIGLU = FUSIONS_PUSHED || EPILOGUE == EPI_SWIGLU;
const bool REDUCE_SCATTER = WG <= MIN_SUBGROUP && (WG == 4 || WG == 8 || WG == 16) && N_SUMS % WG == 0 &&
                            (!MAY_SWIGLU || PER_LANE % 2 == 0);
const uint LOG2_WG = WG == 16 ? 4 : WG == 8 ? 3 : 2;
float sums[N_SUMS];  // acc, SwiGLU's gate and up sums paired up

// Stage s of the butterfly: lanes l and l ^ (WG >> (s + 1)) swap halves of
// the sums still live, each keeping the half its bit selects.
void butterfly_stage(uint lane, const uint s) {
  const uint m = WG >> (s + 1), n_half = N_SUMS >> (s + 1);
  const bool upper = (lane & m) != 0;
  [[unroll]] for (uint i = 0; i < n_half; ++i) {
    const float keep = upper ? sums[n_half + i] : sums[i];
    const float send = upper ? sums[i] : sums[n_half + i];
    sums[i] = keep + subgroupShuffleXor(send, m);
  }
}

void reduce_scatter_store(uint row0, uint tok0) {
  const uint lane = gl_SubgroupInvocationID;
  const bool pairs = swiglu();
  [[unroll]] for (uint i = 0; i < N_SUMS; ++i) sums[i] = pairs ? acc[(i % 2) * (N_SUMS / 2) + i / 2] : acc[i];
  // Stage by stage, not a loop over the stages: a loop over stages nests
  // loops whose trip counts depend on the outer counter, which Mesa's NIR
  // (lavapipe) unrolls in many slow rounds over the 256-float array: 32 rows
  // x 8 tokens took 0.8-1.8 s to create, now ~0.1 s.
  if (LOG2_WG > 0) butterfly_stage(lane, 0);
  if (LOG2_WG > 1) butterfly_stage(lane, 1);
  if (LOG2_WG > 2) butterfly_stage(lane, 2);
  if (LOG2_WG > 3) butterfly_stage(lane, 3);
  [[unroll]] for (uint j = 0; j < PER_LANE; ++j) {
    if (pairs && j % 2 == 1) continue;                         // the up half of pair j - 1
    const uint i = (lane * PER_LANE + j) >> (pairs ? 1 : 0);  // output (o, t) = (i / NT, i % NT)
    const uint o = i / NT, t = i % NT;
    if (row0 + o < pc.rows && tok0 + t < pc.tokens)
      emit(row0 + o, tok0 + t, epilogue_value(sums[j], pairs ? sums[j + 1] : 0.0));
  }
}
#endif

void main() {
  const uint tid = gl_LocalInvocationID.x;
  const bool pairs = swiglu();
  const uint row0 = TOKENS_FAST ? (gl_WorkGroupID.z * gl_NumWorkGroups.y + gl_WorkGroupID.y) * out_rows()
                                : (gl_WorkGroupID.z * gl_NumWorkGroups.x + gl_WorkGroupID.x) * out_rows();
  if (row0 >= pc.rows) return;  // the whole workgroup: the last z layer may overhang
  const uint tok0 = (TOKENS_FAST ? gl_WorkGroupID.x : gl_WorkGroupID.y) * NT;
  const uint row_units = w_row_units(pc.K);
#ifdef GATHER
  // Clamped so a corrupt id reads some expert rather than out of bounds.
  const uint expert = min(expert_ids[tok0], pc.n_experts - 1);
  // Stacked experts past maxStorageBufferRange are bound in expert ranges,
  // one dispatch each; a pair is computed by the dispatch holding its expert.
  if (expert < pc.expert_begin || expert >= pc.expert_end) return;  // uniform: NT = 1
  const uint w_offset = pc.w_offset + (expert - pc.expert_begin) * pc.rows * row_units;
#else
  const uint w_offset = pc.w_offset;
#endif

  uint row_base[ROWS];
#ifdef FLOAT_TEXELS
  // Tiles: units from one step's texel of a row to the next step's (a chunk of each row of its block).
  uint tile_step[ROWS];
  const uint TILE_ELEMS = WG * W_TEXEL_ELEMS;
#endif
  [[unroll]] for (uint r = 0; r < ROWS; ++r) {
    // Rows past the end read the last row (in bounds) and are not stored.
    const uint row = pairs ? min(row0 + r % (ROWS / 2), pc.rows - 1) + (r < ROWS / 2 ? 0 : pc.rows)
                            : min(row0 + r, pc.rows - 1);
    row_base[r] = w_offset + row * row_units;
#ifdef FLOAT_TEXELS
    if (TILE_ROWS > 0) {
      const uint block = row - row % TILE_ROWS;
      row_base[r] = w_offset + block * pc.K + (row - block) * TILE_ELEMS;
      tile_step[r] = min(TILE_ROWS, (pairs ? 2 * pc.rows : pc.rows) - block) * TILE_ELEMS;
    }
#endif
    [[unroll]] for (uint t = 0; t < NT; ++t) acc[r * NT + t] = 0.0;
  }
  [[unroll]] for (uint t = 0; t < NT; ++t) {
    inv_rms[t] = 1.0;
    x_sq[t] = 0.0;
  }
#ifndef GATHER
  if (norm() && !NORM_IN_LOOP) compute_inv_rms(tok0);
#endif

#ifdef FLOAT_TEXELS
  // The host guarantees K % W_TEXEL_ELEMS == 0, rows starting on a texel and
  // x 16-byte aligned.
  for (uint k = tid * W_TEXEL_ELEMS, step = 0; k < pc.K; k += WG * W_TEXEL_ELEMS, ++step) {
    vec4 lo[ROWS], hi[ROWS];
    [[unroll]] for (uint r = 0; r < ROWS; ++r)
      w_load_texel(row_base[r], TILE_ROWS > 0 ? step * tile_step[r] + tid * W_TEXEL_ELEMS : k, lo[r], hi[r]);
    const vec4 ga = gamma_at(k), gb = W_TEXEL_ELEMS == 8 ? gamma_at(k + 4) : vec4(1.0);
    [[unroll]] for (uint t = 0; t < NT; ++t) {
      const uint xi = (x_base(token_at(tok0, t)) + k) / 4;
      const vec4 xa = x_in4(t, xi, ga);
      if (W_TEXEL_ELEMS == 8) {
        const vec4 xb = x_in4(t, xi + 1, gb);
        [[unroll]] for (uint r = 0; r < ROWS; ++r) acc[r * NT + t] = fma4(hi[r], xb, fma4(lo[r], xa, acc[r * NT + t]));
      } else {
        [[unroll]] for (uint r = 0; r < ROWS; ++r) acc[r * NT + t] = fma4(lo[r], xa, acc[r * NT + t]);
      }
    }
  }
#else
#ifdef W_BLOCKED
  if (VEC) {
    // Blocked rows are whole 32- or 256-element blocks, so K % 16 == 0: each
    // thread takes 16 elements, whose scales it decodes once (w_load16).
    for (uint k = tid * 16; k < pc.K; k += WG * 16) {
      vec4 w[ROWS * 4];
      [[unroll]] for (uint r = 0; r < ROWS; ++r)
        w_load16(row_base[r], k, w[4 * r], w[4 * r + 1], w[4 * r + 2], w[4 * r + 3]);
      const vec4 g0 = gamma_at(k), g1 = gamma_at(k + 4), g2 = gamma_at(k + 8), g3 = gamma_at(k + 12);
      [[unroll]] for (uint t = 0; t < NT; ++t) {
        const uint xi = (x_base(token_at(tok0, t)) + k) / 4;
        const vec4 x0 = x_in4(t, xi, g0), x1 = x_in4(t, xi + 1, g1), x2 = x_in4(t, xi + 2, g2),
                   x3 = x_in4(t, xi + 3, g3);
        [[unroll]] for (uint r = 0; r < ROWS; ++r) {
          const float a = fma4(w[4 * r + 1], x1, fma4(w[4 * r], x0, acc[r * NT + t]));
          acc[r * NT + t] = fma4(w[4 * r + 3], x3, fma4(w[4 * r + 2], x2, a));
        }
      }
    }
  } else
#endif
  if (VEC) {
    // VEC implies K % 4 == 0 and x_stride % 4 == 0.
    for (uint k = tid * 4; k < pc.K; k += WG * 4) {
      vec4 w[ROWS];
      [[unroll]] for (uint r = 0; r < ROWS; ++r) w[r] = w_load4(row_base[r], k);
      const vec4 g = gamma_at(k);
      [[unroll]] for (uint t = 0; t < NT; ++t) {
        vec4 xv = x_in4(t, (x_base(token_at(tok0, t)) + k) / 4, g);
        [[unroll]] for (uint r = 0; r < ROWS; ++r) acc[r * NT + t] = fma4(w[r], xv, acc[r * NT + t]);
      }
    }
  } else {
    for (uint k = tid; k < pc.K; k += WG) {
      float w[ROWS];
      [[unroll]] for (uint r = 0; r < ROWS; ++r) w[r] = w_load1(row_base[r], k);
#ifndef GATHER
      float g = 1.0;
      if (norm()) g = gamma[k];  // a branch: without the norm, binding 3 may be shorter than K floats
#else
      const float g = 1.0;
#endif
      [[unroll]] for (uint t = 0; t < NT; ++t) {
        float xv = x_in1(t, x_base(token_at(tok0, t)) + k, g);
        [[unroll]] for (uint r = 0; r < ROWS; ++r) acc[r * NT + t] = fma(w[r], xv, acc[r * NT + t]);
      }
    }
  }
#endif

#ifndef GATHER
  if (NORM_IN_LOOP && MAY_NORM) {
    [[unroll]] for (uint t = 0; t < NT; ++t) {
      const float scale = norm() ? inversesqrt(subgroupAdd(x_sq[t]) / float(pc.K) + pc.eps) : 1.0;
      [[unroll]] for (uint r = 0; r < ROWS; ++r) acc[r * NT + t] *= scale;
    }
  }
#endif
#ifdef WEIGHT_TEXELS
  if (REDUCE_SCATTER) {
    reduce_scatter_store(row0, tok0);
    return;
  }
#endif
  // Within each subgroup, then one value per subgroup through shared memory.
  [[unroll]] for (uint i = 0; i < ROWS * NT; ++i) acc[i] = subgroupAdd(acc[i]);
  if (gl_NumSubgroups == 1) {
    // Every lane holds every sum: lane l stores outputs l, l + WG, ..., so a
    // store (and SwiGLU's exp) serves WG outputs at once, not one.
    // SwiGLU's gate sums are the first half of acc, its up sums the second.
    // MAX_OUTS bounds out_rows() * NT where the epilogue is a constant.
    const uint outs = out_rows() * NT;
    const uint MAX_OUTS = (EPILOGUE == EPI_SWIGLU && !FUSIONS_PUSHED ? ROWS / 2 : ROWS) * NT;
    [[unroll]] for (uint j = 0; j < (MAX_OUTS + WG - 1) / WG; ++j) {
      float sum = 0.0, up = 0.0;
      [[unroll]] for (uint c = 0; c < WG; ++c) {
        const uint i = j * WG + c;  // output (o, t) = (i / NT, i % NT)
        if (tid == c && i < outs) {
          sum = acc[i];
          if (pairs) up = acc[min(i + ROWS * NT / 2, ROWS * NT - 1)];
        }
      }
      const uint i = j * WG + tid, o = i / NT, t = i % NT;
      if (i < outs && row0 + o < pc.rows && tok0 + t < pc.tokens)
        emit(row0 + o, tok0 + t, epilogue_value(sum, up));
    }
    return;
  }
  if (subgroupElect()) {
    [[unroll]] for (uint i = 0; i < ROWS * NT; ++i) partial[gl_SubgroupID * ROWS * NT + i] = acc[i];
  }
  barrier();
  // One thread per (output row, token) sums the subgroups' partials.
  for (uint i = tid; i < out_rows() * NT; i += WG) {
    const uint o = i / NT, t = i % NT;
    if (row0 + o >= pc.rows || tok0 + t >= pc.tokens) continue;
    float sum = 0.0, up = 0.0;
    for (uint s = 0; s < gl_NumSubgroups; ++s) {
      sum += partial[s * ROWS * NT + i];
      if (pairs) up += partial[s * ROWS * NT + ROWS * NT / 2 + i];
    }
    emit(row0 + o, tok0 + t, epilogue_value(sum, up));
  }
}
