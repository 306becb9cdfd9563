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
  // Row-major when 0; else kWeightTileRows, the rows in tiles tile_cols wide (see tile_rows_copy).
  uint32_t tile_rows = 0;
  uint32_t tile_cols = 0;
};

// Tiled float weights for CPU devices. Row-major, the texel matvec's
// workgroup reads 128 bytes from each of its 16 or 32 rows per step, rows
// K x 2 bytes apart: dozens of interleaved streams, which the CPU's
// prefetchers do not follow, so each step waits on memory. In tiles, rows are
// grouped in blocks of kWeightTileRows and each block is stored column chunk
// by column chunk (tile_cols elements of each of its rows in turn), so a step
// reads one contiguous run and the whole matrix streams in order: minimind-3
// size F16 on lavapipe, tg32 +26%, pp128 +16%. Element (r, k) lies at
//   b K + (k / C) n C + (r - b) C + k % C   (units of the type),
// b = r - r % kWeightTileRows the block's first row, C = tile_cols, n the
// rows of r's block (kWeightTileRows, fewer in the last). A block's bytes are
// its rows' bytes, so a run of whole blocks is a contiguous range.
constexpr uint32_t kWeightTileRows = 16;
// The tile width: what one texel-matvec step reads of a row (a subgroup of
// 16-byte texels).
uint32_t weight_tile_cols(const vk::DeviceReport& report, TensorType type);
// Whether matrices of this type and width should be tiled on this device:
// CPU devices whose texel matvec can read them (F32, F16, BF16; cols whole tiles).
bool weight_tiles_pay(const vk::DeviceReport& report, TensorType type, uint32_t cols);
// Writes rows [first_row, first_row + n_rows) of a tiled matrix of total_rows
// rows at dst from the row-major rows at src.
void tile_rows_copy(uint8_t* dst, const uint8_t* src, uint32_t first_row, uint32_t n_rows, uint32_t total_rows,
                    uint32_t cols, TensorType type, uint32_t tile_cols);

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

// Rows [row_begin, row_begin + row_count) of w in as few chunks as the device
// allows (tiled: chunks of whole blocks; row_begin must start a block).
std::vector<WeightChunk> weight_chunks(const vk::Device& device, const WeightView& w, uint32_t row_begin,
                                       uint32_t row_count);

}  // namespace vkmind::ops
