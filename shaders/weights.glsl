// Reading weights of every stored type from one storage buffer, dequantized
// to f32. The type is chosen per variant by one define (shaders/CMakeLists.txt):
// WEIGHT_F32, WEIGHT_F16, WEIGHT_BF16, WEIGHT_Q8_0, WEIGHT_Q4_0, WEIGHT_Q4_1,
// WEIGHT_Q5_0 or WEIGHT_Q5_1. The user defines WEIGHT_BINDING before
// including this file.
//
// Only storageBuffer16BitAccess is guaranteed (not 8-bit storage, not fp16 or
// int16 arithmetic), so 16-bit values are storage types only: each is widened
// to 32 bits on load and all math is f32. Halves are decoded with
// unpackHalf2x16, which needs no fp16 feature.
//
// Addresses are in "units" of the weight buffer: floats for F32, 16-bit words
// for the others. A row starts at unit `row_base` = w_offset + row * w_row_units(K).
// Blocked types (GGUF layouts, design.md), 32 elements per block:
//   Q8_0 = 17 words: f16 scale, then 32 int8 (two per word, low byte first);
//   Q4_0 =  9 words: f16 scale d, then 16 bytes qs; element j < 16 is the low
//          nibble of qs[j], element j >= 16 the high nibble of qs[j - 16];
//          value = (nibble - 8) * d.
//   Q4_1 = 10 words: f16 d, f16 min m, then qs as Q4_0; value = nibble * d + m.
//   Q5_0 = 11 words: f16 d, 4 bytes qh (bit j: element j's fifth bit), qs as
//          Q4_0; value = ((nibble | bit << 4) - 16) * d.
//   Q5_1 = 12 words: f16 d, f16 m, qh, qs; value = (nibble | bit << 4) * d + m.
// The 4- and 5-bit types share one reader: W_QS (unit of qs), W_QH (unit of
// qh, 5-bit types), W_MIN (the unit of m; unsigned types) or W_ZERO (the
// offset of signed ones).
//
// w_load4 reads 4 consecutive elements starting at k (k % 4 == 0). For the
// float types it uses a wide alias of the buffer, valid only when row_base
// and k are multiples of 4 (the host sets the VEC specialization constant
// accordingly); the blocked types only need K % 32 == 0.
//
// WEIGHT_TEXELS (float types only): the weights are a uniform texel buffer of
// R32G32B32A32_UINT instead, read W_TEXEL_ELEMS elements (16 bytes) per fetch
// with w_load_texel. On lavapipe a texel fetch is one vector gather, while a
// storage-buffer load is a scalar loop over the lanes: ~3x faster matvec.
#ifndef VKMIND_WEIGHTS_GLSL
#define VKMIND_WEIGHTS_GLSL

#extension GL_EXT_shader_16bit_storage : require

#ifdef WEIGHT_TEXELS
#if !defined(WEIGHT_F32) && !defined(WEIGHT_F16) && !defined(WEIGHT_BF16)
#error "WEIGHT_TEXELS serves the float types"
#endif
layout(binding = WEIGHT_BINDING) uniform usamplerBuffer w_texels;
#ifdef WEIGHT_F32
const uint W_TEXEL_ELEMS = 4;
#else
const uint W_TEXEL_ELEMS = 8;
#endif

uint w_row_units(uint K) { return K; }

// Elements k .. k + W_TEXEL_ELEMS - 1 of the row at unit row_base (both
// multiples of W_TEXEL_ELEMS): the first four in lo, the next four in hi
// (F32: hi = 0).
void w_load_texel(uint row_base, uint k, out vec4 lo, out vec4 hi) {
  const uvec4 u = texelFetch(w_texels, int((row_base + k) / W_TEXEL_ELEMS));
#if defined(WEIGHT_F32)
  lo = uintBitsToFloat(u);
  hi = vec4(0.0);
#elif defined(WEIGHT_F16)
  lo = vec4(unpackHalf2x16(u.x), unpackHalf2x16(u.y));
  hi = vec4(unpackHalf2x16(u.z), unpackHalf2x16(u.w));
#else
  lo = uintBitsToFloat(uvec4(u.x << 16, u.x & 0xffff0000u, u.y << 16, u.y & 0xffff0000u));
  hi = uintBitsToFloat(uvec4(u.z << 16, u.z & 0xffff0000u, u.w << 16, u.w & 0xffff0000u));
#endif
}

#else  // storage buffer

#if defined(WEIGHT_F32)
layout(std430, binding = WEIGHT_BINDING) readonly buffer WeightsF32 { float w_f32[]; };
layout(std430, binding = WEIGHT_BINDING) readonly buffer WeightsF32x4 { vec4 w_f32x4[]; };
#else
layout(std430, binding = WEIGHT_BINDING) readonly buffer Weights16 { uint16_t w_u16[]; };
#endif
#if defined(WEIGHT_F16) || defined(WEIGHT_BF16)
layout(std430, binding = WEIGHT_BINDING) readonly buffer Weights16x4 { uvec2 w_u16x4[]; };
#endif

