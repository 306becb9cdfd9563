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
// Grid: x = row tiles (rows / BM, rounded up), y = token tiles (tokens / BN).
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

layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer X4 { vec4 x4[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };

const uint BM_P = BM + 1;
const uint BN_P = BN + 1;
shared float w_tile[BK * BM_P];
shared float x_tile[BK * BN_P];

void main() {
  const uint RT = BM / TM;  // threads along the rows of the tile
  const uint CT = BN / TN;  // threads along its tokens
  const uint tid = gl_LocalInvocationID.x;
  const uint tr = tid % RT;
  const uint tc = tid / RT;
  const uint row0 = gl_WorkGroupID.x * BM;
  const uint tok0 = gl_WorkGroupID.y * BN;
  const uint row_units = w_row_units(pc.K);

  float acc[TM * TN];
  for (uint i = 0; i < TM * TN; ++i) acc[i] = 0.0;

  for (uint k0 = 0; k0 < pc.K; k0 += BK) {
    if (VEC) {
      // 4-element chunks; consecutive threads read consecutive chunks of a row.
      for (uint c = tid; c < BM * BK / 4; c += WG) {
        uint r = c / (BK / 4), kq = (c % (BK / 4)) * 4;
        vec4 w = vec4(0.0);
        if (row0 + r < pc.rows && k0 + kq < pc.K) w = w_load4(pc.w_offset + (row0 + r) * row_units, k0 + kq);
        for (uint q = 0; q < 4; ++q) w_tile[(kq + q) * BM_P + r] = w[q];
      }
      for (uint c = tid; c < BN * BK / 4; c += WG) {
        uint t = c / (BK / 4), kq = (c % (BK / 4)) * 4;
        vec4 v = vec4(0.0);
        if (tok0 + t < pc.tokens && k0 + kq < pc.K) v = x4[((tok0 + t) * pc.x_stride + k0 + kq) / 4];
        for (uint q = 0; q < 4; ++q) x_tile[(kq + q) * BN_P + t] = v[q];
      }
    } else {
      for (uint e = tid; e < BM * BK; e += WG) {
        uint r = e / BK, k = e % BK;
        float w = 0.0;
        if (row0 + r < pc.rows && k0 + k < pc.K) w = w_load1(pc.w_offset + (row0 + r) * row_units, k0 + k);
        w_tile[k * BM_P + r] = w;
      }
      for (uint e = tid; e < BN * BK; e += WG) {
        uint t = e / BK, k = e % BK;
        float v = 0.0;
        if (tok0 + t < pc.tokens && k0 + k < pc.K) v = x[(tok0 + t) * pc.x_stride + k0 + k];
        x_tile[k * BN_P + t] = v;
      }
    }
    barrier();

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
  for (uint j = 0; j < TN; ++j) {
    uint t = tok0 + tc + j * CT;
    if (t >= pc.tokens) continue;
    for (uint i = 0; i < TM; ++i) {
      uint r = row0 + tr + i * RT;
      if (r < pc.rows) y[t * pc.y_stride + pc.y_offset + r] = acc[i * TN + j];
    }
  }
}
