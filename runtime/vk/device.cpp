#include "runtime/vk/device.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "runtime/vk/error.h"

namespace vkmind::vk {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

bool is_index(const std::string& s) {
  return !s.empty() && s.size() < 6 && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

uint32_t find_compute_queue_family(VkPhysicalDevice device) {
  uint32_t count = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(device, &count, nullptr);
  std::vector<VkQueueFamilyProperties> families(count);
  vkGetPhysicalDeviceQueueFamilyProperties(device, &count, families.data());
  // Prefer a compute-only family (async compute on discrete GPUs), else any.
  for (uint32_t i = 0; i < count; ++i) {
    if ((families[i].queueFlags & VK_QUEUE_COMPUTE_BIT) && !(families[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)) return i;
  }
  for (uint32_t i = 0; i < count; ++i) {
    if (families[i].queueFlags & VK_QUEUE_COMPUTE_BIT) return i;
  }
  throw Error("the device has no compute queue");
}

}  // namespace

NoSuchDevice::NoSuchDevice(const std::string& selector, std::string device_list)
    : std::runtime_error("no Vulkan device matches '" + selector + "'; available devices:\n" + device_list),
      device_list_(std::move(device_list)) {}

std::string list_devices(const Instance& instance) {
  std::ostringstream s;
  auto devices = instance.physical_devices();
  for (size_t i = 0; i < devices.size(); ++i) {
    VkPhysicalDeviceProperties p;
    vkGetPhysicalDeviceProperties(devices[i], &p);
    s << "  " << i << ": " << p.deviceName << "\n";
  }
  if (devices.empty()) s << "  (none: install a Vulkan driver, e.g. mesa-vulkan-drivers)\n";
  return s.str();
}

VkPhysicalDevice select_physical_device(const Instance& instance, const std::string& selector) {
  auto devices = instance.physical_devices();
  std::string wanted = selector;
  if (wanted.empty()) {
    const char* env = std::getenv("VKMIND_DEVICE");
    if (env) wanted = env;
  }
  if (devices.empty()) throw NoSuchDevice(wanted.empty() ? "(any)" : wanted, list_devices(instance));
  if (wanted.empty()) {
    for (auto type : {VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU}) {
      for (VkPhysicalDevice d : devices) {
        VkPhysicalDeviceProperties p;
        vkGetPhysicalDeviceProperties(d, &p);
        if (p.deviceType == type) return d;
      }
    }
    return devices[0];
  }
  if (is_index(wanted)) {
    size_t index = std::stoul(wanted);
    if (index < devices.size()) return devices[index];
    throw NoSuchDevice(wanted, list_devices(instance));
  }
  for (VkPhysicalDevice d : devices) {
    VkPhysicalDeviceProperties p;
    vkGetPhysicalDeviceProperties(d, &p);
    if (lower(p.deviceName).find(lower(wanted)) != std::string::npos) return d;
  }
  throw NoSuchDevice(wanted, list_devices(instance));
}

Device::Device(Instance& instance, VkPhysicalDevice physical)
    : instance_(instance), physical_(physical), report_(query_device_report(physical)) {
  if (VK_API_VERSION_MINOR(report_.api_version) < 2 && VK_API_VERSION_MAJOR(report_.api_version) == 1) {
    throw Error("device '" + report_.name + "' supports only Vulkan " +
                std::to_string(VK_API_VERSION_MAJOR(report_.api_version)) + "." +
                std::to_string(VK_API_VERSION_MINOR(report_.api_version)) + "; vkmind needs 1.2");
  }
  if (!report_.storage_buffer_16bit) {
    throw Error("device '" + report_.name + "' lacks storageBuffer16BitAccess, which vkmind's kernels need");
  }
  queue_family_ = find_compute_queue_family(physical);

  // Enable exactly the optional features the kernels may use when present.
  VkPhysicalDeviceSubgroupSizeControlFeatures size_control{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_FEATURES};
  size_control.subgroupSizeControl = report_.subgroup_size_control;
  size_control.computeFullSubgroups = report_.subgroup_size_control;
  VkPhysicalDeviceVulkan12Features v12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  v12.shaderFloat16 = report_.shader_float16;
  v12.shaderInt8 = report_.shader_int8;
  v12.storageBuffer8BitAccess = report_.storage_buffer_8bit;
  v12.pNext = report_.subgroup_size_control ? &size_control : nullptr;
  VkPhysicalDeviceVulkan11Features v11{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
  v11.storageBuffer16BitAccess = VK_TRUE;
  v11.pNext = &v12;
  VkPhysicalDeviceFeatures2 features{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  features.pNext = &v11;

  float priority = 1.0f;
  VkDeviceQueueCreateInfo queue_info{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
  queue_info.queueFamilyIndex = queue_family_;
  queue_info.queueCount = 1;
  queue_info.pQueuePriorities = &priority;

  std::vector<const char*> extensions;
  if (report_.memory_budget) extensions.push_back(VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
  if (report_.host_import_alignment) extensions.push_back(VK_EXT_EXTERNAL_MEMORY_HOST_EXTENSION_NAME);

  VkDeviceCreateInfo info{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
  info.pNext = &features;
  info.queueCreateInfoCount = 1;
  info.pQueueCreateInfos = &queue_info;
  info.enabledExtensionCount = uint32_t(extensions.size());
  info.ppEnabledExtensionNames = extensions.data();
  vk_check(vkCreateDevice(physical, &info, nullptr, &device_), "vkCreateDevice", "device '" + report_.name + "'");
  vkGetDeviceQueue(device_, queue_family_, 0, &queue_);

  VkCommandPoolCreateInfo pool_info{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  pool_info.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
  pool_info.queueFamilyIndex = queue_family_;
  VkCommandPool pool;
  vk_check(vkCreateCommandPool(device_, &pool_info, nullptr, &pool), "vkCreateCommandPool");
  command_pool_ = CommandPool(device_, pool);

  VkFenceCreateInfo fence_info{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  VkFence fence;
  vk_check(vkCreateFence(device_, &fence_info, nullptr, &fence), "vkCreateFence");
  fence_ = Fence(device_, fence);

  pipeline_cache_ = std::make_unique<PipelineCache>(device_, report_);
}

Device::~Device() {
  vkDeviceWaitIdle(device_);
  pipeline_cache_.reset();  // saves the cache to disk
  fence_.reset();
  command_pool_.reset();
  vkDestroyDevice(device_, nullptr);
}

VkCommandBuffer Device::allocate_command_buffer() {
  VkCommandBufferAllocateInfo info{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  info.commandPool = command_pool_.get();
  info.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  info.commandBufferCount = 1;
  VkCommandBuffer commands;
  vk_check(vkAllocateCommandBuffers(device_, &info, &commands), "vkAllocateCommandBuffers");
  count(Created::command_buffer);
  return commands;
}

void Device::count(Created what, uint64_t n) { created_[size_t(what)].fetch_add(n, std::memory_order_relaxed); }

CreationCounts Device::created() const {
  auto at = [&](Created c) { return created_[size_t(c)].load(std::memory_order_relaxed); };
  return {at(Created::memory_allocation), at(Created::buffer_slice),  at(Created::pipeline),
          at(Created::descriptor_pool),   at(Created::buffer_view),   at(Created::command_buffer)};
}

void Device::free_command_buffer(VkCommandBuffer commands) {
  vkFreeCommandBuffers(device_, command_pool_.get(), 1, &commands);
}

void Device::submit_and_wait(VkCommandBuffer commands) {
  VkSubmitInfo submit{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  submit.commandBufferCount = 1;
  submit.pCommandBuffers = &commands;
  VkFence fence = fence_.get();
  vk_check(vkResetFences(device_, 1, &fence), "vkResetFences");
  vk_check(vkQueueSubmit(queue_, 1, &submit, fence), "vkQueueSubmit");
  vk_check(vkWaitForFences(device_, 1, &fence, VK_TRUE, UINT64_MAX), "vkWaitForFences");
}

void Device::run_once(const std::function<void(VkCommandBuffer)>& record) {
  VkCommandBuffer commands = allocate_command_buffer();
  try {
    VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    vk_check(vkBeginCommandBuffer(commands, &begin), "vkBeginCommandBuffer");
    record(commands);
    vk_check(vkEndCommandBuffer(commands), "vkEndCommandBuffer");
    submit_and_wait(commands);
  } catch (...) {
    free_command_buffer(commands);
    throw;
  }
  free_command_buffer(commands);
}

}  // namespace vkmind::vk
