// The fused QK-norm + RoPE + KV append kernel against a CPU reference in
// double, written from the unfused ops' definitions: per head row
// y = x / sqrt(mean(x^2) + eps) * w (QK-norm), then the rotation of
// test_rope.cpp (angle = the f32 product pos * inv_freq, cos/sin in double).
//
// What is checked: q rows in place; the k and v bands of qkv and any padding
// columns bit for bit unchanged (the kernel only reads them); K at each
// token's pool slot; V at its slot bit for bit (a copy, packHalf2x16 rounding
// to nearest even for f16); every other pool byte (other slots, padding
// tokens with kNoSlot) still the sentinel it started as.
//
// Tolerances, per head row, in units of m = the largest |rope input| of the
// row (after the norm) times attention_factor:
//   f32: |gpu - ref| <= 5e-5 m. test_rope.cpp's 3e-5 for inputs in [-1, 1]
//        (range reduction, cos/sin, two products) scales with the input, so
//        3e-5 m; the norm's relative error (test_rmsnorm.cpp: 1e-5) enters
//        the two rotated inputs of each output, 2e-5 m.
//   f16 K: the f32 result rounded to half: plus 2^-11 |ref| (round to
//        nearest, 11 significant bits) and 2^-25 (half the subnormal step).
// Every case also shows that the alternatives a bug would produce (the other
// pairing, the norm missing or wrongly applied, q's weights on k) differ
// from the reference by over 10x the tolerance, so the test can fail.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>

#include "model/weight_codec.h"
#include "runtime/ops/qkv_prepare.h"
#include "runtime/vk/error.h"
#include "tests/shaders/close.h"
#include "tests/shaders/gpu_fixture.h"

using namespace vkmind;
using ops::KvType;
using ops::RopePairing;

namespace {

constexpr double kTol = 5e-5;
constexpr double kHalfRel = 1.0 / 2048, kHalfSubnormal = 1.0 / (1 << 25);
constexpr float kEps = 1e-6f;

struct Case {
  uint32_t tokens, n_heads, n_kv_heads, head_dim, block_size;
  uint32_t pad;  // floats after the v band in each qkv row
  float attention_factor;
};

struct Variant {
  RopePairing pairing;
  bool qk_norm;
  KvType kv;
};

const char* name(RopePairing p) { return p == RopePairing::NeoX ? "neox" : "gptj"; }
const char* name(KvType t) { return t == KvType::F16 ? "f16" : "f32"; }

// One case's host inputs.
struct Problem {
  Case c;
  Variant v;
  uint32_t stride = 0, blocks = 0;
  std::vector<float> qkv, q_norm, k_norm, inv_freq;
  std::vector<int32_t> pos;
  std::vector<uint32_t> slots;

