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

// Every type the kernels read, for tests that cover them all.
inline constexpr TensorType kWeightTypes[] = {TensorType::F32,  TensorType::F16,  TensorType::BF16,
                                              TensorType::Q8_0, TensorType::Q4_0, TensorType::Q4_1,
                                              TensorType::Q5_0, TensorType::Q5_1};
inline constexpr TensorType kBlockedTypes[] = {TensorType::Q8_0, TensorType::Q4_0, TensorType::Q4_1,
                                               TensorType::Q5_0, TensorType::Q5_1};

inline const char* type_label(TensorType type) {
  switch (type) {
    case TensorType::F32: return "F32";
    case TensorType::F16: return "F16";
    case TensorType::BF16: return "BF16";
    case TensorType::Q8_0: return "Q8_0";
    case TensorType::Q4_0: return "Q4_0";
    case TensorType::Q4_1: return "Q4_1";
    case TensorType::Q5_0: return "Q5_0";
    case TensorType::Q5_1: return "Q5_1";
  }
  return "?";
}

}  // namespace vkmind::test
