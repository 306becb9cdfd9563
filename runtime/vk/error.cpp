#include "runtime/vk/error.h"

namespace vkmind {

namespace {

std::string describe(const std::string& call, VkResult result, const std::string& hint) {
  std::string text = call + " failed: " + vk_result_name(result);
  if (!hint.empty()) text += " (" + hint + ")";
  return text;
}

std::string default_hint(VkResult result) {
  switch (result) {
    case VK_ERROR_OUT_OF_DEVICE_MEMORY:
      return "the device is out of memory: use a smaller context (--ctx) or model";
    case VK_ERROR_OUT_OF_HOST_MEMORY:
      return "the host is out of memory";
    case VK_ERROR_DEVICE_LOST:
      return "the device was lost: a kernel may have faulted or timed out";
    case VK_ERROR_INCOMPATIBLE_DRIVER:
      return "no Vulkan 1.2 driver: install your GPU's driver or mesa-vulkan-drivers";
    case VK_ERROR_LAYER_NOT_PRESENT:
      return "a requested layer is not installed";
    case VK_ERROR_EXTENSION_NOT_PRESENT:
      return "a required extension is missing on this device";
    default:
      return {};
  }
}

}  // namespace

Error::Error(std::string call, VkResult result, std::string hint)
    : std::runtime_error(describe(call, result, hint.empty() ? default_hint(result) : hint)),
      call_(std::move(call)),
      result_(result),
      hint_(hint.empty() ? default_hint(result) : std::move(hint)) {}

Error::Error(std::string message) : std::runtime_error(std::move(message)) {}

const char* vk_result_name(VkResult result) {
  switch (result) {
#define VKM_NAME(r) \
  case r:           \
    return #r;
    VKM_NAME(VK_SUCCESS)
    VKM_NAME(VK_NOT_READY)
    VKM_NAME(VK_TIMEOUT)
    VKM_NAME(VK_EVENT_SET)
    VKM_NAME(VK_EVENT_RESET)
    VKM_NAME(VK_INCOMPLETE)
    VKM_NAME(VK_ERROR_OUT_OF_HOST_MEMORY)
    VKM_NAME(VK_ERROR_OUT_OF_DEVICE_MEMORY)
    VKM_NAME(VK_ERROR_INITIALIZATION_FAILED)
    VKM_NAME(VK_ERROR_DEVICE_LOST)
    VKM_NAME(VK_ERROR_MEMORY_MAP_FAILED)
    VKM_NAME(VK_ERROR_LAYER_NOT_PRESENT)
    VKM_NAME(VK_ERROR_EXTENSION_NOT_PRESENT)
    VKM_NAME(VK_ERROR_FEATURE_NOT_PRESENT)
    VKM_NAME(VK_ERROR_INCOMPATIBLE_DRIVER)
    VKM_NAME(VK_ERROR_TOO_MANY_OBJECTS)
    VKM_NAME(VK_ERROR_FORMAT_NOT_SUPPORTED)
    VKM_NAME(VK_ERROR_FRAGMENTED_POOL)
    VKM_NAME(VK_ERROR_UNKNOWN)
    VKM_NAME(VK_ERROR_OUT_OF_POOL_MEMORY)
    VKM_NAME(VK_ERROR_INVALID_EXTERNAL_HANDLE)
    VKM_NAME(VK_ERROR_FRAGMENTATION)
    VKM_NAME(VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS)
    VKM_NAME(VK_PIPELINE_COMPILE_REQUIRED)
#undef VKM_NAME
    default:
      return "VK_RESULT_UNKNOWN";
  }
}

void vk_check(VkResult result, const char* call, const std::string& hint) {
  if (result == VK_SUCCESS || result == VK_INCOMPLETE) return;
  throw Error(call, result, hint);
}

}  // namespace vkmind
