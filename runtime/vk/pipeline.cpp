#include "runtime/vk/pipeline.h"

#include "runtime/vk/device.h"
#include "runtime/vk/error.h"

namespace vkmind::vk {

Pipeline::Pipeline(Device& device, PipelineDesc desc) : desc_(std::move(desc)) {
  // A blob frozen to these very constants skips the driver's specialization
  // work (on lavapipe, NIR unrolling in every process: shaders/CMakeLists.txt).
  const shaders::ShaderBlob* specialized = shaders::find_specialized(desc_.kernel, desc_.spec);
  prespecialized_ = specialized != nullptr;
  const shaders::ShaderBlob& blob = specialized ? *specialized : shaders::get(desc_.kernel);
  VkDevice dev = device.get();
  if (desc_.push_constant_bytes > device.report().max_push_constants) {
    throw Error("kernel " + desc_.kernel + " needs " + std::to_string(desc_.push_constant_bytes) +
                " bytes of push constants; the device allows " + std::to_string(device.report().max_push_constants));
  }

  std::vector<VkDescriptorSetLayoutBinding> bindings(desc_.buffer_count);
  for (uint32_t i = 0; i < desc_.buffer_count; ++i) {
    const bool texel = (desc_.texel_bindings >> i) & 1u;
    bindings[i] = {i, texel ? VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1,
                   VK_SHADER_STAGE_COMPUTE_BIT, nullptr};
  }
  VkDescriptorSetLayoutCreateInfo set_info{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
  set_info.bindingCount = desc_.buffer_count;
  set_info.pBindings = bindings.data();
  VkDescriptorSetLayout set_layout;
  vk_check(vkCreateDescriptorSetLayout(dev, &set_info, nullptr, &set_layout), "vkCreateDescriptorSetLayout");
  set_layout_ = DescriptorSetLayout(dev, set_layout);

  VkPushConstantRange push{VK_SHADER_STAGE_COMPUTE_BIT, 0, desc_.push_constant_bytes};
  VkPipelineLayoutCreateInfo layout_info{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
  layout_info.setLayoutCount = 1;
  layout_info.pSetLayouts = &set_layout;
  layout_info.pushConstantRangeCount = desc_.push_constant_bytes ? 1 : 0;
  layout_info.pPushConstantRanges = &push;
  VkPipelineLayout layout;
  vk_check(vkCreatePipelineLayout(dev, &layout_info, nullptr, &layout), "vkCreatePipelineLayout");
  layout_ = PipelineLayout(dev, layout);
  device.count(Device::Created::pipeline);
  compiled_ = std::async(std::launch::async, [this, &device, blob] { compile(device, blob); }).share();
}

void Pipeline::compile(Device& device, const shaders::ShaderBlob& blob) {
  VkDevice dev = device.get();
  VkShaderModuleCreateInfo module_info{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
  module_info.codeSize = blob.word_count * 4;
  module_info.pCode = blob.words;
  VkShaderModule module_raw;
  vk_check(vkCreateShaderModule(dev, &module_info, nullptr, &module_raw), "vkCreateShaderModule", desc_.kernel);
  ShaderModule module(dev, module_raw);

  std::vector<VkSpecializationMapEntry> entries(desc_.spec.size());
  for (uint32_t i = 0; i < desc_.spec.size(); ++i) entries[i] = {i, i * 4, 4};
  VkSpecializationInfo spec{uint32_t(entries.size()), entries.data(), desc_.spec.size() * 4, desc_.spec.data()};

  VkComputePipelineCreateInfo info{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
  info.stage = {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO};
  info.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  info.stage.module = module.get();
  info.stage.pName = "main";
  info.stage.pSpecializationInfo = entries.empty() || blob.spec ? nullptr : &spec;
  info.layout = layout_.get();
  VkPipeline pipeline;
  vk_check(vkCreateComputePipelines(dev, device.pipeline_cache().get(), 1, &info, nullptr, &pipeline),
           "vkCreateComputePipelines", "kernel " + desc_.kernel);
  pipeline_ = PipelineHandle(dev, pipeline);
}

}  // namespace vkmind::vk
