// Host <-> device copies through a fixed host-visible staging buffer, in
// chunks, so any size moves with bounded host-visible memory. Host-visible
// destinations (vk::Arena maps device memory that is host-visible) are
// written directly.
#pragma once

#include <cstddef>

#include "runtime/vk/memory.h"

namespace vkmind::vk {

class Transfer {
 public:
  explicit Transfer(Device& device, VkDeviceSize staging_bytes = VkDeviceSize(64) << 20);

  // Blocking copies; `bytes` must fit in the slice.
  void upload(const BufferSlice& dst, const void* src, size_t bytes);
  void download(const BufferSlice& src, void* dst, size_t bytes);

 private:
  const BufferSlice& staging();

  Device& device_;
  Arena staging_arena_;
  VkDeviceSize staging_bytes_;
  BufferSlice staging_;
};

}  // namespace vkmind::vk