  size_t head_start(uint32_t t, uint32_t column_head) const {
    return size_t(t) * stride + size_t(column_head) * c.head_dim;
  }
};

Problem make_problem(const Case& c, const Variant& v, uint32_t seed) {
  Problem p{c, v};
  const uint32_t d = c.head_dim, width = (c.n_heads + 2 * c.n_kv_heads) * d;
  p.stride = width + c.pad;
  p.qkv = test::random_floats(size_t(c.tokens) * p.stride, seed);
  // Head rows at magnitudes 1, 1e-3 (mean square below eps: eps matters),
  // 0 (the norm must give 0, not NaN) and 30, in turn.
  const float scales[] = {1.0f, 1e-3f, 0.0f, 30.0f};
  for (uint32_t t = 0; t < c.tokens; ++t)
    for (uint32_t h = 0; h < width / d; ++h)
      for (uint32_t i = 0; i < d; ++i) p.qkv[p.head_start(t, h) + i] *= scales[(t + h) % 4];
  p.q_norm = test::random_floats(d, seed + 1, -2.0f, 2.0f);
  p.k_norm = test::random_floats(d, seed + 2, -2.0f, 2.0f);
  p.inv_freq = ops::rope_inv_freq(d, 1e6);  // inv_freq[0] = 1: angles up to 1e5 rad
  const int32_t pool[] = {3, 0, 17, 1000, 4095, 31999, 100000, 5, 2048, 2047, 65535, 1};
  for (uint32_t t = 0; t < c.tokens; ++t) p.pos.push_back(pool[(t * 7 + 3) % 12]);
  // Shuffled physical slots over twice the blocks needed; every third token
  // after the first is padding.
  p.blocks = 2 * ((c.tokens + c.block_size - 1) / c.block_size);
  std::vector<uint32_t> all(size_t(p.blocks) * c.block_size);
  std::iota(all.begin(), all.end(), 0u);
  std::shuffle(all.begin(), all.end(), std::mt19937(seed));
  for (uint32_t t = 0; t < c.tokens; ++t) p.slots.push_back(t % 3 == 1 ? ops::kNoSlot : all[t]);
  return p;
}

// A head row as the kernel prepares it, in double.
struct RefRow {
  std::vector<double> y;
  double m = 0;  // tolerance unit: max |rope input| * attention_factor
};

RefRow ref_row(const float* x, const std::vector<float>* w, uint32_t d, int32_t pos,
               const std::vector<float>& inv_freq, RopePairing pairing, double attention_factor) {
  RefRow r{std::vector<double>(x, x + d)};
  if (w) {
    double ss = 0;
    for (double v : r.y) ss += v * v;
    const double scale = 1.0 / std::sqrt(ss / d + kEps);
    for (uint32_t i = 0; i < d; ++i) r.y[i] *= scale * (*w)[i];
  }
  for (double v : r.y) r.m = std::max(r.m, std::fabs(v) * attention_factor);
  const uint32_t half = d / 2;
  for (uint32_t i = 0; i < half; ++i) {
    const float angle = float(pos) * inv_freq[i];
    const double c = std::cos(double(angle)) * attention_factor, s = std::sin(double(angle)) * attention_factor;
    const uint32_t e0 = pairing == RopePairing::NeoX ? i : 2 * i;
    const uint32_t e1 = pairing == RopePairing::NeoX ? i + half : 2 * i + 1;
    const double a = r.y[e0], b = r.y[e1];
    r.y[e0] = a * c - b * s;
    r.y[e1] = a * s + b * c;
  }
  return r;
}

// Reference q and k rows of every token, q heads first; `swap_weights` puts
// q's norm weights on k and k's on q (a bug to rule out).
std::vector<RefRow> reference(const Problem& p, RopePairing pairing, bool qk_norm, bool swap_weights = false) {
  std::vector<RefRow> rows;
  const auto* qw = qk_norm ? (swap_weights ? &p.k_norm : &p.q_norm) : nullptr;
  const auto* kw = qk_norm ? (swap_weights ? &p.q_norm : &p.k_norm) : nullptr;
  for (uint32_t t = 0; t < p.c.tokens; ++t)
    for (uint32_t h = 0; h < p.c.n_heads + p.c.n_kv_heads; ++h)
      rows.push_back(ref_row(&p.qkv[p.head_start(t, h)], h < p.c.n_heads ? qw : kw, p.c.head_dim, p.pos[t],
                             p.inv_freq, pairing, p.c.attention_factor));
  return rows;
}

// How far `other` lies from `want`, in tolerances: max over rows of
// max |difference| / (kTol * m) (m of the larger of the two rows).
double separation(const std::vector<RefRow>& want, const std::vector<RefRow>& other) {
  double worst = 0;
  for (size_t r = 0; r < want.size(); ++r) {
    const double unit = kTol * std::max(want[r].m, other[r].m);
    if (unit == 0) continue;  // an all-zero row is zero under every variant
    for (size_t i = 0; i < want[r].y.size(); ++i)
      worst = std::max(worst, std::fabs(want[r].y[i] - other[r].y[i]) / unit);
  }
  return worst;
}

// Byte offset of element i of kv head h at `slot` in a pool.
size_t pool_offset(const Problem& p, uint32_t slot, uint32_t h, uint32_t i, uint32_t element_bytes) {
  const uint32_t bs = p.c.block_size;
  return (((size_t(slot / bs) * p.c.n_kv_heads + h) * bs + slot % bs) * p.c.head_dim + i) * element_bytes;
}

float pool_value(const std::vector<uint8_t>& pool, size_t offset, KvType type) {
  if (type == KvType::F16) {
    uint16_t h;
    std::memcpy(&h, pool.data() + offset, 2);
    return half_to_float(h);
  }
  float f;
  std::memcpy(&f, pool.data() + offset, 4);
  return f;
}

void store_pool_value(std::vector<uint8_t>& pool, size_t offset, float x, KvType type) {
  if (type == KvType::F16) {
    const uint16_t h = float_to_half(x);
    std::memcpy(pool.data() + offset, &h, 2);
  } else {
    std::memcpy(pool.data() + offset, &x, 4);
  }
}

void check_case(test::GpuFixture& f, const Case& c, const Variant& v, ops::QkvPreparePath path, uint32_t seed) {
  CAPTURE(c.tokens, c.n_heads, c.n_kv_heads, c.head_dim, c.block_size, c.pad, c.attention_factor, name(v.pairing),
          v.qk_norm, name(v.kv), path == ops::QkvPreparePath::Texels);
  const Problem p = make_problem(c, v, seed);
  const uint32_t d = c.head_dim, nh = c.n_heads, nkv = c.n_kv_heads;
  const auto want = reference(p, v.pairing, v.qk_norm);

  // The data tells the bugs apart from the reference by far more than the tolerance.
  const RopePairing other = v.pairing == RopePairing::NeoX ? RopePairing::GptJ : RopePairing::NeoX;
  CHECK(separation(want, reference(p, other, v.qk_norm)) > 10);
  CHECK(separation(want, reference(p, v.pairing, !v.qk_norm)) > 10);
  if (v.qk_norm) CHECK(separation(want, reference(p, v.pairing, true, true)) > 10);

  const ops::KvLayout layout{nkv, d, c.block_size, v.kv};
  const std::vector<uint8_t> sentinel(layout.pool_bytes(p.blocks), 0x5a);
  auto dqkv = f.upload(p.qkv), dqn = f.upload(p.q_norm), dkn = f.upload(p.k_norm);
  auto dpos = f.upload(p.pos), dfreq = f.upload(p.inv_freq), dslots = f.upload(p.slots);
  auto kp = f.upload(sentinel), vp = f.upload(sentinel);
  graph::Graph g(f.ctx.device());
  const ops::QkvPrepareDims dims{c.tokens, nh, nkv, d, v.pairing, c.attention_factor, p.stride};
  ops::qkv_prepare(f.ctx, g, dims, dqkv, v.qk_norm ? &dqn : nullptr, v.qk_norm ? &dkn : nullptr, dpos, dfreq, dslots,
                   kp, vp, kEps, layout, path);
  REQUIRE(g.node_count() == 1);
  g.run();

  const auto got = f.download<float>(dqkv, p.qkv.size());
  const auto got_k = f.download<uint8_t>(kp, sentinel.size()), got_v = f.download<uint8_t>(vp, sentinel.size());
  std::vector<uint8_t> want_k = sentinel, want_v = sentinel;
  const uint32_t eb = layout.element_bytes();
  const double k_rel = v.kv == KvType::F16 ? kHalfRel : 0, k_abs_floor = v.kv == KvType::F16 ? kHalfSubnormal : 0;
  for (uint32_t t = 0; t < c.tokens; ++t) {
    CAPTURE(t, p.pos[t], p.slots[t]);
    for (uint32_t h = 0; h < nh; ++h) {  // q: in place, padding tokens too
      const RefRow& r = want[size_t(t) * (nh + nkv) + h];
      const auto row = got.begin() + p.head_start(t, h);
      CAPTURE(h);
      test::require_close(std::vector<float>(row, row + d), r.y, 0, kTol * r.m);
    }
    // k, v bands and padding columns: read only.
    const size_t rest = p.head_start(t, nh);
    REQUIRE(std::equal(got.begin() + rest, got.begin() + size_t(t + 1) * p.stride, p.qkv.begin() + rest));
    if (p.slots[t] == ops::kNoSlot) continue;
    for (uint32_t h = 0; h < nkv; ++h) {
      const RefRow& r = want[size_t(t) * (nh + nkv) + nh + h];
      std::vector<float> k_row(d);
      for (uint32_t i = 0; i < d; ++i) {
        const size_t off = pool_offset(p, p.slots[t], h, i, eb);
        k_row[i] = pool_value(got_k, off, v.kv);
        std::memcpy(want_k.data() + off, got_k.data() + off, eb);  // checked by value just below
        store_pool_value(want_v, off, p.qkv[p.head_start(t, nh + nkv + h) + i], v.kv);
      }
      CAPTURE(h);
      const double abs_tol = kTol * r.m * (1 + k_rel) + k_abs_floor;
      test::require_close(k_row, r.y, k_rel, abs_tol);
    }
  }
  REQUIRE(got_k == want_k);  // nothing written outside the tokens' K slots
  REQUIRE(got_v == want_v);
}

const Case kCases[] = {
    {1, 4, 4, 64, 16, 0, 1.0f},     // one decode token, n_rep 1
    {7, 8, 4, 128, 16, 0, 1.0f},    // n_rep 2, largest head
    {5, 8, 2, 8, 8, 4, 1.0f},       // n_rep 4, smallest head, padded rows
    {13, 4, 1, 36, 32, 2, 1.25f},   // 9 quads: not a multiple of any subgroup size; YaRN factor
    {4, 3, 3, 12, 8, 0, 1.0f},      // 3 quads, fewer than the lanes
    {37, 4, 2, 64, 16, 0, 1.0f},    // 222 rows: many workgroups, a partial last one
    {9, 4, 2, 96, 16, 4, 1.0f},     // texels: 6 units of 16, padded rows of whole texels
    {11, 2, 1, 16, 8, 0, 1.25f},    // texels: one unit, fewer than the lanes; YaRN factor
};

// The texel variant's own condition on the shape (qkv_prepare.h).
bool texel_shape(const Case& c) { return c.head_dim % 16 == 0 && c.pad % 4 == 0; }

}  // namespace

