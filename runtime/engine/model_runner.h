// Runs the transformer on the device: owns the uploaded weights, the paged KV
// cache and the recorded graphs. Callers hand it tokens of one sequence and
// get logits back; positions continue from what the sequence already holds.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "include/vkmind/engine.h"
#include "runtime/engine/decode_profile.h"
#include "runtime/graph/graph.h"
#include "runtime/kv_cache/block_manager.h"
#include "runtime/sampler/sampler.h"

namespace vkmind {

class Model;
namespace vk {
class Context;
}

struct RunnerOptions {
  uint32_t context = 0;  // max tokens per sequence
  KvType kv_type = KvType::F16;
  uint32_t kv_block_size = 16;
  uint32_t kv_blocks = 0;  // 0: max_seqs x context / block size
  uint32_t prefill_chunk = 512;
  uint32_t max_seqs = 1;  // sequences one step may hold (1..64)
  bool prefix_cache = false;  // content-addressed full blocks (BlockManager::match_prefix)
  bool repack = true;         // CPU devices: float matrices in tiles (EngineOptions::repack)
  std::string tile_cache;     // where tiles are kept between loads (EngineOptions::tile_cache)
  // Each step also finds the best ops::kTopK logits of every row on the
  // device, for entries that want only those (Logits::Top).
  bool device_top_k = false;
};

// Which logits a step entry wants back. Top: the last token's best
// ops::kTopK only (top_logits()), which needs RunnerOptions::device_top_k.
enum class Logits { None, Last, All, Top };

// Where a step entry's tokens go: at the sequence's length (it grows), or at
// a given position whose blocks a scheduler has reserved already.
inline constexpr uint32_t kAppend = UINT32_MAX;

// One sequence's part of a step: `tokens` at positions start, start + 1, ...
struct StepEntry {
  SeqId seq;
  std::span<const int32_t> tokens;
  Logits logits = Logits::Last;
  uint32_t start = kAppend;
};

class ModelRunner {
 public:
  ModelRunner(vk::Context& ctx, const Model& model, const RunnerOptions& options);
  ~ModelRunner();

  // Appends `tokens` to sequence `seq` (created on first use) and returns the
  // logits of the positions asked for: the last token only, or every token
  // (`all_logits`, for perplexity). Rows of vocab_size() floats. Throws
  // vkmind::Error when the sequence would exceed the context or the KV pool.
  std::span<const float> forward(SeqId seq, std::span<const int32_t> tokens, bool all_logits = false);

  // One step over several sequences as one flat batch (at most max_seqs()
  // entries of distinct sequences, step_tokens() tokens, 64 logit rows).
  // Returns the rows asked for, entry by entry. Each sequence's results are
  // those it would get alone. Throws vkmind::Error, changing no sequence,
  // when a sequence would exceed the context or the pool is short of blocks.
  std::span<const float> step(std::span<const StepEntry> entries);
  // After step(), for its i-th Logits::Top entry: the best top_count() logits
  // of the row, largest first (ties: the lower id first), and the whole row
  // (for what they cannot decide). Both valid until the next step.
  std::span<const TokenLogit> top_logits(uint32_t i) const;
  std::span<const float> top_row(uint32_t i) const;
  // Logits top_logits() gives a row: ops::kTopK or the vocabulary if smaller;
  // 0 without RunnerOptions::device_top_k.
  uint32_t top_count() const;
  uint32_t max_seqs() const;
  // The KV block manager, for a scheduler that reserves blocks before a step.
  BlockManager& blocks();

  uint32_t sequence_length(SeqId seq) const;
  void truncate(SeqId seq, uint32_t length);
  void release(SeqId seq);

  uint32_t context() const;
  uint32_t step_tokens() const;  // tokens one forward step takes (the prefill chunk)
  // Tokens one sequence can hold: the context, or the KV pool if smaller.
  uint32_t token_capacity() const;
  // Records the graph of the smallest step of each kind: decode batches of 1
  // up to max_seqs() sequences, prefill steps of 2, 4, 8 and 16 tokens (one
  // logit row, and 16 rows), and has the driver finish each of their
  // pipelines (graph::Graph::warm_up). That creates every pipeline a step can
  // use; larger steps record their graphs from the same pipelines on first
  // use (milliseconds). For a server, whose first requests would otherwise
  // wait for the driver's compiler (minimind-3 size on lavapipe: ~0.44 s).
  void prepare_steps();
  // Milliseconds spent recording graphs since the last call (one-time set-up
  // of a step shape, which callers keep out of their throughput figures).
  double take_setup_ms();
  // Weight matrices copied into tiles at load (RunnerOptions::repack).
  uint32_t tiled_matrices() const;
  // Where those tiles came from or went (TileCache::outcome), "" without a cache.
  std::string tile_cache_outcome() const;
  uint32_t vocab_size() const;
  KvStats kv_stats() const;
  // What one single-sequence decode step is made of (its recorded graph).
  DecodeProfile decode_profile();
  // GPU time per node of the last step (empty unless VKMIND_PROFILE=1).
  std::vector<graph::NodeTiming> last_step_timings() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vkmind
