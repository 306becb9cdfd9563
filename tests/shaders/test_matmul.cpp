// matmul (y = x W^T) against a CPU reference, for every weight type and both
// kernels (matrix-vector and tiled), forced explicitly, on odd shapes.
//
// Tolerance: |gpu - cpu| <= 1e-5 * sum_k |W[r][k] x[t][k]| (+ 1e-30 for all-zero rows).
// The CPU sums in double the very f32 values the kernel sees (the reference
// dequantizes the same stored bytes, and int8 * f16-scale products are exact
// in f32), so the only difference is the kernel's f32 rounding in its own
// summation order. Each step of an f32 sum errs by at most 2^-24 of the running
// magnitude, itself <= sum |w x|; the kernels sum at most a few hundred terms
// in sequence (matvec: K / workgroup per thread, then a tree; tiled: K in
// order), and such errors grow like sqrt(steps) in practice: ~1e-6 relative at
// the K used here, so 1e-5 catches any wrong element while allowing any order.
// Quantized types get no looser bound: their dequantized values are exact.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "runtime/ops/matmul.h"
#include "runtime/ops/weight_view.h"
#include "runtime/vk/error.h"
#include "tests/shaders/gpu_fixture.h"
#include "tests/shaders/weight_reference.h"

using namespace vkmind;

namespace {

struct Shape {
  uint32_t M, K, N;
};

constexpr double kRelTol = 1e-5;

// y[t][r] (as doubles) and the error bound of each element.
struct Reference {
  std::vector<double> y, bound;
};

Reference reference_matmul(const std::vector<float>& w, const std::vector<float>& x, uint32_t M, uint32_t K,
                           uint32_t N) {
  Reference ref{std::vector<double>(size_t(M) * N), std::vector<double>(size_t(M) * N)};
  for (uint32_t t = 0; t < N; ++t) {
    for (uint32_t r = 0; r < M; ++r) {
      double sum = 0, mag = 0;
      for (uint32_t k = 0; k < K; ++k) {
        const double p = double(w[size_t(r) * K + k]) * x[size_t(t) * K + k];
        sum += p;
        mag += std::fabs(p);
      }
      ref.y[size_t(t) * M + r] = sum;
      ref.bound[size_t(t) * M + r] = kRelTol * mag + 1e-30;
    }
  }
  return ref;
}

// Number of elements over their bound; reports the first few.
size_t count_bad(const std::vector<float>& got, const Reference& ref) {
  size_t bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double err = std::fabs(double(got[i]) - ref.y[i]);
    if (!(err <= ref.bound[i])) {
      if (bad < 5) UNSCOPED_INFO("element " << i << ": got " << got[i] << ", want " << ref.y[i] << ", error " << err
                                            << " > " << ref.bound[i]);
      ++bad;
    }
  }
  return bad;
}

const char* path_name(ops::MatmulPath p) {
  switch (p) {
    case ops::MatmulPath::Vector: return "vector";
    case ops::MatmulPath::VectorTexels: return "vector-texels";
    case ops::MatmulPath::Tiled: return "tiled";
    default: return "auto";
  }
}

}  // namespace

class MatmulFixture : public test::GpuFixture {
 public:
  // Runs one matmul of random data and compares it with the reference;
  // returns the kernel that ran.
  std::string check(TensorType type, Shape s, ops::MatmulPath path, uint32_t seed) {
    CAPTURE(test::type_label(type), path_name(path), s.M, s.K, s.N);
    auto values = test::random_floats(size_t(s.M) * s.K, seed);
    auto bytes = test::encode_weights(values, type);
    auto w = test::decode_weights(bytes, type, values.size());
    auto x = test::random_floats(size_t(s.N) * s.K, seed + 1);
    Reference ref = reference_matmul(w, x, s.M, s.K, s.N);

    ops::WeightView view{upload(bytes), type, s.M, s.K};
    auto dx = upload(x);
    auto dy = device_buffer(size_t(s.M) * s.N * 4);
    graph::Graph g(ctx.device());
    ops::matmul(ctx, g, view, dx, dy, s.N, {.path = path});
    g.run();
    CHECK(count_bad(download<float>(dy, size_t(s.M) * s.N), ref) == 0);
    REQUIRE(g.node_count() == 1);
    return g.node_label(0);
  }
};

