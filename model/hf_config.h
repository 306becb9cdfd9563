// Hugging Face config.json -> ModelDesc, for MiniMindForCausalLM (MiniMind2
// and minimind-3 configs, dense and MoE), Qwen3ForCausalLM,
// Qwen3MoeForCausalLM, Qwen2ForCausalLM and LlamaForCausalLM.
#pragma once

#include <string>

#include "model/model_desc.h"

namespace vkmind {

// Reads <folder>/config.json (and the chat template from
// tokenizer_config.json when present). Missing or mistyped fields throw
// FormatError naming config.json and the key. Properties that only the
// tensors can tell (tied output, MiniMind's q/k norm) are set from the config
// here and settled by Model::open.
ModelDesc read_hf_config(const std::string& folder);

}  // namespace vkmind
