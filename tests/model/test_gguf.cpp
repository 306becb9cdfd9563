// GGUF reader and GGUF models: the real files in ../shared and synthetic
// files that exercise every value type and every refusal.
#include <catch2/catch.hpp>

#include "model/gguf.h"
#include "model/model_desc.h"
#include "tests/model/test_helpers.h"
#include "tests/shared_data.h"

using namespace vkmind;
using vkmind::test::GgufBytes;
using vkmind::test::ScratchDir;

namespace {

void check_stories(const std::string& path, uint32_t version) {
  auto f = gguf::File::open(path);
  CHECK(f->version() == version);
  CHECK(f->alignment() == 32);
  CHECK(f->tensors().size() == 48);
  CHECK(f->get_string("general.architecture") == "llama");
  CHECK(f->get_string_array("tokenizer.ggml.tokens").size() == 512);
  CHECK(f->get_float_array("tokenizer.ggml.scores").size() == 512);
  CHECK(f->get_int_array("tokenizer.ggml.token_type").size() == 512);

  auto m = Model::open(path);
  const ModelDesc& d = m->desc();
  CHECK(d.format == "gguf");
  CHECK(d.architecture == "llama");
  CHECK(d.hidden == 64);
  CHECK(d.n_layers == 5);
  CHECK(d.n_heads == 8);
  CHECK(d.n_kv_heads == 4);
  CHECK(d.head_dim == 8);
  CHECK(d.ffn_hidden == 172);
  CHECK(d.vocab == 512);
  CHECK(d.norm_eps == Approx(1e-5));
  CHECK(d.rope.theta == 10000.0);
  CHECK(d.rope.pairing == RopePairing::GPTJ);
  CHECK(d.context_length == 512);
  CHECK(d.bos_id == 1);
  CHECK(d.eos_id == 2);
  CHECK_FALSE(d.tied_embeddings);
  CHECK(d.output_duplicates_embedding);
  CHECK_FALSE(d.qk_norm);
  CHECK_FALSE(d.is_moe());
  CHECK(m->parameter_count() == 292800);
  const ModelTensor& q = m->require("blk.0.attn_q.weight");
  CHECK(q.dims == std::vector<uint64_t>{64, 64});
  CHECK(q.type == TensorType::F32);
  CHECK(q.data.size() == 64 * 64 * 4);
  CHECK(m->require("blk.4.ffn_down.weight").dims == std::vector<uint64_t>{172, 64});
  CHECK(m->tensor("blk.5.attn_q.weight") == nullptr);
  CHECK(m->gguf() != nullptr);
  CHECK(m->hf_folder().empty());
  CHECK(m->warnings().empty());
}

}  // namespace

TEST_CASE("stories260K GGUF v3 opens and describes itself", "[gguf]") {
  const auto path = test::shared_file("models/stories260K/stories260K.gguf");
  if (path.empty()) return;
  check_stories(path, 3);
}

TEST_CASE("stories260K GGUF v1 (32-bit counts) gives the same model", "[gguf]") {
  const auto v1 = test::shared_file("models/stories260K/stories260K-gguf-v1.gguf");
  const auto v3 = test::shared_file("models/stories260K/stories260K.gguf");
  if (v1.empty() || v3.empty()) return;
  check_stories(v1, 1);
  auto a = Model::open(v1);
  auto b = Model::open(v3);
  for (const auto& t : a->stored_tensors()) {
    const ModelTensor* u = b->tensor(t.name);
    REQUIRE(u);
    CHECK(u->dims == t.dims);
    CHECK(std::equal(t.data.begin(), t.data.end(), u->data.begin(), u->data.end()));
  }
}

TEST_CASE("llama2-tiny-random: F16 weights, untied output, 32000 vocab", "[gguf]") {
  const auto path = test::shared_file("models/llama2-tiny-random/llama-2-tiny-random.gguf");
  if (path.empty()) return;
  auto m = Model::open(path);
  const ModelDesc& d = m->desc();
  CHECK(d.hidden == 8);
  CHECK(d.n_layers == 1);
  CHECK(d.n_heads == 2);
  CHECK(d.n_kv_heads == 2);
  CHECK(d.head_dim == 4);
  CHECK(d.ffn_hidden == 32);
  CHECK(d.vocab == 32000);
  CHECK_FALSE(d.tied_embeddings);
  CHECK_FALSE(d.output_duplicates_embedding);
  const ModelTensor& out = m->require("output.weight");
  CHECK(out.name == "output.weight");
  CHECK(out.type == TensorType::F16);
  CHECK(out.dims == std::vector<uint64_t>{8, 32000});
  CHECK(out.data.size() == 8 * 32000 * 2);
  CHECK(m->require("output_norm.weight").type == TensorType::F32);
  CHECK(m->require("token_embd.weight").type == TensorType::F16);
}

