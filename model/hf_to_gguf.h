// Hugging Face folder (config.json + safetensors + tokenizer.json) -> the
// GGUF metadata and tensors llama.cpp's converter would write for it, so that
// `vkmind quantize` can write a GGUF from a folder. Each family becomes the
// llama.cpp architecture it is (gguf_architecture_for); vkmind's GGUF loader
// reads the result back as the same model.
//
// Tensors: GGUF names, ne[0] first; norms and biases F32; matrices in their
// stored type (F32/F16/BF16); llama-pairing architectures get their q/k rows
// permuted (HF rotate_half pairing -> adjacent pairs, as llama.cpp does);
// routed experts stacked into blk.N.ffn_{gate,up,down}_exps; shared experts
// concatenated into one blk.N.ffn_*_shexp FFN (the sum of S SwiGLU FFNs is one
// SwiGLU FFN S times as wide). Tied embeddings: no `output` tensor, except in
// bailingmoe and qwen3moe, whose llama.cpp loaders require one (a second view
// of the embedding's bytes).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "model/gguf.h"
#include "model/model_desc.h"
#include "model/tensor_source.h"

namespace vkmind {

// "llama", "qwen2", "qwen3", "qwen3moe" or "bailingmoe" (MiniMind2 MoE with
// shared experts). Throws FormatError naming `where` for a combination no
// llama.cpp architecture runs (q/k norm together with shared experts, ...).
std::string gguf_architecture_for(const ModelDesc& d, const std::string& where);

// Converts the folder. Throws FormatError naming the file and field at fault
// (config.json, tokenizer.json, a safetensors file), never a partial result.
std::unique_ptr<TensorSource> convert_hf_folder(const std::string& folder);

// tokenizer.ggml.* and tokenizer.chat_template for the folder's tokenizer,
// padded to `n_vocab` entries (the rows of token_embd). Part of
// convert_hf_folder, exposed for tests.
void add_hf_tokenizer_metadata(const std::string& folder, const ModelDesc& d, uint32_t n_vocab,
                               std::map<std::string, gguf::Value>& metadata);

}  // namespace vkmind
