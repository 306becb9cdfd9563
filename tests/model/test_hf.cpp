// Hugging Face folders written by the test: each family's config.json with
// random F32 weights, sharded and not, opens and describes itself; broken
// folders are refused naming the file and the key or tensor.
#include <catch2/catch.hpp>

#include "model/model_desc.h"
#include "model/safetensors.h"
#include "tests/model/test_helpers.h"

using namespace vkmind;
using nlohmann::json;
using vkmind::test::HfFolder;
using vkmind::test::HfLayout;
using vkmind::test::ScratchDir;

namespace {

json minimind2_config(bool moe) {
  return {{"architectures", {"MiniMindForCausalLM"}}, {"model_type", "minimind"}, {"hidden_size", 64},
          {"num_hidden_layers", 2}, {"num_attention_heads", 4}, {"num_key_value_heads", 2}, {"vocab_size", 100},
          {"intermediate_size", nullptr}, {"rms_norm_eps", 1e-5}, {"rope_theta", 1e6},
          {"max_position_embeddings", 32768}, {"use_moe", moe}, {"n_routed_experts", 4}, {"n_shared_experts", 1},
          {"num_experts_per_tok", 2}, {"norm_topk_prob", true}, {"scoring_func", "softmax"},
          {"aux_loss_alpha", 0.1}, {"seq_aux", true}, {"flash_attn", true}, {"hidden_act", "silu"},
          {"dropout", 0.0}, {"bos_token_id", 1}, {"eos_token_id", 2}};
}

// minimind-3: head_dim 24 is not hidden / heads; FFN size from the pi rule.
json minimind3_config(bool moe) {
  return {{"architectures", {"MiniMindForCausalLM"}}, {"model_type", "minimind"}, {"hidden_size", 64},
          {"num_hidden_layers", 2}, {"num_attention_heads", 4}, {"num_key_value_heads", 2}, {"head_dim", 24},
          {"vocab_size", 100}, {"use_moe", moe}, {"num_experts", 4}, {"num_experts_per_tok", 1},
          {"moe_intermediate_size", 32}, {"norm_topk_prob", true}, {"tie_word_embeddings", true},
          {"inference_rope_scaling", true}, {"rope_theta", 1e6}, {"max_position_embeddings", 32768},
          {"rms_norm_eps", 1e-6}, {"flash_attn", true}, {"hidden_act", "silu"}};
}

json qwen3_config() {
  return {{"architectures", {"Qwen3ForCausalLM"}}, {"model_type", "qwen3"}, {"hidden_size", 64},
          {"num_hidden_layers", 2}, {"num_attention_heads", 4}, {"num_key_value_heads", 2}, {"head_dim", 32},
          {"intermediate_size", 96}, {"vocab_size", 100}, {"rms_norm_eps", 1e-6}, {"rope_theta", 1000000.0},
          {"max_position_embeddings", 40960}, {"tie_word_embeddings", false}, {"hidden_act", "silu"},
          {"bos_token_id", 151643}, {"eos_token_id", 151645}, {"attention_bias", false}, {"rope_scaling", nullptr}};
}

}  // namespace

