// Each type: its layout (from llama.cpp's ggml block definitions; offsets in
// bytes, f16 little-endian), the decoder, then the encoder. Encoders fit every
// sub-block with model/quant_search.h, quantize the sub-block scales against a
// super-block scale, and then choose the levels again for the scales as stored.
#include "model/kquant_codec.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <span>

#include "model/quant_search.h"
#include "model/weight_codec.h"

namespace vkmind::kquant {

namespace {

float get_half(const uint8_t* p) { return half_to_float(uint16_t(p[0] | (p[1] << 8))); }

// Stores f as f16 and returns the value stored, which the levels must use.
float put_half(uint8_t* p, float f) {
  const uint16_t h = float_to_half(f);
  p[0] = uint8_t(h & 0xff);
  p[1] = uint8_t(h >> 8);
  return half_to_float(h);
}

int nearest_clamped(float v, int lo, int hi) { return std::clamp(int(std::lround(v)), lo, hi); }

float max_of(std::span<const float> v) { return *std::max_element(v.begin(), v.end()); }
float max_abs_value(std::span<const float> v) {
  return *std::max_element(v.begin(), v.end(), [](float a, float b) { return std::fabs(a) < std::fabs(b); });
}

// ---------------------------------------------------------------- Q2_K
// 84 bytes: scales[16] @0, qs[64] @16, f16 d @80, f16 dmin @82.
// 16 sub-blocks of 16; scales[i] = scale (low nibble) | min (high nibble).
// Element e: sub-block i = e / 16; q = (qs[32 * (e / 128) + e % 32] >> 2 * ((e % 128) / 32)) & 3;
// value = d * scale * q - dmin * min.
void decode_q2_k(const uint8_t* b, float* y) {
  const float d = get_half(b + 80), dmin = get_half(b + 82);
  for (int e = 0; e < 256; ++e) {
    const uint8_t sc = b[e / 16];
    const int q = (b[16 + 32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
    y[e] = d * float(sc & 15) * float(q) - dmin * float(sc >> 4);
  }
}

void encode_q2_k(const float* x, uint8_t* b) {
  std::memset(b, 0, 84);
  float scale[16], min[16];
  for (int i = 0; i < 16; ++i) {
    const quant::AffineFit f = quant::fit_affine({x + 16 * i, 16}, 3);
    scale[i] = f.scale, min[i] = -f.offset;
  }
  const float d = put_half(b + 80, max_of(scale) / 15), dmin = put_half(b + 82, max_of(min) / 15);
  for (int i = 0; i < 16; ++i) {
    const int sc = d > 0 ? nearest_clamped(scale[i] / d, 0, 15) : 0;
    const int m = dmin > 0 ? nearest_clamped(min[i] / dmin, 0, 15) : 0;
    b[i] = uint8_t(sc | (m << 4));
    uint8_t q[16];
    quant::assign_affine({x + 16 * i, 16}, d * float(sc), -dmin * float(m), 3, q);
    for (int l = 0; l < 16; ++l) {
      const int e = 16 * i + l;
      b[16 + 32 * (e / 128) + e % 32] |= uint8_t(q[l] << (2 * ((e % 128) / 32)));
    }
  }
}

// ---------------------------------------------------------------- Q3_K
// 110 bytes: hmask[32] @0, qs[64] @32, scales[12] @96, f16 d @108.
// 16 sub-blocks of 16 with 6-bit scales s (stored + 32): low four bits in
// scales[i] (i < 8) or scales[i - 8] >> 4, high two bits (scales[8 + i % 4] >> 2 * (i / 4)) & 3.
// Element e: low = (qs[32 * (e / 128) + e % 32] >> 2 * ((e % 128) / 32)) & 3,
// high = (hmask[e % 32] >> (4 * (e / 128) + (e % 128) / 32)) & 1;
// value = d * (s - 32) * (low - (high ? 0 : 4)).
int q3_k_scale(const uint8_t* scales, int i) {
  const int low = i < 8 ? scales[i] & 15 : scales[i - 8] >> 4;
  const int high = (scales[8 + i % 4] >> (2 * (i / 4))) & 3;
  return (low | (high << 4)) - 32;
}

void decode_q3_k(const uint8_t* b, float* y) {
  const float d = get_half(b + 108);
  for (int e = 0; e < 256; ++e) {
    const int shift = (e % 128) / 32;
    const int low = (b[32 + 32 * (e / 128) + e % 32] >> (2 * shift)) & 3;
    const int high = (b[e % 32] >> (4 * (e / 128) + shift)) & 1;
    y[e] = d * float(q3_k_scale(b + 96, e / 16)) * float(low - (high ? 0 : 4));
  }
}

void encode_q3_k(const float* x, uint8_t* b) {
  std::memset(b, 0, 110);
  float scale[16];
  for (int i = 0; i < 16; ++i) scale[i] = quant::fit_symmetric({x + 16 * i, 16}, -4, 3);
  const float d = put_half(b + 108, max_abs_value(scale) / -32);
  uint8_t* scales = b + 96;
  for (int i = 0; i < 16; ++i) {
    const int s = d != 0 ? nearest_clamped(scale[i] / d, -32, 31) : 0;
    const int u = s + 32;
    scales[i < 8 ? i : i - 8] |= uint8_t((u & 15) << (i < 8 ? 0 : 4));
    scales[8 + i % 4] |= uint8_t((u >> 4) << (2 * (i / 4)));
    int8_t q[16];
    quant::assign_symmetric({x + 16 * i, 16}, d * float(s), -4, 3, q);
    for (int l = 0; l < 16; ++l) {
      const int e = 16 * i + l, shift = (e % 128) / 32, level = q[l] + 4;
      b[32 + 32 * (e / 128) + e % 32] |= uint8_t((level & 3) << (2 * shift));
      b[e % 32] |= uint8_t((level >> 2) << (4 * (e / 128) + shift));
    }
  }
}

// ------------------------------------------------------- Q4_K and Q5_K
// Q4_K, 144 bytes: f16 d @0, f16 dmin @2, scales[12] @4, qs[128] @16.
// Q5_K, 176 bytes: the same, then qh[32] @16 and qs[128] @48.
// 8 sub-blocks of 32, each with a 6-bit scale s and 6-bit min m packed in 12 bytes:
//   i < 4:  s = scales[i] & 63,  m = scales[i + 4] & 63;
//   i >= 4: s = (scales[i + 4] & 15) | (scales[i - 4] >> 6) << 4,
//           m = (scales[i + 4] >> 4) | (scales[i] >> 6) << 4.
// Element e: i = e / 32; q = nibble of qs[32 * (e / 64) + e % 32], low for even
// i, high for odd; Q5_K adds ((qh[e % 32] >> i) & 1) << 4. value = d * s * q - dmin * m.
void k_scale_min(const uint8_t* scales, int i, int& s, int& m) {
  if (i < 4) {
    s = scales[i] & 63, m = scales[i + 4] & 63;
  } else {
    s = (scales[i + 4] & 15) | ((scales[i - 4] >> 6) << 4);
    m = (scales[i + 4] >> 4) | ((scales[i] >> 6) << 4);
  }
}

void put_k_scale_min(uint8_t* scales, int i, int s, int m) {
  if (i < 4) {
    scales[i] |= uint8_t(s), scales[i + 4] |= uint8_t(m);
  } else {
    scales[i + 4] |= uint8_t((s & 15) | ((m & 15) << 4));
    scales[i - 4] |= uint8_t((s >> 4) << 6);
    scales[i] |= uint8_t((m >> 4) << 6);
  }
}

template <bool kFive>
void decode_q45_k(const uint8_t* b, float* y) {
  const float d = get_half(b), dmin = get_half(b + 2);
  const uint8_t* qs = b + (kFive ? 48 : 16);
  for (int e = 0; e < 256; ++e) {
    const int i = e / 32;
    int s, m;
    k_scale_min(b + 4, i, s, m);
    int q = (qs[32 * (e / 64) + e % 32] >> (i % 2 ? 4 : 0)) & 15;
    if (kFive) q |= ((b[16 + e % 32] >> i) & 1) << 4;
    y[e] = d * float(s) * float(q) - dmin * float(m);
  }
}

template <bool kFive>
void encode_q45_k(const float* x, uint8_t* b) {
  constexpr int kTop = kFive ? 31 : 15;
  std::memset(b, 0, kFive ? 176 : 144);
  float scale[8], min[8];
  for (int i = 0; i < 8; ++i) {
    const quant::AffineFit f = quant::fit_affine({x + 32 * i, 32}, kTop);
    scale[i] = f.scale, min[i] = -f.offset;
  }
  const float d = put_half(b, max_of(scale) / 63), dmin = put_half(b + 2, max_of(min) / 63);
  uint8_t* qs = b + (kFive ? 48 : 16);
  for (int i = 0; i < 8; ++i) {
    const int s = d > 0 ? nearest_clamped(scale[i] / d, 0, 63) : 0;
    const int m = dmin > 0 ? nearest_clamped(min[i] / dmin, 0, 63) : 0;
    put_k_scale_min(b + 4, i, s, m);
    uint8_t q[32];
    quant::assign_affine({x + 32 * i, 32}, d * float(s), -dmin * float(m), kTop, q);
    for (int l = 0; l < 32; ++l) {
      qs[32 * (i / 2) + l] |= uint8_t((q[l] & 15) << (i % 2 ? 4 : 0));
      if (kFive) b[16 + l] |= uint8_t((q[l] >> 4) << i);
    }
  }
}

// ---------------------------------------------------------------- Q6_K
// 210 bytes: ql[128] @0, qh[64] @128, int8 scales[16] @192, f16 d @208.
// Element e: h = e / 128, c = (e % 128) / 32, l = e % 32;
// low = ql[64 * h + 32 * (c % 2) + l] >> (c < 2 ? 0 : 4) & 15, high = (qh[32 * h + l] >> 2 * c) & 3;
// value = d * scales[e / 16] * ((low | high << 4) - 32).
void decode_q6_k(const uint8_t* b, float* y) {
  const float d = get_half(b + 208);
  for (int e = 0; e < 256; ++e) {
    const int h = e / 128, c = (e % 128) / 32, l = e % 32;
    const int low = (b[64 * h + 32 * (c % 2) + l] >> (c < 2 ? 0 : 4)) & 15;
    const int high = (b[128 + 32 * h + l] >> (2 * c)) & 3;
    y[e] = d * float(int8_t(b[192 + e / 16])) * float((low | (high << 4)) - 32);
  }
}

void encode_q6_k(const float* x, uint8_t* b) {
  std::memset(b, 0, 210);
  float scale[16];
  for (int i = 0; i < 16; ++i) scale[i] = quant::fit_symmetric({x + 16 * i, 16}, -32, 31);
  const float d = put_half(b + 208, max_abs_value(scale) / -128);
  for (int i = 0; i < 16; ++i) {
    const int s = d != 0 ? nearest_clamped(scale[i] / d, -128, 127) : 0;
    b[192 + i] = uint8_t(int8_t(s));
    int8_t q[16];
    quant::assign_symmetric({x + 16 * i, 16}, d * float(s), -32, 31, q);
    for (int k = 0; k < 16; ++k) {
      const int e = 16 * i + k, h = e / 128, c = (e % 128) / 32, l = e % 32, level = q[k] + 32;
      b[64 * h + 32 * (c % 2) + l] |= uint8_t((level & 15) << (c < 2 ? 0 : 4));
      b[128 + 32 * h + l] |= uint8_t((level >> 4) << (2 * c));
    }
  }
}

// -------------------------------------------------------------- IQ4_NL
// 18 bytes: f16 d @0, qs[16] @2. Element j: nibble of qs[j % 16], low for j < 16;
// value = d * kIq4Levels[nibble].
void decode_iq4_nl(const uint8_t* b, float* y) {
  const float d = get_half(b);
  for (int j = 0; j < 32; ++j) y[j] = d * float(kIq4Levels[(b[2 + j % 16] >> (j < 16 ? 0 : 4)) & 15]);
}

void encode_iq4_nl(const float* x, uint8_t* b) {
  std::memset(b, 0, 18);
  const float d = put_half(b, quant::fit_codebook({x, 32}, kIq4Levels));
  uint8_t q[32];
  quant::assign_codebook({x, 32}, d, kIq4Levels, q);
  for (int j = 0; j < 32; ++j) b[2 + j % 16] |= uint8_t(q[j] << (j < 16 ? 0 : 4));
}

// -------------------------------------------------------------- IQ4_XS
// 136 bytes: f16 d @0, u16 scales_h @2, scales_l[4] @4, qs[128] @8.
// 8 sub-blocks of 32 with 6-bit scales: ls = (scales_l[i / 2] >> 4 * (i % 2)) & 15
// | ((scales_h >> 2 * i) & 3) << 4. Element e: i = e / 32, r = e % 32; nibble of
// qs[16 * i + r % 16], low for r < 16; value = d * (ls - 32) * kIq4Levels[nibble].
void decode_iq4_xs(const uint8_t* b, float* y) {
  const float d = get_half(b);
  const unsigned scales_h = b[2] | (b[3] << 8);
  for (int e = 0; e < 256; ++e) {
    const int i = e / 32, r = e % 32;
    const int ls = ((b[4 + i / 2] >> (4 * (i % 2))) & 15) | (((scales_h >> (2 * i)) & 3) << 4);
    y[e] = d * float(ls - 32) * float(kIq4Levels[(b[8 + 16 * i + r % 16] >> (r < 16 ? 0 : 4)) & 15]);
  }
}

void encode_iq4_xs(const float* x, uint8_t* b) {
  std::memset(b, 0, 136);
  float scale[8];
  for (int i = 0; i < 8; ++i) scale[i] = quant::fit_codebook({x + 32 * i, 32}, kIq4Levels);
  const float d = put_half(b, max_abs_value(scale) / -32);
  unsigned scales_h = 0;
  for (int i = 0; i < 8; ++i) {
    const int s = d != 0 ? nearest_clamped(scale[i] / d, -32, 31) : 0;
    const int u = s + 32;
    b[4 + i / 2] |= uint8_t((u & 15) << (4 * (i % 2)));
    scales_h |= unsigned(u >> 4) << (2 * i);
    uint8_t q[32];
    quant::assign_codebook({x + 32 * i, 32}, d * float(s), kIq4Levels, q);
    for (int r = 0; r < 32; ++r) b[8 + 16 * i + r % 16] |= uint8_t(q[r] << (r < 16 ? 0 : 4));
  }
  b[2] = uint8_t(scales_h & 0xff);
  b[3] = uint8_t(scales_h >> 8);
}

constexpr BlockCodec kQ2K{decode_q2_k, encode_q2_k};
constexpr BlockCodec kQ3K{decode_q3_k, encode_q3_k};
constexpr BlockCodec kQ4K{decode_q45_k<false>, encode_q45_k<false>};
constexpr BlockCodec kQ5K{decode_q45_k<true>, encode_q45_k<true>};
constexpr BlockCodec kQ6K{decode_q6_k, encode_q6_k};
constexpr BlockCodec kIq4Nl{decode_iq4_nl, encode_iq4_nl};
constexpr BlockCodec kIq4Xs{decode_iq4_xs, encode_iq4_xs};

}  // namespace

const BlockCodec* block_codec(TensorType type) {
  switch (type) {
    case TensorType::Q2_K: return &kQ2K;
    case TensorType::Q3_K: return &kQ3K;
    case TensorType::Q4_K: return &kQ4K;
    case TensorType::Q5_K: return &kQ5K;
    case TensorType::Q6_K: return &kQ6K;
    case TensorType::IQ4_NL: return &kIq4Nl;
    case TensorType::IQ4_XS: return &kIq4Xs;
    default: return nullptr;
  }
}

}  // namespace vkmind::kquant
