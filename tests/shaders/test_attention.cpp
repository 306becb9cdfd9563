// Paged KV append and GQA flash attention against a plain CPU reference.
//
// The reference keeps each sequence's K/V contiguous (no paging) and
// accumulates in double. With f16 KV it uses the same f16-rounded k/v the
// pool holds (round to nearest even; the kv_append test checks the pool
// holds exactly those), so the only differences left are f32 arithmetic and
// exp: outputs (weighted means of values in [-1, 1]) must match within 1e-4.
// Block tables are shuffled physical blocks; sequence lengths are not
// multiples of the block size.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>

#include "runtime/ops/attention.h"
#include "runtime/ops/kv_append.h"
#include "runtime/vk/error.h"
#include "tests/shaders/gpu_fixture.h"

using namespace vkmind;
using ops::KvType;

namespace {

constexpr double kTolerance = 1e-4;

uint16_t to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint16_t sign = uint16_t((x >> 16) & 0x8000);
  x &= 0x7fffffff;
  if (x >= 0x7f800000) return sign | 0x7c00 | (x > 0x7f800000 ? 0x200 : 0);
  if (x >= 0x477ff000) return sign | 0x7c00;  // rounds past 65504
  if (x < 0x38800000) {                        // below 2^-14: subnormal, exact scaling then RNE
    float a;
    std::memcpy(&a, &x, 4);
    return sign | uint16_t(std::nearbyint(a * 16777216.0f));
  }
  uint32_t h = (x - 0x38000000) >> 13;
  const uint32_t rest = x & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) ++h;
  return uint16_t(sign | h);
}

float from_half(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  const uint32_t e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e == 0) return (sign ? -1.0f : 1.0f) * float(m) / 16777216.0f;
  uint32_t x = e == 31 ? sign | 0x7f800000 | (m << 13) : sign | ((e + 112) << 23) | (m << 13);
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

float kv_round(float x, KvType type) { return type == KvType::F16 ? from_half(to_half(x)) : x; }

const char* kernel_name(ops::DecodeKernel k) {
  return k == ops::DecodeKernel::Tiled ? "tiled" : k == ops::DecodeKernel::Subgroup ? "subgroup" : "auto";
}

struct Seq {
  uint32_t cached;  // positions already in the cache before this step
  uint32_t fresh;   // new tokens this step (positions cached .. cached + fresh - 1)
};

struct Case {
  uint32_t n_heads, n_kv_heads, head_dim, block_size;
  KvType kv;
  std::vector<Seq> seqs;
  ops::AttentionTuning tuning{};
};

// One sequence's data: K, V [len][n_kv][hd] (already KV-rounded), Q of the fresh tokens.
struct SeqData {
  std::vector<float> k, v, q;
  std::vector<uint32_t> blocks;
};

struct Outcome {
  double max_err = 0;
  ops::AttentionStep step;
  bool prefill_lanes = false;
};