TEST_CASE("MiniMind2 dense folder: 8/3 FFN rule, no q/k norm, tied", "[hf]") {
  ScratchDir dir;
  HfFolder f;
  f.config = minimind2_config(false);
  HfLayout{.ffn = 192}.add_to(f);
  f.write(dir.dir);
  auto m = Model::open(dir.dir.string());
  const ModelDesc& d = m->desc();
  CHECK(d.architecture == "minimind");
  CHECK(d.format == "safetensors");
  CHECK(d.hidden == 64);
  CHECK(d.n_layers == 2);
  CHECK(d.head_dim == 16);
  CHECK(d.ffn_hidden == 192);
  CHECK(d.norm_eps == Approx(1e-5));
  CHECK(d.rope.theta == 1e6);
  CHECK(d.rope.pairing == RopePairing::NeoX);
  CHECK(d.rope.scaling == RopeScalingType::None);
  CHECK_FALSE(d.qk_norm);
  CHECK(d.tied_embeddings);
  CHECK_FALSE(d.is_moe());
  CHECK(d.bos_id == 1);
  CHECK(d.eos_id == 2);
  CHECK(m->hf_folder() == dir.dir.string());
  CHECK(m->gguf() == nullptr);
  // Tied: the head is the embedding.
  const ModelTensor& out = m->require("output.weight");
  CHECK(out.data.data() == m->require("token_embd.weight").data.data());
  // PyTorch [out, in] becomes dims {in, out}.
  CHECK(m->require("blk.1.attn_k.weight").dims == std::vector<uint64_t>{64, 32});
  CHECK(m->require("blk.1.ffn_down.weight").dims == std::vector<uint64_t>{192, 64});
}

TEST_CASE("MiniMind2 MoE folder: 4 routed experts, top-2, one shared expert", "[hf]") {
  ScratchDir dir;
  HfFolder f;
  f.config = minimind2_config(true);
  HfLayout{.ffn = 192, .n_experts = 4, .n_shared = 1, .expert_ffn = 192}.add_to(f);
  f.write(dir.dir);
  auto m = Model::open(dir.dir.string());
  const ModelDesc& d = m->desc();
  REQUIRE(d.is_moe());
  CHECK(d.moe.n_experts == 4);
  CHECK(d.moe.top_k == 2);
  CHECK(d.moe.norm_topk_prob);
  CHECK(d.moe.n_shared_experts == 1);
  CHECK(d.moe.expert_ffn == 192);
  CHECK(d.moe.shared_expert_ffn == 192);
  CHECK(m->require("blk.0.ffn_gate_inp.weight").dims == std::vector<uint64_t>{64, 4});
  CHECK(m->require("blk.1.ffn_up.3.weight").dims == std::vector<uint64_t>{64, 192});
  CHECK(m->require("blk.1.ffn_down_shexp.0.weight").dims == std::vector<uint64_t>{192, 64});
  CHECK(m->warnings().empty());
}

TEST_CASE("minimind-3 dense folder: q/k norm, head_dim != hidden/heads, pi FFN rule, YaRN", "[hf]") {
  ScratchDir dir;
  HfFolder f;
  f.config = minimind3_config(false);
  HfLayout{.head_dim = 24, .ffn = 256, .qk_norm = true}.add_to(f);
  f.write(dir.dir);
  auto m = Model::open(dir.dir.string());
  const ModelDesc& d = m->desc();
  CHECK(d.head_dim == 24);
  CHECK(d.ffn_hidden == 256);  // ceil(64*pi/64)*64
  CHECK(d.qk_norm);
  CHECK(d.norm_eps == Approx(1e-6));
  CHECK(d.rope.scaling == RopeScalingType::YaRN);
  CHECK(d.rope.factor == 16);
  CHECK(d.rope.original_context == 2048);
  CHECK(d.rope.beta_fast == 32);
  CHECK(d.rope.beta_slow == 1);
  CHECK(d.rope.attention_factor == 1);
  CHECK(d.rope.n_dims == 24);
  CHECK(m->require("blk.0.attn_q.weight").dims == std::vector<uint64_t>{64, 96});
  CHECK(m->require("blk.0.attn_output.weight").dims == std::vector<uint64_t>{96, 64});
  CHECK(m->require("blk.0.attn_k_norm.weight").dims == std::vector<uint64_t>{24});
}

