#include "runtime/ops/matmul.h"

#include <algorithm>
#include <string>

#include "runtime/vk/error.h"
#include "shaders/push_constants.h"

namespace vkmind::ops {

namespace {

// matmul.comp tiles: WG = (BM / TM) * (BN / TN); shared memory BK * (BM + BN + 2) floats.
struct Tiles {
  uint32_t bm, bn, bk, tm, tn;
  uint32_t workgroup() const { return (bm / tm) * (bn / tn); }
};

Tiles matmul_tiles(const vk::DeviceReport& report) {
  // 128 threads, 8 x 4 outputs each, 16.6 KiB of shared memory. On lavapipe
  // this ran 2x faster than 64 x 64 x 16 tiles with 4 x 4 per thread (256 threads).
  Tiles t{64, 64, 32, 8, 4};
  if (uint64_t(t.bk) * (t.bm + t.bn + 2) * 4 > report.max_shared_memory ||
      t.workgroup() > report.max_workgroup_invocations) {
    t = {32, 32, 16, 4, 4};  // 64 threads, 4.2 KiB
  }
  return t;
}

// Wide loads need W rows and x rows on 4-element boundaries (weights.glsl):
// x rows are K floats apart from a 16-byte aligned start, W rows K units apart
// from unit_offset (chunks start 16-byte aligned); blocked rows are read in
// 16-bit words and need only whole blocks.
bool vector_loads(const WeightView& w, const WeightChunk& chunk, const vk::BufferSlice& x) {
  if (w.cols % 4 != 0 || x.offset % 16 != 0) return false;
  if (is_block_quantized(w.type)) return true;
  return chunk.unit_offset % 4 == 0;
}

// matvec.comp WEIGHT_TEXELS, on a view the device allows (offset alignment,
// maxTexelBufferElements). Float weights are read a 16-byte texel at a time:
// their rows must start on texels, and x is read through texels too (K is
// then a multiple of 4, so its rows are whole texels). Blocked weights only
// fetch their 16-bit words through texels, from any unit offset.
bool float_type(TensorType t) { return t == TensorType::F32 || t == TensorType::F16 || t == TensorType::BF16; }

// The chunk's binding grown to whole 16-byte texels. Chunks start 16-byte
// aligned and vk::Arena's buffers are whole multiples of 256 bytes, so the few
// bytes added stay inside the buffer (at worst a neighbour's, never read).
vk::BufferSlice whole_texels(vk::BufferSlice s) {
  s.size = (s.size + 15) / 16 * 16;
  return s;
}

bool texel_loads(const vk::DeviceReport& report, const WeightView& w, const WeightChunk& chunk,
                 const vk::BufferSlice& x, const vk::BufferSlice* norm_weight) {
  const uint64_t align = std::max<uint64_t>(report.min_texel_buffer_offset_alignment, 1);
  // The texel variants' one-subgroup reduction shuffles (matvec.comp reduce_scatter_store).
  const bool view_allowed = report.storage_texel_rgba32ui && report.subgroup_shuffle &&
                            chunk.binding.offset % align == 0 &&
                            whole_texels(chunk.binding).size / 16 <= report.max_texel_buffer_elements;
  if (!view_allowed) return false;
  if (!float_type(w.type)) return true;
  const uint32_t unit = weight_unit_bytes(w.type), per_texel = 16 / unit;
  const auto texel_aligned = [&](uint64_t offset) { return offset % 16 == 0 && offset % align == 0; };
  return w.cols % per_texel == 0 && chunk.unit_offset % per_texel == 0 && texel_aligned(x.offset) &&
         (!norm_weight || texel_aligned(norm_weight->offset));
}

}  // namespace

// GPUs: a few subgroups per workgroup keep enough loads in flight, and two
// rows share each x load. lavapipe runs one subgroup (8 lanes) as one SIMD
// vector: a single-subgroup workgroup needs no barrier (which it implements
// with coroutine switches), many rows share each x load and fewer, larger
// workgroups cost less to hand out to its threads. Measured on the
// minimind-3-size bench model, f16 (2-core EPYC): tg32 with 8 / 16 / 32 / 64 /
// 128 rows 26-29 / 32-38 / 47-55 / 50 / 39-45 t/s, pp128 with 16 / 32 rows
// 277-294 / 316-325 (each x texel gather then serves 32 rows: gathers, not
// the arithmetic, bound it), at a price paid once per machine: 32 rows x 8
// tokens compile for seconds (a cold `bench -p 16` 4.7 -> 6.1 s, Mesa's
// shader cache keeps the result); blocked types (read
// with w_words8) with 8 / 16 / 32 rows: q8_0 tg32 35 / 48 / 48, pp128 87 /
// 123 / 50; q4_k_m tg32 29 / 33 / 25, pp128 83 / 117 / 49.
MatvecShape matvec_shape(const vk::DeviceReport& report, TensorType type) {
  if (report.type == "CPU") {
    return {report.subgroup_size, is_block_quantized(type) ? 16u : 32u};
  }
  return {std::clamp<uint32_t>(report.subgroup_size * 4, 32, 256), 2};
}

bool fits_one_binding(const vk::Device& device, const WeightView& w) {
  return weight_chunks(device, w, 0, w.rows).size() == 1;
}

void matmul(vk::Context& ctx, graph::Graph& g, const WeightView& w, const vk::BufferSlice& x,
            const vk::BufferSlice& y, uint32_t n_tokens, const MatmulOptions& options) {
  check_weight(w, "matmul");
  if (n_tokens == 0) return;
  const bool swiglu = options.epilogue == Epilogue::SwiGLU;
  const bool norm = options.norm_weight.buffer != VK_NULL_HANDLE;
  if (options.row_begin >= w.rows) throw Error("matmul: row_begin " + std::to_string(options.row_begin) + " >= rows");
  const uint32_t w_rows = options.row_count ? options.row_count : w.rows - options.row_begin;
  if (w_rows > w.rows - options.row_begin) throw Error("matmul: row range past the last row of the weight");
  if (swiglu && (options.row_begin != 0 || w_rows != w.rows || w.rows % 2 != 0)) {
    throw Error("matmul: a SwiGLU epilogue takes a whole [gate; up] weight of an even row count, not " +
                std::to_string(w_rows) + " rows from row " + std::to_string(options.row_begin));
  }
  const uint32_t rows = swiglu ? w_rows / 2 : w_rows;  // output rows
  const uint32_t K = w.cols;
  const uint32_t y_stride = options.y_stride ? options.y_stride : rows;
  if (uint64_t(options.y_offset) + rows > y_stride && n_tokens > 1) {
    throw Error("matmul: y_offset + rows exceeds y_stride");
  }
  const uint64_t x_bytes = uint64_t(n_tokens) * K * 4;
  const uint64_t y_bytes = (uint64_t(n_tokens - 1) * y_stride + options.y_offset + rows) * 4;
  if (x.size < x_bytes) throw Error("matmul: x holds " + std::to_string(x.size) + " bytes, needs " + std::to_string(x_bytes));
  if (y.size < y_bytes) throw Error("matmul: y holds " + std::to_string(y.size) + " bytes, needs " + std::to_string(y_bytes));
  if (norm && options.norm_weight.size < uint64_t(K) * 4) {
    throw Error("matmul: the input norm's weight holds " + std::to_string(options.norm_weight.size) +
                " bytes, needs " + std::to_string(uint64_t(K) * 4));
  }

  const vk::DeviceReport& report = ctx.device().report();
  MatmulPath path = options.path;
  if (path == MatmulPath::Auto) {
    // Without subgroup arithmetic the tiled kernel (no subgroup ops) serves every size.
    // Texel fetches are what lavapipe vectorises (weights.glsl); GPUs keep
    // the storage-buffer path, which is what they are tuned and tested with.
    // On CPU devices the texel matvec (8 tokens per weight read) also beats
    // the tiled kernel at prefill, whose shared-memory traffic lavapipe runs
    // lane by lane: minimind-3 size, pp128 38 -> 91 tokens/s.
    const bool cpu = report.type == "CPU";
    // Blocked weights likewise (their words through texels): minimind-3 size,
    // q8_0 pp128 29 -> 66 tokens/s, tg32 9 -> 16; q4_k_m 30 -> 45, 8 -> 10.5.
    if (!report.subgroup_arithmetic) {
      path = MatmulPath::Tiled;
    } else if (cpu) {
      path = MatmulPath::VectorTexels;
    } else {
      path = n_tokens <= kMatvecMaxTokens ? MatmulPath::Vector : MatmulPath::Tiled;
    }
  }
  if (path != MatmulPath::Tiled && !report.subgroup_arithmetic) {
    throw Error("matmul: the matrix-vector kernel needs subgroup arithmetic, which this device lacks");
  }

  // Bind exactly what is read and written so the graph's barriers stay precise.
  const vk::BufferSlice x_used = x.sub(0, x_bytes);
  const vk::BufferSlice y_used = y.sub(0, y_bytes);
  const graph::Binding y_binding =
      options.epilogue == Epilogue::Accumulate ? graph::updates(y_used) : graph::writes(y_used);
  const uint32_t fusion[2] = {uint32_t(norm), uint32_t(options.epilogue)};
  const std::string suffix = weight_kernel_suffix(w.type);
  const auto chunks = weight_chunks(ctx.device(), w, options.row_begin, w_rows);
  if (swiglu && chunks.size() != 1) {
    throw Error("matmul: a SwiGLU weight of " + std::to_string(w.rows) + " rows is larger than one binding");
  }
  for (const WeightChunk& chunk : chunks) {
    const bool vec = vector_loads(w, chunk, x);
    const uint32_t chunk_rows = swiglu ? rows : chunk.rows;
    push::Matmul pc{chunk_rows, K, n_tokens, chunk.unit_offset, K, y_stride,
                    options.y_offset + (chunk.row_begin - options.row_begin), options.norm_eps,
                    uint32_t(norm), uint32_t(options.epilogue)};
    // Without a norm, binding 3 (its weight) is the chunk again: every declared binding is bound.
    std::vector<graph::Binding> bindings{graph::reads(chunk.binding), graph::reads(x_used), y_binding,
                                         graph::reads(norm ? options.norm_weight.sub(0, uint64_t(K) * 4) : chunk.binding)};
    if (path != MatmulPath::Tiled) {
      const bool texels = path == MatmulPath::VectorTexels && texel_loads(report, w, chunk, x, norm ? &options.norm_weight : nullptr);
      // x (and the norm weight, binding 3) through texels too, for float weights.
      const bool x_texels = texels && float_type(w.type);
      if (w.tile_rows && !(x_texels && w.tile_cols == matvec_shape(report, w.type).workgroup * 16 / weight_unit_bytes(w.type))) {
        throw Error("matmul: a tiled weight is read only by the texel matvec of a CPU device, with tiles as wide as its step");
      }
      if (texels) bindings[0] = graph::reads_texels(whole_texels(chunk.binding));
      if (x_texels) {
        bindings[1] = graph::reads_texels(x_used);
        bindings[3] = graph::reads_texels(norm ? options.norm_weight.sub(0, uint64_t(K) * 4) : x_used);
      }
      std::string kernel = texels ? "matvec_texel_" : "matvec_";
      kernel += suffix;
      const auto [wg, rows_per_group] = matvec_shape(report, w.type);
      const uint32_t nt = std::min(n_tokens, kMatvecMaxTokens);
      // Token groups first: the workgroups that follow one another (on
      // lavapipe, on the same thread) read the same rows of W, from cache.
      const uint32_t tokens_fast = n_tokens > nt ? 1u : 0u;
      // Bounds the subgroups per workgroup (the shared-memory partial sums).
      const uint32_t min_subgroup = std::max(std::min(report.min_subgroup_size, report.subgroup_size), 1u);
      // Fusions as push constants in a decode step (one pipeline for all its
      // matrices), as specialization constants in prefill's token groups (matvec.comp).
      const uint32_t pushed = tokens_fast ? 0u : 1u;
      const auto& pipeline = ctx.pipeline({kernel, 4, sizeof(push::Matmul),
                                           {wg, rows_per_group, nt, uint32_t(vec), min_subgroup, w.tile_rows,
                                            tokens_fast, pushed, pushed ? 0u : fusion[0], pushed ? 0u : fusion[1]},
                                           (texels ? 1u : 0u) | (x_texels ? 2u | 8u : 0u)});
      // Row groups over x (y when tokens_fast), and over z past the workgroup-count limit (vocab-sized outputs).
      const uint32_t out_per_group = swiglu ? rows_per_group / 2 : rows_per_group;
      const uint32_t row_groups = (chunk_rows + out_per_group - 1) / out_per_group;
      const uint32_t max_x = std::min<uint32_t>(report.max_workgroup_count[0], 65535);
      const uint32_t max_y = std::min<uint32_t>(report.max_workgroup_count[1], 65535);
      const uint32_t gx = std::min(row_groups, tokens_fast ? max_y : max_x);
      const uint32_t token_groups = (n_tokens + nt - 1) / nt;
      if (tokens_fast)
        g.dispatch(pipeline, std::move(bindings), pc, {token_groups, gx, (row_groups + gx - 1) / gx}, kernel);
      else
        g.dispatch(pipeline, std::move(bindings), pc, {gx, token_groups, (row_groups + gx - 1) / gx}, kernel);
    } else {
      if (w.tile_rows) throw Error("matmul: the shared-memory GEMM path reads row-major weights only, not a tiled weight");
      const Tiles t = matmul_tiles(report);
      const auto& pipeline = ctx.pipeline({"matmul_" + suffix, 4, sizeof(push::Matmul),
                                           {t.workgroup(), t.bm, t.bn, t.bk, t.tm, t.tn, uint32_t(vec), fusion[0],
                                            fusion[1]}});
      const uint32_t out_per_tile = swiglu ? t.bm / 2 : t.bm;
      g.dispatch(pipeline, std::move(bindings), pc,
                 {(chunk_rows + out_per_tile - 1) / out_per_tile, (n_tokens + t.bn - 1) / t.bn, 1}, "matmul_" + suffix);
    }
  }
}

}  // namespace vkmind::ops
