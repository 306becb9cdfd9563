// `vkmind quantize -m MODEL -o OUT.gguf --type TYPE`: re-encodes the weight
// matrices (tensors of two or more dimensions whose rows are whole blocks) of
// a GGUF file or a Hugging Face folder (converted as llama.cpp's converter
// would, model/hf_to_gguf.h) into TYPE, keeping norms, biases, the MoE router
// and every metadata value, so the output is a GGUF v3 that vkmind and
// llama.cpp read. Writes OUT through a temporary file renamed at the end: an
// interrupted or failed run leaves no half-written OUT.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "model/gguf_writer.h"
#include "model/tensor_source.h"
#include "model/weight_codec.h"
#include "tools/commands.h"
#include "tools/engine_flags.h"
#include "tools/exit_code.h"
#include "tools/interrupt.h"

namespace vkmind::cli {

namespace {

struct Target {
  TensorType type;
  uint32_t llama_file_type;  // general.file_type (llama.cpp's LLAMA_FTYPE_*)
};

const std::map<std::string, Target>& targets() {
  static const std::map<std::string, Target> t = {
      {"f32", {TensorType::F32, 0}},   {"f16", {TensorType::F16, 1}},   {"bf16", {TensorType::BF16, 32}},
      {"q8_0", {TensorType::Q8_0, 7}}, {"q4_0", {TensorType::Q4_0, 2}}, {"q4_1", {TensorType::Q4_1, 3}},
      {"q5_0", {TensorType::Q5_0, 8}}, {"q5_1", {TensorType::Q5_1, 9}},
  };
  return t;
}

struct QuantizeFlags {
  std::string input, output, type;
  bool quiet = false;
};

void run(const QuantizeFlags& f) {
  InterruptGuard interrupts;
  const Target target = targets().at(f.type);
  const auto in = open_tensor_source(f.input);
  const uint32_t block = tensor_type_traits(target.type).block_elements;

  std::vector<gguf::TensorToWrite> tensors;
  uint64_t bytes_in = 0, bytes_out = 0, elements = 0;
  const size_t total = in->tensors().size();
  for (size_t i = 0; i < total; ++i) {
    if (interrupts.pending()) throw ExitCode{kExitInterrupted};
    const SourceTensor& t = in->tensors()[i];
    gguf::TensorToWrite out{t.name, t.dims, t.type_code, {}};
    // Matrices take the new type; vectors (norms, biases) keep theirs, and so
    // does the MoE router, whose few weights pick the experts (llama.cpp
    // keeps it too).
    const bool router = t.name.ends_with("ffn_gate_inp.weight");
    const bool matrix = t.dims.size() >= 2 && t.dims[0] % block == 0 && !router;
    if (matrix && t.type_code != uint32_t(target.type)) {
      const auto type = supported_tensor_type(t.type_code);
      if (!type) {
        throw FormatError(in->path(), "tensor " + t.name + " has type " + std::string(ggml_type_name(t.type_code)) +
                                          ", which vkmind does not support yet");
      }
      try {
        const auto values = decode_weights(t.data, *type, t.n_elements);
        out.bytes = encode_weights(values, target.type);
      } catch (const std::exception& e) {
        throw std::runtime_error(f.input + ": tensor " + t.name + ": " + e.what());
      }
      out.type_code = uint32_t(target.type);
    } else {
      out.bytes.assign(t.data.begin(), t.data.end());
    }
    bytes_in += t.data.size();
    bytes_out += out.bytes.size();
    elements += t.n_elements;
    tensors.push_back(std::move(out));
    if (!f.quiet) std::fprintf(stderr, "\rquantize: %zu/%zu tensors", i + 1, total);
  }
  if (!f.quiet) std::fputc('\n', stderr);

  auto metadata = in->metadata();
  metadata["general.file_type"] = gguf::u32_value(target.llama_file_type);
  metadata["general.quantization_version"] = gguf::u32_value(2);
  // Beside OUT, so that the rename cannot cross file systems.
  const std::string temporary = f.output + ".tmp-" + std::to_string(::getpid());
  try {
    gguf::write_file(temporary, metadata, tensors);
    if (interrupts.pending()) throw ExitCode{kExitInterrupted};
    std::filesystem::rename(temporary, f.output);
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    throw;
  }
  if (!f.quiet) {
    std::fprintf(stderr, "quantize: %s -> %s (%s): %.1f MiB -> %.1f MiB, %.2f bits per weight\n", f.input.c_str(),
                 f.output.c_str(), f.type.c_str(), double(bytes_in) / (1 << 20), double(bytes_out) / (1 << 20),
                 elements ? 8.0 * double(bytes_out) / double(elements) : 0.0);
  }
}

}  // namespace

void add_quantize_command(CLI::App& app) {
  auto f = std::make_shared<QuantizeFlags>();
  auto* cmd = app.add_subcommand("quantize", "Write a GGUF with its weight matrices in another type");
  cmd->add_option("--model,-m", f->input, "Input GGUF, or a Hugging Face folder (config.json, safetensors, tokenizer.json)")->required()->check(CLI::ExistingPath);
  cmd->add_option("--output,-o", f->output, "Output GGUF (written through a temporary file)")->required();
  std::vector<std::string> names;
  for (const auto& [name, t] : targets()) names.push_back(name);
  cmd->add_option("--type", f->type, "Type of the weight matrices")->required()->check(CLI::IsMember(names));
  cmd->add_flag("--quiet,-q", f->quiet, "No progress or summary");
  cmd->callback([f] { run(*f); });
}

}  // namespace vkmind::cli
