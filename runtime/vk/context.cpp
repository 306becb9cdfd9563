#include "runtime/vk/context.h"

#include <cstdlib>

namespace vkmind::vk {

namespace {

bool validation_from_env() {
  const char* env = std::getenv("VKMIND_VALIDATION");
  return env && std::string(env) == "1";
}

}  // namespace

Context::Context(const ContextOptions& options) {
  instance_ = std::make_unique<Instance>(InstanceOptions{options.validation || validation_from_env(), options.print_validation});
  device_ = std::make_unique<Device>(*instance_, select_physical_device(*instance_, options.device));
  transfer_ = std::make_unique<Transfer>(*device_);
}

const Pipeline& Context::pipeline(const PipelineDesc& desc) {
  auto key = std::make_pair(desc.kernel, desc.spec);
  auto it = pipelines_.find(key);
  if (it == pipelines_.end()) {
    it = pipelines_.emplace(std::move(key), std::make_unique<Pipeline>(*device_, desc)).first;
  }
  return *it->second;
}

}  // namespace vkmind::vk
