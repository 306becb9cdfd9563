#include "runtime/ops/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "runtime/vk/error.h"
#include "shaders/push_constants.h"

namespace vkmind::ops {

namespace {

constexpr uint32_t kHeaderWords = 4;
constexpr uint32_t kItemWords = 8;
constexpr uint32_t kDispatches = 2;  // prefill tiles, decode splits
constexpr uint32_t kArgumentStride = 16;  // bytes per VkDispatchIndirectCommand slot
constexpr uint32_t kMaxAccumulators = 64;  // per-invocation output registers (NACC)
constexpr uint32_t kBindings = 9;          // of attention.comp and attention_split_subgroup.comp

uint32_t div_up(uint64_t a, uint64_t b) { return uint32_t((a + b - 1) / b); }

// Shared memory of attention.comp for one configuration (32-bit words
// everywhere; the last one is attention_merge.glsl's arrival count).
uint32_t shared_bytes(uint32_t hd, uint32_t n_rep, uint32_t bq, uint32_t bk, uint32_t lanes) {
  const uint64_t r = uint64_t(bq) * n_rep;
  return uint32_t(4 * (r * hd + uint64_t(bk) * (hd + 1) + uint64_t(bk) * hd + r * bk * lanes + 4 * r + 1));
}

// Largest tiles that fit: BK from 32 down to 8, then fewer query tokens.
// Rows (BQ * n_rep) aim at `target_rows`: more rows reuse each staged K/V
// tile more, fewer keep more workgroups busy and fewer accumulators live.
AttentionConfig choose(uint32_t hd, uint32_t n_rep, uint32_t workgroup, uint32_t target_rows, uint32_t shared_limit) {
  AttentionConfig c;
  c.workgroup = workgroup;
  c.tile_tokens = std::max<uint32_t>(1, target_rows / n_rep);
  while (c.tile_tokens > 1 && div_up(uint64_t(c.tile_tokens) * n_rep * hd, workgroup) > kMaxAccumulators)
    c.tile_tokens /= 2;
  for (;;) {
    for (uint32_t bk : {32u, 16u, 8u}) {
      c.tile_keys = bk;
      c.lanes = std::max<uint32_t>(1, workgroup / (c.tile_tokens * n_rep * bk));
      c.shared_bytes = shared_bytes(hd, n_rep, c.tile_tokens, bk, c.lanes);
      if (c.shared_bytes <= shared_limit) return c;
    }
    if (c.tile_tokens == 1) break;
    c.tile_tokens /= 2;
  }
  throw Error("attention: head_dim " + std::to_string(hd) + " with " + std::to_string(n_rep) +
              " query heads per kv head needs more shared memory than the device's " + std::to_string(shared_limit));
}

uint32_t* words(const vk::BufferSlice& s) { return reinterpret_cast<uint32_t*>(s.mapped); }

}  // namespace

AttentionPlan::AttentionPlan(vk::Context& ctx, vk::Arena& host, vk::Arena& device, const AttentionShape& shape,
                             const AttentionTuning& tuning)
    : shape_(shape), tuning_(tuning) {
  const auto& s = shape_;
  if (s.n_kv_heads == 0 || s.n_heads % s.n_kv_heads != 0)
    throw Error("attention: n_heads " + std::to_string(s.n_heads) + " is not a multiple of n_kv_heads " +
                std::to_string(s.n_kv_heads));
  if (s.head_dim < 2 || s.head_dim > 256 || s.head_dim % 2 != 0)
    throw Error("attention: head_dim " + std::to_string(s.head_dim) + " must be even and at most 256");
  if (s.block_size == 0 || s.max_tokens == 0 || s.max_seqs == 0 || s.max_blocks_per_seq == 0)
    throw Error("attention: block size, max tokens, sequences and blocks per sequence must be positive");
  if (tuning_.max_splits == 0) tuning_.max_splits = 1;

  const auto& report = ctx.device().report();
  cpu_device_ = report.type == "CPU";
  const uint32_t n_rep = s.n_heads / s.n_kv_heads;
  const uint32_t shared_limit = report.max_shared_memory ? report.max_shared_memory : 16384;
  // 32-wide (or wider) subgroups: 4 warps per prefill workgroup and 32-row tiles;
  // narrow (lavapipe: 8) a 64-invocation workgroup and 16 rows.
  const bool wide = report.subgroup_size >= 32;
  prefill_ = choose(s.head_dim, n_rep, wide ? 128 : 64, wide ? 32 : 16, shared_limit);
  decode_ = choose(s.head_dim, n_rep, 64, n_rep, shared_limit);  // one token per item
  decode_.tile_tokens = 1;
  // The subgroup kernel needs its workgroup to be one subgroup: guaranteed on
  // lavapipe (one SIMD vector of subgroup_size lanes), so Auto picks it there.
  // With shared memory read lane by lane it is ~10x faster than the tiles.
  subgroup_decode_ = tuning_.decode_kernel == DecodeKernel::Subgroup ||
                     (tuning_.decode_kernel == DecodeKernel::Auto && cpu_device_ && report.subgroup_arithmetic);
  if (subgroup_decode_ && !report.subgroup_arithmetic)
    throw Error("attention: the subgroup decode kernel needs subgroup arithmetic, which this device lacks");

  // A run of >= 2 tokens yields ceil(run / BQ) tiles: at most max_tokens / BQ
  // plus one per run. Single-token runs are at most one per sequence.
  const uint32_t runs = std::min(s.max_seqs, s.max_tokens);
  prefill_per_token_ = s.prefill && (tuning_.prefill_kernel == PrefillKernel::PerToken ||
                                     (tuning_.prefill_kernel == PrefillKernel::Auto && subgroup_decode_));
  // The lane-per-token kernel keeps a token's q and accumulators in registers
  // (n_rep * head_dim floats each), fully unrolled: bounded so that its code
  // stays small. On lavapipe it runs 1.5-2x faster than a split item per token.
  prefill_lanes_ = prefill_per_token_ && subgroup_decode_ && s.kv_type == KvType::F16 && s.head_dim % 8 == 0 &&
                   n_rep * s.head_dim <= 1024 && report.storage_texel_rgba32ui;
  if (prefill_lanes_) {
    prefill_per_token_ = false;
    prefill_.tile_tokens = report.subgroup_size;
  }
  tile_cap_ = s.prefill && s.max_tokens >= 2 && !prefill_per_token_
                  ? s.max_tokens / prefill_.tile_tokens + std::min(runs, s.max_tokens / 2)
                  : 0;
  decode_cap_ = runs;
  // Decode tokens' splits, then (per-token prefill) one item per token.
  const uint32_t partial_rows = runs * tuning_.max_splits;
  split_cap_ = partial_rows + (prefill_per_token_ ? s.max_tokens : 0);
  if (std::max(tile_cap_, split_cap_) > report.max_workgroup_count[0] || s.n_kv_heads > report.max_workgroup_count[1])
    throw Error("attention: batch too large for one dispatch on this device");

  const uint64_t u32 = 4;
  positions_ = host.allocate(u32 * s.max_tokens);
  slots_ = host.allocate(u32 * s.max_tokens);
  tables_ = host.allocate(u32 * s.max_seqs * s.max_blocks_per_seq);
  tile_items_ = host.allocate(u32 * (kHeaderWords + kItemWords * std::max(tile_cap_, 1u)));
  split_items_ = host.allocate(u32 * (kHeaderWords + kItemWords * split_cap_));
  partials_ = device.allocate(u32 * uint64_t(partial_rows) * s.n_heads * (s.head_dim + 2));
  // The split kernels count arrivals from zero and the last split of each
  // (token, kv head) resets its counter, so zeroing once here suffices.
  arrivals_ = device.allocate(u32 * s.max_tokens * s.n_kv_heads);
  ctx.transfer().upload(arrivals_, std::vector<uint32_t>(size_t(s.max_tokens) * s.n_kv_heads, 0).data(),
                        arrivals_.size);
  arguments_ = host.allocate(kDispatches * kArgumentStride);
  for (const auto* b : {&positions_, &slots_, &tables_, &tile_items_, &split_items_, &arguments_})
    if (!b->mapped) throw Error("attention: the plan's host arena is not host-visible");
  std::memset(positions_.mapped, 0, positions_.size);
  std::memset(tables_.mapped, 0, tables_.size);
  std::fill_n(words(slots_), s.max_tokens, kNoSlot);
  words(tile_items_)[0] = 0;
  words(split_items_)[0] = 0;
  std::memset(arguments_.mapped, 0, arguments_.size);
  runs_.reserve(s.max_tokens);
}

vk::BufferSlice AttentionPlan::dispatch_arguments(uint32_t which) const {
  return arguments_.sub(uint64_t(which) * kArgumentStride, kArgumentStride);
}

uint32_t AttentionPlan::splits_for(uint32_t context, uint32_t decode_tokens) const {
  const uint32_t min_keys = tuning_.split_min_keys ? tuning_.split_min_keys : 256;
  // lavapipe runs a workgroup per CPU thread: a few per kv head suffice.
  const uint32_t target = tuning_.target_workgroups ? tuning_.target_workgroups : (cpu_device_ ? 8 : 1024);
  const uint32_t wanted = div_up(target, uint64_t(decode_tokens) * shape_.n_kv_heads);
  return std::clamp(std::min(wanted, div_up(context, min_keys)), 1u, tuning_.max_splits);
}

void AttentionPlan::set_batch(std::span<const uint32_t> seq_rows, std::span<const uint32_t> positions,
                              std::span<const std::vector<uint32_t>> block_tables) {
  const auto& s = shape_;
  const size_t T = seq_rows.size();
  if (positions.size() != T) throw Error("attention: seq_rows and positions differ in length");
  if (T > s.max_tokens)
    throw Error("attention: " + std::to_string(T) + " tokens, the plan holds " + std::to_string(s.max_tokens));
  if (block_tables.size() > s.max_seqs)
    throw Error("attention: " + std::to_string(block_tables.size()) + " sequences, the plan holds " +
                std::to_string(s.max_seqs));

  uint32_t* tables = words(tables_);
  for (size_t row = 0; row < block_tables.size(); ++row) {
    const auto& blocks = block_tables[row];
    if (blocks.size() > s.max_blocks_per_seq)
      throw Error("attention: sequence row " + std::to_string(row) + " has " + std::to_string(blocks.size()) +
                  " blocks, the plan holds " + std::to_string(s.max_blocks_per_seq));
    for (uint32_t b : blocks)
      if (b >= s.num_blocks) throw Error("attention: block id " + std::to_string(b) + " outside the pool");
    std::copy(blocks.begin(), blocks.end(), tables + row * s.max_blocks_per_seq);
  }

  uint32_t* pos = words(positions_);
  uint32_t* slots = words(slots_);
  for (size_t t = 0; t < T; ++t) {
    const uint32_t row = seq_rows[t];
    if (row >= block_tables.size()) throw Error("attention: token " + std::to_string(t) + " names a missing sequence row");
    const auto& blocks = block_tables[row];
    const uint32_t p = positions[t];
    if (p / s.block_size >= blocks.size())
      throw Error("attention: position " + std::to_string(p) + " is past the blocks of sequence row " +
                  std::to_string(row));
    pos[t] = p;
    slots[t] = blocks[p / s.block_size] * s.block_size + p % s.block_size;
  }
  std::fill(slots + T, slots + s.max_tokens, kNoSlot);

  // Runs of consecutive tokens of one sequence.
  std::vector<Run>& runs = runs_;
  runs.clear();
  for (uint32_t t = 0; t < T; ++t) {
    if (!runs.empty() && runs.back().row == seq_rows[t]) ++runs.back().count;
    else runs.push_back({seq_rows[t], t, 1});
  }
  uint32_t decode_tokens = 0;
  for (const Run& r : runs) decode_tokens += r.count == 1;
  if (decode_tokens > decode_cap_)
    throw Error("attention: " + std::to_string(decode_tokens) + " single-token runs, the plan holds " +
                std::to_string(decode_cap_));

  step_ = {};
  step_.tokens = uint32_t(T);
  step_.decode_tokens = decode_tokens;
  uint32_t* tiles = words(tile_items_) + kHeaderWords;
  uint32_t* splits = words(split_items_) + kHeaderWords;
  uint32_t slot = 0;
  for (const Run& r : runs) {
    if (r.count >= 2 && prefill_per_token_) {
      // Each token one item over all its keys, written directly (no merge).
      for (uint32_t t = r.first; t < r.first + r.count; ++t) {
        if (step_.split_items == split_cap_) throw Error("attention: more split items than the plan holds");
        const uint32_t item[kItemWords] = {r.row, t, 1, 0, pos[t] + 1, kNoSlot, 0, 1};
        std::copy(item, item + kItemWords, splits + kItemWords * step_.split_items++);
      }
      continue;
    }
    if (r.count >= 2) {
      for (uint32_t t0 = r.first; t0 < r.first + r.count; t0 += prefill_.tile_tokens) {
        const uint32_t n = std::min(prefill_.tile_tokens, r.first + r.count - t0);
        const uint32_t key_end = *std::max_element(pos + t0, pos + t0 + n) + 1;
        if (step_.tiles == tile_cap_) throw Error("attention: more prefill tiles than the plan holds");
        uint32_t* it = tiles + kItemWords * step_.tiles++;
        const uint32_t item[kItemWords] = {r.row, t0, n, 0, key_end, kNoSlot, 0, 0};
        std::copy(item, item + kItemWords, it);
      }
      continue;
    }
    // Decode: equal splits, each a whole number of key tiles.
    const uint32_t context = pos[r.first] + 1;
    const uint32_t per = div_up(div_up(context, splits_for(context, decode_tokens)), decode_.tile_keys) * decode_.tile_keys;
    const uint32_t n = div_up(context, per);
    const bool merged = n > 1;
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t* it = splits + kItemWords * step_.split_items++;
      const uint32_t item[kItemWords] = {r.row, r.first, 1, i * per, std::min(context, (i + 1) * per),
                                         merged ? slot + i : kNoSlot, merged ? slot : 0, n};
      std::copy(item, item + kItemWords, it);
    }
    if (merged) {
      ++step_.merged_tokens;
      slot += n;
    }
    step_.most_splits = std::max(step_.most_splits, n);
  }
  words(tile_items_)[0] = step_.tiles;
  words(split_items_)[0] = step_.split_items;
  const uint32_t counts[kDispatches][3] = {{step_.tiles, s.n_kv_heads, 1}, {step_.split_items, s.n_kv_heads, 1}};
  for (uint32_t i = 0; i < kDispatches; ++i) std::memcpy(dispatch_arguments(i).mapped, counts[i], sizeof counts[i]);
}

