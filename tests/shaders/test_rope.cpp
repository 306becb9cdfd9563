// RoPE against a CPU reference written from design.md, both pairings, and
// the YaRN frequency table against values computed by hand.
//
// GPU tolerance: |gpu - ref| <= 3e-5 absolute (inputs in [-1, 1], so outputs
// are at most sqrt(2) * attention_factor). The reference takes the angle as
// the kernel and HF's f32 cos/sin cache do: the f32 product pos * inv_freq
// (correctly rounded on both sides), then cos/sin in double. What remains on
// the GPU: the 2*pi range reduction (~1e-6 rad for angles up to 1e5), cos/sin
// of the reduced angle (a few 1e-7 on lavapipe and NVIDIA; Vulkan itself only
// promises 2^-11, which no mainstream driver comes near) and two f32
// products. A wrong pairing, frequency or position is off by O(1).
#include <catch2/catch.hpp>

#include <cmath>
#include <algorithm>
#include <cstdint>
#include <optional>

#include "runtime/ops/rope.h"
#include "tests/shaders/close.h"
#include "tests/shaders/gpu_fixture.h"

using namespace vkmind;

namespace {

constexpr double kAbs = 3e-5;

// Rotates `heads` heads of head_dim at token stride `stride` in `out` (which
// starts as a copy of the input), like the kernel, in double.
void ref_rope(std::vector<double>& out, uint32_t tokens, uint32_t heads, uint32_t head_dim, uint32_t stride,
              const std::vector<int32_t>& pos, const std::vector<float>& inv_freq, ops::RopePairing pairing,
              double attention_factor) {
  const uint32_t half = head_dim / 2;
  for (uint32_t t = 0; t < tokens; ++t)
    for (uint32_t h = 0; h < heads; ++h)
      for (uint32_t i = 0; i < half; ++i) {
        const float angle = float(pos[t]) * inv_freq[i];
        const double c = std::cos(double(angle)) * attention_factor, s = std::sin(double(angle)) * attention_factor;
        const size_t base = size_t(t) * stride + size_t(h) * head_dim;
        const size_t e0 = base + (pairing == ops::RopePairing::NeoX ? i : 2 * i);
        const size_t e1 = base + (pairing == ops::RopePairing::NeoX ? i + half : 2 * i + 1);
        const double a = out[e0], b = out[e1];
        out[e0] = a * c - b * s;
        out[e1] = a * s + b * c;
      }
}

// Arbitrary, non-consecutive positions (a batch mixes sequences), including
// 0 and angles far beyond 2*pi (inv_freq[0] = 1, so pos 100000 is 1e5 rad).
std::vector<int32_t> positions_for(uint32_t tokens) {
  const int32_t pool[] = {3, 0, 17, 1000, 4095, 31999, 100000, 5, 2048, 2047, 65535, 1};
  std::vector<int32_t> p(tokens);
  for (uint32_t t = 0; t < tokens; ++t) p[t] = pool[(t * 5 + 2) % 12];
  return p;
}

const char* name(ops::RopePairing p) { return p == ops::RopePairing::NeoX ? "neox" : "gptj"; }

struct Case {
  uint32_t tokens, n_heads, n_kv_heads, head_dim;
  double theta;
  std::optional<ops::YarnScaling> yarn;
  float attention_factor;
};

// Runs rope on separate dense q and k and compares both with the reference.
void check_case(test::GpuFixture& f, const Case& c, ops::RopePairing pairing) {
  CAPTURE(c.tokens, c.n_heads, c.n_kv_heads, c.head_dim, c.theta, bool(c.yarn), c.attention_factor, name(pairing));
  auto q = test::random_floats(size_t(c.tokens) * c.n_heads * c.head_dim, 41);
  auto k = test::random_floats(size_t(c.tokens) * std::max(c.n_kv_heads, 1u) * c.head_dim, 42);
  auto pos = positions_for(c.tokens);
  auto inv_freq = ops::rope_inv_freq(c.head_dim, c.theta, c.yarn);

  std::vector<double> want_q(q.begin(), q.end()), want_k(k.begin(), k.end());
  ref_rope(want_q, c.tokens, c.n_heads, c.head_dim, c.n_heads * c.head_dim, pos, inv_freq, pairing, c.attention_factor);
  ref_rope(want_k, c.tokens, c.n_kv_heads, c.head_dim, c.n_kv_heads * c.head_dim, pos, inv_freq, pairing,
           c.attention_factor);

  auto dq = f.upload(q), dk = f.upload(k), dpos = f.upload(pos), dfreq = f.upload(inv_freq);
  graph::Graph g(f.ctx.device());
  ops::RopeDims dims{c.tokens, c.n_heads, c.n_kv_heads, c.head_dim, pairing, c.attention_factor};
  ops::rope(f.ctx, g, dq, dk, dpos, dfreq, dims);
  g.run();
  test::require_close(f.download<float>(dq, q.size()), want_q, 0, kAbs * c.attention_factor);
  // With no kv heads, k is not touched at all (want_k is k unchanged).
  test::require_close(f.download<float>(dk, k.size()), want_k, 0, kAbs * c.attention_factor);
}

}  // namespace

