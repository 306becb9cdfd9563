// CPU encoding and decoding of every weight type the kernels read, written
// from the GGUF block layouts (design.md; the same layouts are stated next to
// the GLSL reader in shaders/weights.glsl): F32, F16 and BF16 with
// round-to-nearest-even; the 32-element types Q8_0, Q4_0, Q4_1, Q5_0, Q5_1
// quantized as ggml's reference quantizers do; the K-quants and IQ4 types
// through model/kquant_codec.h, with an error-minimizing scale search.
// `vkmind quantize` writes with it; the kernel tests check the GPU against it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "model/tensor_types.h"

namespace vkmind {

float half_to_float(uint16_t h);
// Round to nearest even; throws std::range_error past the f16 range.
uint16_t float_to_half(float f);
uint16_t float_to_bf16(float f);
float bf16_to_float(uint16_t b);

// Stored bytes of `values` ([rows][cols], cols a multiple of the type's block).
std::vector<uint8_t> encode_weights(std::span<const float> values, TensorType type);
// The f32 value of every element of stored bytes holding `count` elements.
std::vector<float> decode_weights(std::span<const uint8_t> bytes, TensorType type, size_t count);

// The first block of stored bytes whose scales (its f16 d, and dmin or m where
// the type has one) are NaN or infinite: a corrupt block that would turn every
// activation it touches into NaN. nullopt when all are finite (or the type has
// no scales).
std::optional<size_t> first_nonfinite_scale(std::span<const uint8_t> bytes, TensorType type);

}  // namespace vkmind
