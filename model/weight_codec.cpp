#include "model/weight_codec.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "model/kquant_codec.h"

namespace vkmind {

namespace {
void put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(uint8_t(v & 0xff));
  out.push_back(uint8_t(v >> 8));
}

// qh of a 5-bit block: bit j is the fifth bit of element j (4 bytes, little-endian).
void put_high_bits(std::vector<uint8_t>& out, const uint8_t (&q)[32]) {
  uint32_t qh = 0;
  for (int j = 0; j < 32; ++j) qh |= uint32_t(q[j] >> 4) << j;
  for (int i = 0; i < 4; ++i) out.push_back(uint8_t(qh >> (8 * i)));
}
// qs of a 4- or 5-bit block: byte j holds element j's low four bits (low
// nibble) and element j + 16's (high nibble).
void put_nibbles(std::vector<uint8_t>& out, const uint8_t (&q)[32]) {
  for (int j = 0; j < 16; ++j) out.push_back(uint8_t((q[j] & 15) | ((q[j + 16] & 15) << 4)));
}
}  // namespace

float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h >> 15) << 31;
  const uint32_t exponent = (h >> 10) & 31;
  const uint32_t mantissa = h & 1023;
  float magnitude;
  if (exponent == 0) magnitude = std::ldexp(float(mantissa), -24);  // zero and subnormals
  else if (exponent == 31) magnitude = mantissa ? NAN : INFINITY;
  else magnitude = std::ldexp(float(mantissa | 1024), int(exponent) - 25);
  uint32_t bits;
  std::memcpy(&bits, &magnitude, 4);
  bits |= sign;
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

uint16_t float_to_half(float f) {
  const uint16_t sign = std::signbit(f) ? 0x8000 : 0;
  const float a = std::fabs(f);
  if (a == 0) return sign;
  int e;
  std::frexp(a, &e);  // a = m * 2^e, m in [0.5, 1)
  const int exponent = std::max(e - 1, -14);  // f16 normal exponents start at -14
  const float ulp = std::ldexp(1.0f, exponent - 10);
  const uint32_t steps = uint32_t(std::nearbyint(a / ulp));  // default rounding: to nearest even
  // steps counts ulps at this exponent; 1024..2048 normal (2048 carries into the next binade).
  if (exponent == -14 && steps < 1024) return uint16_t(sign | steps);  // subnormal
  const uint32_t biased = uint32_t(exponent + 15) + (steps >> 11);
  const uint32_t mant = steps >= 2048 ? (steps >> 1) & 1023 : steps & 1023;
  if (biased >= 31) throw std::range_error("a value of " + std::to_string(f) + " is outside the f16 range");
  return uint16_t(sign | (biased << 10) | mant);
}

uint16_t float_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  bits += 0x7fff + ((bits >> 16) & 1);  // round to nearest even
  return uint16_t(bits >> 16);
}

float bf16_to_float(uint16_t b) {
  uint32_t bits = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

std::vector<uint8_t> encode_weights(std::span<const float> values, TensorType type) {
  if (values.size() % tensor_type_traits(type).block_elements != 0) {
    throw std::invalid_argument(std::to_string(values.size()) + " values are not whole " +
                                std::string(tensor_type_name(type)) + " blocks");
  }
  std::vector<uint8_t> out;
  if (const kquant::BlockCodec* codec = kquant::block_codec(type)) {
    const TensorTypeTraits t = tensor_type_traits(type);
    out.resize(values.size() / t.block_elements * t.block_bytes);
    for (size_t b = 0; b * t.block_elements < values.size(); ++b) {
      codec->encode(values.data() + b * t.block_elements, out.data() + b * t.block_bytes);
    }
    return out;
  }
  switch (type) {
    case TensorType::F32:
      out.resize(values.size() * 4);
      std::memcpy(out.data(), values.data(), out.size());
      break;
    case TensorType::F16:
      for (float v : values) put16(out, float_to_half(v));
      break;
    case TensorType::BF16:
      for (float v : values) put16(out, float_to_bf16(v));
      break;
    case TensorType::Q8_0:
      // d = max|x| / 127, q = round(x / d).
      for (size_t b = 0; b < values.size(); b += 32) {
        float amax = 0;
        for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(values[b + j]));
        const float d = amax / 127.0f;
        const float id = d ? 1.0f / d : 0.0f;
        put16(out, float_to_half(d));
        for (int j = 0; j < 32; ++j) out.push_back(uint8_t(int8_t(std::lround(values[b + j] * id))));
      }
      break;
    case TensorType::Q4_0:
    case TensorType::Q5_0: {
      // d = (the value of largest magnitude) / -zero, q = clamp(x / d + zero + 0.5, 0, top):
      // zero 8 and 16 levels below it for Q4_0, 16 and 32 for Q5_0.
      const bool five = type == TensorType::Q5_0;
      const int zero = five ? 16 : 8, top = 2 * zero - 1;
      for (size_t b = 0; b < values.size(); b += 32) {
        float amax = 0, max = 0;
        for (int j = 0; j < 32; ++j) {
          if (std::fabs(values[b + j]) > amax) amax = std::fabs(values[b + j]), max = values[b + j];
        }
        const float d = max / -float(zero);
        const float id = d ? 1.0f / d : 0.0f;
        put16(out, float_to_half(d));
        uint8_t q[32];
        for (int j = 0; j < 32; ++j) q[j] = uint8_t(std::min(top, int(values[b + j] * id + float(zero) + 0.5f)));
        if (five) put_high_bits(out, q);
        put_nibbles(out, q);
      }
      break;
    }
    case TensorType::Q4_1:
    case TensorType::Q5_1: {
      // d = (max - min) / (levels - 1), m = min, q = round((x - min) / d), clamped.
      const int top = type == TensorType::Q4_1 ? 15 : 31;
      for (size_t b = 0; b < values.size(); b += 32) {
        const auto [lo, hi] = std::minmax_element(values.begin() + std::ptrdiff_t(b), values.begin() + std::ptrdiff_t(b) + 32);
        const float d = (*hi - *lo) / float(top);
        const float id = d ? 1.0f / d : 0.0f;
        put16(out, float_to_half(d));
        put16(out, float_to_half(*lo));
        uint8_t q[32];
        for (int j = 0; j < 32; ++j) q[j] = uint8_t(std::min(top, int((values[b + j] - *lo) * id + 0.5f)));
        if (type == TensorType::Q5_1) put_high_bits(out, q);
        put_nibbles(out, q);
      }
      break;
    }
    default: throw std::invalid_argument("no encoder for " + std::string(tensor_type_name(type)));
  }
  return out;
}