class AttentionRig : public test::GpuFixture {
 public:
  Outcome run(const Case& c, uint32_t seed, uint32_t q_pad = 0, uint32_t out_pad = 0) {
    const uint32_t hd = c.head_dim, nkv = c.n_kv_heads, nh = c.n_heads, n_rep = nh / nkv;
    const uint32_t kv_width = nkv * hd, q_width = nh * hd + q_pad, out_width = nh * hd + out_pad;
    std::mt19937 rng(seed);

    // Shuffled physical blocks, three spare so ids are not simply 0..n-1.
    uint32_t num_blocks = 3, max_blocks = 0;
    for (const Seq& s : c.seqs) {
      const uint32_t nb = (s.cached + s.fresh + c.block_size - 1) / c.block_size;
      num_blocks += nb;
      max_blocks = std::max(max_blocks, nb);
    }
    std::vector<uint32_t> ids(num_blocks);
    std::iota(ids.begin(), ids.end(), 0);
    std::shuffle(ids.begin(), ids.end(), rng);

    std::vector<SeqData> data(c.seqs.size());
    std::vector<float> cached_k, cached_v;
    std::vector<uint32_t> cached_slots, rows, positions;
    uint32_t next_id = 0, T = 0;
    for (size_t si = 0; si < c.seqs.size(); ++si) {
      const Seq& s = c.seqs[si];
      const uint32_t len = s.cached + s.fresh;
      SeqData& d = data[si];
      d.k = test::random_floats(size_t(len) * kv_width, rng());
      d.v = test::random_floats(size_t(len) * kv_width, rng());
      // Larger queries make the softmax peaked, so masking and rescaling errors show.
      d.q = test::random_floats(size_t(s.fresh) * nh * hd, rng(), -2.0f, 2.0f);
      for (uint32_t b = 0; b < (len + c.block_size - 1) / c.block_size; ++b) d.blocks.push_back(ids[next_id++]);
      for (uint32_t p = 0; p < s.cached; ++p) {
        cached_k.insert(cached_k.end(), d.k.begin() + p * kv_width, d.k.begin() + (p + 1) * kv_width);
        cached_v.insert(cached_v.end(), d.v.begin() + p * kv_width, d.v.begin() + (p + 1) * kv_width);
        cached_slots.push_back(d.blocks[p / c.block_size] * c.block_size + p % c.block_size);
      }
      for (uint32_t p = s.cached; p < len; ++p) {
        rows.push_back(uint32_t(si));
        positions.push_back(p);
      }
      T += s.fresh;
    }

    ops::AttentionShape shape{nh, nkv, hd, c.block_size, c.kv, num_blocks, T, uint32_t(c.seqs.size()), max_blocks};
    ops::AttentionPlan plan(ctx, host_arena, device_arena, shape, c.tuning);
    std::vector<std::vector<uint32_t>> tables;
    for (const auto& d : data) tables.push_back(d.blocks);
    plan.set_batch(rows, positions, tables);

    // This step's k, v, q in batch order.
    std::vector<float> k(size_t(T) * kv_width), v(k.size()), q(size_t(T) * q_width, 0.0f);
    uint32_t t = 0;
    for (size_t si = 0; si < c.seqs.size(); ++si) {
      for (uint32_t i = 0; i < c.seqs[si].fresh; ++i, ++t) {
        const uint32_t p = c.seqs[si].cached + i;
        std::copy_n(data[si].k.begin() + p * kv_width, kv_width, k.begin() + t * kv_width);
        std::copy_n(data[si].v.begin() + p * kv_width, kv_width, v.begin() + t * kv_width);
        std::copy_n(data[si].q.begin() + i * nh * hd, nh * hd, q.begin() + t * q_width);
      }
    }

    const ops::KvLayout layout = shape.kv_layout();
    auto k_pool = device_buffer(layout.pool_bytes(num_blocks));
    auto v_pool = device_buffer(layout.pool_bytes(num_blocks));
    auto dq = upload(q), dk = upload(k), dv = upload(v);
    auto out = device_buffer(size_t(T) * out_width * 4);
    graph::Graph g(ctx.device());
    if (!cached_slots.empty()) {
      ops::kv_append(ctx, g, layout, upload(cached_k), upload(cached_v), upload(cached_slots), k_pool, v_pool,
                     uint32_t(cached_slots.size()));
    }
    ops::kv_append(ctx, g, layout, dk, dv, plan.slot_mapping(), k_pool, v_pool, T);
    ops::attention(ctx, g, plan, dq, k_pool, v_pool, out, q_width, out_width);
    g.run();
    const auto got = download<float>(out, size_t(T) * out_width);

    // Reference: contiguous K/V per sequence, double accumulation.
    Outcome result;
    result.step = plan.step();
    result.prefill_lanes = plan.prefill_lanes();
    const double scale = 1.0 / std::sqrt(double(hd));
    t = 0;
    for (size_t si = 0; si < c.seqs.size(); ++si) {
      const SeqData& d = data[si];
      for (uint32_t i = 0; i < c.seqs[si].fresh; ++i, ++t) {
        const uint32_t p = c.seqs[si].cached + i;
        for (uint32_t h = 0; h < nh; ++h) {
          const uint32_t kvh = h / n_rep;
          const float* qh = &d.q[(size_t(i) * nh + h) * hd];
          std::vector<double> w(p + 1);
          double mx = -1e300;
          for (uint32_t j = 0; j <= p; ++j) {
            double s = 0;
            for (uint32_t x = 0; x < hd; ++x) s += double(qh[x]) * kv_round(d.k[(size_t(j) * nkv + kvh) * hd + x], c.kv);
            w[j] = s * scale;
            mx = std::max(mx, w[j]);
          }
          double sum = 0;
          for (double& x : w) sum += (x = std::exp(x - mx));
          for (uint32_t x = 0; x < hd; ++x) {
            double o = 0;
            for (uint32_t j = 0; j <= p; ++j) o += w[j] * kv_round(d.v[(size_t(j) * nkv + kvh) * hd + x], c.kv);
            o /= sum;
            result.max_err = std::max(result.max_err, std::fabs(o - double(got[size_t(t) * out_width + h * hd + x])));
          }
        }
      }
    }
    return result;
  }
};

