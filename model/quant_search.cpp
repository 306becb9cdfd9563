#include "model/quant_search.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace vkmind::quant {

namespace {

// Candidates per fit: level counts from 1 below to 1 above the max-abs one in
// tenths (21 tries). Finer steps changed the error by under 0.1% on Gaussian
// weights; coarser ones lost a few percent.
constexpr int kSteps = 10;
constexpr float kStep = 0.1f;
constexpr size_t kMaxGroup = 256;

int nearest_clamped(float v, int lo, int hi) { return std::clamp(int(std::lround(v)), lo, hi); }

int nearest_in_book(float v, const int8_t (&book)[16]) {
  // Sorted: the first entry not below v, or the one before it.
  int i = 0;
  while (i < 16 && float(book[i]) < v) ++i;
  if (i == 0) return 0;
  if (i == 16) return 15;
  return v - float(book[i - 1]) <= float(book[i]) - v ? i - 1 : i;
}

float max_abs_value(std::span<const float> x) {
  float v = 0;
  for (float e : x) {
    if (std::fabs(e) > std::fabs(v)) v = e;
  }
  return v;
}

}  // namespace

void assign_affine(std::span<const float> x, float scale, float offset, int top, uint8_t* q) {
  const float inv = scale > 0 ? 1.0f / scale : 0.0f;
  for (size_t i = 0; i < x.size(); ++i) q[i] = uint8_t(nearest_clamped((x[i] - offset) * inv, 0, top));
}

void assign_symmetric(std::span<const float> x, float scale, int lo, int hi, int8_t* q) {
  const float inv = scale != 0 ? 1.0f / scale : 0.0f;
  for (size_t i = 0; i < x.size(); ++i) q[i] = int8_t(nearest_clamped(x[i] * inv, lo, hi));
}

void assign_codebook(std::span<const float> x, float scale, const int8_t (&book)[16], uint8_t* q) {
  const float inv = scale != 0 ? 1.0f / scale : 0.0f;
  for (size_t i = 0; i < x.size(); ++i) q[i] = uint8_t(nearest_in_book(x[i] * inv, book));
}

AffineFit fit_affine(std::span<const float> x, int top) {
  float lo = 0, hi = -std::numeric_limits<float>::infinity();
  for (float e : x) lo = std::min(lo, e), hi = std::max(hi, e);
  if (!(hi > lo)) return {0, lo};  // constant non-positive group (or empty): the offset alone
  uint8_t q[kMaxGroup];
  const double n = double(x.size());
  AffineFit best{(hi - lo) / float(top), lo};
  double best_err = std::numeric_limits<double>::infinity();
  for (int step = -kSteps; step <= kSteps; ++step) {
    const float levels = float(top) + kStep * float(step);
    if (levels <= 0) continue;
    assign_affine(x, (hi - lo) / levels, lo, top, q);
    // Least squares for scale and offset given the levels.
    double sq = 0, sqq = 0, sx = 0, sqx = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      sq += q[i], sqq += double(q[i]) * q[i], sx += x[i], sqx += double(q[i]) * x[i];
    }
    const double det = n * sqq - sq * sq;
    double scale = det > 0 ? (n * sqx - sq * sx) / det : 0;
    double offset = det > 0 ? (sqq * sx - sq * sqx) / det : lo;
    if (offset > 0 || scale < 0) {  // the offset must stay <= 0: fit the scale alone
      offset = std::min<double>(lo, 0);
      double sxo = 0;
      for (size_t i = 0; i < x.size(); ++i) sxo += double(q[i]) * (x[i] - offset);
      scale = sqq > 0 ? std::max(0.0, sxo / sqq) : 0;
    }
    double err = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      const double r = scale * q[i] + offset - x[i];
      err += r * r;
    }
    if (err < best_err) best_err = err, best = {float(scale), float(offset)};
  }
  return best;
}

float fit_symmetric(std::span<const float> x, int lo, int hi) {
  const float v = max_abs_value(x);
  if (v == 0) return 0;
  int8_t q[kMaxGroup];
  float best = v / float(lo);
  double best_err = std::numeric_limits<double>::infinity();
  // The largest value on the negative end (one more level there) or the positive one.
  for (const int end : {lo, hi}) {
    for (int step = -kSteps; step <= kSteps; ++step) {
      const float level = float(end) + (end < 0 ? -1.0f : 1.0f) * kStep * float(step);
      if (std::fabs(level) < 0.5f) continue;
      assign_symmetric(x, v / level, lo, hi, q);
      double sqq = 0, sqx = 0;
      for (size_t i = 0; i < x.size(); ++i) sqq += double(q[i]) * q[i], sqx += double(q[i]) * x[i];
      if (sqq == 0) continue;
      const double scale = sqx / sqq;
      double err = 0;
      for (size_t i = 0; i < x.size(); ++i) {
        const double r = scale * q[i] - x[i];
        err += r * r;
      }
      if (err < best_err) best_err = err, best = float(scale);
    }
  }
  return best;
}

float fit_codebook(std::span<const float> x, const int8_t (&book)[16]) {
  const float v = max_abs_value(x);
  if (v == 0) return 0;
  uint8_t q[kMaxGroup];
  float best = v / float(book[0]);
  double best_err = std::numeric_limits<double>::infinity();
  for (const int end : {int(book[0]), int(book[15])}) {
    for (int step = -kSteps; step <= kSteps; ++step) {
      // The codebook's ends are ~100 apart from the middle: steps of 1% of them.
      const float level = float(end) * (1.0f + 0.01f * float(step));
      assign_codebook(x, v / level, book, q);
      double sbb = 0, sbx = 0;
      for (size_t i = 0; i < x.size(); ++i) {
        const double b = book[q[i]];
        sbb += b * b, sbx += b * x[i];
      }
      if (sbb == 0) continue;
      const double scale = sbx / sbb;
      double err = 0;
      for (size_t i = 0; i < x.size(); ++i) {
        const double r = scale * book[q[i]] - x[i];
        err += r * r;
      }
      if (err < best_err) best_err = err, best = float(scale);
    }
  }
  return best;
}

}  // namespace vkmind::quant
