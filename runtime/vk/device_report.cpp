#include "runtime/vk/device_report.h"

#include <cstring>
#include <sstream>

namespace vkmind::vk {

namespace {

const char* device_type_name(VkPhysicalDeviceType type) {
  switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete GPU";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated GPU";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual GPU";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "CPU";
    default: return "other";
  }
}

bool has_extension(VkPhysicalDevice device, const char* name) {
  uint32_t count = 0;
  vkEnumerateDeviceExtensionProperties(device, nullptr, &count, nullptr);
  std::vector<VkExtensionProperties> extensions(count);
  vkEnumerateDeviceExtensionProperties(device, nullptr, &count, extensions.data());
  for (const auto& e : extensions) {
    if (std::strcmp(e.extensionName, name) == 0) return true;
  }
  return false;
}

std::string mib(uint64_t bytes) {
  std::ostringstream s;
  s << (bytes >> 20) << " MiB";
  return s.str();
}

const char* yes_no(bool b) { return b ? "yes" : "no"; }

}  // namespace

DeviceReport query_device_report(VkPhysicalDevice device) {
  DeviceReport r;

  VkPhysicalDeviceSubgroupSizeControlProperties size_control{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES};
  VkPhysicalDeviceSubgroupProperties subgroup{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
  subgroup.pNext = &size_control;
  VkPhysicalDeviceDriverProperties driver{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
  driver.pNext = &subgroup;
  VkPhysicalDeviceProperties2 props{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
  props.pNext = &driver;
  vkGetPhysicalDeviceProperties2(device, &props);
  const VkPhysicalDeviceLimits& limits = props.properties.limits;

  r.name = props.properties.deviceName;
  r.type = device_type_name(props.properties.deviceType);
  r.driver_name = driver.driverName;
  r.driver_info = driver.driverInfo;
  r.vendor_id = props.properties.vendorID;
  r.device_id = props.properties.deviceID;
  r.api_version = props.properties.apiVersion;
  std::memcpy(r.pipeline_cache_uuid, props.properties.pipelineCacheUUID, VK_UUID_SIZE);

  r.subgroup_size = subgroup.subgroupSize;
  const bool compute_ops = subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT;
  r.subgroup_arithmetic = compute_ops && (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT);
  r.subgroup_shuffle = compute_ops && (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_SHUFFLE_BIT);
  r.subgroup_ballot = compute_ops && (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_BALLOT_BIT);

  VkPhysicalDeviceSubgroupSizeControlFeatures size_control_features{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_FEATURES};
  VkPhysicalDeviceVulkan12Features v12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  VkPhysicalDeviceVulkan11Features v11{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
  v11.pNext = &v12;
  v12.pNext = &size_control_features;
  VkPhysicalDeviceFeatures2 features{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  features.pNext = &v11;
  vkGetPhysicalDeviceFeatures2(device, &features);

  r.subgroup_size_control = size_control_features.subgroupSizeControl && size_control_features.computeFullSubgroups;
  if (r.subgroup_size_control) {
    r.min_subgroup_size = size_control.minSubgroupSize;
    r.max_subgroup_size = size_control.maxSubgroupSize;
  } else {
    r.min_subgroup_size = r.max_subgroup_size = r.subgroup_size;
  }
  r.shader_float16 = v12.shaderFloat16;
  r.shader_int8 = v12.shaderInt8;
  r.storage_buffer_16bit = v11.storageBuffer16BitAccess;
  r.storage_buffer_8bit = v12.storageBuffer8BitAccess;
  r.push_descriptors = has_extension(device, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME);
  r.memory_budget = has_extension(device, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
  if (has_extension(device, VK_EXT_EXTERNAL_MEMORY_HOST_EXTENSION_NAME)) {
    VkPhysicalDeviceExternalMemoryHostPropertiesEXT host{
        VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_MEMORY_HOST_PROPERTIES_EXT};
    VkPhysicalDeviceProperties2 props_host{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
    props_host.pNext = &host;
    vkGetPhysicalDeviceProperties2(device, &props_host);
    r.host_import_alignment = host.minImportedHostPointerAlignment;
  }

  r.max_storage_buffer_range = limits.maxStorageBufferRange;
  r.min_storage_buffer_offset_alignment = limits.minStorageBufferOffsetAlignment;
  r.max_texel_buffer_elements = limits.maxTexelBufferElements;
  r.min_texel_buffer_offset_alignment = limits.minTexelBufferOffsetAlignment;
  VkFormatProperties rgba32ui{};
  vkGetPhysicalDeviceFormatProperties(device, VK_FORMAT_R32G32B32A32_UINT, &rgba32ui);
  r.storage_texel_rgba32ui = (rgba32ui.bufferFeatures & VK_FORMAT_FEATURE_STORAGE_TEXEL_BUFFER_BIT) != 0;
  VkPhysicalDeviceMaintenance3Properties m3{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
  VkPhysicalDeviceProperties2 props_m3{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
  props_m3.pNext = &m3;
  vkGetPhysicalDeviceProperties2(device, &props_m3);
  r.max_memory_allocation_size = m3.maxMemoryAllocationSize;
  r.max_shared_memory = limits.maxComputeSharedMemorySize;
  r.max_workgroup_invocations = limits.maxComputeWorkGroupInvocations;
  for (int i = 0; i < 3; ++i) r.max_workgroup_count[i] = limits.maxComputeWorkGroupCount[i];
  r.max_push_constants = limits.maxPushConstantsSize;
  r.timestamp_period_ns = limits.timestampPeriod;

  uint32_t family_count = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(device, &family_count, nullptr);
  std::vector<VkQueueFamilyProperties> families(family_count);
  vkGetPhysicalDeviceQueueFamilyProperties(device, &family_count, families.data());
  for (const auto& f : families) {
    if ((f.queueFlags & VK_QUEUE_COMPUTE_BIT) && f.timestampValidBits > 0) r.timestamps = true;
  }

  VkPhysicalDeviceMemoryProperties memory;
  vkGetPhysicalDeviceMemoryProperties(device, &memory);
  for (uint32_t i = 0; i < memory.memoryHeapCount; ++i) {
    r.heaps.push_back({memory.memoryHeaps[i].size,
                       (memory.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0});
  }
  return r;
}

std::string format_device_report(const DeviceReport& r, const std::string& in) {
  std::ostringstream s;
  s << in << "type:                 " << r.type << "\n";
  s << in << "driver:               " << r.driver_name << " (" << r.driver_info << ")\n";
  s << in << "Vulkan API:           " << VK_API_VERSION_MAJOR(r.api_version) << "."
    << VK_API_VERSION_MINOR(r.api_version) << "." << VK_API_VERSION_PATCH(r.api_version) << "\n";
  s << in << "vendor/device id:     0x" << std::hex << r.vendor_id << "/0x" << r.device_id << std::dec << "\n";
  s << in << "subgroup size:        " << r.subgroup_size;
  if (r.subgroup_size_control) s << " (selectable " << r.min_subgroup_size << ".." << r.max_subgroup_size << ")";
  s << "\n";
  s << in << "subgroup ops:         arithmetic " << yes_no(r.subgroup_arithmetic) << ", shuffle "
    << yes_no(r.subgroup_shuffle) << ", ballot " << yes_no(r.subgroup_ballot) << "\n";
  s << in << "fp16 arithmetic:      " << yes_no(r.shader_float16) << "\n";
  s << in << "int8 arithmetic:      " << yes_no(r.shader_int8) << "\n";
  s << in << "16-bit storage:       " << yes_no(r.storage_buffer_16bit) << "\n";
  s << in << "8-bit storage:        " << yes_no(r.storage_buffer_8bit) << "\n";
  s << in << "push descriptors:     " << yes_no(r.push_descriptors) << "\n";
  s << in << "max storage buffer:   " << mib(r.max_storage_buffer_range) << "\n";
  s << in << "texel buffers:        rgba32ui " << yes_no(r.storage_texel_rgba32ui) << ", at most "
    << r.max_texel_buffer_elements << " texels\n";
  s << in << "max allocation:       " << mib(r.max_memory_allocation_size) << "\n";
  s << in << "shared memory:        " << r.max_shared_memory / 1024 << " KiB\n";
  s << in << "max workgroup size:   " << r.max_workgroup_invocations << "\n";
  s << in << "timestamps:           " << yes_no(r.timestamps) << "\n";
  for (size_t i = 0; i < r.heaps.size(); ++i) {
    s << in << "memory heap " << i << ":        " << mib(r.heaps[i].size)
      << (r.heaps[i].device_local ? " device-local" : " host") << "\n";
  }
  return s.str();
}

}  // namespace vkmind::vk
