// The forward pass (dense Llama / Qwen2 / Qwen3 / MiniMind), as one command
// graph per batch-size bucket, recorded once and replayed:
//
//   x = embed(ids)
//   for each layer:
//     qkv = rmsnorm(x) Wqkv^T (+ bias)      one matmul, the norm in its prologue
//     q = rope(qk_norm(q)) in place; rope(qk_norm(k)) and v into the paged KV cache: one kernel
//     x += attention(q) Wo^T                the residual add in the matmul's epilogue
//     x += down(silu(gate(xn)) * up(xn)), xn = rmsnorm(x): two matmuls, the
//       norm in gate|up's prologue and SwiGLU in its epilogue
//       (MoE: xn = rmsnorm(x); x += shared experts(xn) + the top-k routed experts, record_moe)
//   logits = rmsnorm(x[rows wanted]) Wout^T   (decode: every row, x itself)
// A dense layer is 6 dispatches: qkv, prepare, attention, o, gate|up, down.
#include "runtime/engine/model_runner.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <tuple>
#include <utility>

#include "model/model_desc.h"
#include "runtime/engine/device_weights.h"
#include "runtime/graph/graph.h"
#include "runtime/ops/attention.h"
#include "runtime/ops/elementwise.h"
#include "runtime/ops/embedding.h"
#include "runtime/ops/kv_append.h"
#include "runtime/ops/matmul.h"
#include "runtime/ops/weight_view.h"
#include "runtime/ops/moe.h"
#include "runtime/ops/norm.h"
#include "runtime/ops/qkv_prepare.h"
#include "runtime/ops/rope.h"
#include "runtime/ops/swiglu.h"
#include "runtime/ops/top_k.h"
#include "runtime/vk/context.h"
#include "runtime/vk/error.h"

namespace vkmind {

namespace {

// Rows of logits a perplexity step returns at most (bounds the read-back buffer).
constexpr uint32_t kMaxLogitRows = 64;

// Bytes of a matrix (all its pieces) as stored on the device.
uint64_t matrix_bytes(const DeviceMatrix& m) {
  if (m.pieces.empty()) return ops::weight_row_bytes(m.type, m.cols) * m.rows;
  uint64_t bytes = 0;
  for (const DeviceMatrix& piece : m.pieces) bytes += matrix_bytes(piece);
  return bytes;
}

ops::WeightView view(const DeviceMatrix& m) {
  if (!m.pieces.empty()) throw Error("a weight fused from tensors of different types has no single view");
  return {m.slice, m.type, m.rows, m.cols, m.tile_rows, m.tile_cols};
}

// Blocks in the KV pool: as asked, or room for max_seqs full contexts.
uint32_t pool_blocks(const RunnerOptions& o) {
  if (o.kv_block_size != 8 && o.kv_block_size != 16 && o.kv_block_size != 32) {
    throw Error("KV block size " + std::to_string(o.kv_block_size) + " is not one of 8, 16, 32");
  }
  if (o.kv_blocks) return o.kv_blocks;
  const uint64_t blocks = uint64_t(std::max(1u, o.max_seqs)) * ((uint64_t(o.context) + o.kv_block_size - 1) / o.kv_block_size);
  return uint32_t(std::min<uint64_t>(blocks, UINT32_MAX));
}

// Tiles are made only for CPU devices (ops::weight_tiles_pay), so only they keep them.
std::unique_ptr<TileCache> open_tile_cache(vk::Context& ctx, const Model& model, const RunnerOptions& o) {
  if (!o.repack || ctx.device().report().type != "CPU") return nullptr;
  return TileCache::open(ctx.device(), model, o.tile_cache);
}

// A step runs the graph of its bucket, padded to it: powers of two up to 16
// tokens, then multiples of 16, so a step computes at most 15 padding tokens
// (powers of two all the way wasted up to half of a long prompt's prefill).
constexpr uint32_t kBucketStep = 16;

uint32_t bucket_for(uint32_t tokens, uint32_t capacity) {
  uint32_t b = 1;
  while (b < tokens && b < kBucketStep) b *= 2;
  if (b < tokens) b = (tokens + kBucketStep - 1) / kBucketStep * kBucketStep;
  return std::min(b, capacity);
}

}  // namespace

struct ModelRunner::Impl {
  vk::Context& ctx;
  const ModelDesc& d;
  RunnerOptions opt;
  uint32_t capacity;  // tokens per step
  uint32_t qkv_width;
  vk::Arena weight_arena, kv_arena, act_arena, host_arena;
  // The model's files read in place, where the device can (CPU devices), and
  // the weight copies done by the end of the constructor.
  std::vector<std::unique_ptr<vk::ImportedHostBuffer>> in_place_files;
  std::unique_ptr<TileCache> tile_cache;  // CPU devices: tiles of earlier loads (tile_cache.h)
  DeferredCopies weight_copies;
  DeviceWeights w;
  ops::KvLayout kv;
  uint32_t num_blocks;
  BlockManager blocks;
  std::vector<vk::BufferSlice> k_pools, v_pools;
  // Decode steps get a plan without prefill tiles: an empty prefill dispatch
  // still launches its workgroups, which costs real time on CPU devices.
  std::unique_ptr<ops::AttentionPlan> prefill_plan, decode_plan;
  vk::BufferSlice inv_freq;
  float attention_factor = 1.0f;
  ops::RopePairing pairing;
  // Per-step inputs (host-visible) and activations (device-local).
  vk::BufferSlice ids, logit_rows, logits;
  // device_top_k: each logit row's best ops::kTopK (host-visible), and the passes' scratch.
  vk::BufferSlice top_pairs, top_scratch;
  vk::BufferSlice x, xn, qkv, attn, gate_up, act, picked;
  // MoE, for capacity tokens x top_k slots: router logits [T][E], the choice
  // ids/weights [T][k], and per (token, slot) pair gate|up, activation, output.
  vk::BufferSlice router_logits, expert_ids, expert_weights, pair_gate_up, pair_act, pair_out;
  // By (tokens, logit rows, decode-only, with the device top-k): the buckets a
  // step is padded to; steps that want no Logits::Top skip the ranking.
  std::map<std::tuple<uint32_t, uint32_t, bool, bool>, std::unique_ptr<graph::Graph>> graphs;
  // Per-step host scratch, reused so that a step allocates nothing.
  std::vector<uint32_t> step_rows, step_positions, old_lengths, step_starts;
  std::vector<std::vector<uint32_t>> step_tables;
  std::vector<float> result;
  std::vector<TokenLogit> top_result;   // top_count() a Logits::Top entry, in order
  std::vector<uint32_t> top_rows;       // each such entry's row of `logits`
  graph::Graph* last_graph = nullptr;
  double setup_ms = 0;  // spent recording graphs (first use of a step shape)

