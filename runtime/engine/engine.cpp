// The Engine: a model, its tokenizer and chat template, the model runner and
// the request loop (runtime/engine/request_loop.h) that generates for every
// caller; scoring (logits, token_nll) and bench timing use the runner directly.
#include "include/vkmind/engine.h"

#include <chrono>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <mutex>
#include <cstdio>
#include <future>

#include "model/model_desc.h"
#include "model/jinja/error.h"
#include "model/tokenizer/chat_formatter.h"
#include "model/tokenizer/tokenizer.h"
#include "runtime/engine/model_runner.h"
#include "runtime/engine/request_loop.h"
#include "runtime/vk/context.h"
#include "runtime/vk/error.h"

namespace vkmind {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

constexpr SeqId kMainSequence = 0;

class EngineImpl final : public Engine {
 public:
  EngineImpl(const std::string& path, const EngineOptions& options) {
    const auto start = Clock::now();
    // The Vulkan device comes up (mostly the driver's libraries loading) while
    // the model and tokenizer are read; a model error is still the one reported.
    double device_ms = 0;
    auto device = std::async(std::launch::async, [&options, &device_ms] {
      const auto device_start = Clock::now();
      auto ctx = std::make_unique<vk::Context>(vk::ContextOptions{options.device, options.validation, options.print_validation});
      device_ms = ms_since(device_start);
      return ctx;
    });
    model_ = Model::open(path);
    tokenizer_ = tok::load_tokenizer(path);
    const double model_ms = ms_since(start);
    for (const auto& w : tokenizer_->warnings()) std::fprintf(stderr, "vkmind: warning: %s\n", w.c_str());
    check_vocabularies(path);
    choose_chat_template(options.chat_template);
    ctx_ = device.get();

    RunnerOptions runner;
    const ModelDesc& d = model_->desc();
    const uint32_t model_context = d.context_length;
    runner.context = options.context ? options.context : std::min<uint32_t>(model_context ? model_context : 4096, 4096);
    if (model_context && runner.context > model_context && d.rope.scaling != RopeScalingType::YaRN) {
      std::fprintf(stderr,
                   "vkmind: warning: a context of %u tokens exceeds the %u the model was trained for, and it "
                   "configures no RoPE scaling (YaRN): expect output past %u tokens to degrade\n",
                   runner.context, model_context, model_context);
    }
    runner.kv_type = options.kv_type;
    runner.kv_block_size = options.kv_block_size;
    runner.kv_blocks = options.kv_blocks;
    runner.prefill_chunk = options.prefill_chunk;
    if (options.parallel == 0 || options.parallel > 64) {
      throw Error("parallel sequences must be 1..64, not " + std::to_string(options.parallel));
    }
    parallel_ = options.parallel;
    batch_tokens_ = std::max(1u, options.batch_tokens);
    runner.max_seqs = options.parallel;
    runner.prefix_cache = options.prefix_cache;
    runner.repack = options.repack;
    runner.tile_cache = options.tile_cache;
    runner.device_top_k = options.device_top_k.value_or(ctx_->device().report().type != "CPU");
    const auto runner_start = Clock::now();
    runner_ = std::make_unique<ModelRunner>(*ctx_, *model_, runner);
    if (options.prepare_steps) runner_->prepare_steps();
    const double graph_ms = runner_->take_setup_ms();
    const double runner_ms = ms_since(runner_start);
    load_ms_ = ms_since(start);
    char report[224];
    std::snprintf(report, sizeof report,
                  "model and tokenizer %.0f ms and alongside them the Vulkan device %.0f ms, weights and KV cache %.0f ms, "
                  "%s %.0f ms",
                  model_ms, device_ms, runner_ms - graph_ms,
                  options.prepare_steps ? "graphs of every step size and their pipelines" : "decode graph and its pipelines",
                  graph_ms);
    load_report_ = report;
    if (const uint32_t tiled = runner_->tiled_matrices()) {
      load_report_ += "; " + std::to_string(tiled) + " weight matrices repacked into tiles (--no-repack: read in place)";
      if (const std::string cache = runner_->tile_cache_outcome(); !cache.empty()) load_report_ += ", tiles " + cache;
    }
  }

