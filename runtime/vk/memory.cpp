#include "runtime/vk/memory.h"

#include <string>

#ifdef __linux__
#include <sys/mman.h>
#endif

#include "runtime/vk/device.h"
#include "runtime/vk/error.h"

namespace vkmind::vk {

namespace {

VkDeviceSize align_up(VkDeviceSize value, VkDeviceSize alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

std::string mib(VkDeviceSize bytes) { return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB"; }

// Device memory that a CPU device maps is fresh anonymous memory: asked for
// before its first touch, 2 MiB pages fault in 512x fewer times. Uploading
// 122 MiB of weights spent 70 ms of its 85 ms in 4 KiB page faults on
// lavapipe. Advice only: memory that cannot take it (device memory of an
// integrated GPU) keeps its pages.
void advise_huge_pages([[maybe_unused]] uint8_t* p, [[maybe_unused]] VkDeviceSize bytes) {
#ifdef __linux__
  constexpr uintptr_t kHuge = uintptr_t(2) << 20;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + bytes) & ~(kHuge - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#endif
}

}  // namespace

BufferSlice BufferSlice::sub(VkDeviceSize byte_offset, VkDeviceSize bytes) const {
  if (byte_offset > size || bytes > size - byte_offset) {
    throw Error("buffer slice [" + std::to_string(byte_offset) + ", +" + std::to_string(bytes) +
                ") is outside a slice of " + std::to_string(size) + " bytes");
  }
  return {buffer, offset + byte_offset, bytes, mapped ? mapped + byte_offset : nullptr};
}

Arena::Arena(Device& device, MemoryKind kind, VkDeviceSize block_size, bool written_whole)
    : device_(device), kind_(kind), block_size_(block_size), written_whole_(written_whole) {}

Arena::~Arena() {
  for (Block& b : blocks_) {
    if (b.mapped) vkUnmapMemory(device_.get(), b.memory.get());
  }
}

uint32_t Arena::choose_memory_type(uint32_t allowed_types) const {
  VkPhysicalDeviceMemoryProperties props;
  vkGetPhysicalDeviceMemoryProperties(device_.physical(), &props);
  auto find = [&](VkMemoryPropertyFlags wanted) -> int {
    for (uint32_t i = 0; i < props.memoryTypeCount; ++i) {
      if ((allowed_types & (1u << i)) && (props.memoryTypes[i].propertyFlags & wanted) == wanted) return int(i);
    }
    return -1;
  };
  int type = -1;
  if (kind_ == MemoryKind::DeviceLocal) {
    type = find(VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
    if (type < 0) type = find(0);
  } else {
    // Cached host memory makes read-backs fast; coherent spares us flushes.
    type = find(VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT |
                VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
    if (type < 0) type = find(VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
  }
  if (type < 0) throw Error("no suitable Vulkan memory type for a buffer");
  return uint32_t(type);
}

Arena::Block& Arena::new_block(VkDeviceSize bytes) {
  const VkDeviceSize size = std::max(block_size_, align_up(bytes, 256));
  const DeviceReport& report = device_.report();
  if (report.max_memory_allocation_size && size > report.max_memory_allocation_size) {
    throw Error("a single allocation of " + mib(size) + " exceeds this device's limit of " +
                mib(report.max_memory_allocation_size) + " (maxMemoryAllocationSize)");
  }
  VkDevice device = device_.get();

  VkBufferCreateInfo buffer_info{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  buffer_info.size = size;
  // Texel usage: CPU devices read weights through texel views (ops::matmul).
  buffer_info.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_STORAGE_TEXEL_BUFFER_BIT |
                      VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT |
                      VK_BUFFER_USAGE_INDIRECT_BUFFER_BIT;
  buffer_info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  VkBuffer buffer;
  vk_check(vkCreateBuffer(device, &buffer_info, nullptr, &buffer), "vkCreateBuffer");
  Buffer buffer_handle(device, buffer);

  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(device, buffer, &req);
  VkMemoryAllocateInfo alloc{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  alloc.allocationSize = req.size;
  alloc.memoryTypeIndex = choose_memory_type(req.memoryTypeBits);
  VkDeviceMemory memory;
  VkResult r = vkAllocateMemory(device, &alloc, nullptr, &memory);
  if (r != VK_SUCCESS) {
    throw Error("vkAllocateMemory", r,
                "asked for " + mib(req.size) + " of " +
                    (kind_ == MemoryKind::DeviceLocal ? "device" : "host-visible") + " memory with " +
                    mib(bytes_allocated()) + " already held by this arena; use a smaller model or context");
  }
  Memory memory_handle(device, memory);
  device_.count(Device::Created::memory_allocation);
  vk_check(vkBindBufferMemory(device, buffer, memory, 0), "vkBindBufferMemory");

  // Device memory that is host-visible too (CPU devices, integrated GPUs) is
  // mapped as well: uploads are then one memcpy, without staging or a queue copy.
  VkPhysicalDeviceMemoryProperties props;
  vkGetPhysicalDeviceMemoryProperties(device_.physical(), &props);
  const VkMemoryPropertyFlags coherent = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  uint8_t* mapped = nullptr;
  if (kind_ == MemoryKind::HostVisible || (props.memoryTypes[alloc.memoryTypeIndex].propertyFlags & coherent) == coherent) {
    void* p = nullptr;
    vk_check(vkMapMemory(device, memory, 0, VK_WHOLE_SIZE, 0, &p), "vkMapMemory");
    mapped = static_cast<uint8_t*>(p);
    if (written_whole_) advise_huge_pages(mapped, size);
  }
  blocks_.push_back(Block{std::move(memory_handle), std::move(buffer_handle), size, 0, mapped});
  return blocks_.back();
}

BufferSlice Arena::allocate(VkDeviceSize bytes, VkDeviceSize alignment) {
  if (bytes == 0) bytes = 4;  // zero-sized bindings are invalid in Vulkan
  alignment = std::max<VkDeviceSize>(alignment, device_.report().min_storage_buffer_offset_alignment);
  Block* target = nullptr;
  for (Block& b : blocks_) {
    if (align_up(b.used, alignment) + bytes <= b.size) {
      target = &b;
      break;
    }
  }
  if (!target) target = &new_block(bytes);
  device_.count(Device::Created::buffer_slice);
  const VkDeviceSize offset = align_up(target->used, alignment);
  target->used = offset + bytes;
  return {target->buffer.get(), offset, bytes, target->mapped ? target->mapped + offset : nullptr};
}

void Arena::reset() {
  for (Block& b : blocks_) b.used = 0;
}

VkDeviceSize Arena::bytes_allocated() const {
  VkDeviceSize total = 0;
  for (const Block& b : blocks_) total += b.size;
  return total;
}

VkDeviceSize Arena::bytes_used() const {
  VkDeviceSize total = 0;
  for (const Block& b : blocks_) total += b.used;
  return total;
}

}  // namespace vkmind::vk
