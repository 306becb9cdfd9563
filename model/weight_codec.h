// CPU encoding and decoding of every weight type the kernels read, written
// from the GGUF block layouts (design.md; the same layouts are stated next to
// the GLSL reader in shaders/weights.glsl): F32, F16 and BF16 with
// round-to-nearest-even, and the blocked types Q8_0, Q4_0, Q4_1, Q5_0, Q5_1
// quantized as ggml's reference quantizers do. `vkmind quantize` writes
// with it; the kernel tests check the GPU against it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "model/tensor_types.h"

namespace vkmind {

float half_to_float(uint16_t h);
// Round to nearest even; throws std::range_error past the f16 range.
uint16_t float_to_half(float f);
uint16_t float_to_bf16(float f);
float bf16_to_float(uint16_t b);

// Stored bytes of `values` ([rows][cols], cols % 32 == 0 for the blocked types).
std::vector<uint8_t> encode_weights(std::span<const float> values, TensorType type);
// The f32 value of every element of stored bytes holding `count` elements.
std::vector<float> decode_weights(std::span<const uint8_t> bytes, TensorType type, size_t count);

}  // namespace vkmind
