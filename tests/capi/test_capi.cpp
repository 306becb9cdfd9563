// The C API (libvkmind.so) against the C++ Engine: greedy output identical
// on oracle checkpoints, four threads with a request each batched on one
// model, streaming by callback equal to polling, and error paths that return
// codes and messages instead of aborting.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "include/vkmind/engine.h"
#include "include/vkmind/vkmind.h"
#include "tests/golden_manifest.h"

using vkmind::test::kGolden;

namespace {

std::string model_path(const char* name) { return (kGolden / name).string(); }

vkmind_model* load(const std::string& path, uint32_t parallel = 4) {
  vkmind_model_options o;
  vkmind_model_options_init(&o);
  o.context = 256;
  o.kv_type = VKMIND_KV_F32;
  o.parallel = parallel;
  vkmind_model* m = nullptr;
  INFO(vkmind_last_error());
  REQUIRE(vkmind_model_load(path.c_str(), &o, &m) == VKMIND_OK);
  REQUIRE(m != nullptr);
  return m;
}

std::vector<int32_t> prompt_for(int i) {
  std::vector<int32_t> p(3 + i * 5);
  for (size_t j = 0; j < p.size(); ++j) p[j] = int32_t((11 + i * 37 + j * 13) % 200);
  return p;
}

// Greedy tokens through the C API.
std::vector<int32_t> c_generate(vkmind_model* m, const std::vector<int32_t>& prompt, int max_tokens) {
  vkmind_generate_options g;
  vkmind_generate_options_init(&g);
  g.temperature = 0;
  g.max_tokens = max_tokens;
  g.ignore_eos = 1;
  vkmind_request* r = nullptr;
  REQUIRE(vkmind_submit_tokens(m, prompt.data(), prompt.size(), &g, nullptr, nullptr, &r) == VKMIND_OK);
  REQUIRE(vkmind_request_wait(r) == VKMIND_OK);
  size_t n = 0;
  vkmind_request_get_tokens(r, nullptr, 0, &n);
  std::vector<int32_t> out(n);
  REQUIRE(vkmind_request_get_tokens(r, out.data(), out.size(), &n) == VKMIND_OK);
  vkmind_request_free(r);
  return out;
}

std::vector<int32_t> cpp_generate(vkmind::Engine& e, const std::vector<int32_t>& prompt, int max_tokens) {
  vkmind::GenerateOptions g;
  g.sampling.temperature = 0;
  g.max_tokens = max_tokens;
  g.ignore_eos = true;
  std::vector<int32_t> out;
  e.generate_ids(prompt, g, [&](int32_t t) {
    out.push_back(t);
    return true;
  });
  return out;
}

}  // namespace

TEST_CASE("C API: greedy output is the C++ API's on oracle checkpoints", "[capi]") {
  for (const char* name : {"llama_f32/model.gguf", "qwen3_f32/hf", "minimind3_moe_f32/hf"}) {
    DYNAMIC_SECTION(name) {
      vkmind_model* m = load(model_path(name));
      vkmind::EngineOptions eo;
      eo.context = 256;
      eo.kv_type = vkmind::KvType::F32;
      auto engine = vkmind::Engine::open(model_path(name), eo);
      for (int i = 0; i < 3; ++i) {
        INFO("prompt " << i);
        CHECK(c_generate(m, prompt_for(i), 12) == cpp_generate(*engine, prompt_for(i), 12));
      }
      vkmind_model_info info{sizeof(vkmind_model_info)};
      REQUIRE(vkmind_model_get_info(m, &info) == VKMIND_OK);
      CHECK(info.vocab_size == engine->vocab_size());
      CHECK(std::string(info.architecture) == engine->architecture());
      vkmind_model_free(m);
    }
  }
}

TEST_CASE("C API: four threads with a request each on one model get their output alone", "[capi]") {
  vkmind_model* m = load(model_path("llama_f32/model.gguf"), 4);
  std::vector<std::vector<int32_t>> alone(4), together(4);
  for (int i = 0; i < 4; ++i) alone[i] = c_generate(m, prompt_for(i), 16);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back([&, i] { together[i] = c_generate(m, prompt_for(i), 16); });
  for (auto& t : threads) t.join();
  for (int i = 0; i < 4; ++i) CHECK(together[i] == alone[i]);
  vkmind_model_free(m);
}

