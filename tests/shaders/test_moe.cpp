// Mixture-of-experts kernels against CPU references in double
// (runtime/ops/moe.h): the router (softmax, top-k, renormalise), the gathered
// expert matvec (every weight type, x per token or per pair, and
// bound in expert runs as past maxStorageBufferRange), the weighted
// scatter-add, and the whole chain on a small MoE FFN.
//
// Tolerances:
// - router ids: exact. The test logits of one token are distinct and at least
//   0.05 apart (like the oracle's router_gap), so float rounding cannot swap
//   two experts; exact ties are tested separately (lower index first).
// - router weights: |gpu - ref| <= 2e-5 * ref + 1e-7. Logits are in [-6, 6],
//   so exp's arguments lie in [-12, 0] and exp errs by at most 3 + 2|x| <= 27
//   ulp (1.6e-6, Vulkan's bound); the f32 sum of up to 60 terms adds ~60 *
//   6e-8, the divisions ~2 ulp each: < 1e-5 together, 2e-5 leaves margin.
// - gathered matvec: 1e-5 * sum_k |w x|, as tests/shaders/test_matmul.cpp
//   argues (the CPU sums the same dequantized f32 values in double).
// - combine: k products and k - 1 (+1) additions in f32, each rounding by
//   2^-24 of at most sum_s |w y|: 1e-6 * sum_s |w y| + 1e-30.
// - chain: 1e-4 * the output's magnitude scale (router weights, two matvecs and
//   silu compound; a wrong expert or weight would be off by O(1)).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "runtime/ops/moe.h"
#include "runtime/ops/swiglu.h"
#include "tests/shaders/close.h"
#include "tests/shaders/gpu_fixture.h"
#include "tests/shaders/weight_reference.h"

using namespace vkmind;

namespace {

struct Routing {
  std::vector<uint32_t> ids;
  std::vector<double> weights;
};

// softmax over E in double, stable descending sort (ties: lower expert), top k, renormalise.
Routing reference_router(const std::vector<float>& logits, uint32_t T, uint32_t E, uint32_t k, bool renorm) {
  Routing r;
  for (uint32_t t = 0; t < T; ++t) {
    const float* l = &logits[size_t(t) * E];
    const double m = *std::max_element(l, l + E);
    std::vector<double> p(E);
    double sum = 0;
    for (uint32_t e = 0; e < E; ++e) sum += p[e] = std::exp(double(l[e]) - m);
    for (double& v : p) v /= sum;
    std::vector<uint32_t> order(E);
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return p[a] > p[b]; });
    double picked = 0;
    for (uint32_t s = 0; s < k; ++s) picked += p[order[s]];
    for (uint32_t s = 0; s < k; ++s) {
      r.ids.push_back(order[s]);
      r.weights.push_back(renorm ? p[order[s]] / picked : p[order[s]]);
    }
  }
  return r;
}

// Per token: E logits in [-6, 6), a random permutation of 12/E-wide bins with
// jitter that keeps any two at least 0.05 apart.
std::vector<float> distinct_logits(uint32_t T, uint32_t E, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> out;
  const double step = 12.0 / E;
  for (uint32_t t = 0; t < T; ++t) {
    std::vector<uint32_t> perm(E);
    std::iota(perm.begin(), perm.end(), 0u);
    std::shuffle(perm.begin(), perm.end(), rng);
    std::uniform_real_distribution<double> jitter(0.0, step - 0.05);
    for (uint32_t e = 0; e < E; ++e) out.push_back(float(-6.0 + perm[e] * step + jitter(rng)));
  }
  return out;
}

std::vector<uint32_t> random_ids(size_t n, uint32_t E, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint32_t> ids(n);
  for (auto& id : ids) id = uint32_t(rng() % E);
  return ids;
}

}  // namespace