  GenerationStats generate(const std::string& prompt, const GenerateOptions& options,
                           const TextCallback& on_text) override {
    auto tokens = tokenize(prompt, options.add_bos.value_or(tokenizer_->add_bos_by_default()), options.parse_special);
    if (options.add_eos.value_or(tokenizer_->add_eos_by_default()) && tokenizer_->eos_id()) {
      tokens.push_back(*tokenizer_->eos_id());
    }
    check_tokens(tokens);
    return run_text(std::move(tokens), options, on_text);
  }

  GenerationStats generate_ids(std::span<const int32_t> prompt, const GenerateOptions& options,
                               const std::function<bool(int32_t)>& on_token) override {
    check_tokens(prompt);
    return run(std::vector<int32_t>(prompt.begin(), prompt.end()), options,
               [&](const RequestUpdate& u) { return u.token < 0 || on_token(u.token); });
  }

  std::vector<int32_t> chat_tokens(const std::vector<ChatMessage>& messages) const override {
    std::vector<tok::ChatMessage> turns;
    for (const auto& m : messages) turns.push_back({m.role, m.content});
    std::string text;
    try {
      text = chat_formatter_.render(turns, tok::ChatOptions{});
    } catch (const jinja::TemplateError& e) {
      throw Error(std::string("chat template: ") + e.what());
    }
    // The rendered text carries BOS itself where the template wants one.
    return tokenizer_->encode(text, false, true);
  }

  GenerationStats chat(const std::vector<ChatMessage>& messages, const GenerateOptions& options,
                       const TextCallback& on_text) override {
    if (!template_warning_.empty()) {
      std::fprintf(stderr, "vkmind: warning: %s\n", template_warning_.c_str());
      template_warning_.clear();
    }
    auto tokens = chat_tokens(messages);
    check_tokens(tokens);
    return run_text(std::move(tokens), options, on_text);
  }

  void reset() override {
    std::lock_guard lock(runner_mutex_);
    reset_locked();
  }

  std::vector<float> logits(std::span<const int32_t> tokens) override {
    std::lock_guard lock(runner_mutex_);
    reset_locked();
    check_tokens(tokens);
    check_fits(tokens.size());
    auto out = runner_->forward(kMainSequence, tokens);
    std::vector<float> result(out.begin(), out.end());
    reset_locked();
    return result;
  }

  std::vector<double> token_nll(std::span<const int32_t> tokens,
                                const std::function<void(size_t, size_t)>& progress) override {
    check_tokens(tokens);
    std::lock_guard lock(runner_mutex_);
    std::vector<double> nll(tokens.size(), 0.0);
    const size_t window = token_capacity();
    const uint32_t vocab = vocab_size();
    for (size_t start = 0; start + 1 < tokens.size(); start += window) {
      reset_locked();
      const size_t n = std::min(window, tokens.size() - start);
      auto rows = runner_->forward(kMainSequence, tokens.subspan(start, n), true);
      for (size_t i = 0; i + 1 < n; ++i) {
        std::span<const float> row = rows.subspan(i * vocab, vocab);
        double max = row[0];
        for (float v : row) max = std::max<double>(max, v);
        double sum = 0;
        for (float v : row) sum += std::exp(double(v) - max);
        nll[start + i + 1] = -(double(row[size_t(tokens[start + i + 1])]) - max - std::log(sum));
      }
      if (progress) progress(start + n, tokens.size());
    }
    reset_locked();
    return nll;
  }

