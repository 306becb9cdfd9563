// The CPU codecs of the blocked types (model/weight_codec.h): what the
// encoders lose, that their scale search beats plain max-abs scaling, and
// that corrupt scales are found. The decoders themselves are checked against
// the kernels (tests/shaders) and were checked by hand, bit for bit, against
// llama.cpp's own Python dequantizers (gguf-py) on random blocks.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "model/quant_search.h"
#include "model/weight_codec.h"

using namespace vkmind;

namespace {

std::vector<float> gaussian(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

// Root-mean-square error of a round trip, relative to the data's RMS.
double relative_rms_error(const std::vector<float>& x, TensorType type) {
  const auto y = decode_weights(encode_weights(x, type), type, x.size());
  double err = 0, mag = 0;
  for (size_t i = 0; i < x.size(); ++i) err += (y[i] - x[i]) * double(y[i] - x[i]), mag += double(x[i]) * x[i];
  return std::sqrt(err / mag);
}

}  // namespace

TEST_CASE("quantized round trips lose what their bits allow", "[codec]") {
  // Gaussian weights (what trained matrices look like, roughly), 64 K values.
  // Bounds: about 1.2x the error measured with this encoder; the ideal uniform
  // quantizer of b bits over a Gaussian block errs by roughly 2^-b * 2.5 (RMS,
  // relative), so each bound also says the type keeps its bits.
  struct Case { TensorType type; double bound; };
  const Case cases[] = {
      {TensorType::F16, 2.5e-4},  {TensorType::BF16, 2e-3},   {TensorType::Q8_0, 6.5e-3}, {TensorType::Q6_K, 2e-2},
      {TensorType::Q5_0, 5.1e-2}, {TensorType::Q5_1, 4.5e-2}, {TensorType::Q5_K, 4.3e-2}, {TensorType::Q4_0, 0.1},
      {TensorType::Q4_1, 0.092},  {TensorType::Q4_K, 0.085},  {TensorType::IQ4_NL, 0.088}, {TensorType::IQ4_XS, 0.088},
      {TensorType::Q3_K, 0.17},   {TensorType::Q2_K, 0.32},
  };
  const auto x = gaussian(65536, 1);
  for (const Case& c : cases) {
    const double e = relative_rms_error(x, c.type);
    INFO(tensor_type_name(c.type) << ": relative RMS error " << e);
    CHECK(e < c.bound);
  }
}

TEST_CASE("the scale search beats max-abs scaling", "[codec]") {
  // Max-abs: the largest value lands on the end level; the search may move it.
  const auto x = gaussian(256 * 64, 2);
  double searched = 0, max_abs = 0;
  for (size_t g = 0; g < x.size(); g += 16) {
    const std::span<const float> group(x.data() + g, 16);
    int8_t q[16];
    auto error = [&](float scale) {
      quant::assign_symmetric(group, scale, -32, 31, q);
      double e = 0;
      for (int i = 0; i < 16; ++i) e += (scale * q[i] - group[i]) * double(scale * q[i] - group[i]);
      return e;
    };
    float amax = 0;
    for (float v : group) amax = std::max(amax, std::fabs(v));
    searched += error(quant::fit_symmetric(group, -32, 31));
    max_abs += error(amax / 31);
  }
  INFO("6-bit groups of 16: squared error " << searched << " searched, " << max_abs << " max-abs");
  CHECK(searched < 0.8 * max_abs);

  // Affine 4-bit groups of 32 (Q4_K's sub-blocks) against min/max scaling.
  double affine_searched = 0, min_max = 0;
  for (size_t g = 0; g < x.size(); g += 32) {
    const std::span<const float> group(x.data() + g, 32);
    uint8_t q[32];
    auto error = [&](float scale, float offset) {
      quant::assign_affine(group, scale, offset, 15, q);
      double e = 0;
      for (int i = 0; i < 32; ++i) e += (scale * q[i] + offset - group[i]) * double(scale * q[i] + offset - group[i]);
      return e;
    };
    const quant::AffineFit f = quant::fit_affine(group, 15);
    affine_searched += error(f.scale, f.offset);
    const auto [lo, hi] = std::minmax_element(group.begin(), group.end());
    min_max += error((*hi - std::min(*lo, 0.0f)) / 15, std::min(*lo, 0.0f));
  }
  INFO("4-bit affine groups of 32: " << affine_searched << " searched, " << min_max << " min-max");
  CHECK(affine_searched < 0.9 * min_max);
}

TEST_CASE("constant and all-zero blocks round-trip", "[codec]") {
  for (TensorType type : {TensorType::Q2_K, TensorType::Q3_K, TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K,
                          TensorType::IQ4_NL, TensorType::IQ4_XS}) {
    CAPTURE(tensor_type_name(type));
    const std::vector<float> zeros(256, 0.0f);
    for (float v : decode_weights(encode_weights(zeros, type), type, 256)) CHECK(v == 0.0f);
    // A block of one value and zeros: the value survives within a few percent.
    std::vector<float> spike(256, 0.0f);
    spike[77] = -3.0f;
    const auto y = decode_weights(encode_weights(spike, type), type, 256);
    CHECK(y[77] == Approx(-3.0f).epsilon(0.05));
    CHECK(std::fabs(y[3]) < 0.1f);
  }
}

TEST_CASE("non-finite block scales are found", "[codec]") {
  struct Case { TensorType type; size_t field; };  // a scale field's byte offset in its block
  for (const Case c : {Case{TensorType::Q8_0, 0}, Case{TensorType::Q4_1, 2}, Case{TensorType::Q2_K, 82},
                       Case{TensorType::Q3_K, 108}, Case{TensorType::Q4_K, 0}, Case{TensorType::Q5_K, 2},
                       Case{TensorType::Q6_K, 208}, Case{TensorType::IQ4_NL, 0}, Case{TensorType::IQ4_XS, 0}}) {
    CAPTURE(tensor_type_name(c.type));
    auto bytes = encode_weights(gaussian(1024, 3), c.type);
    CHECK_FALSE(first_nonfinite_scale(bytes, c.type).has_value());
    const size_t block_bytes = tensor_type_traits(c.type).block_bytes;
    const size_t block = bytes.size() / block_bytes - 1;  // the last one
    for (uint16_t bits : {uint16_t(0x7e00), uint16_t(0xfc00)}) {  // NaN, -inf
      auto bad = bytes;
      bad[block * block_bytes + c.field] = uint8_t(bits & 0xff);
      bad[block * block_bytes + c.field + 1] = uint8_t(bits >> 8);
      CHECK(first_nonfinite_scale(bad, c.type) == block);
    }
  }
  CHECK_FALSE(first_nonfinite_scale(std::vector<uint8_t>(64, 0xff), TensorType::F16).has_value());
}
