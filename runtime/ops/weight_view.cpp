#include "runtime/ops/weight_view.h"

#include <algorithm>
#include <cstring>

#include "runtime/vk/error.h"

namespace vkmind::ops {

const char* weight_kernel_suffix(TensorType type) {
  switch (type) {
    case TensorType::F32: return "f32";
    case TensorType::F16: return "f16";
    case TensorType::BF16: return "bf16";
    case TensorType::Q8_0: return "q8_0";
    case TensorType::Q4_0: return "q4_0";
    case TensorType::Q4_1: return "q4_1";
    case TensorType::Q5_0: return "q5_0";
    case TensorType::Q5_1: return "q5_1";
    case TensorType::IQ4_NL: return "iq4_nl";
    case TensorType::Q2_K: return "q2_k";
    case TensorType::Q3_K: return "q3_k";
    case TensorType::Q4_K: return "q4_k";
    case TensorType::Q5_K: return "q5_k";
    case TensorType::Q6_K: return "q6_k";
    case TensorType::IQ4_XS: return "iq4_xs";
  }
  throw Error("weight type code " + std::to_string(uint32_t(type)) + " has no kernel");
}

uint32_t weight_unit_bytes(TensorType type) { return type == TensorType::F32 ? 4 : 2; }

uint64_t weight_row_bytes(TensorType type, uint32_t cols) {
  weight_kernel_suffix(type);  // throws for a type without kernels
  const TensorTypeTraits t = tensor_type_traits(type);
  if (cols % t.block_elements != 0) {
    throw Error("a " + std::string(tensor_type_name(type)) + " weight needs a row length that is a multiple of " +
                std::to_string(t.block_elements) + " (its block size), not " + std::to_string(cols));
  }
  return uint64_t(cols / t.block_elements) * t.block_bytes;
}

void check_weight(const WeightView& w, const std::string& what) {
  if (w.rows == 0 || w.cols == 0) throw Error(what + ": empty weight");
  const uint64_t need = weight_row_bytes(w.type, w.cols) * w.rows;
  if (w.data.size < need) {
    throw Error(what + ": weight of " + std::to_string(w.rows) + " x " + std::to_string(w.cols) + " needs " +
                std::to_string(need) + " bytes; its slice has " + std::to_string(w.data.size));
  }
  if (w.tile_rows && (w.tile_rows != kWeightTileRows || w.tile_cols == 0 || w.cols % w.tile_cols != 0)) {
    throw Error(what + ": tiles of " + std::to_string(w.tile_rows) + " x " + std::to_string(w.tile_cols) +
                " for a width of " + std::to_string(w.cols) + " (tiles are " + std::to_string(kWeightTileRows) +
                " rows by a divisor of the width)");
  }
  if (w.data.offset % weight_unit_bytes(w.type) != 0) {
    throw Error(what + ": weight offset " + std::to_string(w.data.offset) + " is not a multiple of " +
                std::to_string(weight_unit_bytes(w.type)) + " bytes");
  }
}

std::vector<WeightChunk> weight_chunks(const vk::Device& device, const WeightView& w, uint32_t row_begin,
                                       uint32_t row_count) {
  // At least 16 so that unit_offset alone tells whether 4-wide loads are aligned.
  const VkDeviceSize align = std::max<VkDeviceSize>(device.report().min_storage_buffer_offset_alignment, 16);
  const VkDeviceSize range = device.report().max_storage_buffer_range;
  const uint64_t row_bytes = weight_row_bytes(w.type, w.cols);
  // A chunk may start up to align - 1 bytes before its first row.
  if (range < align || row_bytes > range - (align - 1)) {
    throw Error("a weight row of " + std::to_string(row_bytes) + " bytes does not fit this device's " +
                "maxStorageBufferRange of " + std::to_string(range) + " bytes");
  }
  uint64_t rows_per_chunk = (range - (align - 1)) / row_bytes;
  if (w.tile_rows) {
    if (row_begin % w.tile_rows != 0) {
      throw Error("rows from " + std::to_string(row_begin) + " of a tiled weight: not the start of a block of " +
                  std::to_string(w.tile_rows));
    }
    rows_per_chunk -= rows_per_chunk % w.tile_rows;
    if (rows_per_chunk == 0) throw Error("a block of a tiled weight does not fit this device's maxStorageBufferRange");
  }
  const uint32_t unit = weight_unit_bytes(w.type);

  std::vector<WeightChunk> chunks;
  for (uint32_t r = row_begin; r < row_begin + row_count;) {
    const uint32_t n = uint32_t(std::min<uint64_t>(rows_per_chunk, row_begin + row_count - r));
    const VkDeviceSize start = w.data.offset + r * row_bytes;
    const VkDeviceSize aligned = start - start % align;
    // start and the slice offset are unit multiples, align a power of two:
    // the slack is a whole number of units.
    vk::BufferSlice binding{w.data.buffer, aligned, start - aligned + n * row_bytes, nullptr};
    chunks.push_back({binding, r, n, uint32_t((start - aligned) / unit)});
    r += n;
  }
  return chunks;
}

uint32_t weight_tile_cols(const vk::DeviceReport& report, TensorType type) {
  return report.subgroup_size * (16 / weight_unit_bytes(type));
}

bool weight_tiles_pay(const vk::DeviceReport& report, TensorType type, uint32_t cols) {
  const bool float_type = type == TensorType::F32 || type == TensorType::F16 || type == TensorType::BF16;
  // The conditions under which ops::matmul takes the texel matvec.
  const bool texel_matvec = report.type == "CPU" && report.subgroup_arithmetic && report.subgroup_shuffle &&
                            report.storage_texel_rgba32ui && report.subgroup_size > 0;
  return float_type && texel_matvec && cols % weight_tile_cols(report, type) == 0;
}

void tile_rows_copy(uint8_t* dst, const uint8_t* src, uint32_t first_row, uint32_t n_rows, uint32_t total_rows,
                    uint32_t cols, TensorType type, uint32_t tile_cols) {
  const uint64_t unit = weight_unit_bytes(type), row_bytes = uint64_t(cols) * unit, chunk_bytes = tile_cols * unit;
  for (uint32_t r = first_row; r < first_row + n_rows; ++r) {
    const uint32_t block = r - r % kWeightTileRows;
    const uint64_t block_rows = std::min(kWeightTileRows, total_rows - block);
    uint8_t* out = dst + block * row_bytes + (r - block) * chunk_bytes;
    const uint8_t* in = src + uint64_t(r - first_row) * row_bytes;
    for (uint32_t c = 0; c < cols / tile_cols; ++c) std::memcpy(out + c * block_rows * chunk_bytes, in + c * chunk_bytes, chunk_bytes);
  }
}

}  // namespace vkmind::ops
