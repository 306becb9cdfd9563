// A command graph: kernel dispatches with the buffers each reads and writes.
// Barriers come from those read/write sets (one only where a node touches
// what an earlier node since the last barrier wrote, or writes what it read),
// never by hand. Recorded once, then run again and again with new inputs
// placed in its buffers, like a CUDA graph.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "runtime/vk/device.h"
#include "runtime/vk/handle.h"
#include "runtime/vk/memory.h"
#include "runtime/vk/pipeline.h"

namespace vkmind::graph {

enum class Access { Read, Write, ReadWrite };

struct Binding {
  vk::BufferSlice slice;
  Access access;
  bool texels = false;  // through a storage texel buffer view (R32G32B32A32_UINT, imageLoad / imageStore)
};

inline Binding reads(const vk::BufferSlice& s) { return {s, Access::Read}; }
inline Binding writes(const vk::BufferSlice& s) { return {s, Access::Write}; }
inline Binding updates(const vk::BufferSlice& s) { return {s, Access::ReadWrite}; }
inline Binding reads_texels(const vk::BufferSlice& s) { return {s, Access::Read, true}; }

struct Node {
  const vk::Pipeline* pipeline = nullptr;
  std::vector<Binding> bindings;  // binding i of the kernel
  std::vector<uint8_t> push;
  std::array<uint32_t, 3> groups{1, 1, 1};  // with `indirect`: the most the arguments may ask for
  std::string label;
  // Set: the workgroup counts are read at run time from three u32 at this
  // slice (VkDispatchIndirectCommand), so a step dispatches only the work it
  // has, not the capacity the graph was recorded for.
  std::optional<vk::BufferSlice> indirect;
};

struct NodeTiming {
  std::string label;
  double milliseconds;
};

class Graph {
 public:
  explicit Graph(vk::Device& device);
  ~Graph();
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  void add(Node node);
  template <typename Push>
  void dispatch(const vk::Pipeline& pipeline, std::vector<Binding> bindings, const Push& push,
                std::array<uint32_t, 3> groups, std::string label) {
    Node node{&pipeline, std::move(bindings), std::vector<uint8_t>(sizeof(Push)), groups, std::move(label)};
    std::memcpy(node.push.data(), &push, sizeof(Push));
    add(std::move(node));
  }
  // As dispatch(), with the counts read from `arguments` when the graph runs;
  // `most` bounds them (checked against the device limits at add()).
  template <typename Push>
  void dispatch_indirect(const vk::Pipeline& pipeline, std::vector<Binding> bindings, const Push& push,
                         const vk::BufferSlice& arguments, std::array<uint32_t, 3> most, std::string label) {
    Node node{&pipeline, std::move(bindings), std::vector<uint8_t>(sizeof(Push)), most, std::move(label), arguments};
    std::memcpy(node.push.data(), &push, sizeof(Push));
    add(std::move(node));
  }

  // Builds descriptor sets and the command buffer. After this, add() throws.
  void record();
  // Submits the recorded commands and waits. Host-visible outputs are
  // readable when it returns.
  void run();
  // Dispatches each of the graph's pipelines over no workgroups, with its
  // first node's bindings, and waits: drivers that make a pipeline's machine
  // code at its first dispatch (lavapipe, for what is bound) make it now
  // rather than in the first run(). Records the graph if it is not yet.
  void warm_up();

  size_t node_count() const { return nodes_.size(); }
  const std::string& node_label(size_t node) const { return nodes_.at(node).label; }
  size_t barrier_count() const { return barrier_before_.empty() ? 0 : barriers_; }
  // Distinct pipelines among the nodes: each one is compiled when first used.
  size_t pipeline_count() const;
  // Of those, the ones built from a blob pre-specialized at build time.
  size_t prespecialized_pipeline_count() const;
  bool barrier_before(size_t node) const { return barrier_before_.at(node); }
  // Per-node GPU times of the last run(); empty unless VKMIND_PROFILE=1.
  std::vector<NodeTiming> timings() const;

 private:
  void derive_barriers();
  void write_descriptors();

  vk::Device& device_;
  std::vector<Node> nodes_;
  std::vector<bool> barrier_before_;
  size_t barriers_ = 0;
  bool recorded_ = false;
  bool profile_ = false;
  vk::DescriptorPool pool_;
  std::vector<vk::BufferView> views_;
  std::vector<VkDescriptorSet> sets_;
  VkCommandBuffer commands_ = VK_NULL_HANDLE;
  vk::QueryPool queries_;
};

// Splits a workgroup count over x and y so each stays within the device's
// per-dimension limit (65535 on many GPUs); kernels rebuild the linear index
// as gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x and bounds-check.
std::array<uint32_t, 3> linear_groups(const vk::Device& device, uint64_t groups);

}  // namespace vkmind::graph