TEST_CASE("a vocabulary-only GGUF (0 tensors, no padding) opens; as a model it is refused", "[gguf]") {
  const auto path = test::shared_file("tokenizers/llamacpp-vectors/ggml-vocab-llama-spm.gguf");
  if (path.empty()) return;
  auto f = gguf::File::open(path);
  CHECK(f->tensors().empty());
  CHECK(f->data_offset() >= f->file_size());  // ends right after the metadata
  CHECK(f->get_string_array("tokenizer.ggml.tokens").size() == 32000);
  CHECK(f->get_bool("tokenizer.ggml.add_bos_token").has_value());
  CHECK_THROWS_WITH(Model::open(path), Catch::Contains("missing tensor token_embd.weight"));
}

TEST_CASE("every value type, nested arrays and general.alignment", "[gguf]") {
  ScratchDir dir;
  for (uint32_t version : {1u, 2u, 3u}) {
    GgufBytes g;
    g.header(version, 1, 16);
    g.str("u8").raw(uint32_t{0}).raw(uint8_t{200});
    g.str("i8").raw(uint32_t{1}).raw(int8_t{-5});
    g.str("u16").raw(uint32_t{2}).raw(uint16_t{60000});
    g.str("i16").raw(uint32_t{3}).raw(int16_t{-30000});
    g.kv_u32("u32", 4000000000u);
    g.str("i32").raw(uint32_t{5}).raw(int32_t{-7});
    g.str("f32").raw(uint32_t{6}).raw(1.5f);
    g.str("bool").raw(uint32_t{7}).raw(uint8_t{1});
    g.kv_str("str", "héllo");
    g.str("u64").raw(uint32_t{10}).raw(uint64_t{1} << 40);
    g.str("i64").raw(uint32_t{11}).raw(int64_t{-(int64_t{1} << 40)});
    g.str("f64").raw(uint32_t{12}).raw(2.25);
    g.str("arr").raw(uint32_t{9}).raw(uint32_t{5}).count(3).raw(int32_t{1}).raw(int32_t{-2}).raw(int32_t{3});
    g.str("strs").raw(uint32_t{9}).raw(uint32_t{8}).count(2).str("a").str("");
    // An array of two arrays of u16.
    g.str("nested").raw(uint32_t{9}).raw(uint32_t{9}).count(2);
    g.raw(uint32_t{2}).count(1).raw(uint16_t{7});
    g.raw(uint32_t{2}).count(2).raw(uint16_t{8}).raw(uint16_t{9});
    g.kv_u32("general.alignment", 64);
    g.tensor("w", {4, 2}, 0, 0);
    g.pad(64);
    for (int i = 0; i < 8; ++i) g.raw(static_cast<float>(i));
    auto f = gguf::File::open(dir.write("all" + std::to_string(version) + ".gguf", g.b));
    CHECK(f->version() == version);
    CHECK(f->alignment() == 64);
    CHECK(f->get_int("u8") == 200);
    CHECK(f->get_int("i8") == -5);
    CHECK(f->get_int("u16") == 60000);
    CHECK(f->get_int("i16") == -30000);
    CHECK(f->get_int("u32") == 4000000000ll);
    CHECK(f->get_int("i32") == -7);
    CHECK(f->get_float("f32") == 1.5);
    CHECK(f->get_bool("bool") == true);
    CHECK(f->get_string("str") == "héllo");
    CHECK(f->get_int("u64") == (int64_t{1} << 40));
    CHECK(f->get_int("i64") == -(int64_t{1} << 40));
    CHECK(f->get_float("f64") == 2.25);
    CHECK(f->get_int_array("arr") == std::vector<int64_t>{1, -2, 3});
    CHECK(f->get_string_array("strs") == std::vector<std::string>{"a", ""});
    const auto& nested = f->find("nested")->as_array("nested");
    REQUIRE(nested.size() == 2);
    CHECK(nested[1].element_type == gguf::ValueType::U16);
    CHECK(nested[1].as_array("nested")[1].as_int("nested") == 9);
    CHECK_THROWS_AS(f->get_string("u8"), FormatError);
    CHECK_THROWS_AS(f->get_string_array("arr"), FormatError);
    CHECK_FALSE(f->get_int("absent").has_value());
    const auto* t = f->find_tensor("w");
    REQUIRE(t);
    CHECK(t->n_bytes == 32);
    CHECK(f->data_offset() % 64 == 0);
    float x;
    std::memcpy(&x, f->tensor_data(*t).data() + 12, 4);
    CHECK(x == 3.0f);
  }
}

TEST_CASE("unsupported tensor types are listed, and refused when used", "[gguf]") {
  ScratchDir dir;
  GgufBytes g;
  g.header(3, 1, 0);
  g.tensor("blk.3.ffn_down.weight", {256, 2}, 16 /* IQ2_XXS */, 0);
  g.pad(32);
  g.b.append(2 * 66, '\0');
  const auto path = dir.write("iq2.gguf", g.b);
  auto f = gguf::File::open(path);
  const auto& t = f->tensors().at(0);
  CHECK(t.type_name() == "IQ2_XXS");
  CHECK_FALSE(t.type_supported());
  CHECK(t.n_bytes == 132);
  CHECK_THROWS_WITH(f->require_supported(t),
                    Catch::Contains("tensor blk.3.ffn_down.weight has type IQ2_XXS, which vkmind does not support yet"));
}

