// Device memory: a few large allocations, each with one VkBuffer over all of
// it, handed out as slices by a bump allocator. Weights, KV cache and
// activations are allocated once, so nothing is freed slice by slice.
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>
#include <vector>

#include "runtime/vk/handle.h"

namespace vkmind::vk {

class Device;

// A byte range of a buffer. `mapped` points at its first byte when the
// memory is host-visible, else nullptr.
struct BufferSlice {
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceSize offset = 0;
  VkDeviceSize size = 0;
  uint8_t* mapped = nullptr;

  BufferSlice sub(VkDeviceSize byte_offset, VkDeviceSize bytes) const;
  bool overlaps(const BufferSlice& other) const {
    return buffer == other.buffer && offset < other.offset + other.size && other.offset < offset + size;
  }
};

enum class MemoryKind {
  DeviceLocal,  // weights, KV cache, activations
  HostVisible,  // staging, per-step inputs, read-backs: persistently mapped
};

class Arena {
 public:
  // Blocks are `block_size` bytes, or one dedicated block for a larger request.
  // `written_whole`: every slice is filled once, at load (weights); a CPU
  // device then backs the blocks with huge pages. Memory written piecemeal
  // (KV cache) would grow the resident set 2 MiB per touch instead.
  Arena(Device& device, MemoryKind kind, VkDeviceSize block_size = VkDeviceSize(256) << 20,
        bool written_whole = false);
  ~Arena();
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // Throws vkmind::Error naming the size asked for and the memory left when
  // the device cannot provide it.
  BufferSlice allocate(VkDeviceSize bytes, VkDeviceSize alignment = 256);
  // Forgets every slice (the memory stays allocated for reuse).
  void reset();

  VkDeviceSize bytes_allocated() const;  // device memory held
  VkDeviceSize bytes_used() const;       // handed out as slices

 private:
  struct Block {
    Memory memory;
    Buffer buffer;
    VkDeviceSize size = 0;
    VkDeviceSize used = 0;
    uint8_t* mapped = nullptr;
  };
  Block& new_block(VkDeviceSize bytes);
  uint32_t choose_memory_type(uint32_t allowed_types) const;

  Device& device_;
  MemoryKind kind_;
  VkDeviceSize block_size_;
  bool written_whole_;
  std::vector<Block> blocks_;
};

}  // namespace vkmind::vk