// Float types: odd M, N, K; K % 4 != 0 exercises the scalar loads, K % 4 == 0 the wide ones.
static const Shape kFloatMatvec[] = {{1, 1, 1}, {7, 13, 1}, {33, 257, 3}, {130, 100, 8}, {65, 1001, 9}, {257, 512, 5}};
static const Shape kFloatTiled[] = {{1, 1, 1}, {7, 13, 3}, {65, 33, 67}, {130, 256, 64}, {100, 96, 17}, {257, 203, 129}};
// Blocked types: odd M, K = 32 * odd, sizes not divisible by the workgroup or tiles.
static const Shape kQuantMatvec[] = {{1, 32, 1}, {7, 96, 1}, {33, 160, 3}, {129, 352, 8}, {65, 224, 11}};
static const Shape kQuantTiled[] = {{1, 32, 1}, {7, 96, 5}, {67, 160, 65}, {130, 352, 33}, {257, 288, 100}};
// Super-block types (256 elements): K = 256, 512, 768 and 2816 (11 blocks, the FFN of
// some real models), odd M and N.
static const Shape kSuperMatvec[] = {{1, 256, 1}, {7, 512, 1}, {33, 768, 3}, {65, 2816, 8}, {9, 256, 11}};
static const Shape kSuperTiled[] = {{1, 256, 1}, {7, 512, 5}, {67, 256, 65}, {33, 2816, 33}, {130, 768, 17}};

std::span<const Shape> matvec_shapes(TensorType type) {
  if (test::block_elements(type) == 256) return kSuperMatvec;
  return test::is_blocked(type) ? std::span<const Shape>(kQuantMatvec) : std::span<const Shape>(kFloatMatvec);
}
std::span<const Shape> tiled_shapes(TensorType type) {
  if (test::block_elements(type) == 256) return kSuperTiled;
  return test::is_blocked(type) ? std::span<const Shape>(kQuantTiled) : std::span<const Shape>(kFloatTiled);
}
// The smallest K of whole blocks, at least 64: shapes shared by every type.
uint32_t whole_blocks_k(TensorType type) { return std::max(64u, test::block_elements(type)); }

TEST_CASE_METHOD(MatmulFixture, "matmul matches the CPU for every weight type and path", "[shaders][matmul]") {
  for (TensorType type : test::kWeightTypes) {
    const bool q = test::is_blocked(type);
    uint32_t seed = 10;
    for (Shape s : matvec_shapes(type)) check(type, s, ops::MatmulPath::Vector, seed++);
    for (Shape s : tiled_shapes(type)) check(type, s, ops::MatmulPath::Tiled, seed++);
    check(type, {q ? 33u : 31u, q ? whole_blocks_k(type) : 47u, 4}, ops::MatmulPath::Auto, seed++);
    check(type, {q ? 33u : 31u, q ? whole_blocks_k(type) : 47u, 40}, ops::MatmulPath::Auto, seed++);
  }
}

// The texel path needs K to be whole 16-byte texels (4 f32 or 8 16-bit
// elements per texel); these shapes are, with M and N odd and K not a
// multiple of the workgroup's stride (8 lanes x 8 elements on lavapipe).
TEST_CASE_METHOD(MatmulFixture, "matmul reads float weights through texel buffers", "[shaders][matmul]") {
  REQUIRE(ctx.device().report().storage_texel_rgba32ui);  // a format feature Vulkan makes mandatory
  static const Shape kTexelShapes[] = {{1, 8, 1}, {7, 24, 1}, {33, 264, 3}, {130, 104, 8}, {65, 1000, 9}, {257, 512, 5}};
  uint32_t seed = 100;
  for (TensorType type : {TensorType::F32, TensorType::F16, TensorType::BF16}) {
    const std::string kernel = std::string("matvec_texel_") + (type == TensorType::F32 ? "f32" : type == TensorType::F16 ? "f16" : "bf16");
    for (Shape s : kTexelShapes) CHECK(check(type, s, ops::MatmulPath::VectorTexels, seed++) == kernel);
    // Rows that are not whole texels fall back to the storage-buffer kernel.
    CHECK(check(type, {9, type == TensorType::F32 ? 6u : 12u, 2}, ops::MatmulPath::VectorTexels, seed++).rfind("matvec_texel_", 0) ==
          std::string::npos);
  }
}

