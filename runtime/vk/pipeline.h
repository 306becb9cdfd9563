// A compute pipeline built from an embedded kernel: its descriptor-set layout
// (N storage buffers at bindings 0..N-1), push-constant range and
// specialization constants (constant_id i = spec[i]; id 0 is the workgroup
// size by convention).
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>
#include <future>
#include <string>
#include <vector>

#include "runtime/vk/handle.h"
#include "runtime/vk/shader_registry.h"

namespace vkmind::vk {

class Device;

struct PipelineDesc {
  std::string kernel;             // name in the shader registry
  uint32_t buffer_count = 0;      // storage buffers at bindings 0..N-1
  uint32_t push_constant_bytes = 0;
  std::vector<uint32_t> spec;     // specialization constants 0..N-1
  uint32_t texel_bindings = 0;    // bit i: binding i is a storage texel buffer (not a storage buffer)
};

// The layouts are made at once; the pipeline itself compiles on a thread of
// its own (vkCreateComputePipelines is thread-safe), so that the pipelines of
// a graph being built compile side by side: get() waits for it, and rethrows
// its error.
class Pipeline {
 public:
  Pipeline(Device& device, PipelineDesc desc);

  VkPipeline get() const {
    compiled_.get();
    return pipeline_.get();
  }
  VkPipelineLayout layout() const { return layout_.get(); }
  VkDescriptorSetLayout set_layout() const { return set_layout_.get(); }
  const PipelineDesc& desc() const { return desc_; }
  uint32_t workgroup_size() const { return desc_.spec.empty() ? 1 : desc_.spec[0]; }
  // Built from a blob pre-specialized to desc().spec at build time.
  bool prespecialized() const { return prespecialized_; }

 private:
  void compile(Device& device, const shaders::ShaderBlob& blob);

  PipelineDesc desc_;
  bool prespecialized_ = false;
  DescriptorSetLayout set_layout_;
  PipelineLayout layout_;
  PipelineHandle pipeline_;
  std::shared_future<void> compiled_;  // last: waited for before the handles go
};

}  // namespace vkmind::vk
