// include/vkmind/vkmind.h over the C++ Engine: handles, the status/last-error
// convention, and requests that stream through a callback or are polled.
#include "include/vkmind/vkmind.h"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <unordered_set>
#include <vector>

#include "include/vkmind/engine.h"
#include "runtime/vk/device.h"
#include "runtime/vk/device_report.h"
#include "runtime/vk/error.h"
#include "runtime/vk/instance.h"

#ifndef VKMIND_VERSION
#define VKMIND_VERSION "0.0.0"
#endif

struct vkmind_model {
  std::shared_ptr<vkmind::Engine> engine;
};

struct vkmind_request {
  std::shared_ptr<vkmind::Engine> engine;  // a request keeps its model loaded until it is freed
  vkmind::RequestId id = 0;
  vkmind_token_callback callback = nullptr;
  void* user_data = nullptr;
  std::mutex mutex;
  std::condition_variable ended;
  std::string unpolled;  // text not yet returned by poll
  std::vector<int32_t> tokens;
  bool finished = false;   // the engine's last update came
  bool collected = false;  // its result was taken from the engine
  vkmind::RequestResult result;
};

namespace {

thread_local std::string last_error;

// The live handles of the process, so that a freed or foreign pointer is
// refused instead of read. Process-wide by nature: handles are.
struct Registry {
  std::mutex mutex;
  std::unordered_set<const void*> live;
};
Registry& registry() {
  static Registry r;
  return r;
}
void track(const void* handle) {
  std::lock_guard lock(registry().mutex);
  registry().live.insert(handle);
}
bool untrack(const void* handle) {
  std::lock_guard lock(registry().mutex);
  return registry().live.erase(handle) != 0;
}
bool is_live(const void* handle) {
  std::lock_guard lock(registry().mutex);
  return handle && registry().live.count(handle) != 0;
}

vkmind_status fail(vkmind_status status, const std::string& message) {
  last_error = message;
  return status;
}

// Runs `body`, turning every exception into a status and a message.
template <typename Body>
vkmind_status guarded(vkmind_status on_error, Body&& body) {
  try {
    last_error.clear();
    return body();
  } catch (const vkmind::vk::NoSuchDevice& e) {
    return fail(VKMIND_ERROR_DEVICE, e.what());
  } catch (const std::bad_alloc&) {
    return fail(VKMIND_ERROR_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return fail(on_error, e.what());
  } catch (...) {
    return fail(VKMIND_ERROR_FAILED, "unknown failure");
  }
}

// A caller's options struct: as large as ours, or an older (smaller) one whose
// fields come first. Copies what it has over our defaults.
template <typename T>
bool read_options(const T* given, T& out, const char* name) {
  if (!given) return true;
  if (given->size < offsetof(T, size) + sizeof(size_t) || given->size > sizeof(T)) {
    fail(VKMIND_ERROR_INVALID_ARGUMENT, std::string(name) + ".size is " + std::to_string(given->size) +
                                            ": set it to sizeof(" + name + ") (" + std::to_string(sizeof(T)) + ")");
    return false;
  }
  std::memcpy(static_cast<void*>(&out), given, given->size);
  out.size = sizeof(T);
  return true;
}

template <size_t N>
void copy_string(char (&dst)[N], const std::string& src) {
  const size_t n = std::min(N - 1, src.size());
  std::memcpy(dst, src.data(), n);
  dst[n] = '\0';
}

vkmind_status bad_handle(const char* what) {
  return fail(VKMIND_ERROR_INVALID_HANDLE, std::string("not a live ") + what + " handle (freed, or never one)");
}

// Ids into a caller's buffer, or how many are needed.
vkmind_status give_ids(const std::vector<int32_t>& ids, int32_t* out, size_t capacity, size_t* count) {
  if (!count) return fail(VKMIND_ERROR_INVALID_ARGUMENT, "count is NULL");
  *count = ids.size();
  if (ids.size() > capacity || (!out && !ids.empty())) {
    return fail(VKMIND_ERROR_BUFFER_TOO_SMALL, std::to_string(ids.size()) + " token ids do not fit a buffer of " +
                                                   std::to_string(capacity));
  }
  std::copy(ids.begin(), ids.end(), out);
  return VKMIND_OK;
}

std::vector<vkmind::ChatMessage> read_messages(const vkmind_message* messages, size_t count) {
  if (!messages && count) throw std::invalid_argument("messages is NULL");
  std::vector<vkmind::ChatMessage> out;
  for (size_t i = 0; i < count; ++i) {
    if (!messages[i].role || !messages[i].content) {
      throw std::invalid_argument("messages[" + std::to_string(i) + "] has a NULL role or content");
    }
    out.push_back({messages[i].role, messages[i].content});
  }
  return out;
}

vkmind::GenerateOptions generate_options(const vkmind_generate_options& o) {
  vkmind::GenerateOptions g;
  g.max_tokens = o.max_tokens;
  g.sampling.temperature = o.temperature;
  g.sampling.top_k = o.top_k;
  g.sampling.top_p = o.top_p;
  g.sampling.min_p = o.min_p;
  g.sampling.repeat_penalty = o.repeat_penalty;
  g.sampling.frequency_penalty = o.frequency_penalty;
  g.sampling.presence_penalty = o.presence_penalty;
  g.sampling.seed = o.seed;
  g.ignore_eos = o.ignore_eos != 0;
  if (o.stop_count && !o.stop) throw std::invalid_argument("stop is NULL with stop_count " + std::to_string(o.stop_count));
  for (size_t i = 0; i < o.stop_count; ++i) {
    if (!o.stop[i]) throw std::invalid_argument("stop[" + std::to_string(i) + "] is NULL");
    if (*o.stop[i]) g.stop.emplace_back(o.stop[i]);
  }
  return g;
}

// Takes the engine's result once the last update came.
void collect(vkmind_request& r) {
  if (r.collected) return;
  r.result = r.engine->wait(r.id);
  r.collected = true;
}

vkmind_status submit(vkmind_model* model, const vkmind_generate_options* options, vkmind_token_callback callback,
                     void* user_data, vkmind_request** request, std::vector<int32_t> tokens) {
  vkmind_generate_options o;
  vkmind_generate_options_init(&o);
  if (!read_options(options, o, "vkmind_generate_options")) return VKMIND_ERROR_INVALID_ARGUMENT;
  auto r = std::make_unique<vkmind_request>();
  r->engine = model->engine;
  r->callback = callback;
  r->user_data = user_data;
  vkmind_request* raw = r.get();
  r->id = model->engine->submit(std::move(tokens), generate_options(o), [raw](const vkmind::RequestUpdate& u) {
    {
      std::lock_guard lock(raw->mutex);
      if (u.token >= 0) raw->tokens.push_back(u.token);
      raw->unpolled += u.text;
    }
    if (raw->callback) raw->callback(raw->user_data, u.token, u.text.data(), u.text.size());
    if (u.finished) {  // after the user's last callback: wait() returning means it ran
      std::lock_guard lock(raw->mutex);
      raw->finished = true;
      raw->ended.notify_all();
    }
  });
  track(raw);
  *request = r.release();
  return VKMIND_OK;
}

}  // namespace

extern "C" {

const char* vkmind_last_error(void) { return last_error.c_str(); }

const char* vkmind_version(void) { return VKMIND_VERSION; }

vkmind_status vkmind_device_count(size_t* count) {
  if (!count) return fail(VKMIND_ERROR_INVALID_ARGUMENT, "count is NULL");
  return guarded(VKMIND_ERROR_DEVICE, [&] {
    vkmind::vk::Instance instance(vkmind::vk::InstanceOptions{});
    *count = instance.physical_devices().size();
    return VKMIND_OK;
  });
}

vkmind_status vkmind_device_get_info(size_t index, vkmind_device_info* info) {
  if (!info) return fail(VKMIND_ERROR_INVALID_ARGUMENT, "info is NULL");
  if (info->size != sizeof(vkmind_device_info)) {
    return fail(VKMIND_ERROR_INVALID_ARGUMENT, "vkmind_device_info.size is " + std::to_string(info->size) +
                                                   ": set it to sizeof(vkmind_device_info)");
  }
  return guarded(VKMIND_ERROR_DEVICE, [&] {
    vkmind::vk::Instance instance(vkmind::vk::InstanceOptions{});
    const auto devices = instance.physical_devices();
    if (index >= devices.size()) {
      return fail(VKMIND_ERROR_INVALID_ARGUMENT,
                  "device " + std::to_string(index) + " does not exist (" + std::to_string(devices.size()) + " devices)");
    }
    const vkmind::vk::DeviceReport d = vkmind::vk::query_device_report(devices[index]);
    *info = vkmind_device_info{};
    info->size = sizeof(vkmind_device_info);
    copy_string(info->name, d.name);
    copy_string(info->type, d.type);
    copy_string(info->driver, d.driver_name + (d.driver_info.empty() ? "" : " " + d.driver_info));
    info->vendor_id = d.vendor_id;
    info->device_id = d.device_id;
    info->api_version = d.api_version;
    info->subgroup_size = d.subgroup_size;
    info->shader_float16 = d.shader_float16;
    info->shader_int8 = d.shader_int8;
    info->subgroup_arithmetic = d.subgroup_arithmetic;
    info->max_storage_buffer_range = d.max_storage_buffer_range;
    for (const auto& h : d.heaps) {
      if (h.device_local) info->device_local_bytes = std::max<uint64_t>(info->device_local_bytes, h.size);
    }
    return VKMIND_OK;
  });
}

void vkmind_model_options_init(vkmind_model_options* options) {
  if (!options) return;
  *options = vkmind_model_options{};
  options->size = sizeof(vkmind_model_options);
  options->kv_type = VKMIND_KV_F16;
  options->parallel = 4;
  options->prefix_cache = 1;
}

vkmind_status vkmind_model_load(const char* path, const vkmind_model_options* options, vkmind_model** model) {
  if (!path || !model) return fail(VKMIND_ERROR_INVALID_ARGUMENT, path ? "model is NULL" : "path is NULL");
  *model = nullptr;
  vkmind_model_options o;
  vkmind_model_options_init(&o);
  if (!read_options(options, o, "vkmind_model_options")) return VKMIND_ERROR_INVALID_ARGUMENT;
  if (o.kv_type != VKMIND_KV_F16 && o.kv_type != VKMIND_KV_F32) {
    return fail(VKMIND_ERROR_INVALID_ARGUMENT, "kv_type must be VKMIND_KV_F16 or VKMIND_KV_F32");
  }
  if (o.parallel < 1 || o.parallel > 64) {
    return fail(VKMIND_ERROR_INVALID_ARGUMENT, "parallel must be 1..64, not " + std::to_string(o.parallel));
  }
  return guarded(VKMIND_ERROR_LOAD_FAILED, [&] {
    vkmind::EngineOptions e;
    e.device = o.device ? o.device : "";
    e.context = o.context;
    e.kv_type = o.kv_type == VKMIND_KV_F32 ? vkmind::KvType::F32 : vkmind::KvType::F16;
    e.kv_blocks = o.kv_blocks;
    e.parallel = o.parallel;
    e.prefix_cache = o.prefix_cache != 0;
    auto m = std::make_unique<vkmind_model>();
    m->engine = vkmind::Engine::open(path, e);
    track(m.get());
    *model = m.release();
    return VKMIND_OK;
  });
}

void vkmind_model_free(vkmind_model* model) {
  if (!model || !untrack(model)) return;
  delete model;  // the engine goes with the last request that holds it
}

vkmind_status vkmind_model_get_info(const vkmind_model* model, vkmind_model_info* info) {
  if (!is_live(model)) return bad_handle("model");
  if (!info || info->size != sizeof(vkmind_model_info)) {
    return fail(VKMIND_ERROR_INVALID_ARGUMENT, "info is NULL or its size is not sizeof(vkmind_model_info)");
  }
  return guarded(VKMIND_ERROR_FAILED, [&] {
    const vkmind::Engine& e = *model->engine;
    *info = vkmind_model_info{};
    info->size = sizeof(vkmind_model_info);
    copy_string(info->architecture, e.architecture());
    copy_string(info->chat_template, e.chat_template_name());
    info->vocab_size = e.vocab_size();
    info->context = e.token_capacity();
    info->parameter_count = e.parameter_count();
    return VKMIND_OK;
  });
}

vkmind_status vkmind_tokenize(const vkmind_model* model, const char* text, int add_bos, int32_t* tokens,
                              size_t capacity, size_t* count) {
  if (!is_live(model)) return bad_handle("model");
  if (!text) return fail(VKMIND_ERROR_INVALID_ARGUMENT, "text is NULL");
  return guarded(VKMIND_ERROR_FAILED, [&] {
    const vkmind::Engine& e = *model->engine;
    const bool bos = add_bos < 0 ? e.default_add_bos() : add_bos != 0;
    return give_ids(e.tokenize(text, bos, true), tokens, capacity, count);
  });
}

vkmind_status vkmind_detokenize(const vkmind_model* model, const int32_t* tokens, size_t count, char* text,
                                size_t capacity, size_t* length) {
  if (!is_live(model)) return bad_handle("model");
  if (!length || (!tokens && count)) return fail(VKMIND_ERROR_INVALID_ARGUMENT, "tokens or length is NULL");
  return guarded(VKMIND_ERROR_FAILED, [&] {
    const vkmind::Engine& e = *model->engine;
    for (size_t i = 0; i < count; ++i) {
      if (tokens[i] < 0 || uint32_t(tokens[i]) >= e.vocab_size()) {
        return fail(VKMIND_ERROR_INVALID_ARGUMENT, "token id " + std::to_string(tokens[i]) +
                                                       " is outside the vocabulary of " + std::to_string(e.vocab_size()));
      }
    }
    const std::string s = e.detokenize(std::span<const int32_t>(tokens, count));
    *length = s.size();
    if (!text || capacity < s.size() + 1) {
      return fail(VKMIND_ERROR_BUFFER_TOO_SMALL,
                  std::to_string(s.size() + 1) + " bytes do not fit a buffer of " + std::to_string(capacity));
    }
    std::memcpy(text, s.c_str(), s.size() + 1);
    return VKMIND_OK;
  });
}

vkmind_status vkmind_chat_tokens(const vkmind_model* model, const vkmind_message* messages, size_t count,
                                 int32_t* tokens, size_t capacity, size_t* token_count) {
  if (!is_live(model)) return bad_handle("model");
  return guarded(VKMIND_ERROR_INVALID_ARGUMENT, [&] {
    return give_ids(model->engine->chat_tokens(read_messages(messages, count)), tokens, capacity, token_count);
  });
}

void vkmind_generate_options_init(vkmind_generate_options* options) {
  if (!options) return;
  const vkmind::GenerateOptions d;
  *options = vkmind_generate_options{};
  options->size = sizeof(vkmind_generate_options);
  options->max_tokens = d.max_tokens;
  options->temperature = d.sampling.temperature;
  options->top_k = d.sampling.top_k;
  options->top_p = d.sampling.top_p;
  options->min_p = d.sampling.min_p;
  options->repeat_penalty = d.sampling.repeat_penalty;
  options->frequency_penalty = d.sampling.frequency_penalty;
  options->presence_penalty = d.sampling.presence_penalty;
  options->seed = d.sampling.seed;
}

vkmind_status vkmind_submit_text(vkmind_model* model, const char* prompt, const vkmind_generate_options* options,
                                 vkmind_token_callback callback, void* user_data, vkmind_request** request) {
  if (!is_live(model)) return bad_handle("model");
  if (!prompt || !request) return fail(VKMIND_ERROR_INVALID_ARGUMENT, prompt ? "request is NULL" : "prompt is NULL");
  return guarded(VKMIND_ERROR_FAILED, [&] {
    vkmind::Engine& e = *model->engine;
    return submit(model, options, callback, user_data, request, e.tokenize(prompt, e.default_add_bos(), true));
  });
}

vkmind_status vkmind_submit_chat(vkmind_model* model, const vkmind_message* messages, size_t count,
                                 const vkmind_generate_options* options, vkmind_token_callback callback,
                                 void* user_data, vkmind_request** request) {
  if (!is_live(model)) return bad_handle("model");
  if (!request) return fail(VKMIND_ERROR_INVALID_ARGUMENT, "request is NULL");
  return guarded(VKMIND_ERROR_INVALID_ARGUMENT, [&] {
    return submit(model, options, callback, user_data, request, model->engine->chat_tokens(read_messages(messages, count)));
  });
}

vkmind_status vkmind_submit_tokens(vkmind_model* model, const int32_t* tokens, size_t count,
                                   const vkmind_generate_options* options, vkmind_token_callback callback,
                                   void* user_data, vkmind_request** request) {
  if (!is_live(model)) return bad_handle("model");
  if (!request || (!tokens && count)) return fail(VKMIND_ERROR_INVALID_ARGUMENT, "tokens or request is NULL");
  return guarded(VKMIND_ERROR_FAILED, [&] {
    return submit(model, options, callback, user_data, request, std::vector<int32_t>(tokens, tokens + count));
  });
}

vkmind_status vkmind_request_poll(vkmind_request* request, char* text, size_t capacity, size_t* length, int* finished) {
  if (!is_live(request)) return bad_handle("request");
  if (!text || capacity == 0 || !length || !finished) {
    return fail(VKMIND_ERROR_INVALID_ARGUMENT, "text, length or finished is NULL, or capacity is 0");
  }
  std::lock_guard lock(request->mutex);
  std::string& pending = request->unpolled;
  size_t n = std::min(pending.size(), capacity - 1);
  // Never split a UTF-8 character: back off continuation bytes at the cut.
  if (n < pending.size()) {
    while (n > 0 && (uint8_t(pending[n]) & 0xC0) == 0x80) --n;
  }
  std::memcpy(text, pending.data(), n);
  text[n] = '\0';
  pending.erase(0, n);
  *length = n;
  *finished = request->finished && pending.empty();
  return VKMIND_OK;
}

vkmind_status vkmind_request_wait(vkmind_request* request) {
  if (!is_live(request)) return bad_handle("request");
  return guarded(VKMIND_ERROR_FAILED, [&] {
    std::unique_lock lock(request->mutex);
    request->ended.wait(lock, [&] { return request->finished; });
    collect(*request);
    return VKMIND_OK;
  });
}

vkmind_status vkmind_request_cancel(vkmind_request* request) {
  if (!is_live(request)) return bad_handle("request");
  return guarded(VKMIND_ERROR_FAILED, [&] {
    request->engine->cancel(request->id);
    return VKMIND_OK;
  });
}

vkmind_status vkmind_request_get_stats(vkmind_request* request, vkmind_stats* stats) {
  if (!is_live(request)) return bad_handle("request");
  if (!stats || stats->size != sizeof(vkmind_stats)) {
    return fail(VKMIND_ERROR_INVALID_ARGUMENT, "stats is NULL or its size is not sizeof(vkmind_stats)");
  }
  return guarded(VKMIND_ERROR_FAILED, [&] {
    std::lock_guard lock(request->mutex);
    *stats = vkmind_stats{};
    stats->size = sizeof(vkmind_stats);
    stats->generated_tokens = uint32_t(request->tokens.size());
    if (!request->finished) return VKMIND_OK;
    collect(*request);  // the result follows the last update at once
    const vkmind::GenerationStats& s = request->result.stats;
    stats->finished = 1;
    stats->prompt_tokens = s.prompt_tokens;
    stats->cached_prompt_tokens = s.cached_prompt_tokens;
    stats->generated_tokens = s.generated_tokens;
    stats->queue_ms = request->result.queue_ms;
    stats->time_to_first_token_ms = s.time_to_first_token_ms;
    stats->prefill_tokens_per_s = s.prefill_tokens_per_s;
    stats->decode_tokens_per_s = s.decode_tokens_per_s;
    copy_string(stats->stop_reason, s.stop_reason);
    copy_string(stats->error, request->result.error);
    return VKMIND_OK;
  });
}

vkmind_status vkmind_request_get_tokens(vkmind_request* request, int32_t* tokens, size_t capacity, size_t* count) {
  if (!is_live(request)) return bad_handle("request");
  std::lock_guard lock(request->mutex);
  return give_ids(request->tokens, tokens, capacity, count);
}

void vkmind_request_free(vkmind_request* request) {
  if (!request || !untrack(request)) return;
  try {
    request->engine->cancel(request->id);
    std::unique_lock lock(request->mutex);
    request->ended.wait(lock, [&] { return request->finished; });
    collect(*request);
  } catch (...) {
    // Freeing never fails; the engine is going anyway.
  }
  delete request;
}

}  // extern "C"