TEST_CASE_METHOD(test::GpuFixture, "rope matches the CPU for both pairings", "[shaders][rope]") {
  const Case cases[] = {
      {1, 1, 1, 8, 10000.0, {}, 1.0f},    // smallest head, one token
      {3, 4, 2, 64, 1e6, {}, 1.0f},       // GQA, MiniMind2 head_dim
      {5, 8, 4, 96, 1e6, {}, 1.0f},       // minimind-3 head_dim
      {7, 3, 1, 128, 500000.0, {}, 1.0f}, // odd head counts, Llama 3 theta
      {4, 2, 0, 64, 10000.0, {}, 1.0f},   // q only
      {300, 2, 1, 6, 10000.0, {}, 1.0f},  // many tokens; threads not a multiple of the workgroup
  };
  for (auto pairing : {ops::RopePairing::NeoX, ops::RopePairing::GptJ})
    for (const Case& c : cases) check_case(*this, c, pairing);
}

TEST_CASE_METHOD(test::GpuFixture, "rope with YaRN (minimind-3) scales frequencies and cos/sin",
                 "[shaders][rope]") {
  const ops::YarnScaling yarn{16, 2048, 32, 1, 1.0};
  // attention_factor is 1 in MiniMind's config; 1.25 checks that it scales cos and sin.
  for (auto pairing : {ops::RopePairing::NeoX, ops::RopePairing::GptJ}) {
    check_case(*this, {6, 8, 4, 96, 1e6, yarn, 1.0f}, pairing);
    check_case(*this, {5, 2, 2, 64, 1e6, yarn, 1.25f}, pairing);
  }
}

TEST_CASE_METHOD(test::GpuFixture, "NeoX and GPT-J pairings give different results", "[shaders][rope]") {
  // The same input through both kernels must differ by O(1): otherwise the
  // pairing tests above could not tell a swapped pairing apart.
  const uint32_t tokens = 4, heads = 2, d = 64;
  auto q = test::random_floats(size_t(tokens) * heads * d, 51);
  auto pos = positions_for(tokens);
  auto inv_freq = ops::rope_inv_freq(d, 10000.0);
  std::vector<float> out[2];
  for (int p = 0; p < 2; ++p) {
    const auto pairing = p == 0 ? ops::RopePairing::NeoX : ops::RopePairing::GptJ;
    auto dq = upload(q), dpos = upload(pos), dfreq = upload(inv_freq);
    graph::Graph g(ctx.device());
    ops::rope(ctx, g, dq, dq, dpos, dfreq, ops::RopeDims{tokens, heads, 0, d, pairing});
    g.run();
    out[p] = download<float>(dq, q.size());
    std::vector<double> want(q.begin(), q.end());
    ref_rope(want, tokens, heads, d, heads * d, pos, inv_freq, pairing, 1.0);
    test::require_close(out[p], want, 0, kAbs);
  }
  REQUIRE(test::max_abs_diff(out[0], out[1]) > 0.5f);
}

TEST_CASE_METHOD(test::GpuFixture, "rope in place on q and k inside a fused QKV buffer", "[shaders][rope]") {
  // Row of token t: [q: 4 heads x 64 | k: 2 x 64 | v: 2 x 64]; q and k are
  // the same buffer at different offsets, v must come back unchanged.
  const uint32_t tokens = 9, nh = 4, nkv = 2, d = 64, stride = (nh + 2 * nkv) * d;
  auto qkv = test::random_floats(size_t(tokens) * stride, 61);
  auto pos = positions_for(tokens);
  auto inv_freq = ops::rope_inv_freq(d, 1e6);
  for (auto pairing : {ops::RopePairing::NeoX, ops::RopePairing::GptJ}) {
    CAPTURE(name(pairing));
    std::vector<double> want(qkv.begin(), qkv.end());
    std::vector<double> want_k(want.begin() + nh * d, want.end());  // k starts nh*d floats in
    ref_rope(want, tokens, nh, d, stride, pos, inv_freq, pairing, 1.0);
    ref_rope(want_k, tokens, nkv, d, stride, pos, inv_freq, pairing, 1.0);
    for (uint32_t t = 0; t < tokens; ++t)  // take only the k columns of each token from want_k
      std::copy_n(want_k.begin() + size_t(t) * stride, nkv * d, want.begin() + size_t(t) * stride + nh * d);

    auto dqkv = upload(qkv), dpos = upload(pos), dfreq = upload(inv_freq);
    graph::Graph g(ctx.device());
    ops::RopeDims dims{tokens, nh, nkv, d, pairing, 1.0f, stride, stride};
    ops::rope(ctx, g, dqkv, dqkv.sub(nh * d * 4, dqkv.size - nh * d * 4), dpos, dfreq, dims);
    g.run();
    auto got = download<float>(dqkv, qkv.size());
    test::require_close(got, want, 0, kAbs);
    for (uint32_t t = 0; t < tokens; ++t)
      for (uint32_t j = (nh + nkv) * d; j < stride; ++j) REQUIRE(got[size_t(t) * stride + j] == qkv[size_t(t) * stride + j]);
  }
}

