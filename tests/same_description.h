// The fields two descriptions of one model must share (an HF folder and the
// GGUF written from it, or from the oracle), checked one by one so that a
// failure names the field.
#pragma once

#include <catch2/catch.hpp>

#include "model/model_desc.h"

namespace vkmind::test {

inline void check_same_shape(const ModelDesc& a, const ModelDesc& b) {
  CHECK(a.n_layers == b.n_layers);
  CHECK(a.hidden == b.hidden);
  CHECK(a.n_heads == b.n_heads);
  CHECK(a.n_kv_heads == b.n_kv_heads);
  CHECK(a.head_dim == b.head_dim);
  CHECK(a.ffn_hidden == b.ffn_hidden);
  CHECK(a.vocab == b.vocab);
  CHECK(a.norm_eps == Approx(b.norm_eps));
  CHECK(a.rope.theta == Approx(b.rope.theta));
  CHECK(a.qk_norm == b.qk_norm);
  CHECK(a.attn_qkv_bias == b.attn_qkv_bias);
}

}  // namespace vkmind::test
