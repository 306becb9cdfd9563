#include "runtime/vk/host_import.h"

#include <unistd.h>

namespace vkmind::vk {

std::unique_ptr<ImportedHostBuffer> ImportedHostBuffer::import(Device& device, std::span<const uint8_t> bytes) {
  const DeviceReport& report = device.report();
  const uint64_t align = report.host_import_alignment;
  const uint64_t page = uint64_t(::sysconf(_SC_PAGESIZE));
  if (!align || bytes.empty() || uintptr_t(bytes.data()) % align != 0 || align % page != 0) return nullptr;
  // The mapping covers whole pages, so rounding up to the alignment (a
  // multiple of the page) stays inside it when the alignment is one page.
  const uint64_t size = (bytes.size() + align - 1) / align * align;
  if (size > (bytes.size() + page - 1) / page * page) return nullptr;
  if (report.max_memory_allocation_size && size > report.max_memory_allocation_size) return nullptr;

  VkDevice dev = device.get();
  auto get_properties = reinterpret_cast<PFN_vkGetMemoryHostPointerPropertiesEXT>(
      vkGetDeviceProcAddr(dev, "vkGetMemoryHostPointerPropertiesEXT"));
  if (!get_properties) return nullptr;
  VkMemoryHostPointerPropertiesEXT host_props{VK_STRUCTURE_TYPE_MEMORY_HOST_POINTER_PROPERTIES_EXT};
  if (get_properties(dev, VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT, bytes.data(), &host_props) !=
      VK_SUCCESS) {
    return nullptr;
  }

  VkExternalMemoryBufferCreateInfo external{VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO};
  external.handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT;
  VkBufferCreateInfo buffer_info{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  buffer_info.pNext = &external;
  buffer_info.size = size;
  buffer_info.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_STORAGE_TEXEL_BUFFER_BIT |
                      VK_BUFFER_USAGE_TRANSFER_SRC_BIT;
  buffer_info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  VkBuffer raw_buffer;
  if (vkCreateBuffer(dev, &buffer_info, nullptr, &raw_buffer) != VK_SUCCESS) return nullptr;
  Buffer buffer(dev, raw_buffer);
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(dev, raw_buffer, &req);
  const uint32_t types = req.memoryTypeBits & host_props.memoryTypeBits;
  if (!types || req.size > size) return nullptr;

  VkImportMemoryHostPointerInfoEXT import_info{VK_STRUCTURE_TYPE_IMPORT_MEMORY_HOST_POINTER_INFO_EXT};
  import_info.handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT;
  import_info.pHostPointer = const_cast<uint8_t*>(bytes.data());  // read only, by the kernels
  VkMemoryAllocateInfo alloc{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  alloc.pNext = &import_info;
  alloc.allocationSize = size;
  alloc.memoryTypeIndex = uint32_t(__builtin_ctz(types));
  VkDeviceMemory raw_memory;
  if (vkAllocateMemory(dev, &alloc, nullptr, &raw_memory) != VK_SUCCESS) return nullptr;
  Memory memory(dev, raw_memory);
  if (vkBindBufferMemory(dev, raw_buffer, raw_memory, 0) != VK_SUCCESS) return nullptr;
  return std::unique_ptr<ImportedHostBuffer>(
      new ImportedHostBuffer(std::move(memory), std::move(buffer), bytes.data(), bytes.size()));
}

std::optional<BufferSlice> ImportedHostBuffer::slice(const uint8_t* p, uint64_t n, uint64_t slack) const {
  if (p < base_ || uint64_t(p - base_) + n + slack > size_) return std::nullopt;
  return BufferSlice{buffer_.get(), VkDeviceSize(p - base_), n, nullptr};
}

}  // namespace vkmind::vk
