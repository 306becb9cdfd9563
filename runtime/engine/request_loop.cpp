#include "runtime/engine/request_loop.h"

#include <algorithm>
#include <chrono>

#include "model/tokenizer/stream_decoder.h"
#include "model/tokenizer/tokenizer.h"
#include "runtime/engine/model_runner.h"
#include "runtime/engine/stop_matcher.h"
#include "runtime/sampler/sampler.h"
#include "runtime/vk/error.h"

namespace vkmind {

namespace {
using Clock = std::chrono::steady_clock;
double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}
}  // namespace

struct RequestLoop::Live {
  RequestId id;
  std::vector<int32_t> prompt;
  GenerateOptions options;
  RequestCallback on_update;
  Sampler sampler;
  tok::StreamDecoder stream;
  StopMatcher stops;
  RequestResult result;
  Clock::time_point submitted = Clock::now(), scheduled, first_token, last_token;
  bool started = false;
  // SentencePiece marks a word start with a space; right after BOS it is the
  // dummy prefix, which decoders drop (as llama2.c and HF do).
  bool strip_space = false;
  double prefill_setup_ms = 0, decode_setup_ms = 0;  // graph recording during this request's steps
  std::vector<std::pair<int32_t, float>> top;         // token_logprobs' scratch

  // Text as the client gets it: the dummy prefix space dropped.
  std::string shown(std::string text) {
    if (strip_space && !text.empty()) {
      if (text[0] == ' ') text.erase(0, 1);
      strip_space = false;
    }
    return text;
  }

  Live(RequestId i, std::vector<int32_t> p, const GenerateOptions& o, RequestCallback cb, const tok::Tokenizer& tok,
       uint32_t context)
      : id(i), prompt(std::move(p)), options(o), on_update(std::move(cb)), sampler(o.sampling), stream(tok),
        stops(o.stop) {
    result.id = id;
    strip_space = tok.kind_name() == "SentencePiece BPE" && !prompt.empty() && tok.bos_id() &&
                  prompt.back() == *tok.bos_id();
    result.tokens.reserve(o.max_tokens >= 0 ? std::min<size_t>(size_t(o.max_tokens), context) : context);
    result.stats.prompt_tokens = uint32_t(prompt.size());
    result.stats.seed = o.sampling.seed;
  }
};

RequestLoop::RequestLoop(ModelRunner& runner, const tok::Tokenizer& tokenizer, std::mutex& runner_mutex,
                         const SchedulerOptions& options, std::function<bool(int32_t)> is_end)
    : runner_(runner),
      tokenizer_(tokenizer),
      runner_mutex_(runner_mutex),
      is_end_(std::move(is_end)),
      scheduler_(runner.blocks(), options),
      thread_([this] { run(); }) {}

RequestLoop::~RequestLoop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

RequestId RequestLoop::submit(std::vector<int32_t> prompt, const GenerateOptions& options, RequestCallback on_update) {
  std::lock_guard lock(mutex_);
  const RequestId id = next_id_++;
  incoming_.push_back(std::make_unique<Live>(id, std::move(prompt), options, std::move(on_update), tokenizer_,
                                             runner_.context()));
  wake_.notify_all();
  return id;
}

RequestId RequestLoop::refuse(const std::string& error) {
  std::lock_guard lock(mutex_);
  const RequestId id = next_id_++;
  RequestResult r;
  r.id = id;
  r.error = error;
  r.stats.stop_reason = "error";
  finished_[id] = std::move(r);
  done_.notify_all();
  return id;
}

void RequestLoop::cancel(RequestId id) {
  {
    std::lock_guard lock(mutex_);
    cancels_.push_back(id);
  }
  wake_.notify_all();
}

RequestResult RequestLoop::wait(RequestId id) {
  std::unique_lock lock(mutex_);
  if (id == 0 || id >= next_id_) throw Error("wait: no request " + std::to_string(id));
  done_.wait(lock, [&] { return finished_.count(id) != 0; });
  RequestResult r = std::move(finished_.at(id));
  finished_.erase(id);
  return r;
}

