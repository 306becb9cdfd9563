#include "runtime/vk/pipeline_cache.h"

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include <unistd.h>

#include "runtime/vk/error.h"

namespace vkmind::vk {

namespace {

std::string default_cache_path(const DeviceReport& report) {
  if (const char* env = std::getenv("VKMIND_PIPELINE_CACHE")) return std::string(env) == "off" ? "" : env;
  std::filesystem::path dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
    dir = xdg;
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    dir = std::filesystem::path(home) / ".cache";
  } else {
    return "";
  }
  char name[64];
  std::snprintf(name, sizeof name, "pipelines-%04x-%04x.bin", report.vendor_id, report.device_id);
  return (dir / "vkmind" / name).string();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

bool PipelineCache::header_matches(const std::string& data, const DeviceReport& report) {
  VkPipelineCacheHeaderVersionOne header;
  if (data.size() < sizeof header) return false;
  std::memcpy(&header, data.data(), sizeof header);
  return header.headerSize >= sizeof header && header.headerSize <= data.size() &&
         header.headerVersion == VK_PIPELINE_CACHE_HEADER_VERSION_ONE && header.vendorID == report.vendor_id &&
         header.deviceID == report.device_id &&
         std::memcmp(header.pipelineCacheUUID, report.pipeline_cache_uuid, VK_UUID_SIZE) == 0;
}

PipelineCache::PipelineCache(VkDevice device, const DeviceReport& report)
    : device_(device), path_(default_cache_path(report)) {
  std::string data = path_.empty() ? std::string() : read_file(path_);
  // Drivers are meant to reject bad data themselves, but not all do: only
  // hand over a blob whose header names this very device and driver.
  loaded_ = header_matches(data, report);
  VkPipelineCacheCreateInfo info{VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO};
  if (loaded_) {
    info.initialDataSize = data.size();
    info.pInitialData = data.data();
  }
  VkPipelineCache cache;
  VkResult r = vkCreatePipelineCache(device, &info, nullptr, &cache);
  if (r != VK_SUCCESS && loaded_) {
    loaded_ = false;
    info.initialDataSize = 0;
    info.pInitialData = nullptr;
    r = vkCreatePipelineCache(device, &info, nullptr, &cache);
  }
  vk_check(r, "vkCreatePipelineCache");
  cache_ = PipelineCacheHandle(device, cache);
}

PipelineCache::~PipelineCache() {
  if (path_.empty() || !cache_) return;
  size_t size = 0;
  if (vkGetPipelineCacheData(device_, cache_.get(), &size, nullptr) != VK_SUCCESS || size == 0) return;
  std::vector<char> data(size);
  if (vkGetPipelineCacheData(device_, cache_.get(), &size, data.data()) != VK_SUCCESS) return;
  // Write to a temporary file and rename, so concurrent runs never see half a file.
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path(), ec);
  std::string tmp = path_ + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary);
    out.write(data.data(), std::streamsize(size));
    if (!out) {
      std::filesystem::remove(tmp, ec);
      return;
    }
  }
  std::filesystem::rename(tmp, path_, ec);
  if (ec) std::filesystem::remove(tmp, ec);
}

}  // namespace vkmind::vk
