// The SPIR-V of every kernel, embedded at build time (cmake/Shaders.cmake).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace vkmind::shaders {

struct ShaderBlob {
  const char* name;
  const uint32_t* words;
  size_t word_count;
  // A pre-specialized blob: constants 0 .. spec_count - 1 frozen to these
  // values at build time (shaders/CMakeLists.txt). nullptr: the generic one.
  const uint32_t* spec = nullptr;
  size_t spec_count = 0;
};

std::span<const ShaderBlob* const> all();

// The generic blob. Throws vkmind::Error when no kernel of that name was built.
const ShaderBlob& get(std::string_view name);

// The blob of kernel `name` pre-specialized to exactly `spec`, if one was built.
const ShaderBlob* find_specialized(std::string_view name, std::span<const uint32_t> spec);

}  // namespace vkmind::shaders
