// The Engine: tokenizer + model runner + sampler, and the generation loop
// (prefill, decode, streaming, stop conditions, statistics).
#include "include/vkmind/engine.h"

#include <chrono>
#include <algorithm>
#include <cmath>
#include <map>
#include <cstdio>

#include "model/model_desc.h"
#include "model/tokenizer/chat_template.h"
#include "model/tokenizer/stream_decoder.h"
#include "model/tokenizer/tokenizer.h"
#include "runtime/engine/model_runner.h"
#include "runtime/engine/stop_matcher.h"
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
    model_ = Model::open(path);
    tokenizer_ = tok::load_tokenizer(path);
    for (const auto& w : tokenizer_->warnings()) std::fprintf(stderr, "vkmind: warning: %s\n", w.c_str());
    auto detected = tok::detect_chat_template(tokenizer_->chat_template());
    chat_template_ = detected.tmpl;
    template_warning_ = detected.warning;
    ctx_ = std::make_unique<vk::Context>(vk::ContextOptions{options.device, options.validation});

    RunnerOptions runner;
    const uint32_t model_context = model_->desc().context_length;
    runner.context = options.context ? options.context : std::min<uint32_t>(model_context ? model_context : 4096, 4096);
    runner.kv_type = options.kv_type;
    runner.kv_block_size = options.kv_block_size;
    runner.kv_blocks = options.kv_blocks;
    runner.prefill_chunk = options.prefill_chunk;
    runner_ = std::make_unique<ModelRunner>(*ctx_, *model_, runner);
  }

  GenerationStats generate(const std::string& prompt, const GenerateOptions& options,
                           const TextCallback& on_text) override {
    reset();
    auto tokens = tokenize(prompt, options.add_bos, options.parse_special);
    return run_text(tokens, options, on_text);
  }

  GenerationStats generate_ids(std::span<const int32_t> prompt, const GenerateOptions& options,
                               const std::function<bool(int32_t)>& on_token) override {
    reset();
    check_tokens(prompt);
    return run(std::vector<int32_t>(prompt.begin(), prompt.end()), options, on_token);
  }

  GenerationStats chat(const std::vector<ChatMessage>& messages, const GenerateOptions& options,
                       const TextCallback& on_text) override {
    if (!template_warning_.empty()) {
      std::fprintf(stderr, "vkmind: warning: %s\n", template_warning_.c_str());
      template_warning_.clear();
    }
    std::vector<tok::ChatMessage> turns;
    for (const auto& m : messages) turns.push_back({m.role, m.content});
    std::string text = tok::render_chat(chat_template_, turns, tok::ChatOptions{});
    // The rendered text carries BOS itself where the family wants one.
    auto tokens = tokenizer_->encode(text, false, true);
    return run_text(tokens, options, on_text);
  }

  void reset() override {
    runner_->release(kMainSequence);
    cached_.clear();
  }

  std::vector<float> logits(std::span<const int32_t> tokens) override {
    reset();
    check_tokens(tokens);
    check_fits(tokens.size());
    auto out = runner_->forward(kMainSequence, tokens);
    std::vector<float> result(out.begin(), out.end());
    reset();
    return result;
  }

  std::vector<double> token_nll(std::span<const int32_t> tokens,
                                const std::function<void(size_t, size_t)>& progress) override {
    check_tokens(tokens);
    std::vector<double> nll(tokens.size(), 0.0);
    const size_t window = context_length();
    const uint32_t vocab = vocab_size();
    for (size_t start = 0; start + 1 < tokens.size(); start += window) {
      reset();
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
    reset();
    return nll;
  }

  std::vector<int32_t> tokenize(const std::string& text, bool add_bos, bool parse_special) const override {
    return tokenizer_->encode(text, add_bos, parse_special);
  }
  std::string detokenize(std::span<const int32_t> tokens) const override { return tokenizer_->decode(tokens); }
  uint32_t context_length() const override { return runner_->context(); }
  uint32_t vocab_size() const override { return runner_->vocab_size(); }
  std::string description() const override {
    return model_->desc().architecture + " " + std::to_string(model_->desc().n_layers) + " layers, " +
           std::to_string(model_->desc().hidden) + " hidden on " + ctx_->device().report().name;
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

 private:
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
    if (n >= context_length()) {
      throw Error("the prompt has " + std::to_string(n) + " tokens, which does not fit the context of " +
                  std::to_string(context_length()) + " tokens (--ctx)");
    }
  }

  // Streams text: tokens become UTF-8 pieces, stop strings end the turn.
  GenerationStats run_text(const std::vector<int32_t>& tokens, const GenerateOptions& options,
                           const TextCallback& on_text) {
    tok::StreamDecoder stream(*tokenizer_);
    StopMatcher stops(options.stop);
    bool keep_going = true;
    // SentencePiece marks a word start with a space; right after BOS it is
    // the dummy prefix, which decoders drop (as llama2.c and HF do).
    bool strip_space = tokenizer_->kind_name() == "SentencePiece BPE" && !tokens.empty() &&
                       tokenizer_->bos_id() && tokens.back() == *tokenizer_->bos_id();
    auto emit = [&](std::string text) {
      if (strip_space && !text.empty()) {
        if (text[0] == ' ') text.erase(0, 1);
        strip_space = false;
      }
      if (!text.empty() && keep_going && !on_text(text)) keep_going = false;
    };
    auto stats = run(tokens, options, [&](int32_t id) {
      emit(stops.push(stream.push(id)));
      return keep_going && !stops.stopped();
    });
    if (stops.stopped()) {
      stats.stop_reason = "stop string";
    } else {
      emit(stops.push(stream.flush()) + stops.flush());
    }
    return stats;
  }

  // Feeds `tokens` (reusing the cached prefix they share with the previous
  // turn), then samples until a stop condition.
  GenerationStats run(const std::vector<int32_t>& tokens, const GenerateOptions& options,
                      const std::function<bool(int32_t)>& on_token) {
    check_fits(tokens.size());
    size_t shared = 0;
    while (shared < cached_.size() && shared < tokens.size() && cached_[shared] == tokens[shared]) ++shared;
    if (shared == tokens.size()) --shared;  // recompute the last token for its logits
    runner_->truncate(kMainSequence, uint32_t(shared));
    cached_.resize(shared);

    GenerationStats stats;
    stats.prompt_tokens = uint32_t(tokens.size());
    Sampler sampler(options.sampling);
    std::vector<int32_t> history = tokens;

    const auto start = Clock::now();
    std::span<const int32_t> fresh(tokens.data() + shared, tokens.size() - shared);
    std::span<const float> logits = runner_->forward(kMainSequence, fresh);
    cached_ = tokens;
    stats.time_to_first_token_ms = ms_since(start);
    stats.prefill_tokens_per_s = double(fresh.size()) / (stats.time_to_first_token_ms / 1000.0);

    const auto decode_start = Clock::now();
    const auto eos = tokenizer_->eos_id();
    while (true) {
      if (options.max_tokens >= 0 && stats.generated_tokens >= uint32_t(options.max_tokens)) {
        stats.stop_reason = "max tokens";
        break;
      }
      const int32_t next = sampler.sample(logits, history);
      if (!options.ignore_eos && ((eos && next == *eos) || is_end_of_turn(next))) {
        stats.stop_reason = "eos";
        break;
      }
      ++stats.generated_tokens;
      history.push_back(next);
      if (!on_token(next)) {
        stats.stop_reason = "cancelled";
        break;
      }
      if (cached_.size() + 1 >= context_length()) {
        stats.stop_reason = "context full";
        break;
      }
      logits = runner_->forward(kMainSequence, std::span<const int32_t>(&next, 1));
      cached_.push_back(next);
    }
    const double decode_ms = ms_since(decode_start);
    if (stats.generated_tokens > 1 && decode_ms > 0) {
      stats.decode_tokens_per_s = double(stats.generated_tokens - 1) / (decode_ms / 1000.0);
    }
    return stats;
  }

  // Chat models end a turn with their own token (<|im_end|>, <|eot_id|>).
  bool is_end_of_turn(int32_t id) const {
    if (!tokenizer_->is_control(id)) return false;
    const std::string& piece = tokenizer_->piece(id);
    return piece == "<|im_end|>" || piece == "<|eot_id|>" || piece == "<|endoftext|>" || piece == "</s>";
  }

  std::unique_ptr<Model> model_;
  std::unique_ptr<tok::Tokenizer> tokenizer_;
  tok::ChatTemplate chat_template_;
  std::string template_warning_;
  std::unique_ptr<vk::Context> ctx_;
  std::unique_ptr<ModelRunner> runner_;
  std::vector<int32_t> cached_;  // tokens held in the KV cache of the main sequence
};

}  // namespace

std::unique_ptr<Engine> Engine::open(const std::string& model_path, const EngineOptions& options) {
  return std::make_unique<EngineImpl>(model_path, options);
}

}  // namespace vkmind