#if defined(WEIGHT_Q8_0)
const uint W_BLOCK_UNITS = 17;
#elif defined(WEIGHT_Q4_0)
const uint W_BLOCK_UNITS = 9;
#define W_NIBBLES
const uint W_QS = 1;
const float W_ZERO = 8.0;
#elif defined(WEIGHT_Q4_1)
const uint W_BLOCK_UNITS = 10;
#define W_NIBBLES
const uint W_QS = 2;
#define W_MIN 1u
#elif defined(WEIGHT_Q5_0)
const uint W_BLOCK_UNITS = 11;
#define W_NIBBLES
const uint W_QS = 3;
#define W_QH 1u
const float W_ZERO = 16.0;
#elif defined(WEIGHT_Q5_1)
const uint W_BLOCK_UNITS = 12;
#define W_NIBBLES
const uint W_QS = 4;
#define W_QH 2u
#define W_MIN 1u
#endif
#if defined(WEIGHT_Q8_0) || defined(W_NIBBLES)
#define W_BLOCKED
#endif

// Units one row of K elements occupies.
uint w_row_units(uint K) {
#ifdef W_BLOCKED
  return (K / 32) * W_BLOCK_UNITS;
#else
  return K;
#endif
}

float w_half(uint bits) { return unpackHalf2x16(bits).x; }

#ifdef W_BLOCKED
// Two consecutive words of a block as one 32-bit value (4 bytes, little-endian).
uint w_word_pair(uint unit) { return uint(w_u16[unit]) | (uint(w_u16[unit + 1]) << 16); }
#endif

#ifdef W_NIBBLES
// The block's values from quantized levels q: (q - zero) * d, or q * d + m.
vec4 w_level4(uint block, vec4 q) {
  const float d = w_half(uint(w_u16[block]));
#ifdef W_MIN
  return q * d + w_half(uint(w_u16[block + W_MIN]));
#else
  return (q - W_ZERO) * d;
#endif
}
// One level: the compiler drops the unused lanes.
float w_level(uint block, float q) { return w_level4(block, vec4(q)).x; }
#endif

float w_load1(uint row_base, uint k) {
#if defined(WEIGHT_F32)
  return w_f32[row_base + k];
#elif defined(WEIGHT_F16)
  return w_half(uint(w_u16[row_base + k]));
#elif defined(WEIGHT_BF16)
  return uintBitsToFloat(uint(w_u16[row_base + k]) << 16);
#elif defined(WEIGHT_Q8_0)
  uint block = row_base + (k / 32) * W_BLOCK_UNITS;
  uint j = k % 32;
  uint bits = uint(w_u16[block + 1 + j / 2]) >> (8 * (j & 1));
  return float(int(bits << 24) >> 24) * w_half(uint(w_u16[block]));
#elif defined(W_NIBBLES)
  uint block = row_base + (k / 32) * W_BLOCK_UNITS;
  uint j = k % 32;
  uint byte_index = j % 16;
  uint q = (uint(w_u16[block + W_QS + byte_index / 2]) >> (8 * (byte_index & 1) + (j >= 16 ? 4 : 0))) & 15u;
#ifdef W_QH
  q |= ((w_word_pair(block + W_QH) >> j) & 1u) << 4;
#endif
  return w_level(block, float(q));
#else
#error "define one of WEIGHT_F32, WEIGHT_F16, WEIGHT_BF16, WEIGHT_Q8_0, WEIGHT_Q4_0, WEIGHT_Q4_1, WEIGHT_Q5_0, WEIGHT_Q5_1"
#endif
}

vec4 w_load4(uint row_base, uint k) {
#if defined(WEIGHT_F32)
  return w_f32x4[(row_base + k) / 4];
#elif defined(WEIGHT_F16)
  uvec2 u = w_u16x4[(row_base + k) / 4];
  return vec4(unpackHalf2x16(u.x), unpackHalf2x16(u.y));
#elif defined(WEIGHT_BF16)
  uvec2 u = w_u16x4[(row_base + k) / 4];
  return uintBitsToFloat(uvec4(u.x << 16, u.x & 0xffff0000u, u.y << 16, u.y & 0xffff0000u));
#elif defined(WEIGHT_Q8_0)
  uint block = row_base + (k / 32) * W_BLOCK_UNITS;
  uint v = w_word_pair(block + 1 + (k % 32) / 2);
  ivec4 q = ivec4(uvec4(v << 24, v << 16, v << 8, v)) >> 24;  // sign-extend each byte
  return vec4(q) * w_half(uint(w_u16[block]));
#elif defined(W_NIBBLES)
  uint block = row_base + (k / 32) * W_BLOCK_UNITS;
  uint j = k % 32;
  uint v = w_word_pair(block + W_QS + (j % 16) / 2) >> (j >= 16 ? 4 : 0);
  uvec4 n = (uvec4(v, v >> 8, v >> 16, v >> 24) & 15u);
#ifdef W_QH
  const uint h = w_word_pair(block + W_QH) >> j;
  n |= (uvec4(h, h >> 1, h >> 2, h >> 3) & 1u) << 4;
#endif
  return w_level4(block, vec4(n));
#endif
}

#endif  // storage buffer

#endif
