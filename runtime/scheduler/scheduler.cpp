#include "runtime/scheduler/scheduler.h"

#include <algorithm>
#include <string>

#include "runtime/vk/error.h"

namespace vkmind {

Scheduler::Scheduler(BlockManager& blocks, const SchedulerOptions& options) : blocks_(blocks), opt_(options) {
  if (opt_.batch_tokens == 0 || opt_.max_running == 0 || opt_.context == 0) {
    throw Error("scheduler: batch tokens, running sequences and context must be positive");
  }
}

void Scheduler::add(RequestId id, std::vector<int32_t> prompt) {
  if (prompt.empty()) throw Error("request " + std::to_string(id) + ": the prompt is empty");
  const uint64_t need = uint64_t(prompt.size()) + 1;
  if (need > opt_.context) {
    throw Error("request " + std::to_string(id) + ": a prompt of " + std::to_string(prompt.size()) +
                " tokens leaves no room in the context of " + std::to_string(opt_.context) + " tokens");
  }
  if (blocks_.blocks_for(uint32_t(need)) > blocks_.total_blocks()) {
    throw Error("request " + std::to_string(id) + ": a prompt of " + std::to_string(prompt.size()) +
                " tokens needs " + std::to_string(blocks_.blocks_for(uint32_t(need))) + " KV blocks, the whole pool has " +
                std::to_string(blocks_.total_blocks()) + " (--kv-blocks)");
  }
  // Room for the whole context: generated tokens append without allocating,
  // and the spans a step hands out stay valid.
  prompt.reserve(opt_.context);
  waiting_.push_back(State{id, std::move(prompt)});
}

void Scheduler::cancel(RequestId id) {
  if (auto it = running_.find(id); it != running_.end()) {
    blocks_.release(it->second.seq);
    running_.erase(it);
    return;
  }
  auto it = std::find_if(waiting_.begin(), waiting_.end(), [&](const State& s) { return s.id == id; });
  if (it != waiting_.end()) waiting_.erase(it);
}

bool Scheduler::is_running(RequestId id) const { return running_.count(id) != 0; }

uint32_t Scheduler::cached_tokens(RequestId id) const {
  auto it = running_.find(id);
  return it == running_.end() ? 0 : it->second.cached;
}

std::span<const int32_t> Scheduler::tokens(RequestId id) const {
  if (auto it = running_.find(id); it != running_.end()) return it->second.tokens;
  for (const State& s : waiting_) {
    if (s.id == id) return s.tokens;
  }
  return {};
}

Scheduler::State* Scheduler::find_running(RequestId id) {
  auto it = running_.find(id);
  return it == running_.end() ? nullptr : &it->second;
}

Scheduler::State* Scheduler::latest_running() {
  State* latest = nullptr;
  for (auto& [id, s] : running_) {
    if (!latest || s.admitted > latest->admitted) latest = &s;
  }
  return latest;
}

void Scheduler::preempt(State& s) {
  const RequestId id = s.id;
  blocks_.release(s.seq);
  State back{id, std::move(s.tokens)};  // recomputed from scratch on re-admission
  running_.erase(id);  // s is gone from here on
  if (blocks_.blocks_for(uint32_t(back.tokens.size()) + 1) > blocks_.total_blocks()) {
    // Alone it could not grow either: requeued it would wait forever.
    step_.exhausted.push_back(back.id);
    return;
  }
  step_.preempted.push_back(back.id);
  waiting_.push_front(std::move(back));
  ++preemptions_;
}

Scheduler::State* Scheduler::admit_next() {
  if (waiting_.empty() || running_.size() >= opt_.max_running) return nullptr;
  State& front = waiting_.front();
  // The whole prompt (and its first generated token) must fit: a request
  // admitted now never waits for blocks halfway through its prefill.
  const SeqId seq = next_seq_;
  const uint32_t cached = blocks_.match_prefix(seq, front.tokens);
  const uint32_t held = uint32_t(cached / blocks_.block_size());
  if (blocks_.free_blocks() + held < blocks_.blocks_for(uint32_t(front.tokens.size()) + 1)) {
    blocks_.release(seq);  // the matched blocks stay cached
    return nullptr;
  }
  State s = std::move(front);
  waiting_.pop_front();
  s.seq = next_seq_++;
  s.computed = cached;
  s.cached = cached;
  s.admitted = ++admissions_;
  const RequestId id = s.id;
  return &running_.emplace(id, std::move(s)).first->second;
}

bool Scheduler::reserve(State& s, uint32_t length) {
  while (!blocks_.grow(s.seq, length)) {
    State* victim = latest_running();
    const bool self = victim == &s;
    preempt(*victim);
    if (self) return false;
  }
  return true;
}

const ScheduledStep& Scheduler::schedule() {
  // Cleared, not reassigned: the vectors keep their capacity from step to step.
  step_.entries.clear();
  step_.preempted.clear();
  step_.exhausted.clear();
  step_.tokens = 0;
  planned_.clear();
  uint32_t budget = opt_.batch_tokens;
  auto plan = [&](State& s, uint32_t n) {
    const uint32_t end = s.computed + n;
    step_.entries.push_back({s.id, s.seq, std::span<const int32_t>(s.tokens).subspan(s.computed, n),
                             end == s.tokens.size()});
    planned_.emplace_back(s.id, n);
    step_.tokens += n;
    budget -= n;
  };
  std::vector<RequestId>& order = order_;
  order.clear();
  for (const auto& [id, s] : running_) order.push_back(id);
  std::sort(order.begin(), order.end(),
            [&](RequestId a, RequestId b) { return running_.at(a).admitted < running_.at(b).admitted; });

  // 1. One decode token for every running sequence that has one to feed.
  for (RequestId id : order) {
    State* s = find_running(id);
    if (budget == 0 || !s || s->tokens.size() - s->computed != 1) continue;
    if (reserve(*s, s->computed + 1)) plan(*s, 1);
  }
  // 2. Prompts already admitted (or recomputing after preemption), chunk by chunk.
  for (RequestId id : order) {
    State* s = find_running(id);
    if (budget == 0 || !s || s->tokens.size() - s->computed <= 1) continue;
    const uint32_t n = std::min<uint32_t>(uint32_t(s->tokens.size()) - s->computed, budget);
    if (reserve(*s, s->computed + n)) plan(*s, n);
  }
  // 3. New requests, first come first served; none while this step preempted
  //    (the freed blocks go to the sequences that were already decoding).
  while (budget > 0 && step_.preempted.empty()) {
    State* s = admit_next();
    if (!s) break;
    const uint32_t n = std::min<uint32_t>(uint32_t(s->tokens.size()) - s->computed, budget);
    blocks_.grow(s->seq, s->computed + n);  // cannot fail: admission saw blocks for the whole prompt
    plan(*s, n);
  }
  return step_;
}

void Scheduler::complete_step() {
  for (const auto& [id, n] : planned_) {
    if (State* s = find_running(id)) {
      s->computed += n;
      blocks_.cache_blocks(s->seq, s->tokens, s->computed);
    }
  }
  planned_.clear();
}

void Scheduler::append_token(RequestId id, int32_t token) {
  if (State* s = find_running(id)) s->tokens.push_back(token);
}

}  // namespace vkmind
