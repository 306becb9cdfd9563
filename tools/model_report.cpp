// `vkmind info -m MODEL`: what a model file holds, in the words a user needs
// to pick a device and a context size. A GGUF file that opens but is not a
// runnable model (a vocabulary-only file) still gets its file-level report,
// then the error that keeps it from running.
#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "model/gguf.h"
#include "model/model_desc.h"
#include "model/tokenizer/chat_formatter.h"
#include "model/tokenizer/tokenizer.h"
#include "tools/commands.h"

namespace vkmind::cli {

namespace {

std::string with_commas(uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

std::string human(uint64_t n) {
  char buf[32];
  if (n >= 1000000000ull) std::snprintf(buf, sizeof buf, "%.2f B", n / 1e9);
  else if (n >= 1000000ull) std::snprintf(buf, sizeof buf, "%.2f M", n / 1e6);
  else std::snprintf(buf, sizeof buf, "%.1f K", n / 1e3);
  return buf;
}

std::string first_line(const std::string& s, size_t max_len = 80) {
  std::string line = s.substr(0, s.find('\n'));
  if (line.size() > max_len) line = line.substr(0, max_len) + "...";
  return line;
}

void print_tokenizer(std::unique_ptr<tok::Tokenizer> (*load)(const void*), const void* arg) {
  std::unique_ptr<tok::Tokenizer> t;
  try {
    t = load(arg);
  } catch (const std::exception& e) {
    std::cout << "tokenizer:      unavailable (" << e.what() << ")\n";
    return;
  }
  std::cout << "tokenizer:      " << t->kind_name() << ", vocabulary " << t->vocab_size() << "\n";
  auto special = [&](const char* label, std::optional<int32_t> id) {
    if (!id) return;
    std::cout << "  " << label << id.value_or(-1) << " '" << t->piece(*id) << "'\n";
  };
  special("bos: ", t->bos_id());
  special("eos: ", t->eos_id());
  for (const auto& w : t->warnings()) std::cout << "  warning: " << w << "\n";
  const std::string& jinja = t->chat_template();
  std::string warning;
  const tok::ChatFormatter formatter = tok::ChatFormatter::for_tokenizer(*t, warning);
  if (jinja.empty()) {
    std::cout << "chat template:  absent; the " << formatter.description()
              << " is used unless --chat-template says otherwise\n";
  } else {
    std::cout << "chat template:  " << formatter.description() << "; first line: " << first_line(jinja) << "\n";
    if (!warning.empty()) std::cout << "  warning: " << warning << "\n";
  }
}

void print_gguf_file(const gguf::File& f, bool with_arch) {
  std::cout << "format:         GGUF v" << f.version() << ", alignment " << f.alignment() << ", "
            << f.metadata().size() << " metadata keys, " << f.tensors().size() << " tensors\n";
  if (!with_arch) return;
  if (auto a = f.get_string("general.architecture")) std::cout << "architecture:   " << *a << "\n";
}

void print_description(const Model& m) {
  const ModelDesc& d = m.desc();
  std::cout << "architecture:   " << d.architecture << "\n";
  std::cout << "layers:         " << d.n_layers << "\n";
  std::cout << "hidden:         " << d.hidden << "\n";
  std::cout << "heads:          " << d.n_heads << " query, " << d.n_kv_heads << " key/value (GQA " << d.n_heads / d.n_kv_heads
            << ":1), head_dim " << d.head_dim << "\n";
  if (d.is_moe()) {
    std::cout << "moe:            " << d.moe.n_experts << " experts, top-" << d.moe.top_k
              << (d.moe.norm_topk_prob ? " renormalised" : "") << ", expert FFN " << d.moe.expert_ffn;
    if (d.moe.n_shared_experts) {
      std::cout << ", " << d.moe.n_shared_experts << " shared expert(s) FFN " << d.moe.shared_expert_ffn;
    }
    std::cout << "\n";
  } else {
    std::cout << "ffn hidden:     " << d.ffn_hidden << " (SwiGLU)\n";
  }
  std::cout << "vocabulary:     " << d.vocab << "\n";
  std::cout << "context:        " << d.context_length << "\n";
  std::cout << "norm eps:       " << d.norm_eps << "\n";
  std::cout << "rope:           " << rope_pairing_name(d.rope.pairing) << " pairing, theta " << d.rope.theta << ", "
            << d.rope.n_dims << " dims";
  if (d.rope.scaling != RopeScalingType::None) {
    std::cout << ", " << rope_scaling_name(d.rope.scaling) << " scaling x" << d.rope.factor;
    if (d.rope.scaling == RopeScalingType::YaRN) std::cout << " from " << d.rope.original_context;
  }
  std::cout << "\n";
  std::cout << "attention:      q/k norm " << (d.qk_norm ? "yes" : "no") << ", q/k/v bias "
            << (d.attn_qkv_bias ? "yes" : "no") << "\n";
  std::cout << "output:         "
            << (d.tied_embeddings ? "tied to token_embd"
                                  : d.output_duplicates_embedding ? "separate (a copy of token_embd)" : "separate")
            << "\n";
  const uint64_t params = m.parameter_count();
  std::cout << "parameters:     " << with_commas(params) << " (" << human(params) << ")\n";
  // Per ggml type code: tensors, elements and bytes (a Q4_K_M file mixes Q4_K, Q6_K and F32).
  struct TypeShare {
    int tensors = 0;
    uint64_t elements = 0, bytes = 0;
  };
  std::map<uint32_t, TypeShare> types;
  uint64_t elements = 0, bytes = 0;
  for (const auto& t : m.stored_tensors()) {
    TypeShare& share = types[static_cast<uint32_t>(t.type)];
    share.tensors++, share.elements += t.n_elements(), share.bytes += t.data.size();
    elements += t.n_elements(), bytes += t.data.size();
  }
  std::cout << "tensor types:  ";
  const char* separator = " ";
  for (const auto& [code, share] : types) {
    char percent[32];
    std::snprintf(percent, sizeof percent, "%.1f%%", elements ? 100.0 * double(share.elements) / double(elements) : 0.0);
    std::cout << separator << ggml_type_name(code) << " x" << share.tensors << " (" << percent << " of weights)"
              << (supported_tensor_type(code) ? "" : " (not supported yet)");
    separator = ", ";
  }
  std::cout << "\n";
  char bpw[64];
  std::snprintf(bpw, sizeof bpw, "%.2f (%.1f MiB of tensors)", elements ? 8.0 * double(bytes) / double(elements) : 0.0,
                double(bytes) / (1 << 20));
  std::cout << "bits/weight:    " << bpw << "\n";
  auto id = [](std::optional<int32_t> v) { return v ? std::to_string(*v) : std::string("none"); };
  std::cout << "special ids:    bos " << id(d.bos_id) << ", eos " << id(d.eos_id) << ", pad " << id(d.pad_id) << "\n";
  try {
    m.check_supported();
  } catch (const std::exception& e) {
    std::cout << "runnable:       no: " << e.what() << "\n";
  }
  for (const auto& w : m.warnings()) std::cout << "warning:        " << w << "\n";
}

std::unique_ptr<tok::Tokenizer> load_gguf_tok(const void* f) {
  return tok::load_tokenizer_from_gguf(*static_cast<const gguf::File*>(f));
}
std::unique_ptr<tok::Tokenizer> load_hf_tok(const void* folder) {
  return tok::load_tokenizer_from_hf_folder(*static_cast<const std::string*>(folder));
}

}  // namespace

void print_model_report(const std::string& model_path) {
  std::cout << "model:          " << model_path << "\n";
  std::unique_ptr<Model> m;
  try {
    m = Model::open(model_path);
  } catch (const FormatError&) {
    // Not a runnable model. If it is a readable GGUF file (a vocabulary-only
    // file, an unsupported architecture), say what it holds first; either
    // way the error that keeps it from running ends the report.
    const auto model_error = std::current_exception();
    std::unique_ptr<gguf::File> f;
    try {
      if (!std::filesystem::is_directory(model_path)) f = gguf::File::open(model_path);
    } catch (const std::exception&) {
    }
    if (f) {
      print_gguf_file(*f, true);
      print_tokenizer(load_gguf_tok, f.get());
    }
    std::rethrow_exception(model_error);
  }
  if (m->gguf()) {
    print_gguf_file(*m->gguf(), false);
  } else {
    std::cout << "format:         Hugging Face folder (config.json, safetensors)\n";
  }
  print_description(*m);
  if (m->gguf()) print_tokenizer(load_gguf_tok, m->gguf());
  else print_tokenizer(load_hf_tok, &m->hf_folder());
}

}  // namespace vkmind::cli
