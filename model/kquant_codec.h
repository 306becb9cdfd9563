// Block codecs of llama.cpp's K-quants (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K: 256-element
// super-blocks with quantized per-sub-block scales) and of the codebook types
// IQ4_NL (32 elements) and IQ4_XS (256). kquant_codec.cpp states each layout
// next to its decoder; shaders/weights.glsl reads the same layouts.
// Internal to model/weight_codec.cpp, which handles whole tensors.
#pragma once

#include <cstdint>

#include "model/tensor_types.h"

namespace vkmind::kquant {

// IQ4_NL's and IQ4_XS's 16 levels (a nibble indexes them), sorted.
inline constexpr int8_t kIq4Levels[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

struct BlockCodec {
  void (*decode)(const uint8_t* block, float* out);  // block_elements values
  void (*encode)(const float* in, uint8_t* block);   // block_bytes bytes
};

// The codec of a K-quant or IQ4 type; nullptr for every other type.
const BlockCodec* block_codec(TensorType type);

}  // namespace vkmind::kquant
