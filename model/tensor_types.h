// Tensor element types, numbered as ggml numbers them (GGUF's on-disk codes).
// Blocked types store blocks of 32 elements (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1,
// IQ4_NL) or super-blocks of 256 (the K-quants Q2_K..Q6_K, IQ4_XS); their
// layouts are stated in model/weight_codec.cpp and shaders/weights.glsl.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace vkmind {

enum class TensorType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, IQ4_NL = 20, IQ4_XS = 23, BF16 = 30,
};

struct TensorTypeTraits {
  uint32_t block_elements;  // 1 for plain types, 32 or 256 for the blocked ones
  uint32_t block_bytes;     // bytes per block
};

// Name of any ggml type code, supported or not ("Q5_K"); "unknown" for codes
// ggml does not define.
std::string_view ggml_type_name(uint32_t code);
// Block size of any ggml type, supported or not (so files with types vkmind
// cannot compute with are still bounds-checked and listable); nullopt for
// unknown codes.
std::optional<TensorTypeTraits> ggml_type_traits(uint32_t code);
// The type for a code vkmind supports, nullopt otherwise.
std::optional<TensorType> supported_tensor_type(uint32_t code);
TensorTypeTraits tensor_type_traits(TensorType t);
// Stored in blocks of several elements with shared scales.
inline bool is_block_quantized(TensorType t) { return t != TensorType::F32 && t != TensorType::F16 && t != TensorType::BF16; }
inline std::string_view tensor_type_name(TensorType t) { return ggml_type_name(static_cast<uint32_t>(t)); }

}  // namespace vkmind