const char* name(KvType t) { return t == KvType::F16 ? "f16" : "f32"; }

}  // namespace

TEST_CASE_METHOD(test::GpuFixture, "kv_append writes each token into its paged slot", "[shaders][kv_append]") {
  for (KvType type : {KvType::F16, KvType::F32}) {
    for (uint32_t bs : {8u, 16u, 32u}) {
      CAPTURE(name(type), bs);
      const ops::KvLayout layout{3, 10, bs, type};
      const uint32_t tokens = 23, blocks = 5, width = 3 * 10, stride = width + 4;  // padded source rows
      auto k = test::random_floats(size_t(tokens) * stride, 11);
      auto v = test::random_floats(size_t(tokens) * stride, 12);
      std::vector<uint32_t> all(blocks * bs);
      std::iota(all.begin(), all.end(), 0);
      std::shuffle(all.begin(), all.end(), std::mt19937(bs));
      std::vector<uint32_t> slots(all.begin(), all.begin() + tokens);
      slots[5] = ops::kNoSlot;  // padding token: skipped
      const size_t elems = layout.pool_bytes(blocks) / layout.element_bytes();
      // Pools start as a sentinel pattern that must survive outside the written slots.
      std::vector<uint8_t> init(layout.pool_bytes(blocks), 0x5a);
      auto kp = upload(init), vp = upload(init);
      graph::Graph g(ctx.device());
      ops::kv_append(ctx, g, layout, upload(k), upload(v), upload(slots), kp, vp, tokens, stride);
      g.run();
      auto got_k = download<uint8_t>(kp, init.size()), got_v = download<uint8_t>(vp, init.size());
      std::vector<uint8_t> want_k = init, want_v = init;
      for (uint32_t t = 0; t < tokens; ++t) {
        if (slots[t] == ops::kNoSlot) continue;
        for (uint32_t h = 0; h < 3; ++h)
          for (uint32_t x = 0; x < 10; ++x) {
            const size_t e = ((size_t(slots[t] / bs) * 3 + h) * bs + slots[t] % bs) * 10 + x;
            REQUIRE(e < elems);
            const float kv[2] = {k[t * stride + h * 10 + x], v[t * stride + h * 10 + x]};
            std::vector<uint8_t>* want[2] = {&want_k, &want_v};
            for (int i = 0; i < 2; ++i) {
              if (type == KvType::F16) {
                const uint16_t hbits = to_half(kv[i]);
                std::memcpy(want[i]->data() + e * 2, &hbits, 2);
              } else {
                std::memcpy(want[i]->data() + e * 4, &kv[i], 4);
              }
            }
          }
      }
      REQUIRE(got_k == want_k);
      REQUIRE(got_v == want_v);
    }
  }
}

const char* prefill_name(ops::PrefillKernel k) { return k == ops::PrefillKernel::Tiled ? "tiled" : "per-token"; }

// Tiled prefill makes tiles; per-token prefill tiles of a lane per token
// (attention_prefill_lanes) or one split item per prefill token.
void check_prefill_items(const Outcome& r, ops::PrefillKernel kernel, uint32_t prefill_tokens) {
  const ops::AttentionStep& step = r.step;
  if (kernel == ops::PrefillKernel::Tiled) {
    CHECK(step.tiles > 0);
  } else if (r.prefill_lanes) {
    CHECK(step.tiles > 0);
    CHECK(step.split_items < prefill_tokens);
  } else {
    CHECK(step.tiles == 0);
    CHECK(step.split_items >= prefill_tokens);
  }
}

