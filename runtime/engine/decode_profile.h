// What one single-sequence decode step is made of, for `vkmind bench`: the
// dispatches and barriers of its recorded graph (what bounds a small model on
// a GPU, a few microseconds each), the pipelines they use (what a process
// compiles before its first token) and the weight bytes a token reads (what
// bounds a large one: bytes per token x tokens/s = the bandwidth reached).
#pragma once

#include <cstdint>

namespace vkmind {

struct DecodeProfile {
  uint32_t dispatches = 0;
  uint32_t barriers = 0;
  uint32_t pipelines = 0;
  uint32_t prespecialized = 0;  // of the pipelines, those frozen at build time (shaders/CMakeLists.txt)
  uint32_t layers = 0;
  // Every weight matrix a token multiplies (MoE: its top-k experts' share),
  // the output head, and one embedding row.
  uint64_t weight_bytes_per_token = 0;
};

}  // namespace vkmind
