// Shared set-up for kernel tests: one Vulkan context per test process with
// the Khronos validation layer on when it is installed; any message it
// reports during a test fails that test.
#pragma once

#include <catch2/catch.hpp>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "runtime/graph/graph.h"
#include "runtime/vk/context.h"
#include "runtime/vk/memory.h"

namespace vkmind::test {

vk::Context& gpu_context();

class GpuFixture {
 public:
  GpuFixture();
  ~GpuFixture();  // checks the validation messages of the test

  vk::Context& ctx;
  vk::Arena device_arena;
  vk::Arena host_arena;

  // A device-local buffer holding `data`.
  template <typename T>
  vk::BufferSlice upload(const std::vector<T>& data) {
    vk::BufferSlice s = device_arena.allocate(data.size() * sizeof(T));
    ctx.transfer().upload(s, data.data(), data.size() * sizeof(T));
    return s;
  }
  vk::BufferSlice device_buffer(size_t bytes) { return device_arena.allocate(bytes); }
  template <typename T>
  std::vector<T> download(const vk::BufferSlice& s, size_t count) {
    std::vector<T> out(count);
    ctx.transfer().download(s, out.data(), count * sizeof(T));
    return out;
  }
};

// Deterministic test data: uniform in [lo, hi).
std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f);

// Largest |a-b| over two equal-length vectors.
float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace vkmind::test
