// The full ggml type table, supported or not: a file with Q5_K tensors must
// still be listable (`vkmind info`) and bounds-checked, which needs each
// type's block size even though vkmind cannot compute with it.
#include "model/tensor_types.h"

#include <array>

namespace vkmind {

namespace {

struct GgmlType {
  const char* name;  // nullptr: code unused (removed from ggml)
  uint32_t block_elements;
  uint32_t block_bytes;
};

// Indexed by ggml type code (ggml.h, enum ggml_type).
constexpr std::array<GgmlType, 40> kGgmlTypes = {{
    {"F32", 1, 4},         {"F16", 1, 2},       {"Q4_0", 32, 18},    {"Q4_1", 32, 20},
    {nullptr, 0, 0},       {nullptr, 0, 0},     {"Q5_0", 32, 22},    {"Q5_1", 32, 24},
    {"Q8_0", 32, 34},      {"Q8_1", 32, 36},    {"Q2_K", 256, 84},   {"Q3_K", 256, 110},
    {"Q4_K", 256, 144},    {"Q5_K", 256, 176},  {"Q6_K", 256, 210},  {"Q8_K", 256, 292},
    {"IQ2_XXS", 256, 66},  {"IQ2_XS", 256, 74}, {"IQ3_XXS", 256, 98}, {"IQ1_S", 256, 50},
    {"IQ4_NL", 32, 18},    {"IQ3_S", 256, 110}, {"IQ2_S", 256, 82},  {"IQ4_XS", 256, 136},
    {"I8", 1, 1},          {"I16", 1, 2},       {"I32", 1, 4},       {"I64", 1, 8},
    {"F64", 1, 8},         {"IQ1_M", 256, 56},  {"BF16", 1, 2},      {nullptr, 0, 0},
    {nullptr, 0, 0},       {nullptr, 0, 0},     {"TQ1_0", 256, 54},  {"TQ2_0", 256, 66},
    {nullptr, 0, 0},       {nullptr, 0, 0},     {nullptr, 0, 0},     {"MXFP4", 32, 17},
}};

}  // namespace

std::string_view ggml_type_name(uint32_t code) {
  if (code < kGgmlTypes.size() && kGgmlTypes[code].name) return kGgmlTypes[code].name;
  return "unknown";
}

std::optional<TensorTypeTraits> ggml_type_traits(uint32_t code) {
  if (code < kGgmlTypes.size() && kGgmlTypes[code].name) {
    return TensorTypeTraits{kGgmlTypes[code].block_elements, kGgmlTypes[code].block_bytes};
  }
  return std::nullopt;
}

std::optional<TensorType> supported_tensor_type(uint32_t code) {
  switch (code) {
    case 0: case 1: case 2: case 3: case 6: case 7: case 8:  // float and 32-element types
    case 10: case 11: case 12: case 13: case 14: case 20: case 23:  // K-quants, IQ4_NL, IQ4_XS
    case 30: return static_cast<TensorType>(code);
    default: return std::nullopt;
  }
}

TensorTypeTraits tensor_type_traits(TensorType t) {
  // Every TensorType enumerator is in the table; a value cast from an
  // unsupported code still gets its real traits.
  return ggml_type_traits(static_cast<uint32_t>(t)).value_or(TensorTypeTraits{1, 1});
}

}  // namespace vkmind
