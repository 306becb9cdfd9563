#include "server/completions.h"

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <random>

#include "runtime/vk/error.h"
#include "server/openai_api.h"

namespace vkmind::server {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

bool InFlight::reserve(uint32_t n, uint64_t limit) {
  std::lock_guard lock(mutex_);
  if (ids_.size() + reserved_ + n > limit) return false;
  reserved_ += n;
  return true;
}
void InFlight::add(RequestId id) {
  std::lock_guard lock(mutex_);
  --reserved_;
  ids_.insert(id);
}
void InFlight::remove(RequestId id) {
  std::lock_guard lock(mutex_);
  ids_.erase(id);
}
uint64_t InFlight::count() const {
  std::lock_guard lock(mutex_);
  return ids_.size() + reserved_;
}
void InFlight::cancel_all(Engine& engine) const {
  std::lock_guard lock(mutex_);
  for (RequestId id : ids_) engine.cancel(id);
}

void send_error(httplib::Response& res, int status, const std::string& message, const std::string& type,
                const std::string& param, const std::string& code) {
  res.status = status;
  res.set_content(error_body(ApiError(status, message, type, param, code)).dump(), "application/json");
}

namespace {

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// One HTTP request's engine requests (one per choice) and what they report.
// Engine callbacks fill it on the engine thread; the HTTP worker drains it.
struct Generation {
  struct Event {
    uint32_t choice;
    std::string text;
    bool finished;
    int32_t token;  // -1 on the final event
    float logprob;
    std::vector<TokenLogprob> top;
  };
  Engine& engine;
  Metrics& metrics;
  InFlight& in_flight;
  std::vector<RequestId> ids;  // per choice; 0 until submitted
  std::vector<bool> collected;
  // Choices after the first are submitted once the first has its prompt in
  // the KV cache (its first update), so they take its blocks from the prefix
  // cache instead of computing the same prompt n times.
  std::function<void()> submit_rest;
  std::once_flag rest_submitted;
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<Event> events;
  std::vector<Clock::time_point> last_token;

  Generation(Engine& e, Metrics& m, InFlight& f, uint32_t n)
      : engine(e), metrics(m), in_flight(f), ids(n, 0), collected(n, false), last_token(n) {}

  void set_id(uint32_t choice, RequestId id) {
    std::lock_guard lock(mutex);
    ids[choice] = id;
    changed.notify_all();
  }
  RequestId id_of(uint32_t choice) {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return ids[choice] != 0; });
    return ids[choice];
  }

  RequestCallback callback(uint32_t choice) {
    return [this, choice](const RequestUpdate& u) {
      const auto now = Clock::now();
      if (u.token >= 0) {  // last_token[choice] is this choice's callbacks' alone
        if (last_token[choice] != Clock::time_point{}) {
          metrics.inter_token(std::chrono::duration<double>(now - last_token[choice]).count());
        }
        last_token[choice] = now;
      }
      {
        std::lock_guard lock(mutex);
        events.push_back({choice, u.text, u.finished, u.token, u.logprob, u.top_logprobs});
        changed.notify_all();
      }
      if (choice == 0 && submit_rest) std::call_once(rest_submitted, submit_rest);
    };
  }

  // The finished request's result; each choice is collected once.
  RequestResult collect(uint32_t choice) {
    const RequestId id = id_of(choice);
    RequestResult r = engine.wait(id);
    collected[choice] = true;
    in_flight.remove(id);
    if (r.error.empty()) {
      metrics.generation_done(r.stats);
      if (r.stats.generated_tokens > 0) metrics.time_to_first_token(r.stats.time_to_first_token_ms / 1000.0);
    }
    return r;
  }

  // Whatever is not collected yet: cancelled (the client left) and collected.
  void abandon() {
    for (uint32_t i = 0; i < ids.size(); ++i) {
      if (!collected[i]) {
        engine.cancel(id_of(i));  // choice 0's end has submitted the others
        collect(i);
      }
    }
  }
};

TokenInfo token_info(Engine& engine, const Generation::Event& e) {
  auto text = [&](int32_t id) { return engine.detokenize(std::span<const int32_t>(&id, 1)); };
  TokenInfo t{text(e.token), e.logprob, {}};
  for (const TokenLogprob& alt : e.top) t.top.emplace_back(text(alt.token), alt.logprob);
  return t;
}

