// `vkmind quantize` on Hugging Face folders: every oracle checkpoint's hf/
// folder, written as GGUF (--type f32, and f16 for the f16 checkpoints), is the
// same model: logits, greedy generation, tokenization, chat template and
// special ids; where the oracle also wrote a model.gguf, the keys llama.cpp
// reads match that file's. Broken folders fail naming the file and leave no
// output.
//
// Tolerance: max |logit difference| <= 1e-4 x the logit range. The converted
// file holds the folder's weight values bit for bit (f32 -> f32, f16 -> f16,
// f16 -> f32 exactly), so qwen2/qwen3/qwen3moe files give identical logits;
// llama and bailingmoe files have their q/k rows permuted for adjacent-pair
// RoPE, which changes only the f32 rounding order (measured 3.4e-7 of the
// range). A wrong permutation, expert order or norm moves logits by a large
// part of the range.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "model/gguf.h"
#include "model/model_desc.h"
#include "model/tokenizer/tokenizer.h"
#include "tests/cli/cli_helpers.h"
#include "tests/engine/expected_file.h"
#include "tests/golden_manifest.h"
#include "tests/same_description.h"
#include "tests/scratch_dir.h"

using namespace vkmind;
using namespace vkmind::test;
namespace fs = std::filesystem;

namespace {

std::vector<double> logits_of(const std::string& model, const std::string& tokens) {
  auto r = run_cli({"logits", "-m", model, "--tokens", tokens});
  REQUIRE(r.status == 0);
  std::istringstream in(r.out);
  std::vector<double> v;
  for (double x; in >> x;) v.push_back(x);
  return v;
}

std::string greedy_text(const std::string& model) {
  auto r = run_cli({"run", "-m", model, "-p", "Hello, world", "-n", "8", "--temp", "0", "--ignore-eos", "-q",
                    "--no-display-prompt"});
  REQUIRE(r.status == 0);
  return r.out;
}

std::string join(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += (s.empty() ? "" : " ") + std::to_string(id);
  return s;
}

struct HfCase {
  std::string name;  // golden directory
  fs::path hf;
  bool f16;
};

std::vector<HfCase> hf_cases() {
  std::vector<HfCase> out;
  for (const auto& cp : golden_checkpoints()) {
    if (fs::path(cp.path).filename() == "hf") out.push_back({cp.dir.filename().string(), cp.path, cp.f16});
  }
  return out;
}

void check_same_tokenizer(const std::string& hf, const std::string& gguf) {
  const auto a = tok::load_tokenizer(hf);
  const auto b = tok::load_tokenizer(gguf);
  CHECK(b->warnings().empty());
  CHECK(a->bos_id() == b->bos_id());
  CHECK(a->eos_id() == b->eos_id());
  CHECK(a->add_bos_by_default() == b->add_bos_by_default());
  CHECK(a->chat_template() == b->chat_template());
  CHECK(a->kind_name() == b->kind_name());
  const char* texts[] = {"Hello, world!",
                         "  leading and   inner spaces, tabs\tand\nnew lines\n\n",
                         "numbers 12345 and 3.14159, contractions: I'm, you'll, it's",
                         "unicode: caf\xc3\xa9, \xe4\xbd\xa0\xe5\xa5\xbd\xe4\xb8\x96\xe7\x95\x8c, emoji \xf0\x9f\x98\x80",
                         "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n",
                         "<|endoftext|>"};
  for (const char* text : texts) {
    INFO(text);
    for (bool special : {true, false}) {
      const auto ids = a->encode(text, a->add_bos_by_default(), special);
      CHECK(join(b->encode(text, b->add_bos_by_default(), special)) == join(ids));
      CHECK(b->decode(ids) == a->decode(ids));
    }
  }
}

// The keys llama.cpp's loader reads for these architectures and tokenizers.
bool llama_cpp_key(const std::string& key) {
  if (key.starts_with("general.")) return key == "general.architecture";
  if (key == "tokenizer.ggml.pre") return false;  // see the test below
  return true;
}

std::string value_text(const gguf::Value& v) {
  std::ostringstream s;
  if (v.is_string()) s << v.as_string("");
  else if (v.is_array()) {
    for (const auto& e : v.as_array("")) s << value_text(e) << '\x1f';
  } else if (v.type == gguf::ValueType::F32 || v.type == gguf::ValueType::F64) s << float(v.as_float(""));
  else if (v.type == gguf::ValueType::BOOL) s << v.as_bool("");
  else s << v.as_int("");
  return s.str();
}

}  // namespace

