// Reading weights of every stored type from one storage buffer, dequantized
// to f32. The type is chosen per variant by one define (shaders/CMakeLists.txt):
// WEIGHT_F32, WEIGHT_F16, WEIGHT_BF16, WEIGHT_Q8_0, WEIGHT_Q4_0, WEIGHT_Q4_1,
// WEIGHT_Q5_0, WEIGHT_Q5_1, WEIGHT_IQ4_NL, WEIGHT_Q2_K, WEIGHT_Q3_K,
// WEIGHT_Q4_K, WEIGHT_Q5_K, WEIGHT_Q6_K or WEIGHT_IQ4_XS. The user defines
// WEIGHT_BINDING before including this file.
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
//   IQ4_NL = 9 words: f16 d, qs as Q4_0; value = d * W_IQ4[nibble] (a codebook).
// The 4- and 5-bit types share one reader: W_QS (unit of qs), W_QH (unit of
// qh, 5-bit types), W_MIN (the unit of m; unsigned types), W_ZERO (the
// offset of signed ones) or W_CODEBOOK.
//
// Super-blocks of 256 elements (llama.cpp's K-quants; byte offsets, the
// sub-block scales quantized against f16 super-block scales):
//   Q2_K = 42 words: scales[16] @0 (scale | min << 4 per 16 elements), qs[64] @16,
//          d @80, dmin @82; q = (qs[32*(e/128) + e%32] >> 2*((e%128)/32)) & 3,
//          value = d*scale*q - dmin*min.
//   Q3_K = 55 words: hmask[32] @0, qs[64] @32, scales[12] @96 (16 6-bit
//          scales s, see w_q3_k_scale), d @108; q = 2 bits as Q2_K, minus 4
//          unless bit 4*(e/128) + (e%128)/32 of hmask[e%32] is set; value = d*(s-32)*q.
//   Q4_K = 72 words: d @0, dmin @2, scales[12] @4 (8 6-bit scales and mins,
//          see w_k_scale_min), qs[128] @16; q = nibble of qs[32*(e/64) + e%32],
//          low for even sub-blocks (e/32); value = d*scale*q - dmin*min.
//   Q5_K = 88 words: as Q4_K with qh[32] @16 (bit e/32 of qh[e%32] is q's
//          fifth bit) and qs @48.
//   Q6_K = 105 words: ql[128] @0, qh[64] @128, int8 scales[16] @192, d @208;
//          h = e/128, c = (e%128)/32, l = e%32: q = (ql[64h + 32(c%2) + l] >> 4(c/2)) & 15
//          | ((qh[32h + l] >> 2c) & 3) << 4; value = d*scales[e/16]*(q - 32).
//   IQ4_XS = 68 words: d @0, u16 scales_h @2, scales_l[4] @4, qs[128] @8;
//          sub-block i = e/32 has ls = (scales_l[i/2] >> 4(i%2)) & 15 | ((scales_h >> 2i) & 3) << 4;
//          value = d*(ls-32)*W_IQ4[nibble of qs[16i + (e%32)%16], low for e%32 < 16].
// model/kquant_codec.cpp states the same layouts for the CPU.
//
// w_load4 reads 4 consecutive elements starting at k (k % 4 == 0). For the
// float types it uses a wide alias of the buffer, valid only when row_base
// and k are multiples of 4 (the host sets the VEC specialization constant
// accordingly); the blocked types only need K to be whole blocks. Four
// consecutive elements always share their scales and sit in four
// consecutive bytes starting at an even byte, which is what the super-block
// readers rely on.
//
// WEIGHT_TEXELS: the weights are a storage texel buffer of R32G32B32A32_UINT
// instead. Float types read W_TEXEL_ELEMS elements (16 bytes) per load with
// w_load_texel; blocked types read their 16-bit words through it (w_word),
// which needs the binding's size rounded up to whole texels. On lavapipe a
// texel load is one vector gather, while a storage-buffer load is a scalar
// loop over the lanes: ~3x faster matvec. imageLoad, not texelFetch: Mesa
// 22's lavapipe calls a function per texelFetch of a 32-bit-channel format
// (caller-saved vector registers spilled around each call) but inlines image
// loads (minimind-3 size f16: tg32 35-36 -> 38-39 t/s, pp128 +5-15%).
#ifndef VKMIND_WEIGHTS_GLSL
#define VKMIND_WEIGHTS_GLSL

