// vkmind's C++ API: open a model on a Vulkan device, generate text from a
// prompt or from chat messages, stream it through a callback, cancel, and
// read statistics. One Engine serves one model.
//
// All generation runs on one engine thread, which batches the requests of
// every caller (continuous batching, runtime/scheduler), up to
// EngineOptions::parallel at once; each request's output is what it would be
// alone. Two ways in: the request API (submit, cancel, wait), thread-safe;
// and the single-request calls (generate, generate_ids, chat), which submit
// one request and wait for it, calling back on the engine thread. The
// scoring calls (logits, token_nll) and bench timing use the model directly
// between steps. Callers of one Engine's single-request calls may be many;
// each call blocks only its own thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/engine/decode_profile.h"
#include "runtime/kv_cache/block_manager.h"
#include "runtime/sampler/sampler.h"

namespace vkmind {

enum class KvType { F16, F32 };

struct EngineOptions {
  std::string device;         // index or name substring; empty: $VKMIND_DEVICE or the best GPU
  uint32_t context = 0;       // tokens; 0: the model's context length, capped at 4096
  KvType kv_type = KvType::F16;
  uint32_t kv_block_size = 16;  // 8, 16 or 32
  uint32_t kv_blocks = 0;       // 0: enough for `parallel` sequences of `context` tokens
  uint32_t prefill_chunk = 512; // tokens per prefill step
  bool validation = false;      // Khronos validation layer
  bool print_validation = false;  // also print each validation message to stderr as it comes
  // Request API: sequences per step, tokens per step, prefix cache.
  uint32_t parallel = 1;
  uint32_t batch_tokens = 512;
  bool prefix_cache = true;
  // CPU devices: copy the float weight matrices into tiles at load (faster
  // decode and prefill) rather than read them in place from the model file
  // (faster load); ops/weight_view.h. Like llama.cpp's --no-repack.
  bool repack = true;
  // CPU devices: the folder that keeps those tiles between loads, so that a
  // later load maps them instead of copying (runtime/engine/tile_cache.h).
  // Empty: $VKMIND_TILE_CACHE, else ~/.cache/vkmind/tiles; "off": none.
  std::string tile_cache;
  // Find each step's best 64 logits on the device, so that sampling reads 64
  // (token, logit) pairs instead of the whole vocabulary (requests with
  // penalties, log-probabilities or no top-k cut still read it all).
  // nullopt: on for GPUs; off on CPU devices, whose logits are host memory
  // already and which rank them slower than the host's sampler.
  std::optional<bool> device_top_k;
  // A template name (chatml, qwen3, minimind, llama2, llama3) or the Jinja
  // text of one; empty: the template that came with the model.
  std::string chat_template;
  // Create at load every pipeline a step of any size can use, rather than on
  // the first step of each size (a server's first requests; minimind-3 size
  // on lavapipe: ~0.44 s). The load takes that much longer.
  bool prepare_steps = false;
};

struct ChatMessage {
  std::string role;  // "system", "user", "assistant"
  std::string content;
};

struct GenerateOptions {
  SamplingParams sampling;
  int32_t max_tokens = 256;
  std::vector<std::string> stop;  // stop strings (not included in the output)
  std::optional<bool> add_bos;    // nullopt: what the model says (GGUF add_bos_token, tokenizer_config.json)
  std::optional<bool> add_eos;    // nullopt: what the model says (add_eos_token; almost always false)
  bool parse_special = true;      // special tokens in the prompt text are recognised
  bool ignore_eos = false;        // keep going past end-of-sequence tokens (benchmarks)
  // >= 0: each generated token's log-probability under the model (its raw
  // logits, before temperature and filters) and this many most likely
  // alternatives (0..20) come with its RequestUpdate. -1: none.
  int32_t logprobs = -1;
  // Polled between prefill steps and before each decode step (a long prompt
  // is cancellable before its first token): true stops with "cancelled".
  std::function<bool()> cancel_requested;
};

struct GenerationStats {
  uint32_t prompt_tokens = 0;         // the whole prompt, cached part included
  uint32_t cached_prompt_tokens = 0;  // of those, reused from the KV cache (not computed)
  uint32_t generated_tokens = 0;
  uint64_t seed = 0;                  // the sampler's seed, to repeat the run
  double time_to_first_token_ms = 0;
  double prefill_tokens_per_s = 0;    // tokens computed (not cached) per second of prefill compute
  double decode_tokens_per_s = 0;     // 0 when no decode step ran
  double setup_ms = 0;                // one-time graph recording in this call, not in the rates
  std::string stop_reason;  // "eos", "stop string", "max tokens", "context full", "cancelled"
};

// Receives each piece of text as soon as it is complete UTF-8. Returning
// false cancels the generation.
using TextCallback = std::function<bool(std::string_view text)>;

using RequestId = uint64_t;

struct TokenLogprob {
  int32_t token;
  float logprob;
};

// What a request produced: streamed piece by piece (RequestUpdate), or whole
// at the end (RequestResult).
struct RequestUpdate {
  RequestId id = 0;
  int32_t token = -1;     // the new token; -1 in the final update
  std::string text;       // complete UTF-8 text it adds (stop strings held back)
  bool finished = false;  // the last update; `stats` are final
  float logprob = 0;                      // of `token` (GenerateOptions::logprobs >= 0)
  std::vector<TokenLogprob> top_logprobs;  // the most likely tokens, most likely first
};

struct RequestResult {
  RequestId id = 0;
  std::vector<int32_t> tokens;  // generated
  std::string text;
  GenerationStats stats;        // stop_reason "eos", "stop string", "max tokens", "context full", "cancelled", "error"
  double queue_ms = 0;          // submitted -> first scheduled
  std::string error;            // why a request was refused (stop_reason "error")
};

// Called on the engine thread: keep it short.
using RequestCallback = std::function<void(const RequestUpdate&)>;

class Engine {
 public:
  static std::unique_ptr<Engine> open(const std::string& model_path, const EngineOptions& options = {});
  virtual ~Engine() = default;

