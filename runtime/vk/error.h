// The one error type of the runtime: which Vulkan call failed, with what
// VkResult, and a hint a user can act on.
#pragma once

#include <vulkan/vulkan.h>

#include <stdexcept>
#include <string>

namespace vkmind {

class Error : public std::runtime_error {
 public:
  Error(std::string call, VkResult result, std::string hint = {});
  explicit Error(std::string message);  // failures that are not a VkResult

  const std::string& call() const { return call_; }
  VkResult result() const { return result_; }
  const std::string& hint() const { return hint_; }

 private:
  std::string call_;
  VkResult result_ = VK_SUCCESS;
  std::string hint_;
};

const char* vk_result_name(VkResult result);

// Throws vkmind::Error unless result is VK_SUCCESS (or VK_INCOMPLETE, which
// enumeration calls return legitimately).
void vk_check(VkResult result, const char* call, const std::string& hint = {});

}  // namespace vkmind