  Impl(vk::Context& c, const Model& model, const RunnerOptions& o)
      : ctx(c),
        d(model.desc()),
        opt(o),
        capacity(std::max({1u, std::min(o.prefill_chunk, o.context), o.max_seqs})),
        qkv_width((d.n_heads + 2 * d.n_kv_heads) * d.head_dim),
        weight_arena(c.device(), vk::MemoryKind::DeviceLocal, VkDeviceSize(256) << 20, /*written_whole=*/true),
        kv_arena(c.device(), vk::MemoryKind::DeviceLocal),
        act_arena(c.device(), vk::MemoryKind::DeviceLocal, VkDeviceSize(32) << 20),
        host_arena(c.device(), vk::MemoryKind::HostVisible, VkDeviceSize(8) << 20),
        in_place_files(import_model_files(c, model)),
        tile_cache(open_tile_cache(c, model, o)),
        w(upload_weights(c, weight_arena, model, {&weight_copies, in_place_files, o.repack, tile_cache.get()})),
        kv{d.n_kv_heads, d.head_dim, o.kv_block_size,
           o.kv_type == KvType::F16 ? ops::KvType::F16 : ops::KvType::F32},
        num_blocks(pool_blocks(o)),
        // Checked before the block manager sizes its tables by the pool.
        blocks((check_kv_fits(), num_blocks), o.kv_block_size, o.prefix_cache,
               (o.context + o.kv_block_size - 1) / o.kv_block_size),
        pairing(d.rope.pairing == RopePairing::GPTJ ? ops::RopePairing::GptJ : ops::RopePairing::NeoX) {
    // The weight bytes move (or the cached tiles page in) while the rest is
    // set up and the decode graph's pipelines compile (joined at the end of
    // this constructor, or on a throw).
    std::jthread copier([this] {
      weight_copies.run();
      if (tile_cache) tile_cache->finish();
    });
    if (o.context == 0) throw Error("the context length must be positive");
    if (o.max_seqs == 0 || o.max_seqs > kMaxLogitRows) {
      throw Error("sequences per step must be 1.." + std::to_string(kMaxLogitRows) + ", not " + std::to_string(o.max_seqs));
    }
    for (uint32_t l = 0; l < d.n_layers; ++l) {
      k_pools.push_back(kv_arena.allocate(kv.pool_bytes(num_blocks)));
      v_pools.push_back(kv_arena.allocate(kv.pool_bytes(num_blocks)));
    }

    std::optional<ops::YarnScaling> yarn;
    if (d.rope.scaling == RopeScalingType::YaRN && d.context_length > d.rope.original_context) {
      yarn = ops::YarnScaling{d.rope.factor, double(d.rope.original_context), d.rope.beta_fast, d.rope.beta_slow,
                              d.rope.attention_factor};
      attention_factor = float(d.rope.attention_factor);
    } else if (d.rope.scaling == RopeScalingType::Linear) {
      throw Error("linear RoPE scaling is not supported yet");
    }
    auto freqs = ops::rope_inv_freq(d.head_dim, d.rope.theta, yarn);
    inv_freq = act_arena.allocate(freqs.size() * 4);
    ctx.transfer().upload(inv_freq, freqs.data(), freqs.size() * 4);

    ops::AttentionShape shape;
    shape.n_heads = d.n_heads;
    shape.n_kv_heads = d.n_kv_heads;
    shape.head_dim = d.head_dim;
    shape.block_size = o.kv_block_size;
    shape.kv_type = kv.type;
    shape.num_blocks = num_blocks;
    shape.max_tokens = capacity;
    shape.max_seqs = o.max_seqs;
    shape.max_blocks_per_seq = (o.context + o.kv_block_size - 1) / o.kv_block_size;
    prefill_plan = std::make_unique<ops::AttentionPlan>(ctx, host_arena, act_arena, shape);
    shape.max_tokens = o.max_seqs;
    shape.prefill = false;
    decode_plan = std::make_unique<ops::AttentionPlan>(ctx, host_arena, act_arena, shape);
    // Block tables at full size: a step copies them without allocating.
    step_tables.resize(o.max_seqs);
    for (auto& table : step_tables) table.reserve(shape.max_blocks_per_seq);
    step_rows.reserve(capacity);
    step_positions.reserve(capacity);
    old_lengths.reserve(o.max_seqs);
    step_starts.reserve(o.max_seqs);

    const uint64_t T = capacity;
    ids = host_arena.allocate(T * 4);
    logit_rows = host_arena.allocate(kMaxLogitRows * 4);
    logits = host_arena.allocate(uint64_t(kMaxLogitRows) * d.vocab * 4);
    if (o.device_top_k) {
      top_pairs = host_arena.allocate(uint64_t(kMaxLogitRows) * ops::kTopK * sizeof(ops::TopKPair));
      if (const uint64_t bytes = ops::top_k_scratch_bytes(kMaxLogitRows, d.vocab)) top_scratch = act_arena.allocate(bytes);
      top_result.reserve(size_t(kMaxLogitRows) * ops::kTopK);
      top_rows.reserve(kMaxLogitRows);
    }
    x = act_arena.allocate(T * d.hidden * 4);
    xn = act_arena.allocate(T * d.hidden * 4);
    qkv = act_arena.allocate(T * qkv_width * 4);
    attn = act_arena.allocate(T * d.n_heads * d.head_dim * 4);
    // The dense FFN, or a MoE layer's shared experts (one at a time).
    const uint64_t ffn = std::max<uint64_t>(d.is_moe() ? 1 : d.ffn_hidden, d.moe.shared_expert_ffn);
    gate_up = act_arena.allocate(T * 2 * ffn * 4);
    act = act_arena.allocate(T * ffn * 4);
    if (d.is_moe()) {
      const uint64_t pairs = T * d.moe.top_k, F = d.moe.expert_ffn;
      router_logits = act_arena.allocate(T * d.moe.n_experts * 4);
      expert_ids = act_arena.allocate(pairs * 4);
      expert_weights = act_arena.allocate(pairs * 4);
      pair_gate_up = act_arena.allocate(pairs * 2 * F * 4);
      pair_act = act_arena.allocate(pairs * F * 4);
      pair_out = act_arena.allocate(pairs * d.hidden * 4);
    }
    picked = act_arena.allocate(uint64_t(kMaxLogitRows) * d.hidden * 4);
    // Every generation decodes: record its graph now, with the load, so that
    // no decode step pays for it (with the ranking its sampler will want).
    graph_for(1, 1, true, o.device_top_k);
  }