Usage usage_of(const std::vector<RequestResult>& results) {
  Usage u;
  if (results.empty()) return u;
  u.prompt_tokens = results[0].stats.prompt_tokens;
  u.cached_tokens = results[0].stats.cached_prompt_tokens;
  for (const auto& r : results) u.completion_tokens += r.stats.generated_tokens;
  return u;
}

std::string response_id(bool chat) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s-%016llx", chat ? "chatcmpl" : "cmpl", (unsigned long long)rng());
  return buf;
}

// Prompt tokens, checked against what the engine can hold.
std::vector<int32_t> prompt_tokens(Engine& engine, const CompletionRequest& r) {
  std::vector<int32_t> tokens;
  try {
    if (r.chat) tokens = engine.chat_tokens(r.messages);
    else if (r.prompt_text) tokens = engine.tokenize(*r.prompt_text, engine.default_add_bos(), true);
    else tokens = r.prompt_ids;
  } catch (const Error& e) {
    throw ApiError(400, e.what(), "invalid_request_error", r.chat ? "messages" : "prompt");
  }
  const char* param = r.chat ? "messages" : "prompt";
  if (tokens.empty()) throw ApiError(400, "the prompt is empty (no tokens)", "invalid_request_error", param);
  for (int32_t t : tokens) {
    if (t < 0 || uint32_t(t) >= engine.vocab_size()) {
      throw ApiError(400, "token id " + std::to_string(t) + " is outside the vocabulary of " +
                              std::to_string(engine.vocab_size()) + " tokens",
                     "invalid_request_error", param);
    }
  }
  const uint32_t capacity = engine.token_capacity();
  if (tokens.size() >= capacity) {
    throw ApiError(400,
                   "the prompt has " + std::to_string(tokens.size()) + " tokens; this model's context holds " +
                       std::to_string(capacity) + " tokens, with room needed for at least one generated token",
                   "invalid_request_error", param, "context_length_exceeded");
  }
  const int32_t max_tokens = r.options.max_tokens;
  if (max_tokens >= 0 && tokens.size() + size_t(max_tokens) > capacity) {
    throw ApiError(400,
                   "max_tokens " + std::to_string(max_tokens) + " with a prompt of " + std::to_string(tokens.size()) +
                       " tokens exceeds the context of " + std::to_string(capacity) + " tokens (at most " +
                       std::to_string(capacity - tokens.size()) + ")",
                   "invalid_request_error", "max_tokens", "context_length_exceeded");
  }
  return tokens;
}

void respond_whole(Generation& g, const CompletionRequest& r, const ResponseIds& ids, httplib::Response& res,
                   uint64_t& tokens_out) {
  std::vector<RequestResult> results;
  for (uint32_t i = 0; i < g.ids.size(); ++i) results.push_back(g.collect(i));
  std::vector<Choice> choices;
  for (const auto& result : results) {
    if (!result.error.empty()) return send_error(res, 500, result.error, "server_error");
    choices.push_back({result.text, finish_reason(result.stats.stop_reason), nullptr});
  }
  if (r.logprobs >= 0) {
    std::vector<std::vector<TokenInfo>> tokens(choices.size());
    for (const Generation::Event& e : g.events) {
      if (e.token >= 0) tokens[e.choice].push_back(token_info(g.engine, e));
    }
    for (size_t i = 0; i < choices.size(); ++i) choices[i].logprobs = logprobs_json(r.chat, tokens[i]);
  }
  const Usage u = usage_of(results);
  tokens_out = u.completion_tokens;
  res.set_content(dump(completion_json(r.chat, ids, choices, u)), "application/json");
}

