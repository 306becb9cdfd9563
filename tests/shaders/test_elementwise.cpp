// Element-wise add against the CPU. Exact: one f32 addition per element is
// correctly rounded on every conforming device, so the tolerance is zero.
#include <catch2/catch.hpp>

#include "runtime/ops/elementwise.h"
#include "tests/shaders/gpu_fixture.h"

using namespace vkmind;

TEST_CASE_METHOD(test::GpuFixture, "add matches the CPU for odd and large sizes", "[shaders][add]") {
  for (uint32_t n : {1u, 7u, 255u, 256u, 257u, 100003u}) {
    CAPTURE(n);
    auto a = test::random_floats(n, 1);
    auto b = test::random_floats(n, 2);
    std::vector<float> expected(n);
    for (uint32_t i = 0; i < n; ++i) expected[i] = a[i] + b[i];

    auto da = upload(a), db = upload(b);
    auto dout = device_buffer(n * sizeof(float));
    graph::Graph g(ctx.device());
    ops::add(ctx, g, da, db, dout, n);
    g.run();
    REQUIRE(download<float>(dout, n) == expected);
  }
}

TEST_CASE_METHOD(test::GpuFixture, "copy_columns extracts a column band", "[shaders][copy_columns]") {
  struct Shape { uint32_t rows, stride, offset, cols; };
  for (Shape s : {Shape{1, 24, 16, 8}, Shape{7, 40, 8, 16}, Shape{5, 33, 0, 33}, Shape{300, 97, 31, 65}}) {
    CAPTURE(s.rows, s.stride, s.offset, s.cols);
    auto src = test::random_floats(size_t(s.rows) * s.stride, 3);
    std::vector<float> expected(size_t(s.rows) * s.cols);
    for (uint32_t t = 0; t < s.rows; ++t)
      for (uint32_t j = 0; j < s.cols; ++j) expected[t * s.cols + j] = src[t * s.stride + s.offset + j];
    auto dsrc = upload(src);
    auto ddst = device_buffer(expected.size() * 4);
    graph::Graph g(ctx.device());
    ops::copy_columns(ctx, g, dsrc, s.stride, s.offset, ddst, s.rows, s.cols);
    g.run();
    REQUIRE(download<float>(ddst, expected.size()) == expected);
  }
}

TEST_CASE_METHOD(test::GpuFixture, "add_bias adds the bias to every row", "[shaders][add_bias]") {
  for (auto [rows, cols] : {std::pair{1u, 1u}, std::pair{3u, 7u}, std::pair{17u, 257u}, std::pair{64u, 96u}}) {
    CAPTURE(rows, cols);
    auto x = test::random_floats(size_t(rows) * cols, 4);
    auto bias = test::random_floats(cols, 5);
    std::vector<float> expected = x;
    for (uint32_t t = 0; t < rows; ++t)
      for (uint32_t j = 0; j < cols; ++j) expected[t * cols + j] += bias[j];
    auto dx = upload(x), db = upload(bias);
    graph::Graph g(ctx.device());
    ops::add_bias(ctx, g, dx, db, rows, cols);
    g.run();
    REQUIRE(download<float>(dx, expected.size()) == expected);
  }
}