TEST_CASE("minimind-3 MoE folder: top-1 of 4, moe_intermediate_size, no shared expert, sharded", "[hf]") {
  ScratchDir dir;
  HfFolder f;
  f.config = minimind3_config(true);
  f.config["rope_scaling"] = {{"type", "yarn"}, {"factor", 16}, {"original_max_position_embeddings", 2048},
                              {"beta_fast", 32}, {"beta_slow", 1}, {"attention_factor", 1.0}};
  HfLayout{.head_dim = 24, .qk_norm = true, .n_experts = 4, .expert_ffn = 32}.add_to(f);
  f.write(dir.dir, 2);
  auto m = Model::open(dir.dir.string());
  const ModelDesc& d = m->desc();
  CHECK(d.moe.n_experts == 4);
  CHECK(d.moe.top_k == 1);
  CHECK(d.moe.n_shared_experts == 0);
  CHECK(d.moe.expert_ffn == 32);
  CHECK(d.ffn_hidden == 0);
  CHECK(m->require("blk.1.ffn_gate.2.weight").dims == std::vector<uint64_t>{64, 32});
  CHECK(m->tensor("blk.1.ffn_gate.4.weight") == nullptr);
}

TEST_CASE("Qwen3 folder, sharded in three, untied head; the same unsharded", "[hf]") {
  for (int shards : {1, 3}) {
    ScratchDir dir;
    HfFolder f;
    f.config = qwen3_config();
    HfLayout{.head_dim = 32, .ffn = 96, .qk_norm = true, .lm_head = true}.add_to(f);
    f.write(dir.dir, shards);
    auto m = Model::open(dir.dir.string());
    const ModelDesc& d = m->desc();
    CHECK(d.architecture == "qwen3");
    CHECK(d.head_dim == 32);
    CHECK(d.qk_norm);
    CHECK_FALSE(d.attn_qkv_bias);
    CHECK_FALSE(d.tied_embeddings);
    CHECK_FALSE(d.output_duplicates_embedding);
    CHECK(d.context_length == 40960);
    CHECK(d.eos_id == 151645);
    CHECK(m->require("output.weight").data.data() != m->require("token_embd.weight").data.data());
    CHECK(m->parameter_count() == 2 * 100 * 64 + 64 + 2 * (2 * 64 + 64 * 128 * 2 + 64 * 64 * 2 + 2 * 32 + 3 * 64 * 96));
  }
}

TEST_CASE("Qwen3-MoE, Qwen2 (q/k/v biases) and Llama folders", "[hf]") {
  {
    ScratchDir dir;
    HfFolder f;
    f.config = qwen3_config();
    f.config["architectures"] = {"Qwen3MoeForCausalLM"};
    f.config["num_experts"] = 8;
    f.config["num_experts_per_tok"] = 2;
    f.config["moe_intermediate_size"] = 16;
    f.config["norm_topk_prob"] = true;
    HfLayout{.head_dim = 32, .qk_norm = true, .lm_head = true, .n_experts = 8, .expert_ffn = 16}.add_to(f);
    f.write(dir.dir);
    auto m = Model::open(dir.dir.string());
    CHECK(m->desc().architecture == "qwen3moe");
    CHECK(m->desc().moe.n_experts == 8);
    CHECK(m->desc().moe.top_k == 2);
    CHECK(m->desc().moe.norm_topk_prob);
    CHECK(m->require("blk.0.ffn_down.7.weight").dims == std::vector<uint64_t>{16, 64});
  }
  {
    ScratchDir dir;
    HfFolder f;
    f.config = qwen3_config();
    f.config["architectures"] = {"Qwen2ForCausalLM"};
    f.config.erase("head_dim");
    f.config["tie_word_embeddings"] = true;
    HfLayout{.ffn = 96, .bias = true}.add_to(f);
    f.write(dir.dir);
    auto m = Model::open(dir.dir.string());
    CHECK(m->desc().architecture == "qwen2");
    CHECK(m->desc().attn_qkv_bias);
    CHECK_FALSE(m->desc().qk_norm);
    CHECK(m->desc().tied_embeddings);
    CHECK(m->require("blk.1.attn_v.bias").dims == std::vector<uint64_t>{32});
  }
  {
    ScratchDir dir;
    HfFolder f;
    f.config = {{"architectures", {"LlamaForCausalLM"}}, {"hidden_size", 64}, {"num_hidden_layers", 2},
                {"num_attention_heads", 4}, {"num_key_value_heads", 2}, {"intermediate_size", 128},
                {"vocab_size", 100}, {"rms_norm_eps", 1e-5}, {"bos_token_id", 1}, {"eos_token_id", 2}};
    HfLayout{.lm_head = true}.add_to(f);
    f.write(dir.dir);
    auto m = Model::open(dir.dir.string());
    CHECK(m->desc().architecture == "llama");
    CHECK(m->desc().rope.pairing == RopePairing::NeoX);  // HF Llama: rotate_half
    CHECK(m->desc().rope.theta == 10000.0);
    CHECK(m->desc().context_length == 2048);
  }
}

