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
};

std::span<const ShaderBlob* const> all();

// Throws vkmind::Error when no kernel of that name was built.
const ShaderBlob& get(std::string_view name);

}  // namespace vkmind::shaders
