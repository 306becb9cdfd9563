// y = x W^T for a weight W [rows M][cols K] of any stored type with a kernel
// (weight_view.h) and f32 activations x [n_tokens][K]: y[t][r] = sum_k
// W[r][k] * x[t][k], accumulated in f32. Decode (few tokens) runs the
// matrix-vector kernel, prefill the tiled one. Weights larger than
// maxStorageBufferRange are bound in row chunks, one dispatch each.
#pragma once

#include <cstdint>

#include "runtime/graph/graph.h"
#include "runtime/ops/weight_view.h"
#include "runtime/vk/context.h"

namespace vkmind::ops {

enum class MatmulPath {
  Auto,          // Vector for n_tokens <= kMatvecMaxTokens, else Tiled; CPU devices: VectorTexels
                 // for float weights, any n_tokens
  Vector,        // matrix-vector kernel (matvec.comp), weights from a storage buffer
  VectorTexels,  // the same, F32/F16/BF16 weights and x through storage texel buffers where the
                 // rows allow it (16-byte aligned rows, the device's texel limits), else Vector
  Tiled,         // shared-memory GEMM (matmul.comp), any n_tokens
};

// Up to this many tokens per dispatch the matrix-vector kernel reads W once.
inline constexpr uint32_t kMatvecMaxTokens = 8;

// What the kernel does with each sum s = W[r] . x[t] (fused, no extra dispatch).
enum class Epilogue {
  Store,       // y = s
  Accumulate,  // y += s: the residual add of the layer's output projections
  SwiGLU,      // W is [gate; up] stacked, 2F rows: y[t][r] = silu(gate_r . x) * (up_r . x), r < F
};

struct MatmulOptions {
  // Only rows [row_begin, row_begin + row_count) of W; row_count 0: to the end.
  // (SwiGLU: all rows, and W must fit one binding: see fits_one_binding.)
  uint32_t row_begin = 0;
  uint32_t row_count = 0;
  // y[t * y_stride + y_offset + (r - row_begin)]; y_stride 0: the output row count.
  uint32_t y_stride = 0;
  uint32_t y_offset = 0;
  MatmulPath path = MatmulPath::Auto;
  // Input RMSNorm in the prologue when norm_weight is set (f32 [K]): x[t] is
  // used as x[t] * rsqrt(mean(x[t]^2) + norm_eps) * norm_weight, as ops::rmsnorm computes it.
  vk::BufferSlice norm_weight{};
  float norm_eps = 0;
  Epilogue epilogue = Epilogue::Store;
};

// Whether all of w's rows are bound at once on this device (a SwiGLU epilogue needs it).
bool fits_one_binding(const vk::Device& device, const WeightView& w);

// matvec.comp's launch shape on this device (also used by ops::gather_matmul).
struct MatvecShape {
  uint32_t workgroup;  // invocations
  uint32_t rows;       // rows of W per workgroup
};
MatvecShape matvec_shape(const vk::DeviceReport& report, TensorType type);

// x holds n_tokens rows of w.cols floats; y as described by the options.
// Throws vkmind::Error for inconsistent sizes or a blocked type whose K is not whole blocks.
void matmul(vk::Context& ctx, graph::Graph& g, const WeightView& w, const vk::BufferSlice& x,
            const vk::BufferSlice& y, uint32_t n_tokens, const MatmulOptions& options = {});

}  // namespace vkmind::ops
