#version 450
// Mixture-of-experts router, one invocation per token (E is small: 4 to a few
// hundred, k <= E): softmax over the token's E router logits in f32, the k
// largest probabilities in descending order, optionally divided by their sum.
//   ids[t][s]     = expert of slot s (u32)
//   weights[t][s] = its probability (renormalised when pc.renormalize != 0)
// Top-k without a per-token array: slot s takes the largest (p, -e) below
// the previous slot's in the order "larger p first, then lower e", so ties
// go to the lower expert index (as a stable descending sort would).
// Softmax is monotonic, but ranking uses the probabilities themselves, as
// the reference (torch.topk over softmax) does: two logits that round to one
// probability then tie the same way. exp is evaluated identically in every
// pass, so each expert's p is the same bits each time.
#define PUSH_MoeRouter
#include "push_constants.h"

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer Logits { float logits[]; };
layout(std430, binding = 1) writeonly buffer Ids { uint ids[]; };
layout(std430, binding = 2) buffer Weights { float weights[]; };  // read back to renormalise

void main() {
  const uint t = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * gl_WorkGroupSize.x +
                 gl_LocalInvocationID.x;
  if (t >= pc.tokens) return;
  const uint base = t * pc.n_experts;

  float m = logits[base];
  for (uint e = 1; e < pc.n_experts; ++e) m = max(m, logits[base + e]);
  float sum = 0.0;
  for (uint e = 0; e < pc.n_experts; ++e) sum += exp(logits[base + e] - m);
  const float inv_sum = 1.0 / sum;

  float prev_p = 2.0;  // above every probability
  uint prev_e = 0;
  float picked_sum = 0.0;
  for (uint s = 0; s < pc.top_k; ++s) {
    float best_p = -1.0;
    uint best_e = 0;
    for (uint e = 0; e < pc.n_experts; ++e) {
      const float p = exp(logits[base + e] - m) * inv_sum;
      const bool after_prev = p < prev_p || (p == prev_p && e > prev_e);
      if (after_prev && p > best_p) {  // strict: the first (lowest) e wins a tie
        best_p = p;
        best_e = e;
      }
    }
    ids[t * pc.top_k + s] = best_e;
    weights[t * pc.top_k + s] = best_p;
    picked_sum += best_p;
    prev_p = best_p;
    prev_e = best_e;
  }
  if (pc.renormalize != 0) {
    const float inv = 1.0 / picked_sum;
    for (uint s = 0; s < pc.top_k; ++s) weights[t * pc.top_k + s] *= inv;
  }
}