TEST_CASE("rope_inv_freq without scaling is theta^(-2i/d)", "[shaders][rope]") {
  auto f = ops::rope_inv_freq(8, 10000.0);
  // 10000^(-0/8), 10000^(-2/8) = 0.1, 10000^(-4/8) = 0.01, 10000^(-6/8) = 0.001
  const double want[] = {1.0, 0.1, 0.01, 0.001};
  REQUIRE(f.size() == 4);
  for (int i = 0; i < 4; ++i) CHECK(std::fabs(f[i] - want[i]) <= 1e-6 * want[i]);
  // factor 1 makes YaRN the identity whatever the ramp.
  auto g = ops::rope_inv_freq(64, 1e6, ops::YarnScaling{1, 2048, 32, 1, 1});
  REQUIRE(g == ops::rope_inv_freq(64, 1e6));
  REQUIRE_THROWS(ops::rope_inv_freq(7, 1e4));
}

// MiniMind's YaRN (theta 1e6, factor 16, original 2048, beta_fast 32,
// beta_slow 1). By hand, ln(1e6) = 13.8155:
//   d = 64: inv_dim(32) = 64 ln(2048 / (64 pi)) / 27.631 = 5.376 -> low 5;
//           inv_dim(1) = 64 ln(2048 / (2 pi)) / 27.631 = 13.403 -> high 14.
//           i <= 5: unscaled, e.g. inv_freq[5] = 1e6^(-10/64) = 0.115478;
//           i = 10: ramp 5/9, 1e6^(-20/64) = 0.0133352 * (4/9 + 5/144) = 0.00638979;
//           i >= 14: divided by 16, e.g. inv_freq[16] = 1e6^(-1/2) / 16 = 6.25e-5.
//   d = 96: inv_dim(32) = 8.064 -> low 8; inv_dim(1) = 20.105 -> high 21.
// The full tables below were evaluated from the same formula in double.
TEST_CASE("rope_inv_freq: YaRN table for the MiniMind config", "[shaders][rope]") {
  const ops::YarnScaling yarn{16, 2048, 32, 1, 1};
  REQUIRE(ops::yarn_ramp_range(64, 1e6, yarn) == std::pair<double, double>{5, 14});
  REQUIRE(ops::yarn_ramp_range(96, 1e6, yarn) == std::pair<double, double>{8, 21});

  const double want64[] = {
      1.000000000e+00, 6.493816316e-01, 4.216965034e-01, 2.738419634e-01, 1.778279410e-01, 1.154781985e-01,
      6.717802292e-02, 3.855159574e-02, 2.174065891e-02, 1.197889599e-02, 6.389790196e-03, 3.247366213e-03,
      1.523007756e-03, 6.086235454e-04, 1.482108566e-04, 9.624540788e-05, 6.250000000e-05, 4.058635197e-05,
      2.635603146e-05, 1.711512271e-05, 1.111424631e-05, 7.217387404e-06, 4.686838808e-06, 3.043547032e-06,
      1.976423538e-06, 1.283453142e-06, 8.334508951e-07, 5.412277021e-07, 3.514633282e-07, 2.282338295e-07,
      1.482108566e-07, 9.624540788e-08};
  const double want96[] = {
      1.000000000e+00, 7.498942093e-01, 5.623413252e-01, 4.216965034e-01, 3.162277660e-01, 2.371373706e-01,
      1.778279410e-01, 1.333521432e-01, 1.000000000e-01, 6.958153000e-02, 4.812344033e-02, 3.304640868e-02,
      2.250082181e-02, 1.516311071e-02, 1.008831588e-02, 6.603495554e-03, 4.230769231e-03, 2.631840254e-03,
      1.568067157e-03, 8.717764254e-04, 4.256912235e-04, 1.482108566e-04, 1.111424631e-04, 8.334508951e-05,
      6.250000000e-05, 4.686838808e-05, 3.514633282e-05, 2.635603146e-05, 1.976423538e-05, 1.482108566e-05,
      1.111424631e-05, 8.334508951e-06, 6.250000000e-06, 4.686838808e-06, 3.514633282e-06, 2.635603146e-06,
      1.976423538e-06, 1.482108566e-06, 1.111424631e-06, 8.334508951e-07, 6.250000000e-07, 4.686838808e-07,
      3.514633282e-07, 2.635603146e-07, 1.976423538e-07, 1.482108566e-07, 1.111424631e-07, 8.334508951e-08};
  // f32 rounding (6e-8) plus 10 printed digits: 1e-6 relative is ample, and
  // any ramp or factor mistake moves some entry by far more.
  auto check = [](const std::vector<float>& got, const double* want, size_t n) {
    REQUIRE(got.size() == n);
    for (size_t i = 0; i < n; ++i) {
      CAPTURE(i, got[i], want[i]);
      CHECK(std::fabs(got[i] - want[i]) <= 1e-6 * want[i]);
    }
  };
  check(ops::rope_inv_freq(64, 1e6, yarn), want64, 32);
  check(ops::rope_inv_freq(96, 1e6, yarn), want96, 48);
}
