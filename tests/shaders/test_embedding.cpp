// Embedding gather against the CPU for every table type. Exact (tolerance
// zero): the kernel only dequantizes, and each dequantized value is exact in
// f32 (f16 and bf16 widen exactly; int8 or nibble - 8 times an f16 scale is a
// single correctly rounded f32 product, which the reference computes the same way).
#include <catch2/catch.hpp>

#include <chrono>

#include "runtime/ops/embedding.h"
#include "runtime/vk/error.h"
#include "tests/shaders/gpu_fixture.h"
#include "tests/shaders/weight_reference.h"

using namespace vkmind;

namespace {

struct Shape {
  uint32_t vocab, dim, tokens;
};

std::vector<uint32_t> random_ids(uint32_t n, uint32_t vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint32_t> ids(n);
  for (auto& id : ids) id = rng() % vocab;
  if (n > 1) ids[n - 1] = vocab - 1;  // the last row, whose end is the end of the table
  if (n > 2) ids[n - 2] = 0;
  return ids;
}

std::vector<float> reference_gather(const std::vector<float>& table, uint32_t vocab, uint32_t dim,
                                    const std::vector<uint32_t>& ids) {
  std::vector<float> out;
  for (uint32_t id : ids) {
    const uint32_t row = std::min(id, vocab - 1);
    out.insert(out.end(), table.begin() + size_t(row) * dim, table.begin() + size_t(row + 1) * dim);
  }
  return out;
}

}  // namespace

class EmbeddingFixture : public test::GpuFixture {
 public:
  std::vector<float> gather(const std::vector<uint8_t>& bytes, TensorType type, uint32_t vocab, uint32_t dim,
                            const std::vector<uint32_t>& ids) {
    auto dout = device_buffer(ids.size() * dim * 4);
    graph::Graph g(ctx.device());
    ops::embedding(ctx, g, {upload(bytes), type, vocab, dim}, upload(ids), dout, uint32_t(ids.size()));
    g.run();
    return download<float>(dout, ids.size() * dim);
  }
};

// Float types: odd dims; blocked types: dim = 32 * odd. Token counts not divisible by the workgroup.
static const Shape kFloatShapes[] = {{1, 1, 1}, {5, 7, 3}, {17, 33, 9}, {100, 256, 64}, {6400, 95, 301}};
static const Shape kQuantShapes[] = {{1, 32, 1}, {3, 32, 2}, {17, 96, 5}, {65, 160, 33}, {301, 224, 257}};
// Super-block types (256 elements): dim = 256 * n.
static const Shape kSuperShapes[] = {{1, 256, 1}, {3, 512, 2}, {17, 256, 5}, {65, 768, 33}, {101, 2816, 67}};

std::span<const Shape> table_shapes(TensorType type) {
  if (test::block_elements(type) == 256) return kSuperShapes;
  return test::is_blocked(type) ? std::span<const Shape>(kQuantShapes) : std::span<const Shape>(kFloatShapes);
}

TEST_CASE_METHOD(EmbeddingFixture, "embedding gathers rows of every table type exactly", "[shaders][embedding]") {
  for (TensorType type : test::kWeightTypes) {
    uint32_t seed = 20;
    for (Shape s : table_shapes(type)) {
      CAPTURE(test::type_label(type), s.vocab, s.dim, s.tokens);
      auto values = test::random_floats(size_t(s.vocab) * s.dim, seed++);
      auto bytes = test::encode_weights(values, type);
      auto table = test::decode_weights(bytes, type, values.size());
      auto ids = random_ids(s.tokens, s.vocab, seed++);
      CHECK(gather(bytes, type, s.vocab, s.dim, ids) == reference_gather(table, s.vocab, s.dim, ids));
    }
  }
}