TEST_CASE("C API: text by callback equals text by polling, with statistics", "[capi]") {
  vkmind_model* m = load(model_path("llama_f32/model.gguf"));
  vkmind_generate_options g;
  vkmind_generate_options_init(&g);
  g.temperature = 0;
  g.max_tokens = 20;
  std::string by_callback;
  auto on_token = [](void* user, int32_t, const char* text, size_t length) {
    static_cast<std::string*>(user)->append(text, length);
  };
  vkmind_request* a = nullptr;
  REQUIRE(vkmind_submit_text(m, "Hello", &g, on_token, &by_callback, &a) == VKMIND_OK);
  REQUIRE(vkmind_request_wait(a) == VKMIND_OK);
  vkmind_request* b = nullptr;
  REQUIRE(vkmind_submit_text(m, "Hello", &g, nullptr, nullptr, &b) == VKMIND_OK);
  std::string by_polling;
  char buffer[5];  // small: polls return a few bytes at a time, never half a character
  for (int finished = 0, guard = 0; !finished && guard < 100000; ++guard) {
    size_t n = 0;
    REQUIRE(vkmind_request_poll(b, buffer, sizeof buffer, &n, &finished) == VKMIND_OK);
    by_polling.append(buffer, n);
    if (!n && !finished) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  CHECK(by_polling == by_callback);
  vkmind_stats st{sizeof(vkmind_stats)};
  REQUIRE(vkmind_request_get_stats(b, &st) == VKMIND_OK);
  CHECK(st.finished == 1);
  CHECK(st.generated_tokens == 20);
  CHECK(std::string(st.stop_reason) == "max tokens");
  CHECK(st.cached_prompt_tokens == 0);  // "Hello" is shorter than one KV block
  vkmind_request_free(a);
  vkmind_request_free(b);

  // Tokenizer and chat template round trips.
  size_t n = 0;
  CHECK(vkmind_tokenize(m, "Hello world", 0, nullptr, 0, &n) == VKMIND_ERROR_BUFFER_TOO_SMALL);
  std::vector<int32_t> ids(n);
  REQUIRE(vkmind_tokenize(m, "Hello world", 0, ids.data(), ids.size(), &n) == VKMIND_OK);
  char text[64];
  size_t length = 0;
  REQUIRE(vkmind_detokenize(m, ids.data(), ids.size(), text, sizeof text, &length) == VKMIND_OK);
  CHECK(std::string(text) == "Hello world");
  CHECK(vkmind_detokenize(m, ids.data(), ids.size(), text, 3, &length) == VKMIND_ERROR_BUFFER_TOO_SMALL);
  CHECK(length == 11);
  const vkmind_message messages[] = {{"user", "Hi"}};
  REQUIRE(vkmind_chat_tokens(m, messages, 1, nullptr, 0, &n) == VKMIND_ERROR_BUFFER_TOO_SMALL);
  CHECK(n > 2);
  vkmind_model_free(m);
}

TEST_CASE("C API: errors come back as codes and messages, never an abort", "[capi]") {
  vkmind_model* m = nullptr;
  CHECK(vkmind_model_load("/no/such/model.gguf", nullptr, &m) == VKMIND_ERROR_LOAD_FAILED);
  CHECK(m == nullptr);
  CHECK(std::string(vkmind_last_error()).find("/no/such/model.gguf") != std::string::npos);
  CHECK(vkmind_model_load(nullptr, nullptr, &m) == VKMIND_ERROR_INVALID_ARGUMENT);

  vkmind_model_options bad;
  vkmind_model_options_init(&bad);
  bad.size = 3;
  CHECK(vkmind_model_load(model_path("llama_f32/model.gguf").c_str(), &bad, &m) == VKMIND_ERROR_INVALID_ARGUMENT);
  CHECK(std::string(vkmind_last_error()).find("size") != std::string::npos);
  bad.size = sizeof(vkmind_model_options) + 8;  // from a newer header than this library knows
  CHECK(vkmind_model_load(model_path("llama_f32/model.gguf").c_str(), &bad, &m) == VKMIND_ERROR_INVALID_ARGUMENT);
  vkmind_model_options_init(&bad);
  bad.parallel = 1000;
  CHECK(vkmind_model_load(model_path("llama_f32/model.gguf").c_str(), &bad, &m) == VKMIND_ERROR_INVALID_ARGUMENT);
  // An older, smaller struct is accepted: its fields, defaults for the rest.
  vkmind_model_options old_struct;
  vkmind_model_options_init(&old_struct);
  old_struct.size = offsetof(vkmind_model_options, kv_type);
  old_struct.context = 128;
  REQUIRE(vkmind_model_load(model_path("llama_f32/model.gguf").c_str(), &old_struct, &m) == VKMIND_OK);
  vkmind_model_info info{sizeof(vkmind_model_info)};
  REQUIRE(vkmind_model_get_info(m, &info) == VKMIND_OK);
  CHECK(info.context == 128);

  // Null and foreign handles.
  vkmind_request* r = nullptr;
  CHECK(vkmind_submit_text(nullptr, "Hi", nullptr, nullptr, nullptr, &r) == VKMIND_ERROR_INVALID_HANDLE);
  int not_a_handle = 0;
  CHECK(vkmind_model_get_info(reinterpret_cast<vkmind_model*>(&not_a_handle), &info) == VKMIND_ERROR_INVALID_HANDLE);
  CHECK(vkmind_request_wait(nullptr) == VKMIND_ERROR_INVALID_HANDLE);
  CHECK(vkmind_submit_text(m, nullptr, nullptr, nullptr, nullptr, &r) == VKMIND_ERROR_INVALID_ARGUMENT);
  CHECK(vkmind_detokenize(m, &not_a_handle, 1, nullptr, 0, nullptr) == VKMIND_ERROR_INVALID_ARGUMENT);
  const int32_t outside = 1 << 20;
  size_t length = 0;
  char text[8];
  CHECK(vkmind_detokenize(m, &outside, 1, text, sizeof text, &length) == VKMIND_ERROR_INVALID_ARGUMENT);
  const vkmind_message no_role[] = {{nullptr, "Hi"}};
  CHECK(vkmind_submit_chat(m, no_role, 1, nullptr, nullptr, nullptr, &r) == VKMIND_ERROR_INVALID_ARGUMENT);

  // Bad sampling values: submitted, and finished at once with the reason.
  vkmind_generate_options g;
  vkmind_generate_options_init(&g);
  g.temperature = -1;
  REQUIRE(vkmind_submit_text(m, "Hi", &g, nullptr, nullptr, &r) == VKMIND_OK);
  REQUIRE(vkmind_request_wait(r) == VKMIND_OK);
  vkmind_stats st{sizeof(vkmind_stats)};
  REQUIRE(vkmind_request_get_stats(r, &st) == VKMIND_OK);
  CHECK(std::string(st.stop_reason) == "error");
  CHECK(std::string(st.error).find("temperature") != std::string::npos);
  vkmind_request_free(r);

  // Cancel twice, then use after free.
  vkmind_generate_options_init(&g);
  g.max_tokens = 10000;
  g.ignore_eos = 1;
  REQUIRE(vkmind_submit_text(m, "Hi", &g, nullptr, nullptr, &r) == VKMIND_OK);
  CHECK(vkmind_request_cancel(r) == VKMIND_OK);
  CHECK(vkmind_request_cancel(r) == VKMIND_OK);
  REQUIRE(vkmind_request_wait(r) == VKMIND_OK);
  REQUIRE(vkmind_request_get_stats(r, &st) == VKMIND_OK);
  CHECK(std::string(st.stop_reason) == "cancelled");
  vkmind_request_free(r);
  CHECK(vkmind_request_cancel(r) == VKMIND_ERROR_INVALID_HANDLE);
  CHECK(std::string(vkmind_last_error()).find("not a live request") != std::string::npos);
  vkmind_request_free(r);  // freeing twice is refused quietly
  vkmind_model_free(m);
  CHECK(vkmind_model_get_info(m, &info) == VKMIND_ERROR_INVALID_HANDLE);
  vkmind_model_free(m);

  // Devices.
  size_t devices = 0;
  REQUIRE(vkmind_device_count(&devices) == VKMIND_OK);
  REQUIRE(devices >= 1);
  vkmind_device_info d{sizeof(vkmind_device_info)};
  REQUIRE(vkmind_device_get_info(0, &d) == VKMIND_OK);
  CHECK(std::strlen(d.name) > 0);
  CHECK(vkmind_device_get_info(devices, &d) == VKMIND_ERROR_INVALID_ARGUMENT);
  d.size = 1;
  CHECK(vkmind_device_get_info(0, &d) == VKMIND_ERROR_INVALID_ARGUMENT);
  CHECK(std::string(vkmind_version()) == VKMIND_PROJECT_VERSION);
}

TEST_CASE("C API: a request outlives its model handle", "[capi]") {
  vkmind_model* m = load(model_path("llama_f32/model.gguf"));
  vkmind_generate_options g;
  vkmind_generate_options_init(&g);
  g.max_tokens = 8;
  vkmind_request* r = nullptr;
  REQUIRE(vkmind_submit_text(m, "Hi", &g, nullptr, nullptr, &r) == VKMIND_OK);
  vkmind_model_free(m);  // the request keeps the model loaded
  REQUIRE(vkmind_request_wait(r) == VKMIND_OK);
  size_t n = 0;
  vkmind_request_get_tokens(r, nullptr, 0, &n);
  CHECK(n == 8);
  vkmind_request_free(r);
}
