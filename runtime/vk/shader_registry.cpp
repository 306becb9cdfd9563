#include "runtime/vk/shader_registry.h"

#include <string>

#include "runtime/vk/error.h"

namespace vkmind::shaders {

const ShaderBlob& get(std::string_view name) {
  for (const ShaderBlob* blob : all()) {
    if (name == blob->name) return *blob;
  }
  throw Error("no embedded kernel named '" + std::string(name) + "'");
}

}  // namespace vkmind::shaders