void RequestLoop::admit(std::vector<std::unique_ptr<Live>>& incoming, const std::vector<RequestId>& cancels) {
  for (auto& r : incoming) {
    std::string bad = check_sampling_params(r->options.sampling);
    for (int32_t t : r->prompt) {
      if (bad.empty() && (t < 0 || uint32_t(t) >= runner_.vocab_size())) {
        bad = "token id " + std::to_string(t) + " is outside the vocabulary of " + std::to_string(runner_.vocab_size()) +
              " tokens";
      }
    }
    if (bad.empty()) {
      try {
        scheduler_.add(r->id, r->prompt);
      } catch (const Error& e) {
        bad = e.what();
      }
    }
    Live& live = *r;
    live_.emplace(r->id, std::move(r));
    if (!bad.empty()) {
      live.result.error = bad;
      finish(live, "error");
    }
  }
  incoming.clear();
  for (RequestId id : cancels) {
    auto it = live_.find(id);
    if (it != live_.end()) finish(*it->second, "cancelled");
  }
}

void RequestLoop::finish(Live& r, const std::string& reason) {
  const std::string tail =
      r.stops.stopped() ? std::string() : r.shown(r.stops.push(r.stream.flush()) + r.stops.flush());
  r.result.text += tail;
  GenerationStats& st = r.result.stats;
  st.stop_reason = reason;
  st.generated_tokens = uint32_t(r.result.tokens.size());
  if (r.started) {
    r.result.queue_ms = ms_between(r.submitted, r.scheduled);
    st.setup_ms = r.prefill_setup_ms + r.decode_setup_ms;
    if (st.generated_tokens > 1) {
      const double ms = ms_between(r.first_token, r.last_token) - r.decode_setup_ms;
      if (ms > 0) st.decode_tokens_per_s = (st.generated_tokens - 1) / (ms / 1000.0);
    }
  }
  if (r.on_update) r.on_update(RequestUpdate{r.id, -1, tail, true});
  scheduler_.cancel(r.id);  // frees its blocks (no-op when already gone)
  const RequestId id = r.id;
  {
    std::lock_guard lock(mutex_);
    finished_[id] = std::move(r.result);
  }
  live_.erase(id);  // r is gone from here on
  done_.notify_all();
}

bool RequestLoop::samples_from_top(const Live& r) const {
  // Log-probabilities are normalised over the whole row.
  return r.options.logprobs < 0 && r.sampler.samples_from_top(runner_.top_count(), runner_.vocab_size());
}

void RequestLoop::on_sample(Live& r, std::span<const float> logits, std::optional<uint32_t> top) {
  auto& st = r.result.stats;
  const auto now = Clock::now();
  if (r.result.tokens.empty()) {
    st.time_to_first_token_ms = ms_between(r.submitted, now);
    const double prefill_ms = ms_between(r.scheduled, now) - r.prefill_setup_ms;
    const uint32_t computed = st.prompt_tokens - st.cached_prompt_tokens;
    if (prefill_ms > 0) st.prefill_tokens_per_s = computed / (prefill_ms / 1000.0);
  }
  const int32_t max_tokens = r.options.max_tokens;
  if (max_tokens >= 0 && r.result.tokens.size() >= size_t(max_tokens)) return finish(r, "max tokens");
  std::optional<int32_t> from_top;
  if (top) from_top = r.sampler.sample_top(runner_.top_logits(*top), logits.size());
  // prompt + generated: what penalties see
  const int32_t next = from_top ? *from_top : r.sampler.sample(logits, scheduler_.tokens(r.id));
  if (!r.options.ignore_eos && is_end_(next)) return finish(r, "eos");
  if (r.result.tokens.empty()) r.first_token = now;
  r.last_token = now;
  r.result.tokens.push_back(next);
  const std::string text = r.shown(r.stops.push(r.stream.push(next)));
  r.result.text += text;
  if (r.on_update) {
    RequestUpdate u{r.id, next, text, false};
    if (r.options.logprobs >= 0) {
      u.logprob = token_logprobs(logits, next, uint32_t(std::min(r.options.logprobs, 20)), r.top);
      for (const auto& [id, lp] : r.top) u.top_logprobs.push_back({id, lp});
    }
    r.on_update(u);
  }
  if (r.stops.stopped()) return finish(r, "stop string");
  if (r.options.cancel_requested && r.options.cancel_requested()) return finish(r, "cancelled");
  // Done now rather than after one more step, whose token would be thrown away.
  if (max_tokens >= 0 && r.result.tokens.size() >= size_t(max_tokens)) return finish(r, "max tokens");
  // The sequence cannot hold another token: the context, or a smaller pool.
  if (r.prompt.size() + r.result.tokens.size() >= runner_.token_capacity()) return finish(r, "context full");
  scheduler_.append_token(r.id, next);
}

