// GQA flash attention over the paged KV cache (design.md: runtime/kv_cache,
// attention). Covers prefill, chunked prefill and decode of several sequences
// of different lengths in one step:
//
//   batch: T tokens; token t belongs to the sequence in row seq_row[t] of the
//          block table and sits at position p_t. Its k/v have already been
//          appended to the pools (kv_append with slot_mapping()).
//   q      f32 [T][q_stride], query head h at columns h*head_dim.. (after RoPE)
//   out    f32 [T][out_stride], head h at columns h*head_dim..
//   out[t][h] = softmax_j(scale * q[t][h] . K[j]) V[j] over key positions
//          j = 0..p_t of t's sequence, kv head h / n_rep, scale 1/sqrt(head_dim).
//
// Two paths, chosen per run of consecutive tokens of one sequence:
//   - prefill (run of >= 2 tokens): tiles of BQ consecutive tokens x one kv
//     head per workgroup, K/V tiles staged in shared memory, online softmax;
//   - decode (run of 1 token): flash-decoding; the context is split over
//     workgroups (split count from the context length and the batch), each
//     writes a partial (acc, max, sum) and counts itself in at a per-(token,
//     kv head) counter; the workgroup that arrives last merges the token's
//     partials (shaders/attention_merge.glsl). A context that needs one split
//     is written directly. Decode is one dispatch: no merge dispatch, no
//     barrier between splitting and merging.
//
// Per graph (built once, replayed every step): an AttentionPlan sized for the
// largest step, and attention() records its dispatches. Per step, before
// Graph::run(): plan.set_batch(...) fills the plan's host-visible buffers;
// no allocation happens per step. The buffers, all u32, host-written:
//   positions()     [max_tokens]       p_t (may also feed RoPE)
//   slot_mapping()  [max_tokens]       physical slot of token t (kv_append input);
//                                      kNoSlot for t >= T
//   block_tables()  [max_seqs][max_blocks_per_seq]  physical block ids
//   work lists (internal to the kernels; set_batch writes them):
//     tile items  [4 + 8*cap]: word 0 = count; item i at 4 + 8i:
//                 seq_row, first token, tokens, key_begin, key_end, slot (~0u), 0, 0
//     split items same format, one token each; for a token with n > 1 splits,
//                 slot = its split's partial slot, word 6 = the token's first
//                 slot, word 7 = n (slot ~0u, 0, 1 otherwise)
//   dispatch arguments  2 x VkDispatchIndirectCommand (prefill, split),
//                 the step's item counts: the graph is recorded once for the
//                 capacity, yet each step launches only the workgroups it has.
// Device-only: partials() [split_cap][n_heads][head_dim + 2] floats, and
// arrivals() [max_tokens][n_kv_heads] u32, zero between dispatches.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "runtime/graph/graph.h"
#include "runtime/ops/kv_append.h"
#include "runtime/vk/context.h"

namespace vkmind::ops {

struct AttentionShape {
  uint32_t n_heads = 0;
  uint32_t n_kv_heads = 0;  // n_heads % n_kv_heads == 0; n_rep = n_heads / n_kv_heads (1..8 tested)
  uint32_t head_dim = 0;    // even, 8..256
  uint32_t block_size = 16; // 8, 16 or 32
  KvType kv_type = KvType::F16;
  uint32_t num_blocks = 0;          // blocks per pool (block ids are checked against it)
  uint32_t max_tokens = 0;          // tokens per step
  uint32_t max_seqs = 1;            // sequences (block-table rows) per step
  uint32_t max_blocks_per_seq = 0;  // block-table row length
  // false: a decode-only plan (one token per sequence each step). No prefill
  // dispatch is recorded: an empty one still launches its workgroups.
  bool prefill = true;