TEST_CASE("quantize: every oracle HF folder becomes a GGUF that is the same model", "[cli]") {
  const auto cases = hf_cases();
  REQUIRE(cases.size() >= 14);
  for (const auto& c : cases) {
    const std::vector<std::string> types = c.f16 ? std::vector<std::string>{"f16", "f32"} : std::vector<std::string>{"f32"};
    for (const auto& type : types) {
      DYNAMIC_SECTION(c.name << " --type " << type) {
        ScratchDir dir;
        const std::string out = dir.path("model.gguf");
        auto q = run_cli({"quantize", "-m", c.hf.string(), "-o", out, "--type", type});
        REQUIRE(q.status == 0);
        CHECK(q.err.find("bits per weight") != std::string::npos);

        auto expected = read_expected((c.hf.parent_path() / "expected.txt").string());
        const std::string prompt = join(expected.ids("prompt"));
        const auto want = logits_of(c.hf.string(), prompt);
        const auto got = logits_of(out, prompt);
        REQUIRE(got.size() == want.size());
        const auto [lo, hi] = std::minmax_element(want.begin(), want.end());
        double worst = 0;
        for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::fabs(got[i] - want[i]));
        INFO("max |logit difference| / range = " << worst / (*hi - *lo));
        CHECK(worst <= 1e-4 * (*hi - *lo));
        CHECK(greedy_text(out) == greedy_text(c.hf.string()));

        check_same_tokenizer(c.hf.string(), out);

        // The description vkmind reads back: same shapes, RoPE and experts.
        const auto a = Model::open(c.hf.string());
        const auto b = Model::open(out);
        CHECK(b->warnings().empty());
        const ModelDesc& x = a->desc();
        const ModelDesc& y = b->desc();
        check_same_shape(x, y);
        CHECK(x.context_length == y.context_length);
        CHECK(float(x.norm_eps) == float(y.norm_eps));
        CHECK(x.rope.theta == y.rope.theta);
        CHECK(x.rope.scaling == y.rope.scaling);
        CHECK(x.rope.factor == y.rope.factor);
        CHECK(x.rope.original_context == y.rope.original_context);
        CHECK(x.rope.beta_fast == y.rope.beta_fast);
        CHECK(x.rope.beta_slow == y.rope.beta_slow);
        CHECK(x.rope.attention_factor == y.rope.attention_factor);
        CHECK(x.moe.n_experts == y.moe.n_experts);
        CHECK(x.moe.top_k == y.moe.top_k);
        CHECK(x.moe.norm_topk_prob == y.moe.norm_topk_prob);
        CHECK(x.moe.n_shared_experts == y.moe.n_shared_experts);
        CHECK(x.moe.expert_ffn == y.moe.expert_ffn);
        CHECK(x.moe.shared_expert_ffn == y.moe.shared_expert_ffn);
        CHECK(x.bos_id == y.bos_id);
        CHECK(x.eos_id == y.eos_id);
        CHECK(x.chat_template == y.chat_template);
        // Tied embeddings stay tied (no output tensor), except where llama.cpp requires one.
        if (y.architecture != "bailingmoe" && y.architecture != "qwen3moe") CHECK(x.tied_embeddings == y.tied_embeddings);
        const auto file = gguf::File::open(out);
        CHECK(file->get_int("general.file_type") == (type == "f16" ? 1 : 0));
        for (const auto& t : file->tensors()) {
          if (t.dims.size() == 1) CHECK(t.type == TensorType::F32);  // norms and biases
        }
      }
    }
  }
}