TEST_CASE_METHOD(test::GpuFixture, "qkv_prepare matches norm + rope + KV append on the CPU",
                 "[shaders][qkv_prepare]") {
  uint32_t seed = 100;
  for (auto pairing : {RopePairing::NeoX, RopePairing::GptJ})
    for (bool qk_norm : {false, true})
      for (KvType kv : {KvType::F16, KvType::F32})
        for (const Case& c : kCases) {
          check_case(*this, c, {pairing, qk_norm, kv}, ops::QkvPreparePath::Buffers, seed++);
          if (texel_shape(c)) check_case(*this, c, {pairing, qk_norm, kv}, ops::QkvPreparePath::Texels, seed++);
        }
}

TEST_CASE_METHOD(test::GpuFixture, "qkv_prepare rejects what it cannot do", "[shaders][qkv_prepare]") {
  auto buf = device_buffer(1 << 16);
  graph::Graph g(ctx.device());
  auto call = [&](uint32_t head_dim, const vk::BufferSlice* q_norm, const vk::BufferSlice* k_norm) {
    const ops::QkvPrepareDims dims{2, 2, 1, head_dim};
    const ops::KvLayout layout{1, head_dim, 16, KvType::F16};
    ops::qkv_prepare(ctx, g, dims, buf, q_norm, k_norm, buf, buf, buf, buf, buf, kEps, layout);
  };
  // Even head dims that are not multiples of 4: the unfused ops handle them.
  for (uint32_t head_dim : {6u, 10u}) {
    CAPTURE(head_dim);
    REQUIRE_THROWS_AS(call(head_dim, nullptr, nullptr), Error);
    REQUIRE_THROWS_WITH(call(head_dim, nullptr, nullptr), Catch::Contains("not a multiple of 4"));
  }
  REQUIRE_THROWS_WITH(call(64, &buf, nullptr), Catch::Contains("both QK-norm weights or neither"));
  // The texel variant, forced on a head it cannot split into units of 16.
  const ops::KvLayout layout36{1, 36, 16, KvType::F16};
  REQUIRE_THROWS_WITH(ops::qkv_prepare(ctx, g, {2, 2, 1, 36}, buf, nullptr, nullptr, buf, buf, buf, buf, buf, kEps,
                                       layout36, ops::QkvPreparePath::Texels),
                      Catch::Contains("head_dim % 16 == 0 (not 36)"));
  REQUIRE(g.node_count() == 0);
}
