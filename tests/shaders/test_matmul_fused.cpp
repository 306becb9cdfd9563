// matmul's fusions (an input RMSNorm in the prologue; residual-add and SwiGLU
// epilogues) against a CPU reference, on every kernel path and a spread of
// weight types, at shapes not divisible by the workgroup, its row groups or
// its 8-token groups.
//
// Tolerances, relative to the magnitudes involved (as test_matmul.cpp, whose
// 1e-5 * sum_k |W x| bound covers the kernel's f32 summation in any order):
//   - norm: the kernel's 1/rms comes from an f32 sum of K squares (relative
//     error ~K * 2^-24 at worst, ~1e-6 here) and x * scale * gamma adds two
//     roundings (one-subgroup workgroups: x * gamma, and the sum times scale);
//     both scale every product, so they stay inside 1e-5 * sum |W xn|.
//   - accumulate: one more f32 addition: + 2^-23 |y0 + s|.
//   - SwiGLU: silu(g) * u moves by at most 1.1 |u| dg + |silu(g)| du
//     (|silu'| <= 1.1), plus exp's and the products' rounding, 1e-6 relative.
// A missing norm, a wrong gamma, a dropped residual or swapped gate/up is off
// by O(1).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>

#include "runtime/ops/matmul.h"
#include "runtime/ops/weight_view.h"
#include "runtime/vk/error.h"
#include "tests/shaders/gpu_fixture.h"
#include "tests/shaders/weight_reference.h"

using namespace vkmind;

namespace {

constexpr double kRelTol = 1e-5;
constexpr float kEps = 1e-6f;

struct Case {
  uint32_t out_rows, K, tokens;
};

struct Fusion {
  bool norm;
  ops::Epilogue epilogue;
};

const char* path_name(ops::MatmulPath p) {
  return p == ops::MatmulPath::Vector ? "vector" : p == ops::MatmulPath::VectorTexels ? "vector-texels" : "tiled";
}
const char* epilogue_name(ops::Epilogue e) {
  return e == ops::Epilogue::Store ? "store" : e == ops::Epilogue::Accumulate ? "accumulate" : "swiglu";
}

// Sums W[r] . xn[t] in double and the bound of each.
void dot_rows(const std::vector<float>& w, const std::vector<double>& xn, uint32_t row, uint32_t t, uint32_t K,
              double& sum, double& bound) {
  sum = 0;
  double mag = 0;
  for (uint32_t k = 0; k < K; ++k) {
    const double p = double(w[size_t(row) * K + k]) * xn[size_t(t) * K + k];
    sum += p;
    mag += std::fabs(p);
  }
  bound = kRelTol * mag + 1e-30;
}

}  // namespace

class FusedMatmulFixture : public test::GpuFixture {
 public:
  // Checks whose pipeline came pre-specialized from the build (shaders/CMakeLists.txt).
  uint32_t prespecialized = 0;
  // lavapipe on x86: the decode matvecs the build pre-specializes are for 8-lane subgroups.
  bool prespecializes_decode() const {
    return ctx.device().report().type == "CPU" && ctx.device().report().subgroup_size == 8;
  }

