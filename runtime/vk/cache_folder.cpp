#include "runtime/vk/cache_folder.h"

#include <cstdlib>

namespace vkmind::vk {

std::filesystem::path vkmind_cache_folder() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::filesystem::path(xdg) / "vkmind";
  if (const char* home = std::getenv("HOME"); home && *home) return std::filesystem::path(home) / ".cache" / "vkmind";
  return {};
}

}  // namespace vkmind::vk