// Blocked types fetch their 16-bit words through texels from any row start
// (rows of 17 words for Q8_0, 105 for Q6_K): the binding is rounded up to
// whole texels, and the last row's last word must still be read right.
TEST_CASE_METHOD(MatmulFixture, "matmul reads blocked weights through texel buffers", "[shaders][matmul]") {
  uint32_t seed = 300;
  for (TensorType type : test::kBlockedTypes) {
    const std::string kernel = std::string("matvec_texel_") + ops::weight_kernel_suffix(type);
    for (Shape s : matvec_shapes(type)) CHECK(check(type, s, ops::MatmulPath::VectorTexels, seed++) == kernel);
  }
}

TEST_CASE_METHOD(MatmulFixture, "matmul computes a row range into a column band of y", "[shaders][matmul]") {
  // Rows [5, 16) of a 40-row weight into columns [7, 18) of a y with 30 columns;
  // the rest of y keeps its sentinel.
  const uint32_t M = 40, N = 3, begin = 5, count = 11, stride = 30, offset = 7;
  for (TensorType type : {TensorType::F32, TensorType::Q4_0, TensorType::Q4_K}) {
    const uint32_t K = whole_blocks_k(type);
    for (auto path : {ops::MatmulPath::Vector, ops::MatmulPath::VectorTexels, ops::MatmulPath::Tiled}) {
      CAPTURE(test::type_label(type), path_name(path));
      auto values = test::random_floats(size_t(M) * K, 3);
      auto bytes = test::encode_weights(values, type);
      auto w = test::decode_weights(bytes, type, values.size());
      auto x = test::random_floats(size_t(N) * K, 4);
      Reference ref = reference_matmul(w, x, M, K, N);
      std::vector<float> y0(size_t(N) * stride, -123.0f);
      auto dy = upload(y0);
      graph::Graph g(ctx.device());
      ops::matmul(ctx, g, {upload(bytes), type, M, K}, upload(x), dy, N,
                  {.row_begin = begin, .row_count = count, .y_stride = stride, .y_offset = offset, .path = path});
      g.run();
      auto y = download<float>(dy, y0.size());
      for (uint32_t t = 0; t < N; ++t) {
        for (uint32_t c = 0; c < stride; ++c) {
          CAPTURE(t, c);
          const float got = y[t * stride + c];
          if (c < offset || c >= offset + count) {
            CHECK(got == -123.0f);
          } else {
            const size_t i = size_t(t) * M + begin + (c - offset);
            CHECK(std::fabs(got - ref.y[i]) <= ref.bound[i]);
          }
        }
      }
    }
  }
}

TEST_CASE_METHOD(MatmulFixture, "matmul reads weights at offsets that break 16-byte alignment",
                 "[shaders][matmul]") {
  // A weight starting 4 (f32) or 2 (others) bytes into its buffer (GGUF
  // aligns tensors to 32 bytes only): its binding starts at the aligned offset
  // below, the kernels get a unit offset and fall back to scalar loads where
  // wide ones would be misaligned.
  const uint32_t M = 9, N = 2;
  for (TensorType type : test::kWeightTypes) {
    const uint32_t K = whole_blocks_k(type);
    for (auto path : {ops::MatmulPath::Vector, ops::MatmulPath::VectorTexels, ops::MatmulPath::Tiled}) {
      CAPTURE(test::type_label(type), path_name(path));
      auto values = test::random_floats(size_t(M) * K, 5);
      auto bytes = test::encode_weights(values, type);
      auto w = test::decode_weights(bytes, type, values.size());
      auto x = test::random_floats(size_t(N) * K, 6);
      const size_t pad = type == TensorType::F32 ? 4 : 2;
      std::vector<uint8_t> padded(pad, 0xee);
      padded.insert(padded.end(), bytes.begin(), bytes.end());
      auto dw = upload(padded);
      auto dy = device_buffer(size_t(M) * N * 4);
      graph::Graph g(ctx.device());
      ops::matmul(ctx, g, {dw.sub(pad, bytes.size()), type, M, K}, upload(x), dy, N, {.path = path});
      g.run();
      CHECK(count_bad(download<float>(dy, size_t(M) * N), reference_matmul(w, x, M, K, N)) == 0);
    }
  }
}

TEST_CASE_METHOD(MatmulFixture, "matmul refuses blocked weights whose rows are not whole blocks",
                 "[shaders][matmul]") {
  auto dw = device_buffer(4096);
  auto dx = device_buffer(4096);
  auto dy = device_buffer(4096);
  graph::Graph g(ctx.device());
  for (TensorType type : test::kBlockedTypes) {
    CHECK_THROWS_AS(ops::matmul(ctx, g, {dw, type, 2, 48}, dx, dy, 1), Error);
  }
  // And sizes that do not fit their buffers.
  CHECK_THROWS_AS(ops::matmul(ctx, g, {dw.sub(0, 100), TensorType::F32, 8, 8}, dx, dy, 1), Error);
  CHECK_THROWS_AS(ops::matmul(ctx, g, {dw, TensorType::F32, 8, 8}, dx.sub(0, 16), dy, 1), Error);
}