TEST_CASE("HF folders with wrong shapes, missing tensors or bad config.json are refused", "[hf]") {
  auto make = [](ScratchDir& dir, auto edit_layout, auto edit_config) {
    HfFolder f;
    f.config = qwen3_config();
    HfLayout layout{.head_dim = 32, .ffn = 96, .qk_norm = true, .lm_head = true};
    edit_config(f.config);
    layout.add_to(f);
    edit_layout(f);
    f.write(dir.dir);
    return dir.dir.string();
  };
  auto no_layout = [](HfFolder&) {};
  auto no_config = [](json&) {};
  {
    ScratchDir dir;
    const auto path = make(dir, [](HfFolder& f) { f.tensors[5].shape = {7, 64}; }, no_config);
    CHECK_THROWS_WITH(Model::open(path), Catch::Contains("has shape [64, 7], expected") &&
                                             Catch::Contains("model.safetensors"));
  }
  {
    ScratchDir dir;
    const auto path = make(dir, [](HfFolder& f) {
      for (auto& t : f.tensors) if (t.name == "model.layers.0.self_attn.q_proj.weight") t.shape = {64, 64};
    }, no_config);
    CHECK_THROWS_WITH(Model::open(path),
                      Catch::Contains("tensor blk.0.attn_q.weight (model.layers.0.self_attn.q_proj.weight) has shape "
                                      "[64, 64], expected [64, 128]"));
  }
  {
    ScratchDir dir;
    const auto path = make(dir, [](HfFolder& f) {
      std::erase_if(f.tensors, [](const auto& t) { return t.name == "model.layers.1.self_attn.k_proj.weight"; });
    }, no_config);
    CHECK_THROWS_WITH(Model::open(path), Catch::Contains("missing tensor blk.1.attn_k.weight"));
  }
  {
    ScratchDir dir;
    const auto path = make(dir, [](HfFolder& f) {
      std::erase_if(f.tensors, [](const auto& t) { return t.name == "lm_head.weight"; });
    }, no_config);
    CHECK_THROWS_WITH(Model::open(path), Catch::Contains("lm_head.weight"));
  }
  {
    ScratchDir dir;
    const auto path = make(dir, no_layout, [](json& c) { c.erase("hidden_size"); });
    CHECK_THROWS_WITH(Model::open(path), Catch::Contains("config.json") && Catch::Contains("'hidden_size' is missing"));
  }
  {
    ScratchDir dir;
    const auto path = make(dir, no_layout, [](json& c) { c["num_hidden_layers"] = "2"; });
    CHECK_THROWS_WITH(Model::open(path), Catch::Contains("config.json") &&
                                             Catch::Contains("'num_hidden_layers' must be an integer"));
  }
  {
    ScratchDir dir;
    const auto path = make(dir, no_layout, [](json& c) { c["rms_norm_eps"] = "tiny"; });
    CHECK_THROWS_WITH(Model::open(path), Catch::Contains("'rms_norm_eps' must be a number"));
  }
  {
    ScratchDir dir;
    const auto path = make(dir, no_layout, [](json& c) { c["architectures"] = {"GPT2LMHeadModel"}; });
    CHECK_THROWS_WITH(Model::open(path), Catch::Contains("GPT2LMHeadModel"));
  }
  {
    ScratchDir dir;
    const auto path = make(dir, no_layout, [](json& c) { c["rope_scaling"] = {{"type", "yarn"}, {"factor", "x"}}; });
    CHECK_THROWS_WITH(Model::open(path), Catch::Contains("'rope_scaling.factor' must be a number"));
  }
  {
    ScratchDir dir;
    const auto path = make(dir, no_layout, no_config);
    dir.write("config.json", "{ not json");
    CHECK_THROWS_WITH(Model::open(path), Catch::Contains("config.json: not valid JSON"));
  }
  {
    ScratchDir dir;
    CHECK_THROWS_WITH(Model::open(dir.dir.string()), Catch::Contains("config.json"));
  }
}