  virtual GenerationStats generate(const std::string& prompt, const GenerateOptions& options,
                                   const TextCallback& on_text) = 0;
  // Generates from token ids; `on_token` sees each generated id (return
  // false to cancel). Text callbacks of generate() and chat() come from here.
  virtual GenerationStats generate_ids(std::span<const int32_t> prompt, const GenerateOptions& options,
                                       const std::function<bool(int32_t)>& on_token) = 0;
  // Renders the chat template and generates the assistant's reply. Turns of
  // one conversation reuse the KV blocks of the earlier ones (prefix cache:
  // every full block of tokens they share; EngineOptions::prefix_cache).
  virtual GenerationStats chat(const std::vector<ChatMessage>& messages, const GenerateOptions& options,
                               const TextCallback& on_text) = 0;
  // The tokens chat() would feed for these messages (template rendered).
  virtual std::vector<int32_t> chat_tokens(const std::vector<ChatMessage>& messages) const = 0;
  // Frees the KV blocks the scoring calls hold (cached prefixes stay until
  // the pool needs their blocks).
  virtual void reset() = 0;
  // Thread-safe request API. A request that can never run (longer than the
  // context or the KV pool, bad ids or sampling parameters) finishes at once
  // with stop_reason "error" and a message.
  virtual RequestId submit(std::vector<int32_t> prompt, const GenerateOptions& options,
                           RequestCallback on_update = {}) = 0;
  virtual RequestId submit_text(const std::string& prompt, const GenerateOptions& options,
                                RequestCallback on_update = {}) = 0;
  virtual RequestId submit_chat(const std::vector<ChatMessage>& messages, const GenerateOptions& options,
                                RequestCallback on_update = {}) = 0;
  // Stops a request and frees its KV blocks at once (no-op once finished).
  virtual void cancel(RequestId id) = 0;
  // Blocks until the request finishes; each id can be waited for once.
  virtual RequestResult wait(RequestId id) = 0;
  // KV cache statistics (blocks, prefix cache hits, evictions).
  virtual KvStats kv_stats() const = 0;

  // Logits of the last position after running `tokens` from an empty cache.
  virtual std::vector<float> logits(std::span<const int32_t> tokens) = 0;
  // Negative log-likelihood of each token given the ones before it (index 0
  // gets 0), evaluated in windows of the context size.
  virtual std::vector<double> token_nll(std::span<const int32_t> tokens,
                                        const std::function<void(size_t done, size_t total)>& progress = {}) = 0;

  virtual std::vector<int32_t> tokenize(const std::string& text, bool add_bos, bool parse_special) const = 0;
  virtual std::string detokenize(std::span<const int32_t> tokens) const = 0;
  virtual uint32_t context_length() const = 0;
  // Tokens one sequence can hold: the context, or less when the KV cache
  // has fewer blocks (--kv-blocks). Prompt + generated tokens stop there.
  virtual uint32_t token_capacity() const = 0;
  virtual bool default_add_bos() const = 0;
  // "jinja" when the model's own (or a --chat-template FILE) Jinja template
  // renders chats, else the built-in family (chatml, qwen3, minimind, llama2, llama3).
  virtual std::string chat_template_name() const = 0;
  virtual double load_ms() const = 0;  // opening: parse, upload, pipelines, decode graph
  virtual std::string load_report() const = 0;  // load_ms() by stage, in words
  virtual uint32_t vocab_size() const = 0;
  virtual std::string description() const = 0;  // model and device, one line
  virtual std::string architecture() const = 0;  // "llama", "qwen3", "minimind", ...
  virtual std::string device_name() const = 0;
  virtual uint64_t parameter_count() const = 0;
  virtual uint64_t model_bytes() const = 0;  // the stored weights, as in the file
  // GPU time per kernel of the last step, summed by kernel, one line each
  // (needs VKMIND_PROFILE=1; empty otherwise).
  virtual std::string profile_report() const = 0;
  // llama-bench's tests: seconds to process `tokens` synthetic ids in one
  // prefill (pp) or one at a time (tg), after `depth` tokens (not timed) in
  // an emptied cache. Throws vkmind::Error when depth + tokens does not fit.
  // What bounds a decode step: its dispatches and barriers, and the weight
  // bytes one token reads (what `bench` turns into an effective bandwidth).
  virtual DecodeProfile decode_profile() = 0;
  virtual double time_prefill(uint32_t tokens, uint32_t depth) = 0;
  virtual double time_decode(uint32_t tokens, uint32_t depth) = 0;
  // Messages of the Khronos validation layer so far (EngineOptions::validation), cleared.
  virtual std::vector<std::string> take_validation_messages() = 0;
};

}  // namespace vkmind