  std::vector<int32_t> tokenize(const std::string& text, bool add_bos, bool parse_special) const override {
    return tokenizer_->encode(text, add_bos, parse_special);
  }
  std::string detokenize(std::span<const int32_t> tokens) const override { return tokenizer_->decode(tokens); }
  uint32_t context_length() const override { return runner_->context(); }
  uint32_t token_capacity() const override { return runner_->token_capacity(); }
  bool default_add_bos() const override { return tokenizer_->add_bos_by_default(); }
  std::string chat_template_name() const override { return chat_formatter_.name(); }
  double load_ms() const override { return load_ms_; }
  std::string load_report() const override { return load_report_; }

  double time_prefill(uint32_t tokens, uint32_t depth) override { return time_forward(tokens, depth, tokens); }
  double time_decode(uint32_t tokens, uint32_t depth) override { return time_forward(tokens, depth, 1); }
  DecodeProfile decode_profile() override {
    std::lock_guard lock(runner_mutex_);
    return runner_->decode_profile();
  }
  uint32_t vocab_size() const override { return runner_->vocab_size(); }
  std::string description() const override {
    return model_->desc().architecture + " " + std::to_string(model_->desc().n_layers) + " layers, " +
           std::to_string(model_->desc().hidden) + " hidden on " + ctx_->device().report().name;
  }
  std::string architecture() const override { return model_->desc().architecture; }
  std::string device_name() const override { return ctx_->device().report().name; }
  uint64_t parameter_count() const override { return model_->parameter_count(); }
  uint64_t model_bytes() const override {
    uint64_t bytes = 0;
    for (const auto& t : model_->stored_tensors()) bytes += t.data.size();
    return bytes;
  }
  std::string profile_report() const override {
    std::map<std::string, std::pair<double, int>> by_kernel;
    double total = 0;
    for (const auto& t : runner_->last_step_timings()) {
      auto& [ms, count] = by_kernel[t.label];
      ms += t.milliseconds;
      ++count;
      total += t.milliseconds;
    }
    std::vector<std::pair<std::string, std::pair<double, int>>> rows(by_kernel.begin(), by_kernel.end());
    std::sort(rows.begin(), rows.end(), [](auto& a, auto& b) { return a.second.first > b.second.first; });
    std::string out;
    char line[160];
    for (const auto& [label, v] : rows) {
      std::snprintf(line, sizeof line, "  %-22s %8.3f ms %5.1f%%  (%d nodes)\n", label.c_str(), v.first,
                    total > 0 ? 100.0 * v.first / total : 0.0, v.second);
      out += line;
    }
    return out;
  }

  std::vector<std::string> take_validation_messages() override { return ctx_->instance().take_validation_messages(); }

  RequestId submit(std::vector<int32_t> prompt, const GenerateOptions& options, RequestCallback on_update) override {
    return loop().submit(std::move(prompt), options, std::move(on_update));
  }
  RequestId submit_text(const std::string& prompt, const GenerateOptions& options, RequestCallback on_update) override {
    auto tokens = tokenize(prompt, options.add_bos.value_or(tokenizer_->add_bos_by_default()), options.parse_special);
    if (options.add_eos.value_or(tokenizer_->add_eos_by_default()) && tokenizer_->eos_id()) {
      tokens.push_back(*tokenizer_->eos_id());
    }
    if (tokens.empty()) return loop().refuse("the prompt is empty (no tokens): give a prompt or allow BOS");
    return submit(std::move(tokens), options, std::move(on_update));
  }
  RequestId submit_chat(const std::vector<ChatMessage>& messages, const GenerateOptions& options,
                        RequestCallback on_update) override {
    return submit(chat_tokens(messages), options, std::move(on_update));
  }
  void cancel(RequestId id) override { loop().cancel(id); }
  RequestResult wait(RequestId id) override { return loop().wait(id); }
  KvStats kv_stats() const override {
    std::lock_guard lock(runner_mutex_);
    return runner_->kv_stats();
  }