  // The KV pools are known before anything is allocated for them: refuse a
  // context the device cannot hold with the context that would fit, instead
  // of a failed allocation or binding deep inside the graph.
  void check_kv_fits() const {
    const vk::DeviceReport& dev = ctx.device().report();
    const uint64_t block_bytes = kv.pool_bytes(1);
    uint64_t max_blocks = dev.max_storage_buffer_range / block_bytes;  // one pool is bound whole
    std::string limit = "one layer's K or V pool is bound as one buffer of at most " +
                        std::to_string(dev.max_storage_buffer_range >> 20) + " MiB";
    if (dev.max_memory_allocation_size && dev.max_memory_allocation_size / block_bytes < max_blocks) {
      max_blocks = dev.max_memory_allocation_size / block_bytes;
      limit = "one allocation is at most " + std::to_string(dev.max_memory_allocation_size >> 20) + " MiB";
    }
    uint64_t heap = 0;
    for (const auto& h : dev.heaps) {
      if (h.device_local) heap = std::max(heap, h.size);
    }
    // Room for activations, attention plans and the driver besides weights and KV.
    const uint64_t reserve = weight_arena.bytes_allocated() + (uint64_t(256) << 20);
    if (heap) {
      const uint64_t by_memory = heap > reserve ? (heap - reserve) / (2 * uint64_t(d.n_layers) * block_bytes) : 0;
      if (by_memory < max_blocks) {
        max_blocks = by_memory;
        limit = "the device has " + std::to_string(heap >> 20) + " MiB, " +
                std::to_string(weight_arena.bytes_allocated() >> 20) + " MiB of them for the weights";
      }
    }
    if (num_blocks <= max_blocks) return;
    const uint64_t need_mib = (2 * uint64_t(d.n_layers) * num_blocks * block_bytes) >> 20;
    const uint64_t fits = std::min<uint64_t>(max_blocks * opt.kv_block_size, UINT32_MAX);
    if (opt.kv_blocks) {
      throw Error("--kv-blocks " + std::to_string(num_blocks) + " needs " + std::to_string(need_mib) +
                  " MiB of KV cache, which does not fit this device (" + limit + "): at most " +
                  std::to_string(max_blocks) + " blocks fit");
    }
    throw Error("a context of " + std::to_string(opt.context) + " tokens needs " + std::to_string(need_mib) +
                " MiB of KV cache, which does not fit this device (" + limit + "): a context of at most " +
                std::to_string(fits) + " tokens fits (--ctx " + std::to_string(fits) +
                (kv.type == ops::KvType::F32 ? ", or --kv-type f16 for twice that)" : ")"));
  }