TEST_CASE_METHOD(MatmulFixture, "matmul over a weight larger than maxStorageBufferRange", "[shaders][matmul][large]") {
  // 160 MiB of f32 (40960 x 1024), one token: on lavapipe (128 MiB ranges)
  // the weight is bound in two row chunks.
  const uint32_t M = 40960, K = 1024, N = 1;
  const uint64_t bytes = uint64_t(M) * K * 4;
  const auto start = std::chrono::steady_clock::now();
  // A cheap generator: 40M floats from mt19937 would dominate the test.
  std::vector<float> w(size_t(M) * K);
  uint32_t state = 12345;
  for (auto& v : w) {
    state = state * 1664525u + 1013904223u;
    v = float(int32_t(state >> 8) - (1 << 23)) / float(1 << 23);
  }
  auto x = test::random_floats(K, 7);
  Reference ref = reference_matmul(w, x, M, K, N);

  auto dw = device_arena.allocate(bytes);
  ctx.transfer().upload(dw, w.data(), bytes);
  auto dy = device_buffer(size_t(M) * 4);
  graph::Graph g(ctx.device());
  ops::matmul(ctx, g, {dw, TensorType::F32, M, K}, upload(x), dy, N);
  const uint64_t range = ctx.device().report().max_storage_buffer_range;
  if (bytes > range) CHECK(g.node_count() >= 2);
  else WARN("maxStorageBufferRange is " << (range >> 20) << " MiB: this device binds the weight whole");
  const auto run_start = std::chrono::steady_clock::now();
  g.run();
  const auto run_end = std::chrono::steady_clock::now();
  CHECK(count_bad(download<float>(dy, M), ref) == 0);
  using ms = std::chrono::duration<double, std::milli>;
  WARN("160 MiB matmul: " << g.node_count() << " dispatches, GPU run " << ms(run_end - run_start).count()
                          << " ms, whole test " << ms(std::chrono::steady_clock::now() - start).count() << " ms");
}

TEST_CASE_METHOD(MatmulFixture, "matmul over a K-quant weight larger than maxStorageBufferRange",
                 "[shaders][matmul][large]") {
  // Over 128 MiB of Q4_K and of Q6_K (lavapipe binds it in row chunks). The rows
  // repeat 509 distinct encoded rows (encoding 300M values would dominate the
  // test); 509 is prime, so every chunk boundary falls at a different row of
  // the cycle, and each output row is checked against its own reference.
  const uint32_t K = 4096, distinct = 509, N = 2;
  for (TensorType type : {TensorType::Q4_K, TensorType::Q6_K}) {
    CAPTURE(test::type_label(type));
    const uint64_t row_bytes = ops::weight_row_bytes(type, K);
    const uint32_t M = uint32_t((160ull << 20) / row_bytes) | 1;  // 160 MiB, odd
    auto values = test::random_floats(size_t(distinct) * K, 21);
    auto rows = test::encode_weights(values, type);
    auto w = test::decode_weights(rows, type, values.size());
    auto x = test::random_floats(size_t(N) * K, 22);
    Reference ref = reference_matmul(w, x, distinct, K, N);
    std::vector<uint8_t> bytes(uint64_t(M) * row_bytes);
    for (uint32_t r = 0; r < M; ++r) {
      std::copy_n(rows.begin() + std::ptrdiff_t((r % distinct) * row_bytes), row_bytes,
                  bytes.begin() + std::ptrdiff_t(uint64_t(r) * row_bytes));
    }
    auto dw = device_arena.allocate(bytes.size());
    ctx.transfer().upload(dw, bytes.data(), bytes.size());
    for (auto path : {ops::MatmulPath::Vector, ops::MatmulPath::VectorTexels, ops::MatmulPath::Tiled}) {
      CAPTURE(path_name(path));
      auto dy = device_buffer(size_t(M) * N * 4);
      graph::Graph g(ctx.device());
      ops::matmul(ctx, g, {dw, type, M, K}, upload(x), dy, N, {.path = path});
      if (bytes.size() > ctx.device().report().max_storage_buffer_range) CHECK(g.node_count() >= 2);
      g.run();
      const auto y = download<float>(dy, size_t(M) * N);
      size_t bad = 0;
      for (uint32_t t = 0; t < N; ++t) {
        for (uint32_t r = 0; r < M; ++r) {
          const size_t i = size_t(t) * distinct + r % distinct;
          if (!(std::fabs(double(y[size_t(t) * M + r]) - ref.y[i]) <= ref.bound[i]) && bad++ < 5) {
            UNSCOPED_INFO("token " << t << " row " << r << ": got " << y[size_t(t) * M + r] << ", want " << ref.y[i]);
          }
        }
      }
      CHECK(bad == 0);
    }
  }
}

