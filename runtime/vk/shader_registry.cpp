#include "runtime/vk/shader_registry.h"

#include <algorithm>
#include <string>

#include "runtime/vk/error.h"

namespace vkmind::shaders {

const ShaderBlob& get(std::string_view name) {
  for (const ShaderBlob* blob : all()) {
    if (name == blob->name && !blob->spec) return *blob;
  }
  throw Error("no embedded kernel named '" + std::string(name) + "'");
}

const ShaderBlob* find_specialized(std::string_view name, std::span<const uint32_t> spec) {
  for (const ShaderBlob* blob : all()) {
    if (blob->spec && name == blob->name && std::equal(spec.begin(), spec.end(), blob->spec, blob->spec + blob->spec_count))
      return blob;
  }
  return nullptr;
}

}  // namespace vkmind::shaders