  // A column band of the fused QKV rows, bound from its first float onwards.
  vk::BufferSlice qkv_band(uint32_t first_column) const {
    const uint64_t offset = uint64_t(first_column) * 4;
    if (offset % ctx.device().report().min_storage_buffer_offset_alignment != 0) {
      throw Error("q/k/v band at float " + std::to_string(first_column) +
                  " is not aligned for this device (heads x head_dim must be a multiple of 4)");
    }
    return qkv.sub(offset, qkv.size - offset);
  }


  // out = in m^T (with the options' fusions); a matrix fused from tensors of
  // different types is one matmul per piece, into its band of out.
  void project(graph::Graph& g, const DeviceMatrix& m, const vk::BufferSlice& in, const vk::BufferSlice& out,
               uint32_t T, ops::MatmulOptions options = {}) {
    if (m.pieces.empty()) return ops::matmul(ctx, g, view(m), in, out, T, options);
    options.y_stride = m.rows;
    for (const DeviceMatrix& piece : m.pieces) {
      ops::matmul(ctx, g, view(piece), in, out, T, options);
      options.y_offset += piece.rows;
    }
  }

  // The options of a matmul whose input is rmsnorm(in) * weight.
  ops::MatmulOptions normed(const vk::BufferSlice& weight) const {
    return {.norm_weight = weight, .norm_eps = float(d.norm_eps)};
  }

  // x += down(silu(gate(xn)) * up(xn)) for T tokens, xn = rmsnorm(in) * norm
  // when a norm is given, else in itself.
  void record_ffn(graph::Graph& g, const DeviceMatrix& gate_up_w, const DeviceMatrix& down_w,
                  const vk::BufferSlice& in, const vk::BufferSlice& norm, uint32_t T) {
    const ops::MatmulOptions accumulate{.epilogue = ops::Epilogue::Accumulate};
    if (gate_up_w.pieces.empty() && ops::fits_one_binding(ctx.device(), view(gate_up_w))) {
      ops::MatmulOptions options = norm.buffer ? normed(norm) : ops::MatmulOptions{};
      options.epilogue = ops::Epilogue::SwiGLU;
      project(g, gate_up_w, in, act, T, options);
    } else {
      // Gate and up of different types, or too large for one binding: the
      // product, then the activation.
      const uint32_t F = gate_up_w.rows / 2;
      if (norm.buffer) ops::rmsnorm(ctx, g, in, norm, xn, T, d.hidden, float(d.norm_eps));
      project(g, gate_up_w, norm.buffer ? xn : in, gate_up, T);
      ops::swiglu_fused(ctx, g, gate_up, act, T, F);
    }
    project(g, down_w, act, x, T, accumulate);
  }

