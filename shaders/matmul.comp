#version 450
// Tiled matrix product for prefill: y[t][r] = sum_k W[r][k] * x[t][k].
// Each workgroup computes a BM (rows of W) x BN (tokens) tile of y. Per step
// of BK along K it dequantizes a BM x BK tile of W and copies a BN x BK tile
// of x into shared memory (stored k-major, padded by one to spread the banks),
// then every thread accumulates its TM x TN outputs in f32 registers. Tiles
// past the edges of W, x or K are zero-filled, so any M, N, K work.
// Tile sizes are specialization constants: WG must equal (BM/TM) * (BN/TN);
// shared memory is BK * (BM + BN + 2) floats (lavapipe has 32 KiB).
//
// Grid: x = row tiles (rows / BM, rounded up; SWIGLU: rows / (BM/2)), y = token tiles (tokens / BN).
//
// NORM and EPILOGUE fuse an input RMSNorm and a residual add or SwiGLU, as in
// matvec.comp (see there). SWIGLU: tile rows r < BM/2 are gate rows and
// r >= BM/2 the matching up rows, so a thread's rows i and i + TM/2 (BM/2
// apart) are one gate/up pair.
#define PUSH_Matmul
#include "push_constants.h"
#define WEIGHT_BINDING 0
#include "weights.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 256;
layout(constant_id = 1) const uint BM = 64;
layout(constant_id = 2) const uint BN = 64;
layout(constant_id = 3) const uint BK = 16;       // multiple of 4
layout(constant_id = 4) const uint TM = 4;
layout(constant_id = 5) const uint TN = 4;
layout(constant_id = 6) const bool VEC = false;   // 4-wide loads of W and x (see weights.glsl)
layout(constant_id = 7) const bool NORM = false;
layout(constant_id = 8) const uint EPILOGUE = 0;
const uint EPI_STORE = 0, EPI_ACCUMULATE = 1, EPI_SWIGLU = 2;
const bool SWIGLU = EPILOGUE == EPI_SWIGLU;
const uint OUT_ROWS = SWIGLU ? BM / 2 : BM;  // output rows per tile

layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer X4 { vec4 x4[]; };
layout(std430, binding = 2) buffer Y { float y[]; };
layout(std430, binding = 3) readonly buffer Gamma { float gamma[]; };

const uint BM_P = BM + 1;
const uint BN_P = BN + 1;
shared float w_tile[BK * BM_P];
shared float x_tile[BK * BN_P];
shared float tile_inv_rms[BN];

// Physical row of W behind tile row r, and whether it is a real row.
uint weight_row(uint row0, uint r, out bool valid) {
  const uint out_row = row0 + (SWIGLU ? r % OUT_ROWS : r);
  valid = out_row < pc.rows;
  return out_row + (SWIGLU && r >= OUT_ROWS ? pc.rows : 0);
}

// x[t][k] as the product uses it (NORM: (x * 1/rms) * gamma, rounded as rmsnorm.comp).
float x_in(uint t_tile, uint k, float v) { return NORM ? v * tile_inv_rms[t_tile] * gamma[k] : v; }

void emit(uint t, uint row, float v) {
  const uint i = t * pc.y_stride + pc.y_offset + row;
  if (EPILOGUE == EPI_ACCUMULATE) {
    y[i] += v;
  } else {
    y[i] = v;
  }
}

// One step's tiles as this thread copies them: VEC, 4-element chunks c = tid,
// tid + WG, ... of W (BM x BK) then of x (BN x BK), consecutive threads on
// consecutive chunks of a row; else single elements the same way. Tiles past
// the edges of W, x or K are zero.
const uint W_UNITS = VEC ? BM * BK / 4 : BM * BK;
const uint X_UNITS = VEC ? BN * BK / 4 : BN * BK;
const uint W_PER = (W_UNITS + WG - 1) / WG;
const uint X_PER = (X_UNITS + WG - 1) / WG;
const uint ELEMS = VEC ? 4 : 1;  // elements per unit
vec4 w_staged[W_PER];
vec4 x_staged[X_PER];

