// The Hub client's pure parts: sha256, model names, which files a pull takes,
// URL helpers, the cache's folder names.
#include <catch2/catch.hpp>

#include <string>

#include "model/hub/file_selection.h"
#include "model/hub/hub_cache.h"
#include "model/hub/hub_config.h"
#include "model/hub/http.h"
#include "model/hub/repo_ref.h"
#include "model/hub/sha256.h"

using namespace vkmind::hub;

namespace {
std::string sha(const std::string& s) {
  Sha256 h;
  h.update(s.data(), s.size());
  return h.hex_digest();
}
}  // namespace

TEST_CASE("sha256 matches the FIPS 180-4 test vectors", "[hub]") {
  CHECK(sha("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const std::string million(1000000, 'a');
  CHECK(sha(million) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // Fed in odd pieces, across block boundaries.
  Sha256 pieces;
  for (size_t i = 0; i < million.size(); i += 77) pieces.update(million.data() + i, std::min<size_t>(77, million.size() - i));
  CHECK(pieces.hex_digest() == sha(million));
}

TEST_CASE("Hub model names: ORG/REPO and ORG/REPO:QUANT", "[hub]") {
  auto ref = parse_repo_ref("Qwen/Qwen3-0.6B-GGUF:Q8_0");
  REQUIRE(ref);
  CHECK(ref->repo == "Qwen/Qwen3-0.6B-GGUF");
  CHECK(ref->quant == "Q8_0");
  ref = parse_repo_ref("jingyaogong/MiniMind2-Small");
  REQUIRE(ref);
  CHECK(ref->quant.empty());
  std::string why;
  CHECK_FALSE(parse_repo_ref("MiniMind2-Small", &why));
  CHECK(why.find("ORG/REPO") != std::string::npos);
  CHECK_FALSE(parse_repo_ref("a/b/c"));
  CHECK_FALSE(parse_repo_ref("a/b:"));
  CHECK_FALSE(parse_repo_ref("../etc"));
  CHECK_FALSE(parse_repo_ref("a/.."));
  CHECK(is_hub_model("hf:a/b"));
  CHECK_FALSE(is_hub_model("a/b"));
}

TEST_CASE("the quant a GGUF file name carries", "[hub]") {
  CHECK(gguf_quant_of("Qwen3-0.6B-Q8_0.gguf") == "Q8_0");
  CHECK(gguf_quant_of("Llama-3.2-1B-Instruct-Q4_K_M.gguf") == "Q4_K_M");
  CHECK(gguf_quant_of("qwen2.5-0.5b-instruct-q4_k_m.gguf") == "Q4_K_M");
  CHECK(gguf_quant_of("ggml-model-f16.gguf") == "F16");
  CHECK(gguf_quant_of("model.BF16.gguf") == "BF16");
  CHECK(gguf_quant_of("Qwen3-8B-UD-Q4_K_XL.gguf") == "Q4_K_XL");
  CHECK(gguf_quant_of("x-IQ4_XS.gguf") == "IQ4_XS");
  CHECK(gguf_quant_of("Q4_K_M/big-Q4_K_M-00001-of-00003.gguf") == "Q4_K_M");
  CHECK(gguf_quant_of("mmproj-model-f16.gguf").empty());
  CHECK(gguf_quant_of("README.md").empty());
  CHECK(gguf_quant_of("model.gguf").empty());
}

TEST_CASE("a quant picks its file, not a longer quant's", "[hub]") {
  const std::vector<std::string> listing = {"README.md", "m-Q4_K.gguf", "m-Q4_K_M.gguf", "m-Q8_0.gguf",
                                            "m-UD-Q8_0.gguf", "mmproj-F16.gguf"};
  CHECK(select_gguf(listing, "q4_k_m").files == std::vector<std::string>{"m-Q4_K_M.gguf"});
  CHECK(select_gguf(listing, "Q4_K").files == std::vector<std::string>{"m-Q4_K.gguf"});
  CHECK(select_gguf(listing, "Q8_0").files == std::vector<std::string>{"m-Q8_0.gguf"});
  CHECK(select_gguf(listing, "Q2_K").files.empty());
  CHECK(gguf_quants(listing) == std::vector<std::string>{"Q4_K", "Q4_K_M", "Q8_0"});
  const std::vector<std::string> split = {"big-Q6_K-00002-of-00002.gguf", "big-Q6_K-00001-of-00002.gguf"};
  CHECK(select_gguf(split, "Q6_K").files ==
        std::vector<std::string>{"big-Q6_K-00001-of-00002.gguf", "big-Q6_K-00002-of-00002.gguf"});
}

TEST_CASE("a Hugging Face folder pull takes what vkmind loads", "[hub]") {
  const std::vector<std::string> listing = {".gitattributes", "README.md", "config.json", "model.safetensors",
                                            "pytorch_model.bin", "tokenizer.json", "tokenizer_config.json",
                                            "generation_config.json", "images/logo.png", "onnx/model.safetensors"};
  const auto files = hf_folder_files(listing);
  CHECK(files == std::vector<std::string>{"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                                          "generation_config.json"});
  CHECK(is_loadable_hf_folder(files));
  CHECK_FALSE(is_loadable_hf_folder(hf_folder_files({"config.json", "pytorch_model.bin"})));
}

TEST_CASE("URL helpers", "[hub]") {
  CHECK(url_origin("https://HuggingFace.co/api/models/a/b") == "https://huggingface.co");
  CHECK(url_origin("http://127.0.0.1:8080/x") == "http://127.0.0.1:8080");
  CHECK(resolve_location("http://h:1/a/resolve/main/f", "/b/resolve/main/f") == "http://h:1/b/resolve/main/f");
  CHECK(resolve_location("http://h:1/a/b", "https://cdn/x") == "https://cdn/x");
  CHECK(encode_path("sub dir/a+b.gguf") == "sub%20dir/a%2Bb.gguf");
}

TEST_CASE("cache folder names are huggingface_hub's", "[hub]") {
  CHECK(repo_folder_name("jingyaogong/MiniMind2-Small") == "models--jingyaogong--MiniMind2-Small");
  CHECK(repo_from_folder_name("models--Qwen--Qwen3-0.6B-GGUF") == "Qwen/Qwen3-0.6B-GGUF");
  CHECK(repo_from_folder_name("datasets--a--b").empty());
}

TEST_CASE("offline flags read as huggingface_hub reads them", "[hub]") {
  CHECK(env_flag_is_set("1"));
  CHECK(env_flag_is_set("TRUE"));
  CHECK(env_flag_is_set("yes"));
  CHECK_FALSE(env_flag_is_set("0"));
  CHECK_FALSE(env_flag_is_set(nullptr));
}