std::vector<float> decode_weights(std::span<const uint8_t> bytes, TensorType type, size_t count) {
  const TensorTypeTraits t = tensor_type_traits(type);
  if (count % t.block_elements != 0 || bytes.size() < count / t.block_elements * t.block_bytes) {
    throw std::length_error(std::to_string(bytes.size()) + " bytes do not hold " + std::to_string(count) + " " +
                            std::string(tensor_type_name(type)) + " elements");
  }
  std::vector<float> out(count);
  if (const kquant::BlockCodec* codec = kquant::block_codec(type)) {
    for (size_t b = 0; b * t.block_elements < count; ++b) {
      codec->decode(bytes.data() + b * t.block_bytes, out.data() + b * t.block_elements);
    }
    return out;
  }
  auto get16 = [&](size_t at) { return uint16_t(bytes[at] | (bytes[at + 1] << 8)); };
  for (size_t i = 0; i < count; ++i) {
    switch (type) {
      case TensorType::F32: std::memcpy(&out[i], &bytes[i * 4], 4); break;
      case TensorType::F16: out[i] = half_to_float(get16(i * 2)); break;
      case TensorType::BF16: out[i] = bf16_to_float(get16(i * 2)); break;
      case TensorType::Q8_0: {
        const size_t block = (i / 32) * 34, j = i % 32;
        out[i] = float(int8_t(bytes[block + 2 + j])) * half_to_float(get16(block));
        break;
      }
      case TensorType::Q4_0: {
        const size_t block = (i / 32) * 18, j = i % 32;
        const uint8_t byte = bytes[block + 2 + j % 16];
        const int nibble = j < 16 ? (byte & 15) : (byte >> 4);
        out[i] = float(nibble - 8) * half_to_float(get16(block));
        break;
      }
      case TensorType::Q4_1:
      case TensorType::Q5_0:
      case TensorType::Q5_1: {
        // d, then m (unsigned types), then qh (5-bit types), then 16 bytes of nibbles.
        const bool has_min = type != TensorType::Q5_0, five = type != TensorType::Q4_1;
        const size_t block_bytes = tensor_type_traits(type).block_bytes;
        const size_t block = (i / 32) * block_bytes, j = i % 32;
        const size_t qh_at = block + (has_min ? 4 : 2), qs_at = qh_at + (five ? 4 : 0);
        const uint8_t byte = bytes[qs_at + j % 16];
        int q = j < 16 ? (byte & 15) : (byte >> 4);
        if (five) {
          const uint32_t qh = uint32_t(bytes[qh_at]) | uint32_t(bytes[qh_at + 1]) << 8 |
                              uint32_t(bytes[qh_at + 2]) << 16 | uint32_t(bytes[qh_at + 3]) << 24;
          q |= int((qh >> j) & 1) << 4;
        }
        const float d = half_to_float(get16(block));
        out[i] = has_min ? float(q) * d + half_to_float(get16(block + 2)) : float(q - 16) * d;
        break;
      }
      default: throw std::invalid_argument("no decoder for " + std::string(tensor_type_name(type)));
    }
  }
  return out;
}

std::optional<size_t> first_nonfinite_scale(std::span<const uint8_t> bytes, TensorType type) {
  // Byte offsets of each block's f16 scale fields (the layouts above and in
  // kquant_codec.cpp); -1: none.
  std::array<int, 2> fields{-1, -1};
  switch (type) {
    case TensorType::Q8_0: case TensorType::Q4_0: case TensorType::Q5_0:
    case TensorType::IQ4_NL: case TensorType::IQ4_XS: fields = {0, -1}; break;
    case TensorType::Q4_1: case TensorType::Q5_1: case TensorType::Q4_K: case TensorType::Q5_K: fields = {0, 2}; break;
    case TensorType::Q2_K: fields = {80, 82}; break;
    case TensorType::Q3_K: fields = {108, -1}; break;
    case TensorType::Q6_K: fields = {208, -1}; break;
    default: return std::nullopt;
  }
  const size_t block_bytes = tensor_type_traits(type).block_bytes;
  for (size_t b = 0; (b + 1) * block_bytes <= bytes.size(); ++b) {
    for (int at : fields) {
      // f16 exponent all ones: infinity or NaN.
      if (at >= 0 && (bytes[b * block_bytes + size_t(at) + 1] & 0x7c) == 0x7c) return b;
    }
  }
  return std::nullopt;
}

}  // namespace vkmind
