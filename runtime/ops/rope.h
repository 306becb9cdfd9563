// Rotary position embedding (design.md): NeoX (rotate_half, i with i + d/2)
// or GPT-J (2i with 2i + 1) pairing, theta, MiniMind's YaRN, positions read
// from a device buffer so a recorded graph replays with new positions.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "runtime/graph/graph.h"
#include "runtime/vk/context.h"

namespace vkmind::ops {

enum class RopePairing {
  NeoX,  // HF files (Llama, Qwen, MiniMind), GGUF qwen2/qwen3
  GptJ,  // GGUF arch llama (q/k rows permuted by llama.cpp's converter)
};

// YaRN as MiniMind applies it (config rope_scaling, type "yarn").
struct YarnScaling {
  double factor = 1;
  double original_max_position = 0;  // original_max_position_embeddings
  double beta_fast = 32;
  double beta_slow = 1;
  double attention_factor = 1;  // multiplies cos and sin: pass it as RopeDims::attention_factor
};

// The dimensions [low, high] over which YaRN's ramp goes from 0 to 1:
// inv_dim(b) = d * ln(orig / (b * 2 * pi)) / (2 * ln(theta)),
// low = max(floor(inv_dim(beta_fast)), 0), high = min(ceil(inv_dim(beta_slow)), d/2 - 1).
std::pair<double, double> yarn_ramp_range(uint32_t head_dim, double theta, const YarnScaling& yarn);

// inv_freq[i] = theta^(-2i/d), i < d/2, computed in double and rounded to f32
// once. With yarn: inv_freq[i] *= (1 - ramp_i) + ramp_i / factor, ramp_i =
// clamp((i - low) / max(high - low, 0.001), 0, 1). Whether YaRN applies at all
// (MiniMind: only when the context exceeds original_max_position) is the
// caller's decision. Upload the result and pass it to rope().
std::vector<float> rope_inv_freq(uint32_t head_dim, double theta, const std::optional<YarnScaling>& yarn = {});

struct RopeDims {
  uint32_t tokens = 0;
  uint32_t n_heads = 0;     // heads of q
  uint32_t n_kv_heads = 0;  // heads of k; 0: rotate q only (k is not bound)
  uint32_t head_dim = 0;    // even
  RopePairing pairing = RopePairing::NeoX;
  float attention_factor = 1;  // YaRN: cos and sin are multiplied by it
  uint32_t q_stride = 0;       // floats from one token to the next; 0: n_heads * head_dim
  uint32_t k_stride = 0;       // 0: n_kv_heads * head_dim
};

// Rotates q [tokens][n_heads][head_dim] and k [tokens][n_kv_heads][head_dim]
// in place, in one dispatch. positions: tokens i32 (or u32 < 2^31), any values
// (a batch mixes sequences); inv_freq: head_dim / 2 floats from rope_inv_freq.
void rope(vk::Context& ctx, graph::Graph& g, const vk::BufferSlice& q, const vk::BufferSlice& k,
          const vk::BufferSlice& positions, const vk::BufferSlice& inv_freq, const RopeDims& dims);

}  // namespace vkmind::ops