void fetch(uint k0, uint row0, uint tok0, uint row_units) {
  const uint tid = gl_LocalInvocationID.x;
  const uint k_units = BK / ELEMS;
  for (uint i = 0; i < W_PER; ++i) {
    const uint c = tid + i * WG, r = c / k_units, k = k0 + (c % k_units) * ELEMS;
    vec4 w = vec4(0.0);
    bool valid;
    const uint row = weight_row(row0, min(r, BM - 1), valid);
    if (c < W_UNITS && valid && k < pc.K) {
      if (VEC) w = w_load4(pc.w_offset + row * row_units, k);
      else w.x = w_load1(pc.w_offset + row * row_units, k);
    }
    w_staged[i] = w;
  }
  for (uint i = 0; i < X_PER; ++i) {
    const uint c = tid + i * WG, t = c / k_units, k = k0 + (c % k_units) * ELEMS;
    vec4 v = vec4(0.0);
    if (c < X_UNITS && tok0 + t < pc.tokens && k < pc.K) {
      if (VEC) v = x4[((tok0 + t) * pc.x_stride + k) / 4];
      else v.x = x[(tok0 + t) * pc.x_stride + k];
    }
    for (uint q = 0; q < ELEMS; ++q) v[q] = x_in(min(t, BN - 1), min(k + q, pc.K - 1), v[q]);
    x_staged[i] = v;
  }
}

// The staged tiles into shared memory, k-major.
void stash() {
  const uint tid = gl_LocalInvocationID.x;
  const uint k_units = BK / ELEMS;
  for (uint i = 0; i < W_PER; ++i) {
    const uint c = tid + i * WG, r = c / k_units, kq = (c % k_units) * ELEMS;
    if (c < W_UNITS)
      for (uint q = 0; q < ELEMS; ++q) w_tile[(kq + q) * BM_P + r] = w_staged[i][q];
  }
  for (uint i = 0; i < X_PER; ++i) {
    const uint c = tid + i * WG, t = c / k_units, kq = (c % k_units) * ELEMS;
    if (c < X_UNITS)
      for (uint q = 0; q < ELEMS; ++q) x_tile[(kq + q) * BN_P + t] = x_staged[i][q];
  }
}

void main() {
  const uint RT = BM / TM;  // threads along the rows of the tile
  const uint CT = BN / TN;  // threads along its tokens
  const uint tid = gl_LocalInvocationID.x;
  const uint tr = tid % RT;
  const uint tc = tid / RT;
  const uint row0 = gl_WorkGroupID.x * OUT_ROWS;
  const uint tok0 = gl_WorkGroupID.y * BN;
  const uint row_units = w_row_units(pc.K);

  float acc[TM * TN];
  for (uint i = 0; i < TM * TN; ++i) acc[i] = 0.0;
  if (NORM) {
    // One thread per token of the tile: a serial pass over its row (the
    // GEMM itself reads each x row rows/BM times over).
    for (uint j = tid; j < BN; j += WG) {
      float ss = 0.0;
      if (tok0 + j < pc.tokens) {
        for (uint k = 0; k < pc.K; ++k) {
          const float v = x[(tok0 + j) * pc.x_stride + k];
          ss += v * v;
        }
      }
      tile_inv_rms[j] = inversesqrt(ss / float(pc.K) + pc.eps);
    }
    barrier();
  }

  // Staged in registers: the next step's global loads are issued before this
  // step's FMAs and land in shared memory after them, so their latency hides
  // behind the arithmetic with one tile of shared memory.
  fetch(0, row0, tok0, row_units);
  for (uint k0 = 0; k0 < pc.K; k0 += BK) {
    stash();
    barrier();
    if (k0 + BK < pc.K) fetch(k0 + BK, row0, tok0, row_units);

    for (uint k = 0; k < BK; ++k) {
      float a[TM], b[TN];
      for (uint i = 0; i < TM; ++i) a[i] = w_tile[k * BM_P + tr + i * RT];
      for (uint j = 0; j < TN; ++j) b[j] = x_tile[k * BN_P + tc + j * CT];
      for (uint i = 0; i < TM; ++i)
        for (uint j = 0; j < TN; ++j) acc[i * TN + j] = fma(a[i], b[j], acc[i * TN + j]);
    }
    barrier();
  }

  // Consecutive threads hold consecutive rows: coalesced stores along y's rows.
  const uint OUT_TM = SWIGLU ? TM / 2 : TM;
  for (uint j = 0; j < TN; ++j) {
    uint t = tok0 + tc + j * CT;
    if (t >= pc.tokens) continue;
    for (uint i = 0; i < OUT_TM; ++i) {
      uint r = row0 + tr + i * RT;
      if (r >= pc.rows) continue;
      float v = acc[i * TN + j];
      // silu(g) * up as swiglu.comp computes it; the up row is tile row + BM/2.
      if (SWIGLU) v = v / (1.0 + exp(-v)) * acc[(i + OUT_TM) * TN + j];
      emit(t, r, v);
    }
  }
}