  // x += sum_s shared_s(xn) + sum over the token's top-k experts e of w_e expert_e(xn),
  // xn = rmsnorm(x) * ffn_norm, computing only the selected experts (runtime/ops/moe.h).
  void record_moe(graph::Graph& g, const LayerWeights& L, uint32_t T) {
    const MoeDesc& m = d.moe;
    const uint32_t k = m.top_k, pairs = T * k, F = uint32_t(m.expert_ffn);
    ops::rmsnorm(ctx, g, x, L.ffn_norm, xn, T, d.hidden, float(d.norm_eps));
    for (size_t s = 0; s < L.shexp_gate_up.size(); ++s) record_ffn(g, L.shexp_gate_up[s], L.shexp_down[s], xn, {}, T);
    project(g, L.router, xn, router_logits, T);
    ops::moe_router(ctx, g, router_logits, expert_ids, expert_weights, T, m.n_experts, k, m.norm_topk_prob);
    ops::gather_matmul(ctx, g, view(L.exps_gate_up), m.n_experts, xn, expert_ids, pair_gate_up, pairs, k);
    ops::swiglu_fused(ctx, g, pair_gate_up, pair_act, pairs, F);
    ops::gather_matmul(ctx, g, view(L.exps_down), m.n_experts, pair_act, expert_ids, pair_out, pairs, 1);
    ops::moe_combine(ctx, g, pair_out, expert_weights, x, T, d.hidden, k, true);
  }

  // q = rope(qk_norm(q)) in place, k and v into layer l's KV pools: one
  // kernel, or the four unfused ones when head_dim is not a multiple of 4.
  void record_qkv_prepare(graph::Graph& g, const LayerWeights& L, uint32_t l, const ops::AttentionPlan& plan,
                          uint32_t T) {
    const float eps = float(d.norm_eps);
    const vk::BufferSlice q = qkv_band(0);
    if (d.head_dim % 4 == 0) {
      return ops::qkv_prepare(ctx, g, {T, d.n_heads, d.n_kv_heads, d.head_dim, pairing, attention_factor, qkv_width},
                              qkv, d.qk_norm ? &L.q_norm : nullptr, d.qk_norm ? &L.k_norm : nullptr, plan.positions(),
                              inv_freq, plan.slot_mapping(), k_pools[l], v_pools[l], eps, kv);
    }
    const vk::BufferSlice k = qkv_band(d.n_heads * d.head_dim);
    const vk::BufferSlice v = qkv_band((d.n_heads + d.n_kv_heads) * d.head_dim);
    if (d.qk_norm) {
      ops::rmsnorm_heads(ctx, g, q, L.q_norm, q, T, d.n_heads, d.head_dim, eps, qkv_width);
      ops::rmsnorm_heads(ctx, g, k, L.k_norm, k, T, d.n_kv_heads, d.head_dim, eps, qkv_width);
    }
    ops::RopeDims rope{T, d.n_heads, d.n_kv_heads, d.head_dim, pairing, attention_factor, qkv_width, qkv_width};
    ops::rope(ctx, g, q, k, plan.positions(), inv_freq, rope);
    ops::kv_append(ctx, g, kv, k, v, plan.slot_mapping(), k_pools[l], v_pools[l], T, qkv_width);
  }

