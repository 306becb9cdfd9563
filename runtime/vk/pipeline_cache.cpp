#include "runtime/vk/pipeline_cache.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string_view>
#include <vector>

#include <unistd.h>

#include "runtime/vk/cache_folder.h"
#include "runtime/vk/error.h"

namespace vkmind::vk {

namespace {

void warn(const std::string& path, const std::string& what) {
  std::fprintf(stderr, "vkmind: warning: pipeline cache %s: %s (kernels are compiled afresh)\n", path.c_str(),
               what.c_str());
}

std::string file_name(const DeviceReport& report) {
  char name[64];
  std::snprintf(name, sizeof name, "pipelines-%04x-%04x.bin", report.vendor_id, report.device_id);
  return name;
}

// $VKMIND_PIPELINE_CACHE: "off", a folder (existing, or written with a
// trailing slash) that gets the per-device file name, or a file.
std::string default_cache_path(const DeviceReport& report) {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("VKMIND_PIPELINE_CACHE"); env && *env) {
    const std::string value = env;
    if (value == "off") return "";
    std::error_code ec;
    if (value.back() == '/' || fs::is_directory(value, ec)) return (fs::path(value) / file_name(report)).string();
    return value;
  }
  const fs::path dir = vkmind_cache_folder();
  return dir.empty() ? "" : (dir / file_name(report)).string();
}

// Every driver's cache data starts with this header; a file without it is
// someone else's and is never overwritten.
bool is_pipeline_cache(const std::string& data) {
  VkPipelineCacheHeaderVersionOne header;
  if (data.size() < sizeof header) return false;
  std::memcpy(&header, data.data(), sizeof header);
  return header.headerVersion == VK_PIPELINE_CACHE_HEADER_VERSION_ONE && header.headerSize >= sizeof header &&
         header.headerSize <= data.size();
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
  std::string data;
  if (!path_.empty()) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const auto status = fs::status(path_, ec);
    if (fs::exists(status)) {
      if (!fs::is_regular_file(status)) {
        warn(path_, "not a regular file; not used");
        path_.clear();
      } else {
        std::ifstream in(path_, std::ios::binary);
        data.assign(std::istreambuf_iterator<char>(in), {});
        if (!in.good() && !in.eof()) {
          warn(path_, "cannot be read; not used");
          path_.clear();
        } else if (!data.empty() && !is_pipeline_cache(data)) {
          warn(path_, "is not a pipeline cache; left alone and not used");
          path_.clear();
        }
      }
    }
  }
  // Drivers are meant to reject bad data themselves, but not all do: only
  // hand over a blob whose header names this very device and driver.
  loaded_ = header_matches(data, report);
  file_bytes_ = data.size();
  file_hash_ = std::hash<std::string_view>{}(data);
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
  if (size == file_bytes_ && std::hash<std::string_view>{}(std::string_view(data.data(), size)) == file_hash_) return;
  // Write to a temporary file and rename, so concurrent runs never see half a file.
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path(), ec);
  std::string tmp = path_ + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary);
    out.write(data.data(), std::streamsize(size));
    if (!out) {
      std::filesystem::remove(tmp, ec);
      warn(path_, "cannot be written");
      return;
    }
  }
  std::filesystem::rename(tmp, path_, ec);
  if (ec) {
    warn(path_, "cannot be written: " + ec.message());
    std::filesystem::remove(tmp, ec);
  }
}

}  // namespace vkmind::vk
