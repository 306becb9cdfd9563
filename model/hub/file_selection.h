// Which files of a repository listing a pull fetches: the parts of a Hugging
// Face folder vkmind loads, or the GGUF file that carries a quant.
#pragma once

#include <string>
#include <vector>

namespace vkmind::hub {

// The Hugging Face folder files vkmind reads (config, safetensors and their
// index, tokenizer, generation settings, a separate chat template), at the
// top level of the repository, in listing order.
std::vector<std::string> hf_folder_files(const std::vector<std::string>& listing);
// True when those include config.json and weights vkmind can load.
bool is_loadable_hf_folder(const std::vector<std::string>& files);

// The quant a GGUF file name carries ("Qwen3-0.6B-Q8_0.gguf" -> "Q8_0";
// a split part "x-Q4_K_M-00001-of-00003.gguf" -> "Q4_K_M"), "" for none or
// for a file that is not a model (mmproj-*).
std::string gguf_quant_of(const std::string& path);
// Every quant the GGUF files of a listing carry, upper-case, sorted, once each.
std::vector<std::string> gguf_quants(const std::vector<std::string>& listing);

struct GgufChoice {
  std::vector<std::string> files;  // empty: no file carries the quant; several: the parts of a split GGUF
};
// The file whose name carries `quant` (any case); the shortest name when several do.
GgufChoice select_gguf(const std::vector<std::string>& listing, const std::string& quant);

}  // namespace vkmind::hub