TEST_CASE_METHOD(AttentionRig, "attention prefill: head dims x GQA ratios, several sequences", "[shaders][attention]") {
  uint32_t i = 0;
  for (auto kernel : {ops::PrefillKernel::Tiled, ops::PrefillKernel::PerToken}) {
  // 12: f16 rows that are not whole 16-byte texels (the storage-buffer variant on CPU devices).
  for (uint32_t hd : {8u, 12u, 64u, 96u, 128u}) {
    for (uint32_t n_rep : {1u, 2u, 4u, 8u}) {
      const uint32_t bs = std::array{8u, 16u, 32u}[i % 3];
      const KvType kv = i % 2 ? KvType::F32 : KvType::F16;
      CAPTURE(prefill_name(kernel), hd, n_rep, bs, name(kv));
      // Lengths not multiples of the block size; one single-token sequence rides the decode path.
      Case c{2 * n_rep, 2, hd, bs, kv, {{0, 37}, {0, 5}, {0, 1}, {0, 20}}};
      c.tuning.prefill_kernel = kernel;
      // f16 pools through texels and through storage buffers, alternately (CPU devices).
      c.tuning.kv_texels = (i / 2) % 2 == 0;
      CAPTURE(c.tuning.kv_texels);
      Outcome r = run(c, 100 + i++);
      CAPTURE(r.max_err);
      check_prefill_items(r, kernel, 62);
      CHECK(r.step.decode_tokens == 1);
      CHECK(r.max_err < kTolerance);
    }
  }
  }
}

TEST_CASE_METHOD(AttentionRig, "attention chunked prefill: queries after cached tokens", "[shaders][attention]") {
  uint32_t i = 0;
  for (uint32_t hd : {64u, 96u}) {
    for (uint32_t n_rep : {2u, 3u, 4u}) {
      for (int variant = 0; variant < 2; ++variant) {  // every block size and KV type, not every product
        const uint32_t bs = std::array{8u, 16u, 32u}[i % 3];
        const KvType kv = variant ? KvType::F32 : KvType::F16;
        CAPTURE(hd, n_rep, bs, name(kv));
        Case c{2 * n_rep, 2, hd, bs, kv, {{13, 7}, {40, 29}, {100, 3}}};
        // Both prefill kernels, alternately.
        const auto kernel = i % 2 ? ops::PrefillKernel::Tiled : ops::PrefillKernel::PerToken;
        c.tuning.prefill_kernel = kernel;
        CAPTURE(prefill_name(kernel));
        Outcome r = run(c, 200 + i++);
        CAPTURE(r.max_err);
        if (kernel == ops::PrefillKernel::Tiled) CHECK(r.step.tiles >= 3);
        else check_prefill_items(r, kernel, 39);
        CHECK(r.step.decode_tokens == 0);
        CHECK(r.max_err < kTolerance);
      }
    }
  }
}

TEST_CASE_METHOD(AttentionRig, "attention decode: long contexts split over workgroups and merged",
                 "[shaders][attention]") {
  uint32_t i = 0;
  for (auto kernel : {ops::DecodeKernel::Tiled, ops::DecodeKernel::Subgroup}) {
  for (uint32_t hd : {8u, 64u, 96u, 128u}) {
    for (uint32_t n_rep : {1u, 2u, 4u, 8u}) {
      const uint32_t bs = std::array{8u, 16u, 32u}[i % 3];
      const KvType kv = i % 2 ? KvType::F32 : KvType::F16;
      CAPTURE(kernel_name(kernel), hd, n_rep, bs, name(kv));
      // Forced splitting: 64-key splits, enough workgroups wanted to use them all.
      Case c{2 * n_rep, 2, hd, bs, kv, {{1100, 1}, {3, 1}, {517, 1}, {31, 1}, {0, 1}}, {64, 4096, 32, kernel}};
      Outcome r = run(c, 300 + i++);
      CAPTURE(r.max_err, r.step.most_splits);
      CHECK(r.step.tiles == 0);
      CHECK(r.step.decode_tokens == 5);
      CHECK(r.step.most_splits >= 17);  // 1101 keys in 64-key splits
      CHECK(r.step.merged_tokens == 2);  // contexts 1101 and 518; 4, 32 and 1 fit one split
      CHECK(r.max_err < kTolerance);
    }
  }
  }
}

TEST_CASE_METHOD(AttentionRig, "attention decode with the device's default splits", "[shaders][attention]") {
  for (KvType kv : {KvType::F16, KvType::F32}) {
    CAPTURE(name(kv));
    Case c{8, 2, 96, 16, kv, {{1500, 1}}};
    Outcome r = run(c, 400);
    CAPTURE(r.max_err, r.step.most_splits);
    CHECK(r.step.most_splits > 1);
    CHECK(r.max_err < kTolerance);
  }
}