  // tile_cols > 0: W uploaded in tiles of that width (ops::tile_rows_copy).
  void check(TensorType type, Case c, ops::MatmulPath path, Fusion f, uint32_t seed, uint32_t tile_cols = 0) {
    const bool swiglu = f.epilogue == ops::Epilogue::SwiGLU;
    const uint32_t w_rows = swiglu ? 2 * c.out_rows : c.out_rows, K = c.K, N = c.tokens, M = c.out_rows;
    CAPTURE(test::type_label(type), path_name(path), f.norm, epilogue_name(f.epilogue), M, K, N);
    auto values = test::random_floats(size_t(w_rows) * K, seed);
    auto bytes = test::encode_weights(values, type);
    auto w = test::decode_weights(bytes, type, values.size());
    auto x = test::random_floats(size_t(N) * K, seed + 1);
    for (float& v : x) v *= 3.0f;  // rms far from 1, so a skipped norm shows
    auto gamma = test::random_floats(K, seed + 2);
    auto y0 = test::random_floats(size_t(N) * M, seed + 3);

    std::vector<double> xn(x.begin(), x.end());
    if (f.norm) {
      for (uint32_t t = 0; t < N; ++t) {
        double ss = 0;
        for (uint32_t k = 0; k < K; ++k) ss += double(x[size_t(t) * K + k]) * x[size_t(t) * K + k];
        const double scale = 1.0 / std::sqrt(ss / K + kEps);
        for (uint32_t k = 0; k < K; ++k) xn[size_t(t) * K + k] *= scale * gamma[k];
      }
    }

    auto dy = upload(y0);
    graph::Graph g(ctx.device());
    ops::MatmulOptions options{.path = path, .epilogue = f.epilogue};
    if (f.norm) {
      options.norm_weight = upload(gamma);
      options.norm_eps = kEps;
    }
    ops::WeightView view{upload(bytes), type, w_rows, K};
    if (tile_cols) {
      std::vector<uint8_t> tiles(bytes.size());
      ops::tile_rows_copy(tiles.data(), bytes.data(), 0, w_rows, w_rows, K, type, tile_cols);
      view = {upload(tiles), type, w_rows, K, ops::kWeightTileRows, tile_cols};
    }
    ops::matmul(ctx, g, view, upload(x), dy, N, options);
    g.run();
    REQUIRE(g.node_count() == 1);
    prespecialized += uint32_t(g.prespecialized_pipeline_count());
    auto y = download<float>(dy, size_t(N) * M);

    size_t bad = 0;
    for (uint32_t t = 0; t < N; ++t) {
      for (uint32_t r = 0; r < M; ++r) {
        double want, bound;
        dot_rows(w, xn, r, t, K, want, bound);
        if (swiglu) {
          double up, up_bound;
          dot_rows(w, xn, M + r, t, K, up, up_bound);
          const double silu = want / (1.0 + std::exp(-want));
          bound = 1.1 * std::fabs(up) * bound + std::fabs(silu) * up_bound + 1e-6 * std::fabs(silu * up);
          want = silu * up;
        } else if (f.epilogue == ops::Epilogue::Accumulate) {
          want += y0[size_t(t) * M + r];
          bound += std::ldexp(std::fabs(want), -23);
        }
        const double got = y[size_t(t) * M + r];
        if (!(std::fabs(got - want) <= bound)) {
          if (bad < 5) UNSCOPED_INFO("t " << t << " row " << r << ": got " << got << ", want " << want << " +- " << bound);
          ++bad;
        }
      }
    }
    CHECK(bad == 0);
  }
};

TEST_CASE_METHOD(FusedMatmulFixture, "matmul fuses an input RMSNorm, a residual add and SwiGLU",
                 "[shaders][matmul][fused]") {
  const Fusion fusions[] = {{true, ops::Epilogue::Store},
                            {false, ops::Epilogue::Accumulate},
                            {true, ops::Epilogue::Accumulate},
                            {false, ops::Epilogue::SwiGLU},
                            {true, ops::Epilogue::SwiGLU}};
  const TensorType types[] = {TensorType::F32, TensorType::F16, TensorType::BF16, TensorType::Q8_0,
                              TensorType::Q4_1, TensorType::Q4_K, TensorType::Q6_K, TensorType::IQ4_XS};
  uint32_t seed = 1;
  for (TensorType type : types) {
    const uint32_t block = test::block_elements(type);
    // K: whole blocks for blocked types; for floats one K of whole texels and one not a multiple of 4.
    const uint32_t k_wide = block > 1 ? 3 * block : 264, k_odd = block > 1 ? block : 47;
    // Every fusion on one float and one super-block type; the others (each
    // type's own loads) with both fusions of the decode step.
    const bool all = type == TensorType::F32 || type == TensorType::Q4_K;
    for (Fusion f : fusions) {
      if (!all && !f.norm) continue;
      if (!all && f.epilogue == ops::Epilogue::Store) continue;
      for (auto path : {ops::MatmulPath::Vector, ops::MatmulPath::VectorTexels}) {
        if (all) check(type, {1, k_wide, 1}, path, f, seed++);
        check(type, {13, k_odd, 3}, path, f, seed++);
        check(type, {37, k_wide, 9}, path, f, seed++);  // 9 tokens: a second token group of one
      }
      if (all) check(type, {13, k_odd, 3}, ops::MatmulPath::Tiled, f, seed++);
      check(type, {67, k_wide, 70}, ops::MatmulPath::Tiled, f, seed++);  // partial row and token tiles
    }
  }
  // The one-token texel checks of the blocked types ran the build's frozen blobs.
  if (prespecializes_decode()) CHECK(prespecialized > 0);
}

TEST_CASE_METHOD(FusedMatmulFixture, "matmul refuses a SwiGLU epilogue on part of a weight", "[shaders][matmul][fused]") {
  auto dw = device_buffer(4096), dx = device_buffer(4096), dy = device_buffer(4096);
  graph::Graph g(ctx.device());
  CHECK_THROWS_AS(ops::matmul(ctx, g, {dw, TensorType::F32, 7, 8}, dx, dy, 1, {.epilogue = ops::Epilogue::SwiGLU}),
                  Error);
  CHECK_THROWS_AS(ops::matmul(ctx, g, {dw, TensorType::F32, 8, 8}, dx, dy, 1,
                              {.row_begin = 2, .epilogue = ops::Epilogue::SwiGLU}),
                  Error);
  // A norm weight shorter than K.
  CHECK_THROWS_AS(ops::matmul(ctx, g, {dw, TensorType::F32, 8, 8}, dx, dy, 1, {.norm_weight = dx.sub(0, 16)}), Error);
}