TEST_CASE("safetensors: bad headers, bad offsets, bad shards", "[hf][safetensors]") {
  ScratchDir dir;
  auto st = [&](const std::string& header, size_t data_bytes) {
    std::string b(8, '\0');
    const uint64_t n = header.size();
    std::memcpy(b.data(), &n, 8);
    return dir.write("x.safetensors", b + header + std::string(data_bytes, '\0'));
  };
  auto expect = [&](const std::string& path, const std::string& message) {
    CHECK_THROWS_WITH(safetensors::File::open(path), Catch::Contains(path) && Catch::Contains(message));
  };
  {
    auto f = safetensors::File::open(st(R"({"__metadata__":{"format":"pt"},"a":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,12]}})", 12));
    REQUIRE(f->tensors().size() == 1);
    CHECK(f->find("a")->type == TensorType::BF16);
    CHECK(f->find("a")->shape == std::vector<uint64_t>{2, 3});
    CHECK(f->data(*f->find("a")).size() == 12);
    CHECK(f->metadata().at("format") == "pt");
  }
  expect(st(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4), "outside");
  expect(st(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8), "needs 12");
  expect(st(R"({"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})", 8), "dtype I64");
  expect(st(R"({"a":{"dtype":"F32","shape":[1,1,1,1,1],"data_offsets":[0,4]}})", 4), "5 dimensions");
  expect(st(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})", 4), "overflows");
  expect(st(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4), "non-negative");
  expect(st(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", 8), "outside");
  expect(st(R"({"a":[1,2]})", 0), "not an object");
  expect(st("{\"\xff\":{}}", 0), "not valid JSON");
  expect(st("[1]", 0), "not a JSON object");
  expect(dir.write("y.safetensors", std::string("\xff\xff\xff\xff\xff\xff\xff\x7f{}", 10)), "exceeds");
  expect(dir.write("z.safetensors", "abc"), "truncated");

  // A shard name that leaves the folder, and a tensor listed in the wrong shard.
  HfFolder f;
  f.config = qwen3_config();
  HfLayout{.head_dim = 32, .ffn = 96, .qk_norm = true, .lm_head = true}.add_to(f);
  f.write(dir.dir / "m", 2);
  auto index = json::parse(vkmind::test::read_bytes((dir.dir / "m" / "model.safetensors.index.json").string()));
  index["weight_map"]["model.norm.weight"] = "../model-00001-of-00002.safetensors";
  std::ofstream(dir.dir / "m" / "model.safetensors.index.json") << index.dump();
  CHECK_THROWS_WITH(Model::open((dir.dir / "m").string()), Catch::Contains("bad shard file name"));
  index["weight_map"]["model.norm.weight"] = "model-00001-of-00002.safetensors";  // it is in shard 2
  std::ofstream(dir.dir / "m" / "model.safetensors.index.json") << index.dump();
  CHECK_THROWS_WITH(Model::open((dir.dir / "m").string()),
                    Catch::Contains("tensor model.norm.weight is listed in model.safetensors.index.json but missing"));
}
