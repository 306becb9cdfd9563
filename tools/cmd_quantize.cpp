// `vkmind quantize -m MODEL -o OUT.gguf --type TYPE`: re-encodes the weight
// matrices of a GGUF file or a Hugging Face folder (converted as llama.cpp's
// converter would, model/hf_to_gguf.h) by a recipe (model/quant_recipe.h: one
// type for every matrix, or llama.cpp's K-quant mixes such as q4_k_m), keeping
// norms, biases, the MoE router and every metadata value, so the output is a
// GGUF v3 that vkmind and llama.cpp read. Writes OUT through a temporary file renamed at the end: an
// interrupted or failed run leaves no half-written OUT.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "model/gguf_writer.h"
#include "model/quant_recipe.h"
#include "model/tensor_source.h"
#include "model/weight_codec.h"
#include "tools/commands.h"
#include "tools/engine_flags.h"
#include "tools/exit_code.h"
#include "tools/interrupt.h"
#include "tools/model_source.h"

namespace vkmind::cli {

namespace {

// Encodes [rows][cols] values on every core: rows are whole blocks, so the
// pieces' bytes concatenate. The K-quant scale search makes this worth it.
std::vector<uint8_t> encode_parallel(const std::vector<float>& values, TensorType type, uint64_t cols) {
  const uint64_t rows = values.size() / cols;
  const unsigned workers = unsigned(std::min<uint64_t>(std::max(1u, std::thread::hardware_concurrency()), rows));
  if (workers <= 1) return encode_weights(values, type);
  std::vector<std::vector<uint8_t>> parts(workers);
  std::vector<std::exception_ptr> errors(workers);
  std::vector<std::thread> threads;
  for (unsigned w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      try {
        const uint64_t begin = rows * w / workers, end = rows * (w + 1) / workers;
        parts[w] = encode_weights(std::span<const float>(values.data() + begin * cols, (end - begin) * cols), type);
      } catch (...) {
        errors[w] = std::current_exception();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

struct QuantizeFlags {
  std::string input, output, type;
  bool quiet = false;
  bool offline = false;
};

void run(QuantizeFlags& f) {
  InterruptGuard interrupts;
  f.input = resolve_model_source(f.input, f.offline);
  const quant::Recipe& recipe = *quant::find_recipe(f.type);
  const auto in = open_tensor_source(f.input);
  std::vector<std::string> names;
  for (const SourceTensor& t : in->tensors()) names.push_back(t.name);
  const quant::ModelShape shape = quant::model_shape(names);

  std::vector<gguf::TensorToWrite> tensors;
  std::map<std::string, int> written_types;
  uint64_t bytes_in = 0, bytes_out = 0, elements = 0;
  const size_t total = in->tensors().size();
  for (size_t i = 0; i < total; ++i) {
    if (interrupts.pending()) throw ExitCode{kExitInterrupted};
    const SourceTensor& t = in->tensors()[i];
    gguf::TensorToWrite out{t.name, t.dims, t.type_code, {}};
    const std::optional<TensorType> target = quant::recipe_type(recipe, shape, t.name, t.dims);
    if (target && t.type_code != uint32_t(*target)) {
      const auto type = supported_tensor_type(t.type_code);
      if (!type) {
        throw FormatError(in->path(), "tensor " + t.name + " has type " + std::string(ggml_type_name(t.type_code)) +
                                          ", which vkmind does not support yet");
      }
      try {
        const auto values = decode_weights(t.data, *type, t.n_elements);
        out.bytes = encode_parallel(values, *target, t.dims[0]);
      } catch (const std::exception& e) {
        throw std::runtime_error(f.input + ": tensor " + t.name + ": " + e.what());
      }
      out.type_code = uint32_t(*target);
    } else {
      out.bytes.assign(t.data.begin(), t.data.end());
    }
    bytes_in += t.data.size();
    bytes_out += out.bytes.size();
    elements += t.n_elements;
    written_types[std::string(ggml_type_name(out.type_code))]++;
    tensors.push_back(std::move(out));
    if (!f.quiet) std::fprintf(stderr, "\rquantize: %zu/%zu tensors", i + 1, total);
  }
  if (!f.quiet) std::fputc('\n', stderr);

  auto metadata = in->metadata();
  metadata["general.file_type"] = gguf::u32_value(recipe.llama_file_type);
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
    std::string mix;
    for (const auto& [name, count] : written_types) mix += (mix.empty() ? "" : ", ") + name + " x" + std::to_string(count);
    std::fprintf(stderr, "quantize: %s -> %s (%s): %.1f MiB -> %.1f MiB, %.2f bits per weight (%s)\n", f.input.c_str(),
                 f.output.c_str(), f.type.c_str(), double(bytes_in) / (1 << 20), double(bytes_out) / (1 << 20),
                 elements ? 8.0 * double(bytes_out) / double(elements) : 0.0, mix.c_str());
  }
}

}  // namespace

void add_quantize_command(CLI::App& app) {
  auto f = std::make_shared<QuantizeFlags>();
  auto* cmd = app.add_subcommand("quantize", "Write a GGUF with its weight matrices in another type");
  cmd->add_option("--model,-m", f->input, "Input GGUF, a Hugging Face folder (config.json, safetensors, tokenizer.json), or hf:ORG/REPO[:QUANT]")
      ->required()
      ->check(model_path_or_hub());
  add_offline_flag(*cmd, f->offline);
  cmd->add_option("--output,-o", f->output, "Output GGUF (written through a temporary file)")->required();
  std::vector<std::string> names;
  std::string described = "Recipe:";
  for (const quant::Recipe& r : quant::recipes()) {
    names.push_back(r.name);
    described += "\n  " + r.name + ": " + r.description;
  }
  cmd->add_option("--type", f->type, described)->required()->check(CLI::IsMember(names));
  cmd->add_flag("--quiet,-q", f->quiet, "No progress or summary");
  cmd->callback([f] { run(*f); });
}

}  // namespace vkmind::cli
