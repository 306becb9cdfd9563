// A weight matrix as the kernels see it: a buffer range holding `rows` rows
// of `cols` elements of one stored type (GGUF layout: a row is contiguous, a
// PyTorch Linear weight [out, in] has rows = out, cols = in), and how to bind
// it in pieces when it is larger than the device's maxStorageBufferRange.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/tensor_types.h"
#include "runtime/vk/device.h"
#include "runtime/vk/memory.h"

namespace vkmind::ops {

struct WeightView {
  vk::BufferSlice data;
  TensorType type = TensorType::F32;
  uint32_t rows = 0;
  uint32_t cols = 0;
};

// Suffix of the kernel variants for a type ("f32", "q4_0", ...), as in shaders/CMakeLists.txt.
const char* weight_kernel_suffix(TensorType type);
// Bytes of the addressing unit of shaders/weights.glsl: 4 for F32, else 2.
uint32_t weight_unit_bytes(TensorType type);
// Bytes of one row of `cols` elements. Throws vkmind::Error for blocked types
// when cols is not a multiple of the block size (32 or 256).
uint64_t weight_row_bytes(TensorType type, uint32_t cols);

// Checks the view: cols fit the type's blocks, the slice holds rows * row
// bytes and starts on a unit boundary. Throws vkmind::Error naming `what`.
void check_weight(const WeightView& w, const std::string& what);

// A run of rows bound as one storage-buffer range: the range starts at an
// offset aligned to minStorageBufferOffsetAlignment (and to 16 bytes), is no
// longer than maxStorageBufferRange, and row `row_begin` starts `unit_offset`
// units into it. The range may begin a few bytes before the weight's slice:
// kernels only read it.
struct WeightChunk {
  vk::BufferSlice binding;
  uint32_t row_begin = 0;
  uint32_t rows = 0;
  uint32_t unit_offset = 0;
};

// Rows [row_begin, row_begin + row_count) of w in as few chunks as the device allows.
std::vector<WeightChunk> weight_chunks(const vk::Device& device, const WeightView& w, uint32_t row_begin,
                                       uint32_t row_count);

}  // namespace vkmind::ops
