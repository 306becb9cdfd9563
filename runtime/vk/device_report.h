// What a physical device can do, as far as vkmind cares: read once when a
// device is chosen, printed by `vkmind info`, consulted when picking kernels.
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>
#include <string>
#include <vector>

namespace vkmind::vk {

struct MemoryHeapInfo {
  uint64_t size = 0;
  bool device_local = false;
};

struct DeviceReport {
  std::string name;
  std::string type;  // "discrete GPU", "integrated GPU", "CPU", ...
  std::string driver_name;
  std::string driver_info;
  uint32_t vendor_id = 0;
  uint32_t device_id = 0;
  uint32_t api_version = 0;
  uint8_t pipeline_cache_uuid[VK_UUID_SIZE] = {};

  uint32_t subgroup_size = 0;
  uint32_t min_subgroup_size = 0;
  uint32_t max_subgroup_size = 0;
  bool subgroup_size_control = false;
  bool subgroup_arithmetic = false;
  bool subgroup_shuffle = false;
  bool subgroup_ballot = false;

  bool shader_float16 = false;
  bool shader_int8 = false;
  bool storage_buffer_16bit = false;
  bool storage_buffer_8bit = false;
  bool push_descriptors = false;
  bool memory_budget = false;
  // VK_EXT_external_memory_host: host memory imported as device memory, at
  // this alignment (minImportedHostPointerAlignment); 0 when unsupported.
  uint64_t host_import_alignment = 0;

  uint64_t max_storage_buffer_range = 0;
  uint64_t min_storage_buffer_offset_alignment = 0;
  // Storage texel buffers of R32G32B32A32_UINT (the matvec kernel's weight path on CPU devices).
  bool storage_texel_rgba32ui = false;
  uint64_t max_texel_buffer_elements = 0;
  uint64_t min_texel_buffer_offset_alignment = 0;
  uint64_t max_memory_allocation_size = 0;
  uint32_t max_shared_memory = 0;
  uint32_t max_workgroup_invocations = 0;
  uint32_t max_workgroup_count[3] = {};
  uint32_t max_push_constants = 0;
  bool timestamps = false;
  float timestamp_period_ns = 0;

  std::vector<MemoryHeapInfo> heaps;
};

DeviceReport query_device_report(VkPhysicalDevice device);

// Multi-line human-readable report, each line indented by `indent`.
std::string format_device_report(const DeviceReport& report, const std::string& indent = "  ");

}  // namespace vkmind::vk
