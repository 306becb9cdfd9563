// The Vulkan instance, optionally with the Khronos validation layer. When
// validation is on, every error or warning it reports is kept (per instance)
// so tests can fail on them.
#pragma once

#include <vulkan/vulkan.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace vkmind::vk {

struct InstanceOptions {
  // Enable VK_LAYER_KHRONOS_validation if it is installed (silently skipped
  // otherwise; validation_enabled() tells which).
  bool validation = false;
  // Also print each message to stderr as it comes ("vkmind: validation: ...").
  bool print_messages = false;
};

class Instance {
 public:
  explicit Instance(const InstanceOptions& options);
  ~Instance();
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  VkInstance get() const { return instance_; }
  std::vector<VkPhysicalDevice> physical_devices() const;

  bool validation_enabled() const { return messenger_ != VK_NULL_HANDLE; }
  // Validation errors and warnings reported so far; take_ clears them.
  size_t validation_message_count() const;
  std::vector<std::string> take_validation_messages();

  static bool validation_layer_available();

 private:
  static VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                   VkDebugUtilsMessageTypeFlagsEXT types,
                                                   const VkDebugUtilsMessengerCallbackDataEXT* data,
                                                   void* user);

  VkInstance instance_ = VK_NULL_HANDLE;
  VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
  bool print_messages_ = false;
  mutable std::mutex messages_mutex_;
  std::vector<std::string> messages_;
};

}  // namespace vkmind::vk