TEST_CASE("K-quant and IQ4 tensors are read with their block sizes", "[gguf]") {
  struct Case { uint32_t code; const char* name; uint64_t block_bytes; };
  for (const Case c : {Case{10, "Q2_K", 84}, Case{11, "Q3_K", 110}, Case{12, "Q4_K", 144}, Case{13, "Q5_K", 176},
                       Case{14, "Q6_K", 210}, Case{23, "IQ4_XS", 136}}) {
    CAPTURE(c.name);
    ScratchDir dir;
    GgufBytes g;
    g.header(3, 1, 0);
    g.tensor("blk.0.ffn_down.weight", {512, 3}, c.code, 0);
    g.pad(32);
    g.b.append(6 * c.block_bytes, '\0');
    auto f = gguf::File::open(dir.write("k.gguf", g.b));
    const auto& t = f->tensors().at(0);
    CHECK(t.type_name() == c.name);
    CHECK(t.type_supported());
    CHECK(t.n_bytes == 6 * c.block_bytes);
    // Rows must be whole super-blocks: 384 elements are not.
    GgufBytes bad;
    bad.header(3, 1, 0);
    bad.tensor("blk.0.ffn_down.weight", {384, 3}, c.code, 0);
    bad.pad(32);
    bad.b.append(6 * c.block_bytes, '\0');
    CHECK_THROWS_WITH(gguf::File::open(dir.write("bad.gguf", bad.b)), Catch::Contains("blk.0.ffn_down.weight"));
  }
  // IQ4_NL: 32-element blocks of 18 bytes.
  ScratchDir dir;
  GgufBytes g;
  g.header(3, 1, 0);
  g.tensor("output.weight", {96, 5}, 20, 0);
  g.pad(32);
  g.b.append(15 * 18, '\0');
  auto f = gguf::File::open(dir.write("nl.gguf", g.b));
  CHECK(f->tensors().at(0).type_name() == "IQ4_NL");
  CHECK(f->tensors().at(0).n_bytes == 15 * 18);
}

TEST_CASE("malformed GGUF headers are refused with the file and the cause", "[gguf]") {
  ScratchDir dir;
  auto expect = [&](const std::string& bytes, const std::string& message) {
    const auto path = dir.write("bad.gguf", bytes);
    CHECK_THROWS_WITH(gguf::File::open(path), Catch::Contains(path) && Catch::Contains(message));
  };
  expect("GGUX", "bad magic");
  expect(GgufBytes().header(4, 0, 0).b, "unsupported GGUF version 4");
  expect(GgufBytes().header(3, 0, 1).str("k").raw(uint32_t{9}).raw(uint32_t{0}).raw(uint64_t{1} << 60).b,
         "cannot fit");
  expect(GgufBytes().header(3, uint64_t{1} << 60, 0).b, "cannot fit");
  expect(GgufBytes().header(3, 0, 1).str("k").raw(uint32_t{8}).raw(uint64_t{1} << 62).b, "truncated");
  expect(GgufBytes().header(3, 0, 1).str("k").raw(uint32_t{13}).b, "unknown value type 13");
  expect(GgufBytes().header(3, 0, 2).kv_u32("k", 1).kv_u32("k", 2).b, "duplicate metadata key 'k'");
  expect(GgufBytes().header(3, 0, 1).kv_u32(std::string("bad\xC3\x28key", 8), 1).b, "not valid UTF-8");
  expect(GgufBytes().header(3, 0, 1).kv_u32("general.alignment", 48).b, "not a power of two");
  expect(GgufBytes().header(3, 1, 0).tensor("t", {1, 1, 1, 1, 1}, 0, 0).pad(32).b, "5 dimensions");
  expect(GgufBytes().header(3, 1, 0).tensor("t", {uint64_t{1} << 40, uint64_t{1} << 40}, 0, 0).b, "overflows");
  expect(GgufBytes().header(3, 2, 0).tensor("t", {1}, 0, 0).tensor("t", {1}, 0, 32).pad(32).append_zeros(64).b,
         "duplicate tensor t");
  expect(GgufBytes().header(3, 1, 0).tensor("t", {8}, 0, 0).pad(32).b, "runs past the end");
  expect(GgufBytes().header(3, 1, 0).tensor("t", {8}, 99, 0).pad(32).b, "unknown type code 99");
  expect(GgufBytes().header(3, 1, 0).tensor("t", {8}, 0, 4).pad(32).b, "not a multiple of the alignment");
  expect(GgufBytes().header(3, 1, 0).tensor("t", {16}, 8, 0).pad(32).b, "block size 32");
  expect("", "bad magic");
}
