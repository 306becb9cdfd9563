// Top-K candidates of rows against a CPU reference: every (value, index)
// pair sorted by value, largest first, ties by the lower index; NaN as -inf;
// rows shorter than kTopK padded with (0xffffffff, -inf).
//
// Tolerance: none. The kernel only compares and copies values, so every
// pair must match the reference bit for bit, in order.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "runtime/ops/top_k.h"
#include "tests/shaders/gpu_fixture.h"

using namespace vkmind;
using ops::kTopK;
using ops::TopKPair;

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

std::vector<TopKPair> ref_top_k(const std::vector<float>& x, uint32_t rows, uint32_t n, uint32_t stride) {
  std::vector<TopKPair> out;
  for (uint32_t r = 0; r < rows; ++r) {
    std::vector<TopKPair> row(n);
    for (uint32_t i = 0; i < n; ++i) {
      const float v = x[size_t(r) * stride + i];
      row[i] = {i, std::isnan(v) ? kNegInf : v};
    }
    std::sort(row.begin(), row.end(), [](const TopKPair& a, const TopKPair& b) {
      return a.value > b.value || (a.value == b.value && a.index < b.index);
    });
    row.resize(kTopK, TopKPair{0xffffffffu, kNegInf});
    out.insert(out.end(), row.begin(), row.end());
  }
  return out;
}

std::vector<TopKPair> run_top_k(test::GpuFixture& f, const std::vector<float>& x, uint32_t rows, uint32_t n,
                                uint32_t stride) {
  auto dx = f.upload(x);
  auto out = f.device_buffer(size_t(rows) * kTopK * sizeof(TopKPair));
  const uint64_t scratch_bytes = ops::top_k_scratch_bytes(rows, n);
  auto scratch = f.device_buffer(std::max<uint64_t>(scratch_bytes, 16));
  graph::Graph g(f.ctx.device());
  ops::top_k(f.ctx, g, dx, rows, n, stride, scratch, out);
  g.run();
  return f.download<TopKPair>(out, size_t(rows) * kTopK);
}

void require_same(const std::vector<TopKPair>& got, const std::vector<TopKPair>& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i, got[i].index, got[i].value, want[i].index, want[i].value);
    REQUIRE(got[i].index == want[i].index);
    REQUIRE(std::memcmp(&got[i].value, &want[i].value, 4) == 0);
  }
}

}  // namespace

TEST_CASE_METHOD(test::GpuFixture, "top_k matches the CPU", "[shaders][top_k]") {
  struct Shape {
    uint32_t rows, n, stride;
  };
  // 1 and 63: shorter than K (padding); 64 and 65 around K; 1023 / 1025
  // around one chunk; 6400 (two passes), 151936 (three) and a stride wider
  // than the row; 70000 x 3 rows.
  for (Shape s : {Shape{1, 1, 1}, Shape{3, 63, 63}, Shape{2, 64, 64}, Shape{2, 65, 65}, Shape{2, 1023, 1023},
                  Shape{1, 1025, 1025}, Shape{2, 6400, 6411}, Shape{3, 70000, 70000}, Shape{1, 151936, 151936}}) {
    CAPTURE(s.rows, s.n, s.stride);
    auto x = test::random_floats(size_t(s.rows) * s.stride, 91 + s.n, -30.0f, 30.0f);
    require_same(run_top_k(*this, x, s.rows, s.n, s.stride), ref_top_k(x, s.rows, s.n, s.stride));
  }
}

TEST_CASE_METHOD(test::GpuFixture, "top_k breaks ties by the lower index and ranks NaN as -inf", "[shaders][top_k]") {
  // Values from a handful of levels: hundreds of ties in every chunk, across
  // chunks and passes; -inf, NaN and -0.0 / +0.0 (equal, so index order).
  const uint32_t rows = 2, n = 5000;
  auto x = test::random_floats(size_t(rows) * n, 93, 0.0f, 6.0f);
  const float specials[] = {kNegInf, std::numeric_limits<float>::quiet_NaN(), -0.0f, 0.0f};
  for (size_t i = 0; i < x.size(); ++i) x[i] = i % 7 == 0 ? specials[(i / 7) % 4] : std::floor(x[i]);
  require_same(run_top_k(*this, x, rows, n, n), ref_top_k(x, rows, n, n));

  // A row that is all -inf and NaN: real indices first (in order), then padding.
  std::vector<float> empty(300);
  for (size_t i = 0; i < empty.size(); ++i) empty[i] = i % 2 ? kNegInf : std::numeric_limits<float>::quiet_NaN();
  auto got = run_top_k(*this, empty, 1, 300, 300);
  require_same(got, ref_top_k(empty, 1, 300, 300));
  CHECK(got[0].index == 0);
  CHECK(got[kTopK - 1].index == kTopK - 1);
}

TEST_CASE_METHOD(test::GpuFixture, "top_k rejects bad arguments", "[shaders][top_k]") {
  auto x = device_buffer(4096);
  auto out = device_buffer(kTopK * sizeof(TopKPair));
  graph::Graph g(ctx.device());
  CHECK_THROWS_WITH(ops::top_k(ctx, g, x, 1, 2000, 2000, x, out), Catch::Contains("x holds 4096 bytes"));
  CHECK_THROWS_WITH(ops::top_k(ctx, g, x, 1, 0, 1, x, out), Catch::Contains("0 entries"));
  CHECK_THROWS_WITH(ops::top_k(ctx, g, x, 2, 100, 100, x, out), Catch::Contains("out holds"));
  CHECK_THROWS_WITH(ops::top_k(ctx, g, x, 1, 1000, 500, x, out), Catch::Contains("row stride"));
  CHECK_THROWS_WITH(ops::top_k(ctx, g, x, 1u << 20, 1, 1, x, out), Catch::Contains("workgroup counts"));
}