TEST_CASE_METHOD(test::GpuFixture, "moe_router matches the CPU", "[shaders][moe]") {
  const uint32_t token_counts[] = {1, 3, 37, 130};
  for (uint32_t E : {4u, 8u, 60u})
    for (uint32_t k : {1u, 2u, 4u})
      for (bool renorm : {false, true})
        for (uint32_t T : token_counts) {
          CAPTURE(E, k, renorm, T);
          auto logits = distinct_logits(T, E, 1000 * E + 10 * k + T);
          const Routing want = reference_router(logits, T, E, k, renorm);
          auto dlogits = upload(logits);
          auto dids = device_buffer(size_t(T) * k * 4), dweights = device_buffer(size_t(T) * k * 4);
          graph::Graph g(ctx.device());
          ops::moe_router(ctx, g, dlogits, dids, dweights, T, E, k, renorm);
          g.run();
          REQUIRE(download<uint32_t>(dids, size_t(T) * k) == want.ids);
          test::require_close(download<float>(dweights, size_t(T) * k), want.weights, 2e-5, 1e-7);
        }
}

TEST_CASE_METHOD(test::GpuFixture, "moe_router breaks ties by the lower expert index", "[shaders][moe]") {
  // Token 0: all equal; token 1: experts 5 and 2 tie for first, 7 and 1 for third.
  const uint32_t E = 8, k = 4;
  std::vector<float> logits(2 * E, 0.0f);
  logits[E + 5] = logits[E + 2] = 2.0f;
  logits[E + 7] = logits[E + 1] = 1.0f;
  auto dlogits = upload(logits);
  auto dids = device_buffer(2 * k * 4), dweights = device_buffer(2 * k * 4);
  graph::Graph g(ctx.device());
  ops::moe_router(ctx, g, dlogits, dids, dweights, 2, E, k, true);
  g.run();
  REQUIRE(download<uint32_t>(dids, 2 * k) == std::vector<uint32_t>{0, 1, 2, 3, 2, 5, 1, 7});
  test::require_close(download<float>(dweights, 2 * k), reference_router(logits, 2, E, k, true).weights, 2e-5, 1e-7);
}

namespace {

struct GatherCase {
  TensorType type;
  uint32_t E, rows, K, pairs, x_div;
};

}  // namespace

