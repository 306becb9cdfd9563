#include "runtime/sampler/sampler.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace vkmind {

namespace {

// splitmix64: tiny, fast and fully specified, so a seed reproduces a sample
// stream on any compiler and standard library.
uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

std::string check_sampling_params(const SamplingParams& p) {
  auto in = [](double v, double lo, double hi) { return std::isfinite(v) && v >= lo && v <= hi; };
  auto bad = [](const char* name, double v, const char* range) {
    char line[160];
    std::snprintf(line, sizeof line, "%s %g is out of range: %s", name, v, range);
    return std::string(line);
  };
  if (!in(p.temperature, 0, 100)) return bad("temperature", p.temperature, "0 (greedy) to 100");
  if (p.top_k < 0) return bad("top_k", p.top_k, "0 (off) or more");
  if (!in(p.top_p, 0, 1)) return bad("top_p", p.top_p, "0 to 1 (1: off)");
  if (!in(p.min_p, 0, 1)) return bad("min_p", p.min_p, "0 (off) to 1");
  if (!in(p.repeat_penalty, 1e-6, 100)) return bad("repeat_penalty", p.repeat_penalty, "above 0, at most 100 (1: off)");
  if (!in(p.frequency_penalty, -2, 2)) return bad("frequency_penalty", p.frequency_penalty, "-2 to 2 (0: off)");
  if (!in(p.presence_penalty, -2, 2)) return bad("presence_penalty", p.presence_penalty, "-2 to 2 (0: off)");
  if (p.penalty_last_n < -1) return bad("penalty_last_n", p.penalty_last_n, "-1 (all history), 0 (off) or more");
  return "";
}

int32_t argmax(std::span<const float> logits) {
  int32_t best = 0;
  for (size_t i = 1; i < logits.size(); ++i) {
    if (logits[i] > logits[size_t(best)]) best = int32_t(i);
  }
  return best;
}

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_state_(params.seed) {
  if (params.penalty_last_n > 0) window_.reserve(size_t(params.penalty_last_n));
}

double Sampler::next_uniform() { return double(splitmix64(rng_state_) >> 11) * 0x1.0p-53; }

bool Sampler::penalized() const {
  const bool any = params_.repeat_penalty != 1.0f || params_.frequency_penalty != 0.0f || params_.presence_penalty != 0.0f;
  return any && params_.penalty_last_n != 0;
}

void Sampler::apply_penalties(std::span<const int32_t> history) {
  const bool repeat = params_.repeat_penalty != 1.0f;
  if (!penalized() || history.empty()) return;
  size_t n = params_.penalty_last_n < 0 ? history.size() : std::min(history.size(), size_t(params_.penalty_last_n));
  // Each distinct id of the window once, with its count: the window sorted,
  // in a buffer kept between calls (a map would allocate every token).
  window_.assign(history.end() - std::ptrdiff_t(n), history.end());
  std::sort(window_.begin(), window_.end());
  for (size_t i = 0; i < window_.size();) {
    const int32_t id = window_[i];
    size_t count = 0;
    for (; i < window_.size() && window_[i] == id; ++i) ++count;
    if (id < 0 || size_t(id) >= candidates_.size()) continue;
    float& logit = candidates_[size_t(id)].logit;
    if (repeat) logit = logit > 0 ? logit / params_.repeat_penalty : logit * params_.repeat_penalty;
    logit -= float(count) * params_.frequency_penalty + params_.presence_penalty;
  }
}

int32_t Sampler::sample(std::span<const float> logits, std::span<const int32_t> history) {
  if (candidates_.capacity() < logits.size()) {  // first call: room for every later one
    candidates_.reserve(logits.size());
    probs_.reserve(params_.top_k > 0 ? std::min(logits.size(), size_t(params_.top_k)) : logits.size());
  }
  candidates_.resize(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) candidates_[i] = {int32_t(i), logits[i]};
  apply_penalties(history);

  if (params_.temperature <= 0.0f) {
    auto best = std::max_element(candidates_.begin(), candidates_.end(),
                                 [](const Candidate& a, const Candidate& b) { return a.logit < b.logit; });
    return best->id;
  }
  for (auto& c : candidates_) c.logit /= params_.temperature;
  const float max_logit = std::max_element(candidates_.begin(), candidates_.end(), [](auto& a, auto& b) {
                            return a.logit < b.logit;
                          })->logit;
  return draw(max_logit);
}

bool Sampler::samples_from_top(size_t n, size_t row_size) const {
  if (penalized() || n == 0) return false;
  return n >= row_size || params_.temperature <= 0.0f || (params_.top_k > 0 && size_t(params_.top_k) < n);
}

std::optional<int32_t> Sampler::sample_top(std::span<const TokenLogit> top, size_t row_size) {
  if (!samples_from_top(top.size(), row_size)) return std::nullopt;
  const bool whole_row = top.size() >= row_size;
  if (params_.temperature <= 0.0f) return top[0].id;
  candidates_.assign(top.begin(), top.end());
  for (auto& c : candidates_) c.logit /= params_.temperature;
  // Dividing keeps the order (ties may appear, not swaps), and every logit
  // past `top` is at most the last one's: the cut is decided when the k-th
  // lies strictly above the last.
  if (!whole_row && !(candidates_[size_t(params_.top_k) - 1].logit > candidates_.back().logit)) return std::nullopt;
  return draw(candidates_.front().logit);
}

int32_t Sampler::draw(float max_logit) {
  auto by_logit = [](const Candidate& a, const Candidate& b) { return a.logit > b.logit || (a.logit == b.logit && a.id < b.id); };
  // min-p: drop tokens whose probability is below min_p times the best one's.
  if (params_.min_p > 0.0f) {
    const float floor = max_logit + std::log(params_.min_p);
    std::erase_if(candidates_, [floor](const Candidate& c) { return c.logit < floor; });
  }
  // top-k: keep the k most likely (sorted from here on).
  size_t keep = candidates_.size();
  if (params_.top_k > 0) keep = std::min(keep, size_t(params_.top_k));
  std::partial_sort(candidates_.begin(), candidates_.begin() + std::ptrdiff_t(keep), candidates_.end(), by_logit);
  candidates_.resize(keep);

  probs_.resize(candidates_.size());
  double total = 0;
  for (size_t i = 0; i < candidates_.size(); ++i) {
    probs_[i] = std::exp(candidates_[i].logit - max_logit);
    total += probs_[i];
  }
  // top-p: the smallest prefix whose probability reaches p.
  if (params_.top_p < 1.0f) {
    double cumulative = 0;
    size_t n = 0;
    while (n < candidates_.size()) {
      cumulative += probs_[n++] / total;
      if (cumulative >= params_.top_p) break;
    }
    candidates_.resize(n);
    probs_.resize(n);
    total = 0;
    for (float p : probs_) total += p;
  }

  double target = next_uniform() * total;
  for (size_t i = 0; i < candidates_.size(); ++i) {
    target -= probs_[i];
    if (target < 0) return candidates_[i].id;
  }
  return candidates_.back().id;
}

float token_logprobs(std::span<const float> logits, int32_t chosen, uint32_t top,
                     std::vector<std::pair<int32_t, float>>& out) {
  double max = -INFINITY;
  for (float v : logits) max = std::max<double>(max, v);
  double sum = 0;
  for (float v : logits) sum += std::exp(double(v) - max);
  const double log_z = max + std::log(sum);
  // The top few by one pass with a small sorted list: no vocabulary-sized sort.
  auto better = [](const std::pair<int32_t, float>& a, const std::pair<int32_t, float>& b) {
    return a.second > b.second || (a.second == b.second && a.first < b.first);
  };
  out.clear();
  top = std::min<uint32_t>(top, uint32_t(logits.size()));
  for (size_t i = 0; i < logits.size() && top > 0; ++i) {
    const std::pair<int32_t, float> candidate{int32_t(i), logits[i]};
    if (out.size() == top && !better(candidate, out.back())) continue;
    if (out.size() == top) out.pop_back();
    out.insert(std::upper_bound(out.begin(), out.end(), candidate, better), candidate);
  }
  for (auto& [id, value] : out) value = float(double(value) - log_z);
  return float(double(logits[size_t(chosen)]) - log_z);
}

}  // namespace vkmind
