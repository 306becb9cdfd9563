// The `vkmind quantize --type` recipes: which type each tensor of a GGUF gets.
// Plain types (f16, q8_0, q4_0, ...) give every weight matrix that type; the
// K-quant recipes follow llama.cpp's (llama_tensor_get_type), so a file
// written here looks like the Q4_K_M files people download:
// - q4_k_m / q5_k_m: Q4_K / Q5_K, with Q6_K for the output head (or the token
//   embedding when the head is tied to it), and for attn_v and ffn_down in the
//   layers that get more bits (the first and last eighth, every third between);
// - q6_k: Q6_K throughout; q3_k_m: Q3_K with Q4_K / Q5_K for those, q2_k: Q2_K
//   with Q3_K there and Q6_K for the head; iq4_xs and iq4_nl with Q5_K for
//   ffn_down in the first eighth of the layers and Q6_K for the head.
// On a minimind-3-size model every tensor gets the type llama.cpp's
// llama-quantize gives it (checked by hand for all seven recipes). Not
// followed: llama.cpp's extra bits for attn_v when there are 4+ query heads
// per KV head (q2_k, iq4), and its rules for 8-expert models.
// Rows that are not whole 256-element super-blocks fall back as llama.cpp
// does: Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0, Q2_K/Q3_K/IQ4_XS -> IQ4_NL.
// Vectors (norms, biases) and the MoE router keep their type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/tensor_types.h"

namespace vkmind::quant {

struct Recipe {
  std::string name;          // as given to --type
  uint32_t llama_file_type;  // general.file_type (llama.cpp's LLAMA_FTYPE_*)
  TensorType base;           // the type of most matrices
  std::string description;
};

const std::vector<Recipe>& recipes();
const Recipe* find_recipe(const std::string& name);

// What the recipe needs to know of the whole model.
struct ModelShape {
  uint32_t n_layers = 0;
  bool has_output = false;  // an `output.weight` separate from token_embd
};
// Counts layers (blk.N.) and looks for output.weight among the tensor names.
ModelShape model_shape(const std::vector<std::string>& tensor_names);

// The type `name` (dims ne[0] first) gets under the recipe; nullopt: keep the
// stored type (vectors, the router, rows no block type fits).
std::optional<TensorType> recipe_type(const Recipe& recipe, const ModelShape& model, const std::string& name,
                                      const std::vector<uint64_t>& dims);

}  // namespace vkmind::quant
