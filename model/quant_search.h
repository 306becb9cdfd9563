// Error-minimizing fits of a group of values to integer levels: the search
// behind the K-quant and IQ4 encoders (model/kquant_codec.cpp). Each fit tries
// a range of candidate scales around the max-abs one, assigns every value its
// nearest level, refits the scale (and offset) by least squares for those
// levels, and keeps the candidate with the smallest squared error. Max-abs
// scaling alone wastes levels on a single outlier; this search is what makes
// 2- to 6-bit blocks usable.
#pragma once

#include <cstdint>
#include <span>

namespace vkmind::quant {

// x ~ scale * q + offset with q in [0, top], scale >= 0 and offset <= 0 (the
// K-quants store the offset as a non-negative min that is subtracted).
struct AffineFit {
  float scale = 0;
  float offset = 0;
};
AffineFit fit_affine(std::span<const float> x, int top);

// x ~ scale * q with q in [lo, hi] (lo < 0 < hi); the scale may be negative.
float fit_symmetric(std::span<const float> x, int lo, int hi);

// x ~ scale * book[q] for a sorted 16-entry codebook (IQ4_NL's).
float fit_codebook(std::span<const float> x, const int8_t (&book)[16]);

// The levels for a fixed scale (and offset): nearest, clamped to the range.
void assign_affine(std::span<const float> x, float scale, float offset, int top, uint8_t* q);
void assign_symmetric(std::span<const float> x, float scale, int lo, int hi, int8_t* q);
void assign_codebook(std::span<const float> x, float scale, const int8_t (&book)[16], uint8_t* q);

}  // namespace vkmind::quant