void RequestLoop::run() {
  // Callbacks run with no lock held, so they may call submit or cancel.
  std::vector<StepEntry> entries;
  std::vector<std::unique_ptr<Live>> incoming;
  std::vector<RequestId> cancels;
  bool idle_step = false;
  while (true) {
    bool stopping = false;
    {
      std::unique_lock lock(mutex_);
      auto ready = [&] { return stopping_ || !incoming_.empty() || !cancels_.empty() || scheduler_.has_work(); };
      // After a step that could admit nothing (the single-request calls hold
      // the blocks), look again soon rather than spin.
      if (idle_step) wake_.wait_for(lock, std::chrono::milliseconds(5), ready);
      else wake_.wait(lock, ready);
      stopping = stopping_;
      incoming.swap(incoming_);
      cancels.swap(cancels_);
    }
    admit(incoming, cancels);
    cancels.clear();
    if (stopping) {
      while (!live_.empty()) finish(*live_.begin()->second, "cancelled");
      return;
    }
    // A request asked to stop ends before its next step, so that a long
    // prompt can be cancelled between prefill chunks.
    for (auto it = live_.begin(); it != live_.end();) {
      Live& r = *(it++)->second;  // advanced first: finish() erases r
      if (r.options.cancel_requested && r.options.cancel_requested()) finish(r, "cancelled");
    }
    std::unique_lock runner_lock(runner_mutex_);
    const ScheduledStep& step = scheduler_.schedule();
    for (RequestId id : step.exhausted) {
      if (auto it = live_.find(id); it != live_.end()) finish(*it->second, "context full");
    }
    idle_step = step.empty();
    if (idle_step) continue;
    entries.clear();
    for (const ScheduledEntry& e : step.entries) {
      Live& r = *live_.at(e.id);
      if (!r.started) {
        r.started = true;
        r.scheduled = Clock::now();
        r.result.stats.cached_prompt_tokens = scheduler_.cached_tokens(e.id);
      }
      const uint32_t start = uint32_t(e.tokens.data() - scheduler_.tokens(e.id).data());
      const Logits want = !e.samples ? Logits::None : samples_from_top(r) ? Logits::Top : Logits::Last;
      entries.push_back({e.seq, e.tokens, want, start});
    }
    std::span<const float> logits;
    std::string failure;
    try {
      logits = runner_.step(entries);
    } catch (const std::exception& e) {
      failure = e.what();
    }
    scheduler_.complete_step();
    // Graph recording (a step shape's first use) is kept out of the rates.
    const double setup_ms = runner_.take_setup_ms();
    runner_lock.unlock();
    if (setup_ms > 0) {
      for (const ScheduledEntry& e : step.entries) {
        if (auto it = live_.find(e.id); it != live_.end()) {
          Live& r = *it->second;
          (r.result.tokens.empty() ? r.prefill_setup_ms : r.decode_setup_ms) += setup_ms;
        }
      }
    }
    const size_t V = runner_.vocab_size();
    size_t row = 0;
    uint32_t top = 0;
    for (size_t i = 0; i < step.entries.size(); ++i) {
      const ScheduledEntry& e = step.entries[i];
      // Rows and Top entries are counted whether or not their request is still live.
      const Logits want = entries[i].logits;
      const size_t index = want == Logits::Top ? top++ : want == Logits::Last ? row++ : 0;
      auto it = live_.find(e.id);
      if (it == live_.end()) continue;
      if (!failure.empty()) {
        it->second->result.error = failure;
        finish(*it->second, "error");
        continue;
      }
      if (want == Logits::Top) on_sample(*it->second, runner_.top_row(uint32_t(index)), uint32_t(index));
      if (want == Logits::Last) on_sample(*it->second, logits.subspan(index * V, V), std::nullopt);
    }
  }
}

}  // namespace vkmind