TEST_CASE_METHOD(AttentionRig, "attention mixed batch: prefill, chunked prefill and decode in one step",
                 "[shaders][attention]") {
  for (auto kernel : {ops::DecodeKernel::Tiled, ops::DecodeKernel::Subgroup}) {
  for (uint32_t hd : {64u, 256u}) {
    for (uint32_t n_rep : {1u, 8u}) {
      CAPTURE(kernel_name(kernel), hd, n_rep);
      // Tiled prefill beside the tiled decode kernel, per-token beside the subgroup one.
      const auto prefill = kernel == ops::DecodeKernel::Tiled ? ops::PrefillKernel::Tiled : ops::PrefillKernel::PerToken;
      Case c{4 * n_rep, 4, hd, 16, KvType::F16, {{0, 19}, {700, 1}, {33, 17}, {5, 1}}, {128, 4096, 32, kernel, prefill}};
      Outcome r = run(c, 500 + hd + n_rep);
      CAPTURE(r.max_err);
      check_prefill_items(r, prefill, 36);
      CHECK(r.step.merged_tokens == 1);
      CHECK(r.max_err < kTolerance);
    }
  }
  }
}

TEST_CASE_METHOD(AttentionRig, "attention reads and writes strided rows", "[shaders][attention]") {
  Case c{6, 2, 64, 8, KvType::F32, {{9, 12}, {300, 1}}, {64, 4096, 32}};
  Outcome r = run(c, 600, /*q_pad=*/2 * 64, /*out_pad=*/64);
  CAPTURE(r.max_err);
  CHECK(r.max_err < kTolerance);
}

TEST_CASE_METHOD(test::GpuFixture, "attention graph replays with new batches", "[shaders][attention]") {
  // Recorded once for up to 24 tokens of 3 sequences, then run for two
  // different batches; rows of tokens a batch does not have stay untouched.
  const uint32_t nh = 4, nkv = 2, hd = 32, bs = 8, blocks = 40;
  ops::AttentionShape shape{nh, nkv, hd, bs, KvType::F32, blocks, 24, 3, 10};
  ops::AttentionPlan plan(ctx, host_arena, device_arena, shape, {32, 4096, 32});
  const ops::KvLayout layout = shape.kv_layout();
  auto k_pool = device_buffer(layout.pool_bytes(blocks)), v_pool = device_buffer(layout.pool_bytes(blocks));
  auto kbuf = host_arena.allocate(24 * nkv * hd * 4), vbuf = host_arena.allocate(24 * nkv * hd * 4);
  auto qbuf = host_arena.allocate(24 * nh * hd * 4), out = host_arena.allocate(24 * nh * hd * 4);
  graph::Graph g(ctx.device());
  ops::kv_append(ctx, g, layout, kbuf, vbuf, plan.slot_mapping(), k_pool, v_pool, 24);
  ops::attention(ctx, g, plan, qbuf, k_pool, v_pool, out);
  g.record();

  // Sequence rows 0 and 1 with blocks {7, 3} and {12, 30}; all keys live in
  // host copies here so the reference can see the whole context.
  std::vector<std::vector<uint32_t>> tables = {{7, 3, 19}, {12, 30}};
  std::vector<float> keys[2], vals[2];
  auto* kh = reinterpret_cast<float*>(kbuf.mapped);
  auto* vh = reinterpret_cast<float*>(vbuf.mapped);
  auto* qh = reinterpret_cast<float*>(qbuf.mapped);
  auto* oh = reinterpret_cast<float*>(out.mapped);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1, 1);
  struct Step {
    std::vector<uint32_t> rows, positions;
  };
  // Step 1: prefill 9 tokens of row 0 and 6 of row 1; step 2: decode one token each.
  for (const Step& st : {Step{{0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 2, 3, 4, 5}},
                         Step{{1, 0}, {6, 9}}}) {
    const uint32_t T = uint32_t(st.rows.size());
    for (uint32_t t = 0; t < T; ++t) {
      for (uint32_t i = 0; i < nkv * hd; ++i) {
        kh[t * nkv * hd + i] = dist(rng);
        vh[t * nkv * hd + i] = dist(rng);
      }
      auto& ks = keys[st.rows[t]];
      auto& vs = vals[st.rows[t]];
      REQUIRE(ks.size() == size_t(st.positions[t]) * nkv * hd);
      ks.insert(ks.end(), kh + t * nkv * hd, kh + (t + 1) * nkv * hd);
      vs.insert(vs.end(), vh + t * nkv * hd, vh + (t + 1) * nkv * hd);
      for (uint32_t i = 0; i < nh * hd; ++i) qh[t * nh * hd + i] = 2 * dist(rng);
    }
    std::fill(oh, oh + 24 * nh * hd, 1234.0f);
    plan.set_batch(st.rows, st.positions, tables);
    g.run();
    double err = 0;
    for (uint32_t t = 0; t < 24; ++t) {
      for (uint32_t h = 0; h < nh; ++h) {
        for (uint32_t x = 0; x < hd; ++x) {
          const float got = oh[(t * nh + h) * hd + x];
          if (t >= T) {
            REQUIRE(got == 1234.0f);
            continue;
          }
          const auto& ks = keys[st.rows[t]];
          const auto& vs = vals[st.rows[t]];
          const uint32_t p = st.positions[t], kvh = h / (nh / nkv);
          std::vector<double> w(p + 1);
          double mx = -1e300, sum = 0, o = 0;
          for (uint32_t j = 0; j <= p; ++j) {
            double s = 0;
            for (uint32_t y = 0; y < hd; ++y) s += double(qh[(t * nh + h) * hd + y]) * ks[(j * nkv + kvh) * hd + y];
            mx = std::max(mx, w[j] = s / std::sqrt(double(hd)));
          }
          for (uint32_t j = 0; j <= p; ++j) {
            w[j] = std::exp(w[j] - mx);
            sum += w[j];
            o += w[j] * vs[(j * nkv + kvh) * hd + x];
          }
          err = std::max(err, std::fabs(o / sum - got));
        }
      }
    }
    CAPTURE(T, err);
    CHECK(err < kTolerance);
  }
}