#extension GL_EXT_shader_16bit_storage : require

#if defined(WEIGHT_TEXELS) && (defined(WEIGHT_F32) || defined(WEIGHT_F16) || defined(WEIGHT_BF16))
layout(binding = WEIGHT_BINDING, rgba32ui) uniform readonly uimageBuffer w_texels;
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
  const uvec4 u = imageLoad(w_texels, int((row_base + k) / W_TEXEL_ELEMS));
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

#else  // storage buffer, or texels of 16-bit words (blocked types with WEIGHT_TEXELS)

#if defined(WEIGHT_TEXELS)
#define W_WORD_TEXELS
layout(binding = WEIGHT_BINDING, rgba32ui) uniform readonly uimageBuffer w_texels;
#elif defined(WEIGHT_F32)
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
#elif defined(WEIGHT_IQ4_NL)
const uint W_BLOCK_UNITS = 9;
#define W_NIBBLES
const uint W_QS = 1;
#define W_CODEBOOK
#elif defined(WEIGHT_Q2_K)
const uint W_BLOCK_UNITS = 42;
#define W_SUPER
#elif defined(WEIGHT_Q3_K)
const uint W_BLOCK_UNITS = 55;
#define W_SUPER
#elif defined(WEIGHT_Q4_K)
const uint W_BLOCK_UNITS = 72;
#define W_SUPER
#elif defined(WEIGHT_Q5_K)
const uint W_BLOCK_UNITS = 88;
#define W_SUPER
#elif defined(WEIGHT_Q6_K)
const uint W_BLOCK_UNITS = 105;
#define W_SUPER
#elif defined(WEIGHT_IQ4_XS)
const uint W_BLOCK_UNITS = 68;
#define W_SUPER
#define W_CODEBOOK
#endif
#if defined(WEIGHT_Q8_0) || defined(W_NIBBLES) || defined(W_SUPER)
#define W_BLOCKED
#endif
#ifdef W_SUPER
const uint W_BLOCK_ELEMS = 256;
#else
const uint W_BLOCK_ELEMS = 32;
#endif

#ifdef W_CODEBOOK
// IQ4_NL's levels (IQ4_XS's too), indexed by a nibble.
const float W_IQ4[16] = float[16](-127.0, -104.0, -83.0, -65.0, -49.0, -35.0, -22.0, -10.0,
                                  1.0, 13.0, 25.0, 38.0, 53.0, 69.0, 89.0, 113.0);
vec4 w_codebook4(uvec4 n) { return vec4(W_IQ4[n.x], W_IQ4[n.y], W_IQ4[n.z], W_IQ4[n.w]); }
#endif

// Units one row of K elements occupies.
uint w_row_units(uint K) {
#ifdef W_BLOCKED
  return (K / W_BLOCK_ELEMS) * W_BLOCK_UNITS;
#else
  return K;
#endif
}

float w_half(uint bits) { return unpackHalf2x16(bits).x; }

#ifdef W_BLOCKED
// The 16-bit word at `unit`: from the storage buffer, or from its 16-byte texel.
uint w_word(uint unit) {
#ifdef W_WORD_TEXELS
  const uint pair = imageLoad(w_texels, int(unit / 8))[(unit / 2) % 4];
  return (pair >> (16 * (unit & 1u))) & 0xffffu;
#else
  return uint(w_u16[unit]);
#endif
}
#endif

