// SwiGLU activation against a CPU reference in double:
// out = silu(gate) * up, silu(g) = g / (1 + exp(-g)), for separate gate/up
// buffers and for the fused [tokens][gate | up] layout of one gate|up matmul.
//
// Tolerance: |gpu - ref| <= 1e-5 * |ref| + 1e-7. exp's error is bounded by
// 3 + 2|x| ulp (Vulkan), ~27 ulp (1.6e-6 relative) for |gate| <= 12, which
// reaches silu damped by the 1 + exp term; the division (2.5 ulp) and the
// product (1 ulp) add ~2e-7. Beyond |gate| ~ 88 exp over- or underflows and
// silu is exactly -0 or gate, which the extreme values check.
#include <catch2/catch.hpp>

#include <cmath>

#include "runtime/ops/swiglu.h"
#include "tests/shaders/close.h"
#include "tests/shaders/gpu_fixture.h"

using namespace vkmind;

namespace {

constexpr double kRel = 1e-5, kAbs = 1e-7;

double silu(double g) { return g / (1.0 + std::exp(-g)); }

// Gate values across the whole range, including saturation on both sides.
std::vector<float> gate_values(size_t n, uint32_t seed) {
  auto g = test::random_floats(n, seed, -12.0f, 12.0f);
  const float extremes[] = {-100.0f, 100.0f, 0.0f, -88.5f, 30.0f};
  for (size_t i = 0; i < n && i < 5; ++i) g[i * 37 % n] = extremes[i];
  return g;
}

struct Shape {
  uint32_t tokens, n;
};
const Shape kShapes[] = {{1, 1}, {3, 7}, {2, 255}, {5, 257}, {1, 4099}, {7, 2048}};

}  // namespace

TEST_CASE_METHOD(test::GpuFixture, "swiglu matches the CPU", "[shaders][swiglu]") {
  for (Shape s : kShapes) {
    CAPTURE(s.tokens, s.n);
    const size_t count = size_t(s.tokens) * s.n;
    auto gate = gate_values(count, 81);
    auto up = test::random_floats(count, 82, -2.0f, 2.0f);
    std::vector<double> want(count);
    for (size_t i = 0; i < count; ++i) want[i] = silu(gate[i]) * up[i];

    auto dgate = upload(gate), dup = upload(up);
    auto dout = device_buffer(count * 4);
    graph::Graph g(ctx.device());
    ops::swiglu(ctx, g, dgate, dup, dout, s.tokens, s.n);
    g.run();
    test::require_close(download<float>(dout, count), want, kRel, kAbs);
  }
}

TEST_CASE_METHOD(test::GpuFixture, "swiglu on a fused gate|up buffer", "[shaders][swiglu]") {
  for (Shape s : kShapes) {
    CAPTURE(s.tokens, s.n);
    const size_t count = size_t(s.tokens) * s.n;
    auto gate = gate_values(count, 83);
    auto up = test::random_floats(count, 84, -2.0f, 2.0f);
    // Row t: gate[t][0..n) then up[t][0..n), as one matmul with the gate rows first writes it.
    std::vector<float> fused(2 * count);
    std::vector<double> want(count);
    for (uint32_t t = 0; t < s.tokens; ++t)
      for (uint32_t j = 0; j < s.n; ++j) {
        const size_t i = size_t(t) * s.n + j;
        fused[2 * size_t(t) * s.n + j] = gate[i];
        fused[(2 * size_t(t) + 1) * s.n + j] = up[i];
        want[i] = silu(gate[i]) * up[i];
      }
    auto dfused = upload(fused);
    auto dout = device_buffer(count * 4);
    graph::Graph g(ctx.device());
    ops::swiglu_fused(ctx, g, dfused, dout, s.tokens, s.n);
    g.run();
    test::require_close(download<float>(dout, count), want, kRel, kAbs);
  }
}

TEST_CASE_METHOD(test::GpuFixture, "swiglu output may replace its gate input", "[shaders][swiglu]") {
  const uint32_t tokens = 3, n = 500;
  auto gate = gate_values(size_t(tokens) * n, 85);
  auto up = test::random_floats(gate.size(), 86, -2.0f, 2.0f);
  std::vector<double> want(gate.size());
  for (size_t i = 0; i < gate.size(); ++i) want[i] = silu(gate[i]) * up[i];
  auto dgate = upload(gate), dup = upload(up);
  graph::Graph g(ctx.device());
  ops::swiglu(ctx, g, dgate, dup, dgate, tokens, n);
  g.run();
  test::require_close(download<float>(dgate, gate.size()), want, kRel, kAbs);
}
