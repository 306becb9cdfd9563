// A logical device on one physical device: its compute queue, a command pool,
// the on-disk pipeline cache, and one-shot command submission.
#pragma once

#include <vulkan/vulkan.h>

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/vk/device_report.h"
#include "runtime/vk/handle.h"
#include "runtime/vk/instance.h"
#include "runtime/vk/pipeline_cache.h"

namespace vkmind::vk {

// Thrown when the device selector matches nothing; carries the list of
// devices so the CLI can show it (and exit with status 2).
class NoSuchDevice : public std::runtime_error {
 public:
  NoSuchDevice(const std::string& selector, std::string device_list);
  const std::string& device_list() const { return device_list_; }

 private:
  std::string device_list_;
};

// "index: name" for every device, one per line.
std::string list_devices(const Instance& instance);

// Picks a device: `selector` is an index ("1") or a case-insensitive name
// substring ("nvidia"); empty means $VKMIND_DEVICE, then the first discrete
// GPU, then the first integrated GPU, then device 0.
VkPhysicalDevice select_physical_device(const Instance& instance, const std::string& selector);

// What has been created on a device so far. A warmed-up decode step replays
// recorded graphs and must create none of it (the steady-state test counts).
struct CreationCounts {
  uint64_t memory_allocations = 0;  // vkAllocateMemory
  uint64_t buffer_slices = 0;       // Arena::allocate
  uint64_t pipelines = 0;
  uint64_t descriptor_pools = 0;    // one per recorded graph
  uint64_t buffer_views = 0;
  uint64_t command_buffers = 0;
  bool operator==(const CreationCounts&) const = default;
};

class Device {
 public:
  Device(Instance& instance, VkPhysicalDevice physical);
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  VkDevice get() const { return device_; }
  VkPhysicalDevice physical() const { return physical_; }
  VkQueue queue() const { return queue_; }
  uint32_t queue_family() const { return queue_family_; }
  const DeviceReport& report() const { return report_; }
  Instance& instance() const { return instance_; }
  PipelineCache& pipeline_cache() { return *pipeline_cache_; }
  VkCommandPool command_pool() const { return command_pool_.get(); }

  // Records commands into a fresh command buffer, submits them and waits.
  void run_once(const std::function<void(VkCommandBuffer)>& record);
  // Submits a recorded command buffer and waits for it to finish.
  void submit_and_wait(VkCommandBuffer commands);

  VkCommandBuffer allocate_command_buffer();
  void free_command_buffer(VkCommandBuffer commands);

  CreationCounts created() const;
  // Called by whatever creates one of the counted things on this device.
  enum class Created { memory_allocation, buffer_slice, pipeline, descriptor_pool, buffer_view, command_buffer };
  void count(Created what, uint64_t n = 1);

 private:
  Instance& instance_;
  VkPhysicalDevice physical_;
  DeviceReport report_;
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  uint32_t queue_family_ = 0;
  CommandPool command_pool_;
  Fence fence_;
  std::unique_ptr<PipelineCache> pipeline_cache_;
  // Atomic: pipelines may be created while another thread records.
  std::array<std::atomic<uint64_t>, 6> created_{};
};

}  // namespace vkmind::vk