#ifdef W_BLOCKED
// Two consecutive words of a block as one 32-bit value (4 bytes, little-endian).
uint w_word_pair(uint unit) { return w_word(unit) | (w_word(unit + 1) << 16); }

// Eight consecutive words (16 bytes, little-endian) from any unit on: through
// texels two fetches and a shift, where word by word would take eight.
uvec4 w_words8(uint unit) {
#ifdef W_WORD_TEXELS
  const int t = int(unit / 8);
  const uvec4 a = imageLoad(w_texels, t);
  // The next texel only when the words reach into it: the binding may end with this one.
  const uvec4 b = unit % 8 == 0 ? uvec4(0u) : imageLoad(w_texels, t + 1);
  const uint q = (unit / 2) % 4;  // whole 32-bit words to skip
  const uvec4 lo = q == 0 ? a : q == 1 ? uvec4(a.yzw, b.x) : q == 2 ? uvec4(a.zw, b.xy) : uvec4(a.w, b.xyz);
  if ((unit & 1u) == 0) return lo;
  const uint next = q == 0 ? b.x : q == 1 ? b.y : q == 2 ? b.z : b.w;
  return (lo >> 16) | (uvec4(lo.yzw, next) << 16);
#else
  return uvec4(w_word_pair(unit), w_word_pair(unit + 2), w_word_pair(unit + 4), w_word_pair(unit + 6));
#endif
}

// The four signed bytes of v, in order.
vec4 w_int8x4(uint v) { return vec4(ivec4(uvec4(v << 24, v << 16, v << 8, v)) >> 24); }
#endif

#ifdef W_NIBBLES
// The block's values from quantized levels n: (n - zero) * d, n * d + m, or d * codebook[n].
vec4 w_level4(uint block, uvec4 n) {
  const float d = w_half(w_word(block));
#if defined(W_CODEBOOK)
  return w_codebook4(n) * d;
#elif defined(W_MIN)
  return vec4(n) * d + w_half(w_word(block + W_MIN));
#else
  return (vec4(n) - W_ZERO) * d;
#endif
}
// One level: the compiler drops the unused lanes.
float w_level(uint block, uint n) { return w_level4(block, uvec4(n)).x; }
#endif

#ifdef W_SUPER
// Byte b of the super-block at unit `block`.
uint w_byte(uint block, uint b) { return (w_word(block + b / 2) >> (8 * (b & 1u))) & 0xffu; }
// Bytes b .. b + 3 (b even), each in its own lane.
uvec4 w_bytes4(uint block, uint b) {
  const uint v = w_word_pair(block + b / 2);
  return uvec4(v, v >> 8, v >> 16, v >> 24) & 0xffu;
}

#if defined(WEIGHT_Q3_K)
// Sub-block i's 6-bit scale, stored + 32: four low bits, then two high ones.
int w_q3_k_scale(uint block, uint i) {
  const uint low = i < 8 ? w_byte(block, 96 + i) & 15u : w_byte(block, 88 + i) >> 4;
  const uint high = (w_byte(block, 104 + i % 4) >> (2 * (i / 4))) & 3u;
  return int(low | (high << 4)) - 32;
}
#endif

#if defined(WEIGHT_Q4_K) || defined(WEIGHT_Q5_K)
// Sub-block i's 6-bit scale and min, packed in the 12 bytes at @4.
// From the block's bytes i, 4 + i and 8 + i.
vec2 w_k_scale_min_of(uint i, uint byte_i, uint byte_4i, uint byte_8i) {
  if (i < 4) return vec2(byte_4i & 63u, byte_8i & 63u);
  return vec2((byte_8i & 15u) | ((byte_i >> 6) << 4), (byte_8i >> 4) | ((byte_4i >> 6) << 4));
}
vec2 w_k_scale_min(uint block, uint i) {
  return w_k_scale_min_of(i, w_byte(block, i), w_byte(block, 4 + i), w_byte(block, 8 + i));
}
// Byte b (< 16) of a block's first 16 bytes, read as one uvec4 (w_words8).
uint w_head_byte(uvec4 head, uint b) { return (head[b / 4] >> (8 * (b % 4))) & 0xffu; }
#endif

