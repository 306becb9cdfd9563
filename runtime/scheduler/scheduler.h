// Continuous batching (design.md: runtime/scheduler). Requests move
// waiting -> running -> finished. Each step fills a token budget: first one
// decode token for every running sequence, then chunks of prompts still to
// prefill (a long prompt never stalls the others), admitting waiting requests
// first come, first served while the pool has blocks for their whole prompt
// and fewer than max_running run. When the pool runs dry mid-decode, the most
// recently admitted request is preempted: its blocks are freed and it goes
// back to the front of the queue with everything it generated, to be
// recomputed later, so no request is lost and no output changes.
//
// Pure host logic over a BlockManager: the scheduler reserves each step's
// blocks before the step runs, so the model runner's growth never fails.
// With the BlockManager's prefix cache on, an admitted request starts after
// the leading blocks it shares with earlier requests, and each completed
// step adds the newly filled blocks to the cache.
// Sampling and stop decisions belong to the caller (append_token, finish).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <span>
#include <vector>

#include "runtime/kv_cache/block_manager.h"

namespace vkmind {

using RequestId = uint64_t;

struct SchedulerOptions {
  uint32_t batch_tokens = 512;  // tokens per step, decode and prefill together
  uint32_t max_running = 16;    // sequences per step
  uint32_t context = 4096;      // tokens one sequence may hold
};

// One request's part of a step: tokens[computed, computed + n) of its
// sequence. `samples`: the step's last token gives the logits to sample from.
struct ScheduledEntry {
  RequestId id;
  SeqId seq;
  std::span<const int32_t> tokens;
  bool samples;
};

struct ScheduledStep {
  std::vector<ScheduledEntry> entries;
  std::vector<RequestId> preempted;  // sent back to the queue while planning this step
  // Removed: they hold (nearly) the whole pool and cannot grow even alone.
  // The caller ends them as "context full".
  std::vector<RequestId> exhausted;
  uint32_t tokens = 0;
  bool empty() const { return entries.empty(); }
};

class Scheduler {
 public:
  Scheduler(BlockManager& blocks, const SchedulerOptions& options);

  // Queues a request. Throws vkmind::Error for one that can never run: an
  // empty prompt, or prompt + 1 generated token past the context or the pool.
  void add(RequestId id, std::vector<int32_t> prompt);
  // Forgets a request wherever it is; a running one's blocks are freed at once.
  void cancel(RequestId id);
  // Ends a running request (its caller saw a stop); frees its blocks.
  void finish(RequestId id) { cancel(id); }

  // Plans the next step and reserves its blocks. Empty when there is no work.
  const ScheduledStep& schedule();
  // After the step ran: marks the scheduled tokens computed. Call before append_token.
  void complete_step();
  // The token sampled for an entry that `samples`; it is fed on the next step.
  void append_token(RequestId id, int32_t token);

  bool has_work() const { return !waiting_.empty() || !running_.empty(); }
  size_t waiting() const { return waiting_.size(); }
  size_t running() const { return running_.size(); }
  bool is_running(RequestId id) const;
  uint64_t preemptions() const { return preemptions_; }
  // Prompt tokens a running request got from the prefix cache (not computed).
  uint32_t cached_tokens(RequestId id) const;
  // Tokens (prompt and generated) of a request still known to the scheduler.
  std::span<const int32_t> tokens(RequestId id) const;

 private:
  struct State {
    RequestId id;
    std::vector<int32_t> tokens;  // prompt, then generated tokens
    uint32_t computed = 0;        // tokens whose K/V are in the cache
    SeqId seq = 0;
    uint64_t admitted = 0;        // admission order (preemption picks the latest)
    uint32_t cached = 0;          // prompt tokens the prefix cache supplied at admission
  };
  State* admit_next();  // the next waiting request, if it may run now
  void preempt(State& s);
  // Grows s to `length` tokens, preempting the latest admitted requests as
  // needed; false when s itself had to go.
  bool reserve(State& s, uint32_t length);
  State* find_running(RequestId id);
  State* latest_running();

  BlockManager& blocks_;
  SchedulerOptions opt_;
  std::deque<State> waiting_;
  std::map<RequestId, State> running_;
  ScheduledStep step_;
  std::vector<std::pair<RequestId, uint32_t>> planned_;  // (request, tokens) of step_
  std::vector<RequestId> order_;                         // running requests by admission, per step
  SeqId next_seq_ = 1;
  uint64_t admissions_ = 0, preemptions_ = 0;
};

}  // namespace vkmind