  std::unique_ptr<graph::Graph> build(uint32_t T, uint32_t R, bool decode, bool top) {
    auto g = std::make_unique<graph::Graph>(ctx.device());
    const ops::AttentionPlan& plan = decode ? *decode_plan : *prefill_plan;
    const vk::BufferSlice q = qkv_band(0);

    ops::embedding(ctx, *g, view(w.token_embd), ids, x, T);
    for (uint32_t l = 0; l < d.n_layers; ++l) {
      const LayerWeights& L = w.layers[l];
      project(*g, L.qkv, x, qkv, T, normed(L.attn_norm));
      if (d.attn_qkv_bias) ops::add_bias(ctx, *g, qkv, L.qkv_bias, T, qkv_width);
      record_qkv_prepare(*g, L, l, plan, T);
      ops::attention(ctx, *g, plan, q, k_pools[l], v_pools[l], attn, qkv_width, 0);
      project(*g, L.attn_output, attn, x, T, {.epilogue = ops::Epilogue::Accumulate});
      if (d.is_moe()) {
        record_moe(*g, L, T);
      } else {
        record_ffn(*g, L.gate_up, L.down, x, L.ffn_norm, T);
      }
    }
    // Only the rows whose logits are wanted go through the (large) head. In a
    // decode step they are all the rows, in order (step() wants each entry's
    // last token), so the head reads x itself: one dispatch and barrier fewer.
    if (!decode) ops::embedding(ctx, *g, ops::WeightView{x, TensorType::F32, T, d.hidden}, logit_rows, picked, R);
    project(*g, w.output, decode ? x : picked, logits, R, normed(w.output_norm));
    if (top) ops::top_k(ctx, *g, logits, R, d.vocab, d.vocab, top_scratch, top_pairs);
    g->record();
    return g;
  }

  graph::Graph& graph_for(uint32_t T, uint32_t R, bool decode, bool top) {
    auto& g = graphs[{T, R, decode, top}];
    if (!g) {
      const auto begin = std::chrono::steady_clock::now();
      g = build(T, R, decode, top);
      setup_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin).count();
    }
    return *g;
  }

  // Grows every entry's sequence by its tokens, all or none.
  void grow_all(std::span<const StepEntry> entries) {
    old_lengths.clear();
    step_starts.clear();
    for (const StepEntry& e : entries) {
      const uint32_t length = blocks.has_sequence(e.seq) ? blocks.length(e.seq) : 0;
      const uint32_t start = e.start == kAppend ? length : e.start;
      old_lengths.push_back(length);
      step_starts.push_back(start);
      const uint64_t end = uint64_t(start) + e.tokens.size();
      std::string problem;
      if (start > length) {
        problem = "a step entry starts at position " + std::to_string(start) + ", past the " +
                  std::to_string(length) + " tokens its sequence holds";
      } else if (end > opt.context) {
        problem = "sequence of " + std::to_string(end) + " tokens exceeds the context of " +
                  std::to_string(opt.context) + " tokens";
      } else if (end > length && !blocks.grow(e.seq, uint32_t(end))) {
        problem = "the KV cache is full: " + std::to_string(blocks.free_blocks()) + " of " +
                  std::to_string(num_blocks) + " blocks free, " +
                  std::to_string(blocks.blocks_for(uint32_t(end)) -
                                 (blocks.has_sequence(e.seq) ? blocks.block_table(e.seq).size() : 0)) +
                  " more needed (--kv-blocks)";
      }
      if (!problem.empty()) {
        // Undo the entries grown so far (grow() itself changes nothing when it fails).
        for (size_t i = 0; i + 1 < old_lengths.size(); ++i) {
          if (old_lengths[i] == 0) blocks.release(entries[i].seq);
          else blocks.truncate(entries[i].seq, old_lengths[i]);
        }
        throw Error(problem);
      }
    }
  }