// The scale of element e's sub-block as (mul, sub): value = level * mul - sub.
vec2 w_super_scale(uint block, uint e) {
#if defined(WEIGHT_Q2_K)
  const uint sc = w_byte(block, e / 16);
  return vec2(w_half(w_word(block + 40)) * float(sc & 15u), w_half(w_word(block + 41)) * float(sc >> 4));
#elif defined(WEIGHT_Q3_K)
  return vec2(w_half(w_word(block + 54)) * float(w_q3_k_scale(block, e / 16)), 0.0);
#elif defined(WEIGHT_Q4_K) || defined(WEIGHT_Q5_K)
  const vec2 sm = w_k_scale_min(block, e / 32);
  return vec2(w_half(w_word(block)) * sm.x, w_half(w_word(block + 1)) * sm.y);
#elif defined(WEIGHT_Q6_K)
  const int scale = int(w_byte(block, 192 + e / 16) << 24) >> 24;  // int8
  return vec2(w_half(w_word(block + 104)) * float(scale), 0.0);
#elif defined(WEIGHT_IQ4_XS)
  const uint i = e / 32;
  const uint ls = ((w_byte(block, 4 + i / 2) >> (4 * (i % 2))) & 15u) | (((w_word(block + 1) >> (2 * i)) & 3u) << 4);
  return vec2(w_half(w_word(block)) * float(int(ls) - 32), 0.0);
#endif
}

// The levels of elements e .. e + 3 (e % 4 == 0): signed where the type is,
// codebook values for IQ4_XS.
vec4 w_super_levels(uint block, uint e) {
#if defined(WEIGHT_Q2_K)
  return vec4((w_bytes4(block, 16 + 32 * (e / 128) + e % 32) >> (2 * ((e % 128) / 32))) & 3u);
#elif defined(WEIGHT_Q3_K)
  const uint shift = (e % 128) / 32;
  const uvec4 low = (w_bytes4(block, 32 + 32 * (e / 128) + e % 32) >> (2 * shift)) & 3u;
  const uvec4 high = (w_bytes4(block, e % 32) >> (4 * (e / 128) + shift)) & 1u;
  return vec4(low) - 4.0 * vec4(1u - high);
#elif defined(WEIGHT_Q4_K) || defined(WEIGHT_Q5_K)
  const uint i = e / 32;
#ifdef WEIGHT_Q5_K
  const uint qs = 48;
#else
  const uint qs = 16;
#endif
  uvec4 q = (w_bytes4(block, qs + 32 * (e / 64) + e % 32) >> (4 * (i % 2))) & 15u;
#ifdef WEIGHT_Q5_K
  q |= ((w_bytes4(block, 16 + e % 32) >> i) & 1u) << 4;
#endif
  return vec4(q);
#elif defined(WEIGHT_Q6_K)
  const uint h = e / 128, c = (e % 128) / 32, l = e % 32;
  const uvec4 low = (w_bytes4(block, 64 * h + 32 * (c % 2) + l) >> (4 * (c / 2))) & 15u;
  const uvec4 high = (w_bytes4(block, 128 + 32 * h + l) >> (2 * c)) & 3u;
  return vec4(low | (high << 4)) - 32.0;
#elif defined(WEIGHT_IQ4_XS)
  const uint r = e % 32;
  return w_codebook4((w_bytes4(block, 8 + 16 * (e / 32) + r % 16) >> (r < 16 ? 0 : 4)) & 15u);
#endif
}

// Elements e .. e + 3 (e % 4 == 0) of the super-block at unit `block`.
vec4 w_super4(uint block, uint e) {
  const vec2 s = w_super_scale(block, e);
  return w_super_levels(block, e) * s.x - s.y;
}
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
  uint bits = w_word(block + 1 + j / 2) >> (8 * (j & 1));
  return float(int(bits << 24) >> 24) * w_half(w_word(block));
