#include "runtime/graph/graph.h"

#include <cstdlib>
#include <set>
#include <string>

#include "runtime/vk/error.h"

namespace vkmind::graph {

namespace {

bool profiling_requested() {
  const char* env = std::getenv("VKMIND_PROFILE");
  return env && std::string(env) == "1";
}

bool is_read(Access a) { return a != Access::Write; }
bool is_write(Access a) { return a != Access::Read; }

bool overlaps_any(const vk::BufferSlice& s, const std::vector<vk::BufferSlice>& set) {
  for (const auto& other : set) {
    if (s.overlaps(other)) return true;
  }
  return false;
}

}  // namespace

Graph::Graph(vk::Device& device) : device_(device), profile_(profiling_requested() && device.report().timestamps) {}

Graph::~Graph() {
  if (commands_) {
    vkQueueWaitIdle(device_.queue());
    device_.free_command_buffer(commands_);
  }
}

void Graph::add(Node node) {
  if (recorded_) throw Error("graph: node '" + node.label + "' added after the graph was recorded");
  if (!node.pipeline) throw Error("graph: node '" + node.label + "' has no pipeline");
  const vk::PipelineDesc& desc = node.pipeline->desc();
  if (node.bindings.size() != desc.buffer_count) {
    throw Error("graph: node '" + node.label + "' binds " + std::to_string(node.bindings.size()) +
                " buffers; kernel " + desc.kernel + " takes " + std::to_string(desc.buffer_count));
  }
  if (node.push.size() != desc.push_constant_bytes) {
    throw Error("graph: node '" + node.label + "' pushes " + std::to_string(node.push.size()) +
                " bytes; kernel " + desc.kernel + " takes " + std::to_string(desc.push_constant_bytes));
  }
  const vk::DeviceReport& report = device_.report();
  for (size_t i = 0; i < node.bindings.size(); ++i) {
    const vk::BufferSlice& s = node.bindings[i].slice;
    if (s.size > report.max_storage_buffer_range) {
      throw Error("graph: node '" + node.label + "' binds " + std::to_string(s.size >> 20) + " MiB at binding " +
                  std::to_string(i) + ", over this device's maxStorageBufferRange of " +
                  std::to_string(report.max_storage_buffer_range >> 20) + " MiB: split the tensor");
    }
    if (s.offset % report.min_storage_buffer_offset_alignment != 0) {
      throw Error("graph: node '" + node.label + "' binding " + std::to_string(i) + " offset " +
                  std::to_string(s.offset) + " is not aligned to minStorageBufferOffsetAlignment");
    }
  }
  for (int d = 0; d < 3; ++d) {
    if (node.groups[d] > report.max_workgroup_count[d]) {
      throw Error("graph: node '" + node.label + "' dispatches " + std::to_string(node.groups[d]) +
                  " workgroups in dimension " + std::to_string(d) + ", over the device limit");
    }
  }
  if (node.indirect && (node.indirect->size < sizeof(VkDispatchIndirectCommand) || node.indirect->offset % 4 != 0)) {
    throw Error("graph: node '" + node.label + "' has indirect arguments that are not 12 bytes at a 4-byte offset");
  }
  nodes_.push_back(std::move(node));
}

size_t Graph::pipeline_count() const {
  std::set<const vk::Pipeline*> pipelines;
  for (const Node& node : nodes_) pipelines.insert(node.pipeline);
  return pipelines.size();
}

size_t Graph::prespecialized_pipeline_count() const {
  std::set<const vk::Pipeline*> pipelines;
  for (const Node& node : nodes_) {
    if (node.pipeline->prespecialized()) pipelines.insert(node.pipeline);
  }
  return pipelines.size();
}

void Graph::derive_barriers() {
  barrier_before_.assign(nodes_.size(), false);
  barriers_ = 0;
  std::vector<vk::BufferSlice> written, read;  // since the last barrier
  for (size_t n = 0; n < nodes_.size(); ++n) {
    bool hazard = nodes_[n].indirect && overlaps_any(*nodes_[n].indirect, written);
    for (const Binding& b : nodes_[n].bindings) {
      if (is_read(b.access) && overlaps_any(b.slice, written)) hazard = true;               // read after write
      if (is_write(b.access) && (overlaps_any(b.slice, written) || overlaps_any(b.slice, read))) hazard = true;
    }
    if (hazard) {
      barrier_before_[n] = true;
      ++barriers_;
      written.clear();
      read.clear();
    }
    if (nodes_[n].indirect) read.push_back(*nodes_[n].indirect);
    for (const Binding& b : nodes_[n].bindings) {
      if (is_read(b.access)) read.push_back(b.slice);
      if (is_write(b.access)) written.push_back(b.slice);
    }
  }
}

void Graph::write_descriptors() {
  VkDevice dev = device_.get();
  uint32_t buffer_count = 0, texel_count = 0;
  for (const Node& n : nodes_)
    for (const Binding& b : n.bindings) ++(b.texels ? texel_count : buffer_count);
  const VkDescriptorPoolSize sizes[2] = {{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, std::max(buffer_count, 1u)},
                                         {VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER, std::max(texel_count, 1u)}};
  VkDescriptorPoolCreateInfo pool_info{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
  pool_info.maxSets = std::max<uint32_t>(uint32_t(nodes_.size()), 1);
  pool_info.poolSizeCount = 2;
  pool_info.pPoolSizes = sizes;
  VkDescriptorPool pool;
  vk_check(vkCreateDescriptorPool(dev, &pool_info, nullptr, &pool), "vkCreateDescriptorPool");
  pool_ = vk::DescriptorPool(dev, pool);
  device_.count(vk::Device::Created::descriptor_pool);

  sets_.resize(nodes_.size());
  for (size_t n = 0; n < nodes_.size(); ++n) {
    VkDescriptorSetLayout layout = nodes_[n].pipeline->set_layout();
    VkDescriptorSetAllocateInfo alloc{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
    alloc.descriptorPool = pool;
    alloc.descriptorSetCount = 1;
    alloc.pSetLayouts = &layout;
    vk_check(vkAllocateDescriptorSets(dev, &alloc, &sets_[n]), "vkAllocateDescriptorSets");

    const auto& bindings = nodes_[n].bindings;
    std::vector<VkDescriptorBufferInfo> infos(bindings.size());
    std::vector<VkBufferView> view_handles(bindings.size(), VK_NULL_HANDLE);
    std::vector<VkWriteDescriptorSet> writes_(bindings.size());
    for (size_t i = 0; i < bindings.size(); ++i) {
      const vk::BufferSlice& s = bindings[i].slice;
      const bool layout_texels = (nodes_[n].pipeline->desc().texel_bindings >> i) & 1u;
      if (layout_texels != bindings[i].texels) {
        throw Error("graph: node " + nodes_[n].label + " binding " + std::to_string(i) +
                    (layout_texels ? " must be a texel buffer" : " must be a storage buffer"));
      }
      writes_[i] = {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
      writes_[i].dstSet = sets_[n];
      writes_[i].dstBinding = uint32_t(i);
      writes_[i].descriptorCount = 1;
      if (bindings[i].texels) {
        if (s.size % 16 != 0) {
          throw Error("graph: node " + nodes_[n].label + " binds 16-byte texels to a range of " +
                      std::to_string(s.size) + " bytes");
        }
        VkBufferViewCreateInfo view_info{VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO};
        view_info.buffer = s.buffer;
        view_info.format = VK_FORMAT_R32G32B32A32_UINT;
        view_info.offset = s.offset;
        view_info.range = s.size;
        vk_check(vkCreateBufferView(dev, &view_info, nullptr, &view_handles[i]), "vkCreateBufferView",
                 "node " + nodes_[n].label);
        views_.emplace_back(dev, view_handles[i]);
        device_.count(vk::Device::Created::buffer_view);
        writes_[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER;
        writes_[i].pTexelBufferView = &view_handles[i];
      } else {
        infos[i] = {s.buffer, s.offset, s.size};
        writes_[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
        writes_[i].pBufferInfo = &infos[i];
      }
    }
    vkUpdateDescriptorSets(dev, uint32_t(writes_.size()), writes_.data(), 0, nullptr);
  }
}

void Graph::record() {
  if (recorded_) throw Error("graph: record() called twice");
  derive_barriers();
  write_descriptors();

  VkDevice dev = device_.get();
  if (profile_) {
    VkQueryPoolCreateInfo info{VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
    info.queryType = VK_QUERY_TYPE_TIMESTAMP;
    info.queryCount = uint32_t(nodes_.size() + 1);
    VkQueryPool pool;
    vk_check(vkCreateQueryPool(dev, &info, nullptr, &pool), "vkCreateQueryPool");
    queries_ = vk::QueryPool(dev, pool);
  }

  commands_ = device_.allocate_command_buffer();
  VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  vk_check(vkBeginCommandBuffer(commands_, &begin), "vkBeginCommandBuffer");
  if (profile_) {
    vkCmdResetQueryPool(commands_, queries_.get(), 0, uint32_t(nodes_.size() + 1));
    vkCmdWriteTimestamp(commands_, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, queries_.get(), 0);
  }
  VkPipeline bound = VK_NULL_HANDLE;
  for (size_t n = 0; n < nodes_.size(); ++n) {
    const Node& node = nodes_[n];
    if (barrier_before_[n]) {
      VkMemoryBarrier barrier{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
      barrier.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_SHADER_READ_BIT;
      barrier.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_INDIRECT_COMMAND_READ_BIT;
      vkCmdPipelineBarrier(commands_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                           VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_DRAW_INDIRECT_BIT, 0, 1, &barrier,
                           0, nullptr, 0, nullptr);
    }
    VkPipeline pipeline = node.pipeline->get();
    if (bound != pipeline) {
      vkCmdBindPipeline(commands_, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
      bound = pipeline;
    }
    vkCmdBindDescriptorSets(commands_, VK_PIPELINE_BIND_POINT_COMPUTE, node.pipeline->layout(), 0, 1, &sets_[n], 0,
                            nullptr);
    if (!node.push.empty()) {
      vkCmdPushConstants(commands_, node.pipeline->layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0,
                         uint32_t(node.push.size()), node.push.data());
    }
    if (node.indirect) {
      vkCmdDispatchIndirect(commands_, node.indirect->buffer, node.indirect->offset);
    } else {
      vkCmdDispatch(commands_, node.groups[0], node.groups[1], node.groups[2]);
    }
    if (profile_) {
      vkCmdWriteTimestamp(commands_, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, queries_.get(), uint32_t(n + 1));
    }
  }
  // Make the results visible to the host (read-backs from mapped memory).
  VkMemoryBarrier to_host{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  to_host.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
  to_host.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
  vkCmdPipelineBarrier(commands_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &to_host,
                       0, nullptr, 0, nullptr);
  vk_check(vkEndCommandBuffer(commands_), "vkEndCommandBuffer");
  recorded_ = true;
}

void Graph::run() {
  if (!recorded_) record();
  device_.submit_and_wait(commands_);
}

void Graph::warm_up() {
  if (!recorded_) record();
  std::set<const vk::Pipeline*> seen;
  device_.run_once([&](VkCommandBuffer commands) {
    for (size_t n = 0; n < nodes_.size(); ++n) {
      const Node& node = nodes_[n];
      if (!seen.insert(node.pipeline).second) continue;
      vkCmdBindPipeline(commands, VK_PIPELINE_BIND_POINT_COMPUTE, node.pipeline->get());
      vkCmdBindDescriptorSets(commands, VK_PIPELINE_BIND_POINT_COMPUTE, node.pipeline->layout(), 0, 1, &sets_[n], 0,
                              nullptr);
      if (!node.push.empty()) {
        vkCmdPushConstants(commands, node.pipeline->layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0,
                           uint32_t(node.push.size()), node.push.data());
      }
      vkCmdDispatch(commands, 0, 0, 0);
    }
  });
}

std::vector<NodeTiming> Graph::timings() const {
  std::vector<NodeTiming> result;
  if (!profile_ || !recorded_ || nodes_.empty()) return result;
  std::vector<uint64_t> stamps(nodes_.size() + 1);
  VkResult r = vkGetQueryPoolResults(device_.get(), queries_.get(), 0, uint32_t(stamps.size()),
                                     stamps.size() * sizeof(uint64_t), stamps.data(), sizeof(uint64_t),
                                     VK_QUERY_RESULT_64_BIT);
  if (r != VK_SUCCESS) return result;
  const double ns = device_.report().timestamp_period_ns;
  for (size_t n = 0; n < nodes_.size(); ++n) {
    result.push_back({nodes_[n].label, double(stamps[n + 1] - stamps[n]) * ns * 1e-6});
  }
  return result;
}

std::array<uint32_t, 3> linear_groups(const vk::Device& device, uint64_t groups) {
  const uint64_t max_x = std::min<uint32_t>(device.report().max_workgroup_count[0], 65535);
  if (groups <= max_x) return {uint32_t(std::max<uint64_t>(groups, 1)), 1, 1};
  const uint64_t y = (groups + max_x - 1) / max_x;
  if (y > device.report().max_workgroup_count[1]) throw Error("graph: " + std::to_string(groups) + " workgroups is too many");
  return {uint32_t(max_x), uint32_t(y), 1};
}

}  // namespace vkmind::graph