  // One step: the entries' tokens as one flat batch, each sequence continuing
  // at its own length. Logit rows come back entry by entry, in order.
  std::span<const float> step(std::span<const StepEntry> entries) {
    result.clear();
    uint32_t n = 0, rows_wanted = 0;
    bool decode = !entries.empty(), top = false;
    for (const StepEntry& e : entries) {
      if (e.tokens.empty()) throw Error("a step entry without tokens");
      n += uint32_t(e.tokens.size());
      rows_wanted += e.logits == Logits::All ? uint32_t(e.tokens.size()) : 1;
      if (e.logits == Logits::Top && !opt.device_top_k) throw Error("a step entry wants its best logits, which this runner does not compute");
      top = top || e.logits == Logits::Top;
      decode = decode && e.tokens.size() == 1;
    }
    if (n == 0) return {};
    if (entries.size() > opt.max_seqs) {
      throw Error("a step of " + std::to_string(entries.size()) + " sequences, the runner takes " +
                  std::to_string(opt.max_seqs));
    }
    if (n > capacity) throw Error("a step of " + std::to_string(n) + " tokens, the runner takes " + std::to_string(capacity));
    if (rows_wanted > kMaxLogitRows) {
      throw Error("a step asking for " + std::to_string(rows_wanted) + " logit rows, at most " +
                  std::to_string(kMaxLogitRows));
    }
    grow_all(entries);

    const uint32_t T = bucket_for(n, decode ? opt.max_seqs : capacity);
    // Logit rows are padded to a bucket too; the padding repeats row 0.
    const uint32_t R = std::min(bucket_for(rows_wanted, kMaxLogitRows), T);
    auto* id_words = reinterpret_cast<uint32_t*>(ids.mapped);
    auto* rows = reinterpret_cast<uint32_t*>(logit_rows.mapped);
    step_rows.clear();
    step_positions.clear();
    uint32_t t = 0, r = 0;
    for (size_t i = 0; i < entries.size(); ++i) {
      const StepEntry& e = entries[i];
      for (size_t j = 0; j < e.tokens.size(); ++j, ++t) {
        id_words[t] = uint32_t(e.tokens[j]);
        step_rows.push_back(uint32_t(i));
        step_positions.push_back(step_starts[i] + uint32_t(j));
        if (e.logits == Logits::All || j + 1 == e.tokens.size()) rows[r++] = t;
      }
      step_tables[i].assign(blocks.block_table(e.seq).begin(), blocks.block_table(e.seq).end());
    }
    for (; t < T; ++t) id_words[t] = 0;
    for (uint32_t k = r; k < R; ++k) rows[k] = rows[0];
    (decode ? *decode_plan : *prefill_plan).set_batch(step_rows, step_positions, std::span(step_tables).first(entries.size()));

    last_graph = &graph_for(T, R, decode, top);
    last_graph->run();
    const float* out = reinterpret_cast<const float*>(logits.mapped);
    const auto* pairs = reinterpret_cast<const ops::TopKPair*>(top_pairs.mapped);
    top_result.clear();
    top_rows.clear();
    r = 0;
    for (const StepEntry& e : entries) {
      const uint32_t count = e.logits == Logits::All ? uint32_t(e.tokens.size()) : 1;
      if (e.logits == Logits::Top) {
        top_rows.push_back(r);
        for (uint32_t j = 0; j < top_count(); ++j) {
          const ops::TopKPair& p = pairs[size_t(r) * ops::kTopK + j];
          top_result.push_back({int32_t(p.index), p.value});
        }
      } else if (e.logits != Logits::None) {
        result.insert(result.end(), out + size_t(r) * d.vocab, out + size_t(r + count) * d.vocab);
      }
      r += count;
    }
    return result;
  }

  uint32_t top_count() const { return opt.device_top_k ? std::min(ops::kTopK, d.vocab) : 0; }

  std::span<const float> forward(SeqId seq, std::span<const int32_t> tokens, bool all_logits) {
    if (tokens.empty()) {
      result.clear();
      return {};
    }
    const uint32_t chunk = all_logits ? std::min(capacity, kMaxLogitRows) : capacity;
    std::vector<float> rows;  // all_logits: every chunk's rows (perplexity; not a decode path)
    for (uint32_t done = 0; done < tokens.size(); done += chunk) {
      const uint32_t n = std::min<uint32_t>(chunk, uint32_t(tokens.size()) - done);
      const bool last = done + n == tokens.size();
      const Logits want = all_logits ? Logits::All : last ? Logits::Last : Logits::None;
      const StepEntry entry{seq, tokens.subspan(done, n), want};
      auto out = step(std::span<const StepEntry>(&entry, 1));
      if (all_logits) rows.insert(rows.end(), out.begin(), out.end());
    }
    if (all_logits) result = std::move(rows);
    return result;
  }
};

ModelRunner::ModelRunner(vk::Context& ctx, const Model& model, const RunnerOptions& options)
    : impl_(std::make_unique<Impl>(ctx, model, options)) {}
ModelRunner::~ModelRunner() = default;

