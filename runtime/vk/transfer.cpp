#include "runtime/vk/transfer.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "runtime/vk/device.h"
#include "runtime/vk/error.h"

namespace vkmind::vk {

namespace {

void check_fits(const BufferSlice& slice, size_t bytes, const char* what) {
  if (bytes > slice.size) {
    throw Error(std::string(what) + " of " + std::to_string(bytes) + " bytes into a buffer slice of " +
                std::to_string(slice.size) + " bytes");
  }
}

}  // namespace

Transfer::Transfer(Device& device, VkDeviceSize staging_bytes)
    : device_(device), staging_arena_(device, MemoryKind::HostVisible, staging_bytes), staging_bytes_(staging_bytes) {}

// Allocated on first use: where device memory is host-visible (CPU devices,
// integrated GPUs) every copy is a memcpy and no staging memory is ever held.
const BufferSlice& Transfer::staging() {
  if (!staging_.buffer) staging_ = staging_arena_.allocate(staging_bytes_);
  return staging_;
}

void Transfer::upload(const BufferSlice& dst, const void* src, size_t bytes) {
  check_fits(dst, bytes, "upload");
  if (dst.mapped) {
    std::memcpy(dst.mapped, src, bytes);
    return;
  }
  const auto* from = static_cast<const uint8_t*>(src);
  for (size_t done = 0; done < bytes;) {
    const size_t chunk = std::min<size_t>(bytes - done, staging().size);
    std::memcpy(staging_.mapped, from + done, chunk);
    device_.run_once([&](VkCommandBuffer cmd) {
      VkBufferCopy region{staging_.offset, dst.offset + done, chunk};
      vkCmdCopyBuffer(cmd, staging_.buffer, dst.buffer, 1, &region);
    });
    done += chunk;
  }
}

void Transfer::download(const BufferSlice& src, void* dst, size_t bytes) {
  check_fits(src, bytes, "download");
  if (src.mapped) {
    std::memcpy(dst, src.mapped, bytes);
    return;
  }
  auto* to = static_cast<uint8_t*>(dst);
  for (size_t done = 0; done < bytes;) {
    const size_t chunk = std::min<size_t>(bytes - done, staging().size);
    device_.run_once([&](VkCommandBuffer cmd) {
      VkBufferCopy region{src.offset + done, staging_.offset, chunk};
      vkCmdCopyBuffer(cmd, src.buffer, staging_.buffer, 1, &region);
    });
    std::memcpy(to + done, staging_.mapped, chunk);
    done += chunk;
  }
}

}  // namespace vkmind::vk
