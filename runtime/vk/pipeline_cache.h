// The driver's pipeline cache, persisted in the XDG cache folder so that
// kernels are compiled once per device and driver, not once per run. A file
// whose header does not match this device (or is corrupt) is ignored.
#pragma once

#include <vulkan/vulkan.h>

#include <string>

#include "runtime/vk/device_report.h"
#include "runtime/vk/handle.h"

namespace vkmind::vk {

class PipelineCache {
 public:
  // Path: $VKMIND_PIPELINE_CACHE if set ("off" disables; a folder gets the
  // file name below), else $XDG_CACHE_HOME/vkmind/ or ~/.cache/vkmind/
  // pipelines-VENDOR-DEVICE.bin. Problems are warnings on stderr, never
  // errors; a file that is not a pipeline cache is never overwritten.
  PipelineCache(VkDevice device, const DeviceReport& report);
  ~PipelineCache();  // writes the cache back (best effort)
  PipelineCache(const PipelineCache&) = delete;
  PipelineCache& operator=(const PipelineCache&) = delete;

  VkPipelineCache get() const { return cache_.get(); }
  const std::string& path() const { return path_; }
  bool loaded_from_disk() const { return loaded_; }

  // True when `data` starts with a header for exactly this device.
  static bool header_matches(const std::string& data, const DeviceReport& report);

 private:
  VkDevice device_;
  std::string path_;
  bool loaded_ = false;
  // What the file held, to leave it alone when the cache has not changed
  // (lavapipe's stays a bare header: rewriting it cost every run a file write).
  size_t file_bytes_ = 0;
  size_t file_hash_ = 0;
  PipelineCacheHandle cache_;
};

}  // namespace vkmind::vk