void respond_stream(std::shared_ptr<Generation> g, const CompletionRequest& r, const ResponseIds& ids,
                    httplib::Response& res, uint64_t* tokens_out) {
  auto results = std::make_shared<std::vector<RequestResult>>(g->ids.size());
  auto started = std::make_shared<bool>(false);
  auto finished = std::make_shared<uint32_t>(0);
  const bool chat = r.chat, include_usage = r.include_usage, logprobs = r.logprobs >= 0;
  auto offsets = std::make_shared<std::vector<size_t>>(g->ids.size(), 0);  // completions' text_offset
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [g, results, started, finished, chat, include_usage, logprobs, offsets, ids, tokens_out](size_t,
                                                                                               httplib::DataSink& sink) {
        auto send = [&](const json& j) {
          const std::string event = "data: " + dump(j) + "\n\n";
          return sink.write(event.data(), event.size());
        };
        if (!*started) {  // the role first, as OpenAI does, before any text
          *started = true;
          for (uint32_t i = 0; chat && i < g->ids.size(); ++i) {
            if (!send(chunk_json(true, ids, i, "", std::nullopt, true))) return false;
          }
        }
        std::deque<Generation::Event> batch;
        {
          std::unique_lock lock(g->mutex);
          // A comment line now and then: a client that went away shows up as a failed write.
          if (!g->changed.wait_for(lock, std::chrono::seconds(1), [&] { return !g->events.empty(); })) {
            lock.unlock();
            return sink.write(": keep-alive\n\n", 14);
          }
          batch.swap(g->events);
        }
        for (Generation::Event& e : batch) {
          if (logprobs && e.token >= 0) {  // every token gets its chunk, text or not
            const json lp = logprobs_json(chat, {token_info(g->engine, e)}, (*offsets)[e.choice]);
            (*offsets)[e.choice] += e.text.size();
            if (!send(chunk_json(chat, ids, e.choice, e.text, std::nullopt, false, lp))) return false;
          } else if (!e.text.empty() && !send(chunk_json(chat, ids, e.choice, e.text, std::nullopt, false))) {
            return false;
          }
          if (!e.finished) continue;
          RequestResult& result = (*results)[e.choice] = g->collect(e.choice);
          if (!result.error.empty()) {
            send(error_body(ApiError(500, result.error, "server_error")));
          } else if (!send(chunk_json(chat, ids, e.choice, "", finish_reason(result.stats.stop_reason), false))) {
            return false;
          }
          *tokens_out += result.stats.generated_tokens;
          if (++*finished < g->ids.size()) continue;
          if (include_usage && !send(usage_chunk_json(chat, ids, usage_of(*results)))) return false;
          const std::string done = "data: [DONE]\n\n";
          if (!sink.write(done.data(), done.size())) return false;
          sink.done();
          return true;
        }
        return true;
      },
      // Called however the response ended: a client gone mid-stream cancels the rest.
      [g](bool) { g->abandon(); });
}

}  // namespace

void handle_completion(const CompletionContext& ctx, const httplib::Request& req, httplib::Response& res, bool chat,
                       uint64_t& tokens_out) {
  CompletionRequest r;
  std::vector<int32_t> tokens;
  try {
    r = parse_completion_request(req.body, chat, ctx.options.defaults);
    if (!r.model.empty() && r.model != ctx.options.model_id) {
      throw ApiError(404, "the model '" + r.model + "' does not exist; this server serves '" + ctx.options.model_id + "'",
                     "invalid_request_error", "model", "model_not_found");
    }
    tokens = prompt_tokens(ctx.engine, r);
  } catch (const ApiError& e) {
    return send_error(res, e.status, e.what(), e.type, e.param, e.code);
  }
  if (!ctx.in_flight.reserve(r.n, uint64_t(ctx.options.parallel) + ctx.options.max_queue)) {
    res.set_header("Retry-After", "1");
    return send_error(res, 429,
                      "the server is at capacity (" + std::to_string(ctx.options.parallel) + " running and " +
                          std::to_string(ctx.options.max_queue) + " queued, --max-queue): retry later",
                      "rate_limit_error", "", "server_busy");
  }
  const uint64_t seed = r.seed ? *r.seed : std::random_device{}() | (uint64_t(std::random_device{}()) << 32);

  auto g = std::make_shared<Generation>(ctx.engine, ctx.metrics, ctx.in_flight, r.n);
  // The server's engine and queue outlive every request (not `ctx`, a temporary).
  auto submit = [&engine = ctx.engine, &in_flight = ctx.in_flight, tokens,
                 options = r.options, seed](Generation& gen, uint32_t i) {
    GenerateOptions o = options;
    o.sampling.seed = seed + i;  // n choices: different draws over one shared prompt
    const RequestId id = engine.submit(tokens, o, gen.callback(i));
    in_flight.add(id);
    gen.set_id(i, id);
  };
  // Runs on the engine thread (choice 0's first update); the Generation
  // outlives it: every choice is collected before it goes.
  if (r.n > 1) {
    Generation* raw = g.get();
    g->submit_rest = [raw, submit, n = r.n] {
      for (uint32_t i = 1; i < n; ++i) submit(*raw, i);
    };
  }
  submit(*g, 0);
  const ResponseIds ids{response_id(chat), int64_t(std::time(nullptr)), ctx.options.model_id};
  if (r.stream) respond_stream(g, r, ids, res, &tokens_out);
  else respond_whole(*g, r, ids, res, tokens_out);
}

}  // namespace vkmind::server