#elif defined(W_NIBBLES)
  uint block = row_base + (k / 32) * W_BLOCK_UNITS;
  uint j = k % 32;
  uint byte_index = j % 16;
  uint q = (w_word(block + W_QS + byte_index / 2) >> (8 * (byte_index & 1) + (j >= 16 ? 4 : 0))) & 15u;
#ifdef W_QH
  q |= ((w_word_pair(block + W_QH) >> j) & 1u) << 4;
#endif
  return w_level(block, q);
#elif defined(W_SUPER)
  // Scales are shared by four elements: decode the aligned four, keep one.
  const uint e = k % 256;
  return w_super4(row_base + (k / 256) * W_BLOCK_UNITS, e & ~3u)[e & 3u];
#else
#error "define one WEIGHT_<type> (see the list above)"
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
  return vec4(q) * w_half(w_word(block));
#elif defined(W_NIBBLES)
  uint block = row_base + (k / 32) * W_BLOCK_UNITS;
  uint j = k % 32;
  uint v = w_word_pair(block + W_QS + (j % 16) / 2) >> (j >= 16 ? 4 : 0);
  uvec4 n = (uvec4(v, v >> 8, v >> 16, v >> 24) & 15u);
#ifdef W_QH
  const uint h = w_word_pair(block + W_QH) >> j;
  n |= (uvec4(h, h >> 1, h >> 2, h >> 3) & 1u) << 4;
#endif
  return w_level4(block, n);
#elif defined(W_SUPER)
  return w_super4(row_base + (k / 256) * W_BLOCK_UNITS, k % 256);
#endif
}

// Elements k .. k + 15 (k % 16 == 0) of a blocked row: 16 elements never
// straddle a block or a super-block's sub-block, so their scales are read once.
#if defined(WEIGHT_Q4_K) || defined(WEIGHT_Q5_K) || defined(WEIGHT_Q6_K)
// The bytes of v, in order.
uvec4 w_byte_lanes(uint v) { return uvec4(v, v >> 8, v >> 16, v >> 24) & 0xffu; }

// w_super_levels of elements e .. e + 15 (e % 16 == 0): their bytes lie 16 in
// a row in each stream, read with w_words8 rather than four bytes at a time.
void w_super_levels16(uint block, uint e, out uvec4 q[4]) {
#if defined(WEIGHT_Q4_K) || defined(WEIGHT_Q5_K)
  const uint i = e / 32;
#ifdef WEIGHT_Q5_K
  const uint qs = 48;
  const uvec4 high = w_words8(block + (16 + e % 32) / 2) >> i;
#else
  const uint qs = 16;
#endif
  const uvec4 low = w_words8(block + (qs + 32 * (e / 64) + e % 32) / 2) >> (4 * (i % 2));
  for (uint j = 0; j < 4; ++j) {
    q[j] = w_byte_lanes(low[j]) & 15u;
#ifdef WEIGHT_Q5_K
    q[j] |= (w_byte_lanes(high[j]) & 1u) << 4;
#endif
  }
#else  // Q6_K: q is the stored 6-bit level, 32 above the value's; the caller subtracts the 32
  const uint h = e / 128, c = (e % 128) / 32, l = e % 32;
  const uvec4 low = w_words8(block + (64 * h + 32 * (c % 2) + l) / 2) >> (4 * (c / 2));
  const uvec4 high = w_words8(block + (128 + 32 * h + l) / 2) >> (2 * c);
  for (uint j = 0; j < 4; ++j) q[j] = (w_byte_lanes(low[j]) & 15u) | ((w_byte_lanes(high[j]) & 3u) << 4);
#endif
}
#endif

