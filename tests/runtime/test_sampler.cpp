// The sampler: each stage alone, the order of stages, and seeding.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <set>

#include "runtime/sampler/sampler.h"

using namespace vkmind;

namespace {

SamplingParams plain(float temperature, uint64_t seed = 1) {
  SamplingParams p;
  p.temperature = temperature;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = seed;
  return p;
}

}  // namespace

TEST_CASE("temperature 0 is argmax", "[sampler]") {
  std::vector<float> logits{0.1f, 2.0f, -1.0f, 1.9f};
  Sampler s(plain(0.0f));
  CHECK(s.sample(logits, {}) == 1);
  CHECK(argmax(logits) == 1);
}

TEST_CASE("repetition penalty divides positive and multiplies negative logits", "[sampler]") {
  std::vector<float> logits{2.0f, 1.8f, -0.5f};
  SamplingParams p = plain(0.0f);
  p.repeat_penalty = 1.5f;
  Sampler s(p);
  std::vector<int32_t> history{0};
  CHECK(s.sample(logits, history) == 1);  // 2.0/1.5 = 1.33 < 1.8
  p.repeat_penalty = 1.0f;
  p.presence_penalty = 0.3f;
  Sampler presence(p);
  CHECK(presence.sample(logits, history) == 1);  // 2.0 - 0.3 < 1.8
  p.presence_penalty = 0.0f;
  p.frequency_penalty = 0.1f;
  Sampler frequency(p);
  std::vector<int32_t> once{0}, thrice{0, 0, 0};
  CHECK(frequency.sample(logits, once) == 0);    // 2.0 - 0.1 > 1.8
  CHECK(frequency.sample(logits, thrice) == 1);  // 2.0 - 0.3 < 1.8
}

TEST_CASE("same seed gives the same draws; another seed other draws", "[sampler]") {
  std::vector<float> logits(100);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = float(std::sin(double(i)));
  auto draw = [&](uint64_t seed) {
    Sampler s(plain(1.0f, seed));
    std::vector<int32_t> out;
    for (int i = 0; i < 50; ++i) out.push_back(s.sample(logits, {}));
    return out;
  };
  CHECK(draw(42) == draw(42));
  CHECK(draw(42) != draw(43));
}

TEST_CASE("top-k, top-p and min-p restrict the support", "[sampler]") {
  // probabilities proportional to exp(logit): 0.5, 0.25, 0.125, ... roughly
  std::vector<float> logits;
  for (int i = 0; i < 10; ++i) logits.push_back(-float(i) * std::log(2.0f));
  auto support = [&](SamplingParams p) {
    std::set<int32_t> seen;
    for (uint64_t seed = 0; seed < 400; ++seed) {
      p.seed = seed;
      Sampler s(p);
      seen.insert(s.sample(logits, {}));
    }
    return seen;
  };
  SamplingParams p = plain(1.0f);
  p.top_k = 2;
  CHECK(support(p) == std::set<int32_t>{0, 1});
  p = plain(1.0f);
  p.top_p = 0.7f;  // 0.5 + 0.25 reaches 0.7
  CHECK(support(p) == std::set<int32_t>{0, 1});
  p = plain(1.0f);
  p.min_p = 0.2f;  // keeps p >= 0.1: ids 0,1,2 (0.5, 0.25, 0.125)
  CHECK(support(p) == std::set<int32_t>{0, 1, 2});
  CHECK(support(plain(1.0f)).size() > 5);
}

TEST_CASE("draw frequencies follow the softmax", "[sampler]") {
  std::vector<float> logits{std::log(0.6f), std::log(0.3f), std::log(0.1f)};
  Sampler s(plain(1.0f, 7));
  std::map<int32_t, int> counts;
  const int n = 20000;
  for (int i = 0; i < n; ++i) counts[s.sample(logits, {})]++;
  // 3 sigma of a binomial at n=20000 is below 0.011 for these probabilities.
  CHECK(std::abs(counts[0] / double(n) - 0.6) < 0.011);
  CHECK(std::abs(counts[1] / double(n) - 0.3) < 0.011);
  CHECK(std::abs(counts[2] / double(n) - 0.1) < 0.007);
}

TEST_CASE("sampling parameters out of range are named, NaN included", "[sampler]") {
  CHECK(check_sampling_params(SamplingParams{}).empty());
  auto bad = [](auto edit) {
    SamplingParams p;
    edit(p);
    return check_sampling_params(p);
  };
  CHECK_THAT(bad([](SamplingParams& p) { p.temperature = std::nanf(""); }), Catch::StartsWith("temperature nan"));
  CHECK_THAT(bad([](SamplingParams& p) { p.temperature = -1; }), Catch::Contains("0 (greedy) to 100"));
  CHECK_THAT(bad([](SamplingParams& p) { p.repeat_penalty = 0; }), Catch::StartsWith("repeat_penalty"));
  CHECK_THAT(bad([](SamplingParams& p) { p.top_k = -5; }), Catch::StartsWith("top_k"));
  CHECK_THAT(bad([](SamplingParams& p) { p.top_p = INFINITY; }), Catch::StartsWith("top_p"));
  CHECK_THAT(bad([](SamplingParams& p) { p.min_p = 2; }), Catch::StartsWith("min_p"));
  CHECK_THAT(bad([](SamplingParams& p) { p.penalty_last_n = -2; }), Catch::StartsWith("penalty_last_n"));
  CHECK(bad([](SamplingParams& p) { p.penalty_last_n = -1; }).empty());
  CHECK(bad([](SamplingParams& p) { p.temperature = 0; }).empty());
}

TEST_CASE("token_logprobs: log-softmax of the chosen token and the top alternatives, ties by id", "[sampler]") {
  const std::vector<float> logits = {1.0f, 3.0f, 3.0f, -2.0f, 0.5f};
  double z = 0;
  for (float v : logits) z += std::exp(double(v));
  std::vector<std::pair<int32_t, float>> top;
  const float lp = token_logprobs(logits, 4, 3, top);
  CHECK(lp == Approx(0.5 - std::log(z)).margin(1e-6));
  REQUIRE(top.size() == 3);
  CHECK(top[0].first == 1);  // 3.0, the lower id of the tie first
  CHECK(top[1].first == 2);
  CHECK(top[2].first == 0);
  CHECK(top[2].second == Approx(1.0 - std::log(z)).margin(1e-6));
  CHECK(token_logprobs(logits, 1, 0, top) == Approx(3.0 - std::log(z)).margin(1e-6));
  CHECK(top.empty());
  token_logprobs(logits, 0, 10, top);  // more asked than there are: all of them
  CHECK(top.size() == 5);
}
