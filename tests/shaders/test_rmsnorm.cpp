// RMSNorm kernels (plain, fused residual add, per-head QK-norm) against a
// CPU reference written from design.md: y = x * rsqrt(mean(x^2) + eps) * w,
// accumulated in double.
//
// Tolerance: |gpu - ref| <= 1e-5 * |ref| + 1e-6. The GPU sums squares in f32:
// each invocation adds at most ~n / 8 terms in sequence, then a subgroup and
// workgroup tree (log2 terms); for n <= 4099 the relative error of the sum is
// below ~(520 + 8) * 2^-24 ~ 3e-5 in the worst case and ~1e-6 typically
// (random rounding, all terms positive). It enters the scale through a square
// root (halved), and inversesqrt (2 ulp, Vulkan) and the two products add a
// few 1e-7. So 1e-5 relative is a few times above the expected error and
// far below what a real bug gives; the 1e-6 absolute term only covers
// outputs near zero.
//
// Rows come at several magnitudes: at 1e-3 the mean square (~3e-7) is far
// below eps, so dropping or misplacing eps changes the result by a factor,
// and an all-zero row must give 0 (without eps: 0 * inf = NaN).
#include <catch2/catch.hpp>

#include <cmath>

#include "runtime/ops/norm.h"
#include "tests/shaders/close.h"
#include "tests/shaders/gpu_fixture.h"

using namespace vkmind;

namespace {

constexpr double kRel = 1e-5, kAbs = 1e-6;

// y[i] = x[i] / sqrt(mean(x^2) + eps) * w[i] over one row of n.
void ref_norm_row(const float* x, const float* w, uint32_t n, double eps, double* y) {
  double ss = 0;
  for (uint32_t i = 0; i < n; ++i) ss += double(x[i]) * x[i];
  const double scale = 1.0 / std::sqrt(ss / n + eps);
  for (uint32_t i = 0; i < n; ++i) y[i] = double(x[i]) * scale * w[i];
}

// rows x n values, row r scaled by one of 1, 1e-3, 0 (all zero), 30, in turn.
std::vector<float> rows_at_scales(uint32_t rows, uint32_t n, uint32_t seed) {
  std::vector<float> x = test::random_floats(size_t(rows) * n, seed);
  const float scales[] = {1.0f, 1e-3f, 0.0f, 30.0f};
  for (uint32_t r = 0; r < rows; ++r)
    for (uint32_t i = 0; i < n; ++i) x[size_t(r) * n + i] *= scales[r % 4];
  return x;
}

struct Shape {
  uint32_t rows, n;
  float eps;
};

const Shape kShapes[] = {{1, 1, 1e-6f}, {4, 7, 1e-5f}, {5, 255, 1e-6f}, {6, 257, 1e-5f},
                         {4, 768, 1e-6f}, {3, 4099, 1e-5f}};

}  // namespace

TEST_CASE_METHOD(test::GpuFixture, "rmsnorm matches the CPU", "[shaders][rmsnorm]") {
  for (const Shape& s : kShapes) {
    CAPTURE(s.rows, s.n, s.eps);
    auto x = rows_at_scales(s.rows, s.n, 11);
    auto w = test::random_floats(s.n, 12, -2.0f, 2.0f);
    std::vector<double> want(x.size());
    for (uint32_t r = 0; r < s.rows; ++r) ref_norm_row(&x[size_t(r) * s.n], w.data(), s.n, s.eps, &want[size_t(r) * s.n]);

    auto dx = upload(x), dw = upload(w);
    auto dy = device_buffer(x.size() * 4);
    graph::Graph g(ctx.device());
    ops::rmsnorm(ctx, g, dx, dw, dy, s.rows, s.n, s.eps);
    g.run();
    test::require_close(download<float>(dy, x.size()), want, kRel, kAbs);
  }
}

TEST_CASE_METHOD(test::GpuFixture, "rmsnorm in place", "[shaders][rmsnorm]") {
  const uint32_t rows = 3, n = 1000;
  auto x = rows_at_scales(rows, n, 13);
  auto w = test::random_floats(n, 14);
  std::vector<double> want(x.size());
  for (uint32_t r = 0; r < rows; ++r) ref_norm_row(&x[size_t(r) * n], w.data(), n, 1e-6, &want[size_t(r) * n]);
  auto dx = upload(x), dw = upload(w);
  graph::Graph g(ctx.device());
  ops::rmsnorm(ctx, g, dx, dw, dx, rows, n, 1e-6f);
  g.run();
  test::require_close(download<float>(dx, x.size()), want, kRel, kAbs);
}

