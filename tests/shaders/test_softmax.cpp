// Row softmax against a CPU reference in double (max-subtracted, from the
// definition exp(x_i) / sum_j exp(x_j)).
//
// Tolerance: |gpu - ref| <= 2e-5 * ref + 1e-8. Each probability is
// exp(x - max) times 1/sum: Vulkan bounds exp's error by 3 + 2|x| ulp, i.e.
// ~40 ulp (2.4e-6 relative) for the |x - max| <= 20 used here; the f32 sum
// of n <= 150000 positive terms (per invocation ~n/256 in sequence, then a
// tree) is within ~1e-5 relative in the worst case, far less typically.
// 1e-8 absolute covers probabilities that underflow towards 0.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "runtime/ops/softmax.h"
#include "tests/shaders/close.h"
#include "tests/shaders/gpu_fixture.h"

using namespace vkmind;

namespace {

constexpr double kRel = 2e-5, kAbs = 1e-8;

std::vector<double> ref_softmax(const std::vector<float>& x, uint32_t rows, uint32_t n) {
  std::vector<double> y(x.size());
  for (uint32_t r = 0; r < rows; ++r) {
    const float* row = &x[size_t(r) * n];
    double m = -INFINITY;
    for (uint32_t i = 0; i < n; ++i) m = std::max(m, double(row[i]));
    double sum = 0;
    for (uint32_t i = 0; i < n; ++i) sum += std::exp(double(row[i]) - m);
    for (uint32_t i = 0; i < n; ++i) y[size_t(r) * n + i] = m == -INFINITY ? 0.0 : std::exp(double(row[i]) - m) / sum;
  }
  return y;
}

std::vector<float> run_softmax(test::GpuFixture& f, const std::vector<float>& x, uint32_t rows, uint32_t n,
                               bool in_place = false) {
  auto dx = f.upload(x);
  auto dy = in_place ? dx : f.device_buffer(x.size() * 4);
  graph::Graph g(f.ctx.device());
  ops::softmax(f.ctx, g, dx, dy, rows, n);
  g.run();
  return f.download<float>(dy, x.size());
}

}  // namespace

TEST_CASE_METHOD(test::GpuFixture, "softmax matches the CPU", "[shaders][softmax]") {
  struct Shape {
    uint32_t rows, n;
  };
  // 1: a single logit; 7, 255, 257: not multiples of any workgroup; 4099 and
  // a Qwen-sized vocabulary row (151936) with many elements per invocation.
  for (Shape s : {Shape{1, 1}, Shape{5, 7}, Shape{3, 255}, Shape{4, 257}, Shape{2, 4099}, Shape{300, 8},
                  Shape{1, 151936}}) {
    CAPTURE(s.rows, s.n);
    auto x = test::random_floats(size_t(s.rows) * s.n, 71, -10.0f, 10.0f);
    auto want = ref_softmax(x, s.rows, s.n);
    test::require_close(run_softmax(*this, x, s.rows, s.n), want, kRel, kAbs);
  }
}

TEST_CASE_METHOD(test::GpuFixture, "softmax is stable for large logits", "[shaders][softmax]") {
  // exp(1000) overflows f32 and exp(-1000) underflows: only subtracting the
  // row maximum keeps these finite and summing to 1.
  const uint32_t rows = 4, n = 1000;
  auto x = test::random_floats(size_t(rows) * n, 72, -10.0f, 10.0f);
  const float offsets[] = {1000.0f, -1000.0f, 88.0f, 3e4f};
  for (uint32_t r = 0; r < rows; ++r)
    for (uint32_t i = 0; i < n; ++i) x[size_t(r) * n + i] += offsets[r];
  auto got = run_softmax(*this, x, rows, n);
  // At 3e4 the f32 inputs are only 2^-9 apart; the reference sees the same
  // rounded inputs, so the comparison stays exact in intent.
  test::require_close(got, ref_softmax(x, rows, n), kRel, kAbs);
  for (uint32_t r = 0; r < rows; ++r) {
    double sum = 0;
    for (uint32_t i = 0; i < n; ++i) sum += got[size_t(r) * n + i];
    CHECK(std::fabs(sum - 1.0) < 1e-4);
  }
}

TEST_CASE_METHOD(test::GpuFixture, "softmax: -inf entries give 0, in place", "[shaders][softmax]") {
  const uint32_t rows = 4, n = 300;
  const float inf = std::numeric_limits<float>::infinity();
  auto x = test::random_floats(size_t(rows) * n, 73, -5.0f, 5.0f);
  for (uint32_t i = 0; i < n; ++i) {
    if (i % 3 == 0) x[i] = -inf;              // row 0: a third masked
    if (i != n - 1) x[size_t(n) + i] = -inf;  // row 1: all but the last masked: one-hot
    x[size_t(2) * n + i] = -inf;              // row 2: all masked: all 0
    if (i < 200) x[size_t(3) * n + i] = -inf; // row 3: the head masked (first elements of every invocation)
  }
  auto got = run_softmax(*this, x, rows, n, /*in_place=*/true);
  test::require_close(got, ref_softmax(x, rows, n), kRel, kAbs);
  CHECK(got[size_t(2) * n - 1] == 1.0f);
}

TEST_CASE_METHOD(test::GpuFixture, "softmax past 65535 rows (2-D workgroup grid)", "[shaders][softmax]") {
  // Router-shaped: many tokens, few experts; 70000 rows overflow the grid's x limit.
  const uint32_t rows = 70000, n = 4;
  auto x = test::random_floats(size_t(rows) * n, 74, -10.0f, 10.0f);
  test::require_close(run_softmax(*this, x, rows, n), ref_softmax(x, rows, n), kRel, kAbs);
}