// A tied output head in tiles (CPU devices, ops/weight_view.h) is the
// embedding table too: rows come back the same as from the row-major table.
TEST_CASE_METHOD(EmbeddingFixture, "embedding gathers rows of a tiled table exactly", "[shaders][embedding][tiles]") {
  uint32_t seed = 70;
  for (TensorType type : {TensorType::F32, TensorType::F16, TensorType::BF16}) {
    for (uint32_t C : {8u, 64u}) {
      for (Shape s : {Shape{1, C, 1}, Shape{17, 2 * C, 9}, Shape{100, 3 * C, 64}, Shape{6400, C, 301}}) {
        CAPTURE(test::type_label(type), C, s.vocab, s.dim, s.tokens);
        auto values = test::random_floats(size_t(s.vocab) * s.dim, seed++);
        auto bytes = test::encode_weights(values, type);
        auto table = test::decode_weights(bytes, type, values.size());
        std::vector<uint8_t> tiles(bytes.size());
        ops::tile_rows_copy(tiles.data(), bytes.data(), 0, s.vocab, s.vocab, s.dim, type, C);
        auto ids = random_ids(s.tokens, s.vocab, seed++);
        auto dout = device_buffer(ids.size() * s.dim * 4);
        graph::Graph g(ctx.device());
        ops::embedding(ctx, g, {upload(tiles), type, s.vocab, s.dim, ops::kWeightTileRows, C}, upload(ids), dout,
                       uint32_t(ids.size()));
        g.run();
        CHECK(download<float>(dout, ids.size() * s.dim) == reference_gather(table, s.vocab, s.dim, ids));
      }
    }
  }
}

TEST_CASE_METHOD(EmbeddingFixture, "embedding clamps out-of-range ids to the last row", "[shaders][embedding]") {
  // The runtime rejects such ids on the host; the kernel must still stay in bounds.
  const uint32_t vocab = 10, dim = 64;
  for (TensorType type : {TensorType::F32, TensorType::Q4_0}) {
    CAPTURE(test::type_label(type));
    auto values = test::random_floats(size_t(vocab) * dim, 9);
    auto bytes = test::encode_weights(values, type);
    auto table = test::decode_weights(bytes, type, values.size());
    std::vector<uint32_t> ids{3, 10, 0xffffffffu, 9};
    auto got = gather(bytes, type, vocab, dim, ids);
    CHECK(got == reference_gather(table, vocab, dim, ids));
  }
}

TEST_CASE_METHOD(EmbeddingFixture, "embedding refuses blocked tables whose rows are not whole blocks",
                 "[shaders][embedding]") {
  auto dw = device_buffer(4096), dids = device_buffer(64), dout = device_buffer(4096);
  graph::Graph g(ctx.device());
  CHECK_THROWS_AS(ops::embedding(ctx, g, {dw, TensorType::Q8_0, 4, 40}, dids, dout, 1), Error);
  CHECK_THROWS_AS(ops::embedding(ctx, g, {dw, TensorType::F32, 4, 40}, dids, dout.sub(0, 100), 1), Error);
}

TEST_CASE_METHOD(EmbeddingFixture, "embedding from a table larger than maxStorageBufferRange",
                 "[shaders][embedding][large]") {
  // 160 MiB of f32 (40960 x 1024): on lavapipe two row chunks; ids on both
  // sides of the chunk boundary and at both ends.
  const uint32_t vocab = 40960, dim = 1024;
  const uint64_t bytes = uint64_t(vocab) * dim * 4;
  const auto start = std::chrono::steady_clock::now();
  std::vector<float> table(size_t(vocab) * dim);
  for (size_t i = 0; i < table.size(); ++i) table[i] = float(i % 1000003);  // exact in f32, row-unique
  const uint64_t range = ctx.device().report().max_storage_buffer_range;
  const uint32_t boundary = uint32_t(std::min<uint64_t>(vocab - 1, (range - 256) / (dim * 4)));
  std::vector<uint32_t> ids{0, boundary - 1, boundary, boundary + 1, vocab - 1, 12345, 40000, boundary};

  auto dw = device_arena.allocate(bytes);
  ctx.transfer().upload(dw, table.data(), bytes);
  auto dout = device_buffer(ids.size() * dim * 4);
  graph::Graph g(ctx.device());
  ops::embedding(ctx, g, {dw, TensorType::F32, vocab, dim}, upload(ids), dout, uint32_t(ids.size()));
  if (bytes > range) CHECK(g.node_count() >= 2);
  g.run();
  CHECK(download<float>(dout, ids.size() * dim) == reference_gather(table, vocab, dim, ids));
  using ms = std::chrono::duration<double, std::milli>;
  WARN("160 MiB embedding: " << g.node_count() << " dispatches, whole test "
                             << ms(std::chrono::steady_clock::now() - start).count() << " ms");
}