void w_load16(uint row_base, uint k, out vec4 w0, out vec4 w1, out vec4 w2, out vec4 w3) {
#if defined(WEIGHT_Q4_K) || defined(WEIGHT_Q5_K) || defined(WEIGHT_Q6_K)
  const uint block = row_base + (k / 256) * W_BLOCK_UNITS, e = k % 256;
#ifdef WEIGHT_Q6_K
  const vec2 s = w_super_scale(block, e);
#else
  // d, dmin and the 12 bytes of packed scales and mins: the block's first 16 bytes.
  const uvec4 head = w_words8(block);
  const uint i = e / 32;
  const vec2 sm = w_k_scale_min_of(i, w_head_byte(head, i), w_head_byte(head, 4 + i), w_head_byte(head, 8 + i));
  const vec2 s = unpackHalf2x16(head.x) * sm;
#endif
  uvec4 q[4];
  w_super_levels16(block, e, q);
#ifdef WEIGHT_Q6_K
  const float zero = 32.0;
#else
  const float zero = 0.0;
#endif
  w0 = (vec4(q[0]) - zero) * s.x - s.y;
  w1 = (vec4(q[1]) - zero) * s.x - s.y;
  w2 = (vec4(q[2]) - zero) * s.x - s.y;
  w3 = (vec4(q[3]) - zero) * s.x - s.y;
#elif defined(W_SUPER)
  const uint block = row_base + (k / 256) * W_BLOCK_UNITS, e = k % 256;
  const vec2 s = w_super_scale(block, e);
  w0 = w_super_levels(block, e) * s.x - s.y;
  w1 = w_super_levels(block, e + 4) * s.x - s.y;
  w2 = w_super_levels(block, e + 8) * s.x - s.y;
  w3 = w_super_levels(block, e + 12) * s.x - s.y;
#elif defined(WEIGHT_Q8_0)
  // 16 of the block's 32 int8 values (k % 16 == 0) in one 8-word read.
  const uint block = row_base + (k / 32) * W_BLOCK_UNITS;
  const float d = w_half(w_word(block));
  const uvec4 v = w_words8(block + 1 + (k % 32) / 2);
  w0 = w_int8x4(v.x) * d;
  w1 = w_int8x4(v.y) * d;
  w2 = w_int8x4(v.z) * d;
  w3 = w_int8x4(v.w) * d;
#elif defined(W_NIBBLES)
  // Elements j .. j + 15 are the low (j = 0) or high (j = 16) nibbles of all 16 qs bytes.
  const uint block = row_base + (k / 32) * W_BLOCK_UNITS, j = k % 32;
  const uvec4 v = w_words8(block + W_QS) >> (j >= 16 ? 4 : 0);
  uvec4 n0 = uvec4(v.x, v.x >> 8, v.x >> 16, v.x >> 24) & 15u;
  uvec4 n1 = uvec4(v.y, v.y >> 8, v.y >> 16, v.y >> 24) & 15u;
  uvec4 n2 = uvec4(v.z, v.z >> 8, v.z >> 16, v.z >> 24) & 15u;
  uvec4 n3 = uvec4(v.w, v.w >> 8, v.w >> 16, v.w >> 24) & 15u;
#ifdef W_QH
  const uint h = w_word_pair(block + W_QH) >> j;
  n0 |= (uvec4(h, h >> 1, h >> 2, h >> 3) & 1u) << 4;
  n1 |= (uvec4(h >> 4, h >> 5, h >> 6, h >> 7) & 1u) << 4;
  n2 |= (uvec4(h >> 8, h >> 9, h >> 10, h >> 11) & 1u) << 4;
  n3 |= (uvec4(h >> 12, h >> 13, h >> 14, h >> 15) & 1u) << 4;
#endif
  w0 = w_level4(block, n0);
  w1 = w_level4(block, n1);
  w2 = w_level4(block, n2);
  w3 = w_level4(block, n3);
#else
  w0 = w_load4(row_base, k);
  w1 = w_load4(row_base, k + 4);
  w2 = w_load4(row_base, k + 8);
  w3 = w_load4(row_base, k + 12);
#endif
}

#endif  // storage buffer

#endif