  KvLayout kv_layout() const { return {n_kv_heads, head_dim, block_size, kv_type}; }
};

// The kernel of decode split items: attention.comp's tiles, or
// attention_split_subgroup.comp (one subgroup per item, no shared memory).
enum class DecodeKernel { Auto /* Subgroup on CPU devices, else Tiled */, Tiled, Subgroup };

// How runs of several tokens (prefill) are computed: attention.comp's query
// tiles with K/V staged in shared memory, or per token (on lavapipe, which
// runs shared memory lane by lane and barriers as coroutine switches, ~2x
// faster: minimind-3 size, pp128). Per token means, with the subgroup decode
// kernel, f16 pools and head_dim % 8 == 0 (n_rep * head_dim <= 1024), a lane
// per token in tiles of one subgroup (attention_prefill_lanes.comp);
// otherwise one split item per token, run by the decode kernel.
enum class PrefillKernel { Auto /* PerToken on CPU devices with the subgroup decode kernel, else Tiled */, Tiled, PerToken };

// Knobs; 0 = chosen from the device.
struct AttentionTuning {
  uint32_t split_min_keys = 0;     // fewest keys per decode split (auto: 256)
  uint32_t target_workgroups = 0;  // decode splits aim for this many workgroups in all
  uint32_t max_splits = 32;        // splits per decode token, at most
  DecodeKernel decode_kernel = DecodeKernel::Auto;
  PrefillKernel prefill_kernel = PrefillKernel::Auto;
  // The subgroup kernels read f16 pools through texel buffers where the
  // device allows (a vector gather on lavapipe); false: storage buffers.
  bool kv_texels = true;
};

// One kernel configuration: the specialization constants of attention.comp.
struct AttentionConfig {
  uint32_t workgroup = 64;
  uint32_t tile_tokens = 1;  // BQ: query tokens per workgroup
  uint32_t tile_keys = 16;   // BK: keys per shared-memory tile
  uint32_t lanes = 1;        // TPE: invocations per score
  uint32_t shared_bytes = 0;
};

// What the last set_batch() produced (tests and statistics).
struct AttentionStep {
  uint32_t tokens = 0;
  uint32_t tiles = 0;          // prefill work items
  uint32_t decode_tokens = 0;  // single-token runs
  uint32_t split_items = 0;    // decode work items (all splits)
  uint32_t merged_tokens = 0;  // decode tokens with more than one split (merged by their last split)
  uint32_t most_splits = 0;
};

class AttentionPlan {
 public:
  // Allocates the per-step buffers from `host` (host-visible), the
  // partial-result scratch and the arrival counters from `device` (zeroed
  // here through ctx's transfer).
  AttentionPlan(vk::Context& ctx, vk::Arena& host, vk::Arena& device, const AttentionShape& shape,
                const AttentionTuning& tuning = {});

  // Fills every per-step buffer for a batch of seq_rows.size() tokens.
  // block_tables[row] lists the physical blocks of that sequence; it must
  // cover each token's position. Throws vkmind::Error on a batch that does
  // not fit the plan (too many tokens, sequences, blocks, bad block id).
  void set_batch(std::span<const uint32_t> seq_rows, std::span<const uint32_t> positions,
                 std::span<const std::vector<uint32_t>> block_tables);

  const AttentionShape& shape() const { return shape_; }
  const AttentionConfig& prefill_config() const { return prefill_; }
  const AttentionConfig& decode_config() const { return decode_; }
  bool subgroup_decode() const { return subgroup_decode_; }  // split items run attention_split_subgroup
  bool prefill_lanes() const { return prefill_lanes_; }  // tile items run attention_prefill_lanes
  bool kv_texels() const { return tuning_.kv_texels; }
  const AttentionStep& step() const { return step_; }
  uint32_t tile_capacity() const { return tile_cap_; }
  uint32_t split_capacity() const { return split_cap_; }
  uint32_t decode_capacity() const { return decode_cap_; }  // single-token runs per step

  const vk::BufferSlice& positions() const { return positions_; }
  const vk::BufferSlice& slot_mapping() const { return slots_; }
  const vk::BufferSlice& block_tables() const { return tables_; }
  const vk::BufferSlice& tile_items() const { return tile_items_; }
  const vk::BufferSlice& split_items() const { return split_items_; }
  const vk::BufferSlice& partials() const { return partials_; }
  const vk::BufferSlice& arrivals() const { return arrivals_; }
  // The indirect arguments of the prefill and decode-split dispatches.
  vk::BufferSlice dispatch_arguments(uint32_t which) const;
  static constexpr uint32_t kPrefillDispatch = 0, kSplitDispatch = 1;

 private:
  uint32_t splits_for(uint32_t context, uint32_t decode_tokens) const;

  AttentionShape shape_;
  AttentionTuning tuning_;
  AttentionConfig prefill_, decode_;
  uint32_t tile_cap_ = 0, split_cap_ = 0, decode_cap_ = 0;
  bool cpu_device_ = false;
  bool subgroup_decode_ = false;
  bool prefill_per_token_ = false;  // prefill tokens are split items (PrefillKernel::PerToken)
  bool prefill_lanes_ = false;      // prefill tiles of subgroup_size tokens, a lane each (PerToken)
  AttentionStep step_;
  vk::BufferSlice positions_, slots_, tables_, tile_items_, split_items_, partials_, arrivals_, arguments_;
  // set_batch's scratch, kept so that a step allocates nothing.
  struct Run {
    uint32_t row, first, count;
  };
  std::vector<Run> runs_;
};

// Records attention for the plan's batch: the prefill dispatch (when the plan
// has tile capacity), then the decode dispatch, which merges its own splits.
// q_stride and out_stride in floats per token; 0 = n_heads * head_dim.
void attention(vk::Context& ctx, graph::Graph& g, const AttentionPlan& plan, const vk::BufferSlice& q,
               const vk::BufferSlice& k_pool, const vk::BufferSlice& v_pool, const vk::BufferSlice& out,
               uint32_t q_stride = 0, uint32_t out_stride = 0);

}  // namespace vkmind::ops