TEST_CASE("quantize: an HF folder's GGUF has the keys of the oracle's own GGUF", "[cli]") {
  for (const auto& c : hf_cases()) {
    const fs::path oracle = c.hf.parent_path() / "model.gguf";
    if (!fs::exists(oracle)) continue;
    SECTION(c.name) {
      ScratchDir dir;
      const std::string out = dir.path("model.gguf");
      REQUIRE(run_cli({"quantize", "-m", c.hf.string(), "-o", out, "--type", c.f16 ? "f16" : "f32", "-q"}).status == 0);
      const auto want = gguf::File::open(oracle.string());
      const auto got = gguf::File::open(out);
      for (const auto& [key, value] : want->metadata()) {
        if (!llama_cpp_key(key)) continue;
        INFO(key);
        const gguf::Value* v = got->find(key);
        REQUIRE(v != nullptr);
        CHECK(value_text(*v) == value_text(value));
      }
      // The oracle names the pre-tokenizer after the model family, but its
      // tokenizer.json splits with GPT-2's regex (ByteLevel, use_regex):
      // "gpt-2" is the name llama.cpp gives that split.
      CHECK(got->get_string("tokenizer.ggml.pre") == "gpt-2");
      for (const auto& t : want->tensors()) {
        INFO(t.name);
        const auto* mine = got->find_tensor(t.name);
        REQUIRE(mine != nullptr);
        CHECK(mine->dims == t.dims);
        CHECK(mine->type_code == t.type_code);
        // Same bytes: llama's q/k permutation is the one llama.cpp (and the oracle) applies.
        const auto a = got->tensor_data(*mine);
        const auto b = want->tensor_data(t);
        CHECK(std::equal(a.begin(), a.end(), b.begin(), b.end()));
      }
      CHECK(got->tensors().size() == want->tensors().size());
    }
  }
}

TEST_CASE("quantize: a broken HF folder fails naming the file and leaves no output", "[cli]") {
  const fs::path source = tiny_hf();
  struct Breakage {
    const char* what;
    const char* file;  // named in the message
    void (*apply)(const fs::path&);
  };
  const Breakage breakages[] = {
      {"missing config.json", "config.json", [](const fs::path& d) { fs::remove(d / "config.json"); }},
      {"malformed tokenizer.json", "tokenizer.json",
       [](const fs::path& d) { std::ofstream(d / "tokenizer.json") << "{\"model\": {\"type\": \"BPE\", \"vocab\": "; }},
      {"truncated model.safetensors", "model.safetensors",
       [](const fs::path& d) { fs::resize_file(d / "model.safetensors", fs::file_size(d / "model.safetensors") / 2); }},
  };
  for (const auto& b : breakages) {
    SECTION(b.what) {
      ScratchDir in, out_dir;
      const fs::path folder = in.dir / "hf";
      fs::copy(source, folder, fs::copy_options::recursive);
      b.apply(folder);
      auto r = run_cli({"quantize", "-m", folder.string(), "-o", out_dir.path("out.gguf"), "--type", "q8_0"});
      CHECK(r.status == 1);
      CHECK(r.err.find(b.file) != std::string::npos);
      CHECK(fs::is_empty(out_dir.dir));  // no output, no temporary
    }
  }
}

TEST_CASE("quantize: an HF folder straight to q8_0 runs near the f32 logits", "[cli]") {
  ScratchDir dir;
  const std::string out = dir.path("q8.gguf");
  REQUIRE(run_cli({"quantize", "-m", tiny_hf(), "-o", out, "--type", "q8_0", "-q"}).status == 0);
  const auto want = logits_of(tiny_hf(), "1 2 3 4 5 6 7 8");
  const auto got = logits_of(out, "1 2 3 4 5 6 7 8");
  REQUIRE(got.size() == want.size());
  const auto [lo, hi] = std::minmax_element(want.begin(), want.end());
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::fabs(got[i] - want[i]));
  CHECK(worst / (*hi - *lo) <= 4e-2);  // q8_0's bound in test_cli_quantize.cpp
  CHECK(worst > 0);
}
