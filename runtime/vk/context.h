// Everything one Vulkan device needs in one place: instance, device, the
// transfer path and the compiled pipelines (built once per kernel and
// specialization, then reused by every graph).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "runtime/vk/device.h"
#include "runtime/vk/instance.h"
#include "runtime/vk/pipeline.h"
#include "runtime/vk/transfer.h"

namespace vkmind::vk {

struct ContextOptions {
  std::string device;  // index or name substring; empty: $VKMIND_DEVICE or the best GPU
  // Khronos validation: on when asked for here or by VKMIND_VALIDATION=1.
  bool validation = false;
  // Print each validation message to stderr as it arrives (it is kept as well).
  bool print_validation = false;
};

class Context {
 public:
  explicit Context(const ContextOptions& options);
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  Instance& instance() { return *instance_; }
  Device& device() { return *device_; }
  Transfer& transfer() { return *transfer_; }

  // The pipeline for this kernel and specialization, created on first use.
  const Pipeline& pipeline(const PipelineDesc& desc);

 private:
  std::unique_ptr<Instance> instance_;
  std::unique_ptr<Device> device_;
  std::unique_ptr<Transfer> transfer_;
  std::map<std::pair<std::string, std::vector<uint32_t>>, std::unique_ptr<Pipeline>> pipelines_;
};

}  // namespace vkmind::vk
