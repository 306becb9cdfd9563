// The sampler: each stage alone, the order of stages, and seeding.
#include <catch2/catch.hpp>

#include <cmath>
#include <algorithm>
#include <map>
#include <optional>
#include <random>
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

namespace {

// The n best of a row as ops::top_k gives them: largest first, ties by lower id.
std::vector<TokenLogit> best_of(const std::vector<float>& logits, size_t n) {
  std::vector<TokenLogit> all(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) all[i] = {int32_t(i), logits[i]};
  std::stable_sort(all.begin(), all.end(), [](const TokenLogit& a, const TokenLogit& b) { return a.logit > b.logit; });
  all.resize(std::min(n, all.size()));
  return all;
}

}  // namespace

TEST_CASE("sampling from the best 64 logits draws what sampling the whole row draws", "[sampler]") {
  // Draw streams of 40 tokens from the whole row and from its best 64
  // (falling back to the row when they cannot decide, as the request loop
  // does): the same tokens, and the same generator state after them.
  std::mt19937 gen(5);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<float> row(5000);
  struct Case {
    float temperature;
    int32_t top_k;
    float top_p, min_p;
  };
  size_t undecided = 0;
  for (Case c : {Case{0.0f, 0, 1.0f, 0.0f}, Case{0.8f, 40, 0.95f, 0.05f}, Case{1.0f, 1, 1.0f, 0.0f},
                 Case{1.5f, 63, 1.0f, 0.0f}, Case{0.3f, 20, 0.5f, 0.0f}, Case{2.0f, 50, 0.99f, 0.2f}}) {
    CAPTURE(c.temperature, c.top_k, c.top_p, c.min_p);
    SamplingParams p = plain(c.temperature, 77);
    p.top_k = c.top_k;
    p.top_p = c.top_p;
    p.min_p = c.min_p;
    Sampler whole(p), top(p);
    REQUIRE(top.samples_from_top(64, row.size()));
    for (int i = 0; i < 40; ++i) {
      for (float& v : row) v = normal(gen);
      if (i % 5 == 0) std::fill(row.begin() + 7, row.begin() + 207, 30.0f);  // ties through the cut
      const int32_t want = whole.sample(row, {});
      std::optional<int32_t> got = top.sample_top(best_of(row, 64), row.size());
      if (!got) {
        ++undecided;
        got = top.sample(row, {});
      }
      REQUIRE(*got == want);
    }
  }
  CHECK(undecided > 0);  // the tied rows went through the fallback
  // A row no longer than the list is decided whatever the parameters.
  Sampler a(plain(0.7f, 3)), b(plain(0.7f, 3));
  std::vector<float> small{0.5f, 2.0f, 2.0f, -1.0f};
  for (int i = 0; i < 20; ++i) REQUIRE(b.sample_top(best_of(small, 64), small.size()) == a.sample(small, {}));
}

TEST_CASE("the best logits cannot stand in under penalties or without a top-k cut", "[sampler]") {
  SamplingParams p = plain(0.8f);
  p.top_k = 40;
  CHECK(Sampler(p).samples_from_top(64, 5000));
  CHECK_FALSE(Sampler(p).samples_from_top(40, 5000));  // the cut must lie inside the list
  p.top_k = 0;
  CHECK_FALSE(Sampler(p).samples_from_top(64, 5000));
  CHECK(Sampler(p).samples_from_top(64, 64));  // unless the list is the whole row
  CHECK(Sampler(plain(0.0f)).samples_from_top(1, 5000));  // greedy needs only the best
  p = plain(0.0f);
  p.repeat_penalty = 1.1f;
  CHECK_FALSE(Sampler(p).samples_from_top(64, 5000));
  p.penalty_last_n = 0;  // penalties that see no history
  CHECK(Sampler(p).samples_from_top(64, 5000));
  p = plain(0.0f);
  p.presence_penalty = -0.5f;
  Sampler s(p);
  CHECK_FALSE(s.samples_from_top(64, 64));
  CHECK_FALSE(s.sample_top(best_of({1.0f, 2.0f}, 64), 2).has_value());
}
