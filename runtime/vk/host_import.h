// Host memory that the device reads in place (VK_EXT_external_memory_host).
// On CPU devices the model file's mapping becomes the weight buffer itself:
// start-up copies nothing, and the weights are resident once, as the file's
// page cache, as llama.cpp's CPU backend has them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "runtime/vk/device.h"
#include "runtime/vk/handle.h"
#include "runtime/vk/memory.h"

namespace vkmind::vk {

class ImportedHostBuffer {
 public:
  // The whole pages of `bytes` (page-aligned at its start, as mappings are),
  // or nullptr when the device cannot import them. Nothing may write through
  // the buffer: the mapping is read-only. `bytes` must outlive the buffer.
  static std::unique_ptr<ImportedHostBuffer> import(Device& device, std::span<const uint8_t> bytes);

  // The buffer range holding [p, p + n), when it lies inside with at least
  // `slack` bytes after it (texel views round their range up to 16 bytes).
  std::optional<BufferSlice> slice(const uint8_t* p, uint64_t n, uint64_t slack = 16) const;

 private:
  ImportedHostBuffer(Memory memory, Buffer buffer, const uint8_t* base, uint64_t size)
      : memory_(std::move(memory)), buffer_(std::move(buffer)), base_(base), size_(size) {}

  Memory memory_;
  Buffer buffer_;  // destroyed before the memory it is bound to
  const uint8_t* base_;
  uint64_t size_;
};

}  // namespace vkmind::vk
