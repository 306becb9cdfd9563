// A random-weight llama model whose rows are whole 256-element super-blocks
// (hidden 256, FFN 768, 4 heads of 64, 2 KV heads, 2 layers), written as an
// f32 GGUF with the oracle llama checkpoint's tokenizer: the oracle checkpoints
// are 32-48 wide, too narrow for the K-quants, which would all fall back to
// 32-element types there. Weights ~ N(0, 1/in), so activations stay O(1).
#pragma once

#include <string>

#include "tests/scratch_dir.h"

namespace vkmind::test {

// Writes dir/name and returns its path; `seed` draws the weights.
std::string write_wide_model(const ScratchDir& dir, const std::string& name = "wide.gguf", unsigned seed = 2024);

}  // namespace vkmind::test
