// The kernel tests' CPU side of the weight types: model/weight_codec.h (the
// encoders and the exact decoder, written from the GGUF layouts, not from the
// shaders), plus the lists of types the tests cover.
#pragma once

#include <vector>

#include "model/tensor_types.h"
#include "model/weight_codec.h"

namespace vkmind::test {

using vkmind::bf16_to_float;
using vkmind::float_to_bf16;
using vkmind::float_to_half;
using vkmind::half_to_float;
inline std::vector<uint8_t> encode_weights(const std::vector<float>& values, TensorType type) {
  return vkmind::encode_weights(values, type);
}
inline std::vector<float> decode_weights(const std::vector<uint8_t>& bytes, TensorType type, size_t count) {
  return vkmind::decode_weights(bytes, type, count);
}

inline bool is_blocked(TensorType type) { return is_block_quantized(type); }
// 256 for the K-quants and IQ4_XS, 32 for the other blocked types, 1 for floats.
inline uint32_t block_elements(TensorType type) { return tensor_type_traits(type).block_elements; }

// Every type the kernels read, for tests that cover them all.
inline constexpr TensorType kWeightTypes[] = {
    TensorType::F32,  TensorType::F16,  TensorType::BF16, TensorType::Q8_0,   TensorType::Q4_0,
    TensorType::Q4_1, TensorType::Q5_0, TensorType::Q5_1, TensorType::IQ4_NL, TensorType::Q2_K,
    TensorType::Q3_K, TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K,   TensorType::IQ4_XS};
inline constexpr TensorType kBlockedTypes[] = {
    TensorType::Q8_0, TensorType::Q4_0, TensorType::Q4_1, TensorType::Q5_0, TensorType::Q5_1, TensorType::IQ4_NL,
    TensorType::Q2_K, TensorType::Q3_K, TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K, TensorType::IQ4_XS};

inline std::string_view type_label(TensorType type) { return tensor_type_name(type); }

}  // namespace vkmind::test