TEST_CASE_METHOD(AttentionRig, "attention decode: 32 small splits per token, merged in the split dispatch",
                 "[shaders][attention]") {
  uint32_t i = 0;
  for (auto kernel : {ops::DecodeKernel::Tiled, ops::DecodeKernel::Subgroup}) {
    for (uint32_t hd : {64u, 128u}) {
      for (uint32_t n_rep : {1u, 4u, 8u}) {
        const KvType kv = i % 2 ? KvType::F32 : KvType::F16;
        CAPTURE(kernel_name(kernel), hd, n_rep, name(kv));
        // 8-key splits at least, up to 32: 2048 and 1001 keys take all 32,
        // 78 keys a few (splits are whole key tiles), 6 keys one.
        Case c{2 * n_rep, 2, hd, 16, kv, {{1000, 1}, {77, 1}, {2047, 1}, {5, 1}}, {8, 4096, 32, kernel}};
        Outcome r = run(c, 700 + i++);
        CAPTURE(r.max_err);
        CHECK(r.step.most_splits == 32);
        CHECK(r.step.merged_tokens == 3);
        CHECK(r.max_err < kTolerance);
      }
    }
  }
}

TEST_CASE_METHOD(test::GpuFixture, "attention decode graph replays with changing split counts",
                 "[shaders][attention]") {
  // The arrival counters must be back at zero after every run: a replay with
  // fewer splits for the same token than the run before would otherwise
  // never see its last split, and leave its output unwritten.
  const uint32_t nh = 8, nkv = 2, hd = 64, bs = 16, seqs = 3, context = 1200, max_tokens = 8;
  const uint32_t per_seq = context / bs, blocks = seqs * per_seq, kv_width = nkv * hd, width = nh * hd;
  for (KvType kv : {KvType::F16, KvType::F32}) {
    for (auto kernel : {ops::DecodeKernel::Tiled, ops::DecodeKernel::Subgroup}) {
      CAPTURE(name(kv), kernel_name(kernel));
      // Every position of every sequence is in the cache up front, so a step
      // may put its tokens anywhere; keys[row] is what the pool holds.
      std::mt19937 rng(800);
      std::vector<uint32_t> ids(blocks);
      std::iota(ids.begin(), ids.end(), 0);
      std::shuffle(ids.begin(), ids.end(), rng);
      std::vector<std::vector<uint32_t>> tables(seqs);
      std::vector<float> keys[seqs], vals[seqs], all_k, all_v;
      std::vector<uint32_t> slots;
      for (uint32_t row = 0; row < seqs; ++row) {
        tables[row].assign(ids.begin() + row * per_seq, ids.begin() + (row + 1) * per_seq);
        keys[row] = test::random_floats(size_t(context) * kv_width, rng());
        vals[row] = test::random_floats(size_t(context) * kv_width, rng());
        all_k.insert(all_k.end(), keys[row].begin(), keys[row].end());
        all_v.insert(all_v.end(), vals[row].begin(), vals[row].end());
        for (float& x : keys[row]) x = kv_round(x, kv);
        for (float& x : vals[row]) x = kv_round(x, kv);
        for (uint32_t p = 0; p < context; ++p) slots.push_back(tables[row][p / bs] * bs + p % bs);
      }
      ops::AttentionShape shape{nh, nkv, hd, bs, kv, blocks, max_tokens, seqs, per_seq};
      const ops::KvLayout layout = shape.kv_layout();
      auto k_pool = device_buffer(layout.pool_bytes(blocks)), v_pool = device_buffer(layout.pool_bytes(blocks));
      {
        graph::Graph fill(ctx.device());
        ops::kv_append(ctx, fill, layout, upload(all_k), upload(all_v), upload(slots), k_pool, v_pool,
                       uint32_t(slots.size()));
        fill.run();
      }

      ops::AttentionPlan plan(ctx, host_arena, device_arena, shape, {32, 4096, 32, kernel, ops::PrefillKernel::Tiled});
      auto qbuf = host_arena.allocate(max_tokens * width * 4), out = host_arena.allocate(max_tokens * width * 4);
      graph::Graph g(ctx.device());
      ops::attention(ctx, g, plan, qbuf, k_pool, v_pool, out);
      g.record();
      // Prefill tiles and decode splits; the splits merge themselves.
      CHECK(g.node_count() == 2);
      auto* qh = reinterpret_cast<float*>(qbuf.mapped);
      auto* oh = reinterpret_cast<float*>(out.mapped);

      struct Step {
        std::vector<uint32_t> rows, positions;
      };
      // Token 0 goes from many splits to fewer and back; the fifth step mixes
      // a prefill run with decode tokens; the last is the first again.
      const Step steps[] = {{{0}, {1100}},
                            {{0, 1, 2}, {299, 500, 40}},
                            {{0}, {1100}},
                            {{2}, {63}},
                            {{1, 1, 1, 1, 0, 2}, {500, 501, 502, 503, 900, 7}},
                            {{0}, {1100}}};
      std::vector<uint32_t> split_counts;
      for (const Step& st : steps) {
        const uint32_t T = uint32_t(st.rows.size());
        plan.set_batch(st.rows, st.positions, tables);
        split_counts.push_back(plan.step().most_splits);
        for (uint32_t i = 0; i < T * width; ++i) qh[i] = 2 * std::uniform_real_distribution<float>(-1, 1)(rng);
        for (int replay = 0; replay < 2; ++replay) {  // the same batch twice
          std::fill(oh, oh + max_tokens * width, 1234.0f);
          g.run();
          double err = 0;
          for (uint32_t t = 0; t < max_tokens; ++t) {
            for (uint32_t h = 0; h < nh; ++h) {
              const uint32_t kvh = h / (nh / nkv);
              const float* q = qh + (t * nh + h) * hd;
              std::vector<double> w(t < T ? st.positions[t] + 1 : 0);
              double mx = -1e300, sum = 0;
              for (uint32_t j = 0; j < w.size(); ++j) {
                double s = 0;
                for (uint32_t x = 0; x < hd; ++x) s += double(q[x]) * keys[st.rows[t]][(j * nkv + kvh) * hd + x];
                mx = std::max(mx, w[j] = s / std::sqrt(double(hd)));
              }
              for (double& x : w) sum += (x = std::exp(x - mx));
              for (uint32_t x = 0; x < hd; ++x) {
                const float got = oh[(t * nh + h) * hd + x];
                if (t >= T) {
                  REQUIRE(got == 1234.0f);
                  continue;
                }
                double o = 0;
                for (uint32_t j = 0; j < w.size(); ++j) o += w[j] * vals[st.rows[t]][(j * nkv + kvh) * hd + x];
                err = std::max(err, std::fabs(o / sum - got));
              }
            }
          }
          CAPTURE(T, st.positions[0], plan.step().most_splits, replay, err);
          CHECK(err < kTolerance);
        }
      }
      // The splits really changed from run to run.
      CAPTURE(split_counts);
      CHECK(split_counts[0] > split_counts[1]);
      CHECK(split_counts[3] < split_counts[2]);
      CHECK(split_counts[0] > 1);
    }
  }
}

