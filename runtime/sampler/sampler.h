// Token sampling: penalties -> temperature -> min-p -> top-k -> top-p -> draw,
// with a per-request seeded generator (same seed, same logits, same token on
// every platform). Temperature 0 means greedy (argmax after penalties).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace vkmind {

struct SamplingParams {
  float temperature = 0.8f;
  int32_t top_k = 40;            // <= 0: off
  float top_p = 0.95f;           // >= 1: off
  float min_p = 0.05f;           // <= 0: off
  float repeat_penalty = 1.0f;   // 1: off (divides positive logits, multiplies negative ones)
  float frequency_penalty = 0.0f;
  float presence_penalty = 0.0f;
  int32_t penalty_last_n = 64;   // how much history the penalties see
  uint64_t seed = 0;
};

// "" when every field is in range, else one line naming the first bad field
// and its range (NaN and infinities are out of every range).
std::string check_sampling_params(const SamplingParams& params);

// A token and its logit: one of the best few of a row.
struct TokenLogit {
  int32_t id;
  float logit;
};

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);

  // `history`: the tokens so far (prompt and generated), newest last.
  int32_t sample(std::span<const float> logits, std::span<const int32_t> history);

  // Whether sample_top() can stand in for sample() given the n best logits of
  // a row of row_size: no penalties (they reach past the best few), and the
  // whole row, greedy, or a top-k cut below n.
  bool samples_from_top(size_t n, size_t row_size) const;
  // What sample() would draw, from the best logits of a row of row_size alone
  // (largest first, ties: the lower id first; ops/top_k.h finds them on the
  // device). nullopt, drawing nothing, when they cannot decide: after the
  // temperature the k-th best equals the last of them, so a token past them
  // might tie into the cut.
  std::optional<int32_t> sample_top(std::span<const TokenLogit> top, size_t row_size);

  const SamplingParams& params() const { return params_; }

 private:
  using Candidate = TokenLogit;
  bool penalized() const;
  void apply_penalties(std::span<const int32_t> history);
  // candidates_ already divided by the temperature: min-p, top-k, top-p, draw.
  int32_t draw(float max_logit);
  double next_uniform();  // [0, 1), from our own bits so no library changes it

  SamplingParams params_;
  uint64_t rng_state_;
  std::vector<Candidate> candidates_;  // reused across calls: no per-token allocation
  std::vector<float> probs_;
  std::vector<int32_t> window_;  // the penalties' history window, sorted
};

// Index of the largest logit (the lowest index on ties).
int32_t argmax(std::span<const float> logits);

// log softmax(logits)[chosen], and the `top` most likely (id, log-probability)
// pairs, most likely first (ties: lower id first), written into `out`.
float token_logprobs(std::span<const float> logits, int32_t chosen, uint32_t top,
                     std::vector<std::pair<int32_t, float>>& out);

}  // namespace vkmind