std::span<const float> ModelRunner::forward(SeqId seq, std::span<const int32_t> tokens, bool all_logits) {
  return impl_->forward(seq, tokens, all_logits);
}
std::span<const float> ModelRunner::step(std::span<const StepEntry> entries) { return impl_->step(entries); }
std::span<const TokenLogit> ModelRunner::top_logits(uint32_t i) const {
  if (i >= impl_->top_rows.size()) throw Error("the last step has no Logits::Top entry " + std::to_string(i));
  return std::span(impl_->top_result).subspan(size_t(i) * impl_->top_count(), impl_->top_count());
}
std::span<const float> ModelRunner::top_row(uint32_t i) const {
  if (i >= impl_->top_rows.size()) throw Error("the last step has no Logits::Top entry " + std::to_string(i));
  const auto* out = reinterpret_cast<const float*>(impl_->logits.mapped);
  return {out + size_t(impl_->top_rows[i]) * impl_->d.vocab, impl_->d.vocab};
}
uint32_t ModelRunner::top_count() const { return impl_->top_count(); }
uint32_t ModelRunner::max_seqs() const { return impl_->opt.max_seqs; }
BlockManager& ModelRunner::blocks() { return impl_->blocks; }
uint32_t ModelRunner::sequence_length(SeqId seq) const {
  return impl_->blocks.has_sequence(seq) ? impl_->blocks.length(seq) : 0;
}
void ModelRunner::truncate(SeqId seq, uint32_t length) { impl_->blocks.truncate(seq, length); }
void ModelRunner::release(SeqId seq) { impl_->blocks.release(seq); }
uint32_t ModelRunner::context() const { return impl_->opt.context; }
uint32_t ModelRunner::step_tokens() const { return impl_->capacity; }
uint32_t ModelRunner::token_capacity() const {
  return uint32_t(std::min<uint64_t>(impl_->opt.context, uint64_t(impl_->num_blocks) * impl_->opt.kv_block_size));
}

void ModelRunner::prepare_steps() {
  Impl& m = *impl_;
  const bool top = m.opt.device_top_k;
  const uint32_t seqs = m.opt.max_seqs;
  for (uint32_t n = 1;; n = std::min(2 * n, seqs)) {
    const uint32_t T = bucket_for(n, seqs);
    m.graph_for(T, std::min(bucket_for(n, kMaxLogitRows), T), true, top).warm_up();
    if (n == seqs) break;
  }
  for (uint32_t n : {2u, 4u, 8u, 16u}) {
    const uint32_t T = bucket_for(n, m.capacity);
    m.graph_for(T, 1, false, top).warm_up();
    if (n == 16) m.graph_for(T, std::min(bucket_for(n, kMaxLogitRows), T), false, top).warm_up();
  }
}

double ModelRunner::take_setup_ms() { return std::exchange(impl_->setup_ms, 0.0); }

uint32_t ModelRunner::tiled_matrices() const {
  const DeviceWeights& w = impl_->w;
  uint32_t n = w.token_embd.tile_rows || w.output.tile_rows ? 1 : 0;
  for (const LayerWeights& L : w.layers) {
    for (const DeviceMatrix* m : {&L.qkv, &L.attn_output, &L.gate_up, &L.down}) n += m->tile_rows ? 1 : 0;
  }
  return n;
}
std::string ModelRunner::tile_cache_outcome() const {
  return impl_->tile_cache ? impl_->tile_cache->outcome() : "";
}
uint32_t ModelRunner::vocab_size() const { return impl_->d.vocab; }
KvStats ModelRunner::kv_stats() const { return impl_->blocks.stats(); }

DecodeProfile ModelRunner::decode_profile() {
  const graph::Graph& g = impl_->graph_for(1, 1, true, false);
  const ModelDesc& d = impl_->d;
  const DeviceWeights& w = impl_->w;
  DecodeProfile p;
  p.dispatches = uint32_t(g.node_count());
  p.barriers = uint32_t(g.barrier_count());
  p.pipelines = uint32_t(g.pipeline_count());
  p.prespecialized = uint32_t(g.prespecialized_pipeline_count());
  p.layers = d.n_layers;
  p.weight_bytes_per_token = ops::weight_row_bytes(w.token_embd.type, w.token_embd.cols) + matrix_bytes(w.output);
  for (const LayerWeights& L : w.layers) {
    p.weight_bytes_per_token += matrix_bytes(L.qkv) + matrix_bytes(L.attn_output);
    if (d.is_moe()) {
      // A token reads its top-k experts of the stacked E.
      const uint64_t experts = matrix_bytes(L.exps_gate_up) + matrix_bytes(L.exps_down);
      p.weight_bytes_per_token += matrix_bytes(L.router) + experts * d.moe.top_k / d.moe.n_experts;
      for (size_t s = 0; s < L.shexp_gate_up.size(); ++s) {
        p.weight_bytes_per_token += matrix_bytes(L.shexp_gate_up[s]) + matrix_bytes(L.shexp_down[s]);
      }
    } else {
      p.weight_bytes_per_token += matrix_bytes(L.gate_up) + matrix_bytes(L.down);
    }
  }
  return p;
}
std::vector<graph::NodeTiming> ModelRunner::last_step_timings() const {
  return impl_->last_graph ? impl_->last_graph->timings() : std::vector<graph::NodeTiming>{};
}

}  // namespace vkmind