namespace {

// The subgroup kernel's KV_TEXELS variant: f16 pools whose key rows are whole
// 16-byte texels (head_dim % 8 == 0), as views the device allows. On lavapipe
// a texel fetch is a vector gather where a storage-buffer load is a loop over
// the lanes: minimind-3 size, attention of the last 512-token step of a
// 1024-token prompt 1.75 -> 0.96 s.
bool pool_texels_allowed(const vk::DeviceReport& report, const AttentionShape& s, const vk::BufferSlice& k_pool,
                         const vk::BufferSlice& v_pool) {
  if (s.kv_type != KvType::F16 || s.head_dim % 8 != 0 || !report.storage_texel_rgba32ui) return false;
  const uint64_t align = std::max<uint64_t>(report.min_texel_buffer_offset_alignment, 1);
  for (const vk::BufferSlice* b : {&k_pool, &v_pool}) {
    if (b->offset % align != 0 || b->size % 16 != 0 || b->size / 16 > report.max_texel_buffer_elements) return false;
  }
  return true;
}

}  // namespace

void attention(vk::Context& ctx, graph::Graph& g, const AttentionPlan& plan, const vk::BufferSlice& q,
               const vk::BufferSlice& k_pool, const vk::BufferSlice& v_pool, const vk::BufferSlice& out,
               uint32_t q_stride, uint32_t out_stride) {
  const auto& s = plan.shape();
  const uint32_t n_rep = s.n_heads / s.n_kv_heads;
  if (q_stride == 0) q_stride = s.n_heads * s.head_dim;
  if (out_stride == 0) out_stride = s.n_heads * s.head_dim;
  if (q_stride < s.n_heads * s.head_dim || out_stride < s.n_heads * s.head_dim)
    throw Error("attention: q and out strides must hold n_heads * head_dim floats");
  const std::string kernel = s.kv_type == KvType::F16 ? "attention_f16" : "attention_f32";
  const push::Attention pc{s.n_kv_heads, q_stride, out_stride, s.max_blocks_per_seq,
                           float(1.0 / std::sqrt(double(s.head_dim)))};

  auto tiled = [&](const AttentionConfig& c) -> const vk::Pipeline& {
    return ctx.pipeline({kernel, kBindings, sizeof(push::Attention),
                         {c.workgroup, s.head_dim, n_rep, c.tile_tokens, c.tile_keys, s.block_size, c.lanes}});
  };
  auto record = [&](const vk::Pipeline& pipeline, const vk::BufferSlice& items, uint32_t which, uint32_t capacity,
                    const char* label, bool pool_texels = false) {
    const auto pool = [&](const vk::BufferSlice& b) { return pool_texels ? graph::reads_texels(b) : graph::reads(b); };
    g.dispatch_indirect(pipeline,
               {graph::reads(q), pool(k_pool), pool(v_pool), graph::reads(plan.block_tables()),
                graph::reads(plan.positions()), graph::reads(items), graph::updates(out),
                graph::updates(plan.partials()), graph::updates(plan.arrivals())},
               pc, plan.dispatch_arguments(which), {capacity, s.n_kv_heads, 1}, label);
  };
  const vk::DeviceReport& report = ctx.device().report();
  const bool texels = plan.subgroup_decode() && plan.kv_texels() && pool_texels_allowed(report, s, k_pool, v_pool);
  // The CPU-device kernels: one subgroup each, the pools at bindings 1 and 2.
  auto subgroup_kernel = [&](const std::string& name) -> const vk::Pipeline& {
    return ctx.pipeline({name, kBindings, sizeof(push::Attention),
                         {report.subgroup_size, s.head_dim, n_rep, s.block_size}, texels ? (1u << 1) | (1u << 2) : 0u});
  };
  if (plan.tile_capacity() > 0) {
    if (plan.prefill_lanes()) {
      const auto& lanes = subgroup_kernel(texels ? "attention_prefill_lanes_texel_f16" : "attention_prefill_lanes_f16");
      record(lanes, plan.tile_items(), AttentionPlan::kPrefillDispatch, plan.tile_capacity(), "attention_prefill",
             texels);
    } else {
      record(tiled(plan.prefill_config()), plan.tile_items(), AttentionPlan::kPrefillDispatch, plan.tile_capacity(),
             "attention_prefill");
    }
  }
  if (plan.split_capacity() > 0) {
    const std::string split_kernel = texels                    ? "attention_split_texel_f16"
                                     : s.kv_type == KvType::F16 ? "attention_split_f16"
                                                                : "attention_split_f32";
    const vk::Pipeline& split = plan.subgroup_decode() ? subgroup_kernel(split_kernel) : tiled(plan.decode_config());
    record(split, plan.split_items(), AttentionPlan::kSplitDispatch, plan.split_capacity(), "attention_decode", texels);
  }
}

}  // namespace vkmind::ops
