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