TEST_CASE_METHOD(test::GpuFixture, "attention plan refuses batches it cannot hold", "[shaders][attention]") {
  ops::AttentionShape shape{4, 2, 64, 16, KvType::F16, 8, 4, 2, 2};
  ops::AttentionPlan plan(ctx, host_arena, device_arena, shape);
  std::vector<std::vector<uint32_t>> tables = {{1, 2}, {3}};
  const std::vector<uint32_t> five(5, 0), rows{0, 1}, pos_ok{20, 3}, pos_far{40, 3}, rows_bad{0, 2};
  CHECK_NOTHROW(plan.set_batch(rows, pos_ok, tables));
  CHECK_THROWS_AS(plan.set_batch(five, five, tables), vkmind::Error);    // too many tokens
  CHECK_THROWS_AS(plan.set_batch(rows, pos_far, tables), vkmind::Error); // position past the blocks
  CHECK_THROWS_AS(plan.set_batch(rows_bad, pos_ok, tables), vkmind::Error);
  std::vector<std::vector<uint32_t>> bad_id = {{1, 9}, {3}};
  CHECK_THROWS_AS(plan.set_batch(rows, pos_ok, bad_id), vkmind::Error);
}

// Timing only (hidden; run with "[.bench]"): minimind-3 shapes (8 heads,
// 4 kv heads, head_dim 96, f16 KV), one sequence: 128-token prefill, then
// decode at a few context lengths.
TEST_CASE_METHOD(test::GpuFixture, "attention timing", "[.bench]") {
  const uint32_t nh = 8, nkv = 4, hd = 96, bs = 16, ctx_max = 2048, blocks = ctx_max / bs;
  const ops::KvLayout layout{nkv, hd, bs, KvType::F16};
  auto k_pool = device_buffer(layout.pool_bytes(blocks)), v_pool = device_buffer(layout.pool_bytes(blocks));
  {
    std::vector<uint32_t> slots(ctx_max);
    std::iota(slots.begin(), slots.end(), 0);
    graph::Graph g(ctx.device());
    ops::kv_append(ctx, g, layout, upload(test::random_floats(size_t(ctx_max) * nkv * hd, 1)),
                   upload(test::random_floats(size_t(ctx_max) * nkv * hd, 2)), upload(slots), k_pool, v_pool, ctx_max);
    g.run();
  }
  std::vector<std::vector<uint32_t>> tables(1, std::vector<uint32_t>(blocks));
  std::iota(tables[0].begin(), tables[0].end(), 0);
  auto time_it = [&](uint32_t tokens, uint32_t first_pos) {
    ops::AttentionPlan plan(ctx, host_arena, device_arena, {nh, nkv, hd, bs, KvType::F16, blocks, tokens, 1, blocks});
    auto q = upload(test::random_floats(size_t(tokens) * nh * hd, 3));
    auto out = device_buffer(size_t(tokens) * nh * hd * 4);
    std::vector<uint32_t> rows(tokens, 0), pos(tokens);
    std::iota(pos.begin(), pos.end(), first_pos);
    plan.set_batch(rows, pos, tables);
    graph::Graph g(ctx.device());
    ops::attention(ctx, g, plan, q, k_pool, v_pool, out);
    g.run();
    const int reps = 20;
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i) g.run();
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / reps;
    WARN("tokens " << tokens << " at " << first_pos << ": " << ms << " ms per run, splits " << plan.step().most_splits);
  };
  {
    auto a = device_buffer(1024);
    graph::Graph g(ctx.device());
    ops::kv_append(ctx, g, layout, a, a, upload(std::vector<uint32_t>(1, ops::kNoSlot)), k_pool, v_pool, 1);
    g.run();
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 20; ++i) g.run();
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / 20;
    WARN("one empty dispatch: " << ms << " ms");
  }
  time_it(128, 0);
  time_it(1, 127);
  time_it(1, 511);
  time_it(1, 2047);
}
