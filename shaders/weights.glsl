// Reading weights of every stored type from one storage buffer, dequantized
// to f32. The type is chosen per variant by one define (shaders/CMakeLists.txt):
// WEIGHT_F32, WEIGHT_F16, WEIGHT_BF16, WEIGHT_Q8_0 or WEIGHT_Q4_0. The user
// defines WEIGHT_BINDING before including this file.
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
//   Q4_0 =  9 words: f16 scale, then 16 bytes; element j < 16 is the low
//          nibble of byte j, element j >= 16 the high nibble of byte j - 16;
//          value = (nibble - 8) * scale.
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
#endif

// Units one row of K elements occupies.
uint w_row_units(uint K) {
#if defined(WEIGHT_Q8_0) || defined(WEIGHT_Q4_0)
  return (K / 32) * W_BLOCK_UNITS;
#else
  return K;
#endif
}

float w_half(uint bits) { return unpackHalf2x16(bits).x; }

#if defined(WEIGHT_Q8_0) || defined(WEIGHT_Q4_0)
// Two consecutive words of a block as one 32-bit value (4 bytes, little-endian).
uint w_word_pair(uint unit) { return uint(w_u16[unit]) | (uint(w_u16[unit + 1]) << 16); }
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
#elif defined(WEIGHT_Q4_0)
  uint block = row_base + (k / 32) * W_BLOCK_UNITS;
  uint j = k % 32;
  uint byte_index = j % 16;
  uint bits = uint(w_u16[block + 1 + byte_index / 2]) >> (8 * (byte_index & 1) + (j >= 16 ? 4 : 0));
  return (float(bits & 15u) - 8.0) * w_half(uint(w_u16[block]));
#else
#error "define one of WEIGHT_F32, WEIGHT_F16, WEIGHT_BF16, WEIGHT_Q8_0, WEIGHT_Q4_0"
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
#elif defined(WEIGHT_Q4_0)
  uint block = row_base + (k / 32) * W_BLOCK_UNITS;
  uint j = k % 32;
  uint v = w_word_pair(block + 1 + (j % 16) / 2) >> (j >= 16 ? 4 : 0);
  uvec4 n = (uvec4(v, v >> 8, v >> 16, v >> 24) & 15u);
  return (vec4(n) - 8.0) * w_half(uint(w_u16[block]));
#endif
}

#endif  // storage buffer

#endif