TEST_CASE_METHOD(test::GpuFixture, "gather_matmul applies each pair's expert", "[shaders][moe]") {
  const GatherCase cases[] = {
      {TensorType::F32, 4, 5, 37, 6, 2},    {TensorType::F32, 3, 64, 128, 5, 1},  {TensorType::F16, 4, 7, 36, 8, 2},
      {TensorType::F16, 60, 24, 64, 16, 4}, {TensorType::BF16, 4, 9, 40, 3, 1},   {TensorType::Q8_0, 4, 11, 64, 8, 2},
      {TensorType::Q8_0, 8, 96, 256, 7, 1}, {TensorType::Q4_0, 4, 13, 96, 4, 4},  {TensorType::F32, 2, 1, 1, 1, 1},
      {TensorType::Q4_1, 4, 13, 96, 5, 1},  {TensorType::Q5_0, 3, 17, 160, 6, 2}, {TensorType::Q5_1, 4, 9, 64, 4, 4},
      {TensorType::IQ4_NL, 3, 7, 96, 5, 2}, {TensorType::Q2_K, 3, 5, 256, 4, 1},  {TensorType::Q3_K, 4, 7, 512, 5, 2},
      {TensorType::Q4_K, 5, 9, 256, 7, 1},  {TensorType::Q5_K, 3, 6, 768, 4, 4},  {TensorType::Q6_K, 4, 11, 256, 6, 2},
      {TensorType::IQ4_XS, 3, 5, 512, 5, 1},
  };
  for (const GatherCase& c : cases) {
    for (uint64_t max_binding : {uint64_t(0), uint64_t(1)}) {  // 1: as small as possible (one expert per binding)
      CAPTURE(test::type_label(c.type), c.E, c.rows, c.K, c.pairs, c.x_div, max_binding);
      const size_t w_count = size_t(c.E) * c.rows * c.K;
      const auto bytes = test::encode_weights(test::random_floats(w_count, 7 + c.K), c.type);
      const auto wv = test::decode_weights(bytes, c.type, w_count);
      const uint32_t x_rows = (c.pairs + c.x_div - 1) / c.x_div;
      const auto x = test::random_floats(size_t(x_rows) * c.K, 11 + c.rows);
      const auto ids = random_ids(c.pairs, c.E, c.pairs + c.E);
      const uint32_t y_stride = c.rows + 3;  // padded rows: y_stride is honoured
      std::vector<double> want(size_t(c.pairs) * y_stride, 0.0), bound(want.size(), 1e-30);
      for (uint32_t p = 0; p < c.pairs; ++p)
        for (uint32_t r = 0; r < c.rows; ++r) {
          double sum = 0, mag = 0;
          for (uint32_t j = 0; j < c.K; ++j) {
            const double prod = double(wv[(size_t(ids[p]) * c.rows + r) * c.K + j]) * x[size_t(p / c.x_div) * c.K + j];
            sum += prod;
            mag += std::fabs(prod);
          }
          want[size_t(p) * y_stride + r] = sum;
          bound[size_t(p) * y_stride + r] += 1e-5 * mag;
        }
      auto dw = upload(bytes);
      auto dx = upload(x);
      auto dids = upload(ids);
      auto dy = upload(std::vector<float>(want.size(), 0.0f));
      graph::Graph g(ctx.device());
      ops::WeightView view{dw, c.type, c.E * c.rows, c.K};
      // max_binding 1 would not fit an expert; use exactly one expert's bytes plus alignment slack.
      const uint64_t expert_bytes = test::encode_weights(std::vector<float>(size_t(c.rows) * c.K), c.type).size();
      const uint64_t limit = max_binding ? expert_bytes + 255 : 0;
      ops::gather_matmul(ctx, g, view, c.E, dx, dids, dy, c.pairs, c.x_div, y_stride, limit);
      g.run();
      const auto got = download<float>(dy, want.size());
      for (size_t i = 0; i < got.size(); ++i) {
        INFO("element " << i << ": got " << got[i] << ", want " << want[i]);
        REQUIRE(std::fabs(got[i] - want[i]) <= bound[i]);
      }
    }
  }
}

TEST_CASE_METHOD(test::GpuFixture, "gather_matmul rejects an expert larger than a binding", "[shaders][moe]") {
  auto dw = upload(std::vector<float>(4 * 8 * 32));
  auto dx = upload(std::vector<float>(32)), dy = upload(std::vector<float>(8));
  auto dids = upload(std::vector<uint32_t>{1});
  graph::Graph g(ctx.device());
  REQUIRE_THROWS_WITH(ops::gather_matmul(ctx, g, {dw, TensorType::F32, 32, 32}, 4, dx, dids, dy, 1, 1, 0, 512),
                      Catch::Contains("maxStorageBufferRange"));
}

