// Where vkmind keeps what it caches between runs (pipelines, weight tiles).
#pragma once

#include <filesystem>

namespace vkmind::vk {

// $XDG_CACHE_HOME/vkmind, else ~/.cache/vkmind; empty when neither variable is set.
std::filesystem::path vkmind_cache_folder();

}  // namespace vkmind::vk