// Not run by default: `test_matmul "[bench]"` prints kernel throughput on this device.
TEST_CASE_METHOD(MatmulFixture, "matmul throughput", "[.][bench]") {
  struct Case { TensorType type; Shape s; ops::MatmulPath path; };
  const Case cases[] = {
      {TensorType::F32, {2048, 2048, 1}, ops::MatmulPath::Vector},  {TensorType::F16, {2048, 2048, 1}, ops::MatmulPath::Vector},
      {TensorType::Q8_0, {2048, 2048, 1}, ops::MatmulPath::Vector}, {TensorType::Q4_0, {2048, 2048, 1}, ops::MatmulPath::Vector},
      {TensorType::Q4_0, {2048, 2048, 8}, ops::MatmulPath::Vector}, {TensorType::F32, {1024, 1024, 128}, ops::MatmulPath::Tiled},
      {TensorType::Q4_0, {1024, 1024, 128}, ops::MatmulPath::Tiled},
      {TensorType::Q5_1, {2048, 2048, 1}, ops::MatmulPath::Vector}, {TensorType::Q4_K, {2048, 2048, 1}, ops::MatmulPath::Vector},
      {TensorType::Q6_K, {2048, 2048, 1}, ops::MatmulPath::Vector}, {TensorType::Q4_K, {1024, 1024, 128}, ops::MatmulPath::Tiled},
      {TensorType::F32, {2048, 2048, 1}, ops::MatmulPath::VectorTexels},
      {TensorType::F16, {2048, 2048, 1}, ops::MatmulPath::VectorTexels},
      {TensorType::Q8_0, {2048, 2048, 1}, ops::MatmulPath::VectorTexels},
      {TensorType::Q4_K, {2048, 2048, 1}, ops::MatmulPath::VectorTexels},
      {TensorType::F16, {2048, 2048, 8}, ops::MatmulPath::VectorTexels},
      {TensorType::F16, {1024, 1024, 128}, ops::MatmulPath::VectorTexels},
      // minimind-3-size layers (768 wide, FFN 2048): decode and prefill.
      {TensorType::F16, {768, 768, 1}, ops::MatmulPath::VectorTexels},
      {TensorType::F16, {4096, 768, 1}, ops::MatmulPath::VectorTexels},
      {TensorType::F16, {768, 2048, 1}, ops::MatmulPath::VectorTexels},
      {TensorType::F16, {4096, 768, 128}, ops::MatmulPath::VectorTexels},
  };
  for (const Case& c : cases) {
    auto values = test::random_floats(size_t(c.s.M) * c.s.K, 1);
    auto bytes = test::encode_weights(values, c.type);
    auto dw = upload(bytes);
    auto dx = upload(test::random_floats(size_t(c.s.N) * c.s.K, 2));
    auto dy = device_buffer(size_t(c.s.M) * c.s.N * 4);
    graph::Graph g(ctx.device());
    for (int i = 0; i < 10; ++i) ops::matmul(ctx, g, {dw, c.type, c.s.M, c.s.K}, dx, dy, c.s.N, {.path = c.path});
    g.run();  // warm-up
    double s = 1e30;  // the best of 5: other processes only ever slow a run down
    for (int rep = 0; rep < 5; ++rep) {
      const auto start = std::chrono::steady_clock::now();
      g.run();
      s = std::min(s, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / 10);
    }
    WARN(test::type_label(c.type) << " " << path_name(c.path) << " M=" << c.s.M << " K=" << c.s.K << " N=" << c.s.N
                                  << ": " << s * 1e3 << " ms, " << bytes.size() / s * 1e-9 << " GB/s of weights, "
                                  << 2.0 * c.s.M * c.s.K * c.s.N / s * 1e-9 << " GFLOP/s");
  }
}