TEST_CASE_METHOD(test::GpuFixture, "rmsnorm_residual adds the residual, writes it back and normalises it",
                 "[shaders][rmsnorm]") {
  for (const Shape& s : kShapes) {
    CAPTURE(s.rows, s.n, s.eps);
    auto x = rows_at_scales(s.rows, s.n, 21);
    auto res = rows_at_scales(s.rows, s.n, 22);
    auto w = test::random_floats(s.n, 23, -2.0f, 2.0f);
    // h = residual + x in f32 (one correctly rounded add, exact on the GPU too).
    std::vector<float> h(x.size());
    for (size_t i = 0; i < x.size(); ++i) h[i] = res[i] + x[i];
    std::vector<double> want(x.size());
    for (uint32_t r = 0; r < s.rows; ++r) ref_norm_row(&h[size_t(r) * s.n], w.data(), s.n, s.eps, &want[size_t(r) * s.n]);

    auto dx = upload(x), dres = upload(res), dw = upload(w);
    auto dy = device_buffer(x.size() * 4);
    graph::Graph g(ctx.device());
    ops::rmsnorm_residual(ctx, g, dx, dres, dw, dy, s.rows, s.n, s.eps);
    g.run();
    REQUIRE(download<float>(dres, h.size()) == h);
    test::require_close(download<float>(dy, x.size()), want, kRel, kAbs);
  }
}

TEST_CASE_METHOD(test::GpuFixture, "rmsnorm_heads normalises every head of every token", "[shaders][rmsnorm]") {
  struct HeadShape {
    uint32_t tokens, heads, head_dim, token_stride;  // stride 0: dense
    float eps;
  };
  // The strided shape is q (3 heads of 128) inside a fused [q | k | v] row of
  // 3*128 + 2*64 + 2*64 floats, normalised in place: the k and v columns
  // must come back untouched.
  const HeadShape shapes[] = {{1, 1, 8, 0, 1e-6f},   {3, 4, 64, 0, 1e-5f},       {5, 8, 96, 0, 1e-6f},
                              {3, 5, 7, 0, 1e-6f},   {7, 3, 128, 640, 1e-6f},   {33, 16, 128, 0, 1e-6f},
                              {2, 2, 256, 0, 1e-5f}};
  for (const HeadShape& s : shapes) {
    const uint32_t stride = s.token_stride ? s.token_stride : s.heads * s.head_dim;
    const bool in_place = s.token_stride != 0;
    CAPTURE(s.tokens, s.heads, s.head_dim, stride, in_place);
    // Scales cycle per head (rows_at_scales over tokens*heads rows of head_dim),
    // then are laid out at the token stride.
    auto rows = rows_at_scales(s.tokens * s.heads, s.head_dim, 31);
    std::vector<float> x = test::random_floats(size_t(s.tokens) * stride, 32);
    for (uint32_t t = 0; t < s.tokens; ++t)
      for (uint32_t j = 0; j < s.heads * s.head_dim; ++j) x[size_t(t) * stride + j] = rows[size_t(t) * s.heads * s.head_dim + j];
    auto w = test::random_floats(s.head_dim, 33, 0.5f, 1.5f);

    std::vector<double> want(x.begin(), x.end());
    for (uint32_t t = 0; t < s.tokens; ++t)
      for (uint32_t h = 0; h < s.heads; ++h) {
        const size_t base = size_t(t) * stride + size_t(h) * s.head_dim;
        ref_norm_row(&x[base], w.data(), s.head_dim, s.eps, &want[base]);
      }

    auto dx = upload(x), dw = upload(w);
    auto dy = in_place ? dx : device_buffer(x.size() * 4);
    graph::Graph g(ctx.device());
    ops::rmsnorm_heads(ctx, g, dx, dw, dy, s.tokens, s.heads, s.head_dim, s.eps, s.token_stride);
    g.run();
    auto got = download<float>(dy, x.size());
    test::require_close(got, want, kRel, kAbs);
    for (uint32_t t = 0; t < s.tokens; ++t)
      for (uint32_t j = s.heads * s.head_dim; j < stride; ++j) REQUIRE(got[size_t(t) * stride + j] == x[size_t(t) * stride + j]);
  }
}

TEST_CASE_METHOD(test::GpuFixture, "rmsnorm past 65535 rows (2-D workgroup grid)", "[shaders][rmsnorm]") {
  // One workgroup per row: 70000 rows exceed the x limit of the grid, so the
  // kernel must rebuild its row from gl_WorkGroupID.y as well.
  const uint32_t rows = 70000, n = 3;
  auto x = rows_at_scales(rows, n, 15);
  auto w = test::random_floats(n, 16);
  std::vector<double> want(x.size());
  for (uint32_t r = 0; r < rows; ++r) ref_norm_row(&x[size_t(r) * n], w.data(), n, 1e-6, &want[size_t(r) * n]);
  auto dx = upload(x), dw = upload(w);
  auto dy = device_buffer(x.size() * 4);
  graph::Graph g(ctx.device());
  ops::rmsnorm(ctx, g, dx, dw, dy, rows, n, 1e-6f);
  g.run();
  test::require_close(download<float>(dy, x.size()), want, kRel, kAbs);
}