 private:
  // The tokenizer may be smaller than the embedding (vocabularies padded to
  // a multiple of 64 or 128), never larger: its ids would index past the table.
  void check_vocabularies(const std::string& path) const {
    const int64_t tokenizer_vocab = tokenizer_->vocab_size(), rows = model_->desc().vocab;
    if (tokenizer_vocab > rows) {
      throw Error(path + ": the tokenizer has " + std::to_string(tokenizer_vocab) + " tokens but the token embedding (" +
                  "token_embd) has " + std::to_string(rows) + " rows: ids " + std::to_string(rows) + ".." +
                  std::to_string(tokenizer_vocab - 1) + " would be out of range (tokenizer and weights of different models?)");
    }
    if (tokenizer_vocab < rows) {
      std::fprintf(stderr,
                   "vkmind: warning: the tokenizer has %lld tokens, the model's vocabulary %lld (padded): ids from "
                   "%lld on are never produced by the tokenizer and decode to nothing\n",
                   (long long)tokenizer_vocab, (long long)rows, (long long)tokenizer_vocab);
    }
  }

  void choose_chat_template(const std::string& wanted) {
    if (wanted.empty()) {
      chat_formatter_ = tok::ChatFormatter::for_tokenizer(*tokenizer_, template_warning_);
      return;
    }
    if (auto named = tok::chat_template_by_name(wanted)) {
      chat_formatter_ = tok::ChatFormatter::from_family(*named);
      return;
    }
    // The text of a template file (--chat-template FILE) runs through the interpreter.
    try {
      chat_formatter_ = tok::ChatFormatter::from_jinja(wanted, tok::ChatFormatter::token_text(*tokenizer_, true),
                                                       tok::ChatFormatter::token_text(*tokenizer_, false),
                                                       "Jinja template given with --chat-template");
    } catch (const jinja::TemplateError& e) {
      throw Error(std::string("chat template: ") + e.what());
    }
  }

  void check_tokens(std::span<const int32_t> tokens) const {
    for (int32_t t : tokens) {
      if (t < 0 || uint32_t(t) >= vocab_size()) {
        throw Error("token id " + std::to_string(t) + " is outside the vocabulary of " +
                    std::to_string(vocab_size()) + " tokens");
      }
    }
  }

  void check_fits(size_t n) const {
    if (n == 0) throw Error("the prompt is empty (no tokens): give a prompt or allow BOS");
    if (n >= token_capacity()) {
      const bool by_blocks = token_capacity() < context_length();
      throw Error("the prompt has " + std::to_string(n) + " tokens, which does not fit " +
                  (by_blocks ? "the KV cache of " + std::to_string(token_capacity()) + " tokens (--kv-blocks)"
                             : "the context of " + std::to_string(context_length()) + " tokens (--ctx)") +
                  ": room is needed for at least one generated token");
    }
  }

  // Seconds to feed `tokens` synthetic ids, `step` per forward, after `depth`
  // untimed ones; graph recording (first use of a shape) is not counted.
  double time_forward(uint32_t tokens, uint32_t depth, uint32_t step) {
    std::lock_guard lock(runner_mutex_);
    const auto ids = bench_ids(tokens, depth);
    if (depth) runner_->forward(kMainSequence, std::span(ids).first(depth));
    runner_->take_setup_ms();
    const auto start = Clock::now();
    for (uint32_t i = depth; i < depth + tokens; i += step) {
      runner_->forward(kMainSequence, std::span(ids).subspan(i, std::min(step, depth + tokens - i)));
    }
    const double ms = ms_since(start) - runner_->take_setup_ms();
    reset_locked();
    return ms / 1000.0;
  }

  std::vector<int32_t> bench_ids(uint32_t tokens, uint32_t depth) {
    if (tokens == 0) throw Error("a benchmark needs at least one token");
    if (uint64_t(depth) + tokens > token_capacity()) {
      throw Error("depth " + std::to_string(depth) + " + " + std::to_string(tokens) + " tokens exceeds the " +
                  std::to_string(token_capacity()) + " tokens the cache holds (--ctx)");
    }
    reset_locked();
    // Ids from the middle of the vocabulary: ordinary tokens, never control ones.
    const uint32_t vocab = vocab_size(), span = std::max(1u, vocab / 2);
    std::vector<int32_t> ids(size_t(depth) + tokens);
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = int32_t(vocab / 4 + (i * 7919) % span);
    return ids;
  }