TEST_CASE_METHOD(test::GpuFixture, "moe_combine is the weighted sum of each token's slots", "[shaders][moe]") {
  struct Shape {
    uint32_t T, dim, k;
  };
  for (Shape s : {Shape{1, 1, 1}, Shape{3, 37, 2}, Shape{17, 512, 4}, Shape{5, 300, 8}}) {
    for (bool accumulate : {false, true}) {
      CAPTURE(s.T, s.dim, s.k, accumulate);
      const auto y = test::random_floats(size_t(s.T) * s.k * s.dim, 21 + s.dim);
      const auto w = test::random_floats(size_t(s.T) * s.k, 22 + s.k, 0.0f, 1.0f);
      const auto base = test::random_floats(size_t(s.T) * s.dim, 23 + s.T);
      std::vector<double> want(base.size());
      double worst_scale = 0;
      for (uint32_t t = 0; t < s.T; ++t)
        for (uint32_t i = 0; i < s.dim; ++i) {
          double sum = accumulate ? base[size_t(t) * s.dim + i] : 0.0, mag = std::fabs(sum);
          for (uint32_t j = 0; j < s.k; ++j) {
            const double v = double(w[size_t(t) * s.k + j]) * y[(size_t(t) * s.k + j) * s.dim + i];
            sum += v;
            mag += std::fabs(v);
          }
          want[size_t(t) * s.dim + i] = sum;
          worst_scale = std::max(worst_scale, mag);
        }
      auto dy = upload(y), dw = upload(w), dout = upload(base);
      graph::Graph g(ctx.device());
      ops::moe_combine(ctx, g, dy, dw, dout, s.T, s.dim, s.k, accumulate);
      g.run();
      test::require_close(download<float>(dout, want.size()), want, 0.0, 1e-6 * worst_scale + 1e-30);
    }
  }
}

TEST_CASE_METHOD(test::GpuFixture, "a MoE FFN: router, gathered experts, swiglu, combine", "[shaders][moe]") {
  const uint32_t T = 5, H = 64, F = 32, E = 6, k = 2;
  const auto router_logits = distinct_logits(T, E, 99);
  const auto xn = test::random_floats(size_t(T) * H, 31);
  const auto gate_up = test::random_floats(size_t(E) * 2 * F * H, 32);  // per expert: F gate rows, F up rows
  const auto down = test::random_floats(size_t(E) * H * F, 33);
  const Routing route = reference_router(router_logits, T, E, k, true);
  std::vector<double> want(size_t(T) * H, 0.0);
  double scale = 0;
  for (uint32_t t = 0; t < T; ++t)
    for (uint32_t s = 0; s < k; ++s) {
      const uint32_t e = route.ids[t * k + s];
      std::vector<double> a(F);
      for (uint32_t f = 0; f < F; ++f) {
        double g = 0, u = 0;
        for (uint32_t j = 0; j < H; ++j) {
          g += double(gate_up[(size_t(e) * 2 * F + f) * H + j]) * xn[size_t(t) * H + j];
          u += double(gate_up[(size_t(e) * 2 * F + F + f) * H + j]) * xn[size_t(t) * H + j];
        }
        a[f] = g / (1.0 + std::exp(-g)) * u;
      }
      for (uint32_t i = 0; i < H; ++i) {
        double y = 0;
        for (uint32_t f = 0; f < F; ++f) y += double(down[(size_t(e) * H + i) * F + f]) * a[f];
        want[size_t(t) * H + i] += route.weights[t * k + s] * y;
        scale = std::max(scale, std::fabs(y));
      }
    }
  auto dlogits = upload(router_logits), dx = upload(xn), dgu = upload(gate_up), ddown = upload(down);
  auto dids = device_buffer(T * k * 4), dweights = device_buffer(T * k * 4);
  auto dpair_gu = device_buffer(size_t(T) * k * 2 * F * 4), dpair_act = device_buffer(size_t(T) * k * F * 4);
  auto dpair_out = device_buffer(size_t(T) * k * H * 4), dout = device_buffer(size_t(T) * H * 4);
  graph::Graph g(ctx.device());
  ops::moe_router(ctx, g, dlogits, dids, dweights, T, E, k, true);
  ops::gather_matmul(ctx, g, {dgu, TensorType::F32, E * 2 * F, H}, E, dx, dids, dpair_gu, T * k, k);
  ops::swiglu_fused(ctx, g, dpair_gu, dpair_act, T * k, F);
  ops::gather_matmul(ctx, g, {ddown, TensorType::F32, E * H, F}, E, dpair_act, dids, dpair_out, T * k, 1);
  ops::moe_combine(ctx, g, dpair_out, dweights, dout, T, H, k, false);
  g.run();
  test::require_close(download<float>(dout, want.size()), want, 0.0, 1e-4 * scale);
}