// Tiles (CPU devices, weight_view.h): element (r, k) of a matrix of R rows in
// tiles of C columns lies at b K + (k / C) n C + (r - b) C + k % C, b = r - r % 16,
// n = min(16, R - b). Written here from that formula, not from the copy.
TEST_CASE("tile_rows_copy places each element where the tiled layout says", "[matmul][tiles]") {
  for (auto [R, K, C] : {std::array<uint32_t, 3>{1, 8, 8}, {16, 16, 8}, {37, 24, 8}, {40, 64, 32}}) {
    CAPTURE(R, K, C);
    std::vector<uint16_t> rows(size_t(R) * K);
    for (size_t i = 0; i < rows.size(); ++i) rows[i] = uint16_t(i * 7 + 1);
    std::vector<uint16_t> want(rows.size());
    for (uint32_t r = 0; r < R; ++r) {
      const uint32_t b = r - r % 16, n = std::min(16u, R - b);
      for (uint32_t k = 0; k < K; ++k) want[size_t(b) * K + (k / C) * n * C + (r - b) * C + k % C] = rows[size_t(r) * K + k];
    }
    std::vector<uint16_t> got(rows.size()), in_parts(rows.size());
    ops::tile_rows_copy(reinterpret_cast<uint8_t*>(got.data()), reinterpret_cast<const uint8_t*>(rows.data()), 0, R, R,
                        K, TensorType::F16, C);
    CHECK(got == want);
    // In two runs of rows (the loader copies a fused matrix tensor by tensor).
    const uint32_t split = R / 3;
    ops::tile_rows_copy(reinterpret_cast<uint8_t*>(in_parts.data()), reinterpret_cast<const uint8_t*>(rows.data()), 0,
                        split, R, K, TensorType::F16, C);
    ops::tile_rows_copy(reinterpret_cast<uint8_t*>(in_parts.data()),
                        reinterpret_cast<const uint8_t*>(rows.data() + size_t(split) * K), split, R - split, R, K,
                        TensorType::F16, C);
    CHECK(in_parts == want);
  }
}

// The texel matvec reads tiled float weights with every fusion, at row counts
// that leave a partial block (and, for SwiGLU, gate and up rows in one block).
TEST_CASE_METHOD(FusedMatmulFixture, "matmul reads tiled float weights on CPU devices", "[shaders][matmul][fused][tiles]") {
  const vk::DeviceReport& report = ctx.device().report();
  if (!ops::weight_tiles_pay(report, TensorType::F16, ops::weight_tile_cols(report, TensorType::F16))) {
    WARN("SKIPPED: this device keeps weights row-major (tiles are for CPU devices' texel matvec)");
    return;
  }
  const Fusion fusions[] = {{false, ops::Epilogue::Store},
                            {true, ops::Epilogue::Store},
                            {false, ops::Epilogue::Accumulate},
                            {true, ops::Epilogue::SwiGLU}};
  uint32_t seed = 500;
  for (TensorType type : {TensorType::F32, TensorType::F16, TensorType::BF16}) {
    const uint32_t C = ops::weight_tile_cols(report, type);
    for (Fusion f : fusions) {
      for (Case c : {Case{1, C, 1}, Case{13, 3 * C, 3}, Case{16, C, 1}, Case{37, 2 * C, 9}, Case{67, C, 1}}) {
        check(type, c, ops::MatmulPath::VectorTexels, f, seed++, C);
      }
    }
  }
  // The one-token checks ran the build's frozen blobs (one per type).
  if (prespecializes_decode()) CHECK(prespecialized > 0);
  // A tiled weight is only for the texel matvec.
  std::vector<float> w(32 * 64, 0.5f), x(64, 1.0f);
  auto dy = device_buffer(32 * 4);
  graph::Graph g(ctx.device());
  const ops::WeightView tiled{upload(w), TensorType::F32, 32, 64, ops::kWeightTileRows, 32};
  CHECK_THROWS_AS(ops::matmul(ctx, g, tiled, upload(x), dy, 1, {.path = ops::MatmulPath::Tiled}), Error);
  CHECK_THROWS_AS(ops::matmul(ctx, g, tiled, upload(x), dy, 1, {.row_begin = 8, .row_count = 8}), Error);
  // Tiles are kWeightTileRows rows by a divisor of the width.
  const ops::WeightView odd_tiles{upload(w), TensorType::F32, 32, 64, 8, 32}, ragged{upload(w), TensorType::F32, 32, 64, 16, 24};
  CHECK_THROWS_AS(ops::matmul(ctx, g, odd_tiles, upload(x), dy, 1), Error);
  CHECK_THROWS_AS(ops::matmul(ctx, g, ragged, upload(x), dy, 1), Error);
}