  // Streams text (complete UTF-8, stop strings held back) to `on_text`.
  GenerationStats run_text(std::vector<int32_t> tokens, const GenerateOptions& options, const TextCallback& on_text) {
    return run(std::move(tokens), options, [&](const RequestUpdate& u) { return u.text.empty() || on_text(u.text); });
  }

  // The single-request calls are the request API used synchronously: one
  // request on the engine thread, batched with whatever else runs, waited
  // for here. A turn that repeats an earlier prompt (chat) gets its full KV
  // blocks from the prefix cache. `on_update` returning false cancels.
  GenerationStats run(std::vector<int32_t> tokens, const GenerateOptions& options,
                      const std::function<bool(const RequestUpdate&)>& on_update) {
    if (const std::string bad = check_sampling_params(options.sampling); !bad.empty()) throw Error(bad);
    check_fits(tokens.size());
    auto stop = std::make_shared<std::atomic<bool>>(false);
    GenerateOptions o = options;
    o.cancel_requested = [stop, asked = options.cancel_requested] { return stop->load() || (asked && asked()); };
    // on_update is only called before wait() returns: the reference stays valid.
    const RequestId id = loop().submit(std::move(tokens), o, [&on_update, stop](const RequestUpdate& u) {
      if (!stop->load() && !on_update(u)) stop->store(true);
    });
    RequestResult r = loop().wait(id);
    if (!r.error.empty()) throw Error(r.error);
    return r.stats;
  }

  // Sequence 0 is the scoring calls' (logits, token_nll, bench timing).
  void reset_locked() { runner_->release(kMainSequence); }

  // The engine thread starts with the first request.
  RequestLoop& loop() {
    std::call_once(loop_started_, [&] {
      SchedulerOptions o;
      o.batch_tokens = std::min(batch_tokens_, runner_->step_tokens());
      o.max_running = parallel_;
      o.context = runner_->context();
      const auto eos = tokenizer_->eos_id();
      loop_ = std::make_unique<RequestLoop>(*runner_, *tokenizer_, runner_mutex_, o,
                                            [this, eos](int32_t t) { return (eos && t == *eos) || is_end_of_turn(t); });
    });
    return *loop_;
  }

  // Chat models end a turn with their own token (<|im_end|>, <|eot_id|>).
  bool is_end_of_turn(int32_t id) const {
    if (!tokenizer_->is_control(id)) return false;
    const std::string& piece = tokenizer_->piece(id);
    return piece == "<|im_end|>" || piece == "<|eot_id|>" || piece == "<|endoftext|>" || piece == "</s>";
  }

  std::unique_ptr<Model> model_;
  std::unique_ptr<tok::Tokenizer> tokenizer_;
  tok::ChatFormatter chat_formatter_;
  std::string template_warning_;
  std::unique_ptr<vk::Context> ctx_;
  std::unique_ptr<ModelRunner> runner_;
  double load_ms_ = 0;
  std::string load_report_;
  uint32_t parallel_ = 1, batch_tokens_ = 512;
  // The runner is shared by the single-request calls (sequence 0, caller's
  // thread) and the request loop (its own thread); each holds this while it
  // uses the runner.
  mutable std::mutex runner_mutex_;
  std::once_flag loop_started_;
  std::unique_ptr<RequestLoop> loop_;  // declared last: stopped before the runner goes
};

}  // namespace

std::unique_ptr<Engine> Engine::open(const std::string& model_path, const EngineOptions& options) {
  return std::make_unique<EngineImpl>(model_path, options);
}

}  // namespace vkmind
